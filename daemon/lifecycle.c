/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Creating, starting, stopping and destroying devices, and their
 * definitions. siovd is single-threaded: every operation below runs to
 * completion before the next starts, so operations on a parent are
 * serialized inside siovd; the kernel's answer (the write to `create`) is
 * authoritative. Order of every change: validate → check → write the
 * definition (so a crash never loses one) → change sysfs → roll back the
 * definition if sysfs refused → update the objects → signal.
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
#include "vm.h"

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
                if (!p) {
                        _cleanup_free_ const char **names = calloc(hashmap_size(m->parents) + 1, sizeof(char *));
                        size_t n = 0;
                        Parent *q;

                        if (!names)
                                return -ENOMEM;
                        HASHMAP_FOREACH(q, m->parents, i)
                                names[n++] = q->name;
                        return siov_error_no_such(error, SIOV_ERROR_NO_SUCH_PARENT, "parent", parent, names, n);
                }
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

/* Makes the device described by spec exist in sysfs. mdev: create, then
 * each attribute in order; if an attribute fails the device is removed
 * again and the attribute's error is the one reported. VF: bind to VFIO. */
static int materialize(Manager *m, const struct siov_definition *spec, sd_bus_error *error) {
        const char *parent = siov_definition_get_parent(spec), *type = siov_definition_get_type(spec);
        const char *uuid = siov_definition_get_uuid(spec);
        struct siov_parent *fresh = NULL;
        _cleanup_free_ char *msg = NULL;
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
                r = siov_vf_bind_vfio(m->ctx, siov_vf_get_address(device_get_vf(d)), &msg);
                manager_refresh_parent(m, parent);
                if (r < 0)
                        return kernel_error(error, r, msg, NULL);
                return 0;
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
                if (siov_parent_read(m->ctx, parent, &fresh) >= 0) {
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

        r = siov_mdev_create(m->ctx, parent, type, uuid, &msg);
        if (r == -ENOSPC) {
                /* The kernel is the judge: something took the last one. */
                manager_refresh_parent(m, parent);
                p = hashmap_get(m->parents, parent);
                if (p)
                        return siov_error_no_capacity(m, p, type, error);
        }
        if (r == -EEXIST)
                return sd_bus_error_setf(error, SIOV_ERROR_ALREADY_EXISTS, "device %s already exists: %s",
                                         uuid, strempty(msg));
        if (r < 0)
                return kernel_error(error, r, msg, NULL);

        for (size_t i = 0; i < siov_definition_get_n_attrs(spec); i++) {
                _cleanup_free_ char *rollback_msg = NULL;

                r = siov_mdev_write_attr(m->ctx, uuid, siov_definition_get_attr_name(spec, i),
                                         siov_definition_get_attr_value(spec, i), &msg);
                if (r >= 0)
                        continue;
                /* Roll back; the attribute's error is what the caller sees,
                 * a failed rollback is logged besides (mdevctl replaced one
                 * with the other). */
                if (siov_mdev_remove(m->ctx, uuid, &rollback_msg) < 0)
                        log_error("Rolling back %s after a failed attribute: %s", uuid, strempty(rollback_msg));
                manager_refresh_mdev(m, uuid);
                manager_refresh_parent(m, parent);
                return sd_bus_error_setf(error, SIOV_ERROR_KERNEL_ERROR, "%s (device %s removed again)",
                                         strempty(msg), uuid);
        }

        /* The device now; its parent's counters with the uevents the
         * kernel just queued. */
        manager_refresh_mdev(m, uuid);
        manager_mark_parent(m, parent);
        if (!hashmap_get(m->devices, uuid) || !((Device *) hashmap_get(m->devices, uuid))->mdev)
                return sd_bus_error_setf(error, SIOV_ERROR_KERNEL_ERROR,
                                         "the kernel accepted device %s on %s but it is not in %s",
                                         uuid, parent, SIOV_SYSFS_MDEV_DEVICES);
        return 0;
}

/* Removes the device from sysfs (the definition stays). */
static int dematerialize(Manager *m, Device *d, sd_bus_error *error) {
        _cleanup_free_ char *msg = NULL, *parent = strdup(device_get_parent(d)), *uuid = strdup(d->uuid);
        int r;

        if (!parent || !uuid)
                return -ENOMEM;
        if (d->kind == DEVICE_KIND_VF) {
                r = siov_vf_release(m->ctx, siov_vf_get_address(device_get_vf(d)), &msg);
                manager_refresh_parent(m, parent);
                return r < 0 ? kernel_error(error, r, msg, NULL) : 0;
        }
        r = siov_mdev_remove(m->ctx, d->uuid, &msg);
        if (r == -ENODEV) {
                /* Already gone: the objects just did not know yet. */
                manager_refresh_mdev(m, uuid);
                return sd_bus_error_setf(error, SIOV_ERROR_NO_SUCH_DEVICE, "device %s is not active", uuid);
        }
        if (r < 0)
                return kernel_error(error, r, msg, NULL);
        /* d may be freed here (a transient device goes with its mdev). */
        manager_refresh_mdev(m, uuid);
        manager_mark_parent(m, parent);
        return 0;
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
        d = hashmap_get(m->devices, ret);
        if (d)
                return sd_bus_error_setf(error, SIOV_ERROR_ALREADY_EXISTS, "device %s already exists (%s, %s on %s)",
                                         ret, device_get_state(d), device_get_type(d), device_get_parent(d));
        return 0;
}

/* A free VF of the PF: not held by the host, not claimed by a device of
 * siovd's. */
static Device *pick_vf(Manager *m, Parent *p) {
        Device *best = NULL;

        for (size_t i = 0; i < siov_parent_get_n_vfs(p->snap); i++) {
                const struct siov_vf *vf = siov_parent_get_vf(p->snap, i);
                Device *d = hashmap_get(m->devices, siov_vf_get_uuid(vf));

                if (!d || d->spec || siov_vf_get_usage(vf) == SIOV_VF_HOST)
                        continue;
                if (!best || siov_vf_get_index(vf) < siov_vf_get_index(device_get_vf(best)))
                        best = d;
        }
        return best;
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

static int vm_check_exists(Manager *m, const char *vm, sd_bus_error *error) {
        _cleanup_free_ char *msg = NULL;
        int r;

        r = vm_exists(m->libvirt_uri, vm, &msg);
        if (r == 0)
                return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT, "%s", msg ?: "no such VM");
        if (r < 0)
                return vm_error(error, r, msg, vm);
        return 0;
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

int lifecycle_create(Manager *m, const char *parent, const char *type, const char *uuid,
                     const LifecycleOptions *o, Device **ret, sd_bus_error *error) {
        struct siov_definition *spec = NULL;
        siov_definition_stamp stamp = {};
        char id[SIOV_UUID_STRING_MAX];
        const char *type_id;
        bool persistent = o->persistent || o->autostart;
        Parent *p;
        Device *d;
        int r;

        r = lifecycle_resolve(m, parent, type, &p, &type_id, error);
        if (r < 0)
                return r;
        if (!p)
                return sd_bus_error_setf(error, SIOV_ERROR_NO_SUCH_TYPE, "no parent offers type '%s'", type);

        if (streq(type_id, SIOV_VF_TYPE_ID)) {
                Device *vf = pick_vf(m, p);

                if (!isempty(uuid))
                        return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT,
                                                 "a VF's UUID is derived from its PF and index; do not give one");
                if (!vf)
                        return siov_error_no_capacity(m, p, type_id, error);
                snprintf(id, sizeof(id), "%s", vf->uuid);
        } else {
                r = pick_uuid(m, uuid, id, error);
                if (r < 0)
                        return r;
        }

        /* The VM must exist before anything is made for it. */
        if (!isempty(o->vm)) {
                r = vm_check_exists(m, o->vm, error);
                if (r < 0)
                        return r;
        }
        r = spec_new(id, p->name, type_id, o, &spec, error);
        if (r < 0)
                return r;
        if (persistent) {
                /* Refused before anything changes: a definition that could
                 * not be loaded back, a degraded folder, a file there that
                 * siovd did not write (never replaced, never rolled back). */
                r = definitions_check_limits(m, spec, error);
                if (r < 0)
                        goto fail;
                r = definitions_save(m, spec, NULL, &stamp, error);
                if (r < 0)
                        goto fail;
        }
        r = materialize(m, spec, error);
        if (r < 0) {
                if (persistent)
                        definitions_rollback(m, id, &stamp, error);
                goto fail;
        }
        d = hashmap_get(m->devices, id);
        if (!d) {
                r = sd_bus_error_setf(error, SIOV_ERROR_KERNEL_ERROR, "device %s vanished right after its creation", id);
                goto fail;
        }
        device_set_spec(d, spec, persistent);
        if (persistent)
                d->stamp = stamp;
        if (!isempty(o->vm)) {
                _cleanup_free_ char *msg = NULL;
                VmHostdev h;

                device_hostdev(d, &h);
                r = vm_attach(m->libvirt_uri, o->vm, &h, &msg);
                if (r < 0) {
                        /* Transactional: nothing made for the VM stays. */
                        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

                        r = vm_error(error, r, msg, o->vm);
                        if (device_is_active(d) && dematerialize(m, d, &e) < 0)
                                log_error("Rolling back %s after libvirt refused it: %s", id, e.message);
                        if (persistent)
                                definitions_rollback(m, id, &stamp, error);
                        d = hashmap_get(m->devices, id);
                        if (d)
                                device_set_spec(d, NULL, false);
                        goto fail;
                }
        }
        siov_definition_unref(spec);
        log_device_event(LOG_INFO, &(DeviceEvent) { "created", id, p->name, type_id, o->vm },
                         "Created %s %s on %s%s.", type_id, id, p->name, persistent ? " (persistent)" : "");
        *ret = d;
        return 0;
fail:
        siov_definition_unref(spec);
        return r;
}

int lifecycle_define(Manager *m, const char *parent, const char *type, const char *uuid,
                     const LifecycleOptions *o, Device **ret, sd_bus_error *error) {
        struct siov_definition *spec = NULL;
        siov_definition_stamp stamp = {};
        char id[SIOV_UUID_STRING_MAX];
        const char *type_id = type;
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

        d = hashmap_get(m->devices, id);
        if (d && d->persistent)
                return sd_bus_error_setf(error, SIOV_ERROR_ALREADY_EXISTS, "device %s is already defined", id);
        if (d && (!streq(device_get_parent(d), parent) || !streq(device_get_type(d), type_id)))
                return sd_bus_error_setf(error, SIOV_ERROR_ALREADY_EXISTS,
                                         "device %s is active as %s on %s", id, device_get_type(d), device_get_parent(d));

        if (!isempty(o->vm)) {
                r = vm_check_exists(m, o->vm, error);
                if (r < 0)
                        return r;
        }
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
        if (!isempty(o->vm)) {
                /* libvirt's qemu driver takes an mdev hostdev into a
                 * definition before the mdev exists. */
                _cleanup_free_ char *msg = NULL;
                VmHostdev h = { .uuid = id };

                r = vm_attach(m->libvirt_uri, o->vm, &h, &msg);
                if (r < 0) {
                        r = vm_error(error, r, msg, o->vm);
                        definitions_rollback(m, id, &stamp, error);
                        siov_definition_unref(spec);
                        return r;
                }
        }
        if (d)
                /* Defining an active transient device keeps it running. */
                device_set_spec(d, spec, true);
        else {
                r = device_new_defined(m, spec, &d);
                if (r < 0) {
                        definitions_rollback(m, id, &stamp, NULL);
                        siov_definition_unref(spec);
                        return r;
                }
                manager_emit_added(m, d->path);
        }
        d->stamp = stamp;
        siov_definition_unref(spec);
        log_device_event(LOG_INFO, &(DeviceEvent) { "defined", id, parent, type_id, o->vm },
                         "Defined %s %s on %s.", type_id, id, parent);
        *ret = d;
        return 0;
}

int lifecycle_start(Device *d, sd_bus_error *error) {
        if (!d->persistent)
                return sd_bus_error_setf(error, SIOV_ERROR_NO_SUCH_DEVICE,
                                         "device %s has no definition to start from", d->uuid);
        if (device_is_active(d))
                return sd_bus_error_setf(error, SIOV_ERROR_ALREADY_EXISTS, "device %s is already active", d->uuid);
        return materialize(d->manager, d->spec, error);
}

int lifecycle_stop(Device *d, sd_bus_error *error) {
        if (d->kind == DEVICE_KIND_VF && !d->spec)
                return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT,
                                         "VF %s was not made by siovd; create it with --type vf first", d->uuid);
        if (!device_is_active(d) || (d->kind == DEVICE_KIND_VF && siov_vf_get_usage(device_get_vf(d)) != SIOV_VF_VFIO))
                return sd_bus_error_setf(error, SIOV_ERROR_NO_SUCH_DEVICE, "device %s is not active", d->uuid);
        return dematerialize(d->manager, d, error);
}

