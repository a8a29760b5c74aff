/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Creating, starting, stopping and destroying devices, and their
 * definitions. Everything here runs in the event loop; what can block
 * (sysfs writes, libvirt calls) is handed to a worker (sysfs-queue.h,
 * vm-job.h) and the operation continues when it answers, with the device
 * in m->pending meanwhile (Busy for other operations on it). The kernel's
 * answer (the write to `create`) is authoritative. Order of every change:
 * validate → check → write the definition (so a crash never loses one) →
 * change sysfs / libvirt → roll back what was done if refused → update
 * the objects → signal.
 */

#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-id128.h>

#include "definitions.h"
#include "device.h"
#include "lifecycle.h"
#include "journal.h"
#include "log.h"
#include "parent.h"
#include "siov-errors.h"
#include "siov-names.h"
#include "sriov.h"
#include "sriov-net.h"
#include "sysfs-queue.h"
#include "vm.h"
#include "vm-job.h"

static bool endswith_type(const char *id, const char *short_id) {
        size_t a = strlen(id), b = strlen(short_id);
        /* "1dwq" names "idxd-1dwq": the part after a dash. */
        return a > b + 1 && id[a - b - 1] == '-' && streq(id + a - b, short_id);
}

int lifecycle_resolve(Manager *m, const char *parent, const char *type,
                      Parent **ret_parent, const char **ret_type, sd_bus_error *error) {
        _cleanup_free_ const char **known = NULL, **shorts = NULL;
        size_t n_known = 0, n_shorts = 0, n_all = 0;
        const char *exact = NULL;
        Parent *p, *best = NULL;
        uint32_t best_avail = 0;

        if (!siov_name_is_valid(type))
                return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT, "invalid type name");
        if (!isempty(parent)) {
                if (!siov_name_is_valid(parent))
                        return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT, "invalid parent name");
                p = hashmap_get(m->parents, parent);
                if (!p)
                        return siov_error_no_such_parent(m, parent, error);
        }

        HASHMAP_FOREACH(p, m->parents, i)
                n_all += p->n_types;
        known = calloc(n_all + 1, sizeof(char *));
        shorts = calloc(n_all + 1, sizeof(char *));
        if (!known || !shorts)
                return -ENOMEM;

        /* Exact id first; else a unique short form across the parents in
         * scope. */
        HASHMAP_FOREACH(p, m->parents, i) {
                if (!isempty(parent) && !streq(p->name, parent))
                        continue;
                for (size_t j = 0; j < p->n_types; j++) {
                        const char *id = p->types[j]->id;

                        known[n_known++] = id;
                        if (streq(id, type))
                                exact = id;
                        else if (endswith_type(id, type))
                                shorts[n_shorts++] = id;
                }
        }
        if (!exact) {
                _cleanup_free_ char *list = NULL;

                strv_sort(shorts, n_shorts);
                for (size_t i = 1; i < n_shorts; i++)
                        if (!streq(shorts[i], shorts[0])) {
                                list = siov_names_join(shorts, n_shorts);
                                return sd_bus_error_setf(error, SIOV_ERROR_NO_SUCH_TYPE,
                                                         "type '%s' is ambiguous: it may be %s; give the full name",
                                                         type, strempty(list));
                        }
                if (n_shorts == 0) {
                        list = siov_names_join(known, n_known);
                        if (isempty(parent))
                                return sd_bus_error_setf(error, SIOV_ERROR_NO_SUCH_TYPE,
                                                         "no parent offers type '%s' (known types: %s)",
                                                         type, strempty(list));
                        return sd_bus_error_setf(error, SIOV_ERROR_NO_SUCH_TYPE,
                                                 "parent %s has no type '%s' (its types: %s)",
                                                 parent, type, strempty(list));
                }
                exact = shorts[0];
        }

        if (!isempty(parent)) {
                *ret_parent = hashmap_get(m->parents, parent);
                *ret_type = exact;
                return 0;
        }
        /* The parent with the most available instances; ties by name, so
         * the choice is predictable. */
        HASHMAP_FOREACH(p, m->parents, i) {
                Type *t = parent_find_type(p, exact);
                uint32_t a;

                if (!t)
                        continue;
                a = type_get_available(t);
                if (!best || a > best_avail || (a == best_avail && strcmp(p->name, best->name) < 0)) {
                        best = p;
                        best_avail = a;
                }
        }
        *ret_parent = best;
        *ret_type = exact;
        return 0;
}

static int kernel_error(sd_bus_error *error, int r, const char *msg, const char *fallback) {
        return sd_bus_error_setf(error, SIOV_ERROR_KERNEL_ERROR, "%s",
                                 msg ?: fallback ?: strerror(-r));
}

static Device *find_vf_device(Manager *m, const char *uuid) {
        Device *d = hashmap_get(m->devices, uuid);
        return d && d->kind == DEVICE_KIND_VF ? d : NULL;
}


/* ---- the kernel's part, off the event loop ----------------------------
 *
 * Every write that can block is a KernelOp run by a worker of its parent
 * (sysfs-queue.h); `then` continues the operation in the event loop. While
 * it runs, the device's UUID is in m->pending: other operations on it are
 * refused as Busy, and a removal shows as State `removing`. */

typedef enum KernelOpKind {
        KERNEL_OP_CREATE,       /* create, then the attributes in order */
        KERNEL_OP_REMOVE,
        KERNEL_OP_VF_BIND,      /* to VFIO */
        KERNEL_OP_VF_RELEASE,   /* back to the host */
} KernelOpKind;

typedef void (*kernel_then_t)(Manager *m, int r, sd_bus_error *error, void *userdata);

typedef struct KernelOp {
        PendingOp pending;      /* m->pending's entry (uuid, what) */
        KernelOpKind kind;
        char type[256];
        char address[64];
        struct siov_definition *spec;   /* create: a private copy, read by the worker */
        /* VF bind: network settings set on the PF first (none: all unset). */
        struct siov_vf_net vf_net;
        uint32_t vf_index;
        const VfNetTransport *transport;
        bool attr_failed;
        int rollback_r;
        char *rollback_msg;
        kernel_then_t then;
        void *userdata;
} KernelOp;

static const char * const kernel_op_what[] = {
        [KERNEL_OP_CREATE] = "created",
        [KERNEL_OP_REMOVE] = "removed",
        [KERNEL_OP_VF_BIND] = "bound to VFIO",
        [KERNEL_OP_VF_RELEASE] = "released",
};

/* A VF's network settings, on its PF through rtnetlink (sriov-net.c):
 * quick, but in the worker with the bind that follows. */
static int vf_bind_apply_net(struct siov_ctx *ctx, const char *pf, KernelOp *k, char **msg) {
        _cleanup_free_ char *ifname = NULL;
        int r;

        r = siov_pf_get_netdev(ctx, pf, &ifname);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return asprintf(msg, "PF %s has no netdev: the network settings of VF %u cannot be set", pf,
                                k->vf_index) < 0 ? -ENOMEM : -ENODEV;
        return vf_net_apply(k->transport, pf, ifname, k->vf_index, &k->vf_net, msg);
}

static int kernel_op_work(struct siov_ctx *ctx, SysfsJob *j) {
        KernelOp *k = j->userdata;
        const char *uuid = k->pending.uuid;
        int r;

        switch (k->kind) {
        case KERNEL_OP_CREATE:
                r = siov_mdev_create(ctx, j->parent, k->type, uuid, &j->msg);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < siov_definition_get_n_attrs(k->spec); i++) {
                        r = siov_mdev_write_attr(ctx, uuid, siov_definition_get_attr_name(k->spec, i),
                                                 siov_definition_get_attr_value(k->spec, i), &j->msg);
                        if (r >= 0)
                                continue;
                        /* Roll back; the attribute's error is what the
                         * caller sees, a failed rollback is logged besides
                         * (mdevctl replaced one with the other). */
                        k->attr_failed = true;
                        k->rollback_r = siov_mdev_remove(ctx, uuid, &k->rollback_msg);
                        return r;
                }
                return 0;
        case KERNEL_OP_REMOVE:
                return siov_mdev_remove(ctx, uuid, &j->msg);
        case KERNEL_OP_VF_BIND:
                /* The settings first: once on VFIO the VF may be a VM's. */
                if (siov_vf_net_is_set(&k->vf_net)) {
                        r = vf_bind_apply_net(ctx, j->parent, k, &j->msg);
                        if (r < 0)
                                return r;
                }
                return siov_vf_bind_vfio(ctx, k->address, &j->msg);
        case KERNEL_OP_VF_RELEASE:
                return siov_vf_release(ctx, k->address, &j->msg);
        }
        return -EINVAL;
}

static void kernel_op_free(KernelOp *k) {
        if (!k)
                return;
        siov_definition_unref(k->spec);
        free(k->rollback_msg);
        free(k);
}