int lifecycle_destroy(Device *d, sd_bus_error *error) {
        Manager *m = d->manager;
        _cleanup_free_ char *uuid = strdup(d->uuid), *parent = strdup(strempty(device_get_parent(d))),
                *type = strdup(strempty(device_get_type(d))), *vm = strdup(strempty(device_get_vm(d)));
        bool was_active = false;
        int r;

        if (!uuid || !parent || !type || !vm)
                return -ENOMEM;
        if (d->kind == DEVICE_KIND_VF && !d->spec)
                return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT,
                                         "VF %s was not made by siovd; change sriov_numvfs to remove VFs", uuid);
        if (d->persistent) {
                /* Asked before the device is stopped: a destroy that cannot
                 * remove the definition is refused whole. */
                r = definitions_verify(m, uuid, &d->stamp, error);
                if (r < 0)
                        return r;
        }
        if (device_is_active(d)) {
                was_active = true;
                r = dematerialize(m, d, error);
                if (r < 0)
                        return r;
        }
        d = hashmap_get(m->devices, uuid);
        if (d && d->persistent) {
                r = definitions_delete(m, uuid, &d->stamp, error);
                if (r < 0) {
                        if (was_active)
                                /* Say exactly what was done. */
                                (void) bus_error_prefix(error, "device %s was stopped (it is no longer active), "
                                                        "but its definition could not be removed, it stays "
                                                        "defined", uuid);
                        return r;
                }
        }
        if (d)
                device_set_spec(d, NULL, false);
        log_device_event(LOG_INFO, &(DeviceEvent) { "destroyed", uuid, parent, type, vm }, "Destroyed %s.", uuid);
        return 0;
}