/* The model after the kernel's answer, and the answer as a named error. */
static int kernel_op_finish(Manager *m, KernelOp *k, SysfsJob *j, sd_bus_error *error) {
        const char *uuid = k->pending.uuid, *parent = j->parent;
        int r = j->r;
        Parent *p;

        switch (k->kind) {
        case KERNEL_OP_CREATE:
                if (k->attr_failed) {
                        if (k->rollback_r < 0)
                                log_error("Rolling back %s after a failed attribute: %s", uuid,
                                          strempty(k->rollback_msg));
                        manager_refresh_mdev(m, uuid);
                        manager_refresh_parent(m, parent);
                        return sd_bus_error_setf(error, SIOV_ERROR_KERNEL_ERROR, "%s (device %s removed again)",
                                                 strempty(j->msg), uuid);
                }
                if (r == -ENOSPC) {
                        /* The kernel is the judge: something took the last one. */
                        manager_refresh_parent(m, parent);
                        p = hashmap_get(m->parents, parent);
                        if (p)
                                return siov_error_no_capacity(m, p, k->type, error);
                }
                if (r == -EEXIST)
                        return sd_bus_error_setf(error, SIOV_ERROR_ALREADY_EXISTS, "device %s already exists: %s",
                                                 uuid, strempty(j->msg));
                if (r < 0)
                        return kernel_error(error, r, j->msg, NULL);
                /* The device now; its parent's available_instances with
                 * the uevents the kernel just queued. */
                manager_refresh_mdev(m, uuid);
                manager_mark_counters(m, parent);
                if (!hashmap_get(m->devices, uuid) || !device_is_active_mdev(hashmap_get(m->devices, uuid)))
                        return sd_bus_error_setf(error, SIOV_ERROR_KERNEL_ERROR,
                                                 "the kernel accepted device %s on %s but it is not in %s",
                                                 uuid, parent, SIOV_SYSFS_MDEV_DEVICES);
                return 0;
        case KERNEL_OP_REMOVE:
                if (r == -ENODEV) {
                        /* Already gone: the objects just did not know yet. */
                        manager_refresh_mdev(m, uuid);
                        return sd_bus_error_setf(error, SIOV_ERROR_NO_SUCH_DEVICE, "device %s is not active", uuid);
                }
                if (r < 0) {
                        manager_refresh_mdev(m, uuid);
                        return kernel_error(error, r, j->msg, NULL);
                }
                /* The device may go here (a transient one with its mdev). */
                manager_refresh_mdev(m, uuid);
                manager_mark_counters(m, parent);
                return 0;
        case KERNEL_OP_VF_BIND:
        case KERNEL_OP_VF_RELEASE:
                /* Settings may have changed even when the bind failed. */
                if (siov_vf_net_is_set(&k->vf_net))
                        parent_vf_net_refresh(hashmap_get(m->parents, parent));
                manager_refresh_parent(m, parent);
                return r < 0 ? kernel_error(error, r, j->msg, NULL) : 0;
        }
        return -EINVAL;
}

/* `removing` and the holder are not in the device's snapshot: said here. */
static void emit_state(Manager *m, const char *uuid, bool holder) {
        static char *const state[] = { (char *) "State", NULL };
        static char *const both[] = { (char *) "State", (char *) "HolderPID", NULL };
        Device *d = hashmap_get(m->devices, uuid);
        DeviceState before;

        if (!d)
                return;
        /* Only what the snapshot diff did not say already. */
        before = d->counted;
        device_count(d);
        if (d->counted != before || holder)
                manager_emit_changed(m, DEVICE_PATH(d), SIOV_DBUS_DEVICE_INTERFACE, (char **) (holder ? both : state));
}

static void kernel_op_done(Manager *m, SysfsJob *j) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        KernelOp *k = j->userdata;
        bool removal = k->kind == KERNEL_OP_REMOVE || k->kind == KERNEL_OP_VF_RELEASE;
        bool had_holder = k->pending.holder > 0;
        int r;

        (void) hashmap_remove(m->pending, k->pending.uuid);
        r = kernel_op_finish(m, k, j, &error);
        /* `removing` is over: the device is gone, or still there (failed). */
        if (removal)
                emit_state(m, k->pending.uuid, had_holder);
        if (r < 0 && !sd_bus_error_is_set(&error))
                sd_bus_error_set_errno(&error, r);
        if (k->then)
                k->then(m, r, &error, k->userdata);
        kernel_op_free(k);
}

int lifecycle_refuse_pending(Manager *m, const char *uuid, sd_bus_error *error) {
        PendingOp *p = hashmap_get(m->pending, uuid);

        if (!p)
                return 0;
        if (p->holder > 0)
                return sd_bus_error_setf(error, SIOV_ERROR_BUSY,
                                         "device %s is being %s: the kernel waits for process %d to let go of it",
                                         uuid, p->what, (int) p->holder);
        return sd_bus_error_setf(error, SIOV_ERROR_BUSY, "device %s is being %s; try again when that is done",
                                 uuid, p->what);
}

/* Hands k to its parent's worker; k is taken either way. */
static int kernel_op_submit(Manager *m, KernelOp *k, const char *parent, const char *uuid, sd_bus_error *error) {
        SysfsJob *j;
        int r;

        snprintf(k->pending.uuid, sizeof(k->pending.uuid), "%s", uuid);
        k->pending.what = kernel_op_what[k->kind];
        r = lifecycle_refuse_pending(m, uuid, error);
        if (r < 0) {
                kernel_op_free(k);
                return r;
        }
        j = calloc(1, sizeof(*j));
        if (!j) {
                kernel_op_free(k);
                return -ENOMEM;
        }
        snprintf(j->parent, sizeof(j->parent), "%s", parent);
        /* A removal may wait for a VM: it must not hold up the parent. */
        if (k->kind == KERNEL_OP_REMOVE || k->kind == KERNEL_OP_VF_RELEASE)
                snprintf(j->key, sizeof(j->key), "%s/%s", parent, uuid);
        j->work = kernel_op_work;
        j->done = kernel_op_done;
        j->userdata = k;
        r = sysfs_queue_submit_pending(m, j, k->pending.uuid, &k->pending);
        if (r < 0) {
                free(j);
                kernel_op_free(k);
                return r;
        }
        if (k->kind == KERNEL_OP_REMOVE || k->kind == KERNEL_OP_VF_RELEASE)
                emit_state(m, uuid, false);
        return 0;
}

static KernelOp *kernel_op_new(KernelOpKind kind, kernel_then_t then, void *userdata) {
        KernelOp *k = calloc(1, sizeof(*k));

        if (k) {
                *k = (KernelOp) { .kind = kind, .then = then, .userdata = userdata };
                siov_vf_net_init(&k->vf_net);
        }
        return k;
}

/* Makes the device described by spec exist in sysfs. mdev: create, then
 * each attribute in order; if an attribute fails the device is removed
 * again and the attribute's error is the one reported. VF: bind to VFIO.
 * Returns <0 (error set) if refused before the kernel was asked; else
 * `then` is called once the kernel answered. */