int lifecycle_undefine(Device *d, sd_bus_error *error) {
        int r;

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

int lifecycle_assign(Device *d, const char *vm, sd_bus_error *error) {
        Manager *m = d->manager;
        struct siov_definition *spec = NULL;
        siov_definition_stamp old_stamp, stamp = {};
        _cleanup_free_ char *msg = NULL;
        VmHostdev h;
        int r;

        if (!vm_name_is_valid(vm))
                return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT, VM_NAME_INVALID_MESSAGE);
        if (!isempty(device_get_vm(d)))
                return sd_bus_error_setf(error, SIOV_ERROR_ALREADY_EXISTS,
                                         "device %s is assigned to VM %s already; unassign it first",
                                         d->uuid, device_get_vm(d));
        if (d->kind == DEVICE_KIND_VF && !d->pf)
                return sd_bus_error_setf(error, SIOV_ERROR_NO_SUCH_DEVICE, "the VF of device %s is not present", d->uuid);
        r = spec_with_vm(d, vm, &spec);
        if (r < 0)
                return r;
        old_stamp = d->stamp;
        if (d->persistent) {
                r = definitions_check_limits(m, spec, error);
                if (r >= 0)
                        r = definitions_save(m, spec, &old_stamp, &stamp, error);
                if (r < 0)
                        goto finish;
        }
        device_hostdev(d, &h);
        /* A device that is not active cannot be hot-plugged: its definition
         * gets it, QEMU opens it at the next start (the hook starts it). */
        h.config_only = !device_is_active(d);
        r = vm_attach(m->libvirt_uri, vm, &h, &msg);
        if (r < 0) {
                r = vm_error(error, r, msg, vm);
                if (d->persistent) {
                        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

                        /* Put back what was there. */
                        if (definitions_save(m, d->spec, &stamp, &d->stamp, &e) < 0)
                                (void) bus_error_append(error, "its definition names VM %s but could not be "
                                                        "restored: %s", vm, e.message);
                }
                goto finish;
        }
        device_set_spec(d, spec, d->persistent);
        if (d->persistent)
                d->stamp = stamp;
        log_device_event(LOG_INFO, &(DeviceEvent) { "assigned", d->uuid, device_get_parent(d), device_get_type(d), vm },
                         "Assigned %s to VM %s.", d->uuid, vm);
finish:
        siov_definition_unref(spec);
        return r;
}