static int materialize(Manager *m, const struct siov_definition *spec, kernel_then_t then, void *userdata,
                       sd_bus_error *error) {
        const char *parent = siov_definition_get_parent(spec), *type = siov_definition_get_type(spec);
        const char *uuid = siov_definition_get_uuid(spec);
        struct siov_parent *fresh = NULL;
        KernelOp *k;
        Parent *p;
        Type *t;
        int r;

        p = hashmap_get(m->parents, parent);
        if (!p)
                return sd_bus_error_setf(error, SIOV_ERROR_NO_SUCH_PARENT,
                                         "parent %s of device %s is not present", parent, uuid);

        if (streq(type, SIOV_VF_TYPE_ID)) {
                Device *d = find_vf_device(m, uuid);

                if (!d || !d->pf)
                        return sd_bus_error_setf(error, SIOV_ERROR_NO_SUCH_DEVICE,
                                                 "the VF of device %s is not present on %s", uuid, parent);
                k = kernel_op_new(KERNEL_OP_VF_BIND, then, userdata);
                if (!k)
                        return -ENOMEM;
                snprintf(k->address, sizeof(k->address), "%s", siov_vf_get_address(device_get_vf(d)));
                if (siov_definition_get_vf_net(spec, &k->vf_net)) {
                        if (!parent_get_pf_netdev(p)) {
                                kernel_op_free(k);
                                return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT,
                                                         "device %s has network settings but PF %s has no netdev "
                                                         "(driver %s)", uuid, parent,
                                                         strempty(siov_parent_get_driver(p->snap)));
                        }
                        k->vf_index = siov_vf_get_index(device_get_vf(d));
                        k->transport = m->vf_net_transport;
                }
                return kernel_op_submit(m, k, parent, uuid, error);
        }

        t = parent_find_type(p, type);
        if (!t)
                return sd_bus_error_setf(error, SIOV_ERROR_NO_SUCH_TYPE,
                                         "parent %s has no type '%s'", parent, type);

        /* The model is current (uevents are handled before calls). When it
         * says 0, look again before refusing: mdevctl's check, which a
         * driver without its own accounting relies on. Otherwise the
         * kernel's answer to the write is the check. */
        if (!isempty(type_get_broken(t)) || type_get_available(t) == 0) {
                if (siov_parent_read_without_devices(m->ctx, parent, &fresh) >= 0) {
                        manager_set_parent(m, fresh);
                        siov_parent_unref(fresh);
                }
                p = hashmap_get(m->parents, parent);
                t = p ? parent_find_type(p, type) : NULL;
                if (!t)
                        return sd_bus_error_setf(error, SIOV_ERROR_NO_SUCH_TYPE,
                                                 "parent %s has no type '%s' any more", parent, type);
                if (!isempty(type_get_broken(t)))
                        return sd_bus_error_setf(error, SIOV_ERROR_KERNEL_ERROR,
                                                 "type %s of %s is unusable: %s", type, parent, type_get_broken(t));
                if (type_get_available(t) == 0)
                        return siov_error_no_capacity(m, p, type, error);
        }

        k = kernel_op_new(KERNEL_OP_CREATE, then, userdata);
        if (!k)
                return -ENOMEM;
        snprintf(k->type, sizeof(k->type), "%s", type);
        r = siov_definition_copy(spec, &k->spec);
        if (r < 0) {
                kernel_op_free(k);
                return r;
        }
        return kernel_op_submit(m, k, parent, uuid, error);
}

/* Removes the device from sysfs (the definition stays); as materialize. */
static int dematerialize(Manager *m, Device *d, kernel_then_t then, void *userdata, sd_bus_error *error) {
        KernelOp *k = kernel_op_new(d->kind == DEVICE_KIND_VF ? KERNEL_OP_VF_RELEASE : KERNEL_OP_REMOVE,
                                    then, userdata);

        if (!k)
                return -ENOMEM;
        if (d->kind == DEVICE_KIND_VF)
                snprintf(k->address, sizeof(k->address), "%s", siov_vf_get_address(device_get_vf(d)));
        /* Known now: the kernel may drop the link while it removes. */
        lifecycle_device_vfio_group(m, d, k->pending.group, sizeof(k->pending.group));
        return kernel_op_submit(m, k, device_get_parent(d), d->uuid, error);
}

static int spec_new(const char *uuid, const char *parent, const char *type, const LifecycleOptions *o,
                    struct siov_definition **ret, sd_bus_error *error) {
        struct siov_definition *spec = NULL;
        int r;

        r = siov_definition_new(&spec, uuid, parent, type);
        if (r < 0)
                return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT, "invalid device description: %s",
                                         strerror(-r));
        siov_definition_set_autostart(spec, o->autostart);
        for (size_t i = 0; i < o->n_attrs; i++) {
                r = siov_definition_add_attr(spec, o->attrs[i].name, o->attrs[i].value);
                if (r < 0) {
                        siov_definition_unref(spec);
                        if (r == -E2BIG)
                                return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT,
                                                         "too many attributes (at most %d)", SIOV_ATTRS_MAX);
                        return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT,
                                                 "invalid attribute '%.64s' (a sysfs file name, and a value of at most %d bytes)",
                                                 o->attrs[i].name, SIOV_ATTR_VALUE_MAX);
                }
        }
        if (!isempty(o->vm)) {
                r = siov_definition_set_vm(spec, o->vm);
                if (r < 0) {
                        siov_definition_unref(spec);
                        return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT, VM_NAME_INVALID_MESSAGE);
                }
        }
        if (o->vf_net_set) {
                _cleanup_free_ char *why = NULL;

                r = siov_vf_net_check(&o->vf_net, &why);
                if (r >= 0)
                        r = siov_definition_set_vf_net(spec, &o->vf_net);
                if (r < 0) {
                        siov_definition_unref(spec);
                        return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT, "%s",
                                                 why ?: "network settings (vf_*) are for VFs only (type vf)");
                }
        }
        r = siov_definition_set_owner(spec, o->owner);
        if (r < 0) {
                siov_definition_unref(spec);
                return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT, "invalid owner '%.64s'", o->owner);
        }
        *ret = spec;
        return 0;
}

static int pick_uuid(Manager *m, const char *uuid, char ret[static SIOV_UUID_STRING_MAX], sd_bus_error *error) {
        Device *d;
        sd_id128_t id;
        int r;

        if (isempty(uuid)) {
                r = sd_id128_randomize(&id);
                if (r < 0)
                        return r;
                sd_id128_to_uuid_string(id, ret);
                return 0;
        }
        if (siov_uuid_normalize(uuid, ret) < 0)
                return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT, "'%.64s' is not a UUID", uuid);
        r = lifecycle_refuse_pending(m, ret, error);
        if (r < 0)
                return r;
        d = hashmap_get(m->devices, ret);
        if (d)
                return sd_bus_error_setf(error, SIOV_ERROR_ALREADY_EXISTS, "device %s already exists (%s, %s on %s)",
                                         ret, device_get_state(d), device_get_type(d), device_get_parent(d));
        return 0;
}

/* A free VF of the PF: not held by the host, not claimed by a device of
 * siovd's. */
static bool vf_is_free(Manager *m, const struct siov_vf *vf, Device *d) {
        return d && !d->spec && siov_vf_get_usage(vf) != SIOV_VF_HOST && !hashmap_get(m->pending, d->uuid);
}

/* The free VF of p with the lowest index, or the one whose UUID is `want`
 * (a caller such as the device plugin that advertised that very VF). */
static Device *pick_vf(Manager *m, Parent *p, const char *want) {
        Device *best = NULL;

        for (size_t i = 0; i < siov_parent_get_n_vfs(p->snap); i++) {
                const struct siov_vf *vf = siov_parent_get_vf(p->snap, i);
                Device *d = hashmap_get(m->devices, siov_vf_get_uuid(vf));

                if (!vf_is_free(m, vf, d) || (want && !streq(d->uuid, want)))
                        continue;
                if (!best || siov_vf_get_index(vf) < siov_vf_get_index(device_get_vf(best)))
                        best = d;
        }
        return best;
}

void lifecycle_vf_candidate(Manager *m, const char *parent, const char *type, const char *uuid,
                            char buf[static 16]) {
        Parent *p = isempty(parent) ? NULL : hashmap_get(m->parents, parent);
        char want[SIOV_UUID_STRING_MAX];
        Device *vf;

        buf[0] = '\0';
        if (!p || !streq(strempty(type), SIOV_VF_TYPE_ID))
                return;
        if (!isempty(uuid) && siov_uuid_normalize(uuid, want) < 0)
                return;
        vf = pick_vf(m, p, isempty(uuid) ? NULL : want);
        if (vf)
                snprintf(buf, 16, "%u", siov_vf_get_index(device_get_vf(vf)));
}

static void device_hostdev(const Device *d, VmHostdev *h) {
        *h = (VmHostdev) {
                .is_vf = d->kind == DEVICE_KIND_VF,
                .uuid = d->uuid,
                .pci_address = d->kind == DEVICE_KIND_VF ? device_get_address(d) : NULL,
        };
}

/* libvirt's refusals, named: the message names the VM and quotes libvirt. */
static int vm_error(sd_bus_error *error, int r, const char *msg, const char *vm) {
        const char *name;

        switch (r) {
        case -EINVAL:
        case -ESRCH:
                name = SIOV_ERROR_INVALID_ARGUMENT;
                break;
        case -EEXIST:
                name = SIOV_ERROR_ALREADY_EXISTS;
                break;
        case -EBUSY:
                name = SIOV_ERROR_BUSY;
                break;
        case -EACCES:
                name = SIOV_ERROR_NOT_AUTHORIZED;
                break;
        default:
                name = SIOV_ERROR_LIBVIRT_ERROR;
        }
        return sd_bus_error_setf(error, name, "%s", msg ?: vm ?: strerror(-r));
}

/* A copy of the device's spec (or a new one from what sysfs shows) with
 * another VM. */
static int spec_with_vm(Device *d, const char *vm, struct siov_definition **ret) {
        struct siov_definition *spec = NULL;
        int r;

        if (d->spec)
                r = siov_definition_copy(d->spec, &spec);
        else
                r = siov_definition_new(&spec, d->uuid, device_get_parent(d), device_get_type(d));
        if (r < 0)
                return r;
        r = siov_definition_set_vm(spec, vm);
        if (r < 0) {
                siov_definition_unref(spec);
                return r;
        }
        *ret = spec;
        return 0;
}

static void lifecycle_done_call(LifecycleDone done, Manager *m, int r, const sd_bus_error *error, char **paths) {
        if (done.fn)
                done.fn(m, r, error, paths, done.userdata);
}

static void lifecycle_done_path(LifecycleDone done, Manager *m, int r, const sd_bus_error *error, const char *uuid) {
        Device *d = r >= 0 && uuid ? hashmap_get(m->devices, uuid) : NULL;
        DevicePath path = d ? device_object_path(d->uuid) : (DevicePath) {};
        char *paths[] = { d ? path.s : NULL, NULL };

        lifecycle_done_call(done, m, r, error, paths);
}

typedef struct CreateOp {
        struct siov_definition *spec;
        siov_definition_stamp stamp;    /* of the definition written */
        bool persistent;
        char id[SIOV_UUID_STRING_MAX];
        char *vm;
        LifecycleDone done;
} CreateOp;

static void create_op_free(CreateOp *c) {
        siov_definition_unref(c->spec);
        free(c->vm);
        free(c);
}

static void log_rollback(Manager *m, int r, sd_bus_error *error, void *userdata) {
        if (r < 0)
                log_error("Rolling back %s after libvirt refused it: %s", (char *) userdata,
                          error->message ?: strerror(-r));
        free(userdata);
}

static void create_finish(Manager *m, CreateOp *c, int r, sd_bus_error *error) {
        if (r >= 0)
                log_device_event(LOG_INFO,
                                 &(DeviceEvent) { "created", c->id, siov_definition_get_parent(c->spec),
                                                  siov_definition_get_type(c->spec), c->vm },
                                 "Created %s %s on %s%s.", siov_definition_get_type(c->spec), c->id,
                                 siov_definition_get_parent(c->spec), c->persistent ? " (persistent)" : "");
        lifecycle_done_path(c->done, m, r, error, c->id);
        create_op_free(c);
}

/* libvirt refused (or did not answer): transactional, nothing made for the
 * VM stays. The device is transient now and goes with its mdev. */
static int create_rollback(Manager *m, CreateOp *c, int r, const char *msg, sd_bus_error *error) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *id = c->id;
        char *copy = strdup(id);
        Device *d;

        r = vm_error(error, r, msg, c->vm);
        if (c->persistent)
                definitions_rollback(m, id, &c->stamp, error);
        d = hashmap_get(m->devices, id);
        if (d)
                device_set_spec(d, NULL, false);
        d = hashmap_get(m->devices, id);
        if (d && device_is_active(d) && copy &&
            dematerialize(m, d, log_rollback, copy, &e) >= 0)
                copy = NULL;
        else if (sd_bus_error_is_set(&e))
                log_error("Rolling back %s after libvirt refused it: %s", id, e.message);
        free(copy);
        return r;
}

static void create_attached(Manager *m, int r, const char *msg, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        CreateOp *c = userdata;

        if (r < 0)
                r = create_rollback(m, c, r, msg, &error);
        create_finish(m, c, r, &error);
}

static void create_materialized(Manager *m, int r, sd_bus_error *error, void *userdata) {
        CreateOp *c = userdata;
        const char *id = c->id;
        Device *d;

        if (r < 0) {
                if (c->persistent)
                        definitions_rollback(m, id, &c->stamp, error);
                goto finish;
        }
        d = hashmap_get(m->devices, id);
        if (!d) {
                r = sd_bus_error_setf(error, SIOV_ERROR_KERNEL_ERROR, "device %s vanished right after its creation", id);
                goto finish;
        }
        device_set_spec(d, c->spec, c->persistent);
        if (c->persistent)
                d->stamp = c->stamp;
        if (!isempty(c->vm)) {
                VmHostdev h;

                /* Off the loop; Busy for other calls until libvirt answers. */
                device_hostdev(d, &h);
                r = vm_job_submit(m, VM_JOB_ATTACH, c->vm, &h, id, "assigned to its VM", create_attached, c);
                if (r >= 0)
                        return;
                r = create_rollback(m, c, r, NULL, error);
        }
finish:
        create_finish(m, c, r, error);
}

/* A create with a VM, while libvirt is asked whether the VM exists: the
 * call's arguments, copied. */
typedef struct CreateLater {
        char *parent, *type, *uuid, *vm, *owner;
        LifecycleOptions o;
        LifecycleAttr *attrs;
        char **strings;         /* the attributes' names and values */
        LifecycleDone done;
} CreateLater;

static void create_later_free(CreateLater *l) {
        if (!l)
                return;
        free(l->parent);
        free(l->type);
        free(l->uuid);
        free(l->vm);
        free(l->owner);
        free(l->attrs);
        strv_free(l->strings);
        free(l);
}

static int create_checked(Manager *m, const char *parent, const char *type, const char *uuid,
                          const LifecycleOptions *o, bool vm_known, LifecycleDone done, sd_bus_error *error);

static void create_vm_known(Manager *m, int r, const char *msg, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        CreateLater *l = userdata;

        if (r == 0)
                r = sd_bus_error_setf(&error, SIOV_ERROR_INVALID_ARGUMENT, "%s", msg ?: "no such VM");
        else if (r < 0)
                r = vm_error(&error, r, msg, l->vm);
        else
                /* Everything is checked again: the tree may have changed
                 * while libvirt answered. */
                r = create_checked(m, l->parent, l->type, l->uuid, &l->o, true, l->done, &error);
        if (r < 0) {
                if (!sd_bus_error_is_set(&error))
                        sd_bus_error_set_errno(&error, r);
                lifecycle_done_call(l->done, m, r, &error, NULL);
        }
        create_later_free(l);
}

static int create_ask_vm(Manager *m, const char *parent, const char *type, const char *uuid,
                         const LifecycleOptions *o, LifecycleDone done) {
        CreateLater *l = calloc(1, sizeof(*l));
        int r;

        if (!l)
                return -ENOMEM;
        l->o = *o;
        l->done = done;
        l->attrs = calloc(o->n_attrs + 1, sizeof(LifecycleAttr));
        l->strings = calloc(2 * o->n_attrs + 1, sizeof(char *));
        if (!l->attrs || !l->strings ||
            !(l->parent = strdup(strempty(parent))) || !(l->type = strdup(strempty(type))) ||
            !(l->uuid = strdup(strempty(uuid))) || !(l->vm = strdup(o->vm)) ||
            (o->owner && !(l->owner = strdup(o->owner))))
                goto oom;
        for (size_t i = 0; i < o->n_attrs; i++) {
                if (!(l->strings[2 * i] = strdup(o->attrs[i].name)) ||
                    !(l->strings[2 * i + 1] = strdup(o->attrs[i].value)))
                        goto oom;
                l->attrs[i] = (LifecycleAttr) { l->strings[2 * i], l->strings[2 * i + 1] };
        }
        l->o.vm = l->vm;
        l->o.owner = l->owner;
        l->o.attrs = l->attrs;
        r = vm_job_submit(m, VM_JOB_EXISTS, o->vm, NULL, NULL, NULL, create_vm_known, l);
        if (r < 0)
                create_later_free(l);
        return r;
oom:
        create_later_free(l);
        return -ENOMEM;
}

int lifecycle_create(Manager *m, const char *parent, const char *type, const char *uuid,
                     const LifecycleOptions *o, LifecycleDone done, sd_bus_error *error) {
        return create_checked(m, parent, type, uuid, o, false, done, error);
}