int lifecycle_unassign(Device *d, sd_bus_error *error) {
        Manager *m = d->manager;
        struct siov_definition *spec = NULL;
        siov_definition_stamp stamp = {};
        _cleanup_free_ char *msg = NULL, *vm = strdup(device_get_vm(d));
        VmHostdev h;
        int r;

        if (!vm)
                return -ENOMEM;
        if (isempty(vm))
                return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT, "device %s is not assigned to a VM", d->uuid);
        if (d->persistent) {
                r = definitions_verify(m, d->uuid, &d->stamp, error);
                if (r < 0)
                        return r;
        }
        device_hostdev(d, &h);
        r = vm_detach(m->libvirt_uri, vm, &h, &msg);
        if (r == -ENOENT || r == -ESRCH)
                /* Gone from the VM (edited by hand, VM undefined): the
                 * record is what is left to drop. */
                log_info("Device %s was no longer in VM %s: %s", d->uuid, vm, strempty(msg));
        else if (r < 0)
                return vm_error(error, r, msg, vm);
        r = spec_with_vm(d, "", &spec);
        if (r < 0)
                return r;
        if (d->persistent) {
                r = definitions_save(m, spec, &d->stamp, &stamp, error);
                if (r < 0) {
                        /* Say exactly what was done. */
                        (void) bus_error_prefix(error, "device %s was removed from VM %s, but its definition "
                                                "still names the VM", d->uuid, vm);
                        siov_definition_unref(spec);
                        return r;
                }
        }
        device_set_spec(d, spec, d->persistent);
        if (d->persistent)
                d->stamp = stamp;
        siov_definition_unref(spec);
        log_device_event(LOG_INFO, &(DeviceEvent) { "unassigned", d->uuid, device_get_parent(d), device_get_type(d), vm },
                         "Unassigned %s from VM %s.", d->uuid, vm);
        return 0;
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