static int create_checked(Manager *m, const char *parent, const char *type, const char *uuid,
                          const LifecycleOptions *o, bool vm_known, LifecycleDone done, sd_bus_error *error) {
        struct siov_definition *spec = NULL;
        char id[SIOV_UUID_STRING_MAX];
        const char *type_id;
        bool persistent = o->persistent || o->autostart;
        CreateOp *c;
        Parent *p;
        int r;

        r = lifecycle_resolve(m, parent, type, &p, &type_id, error);
        if (r < 0)
                return r;
        if (!p)
                return sd_bus_error_setf(error, SIOV_ERROR_NO_SUCH_TYPE, "no parent offers type '%s'", type);

        if (streq(type_id, SIOV_VF_TYPE_ID)) {
                char want[SIOV_UUID_STRING_MAX];
                Device *vf;

                if (!isempty(uuid) && siov_uuid_normalize(uuid, want) < 0)
                        return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT, "invalid UUID '%.64s'", uuid);
                vf = pick_vf(m, p, isempty(uuid) ? NULL : want);
                if (!vf && !isempty(uuid)) {
                        Device *d = hashmap_get(m->devices, want);

                        if (d && d->kind == DEVICE_KIND_VF && streq(device_get_parent(d), p->name))
                                return sd_bus_error_setf(error, SIOV_ERROR_BUSY,
                                                         "VF %s (%s) of %s is not free: %s", want, device_get_address(d),
                                                         p->name, d->spec ? "siovd holds it as a device" :
                                                         hashmap_get(m->pending, want) ? "a change of it is under way" :
                                                         "the host uses it");
                        return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT,
                                                 "%s is not a VF of %s: a VF's UUID is derived from its PF and "
                                                 "index (give one of its free VFs' UUIDs, or none)", want, p->name);
                }
                if (!vf)
                        return siov_error_no_capacity(m, p, type_id, error);
                if (o->vf_net_set && !vf_net_supported())
                        return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT,
                                                 "this siovd was built without libnl: it cannot set the network "
                                                 "settings (vf_*) of a VF");
                if (o->vf_net_set && !parent_get_pf_netdev(p))
                        return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT,
                                                 "PF %s has no netdev (driver %s): network settings (vf_*) are for "
                                                 "the VFs of a network PF", p->name,
                                                 strempty(siov_parent_get_driver(p->snap)));
                snprintf(id, sizeof(id), "%s", vf->uuid);
        } else {
                if (o->vf_net_set)
                        return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT,
                                                 "network settings (vf_*) are for VFs only (type vf), not %s",
                                                 type_id);
                r = pick_uuid(m, uuid, id, error);
                if (r < 0)
                        return r;
        }

        /* The VM must exist before anything is made for it: libvirt is
         * asked off the loop, then all of the above is checked again. */
        if (!isempty(o->vm) && !vm_known) {
                if (!vm_name_is_valid(o->vm))
                        return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT, VM_NAME_INVALID_MESSAGE);
                return create_ask_vm(m, parent, type, uuid, o, done);
        }
        r = spec_new(id, p->name, type_id, o, &spec, error);
        if (r < 0)
                return r;
        c = calloc(1, sizeof(*c));
        if (!c || (!isempty(o->vm) && !(c->vm = strdup(o->vm)))) {
                free(c);
                siov_definition_unref(spec);
                return -ENOMEM;
        }
        c->spec = spec;
        c->persistent = persistent;
        c->done = done;
        memcpy(c->id, id, sizeof(id));
        if (persistent) {
                /* Refused before anything changes: a definition that could
                 * not be loaded back, a degraded folder, a file there that
                 * siovd did not write (never replaced, never rolled back). */
                r = definitions_check_limits(m, spec, error);
                if (r >= 0)
                        r = definitions_save(m, spec, NULL, &c->stamp, error);
                if (r < 0) {
                        create_op_free(c);
                        return r;
                }
        }
        r = materialize(m, spec, create_materialized, c, error);
        if (r < 0) {
                if (persistent)
                        definitions_rollback(m, id, &c->stamp, error);
                create_op_free(c);
                return r;
        }
        return 0;
}

/* The definition is written: the device follows it. */
static void define_finish(Manager *m, struct siov_definition *spec, const siov_definition_stamp *stamp,
                          LifecycleDone done) {
        const char *id = siov_definition_get_uuid(spec);
        Device *d = hashmap_get(m->devices, id);
        int r;

        if (d)
                /* Defining an active transient device keeps it running. */
                device_set_spec(d, spec, true);
        else {
                r = device_new_defined(m, spec, &d);
                if (r < 0) {
                        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

                        definitions_rollback(m, id, stamp, NULL);
                        sd_bus_error_set_errno(&e, r);
                        lifecycle_done_call(done, m, r, &e, NULL);
                        return;
                }
                manager_emit_added(m, DEVICE_PATH(d));
        }
        d->stamp = *stamp;
        log_device_event(LOG_INFO, &(DeviceEvent) { "defined", id, siov_definition_get_parent(spec),
                                                    siov_definition_get_type(spec), siov_definition_get_vm(spec) },
                         "Defined %s %s on %s.", siov_definition_get_type(spec), id, siov_definition_get_parent(spec));
        lifecycle_done_path(done, m, 0, NULL, id);
}

typedef struct DefineOp {
        struct siov_definition *spec;
        siov_definition_stamp stamp;
        LifecycleDone done;
} DefineOp;

static void define_attached(Manager *m, int r, const char *msg, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        DefineOp *o = userdata;
        const char *id = siov_definition_get_uuid(o->spec);

        if (r < 0) {
                r = vm_error(&error, r, msg, siov_definition_get_vm(o->spec));
                definitions_rollback(m, id, &o->stamp, &error);
                lifecycle_done_call(o->done, m, r, &error, NULL);
        } else
                define_finish(m, o->spec, &o->stamp, o->done);
        siov_definition_unref(o->spec);
        free(o);
}

int lifecycle_define(Manager *m, const char *parent, const char *type, const char *uuid,
                     const LifecycleOptions *o, LifecycleDone done, sd_bus_error *error) {
        struct siov_definition *spec = NULL;
        siov_definition_stamp stamp = {};
        char id[SIOV_UUID_STRING_MAX];
        const char *type_id = type;
        DefineOp *op;
        Parent *p;
        Device *d;
        int r;

        if (isempty(parent) || !siov_name_is_valid(parent))
                return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT,
                                         "a definition needs a valid parent name");
        if (!siov_name_is_valid(type))
                return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT, "invalid type name");
        /* A present parent checks the type; an absent one (hotplug, a
         * module loaded later) is taken at its word. */
        if (hashmap_get(m->parents, parent)) {
                r = lifecycle_resolve(m, parent, type, &p, &type_id, error);
                if (r < 0)
                        return r;
        }
        if (streq(type_id, SIOV_VF_TYPE_ID))
                return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT,
                                         "VFs are defined by creating them with persistent=true");

        if (isempty(uuid)) {
                r = pick_uuid(m, NULL, id, error);
                if (r < 0)
                        return r;
        } else if (siov_uuid_normalize(uuid, id) < 0)
                return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT, "'%.64s' is not a UUID", uuid);
        r = lifecycle_refuse_pending(m, id, error);
        if (r < 0)
                return r;

        d = hashmap_get(m->devices, id);
        if (d && d->persistent)
                return sd_bus_error_setf(error, SIOV_ERROR_ALREADY_EXISTS, "device %s is already defined", id);
        if (d && (!streq(device_get_parent(d), parent) || !streq(device_get_type(d), type_id)))
                return sd_bus_error_setf(error, SIOV_ERROR_ALREADY_EXISTS,
                                         "device %s is active as %s on %s", id, device_get_type(d), device_get_parent(d));

        r = spec_new(id, parent, type_id, o, &spec, error);
        if (r < 0)
                return r;
        r = definitions_check_limits(m, spec, error);
        if (r >= 0)
                r = definitions_save(m, spec, NULL, &stamp, error);
        if (r < 0) {
                siov_definition_unref(spec);
                return r;
        }
        if (isempty(o->vm)) {
                define_finish(m, spec, &stamp, done);
                siov_definition_unref(spec);
                return 0;
        }

        /* libvirt's qemu driver takes an mdev hostdev into a definition
         * before the mdev exists. Asked off the loop: a refusal (a missing
         * VM too) removes the definition again. */
        op = calloc(1, sizeof(*op));
        if (!op) {
                definitions_rollback(m, id, &stamp, NULL);
                siov_definition_unref(spec);
                return -ENOMEM;
        }
        *op = (DefineOp) { .spec = spec, .stamp = stamp, .done = done };
        r = vm_job_submit(m, VM_JOB_ATTACH, o->vm, &(VmHostdev) { .uuid = id }, id, "defined", define_attached, op);
        if (r < 0) {
                definitions_rollback(m, id, &stamp, NULL);
                siov_definition_unref(spec);
                free(op);
                return r;
        }
        return 0;
}

typedef struct SimpleOp {
        char uuid[SIOV_UUID_STRING_MAX];
        LifecycleDone done;
} SimpleOp;

static SimpleOp *simple_op_new(const char *uuid, LifecycleDone done) {
        SimpleOp *s = calloc(1, sizeof(*s));

        if (s) {
                snprintf(s->uuid, sizeof(s->uuid), "%s", uuid);
                s->done = done;
        }
        return s;
}

static void simple_op_then(Manager *m, int r, sd_bus_error *error, void *userdata) {
        SimpleOp *s = userdata;

        lifecycle_done_path(s->done, m, r, error, s->uuid);
        free(s);
}

/* Runs materialize/dematerialize with a SimpleOp that reports to done. */
static int simple_op_run(Manager *m, Device *d, bool up, LifecycleDone done, sd_bus_error *error) {
        SimpleOp *s = simple_op_new(d->uuid, done);
        int r;

        if (!s)
                return -ENOMEM;
        r = up ? materialize(m, d->spec, simple_op_then, s, error) : dematerialize(m, d, simple_op_then, s, error);
        if (r < 0)
                free(s);
        return r;
}

int lifecycle_start(Device *d, LifecycleDone done, sd_bus_error *error) {
        int r = lifecycle_refuse_pending(d->manager, d->uuid, error);

        if (r < 0)
                return r;
        if (!d->persistent)
                return sd_bus_error_setf(error, SIOV_ERROR_NO_SUCH_DEVICE,
                                         "device %s has no definition to start from", d->uuid);
        if (device_is_active(d))
                return sd_bus_error_setf(error, SIOV_ERROR_ALREADY_EXISTS, "device %s is already active", d->uuid);
        return simple_op_run(d->manager, d, true, done, error);
}

static int lifecycle_stop(Device *d, LifecycleDone done, sd_bus_error *error) {
        if (d->kind == DEVICE_KIND_VF && !d->spec)
                return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT,
                                         "VF %s was not made by siovd; create it with --type vf first", d->uuid);
        if (!device_is_active(d) || (d->kind == DEVICE_KIND_VF && siov_vf_get_usage(device_get_vf(d)) != SIOV_VF_VFIO))
                return sd_bus_error_setf(error, SIOV_ERROR_NO_SUCH_DEVICE, "device %s is not active", d->uuid);
        return simple_op_run(d->manager, d, false, done, error);
}

/* A Destroy under way: what the journal record names, kept while the
 * kernel removes the device (a transient device goes with its mdev). */
typedef struct DestroyOp {
        char uuid[SIOV_UUID_STRING_MAX];
        char *parent, *type, *vm;
        LifecycleDone done;
} DestroyOp;

static DestroyOp *destroy_op_free(DestroyOp *o) {
        if (o) {
                free(o->parent);
                free(o->type);
                free(o->vm);
                free(o);
        }
        return NULL;
}

static DestroyOp *destroy_op_new(Device *d, LifecycleDone done) {
        DestroyOp *o = calloc(1, sizeof(*o));

        if (!o)
                return NULL;
        snprintf(o->uuid, sizeof(o->uuid), "%s", d->uuid);
        o->parent = strdup(strempty(device_get_parent(d)));
        o->type = strdup(strempty(device_get_type(d)));
        o->vm = strdup(strempty(device_get_vm(d)));
        o->done = done;
        if (!o->parent || !o->type || !o->vm)
                return destroy_op_free(o);
        return o;
}

/* After the mdev is gone (or was not there): the definition goes too. */
static int destroy_finish(Manager *m, const DestroyOp *o, bool was_active, sd_bus_error *error) {
        Device *d = hashmap_get(m->devices, o->uuid);
        int r;

        if (d && d->persistent) {
                r = definitions_delete(m, o->uuid, &d->stamp, error);
                if (r < 0) {
                        if (was_active)
                                /* Say exactly what was done. */
                                (void) bus_error_prefix(error, "device %s was stopped (it is no longer active), "
                                                        "but its definition could not be removed, it stays "
                                                        "defined", o->uuid);
                        return r;
                }
        }
        d = hashmap_get(m->devices, o->uuid);
        if (d)
                device_set_spec(d, NULL, false);
        log_device_event(LOG_INFO, &(DeviceEvent) { "destroyed", o->uuid, o->parent, o->type, o->vm },
                         "Destroyed %s.", o->uuid);
        return 0;
}

static void destroy_removed(Manager *m, int r, sd_bus_error *error, void *userdata) {
        DestroyOp *o = userdata;

        if (r >= 0)
                r = destroy_finish(m, o, true, error);
        lifecycle_done_call(o->done, m, r, error, NULL);
        destroy_op_free(o);
}

static int lifecycle_destroy(Device *d, LifecycleDone done, sd_bus_error *error) {
        Manager *m = d->manager;
        DestroyOp *o;
        int r;

        if (d->kind == DEVICE_KIND_VF && !d->spec)
                return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT,
                                         "VF %s was not made by siovd; change sriov_numvfs to remove VFs", d->uuid);
        if (d->persistent) {
                /* Asked before the device is stopped: a destroy that cannot
                 * remove the definition is refused whole. */
                r = definitions_verify(m, d->uuid, &d->stamp, error);
                if (r < 0)
                        return r;
        }
        o = destroy_op_new(d, done);
        if (!o)
                return -ENOMEM;
        if (!device_is_active(d)) {
                r = destroy_finish(m, o, false, error);
                destroy_op_free(o);
                if (r < 0)
                        return r;
                lifecycle_done_call(done, m, 0, NULL, NULL);
                return 0;
        }
        r = dematerialize(m, d, destroy_removed, o, error);
        if (r < 0)
                destroy_op_free(o);
        return r;
}

int lifecycle_undefine(Device *d, sd_bus_error *error) {
        int r;

        r = lifecycle_refuse_pending(d->manager, d->uuid, error);
        if (r < 0)
                return r;
        if (!d->persistent)
                return sd_bus_error_setf(error, SIOV_ERROR_NO_SUCH_DEVICE, "device %s is not defined", d->uuid);
        r = definitions_delete(d->manager, d->uuid, &d->stamp, error);
        if (r < 0)
                return r;
        /* An active device keeps running, now transient. */
        device_set_spec(d, d->spec, false);
        return 0;
}

int lifecycle_modify(Device *d, int autostart, bool set_attrs, const LifecycleAttr *attrs, size_t n_attrs,
                     sd_bus_error *error) {
        struct siov_definition *spec = NULL;
        siov_definition_stamp stamp = {};
        int r;

        r = lifecycle_refuse_pending(d->manager, d->uuid, error);
        if (r < 0)
                return r;
        if (!d->persistent)
                return sd_bus_error_setf(error, SIOV_ERROR_NO_SUCH_DEVICE,
                                         "device %s is not defined: define it first", d->uuid);
        r = siov_definition_copy(d->spec, &spec);
        if (r < 0)
                return r;
        if (autostart >= 0)
                siov_definition_set_autostart(spec, autostart);
        if (set_attrs) {
                siov_definition_clear_attrs(spec);
                for (size_t i = 0; i < n_attrs; i++) {
                        r = siov_definition_add_attr(spec, attrs[i].name, attrs[i].value);
                        if (r < 0) {
                                siov_definition_unref(spec);
                                return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT,
                                                         "invalid attribute '%.64s'", attrs[i].name);
                        }
                }
        }
        if (siov_definition_equal(spec, d->spec)) {
                siov_definition_unref(spec);
                return 0;
        }
        r = definitions_check_limits(d->manager, spec, error);
        if (r >= 0)
                r = definitions_save(d->manager, spec, &d->stamp, &stamp, error);
        if (r >= 0) {
                device_set_spec(d, spec, true);
                d->stamp = stamp;
        }
        siov_definition_unref(spec);
        return r;
}

/* An Assign or Unassign while libvirt is asked. */
typedef struct VmChangeOp {
        char uuid[SIOV_UUID_STRING_MAX];
        char *vm;
        bool persistent;
        struct siov_definition *old_spec, *spec;  /* assign: before, and with the VM */
        siov_definition_stamp old_stamp, stamp;
        LifecycleDone done;
} VmChangeOp;

static void vm_change_op_free(VmChangeOp *o) {
        if (!o)
                return;
        free(o->vm);
        siov_definition_unref(o->old_spec);
        siov_definition_unref(o->spec);
        free(o);
}

static VmChangeOp *vm_change_op_new(Device *d, const char *vm, LifecycleDone done) {
        VmChangeOp *o = calloc(1, sizeof(*o));

        if (!o)
                return NULL;
        snprintf(o->uuid, sizeof(o->uuid), "%s", d->uuid);
        o->persistent = d->persistent;
        o->old_stamp = d->stamp;
        o->old_spec = d->spec ? siov_definition_ref(d->spec) : NULL;
        o->done = done;
        o->vm = strdup(vm);
        if (!o->vm) {
                vm_change_op_free(o);
                return NULL;
        }
        return o;
}

static void assign_attached(Manager *m, int r, const char *msg, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        VmChangeOp *o = userdata;
        Device *d = hashmap_get(m->devices, o->uuid);

        if (r < 0) {
                r = vm_error(&error, r, msg, o->vm);
                if (o->persistent) {
                        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
                        siov_definition_stamp restored = {};

                        /* Put back what was there. */
                        if (definitions_save(m, o->old_spec, &o->stamp, &restored, &e) < 0)
                                (void) bus_error_append(&error, "its definition names VM %s but could not be "
                                                        "restored: %s", o->vm, e.message);
                        else if (d && d->persistent) {
                                if (!siov_definition_equal(d->spec, o->old_spec))
                                        device_set_spec(d, o->old_spec, true);
                                d->stamp = restored;
                        }
                }
                goto finish;
        }
        if (!d) {
                r = sd_bus_error_setf(&error, SIOV_ERROR_NO_SUCH_DEVICE,
                                      "device %s went away while it was added to VM %s (the VM's definition has it)",
                                      o->uuid, o->vm);
                goto finish;
        }
        device_set_spec(d, o->spec, o->persistent);
        if (o->persistent)
                d->stamp = o->stamp;
        log_device_event(LOG_INFO, &(DeviceEvent) { "assigned", d->uuid, device_get_parent(d), device_get_type(d), o->vm },
                         "Assigned %s to VM %s.", d->uuid, o->vm);
finish:
        lifecycle_done_call(o->done, m, r, &error, NULL);
        vm_change_op_free(o);
}