/* Whether a process (QEMU) holds the device's VFIO group open. Asked of the
 * kernel, not libvirt: Stop is called by siovd's libvirt hook while
 * libvirt holds the domain's lock, and any libvirt call about that domain
 * would wait for the hook, which waits for us. A VFIO group can be open
 * once: our own open fails with EBUSY exactly when someone has it. */
int lifecycle_vfio_holder(Manager *m, Device *d, char *group, size_t group_size, pid_t *ret_pid) {
        _cleanup_free_ char *link = NULL, *rel = NULL;
        char target[PATH_MAX], dev[64];
        const char *g;
        ssize_t n;
        int fd;

        if (asprintf(&rel, d->kind == DEVICE_KIND_VF ? "sys/bus/pci/devices/%s/iommu_group"
                                                   : "sys/bus/mdev/devices/%s/iommu_group",
                     d->kind == DEVICE_KIND_VF ? device_get_address(d) : d->uuid) < 0)
                return -ENOMEM;
        link = siov_ctx_path(m->ctx, rel);
        if (!link)
                return -ENOMEM;
        n = readlink(link, target, sizeof(target) - 1);
        if (n <= 0)
                return 0;       /* no IOMMU group: nothing can have it open */
        target[n] = 0;
        g = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;
        /* IOMMU groups are numbers; anything else is not ours to chase. */
        if (strlen(g) >= group_size || strlen(g) > 16 || strspn(g, "0123456789") != strlen(g))
                return 0;
        memcpy(group, g, strlen(g) + 1);
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

int lifecycle_stop_checked(Device *d, bool force, sd_bus_error *error) {
        int r;

        if (!force) {
                r = check_not_in_use(d, error);
                if (r < 0)
                        return r;
        }
        return lifecycle_stop(d, error);
}

int lifecycle_destroy_checked(Device *d, bool force, sd_bus_error *error) {
        _cleanup_free_ char *msg = NULL, *vm = strdup(device_get_vm(d));
        int r;

        if (!vm)
                return -ENOMEM;
        if (!force) {
                r = check_not_in_use(d, error);
                if (r < 0)
                        return r;
        }
        if (!isempty(vm)) {
                VmHostdev h;

                /* The VM's definition must not keep a hostdev that is gone. */
                device_hostdev(d, &h);
                r = vm_detach(d->manager->libvirt_uri, vm, &h, &msg);
                if (r < 0 && r != -ENOENT && r != -ESRCH)
                        return vm_error(error, r, msg, vm);
        }
        return lifecycle_destroy(d, error);
}

int lifecycle_provision(Manager *m, const char *parent, char ***ret_started, sd_bus_error *error) {
        _cleanup_free_ Device **todo = NULL;
        _cleanup_strv_free_ char **started = NULL;
        size_t n = 0, k = 0;
        Device *d;

        if (!siov_name_is_valid(parent))
                return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT, "invalid parent name");
        if (!hashmap_get(m->parents, parent))
                return sd_bus_error_setf(error, SIOV_ERROR_NO_SUCH_PARENT, "parent %s is not present", parent);

        /* A PF's configuration first: its VFs must exist before the
         * autostart devices made of them. */
        sriov_provision(m, parent);

        todo = calloc(hashmap_size(m->devices) + 1, sizeof(Device *));
        started = calloc(hashmap_size(m->devices) + 1, sizeof(char *));
        if (!todo || !started)
                return -ENOMEM;
        HASHMAP_FOREACH(d, m->devices, i)
                if (device_get_autostart(d) && streq(device_get_parent(d), parent) && !device_is_active(d)) {
                        /* A VF device waits for its VF (the PF's count is
                         * set once its driver binds): not a failure. */
                        if (d->kind == DEVICE_KIND_VF && !d->pf) {
                                log_info("Autostart device %s waits for its VF on %s.", d->uuid, parent);
                                continue;
                        }
                        todo[n++] = d;
                }

        /* Already active ones are skipped: the kernel announces an mdev
         * parent twice (add, then change), and both may ask. */
        for (size_t i = 0; i < n; i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
                char *path = strdup(todo[i]->path);

                if (!path)
                        return -ENOMEM;
                if (materialize(m, todo[i]->spec, &e) < 0) {
                        log_error("Cannot start autostart device %s on %s: %s", todo[i]->uuid, parent, e.message);
                        free(path);
                        continue;
                }
                log_info("Started autostart device %s on %s.", todo[i]->uuid, parent);
                started[k++] = path;
        }
        if (ret_started)
                *ret_started = TAKE_PTR(started);
        return 0;
}