int lifecycle_assign(Device *d, const char *vm, LifecycleDone done, sd_bus_error *error) {
        Manager *m = d->manager;
        VmChangeOp *o;
        VmHostdev h;
        int r;

        r = lifecycle_refuse_pending(d->manager, d->uuid, error);
        if (r < 0)
                return r;
        if (!vm_name_is_valid(vm))
                return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT, VM_NAME_INVALID_MESSAGE);
        if (!isempty(device_get_vm(d)))
                return sd_bus_error_setf(error, SIOV_ERROR_ALREADY_EXISTS,
                                         "device %s is assigned to VM %s already; unassign it first",
                                         d->uuid, device_get_vm(d));
        if (d->kind == DEVICE_KIND_VF && !d->pf)
                return sd_bus_error_setf(error, SIOV_ERROR_NO_SUCH_DEVICE, "the VF of device %s is not present", d->uuid);
        o = vm_change_op_new(d, vm, done);
        if (!o)
                return -ENOMEM;
        r = spec_with_vm(d, vm, &o->spec);
        if (r < 0)
                goto fail;
        if (d->persistent) {
                r = definitions_check_limits(m, o->spec, error);
                if (r >= 0)
                        r = definitions_save(m, o->spec, &o->old_stamp, &o->stamp, error);
                if (r < 0)
                        goto fail;
        }
        device_hostdev(d, &h);
        /* A device that is not active cannot be hot-plugged: its definition
         * gets it, QEMU opens it at the next start (the hook starts it). */
        h.config_only = !device_is_active(d);
        r = vm_job_submit(m, VM_JOB_ATTACH, vm, &h, d->uuid, "assigned to a VM", assign_attached, o);
        if (r >= 0)
                return 0;
        if (d->persistent)
                (void) definitions_save(m, o->old_spec, &o->stamp, &d->stamp, NULL);
fail:
        vm_change_op_free(o);
        return r;
}

static void unassign_detached(Manager *m, int r, const char *msg, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        struct siov_definition *spec = NULL;
        siov_definition_stamp stamp = {};
        VmChangeOp *o = userdata;
        Device *d;

        if (r == -ENOENT || r == -ESRCH)
                /* Gone from the VM (edited by hand, VM undefined): the
                 * record is what is left to drop. */
                log_info("Device %s was no longer in VM %s: %s", o->uuid, o->vm, strempty(msg));
        else if (r < 0) {
                r = vm_error(&error, r, msg, o->vm);
                goto finish;
        }
        d = hashmap_get(m->devices, o->uuid);
        if (!d || !streq(device_get_vm(d), o->vm)) {
                r = 0;          /* gone, or its record changed meanwhile: nothing left to drop */
                goto finish;
        }
        r = spec_with_vm(d, "", &spec);
        if (r < 0)
                goto finish;
        if (d->persistent) {
                r = definitions_save(m, spec, &d->stamp, &stamp, &error);
                if (r < 0) {
                        /* Say exactly what was done. */
                        (void) bus_error_prefix(&error, "device %s was removed from VM %s, but its definition "
                                                "still names the VM", d->uuid, o->vm);
                        goto finish;
                }
        }
        device_set_spec(d, spec, d->persistent);
        if (d->persistent)
                d->stamp = stamp;
        log_device_event(LOG_INFO, &(DeviceEvent) { "unassigned", d->uuid, device_get_parent(d), device_get_type(d), o->vm },
                         "Unassigned %s from VM %s.", d->uuid, o->vm);
        r = 0;
finish:
        siov_definition_unref(spec);
        lifecycle_done_call(o->done, m, r, &error, NULL);
        vm_change_op_free(o);
}

int lifecycle_unassign(Device *d, LifecycleDone done, sd_bus_error *error) {
        Manager *m = d->manager;
        const char *vm = device_get_vm(d);
        VmChangeOp *o;
        VmHostdev h;
        int r;

        r = lifecycle_refuse_pending(d->manager, d->uuid, error);
        if (r < 0)
                return r;
        if (isempty(vm))
                return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT, "device %s is not assigned to a VM", d->uuid);
        if (d->persistent) {
                r = definitions_verify(m, d->uuid, &d->stamp, error);
                if (r < 0)
                        return r;
        }
        o = vm_change_op_new(d, vm, done);
        if (!o)
                return -ENOMEM;
        device_hostdev(d, &h);
        r = vm_job_submit(m, VM_JOB_DETACH, vm, &h, d->uuid, "unassigned from its VM", unassign_detached, o);
        if (r < 0)
                vm_change_op_free(o);
        return r;
}

/* The process holding /dev/vfio/<group> open, for the message: slow (all
 * of /proc), so only asked once the group is known to be busy. */
static pid_t vfio_holder_pid(const char *want) {
        _cleanup_closedir_ DIR *proc = opendir("/proc");
        struct dirent *de;

        if (!proc)
                return 0;
        FOREACH_DIRENT(de, proc) {
                _cleanup_closedir_ DIR *fds = NULL;
                struct dirent *fe;
                char path[300];

                if (de->d_name[0] < '0' || de->d_name[0] > '9')
                        continue;
                snprintf(path, sizeof(path), "/proc/%.32s/fd", de->d_name);
                fds = opendir(path);
                if (!fds)
                        continue;
                FOREACH_DIRENT(fe, fds) {
                        char fd_path[600], target[PATH_MAX];
                        ssize_t n;

                        snprintf(fd_path, sizeof(fd_path), "%s/%.255s", path, fe->d_name);
                        n = readlink(fd_path, target, sizeof(target) - 1);
                        if (n <= 0)
                                continue;
                        target[n] = 0;
                        if (streq(target, want))
                                return (pid_t) atoi(de->d_name);
                }
        }
        return 0;
}

void lifecycle_device_vfio_group(Manager *m, Device *d, char *group, size_t group_size) {
        _cleanup_free_ char *link = NULL, *rel = NULL;
        char target[PATH_MAX];
        const char *g;
        ssize_t n;

        group[0] = 0;
        if (asprintf(&rel, d->kind == DEVICE_KIND_VF ? "sys/bus/pci/devices/%s/iommu_group"
                                                   : "sys/bus/mdev/devices/%s/iommu_group",
                     d->kind == DEVICE_KIND_VF ? device_get_address(d) : d->uuid) < 0)
                return;
        link = siov_ctx_path(m->ctx, rel);
        if (!link)
                return;
        n = readlink(link, target, sizeof(target) - 1);
        if (n <= 0)
                return;         /* no IOMMU group: nothing can have it open */
        target[n] = 0;
        g = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;
        /* IOMMU groups are numbers; anything else is not ours to chase. */
        if (strlen(g) >= group_size || strlen(g) > 16 || strspn(g, "0123456789") != strlen(g))
                return;
        memcpy(group, g, strlen(g) + 1);
}

/* Whether a process (QEMU) holds the device's VFIO group open. Asked of the
 * kernel, not libvirt: Stop is called by siovd's libvirt hook while
 * libvirt holds the domain's lock, and any libvirt call about that domain
 * would wait for the hook, which waits for us. A VFIO group can be open
 * once: our own open fails with EBUSY exactly when someone has it. */
int lifecycle_vfio_holder(Manager *m, Device *d, char *group, size_t group_size, pid_t *ret_pid) {
        char dev[64];
        int fd;

        lifecycle_device_vfio_group(m, d, group, group_size);
        if (isempty(group))
                return 0;
        /* Under a test root the group belongs to the fake tree, not /dev. */
        if (!isempty(siov_ctx_get_root(m->ctx)))
                return 0;
        snprintf(dev, sizeof(dev), "/dev/vfio/%s", group);
        fd = open(dev, O_RDWR | O_CLOEXEC | O_NONBLOCK);
        if (fd >= 0) {
                close(fd);
                return 0;
        }
        if (errno != EBUSY)
                return 0;       /* no node (no vfio module), no permission: not ours to judge */
        *ret_pid = vfio_holder_pid(dev);
        return 1;
}

pid_t lifecycle_removal_holder(Manager *m, const char *uuid) {
        PendingOp *p = hashmap_get(m->pending, uuid);
        char dev[PATH_MAX];

        if (!p || isempty(p->group))
                return 0;
        /* The group's node; under a test root, the fake tree's. */
        snprintf(dev, sizeof(dev), "%s/dev/vfio/%s", siov_ctx_get_root(m->ctx), p->group);
        p->holder = vfio_holder_pid(dev);
        if (p->holder > 0)
                emit_state(m, uuid, true);
        return p->holder;
}

static int check_not_in_use(Device *d, sd_bus_error *error) {
        char group[64] = "";
        pid_t pid = 0;
        int r;

        if (!device_is_active(d))
                return 0;
        r = lifecycle_vfio_holder(d->manager, d, group, sizeof(group), &pid);
        if (r <= 0)
                return 0;
        if (!isempty(device_get_vm(d)))
                return sd_bus_error_setf(error, SIOV_ERROR_BUSY,
                                         "device %s is in use by VM %s (process %d has /dev/vfio/%s open): "
                                         "shut the VM down first", d->uuid, device_get_vm(d), (int) pid, group);
        return sd_bus_error_setf(error, SIOV_ERROR_BUSY,
                                 "device %s is in use: process %d has /dev/vfio/%s open", d->uuid, (int) pid, group);
}

int lifecycle_stop_checked(Device *d, bool force, LifecycleDone done, sd_bus_error *error) {
        int r = lifecycle_refuse_pending(d->manager, d->uuid, error);

        if (r < 0)
                return r;
        if (!force) {
                r = check_not_in_use(d, error);
                if (r < 0)
                        return r;
        }
        return lifecycle_stop(d, done, error);
}

typedef struct DestroyLater {
        char uuid[SIOV_UUID_STRING_MAX];
        char *vm;
        LifecycleDone done;
} DestroyLater;

static void destroy_detached(Manager *m, int r, const char *msg, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        DestroyLater *l = userdata;
        Device *d;

        if (r < 0 && r != -ENOENT && r != -ESRCH)
                r = vm_error(&error, r, msg, l->vm);
        else if (!(d = hashmap_get(m->devices, l->uuid)))
                r = 0;          /* went away meanwhile: what was asked */
        else {
                r = lifecycle_destroy(d, l->done, &error);
                if (r >= 0)
                        goto finish;    /* done is called by the destroy */
        }
        if (r < 0 && !sd_bus_error_is_set(&error))
                sd_bus_error_set_errno(&error, r);
        lifecycle_done_call(l->done, m, r, &error, NULL);
finish:
        free(l->vm);
        free(l);
}

int lifecycle_destroy_checked(Device *d, bool force, LifecycleDone done, sd_bus_error *error) {
        const char *vm = device_get_vm(d);
        DestroyLater *l;
        VmHostdev h;
        int r;

        /* A second destroy while the kernel still removes it: Busy, not
         * queued behind the first. */
        r = lifecycle_refuse_pending(d->manager, d->uuid, error);
        if (r < 0)
                return r;
        if (!force) {
                r = check_not_in_use(d, error);
                if (r < 0)
                        return r;
        }
        if (isempty(vm))
                return lifecycle_destroy(d, done, error);

        /* The VM's definition must not keep a hostdev that is gone: taken
         * out first, off the loop. */
        l = calloc(1, sizeof(*l));
        if (!l || !(l->vm = strdup(vm))) {
                free(l);
                return -ENOMEM;
        }
        snprintf(l->uuid, sizeof(l->uuid), "%s", d->uuid);
        l->done = done;
        device_hostdev(d, &h);
        r = vm_job_submit(d->manager, VM_JOB_DETACH, vm, &h, d->uuid, "destroyed", destroy_detached, l);
        if (r < 0) {
                free(l->vm);
                free(l);
        }
        return r;
}

typedef struct ProvisionOp {
        char **started;         /* paths, in the order their creates finished */
        size_t n_started, n_running;
        LifecycleDone done;
} ProvisionOp;

typedef struct ProvisionOne {
        ProvisionOp *op;
        char uuid[SIOV_UUID_STRING_MAX];
        char parent[256];
} ProvisionOne;

static void provision_finish(Manager *m, ProvisionOp *op) {
        lifecycle_done_call(op->done, m, 0, NULL, op->started);
        strv_free(op->started);
        free(op);
}

static void provision_one_done(Manager *m, int r, sd_bus_error *error, void *userdata) {
        ProvisionOne *one = userdata;
        ProvisionOp *op = one->op;
        Device *d = hashmap_get(m->devices, one->uuid);

        if (r < 0)
                log_error("Cannot start autostart device %s on %s: %s", one->uuid, one->parent,
                          error->message ?: strerror(-r));
        else if (d) {
                log_info("Started autostart device %s on %s.", one->uuid, one->parent);
                op->started[op->n_started] = strdup(DEVICE_PATH(d));
                if (op->started[op->n_started])
                        op->n_started++;
        }
        free(one);
        if (--op->n_running == 0)
                provision_finish(m, op);
}

typedef struct ProvisionLater {
        char parent[256];
        LifecycleDone done;
} ProvisionLater;

static int provision_devices(Manager *m, const char *parent, LifecycleDone done);

/* The PF's VFs are there (or could not be made, logged): its devices. */
static void provision_after_vfs(Manager *m, int r, const sd_bus_error *error, char **paths, void *userdata) {
        ProvisionLater *l = userdata;

        if (provision_devices(m, l->parent, l->done) < 0)
                lifecycle_done_call(l->done, m, -ENOMEM, NULL, NULL);
        free(l);
}

int lifecycle_provision(Manager *m, const char *parent, LifecycleDone done, sd_bus_error *error) {
        ProvisionLater *l;
        int r;

        if (!siov_name_is_valid(parent))
                return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT, "invalid parent name");
        if (!hashmap_get(m->parents, parent))
                return sd_bus_error_setf(error, SIOV_ERROR_NO_SUCH_PARENT, "parent %s is not present", parent);

        /* A PF's configuration first: its VFs must exist before the
         * autostart devices made of them. They are made on the PF's
         * worker; the devices follow when they are there. */
        l = calloc(1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        snprintf(l->parent, sizeof(l->parent), "%s", parent);
        l->done = done;
        r = sriov_provision(m, parent, (LifecycleDone) { provision_after_vfs, l });
        /* Then its per-VF settings, queued on the PF's worker after the VF
         * count and ahead of the devices' binds. */
        sriov_vf_provision(m, parent);
        if (r > 0)
                return 0;
        free(l);
        return provision_devices(m, parent, done);
}

static int provision_devices(Manager *m, const char *parent, LifecycleDone done) {
        _cleanup_free_ char (*todo)[SIOV_UUID_STRING_MAX] = NULL;
        const DeviceList *list = manager_parent_devices(m, parent);
        ProvisionOp *op;
        size_t n = 0;
        Device *d;

        todo = calloc((list ? list->n : 0) + 1, sizeof(*todo));
        op = calloc(1, sizeof(*op));
        if (!todo || !op || !(op->started = calloc((list ? list->n : 0) + 1, sizeof(char *)))) {
                free(op);
                return -ENOMEM;
        }
        op->done = done;
        /* Already active ones are skipped: the kernel announces an mdev
         * parent twice (add, then change), and both may ask; so are those
         * whose start is under way. */
        DEVICE_LIST_FOREACH(d, list, i)
                if (device_get_autostart(d) && !device_is_active(d) &&
                    !hashmap_get(m->pending, d->uuid)) {
                        /* A VF device waits for its VF (the PF's count is
                         * set once its driver binds): not a failure. */
                        if (d->kind == DEVICE_KIND_VF && !d->pf) {
                                log_info("Autostart device %s waits for its VF on %s.", d->uuid, parent);
                                continue;
                        }
                        snprintf(todo[n++], sizeof(todo[0]), "%s", d->uuid);
                }

        /* One reference for this loop, so that creates that finish at once
         * cannot end the operation before every one is asked. */
        op->n_running = 1;
        for (size_t i = 0; i < n; i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
                ProvisionOne *one;

                /* Looked up again: a capacity check re-reads the parent. */
                d = hashmap_get(m->devices, todo[i]);
                if (!d || !d->spec)
                        continue;
                one = calloc(1, sizeof(*one));
                if (!one)
                        break;
                one->op = op;
                snprintf(one->uuid, sizeof(one->uuid), "%s", d->uuid);
                snprintf(one->parent, sizeof(one->parent), "%s", parent);
                op->n_running++;
                if (materialize(m, d->spec, provision_one_done, one, &e) < 0) {
                        log_error("Cannot start autostart device %s on %s: %s", one->uuid, parent, e.message);
                        op->n_running--;
                        free(one);
                }
        }
        if (--op->n_running == 0)
                provision_finish(m, op);
        return 0;
}
