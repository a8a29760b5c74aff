/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * SR-IOV physical functions: the VF count and autoprobe. Order of a change:
 * validate → check every VF that would go → change sysfs (0 first, then
 * N) → re-read the PF (VF objects come and go, TotalVFs/NumVFs signal) →
 * start the PF's autostart VF devices.
 *
 * The sriov_numvfs writes run on the PF's sysfs worker (sysfs-queue.h):
 * the kernel creates or removes the VFs inside them (milliseconds per VF
 * on real hardware, as long as a VF driver's remove waits), and the event
 * loop answers other clients meanwhile. Every refusal is decided before
 * the writes; the objects change, and the caller is answered, after them.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "lifecycle.h"
#include "log.h"
#include "manager.h"
#include "sriov.h"
#include "siov-names.h"
#include "sysfs-queue.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct siov_pf_config *, siov_pf_config_unref);

static void config_restore(Manager *m, const char *pf, struct siov_pf_config *old);

static int append_reason(char **buf, const char *fmt, ...) _printf_(2, 3);
static int append_reason(char **buf, const char *fmt, ...) {
        _cleanup_free_ char *s = NULL;
        va_list ap;
        char *j;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        if (asprintf(&j, "%s%s%s", strempty(*buf), *buf ? "; " : "", s) < 0)
                return -ENOMEM;
        free(*buf);
        *buf = j;
        return 0;
}

/* Every VF that removing all VFs would take from someone, with why, into
 * *ret (NULL: none in the way). *ret_host: how many only because of host
 * use (what force skips). */
static int vfs_in_the_way(Parent *p, bool force, char **ret, size_t *ret_n, size_t *ret_host) {
        Manager *m = p->manager;
        _cleanup_free_ char *list = NULL;
        size_t n = 0, host = 0;
        int r;

        for (size_t i = 0; i < siov_parent_get_n_vfs(p->snap); i++) {
                const struct siov_vf *vf = siov_parent_get_vf(p->snap, i);
                const char *addr = siov_vf_get_address(vf);
                Device *d = hashmap_get(m->devices, siov_vf_get_uuid(vf));
                _cleanup_free_ char *why = NULL, *host_use = NULL;
                char group[64] = "";
                pid_t pid = 0;

                if (d && d->kind != DEVICE_KIND_VF)
                        d = NULL;
                if (d && !isempty(device_get_vm(d)))
                        r = append_reason(&why, "assigned to VM %s as device %s", device_get_vm(d), d->uuid);
                else if (d && d->spec && device_is_active(d))
                        r = append_reason(&why, "held by siovd as device %s (stop or destroy it first)", d->uuid);
                else
                        r = 0;
                if (r < 0)
                        return r;
                /* A VM siovd does not know of (a hostdev added by hand). */
                if (d && siov_vf_get_usage(vf) == SIOV_VF_VFIO &&
                    lifecycle_vfio_holder(m, d, group, sizeof(group), &pid) > 0) {
                        r = append_reason(&why, "opened through VFIO by process %d (/dev/vfio/%s)", (int) pid, group);
                        if (r < 0)
                                return r;
                }
                if (!why && siov_vf_get_usage(vf) == SIOV_VF_HOST) {
                        r = siov_vf_get_host_use(m->ctx, addr, &host_use);
                        if (r < 0 && r != -ENOMEM)
                                log_debug_errno(r, "Cannot tell how the host uses VF %s: %m", addr);
                        else if (r < 0)
                                return r;
                        if (r > 0 && force) {
                                log_info("VF %s of %s is used by the host (driver %s: %s); going on as forced.",
                                         addr, p->name, siov_vf_get_driver(vf), host_use);
                                continue;
                        }
                        if (r > 0) {
                                r = append_reason(&why, "used by the host: driver %s, %s",
                                                  siov_vf_get_driver(vf), host_use);
                                if (r < 0)
                                        return r;
                                host++;
                        }
                }
                if (!why)
                        continue;
                r = append_reason(&list, "vf%u %s: %s", siov_vf_get_index(vf), addr, why);
                if (r < 0)
                        return r;
                n++;
        }
        *ret = TAKE_PTR(list);
        *ret_n = n;
        *ret_host = host;
        return 0;
}

/* A change of sriov_numvfs under way: the writes run on the PF's worker
 * (the kernel creates or removes every VF inside the write), the event
 * loop goes on meanwhile; m->pending holds it under "numvfs:<pf>", so a
 * second change of the same PF is Busy and "writes-pending" counts it. */
typedef struct NumvfsOp {
        PendingOp pending;
        char pf[256];
        uint32_t from, to;
        bool force;
        bool from_config;               /* provisioning, not a call: log the outcome */
        struct siov_pf_config *old_config; /* persistent: what to put back on failure */
        bool config_changed;
        LifecycleDone done;
        int undo_r;                     /* the failed N write: re-creating `from` VFs */
        char *undo_msg;
} NumvfsOp;

static NumvfsOp *numvfs_op_free(NumvfsOp *op) {
        if (!op)
                return NULL;
        siov_pf_config_unref(op->old_config);
        free(op->undo_msg);
        free(op);
        return NULL;
}

static void numvfs_key(const char *pf, char key[static SIOV_UUID_STRING_MAX]) {
        snprintf(key, SIOV_UUID_STRING_MAX, "numvfs:%s", pf);
}

/* Busy while a VF count change of the PF is under way. */
static int numvfs_refuse_pending(Parent *p, sd_bus_error *error) {
        char key[SIOV_UUID_STRING_MAX];

        numvfs_key(p->name, key);
        if (hashmap_get(p->manager->pending, key))
                return sd_bus_error_setf(error, SIOV_ERROR_BUSY,
                                         "the VF count of %s is being changed; try again when that is done", p->name);
        return 0;
}

/* In the worker: the kernel only goes 0→N and N→0. */
static int numvfs_work(struct siov_ctx *ctx, SysfsJob *j) {
        NumvfsOp *op = j->userdata;
        int r;

        if (op->from > 0) {
                r = siov_pf_set_numvfs(ctx, op->pf, 0, &j->msg);
                if (r < 0)
                        return r;
        }
        if (op->to > 0) {
                r = siov_pf_set_numvfs(ctx, op->pf, op->to, &j->msg);
                /* Put the count back that we took away. */
                if (r < 0 && op->from > 0)
                        op->undo_r = siov_pf_set_numvfs(ctx, op->pf, op->from, &op->undo_msg);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The autostart VF devices are started (or their failures logged): the
 * VF count changed, so the caller is answered with success. */
static void numvfs_provisioned(Manager *m, int r, const sd_bus_error *error, char **paths, void *userdata) {
        NumvfsOp *op = userdata;

        if (op->done.fn)
                op->done.fn(m, 0, NULL, NULL, op->done.userdata);
        numvfs_op_free(op);
}

/* In the event loop: the objects follow the kernel (VFs come and go,
 * NumVFs signals), then the caller is answered. */
static void numvfs_done(Manager *m, SysfsJob *j) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        NumvfsOp *op = j->userdata;
        const char *msg = j->msg ?: strerror(-j->r);
        int r = j->r;

        (void) hashmap_remove(m->pending, op->pending.uuid);
        manager_refresh_parent(m, op->pf);
        if (r < 0) {
                const char *hint = r == -ENOENT && op->to > 0 ?
                        " (no driver is bound to the PF: its driver enables SR-IOV)" : "";

                if (op->from == 0 || op->to == 0)
                        sd_bus_error_setf(&e, SIOV_ERROR_KERNEL_ERROR, "%s%s", msg, hint);
                else if (op->undo_r >= 0)
                        sd_bus_error_setf(&e, SIOV_ERROR_KERNEL_ERROR, "%s%s; the previous %u VFs were re-created",
                                          msg, hint, op->from);
                else
                        sd_bus_error_setf(&e, SIOV_ERROR_KERNEL_ERROR,
                                          "%s%s; re-creating the previous %u VFs failed too: %s",
                                          msg, hint, op->from, op->undo_msg ?: strerror(-op->undo_r));
                if (op->config_changed)
                        config_restore(m, op->pf, op->old_config);
                if (op->from_config)
                        log_error("Cannot create the %u VFs of PF %s from its configuration: %s",
                                  op->to, op->pf, e.message);
        } else {
                log_info("Changed the VF count of %s from %u to %u%s.", op->pf, op->from, op->to,
                         op->force ? " (forced)" : op->from_config ? " (its configuration)" : "");
                /* New VFs: the autostart VF devices of this PF come back,
                 * as when the PF itself appears, before the caller is
                 * answered, so that what it sees next is the final state
                 * (when provisioning, the provisioning goes on in done). */
                if (op->to > 0 && !op->from_config && hashmap_get(m->parents, op->pf)) {
                        _cleanup_(sd_bus_error_free) sd_bus_error pe = SD_BUS_ERROR_NULL;

                        if (lifecycle_provision(m, op->pf, (LifecycleDone) { numvfs_provisioned, op }, &pe) >= 0)
                                return;
                        log_warning("Cannot start the autostart devices of %s: %s", op->pf,
                                    pe.message ?: "out of memory");
                }
        }
        if (op->done.fn)
                op->done.fn(m, r, &e, NULL, op->done.userdata);
        numvfs_op_free(op);
}

/* Checks on the event loop (nothing is written when refused: the caller
 * puts its configuration back), then the writes on the PF's worker; done
 * is called once they are over (at once when n is the count already).
 * old_config/config_changed: a persistent change already saved, which
 * done puts back if the kernel refuses. */
static int apply_numvfs(Parent *p, uint32_t n, bool force, bool from_config, struct siov_pf_config *old_config,
                        bool config_changed, LifecycleDone done, sd_bus_error *error) {
        Manager *m = p->manager;
        _cleanup_free_ char *list = NULL;
        char key[SIOV_UUID_STRING_MAX];
        size_t n_way = 0, n_host = 0;
        uint32_t cur, total;
        NumvfsOp *op;
        SysfsJob *j;
        int r;

        if (!(siov_parent_get_kinds(p->snap) & SIOV_KIND_SRIOV))
                return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT,
                                         "parent %s is not an SR-IOV physical function", p->name);
        cur = siov_parent_get_num_vfs(p->snap);
        total = siov_parent_get_total_vfs(p->snap);
        if (n > total)
                return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT,
                                         "PF %s supports at most %u VFs (sriov_totalvfs); %u asked",
                                         p->name, total, n);
        r = numvfs_refuse_pending(p, error);
        if (r < 0)
                return r;
        numvfs_key(p->name, key);
        if (n == cur) {
                if (done.fn)
                        done.fn(m, 0, NULL, NULL, done.userdata);
                return 0;
        }

        if (cur > 0) {
                r = vfs_in_the_way(p, force, &list, &n_way, &n_host);
                if (r < 0)
                        return r;
                if (n_way > 0)
                        return sd_bus_error_setf(error, SIOV_ERROR_BUSY,
                                                 "cannot change the VF count of %s from %u to %u: the kernel "
                                                 "removes every VF first, and %zu VF%s in the way: %s%s",
                                                 p->name, cur, n, n_way, n_way == 1 ? " is" : "s are", list,
                                                 n_host > 0 ? " (--force ignores host use, never VMs)" : "");
        }

        op = calloc(1, sizeof(*op));
        j = calloc(1, sizeof(*j));
        if (!op || !j) {
                free(op);
                free(j);
                return -ENOMEM;
        }
        snprintf(op->pending.uuid, sizeof(op->pending.uuid), "%s", key);
        op->pending.what = "VF count change";
        snprintf(op->pf, sizeof(op->pf), "%s", p->name);
        op->from = cur;
        op->to = n;
        op->force = force;
        op->from_config = from_config;
        op->old_config = old_config ? siov_pf_config_ref(old_config) : NULL;
        op->config_changed = config_changed;
        op->done = done;
        snprintf(j->parent, sizeof(j->parent), "%s", p->name);
        j->work = numvfs_work;
        j->done = numvfs_done;
        j->userdata = op;
        r = sysfs_queue_submit_pending(m, j, op->pending.uuid, &op->pending);
        if (r < 0) {
                free(j);
                numvfs_op_free(op);
                return r;
        }
        return 0;
}

static int apply_autoprobe(Parent *p, bool on, sd_bus_error *error) {
        Manager *m = p->manager;
        _cleanup_free_ char *name = strdup(p->name), *msg = NULL;
        int r;

        if (!name)
                return -ENOMEM;
        if (!(siov_parent_get_kinds(p->snap) & SIOV_KIND_SRIOV))
                return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT,
                                         "parent %s is not an SR-IOV physical function", name);
        if (siov_parent_get_autoprobe(p->snap) == (int) on)
                return 0;
        /* Autoprobe decides who binds the VFs being made: not meanwhile. */
        r = numvfs_refuse_pending(p, error);
        if (r < 0)
                return r;
        r = siov_pf_set_autoprobe(m->ctx, name, on, &msg);
        manager_refresh_parent(m, name);
        if (r < 0)
                return sd_bus_error_setf(error, SIOV_ERROR_KERNEL_ERROR, "%s", msg ?: strerror(-r));
        log_info("Set sriov_drivers_autoprobe of %s to %d.", name, on);
        return 0;
}

/* ---- persistent configuration ------------------------------------------- */

struct siov_pf_config *sriov_config_get(Manager *m, const char *pf) {
        return hashmap_get(m->pf_configs, pf);
}

/* pf_config_errors values are "<pf>\0<path>: <reason>": the value owns its key. */
const char *sriov_config_error(Manager *m, const char *pf) {
        const char *e = hashmap_get(m->pf_config_errors, pf);
        return e ? e + strlen(e) + 1 : NULL;
}

static void signal_config(Manager *m, const char *pf) {
        Parent *p = hashmap_get(m->parents, pf);

        if (p)
                manager_emit_changed(m, p->path, SIOV_DBUS_PARENT_INTERFACE,
                                     (char *[]) { (char *) "PersistentNumVFs", (char *) "PersistentAutoprobe", NULL });
}

/* Takes c (NULL: none) as what the file of pf holds now. */
static void config_set(Manager *m, const char *pf, struct siov_pf_config *c) {
        struct siov_pf_config *old = hashmap_remove(m->pf_configs, pf);
        bool same = siov_pf_config_equal(old, c);

        siov_pf_config_unref(old);
        if (c && hashmap_put(m->pf_configs, siov_pf_config_get_pf(c), c) < 0) {
                log_oom();
                siov_pf_config_unref(c);
        }
        if (!same)
                signal_config(m, pf);
}

static void errors_clear(Manager *m) {
        _cleanup_free_ char **l = calloc(hashmap_size(m->pf_config_errors) + 1, sizeof(char *));
        size_t n = 0;
        char *e;

        if (!l)
                return (void) log_oom();
        HASHMAP_FOREACH(e, m->pf_config_errors, i)
                l[n++] = e;
        for (size_t i = 0; i < n; i++) {
                hashmap_remove(m->pf_config_errors, l[i]);
                free(l[i]);
        }
}

void sriov_configs_clear(Manager *m) {
        _cleanup_free_ struct siov_pf_config **l = calloc(hashmap_size(m->pf_configs) + 1, sizeof(void *));
        struct siov_pf_config *c;
        size_t n = 0;

        errors_clear(m);
        if (!l)
                return (void) log_oom();
        HASHMAP_FOREACH(c, m->pf_configs, i)
                l[n++] = c;
        for (size_t i = 0; i < n; i++) {
                hashmap_remove(m->pf_configs, siov_pf_config_get_pf(l[i]));
                siov_pf_config_unref(l[i]);
        }
}

static void on_config_error(const char *path, const char *pf, const char *reason, void *userdata) {
        Manager *m = userdata;
        char *e = NULL;
        int n;

        log_warning("Skipping PF configuration %s (kept as it is): %s", path, reason);
        if (!siov_pci_address_is_valid(pf) || hashmap_get(m->pf_config_errors, pf))
                return;
        n = asprintf(&e, "%s%c%s: %s", pf, 0, path, reason);
        if (n < 0 || hashmap_put(m->pf_config_errors, e, e) < 0) {
                free(n < 0 ? NULL : e);
                log_oom();
        }
}

int manager_load_pf_configs(Manager *m) {
        struct siov_pf_config **l = NULL, *c;
        _cleanup_free_ char **gone = NULL;
        size_t n = 0, n_gone = 0;
        int r;

        if (!m->parents_dir)
                return 0;
        errors_clear(m);
        r = siov_pf_configs_load(m->parents_dir, &l, &n, on_config_error, m);
        if (r < 0) {
                log_warning_errno(r, "Cannot read the PF configurations in %s: %m", m->parents_dir);
                return 0;
        }
        /* Files removed by hand. */
        gone = calloc(hashmap_size(m->pf_configs) + 1, sizeof(char *));
        if (!gone) {
                siov_pf_configs_free(l, n);
                return -ENOMEM;
        }
        HASHMAP_FOREACH(c, m->pf_configs, i) {
                bool still = false;

                for (size_t j = 0; j < n && !still; j++)
                        still = streq(siov_pf_config_get_pf(l[j]), siov_pf_config_get_pf(c));
                if (!still)
                        gone[n_gone++] = (char *) siov_pf_config_get_pf(c);
        }
        for (size_t i = 0; i < n_gone; i++) {
                char pf[32];

                snprintf(pf, sizeof(pf), "%s", gone[i]);
                config_set(m, pf, NULL);
        }
        for (size_t i = 0; i < n; i++)
                config_set(m, siov_pf_config_get_pf(l[i]), siov_pf_config_ref(l[i]));
        siov_pf_configs_free(l, n);
        return 0;
}

/* Writes the PF's configuration with numvfs and/or autoprobe changed (-1:
 * unchanged); *ret_old: what was there before (to put back), NULL if none.
 * A file siovd could not read is never replaced. */
static int config_update(Manager *m, const char *pf, int numvfs, int autoprobe,
                         struct siov_pf_config **ret_old, bool *ret_changed, sd_bus_error *error) {
        _cleanup_(siov_pf_config_unrefp) struct siov_pf_config *c = NULL;
        struct siov_pf_config *old = sriov_config_get(m, pf);
        _cleanup_free_ char *msg = NULL;
        int r;

        *ret_old = NULL;
        *ret_changed = false;
        if (sriov_config_error(m, pf))
                return sd_bus_error_setf(error, SIOV_ERROR_ALREADY_EXISTS,
                                         "the configuration of PF %s cannot be read, so siovd keeps it and does "
                                         "not replace it: %s; fix or remove the file, then Rescan",
                                         pf, sriov_config_error(m, pf));
        r = old ? siov_pf_config_copy(old, &c) : siov_pf_config_new(&c, pf);
        if (r < 0)
                return r;
        if (numvfs >= 0)
                r = siov_pf_config_set_numvfs(c, numvfs);
        if (r >= 0 && autoprobe >= 0)
                r = siov_pf_config_set_autoprobe(c, autoprobe);
        if (r < 0)
                return r;
        if (siov_pf_config_equal(c, old))
                return 0;
        r = siov_pf_config_save(m->parents_dir, c, &msg);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_IO_ERROR, "cannot save the configuration of PF %s: %s",
                                         pf, msg ?: strerror(-r));
        *ret_old = siov_pf_config_ref(old);
        *ret_changed = true;
        config_set(m, pf, TAKE_PTR(c));
        return 0;
}

/* After a refused change: the file as it was. */
static void config_restore(Manager *m, const char *pf, struct siov_pf_config *old) {
        _cleanup_free_ char *msg = NULL;
        int r;

        r = old ? siov_pf_config_save(m->parents_dir, old, &msg) : siov_pf_config_delete(m->parents_dir, pf, &msg);
        if (r < 0) {
                log_error("Cannot put back the configuration of PF %s: %s", pf, msg ?: strerror(-r));
                return;
        }
        config_set(m, pf, siov_pf_config_ref(old));
}

/* One change (numvfs or autoprobe, the other -1), with persistent: the file
 * first, put back when sysfs refuses. A refusal of the request itself
 * (not a PF, over TotalVFs) comes from apply_* before any file is touched.
 * done: numvfs only (autoprobe is one quick attribute write, made here). */
static int set_pf(Parent *p, int numvfs, int autoprobe, bool force, bool persistent, LifecycleDone done,
                  sd_bus_error *error) {
        Manager *m = p->manager;
        _cleanup_(siov_pf_config_unrefp) struct siov_pf_config *old = NULL;
        _cleanup_free_ char *name = strdup(p->name);
        bool changed = false;
        int r;

        if (!name)
                return -ENOMEM;
        if (persistent && (siov_parent_get_kinds(p->snap) & SIOV_KIND_SRIOV) &&
            (numvfs < 0 || (uint32_t) numvfs <= siov_parent_get_total_vfs(p->snap))) {
                r = config_update(m, name, numvfs, autoprobe, &old, &changed, error);
                if (r < 0)
                        return r;
        }
        r = numvfs >= 0 ? apply_numvfs(p, (uint32_t) numvfs, force, false, old, changed, done, error) :
                          apply_autoprobe(p, autoprobe, error);
        if (r < 0 && changed)
                config_restore(m, name, old);
        return r;
}

int sriov_set_numvfs(Parent *p, uint32_t n, bool force, bool persistent, LifecycleDone done, sd_bus_error *error) {
        if (n > INT32_MAX)      /* no PF has that many; apply_numvfs names the limit */
                return apply_numvfs(p, n, force, false, NULL, false, done, error);
        return set_pf(p, (int) n, -1, force, persistent, done, error);
}

int sriov_set_autoprobe(Parent *p, bool on, bool persistent, sd_bus_error *error) {
        return set_pf(p, -1, on, false, persistent, (LifecycleDone) {}, error);
}

int sriov_provision(Manager *m, const char *pf, LifecycleDone then) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        struct siov_pf_config *c = sriov_config_get(m, pf);
        Parent *p = hashmap_get(m->parents, pf);
        int want, r;
        uint32_t cur;

        if (!c || !p || !(siov_parent_get_kinds(p->snap) & SIOV_KIND_SRIOV))
                return 0;
        want = siov_pf_config_get_autoprobe(c);
        if (want >= 0) {
                r = apply_autoprobe(p, want, &e);
                if (r < 0)
                        log_error("Cannot set the autoprobe of PF %s from its configuration: %s", pf, e.message);
                sd_bus_error_free(&e);
        }
        p = hashmap_get(m->parents, pf);
        want = siov_pf_config_get_numvfs(c);
        if (!p || want < 0)
                return 0;
        cur = siov_parent_get_num_vfs(p->snap);
        if (cur == (uint32_t) want)
                return 0;
        if (isempty(siov_parent_get_driver(p->snap))) {
                /* The udev rule asks again at the PF's "bind". */
                log_info("PF %s has no driver yet: its %d VFs are made when one binds.", pf, want);
                return 0;
        }
        if (cur > 0) {
                /* Someone chose this count after boot: not ours to undo. */
                log_warning("PF %s has %u VFs, its configuration says %d: left as it is "
                            "(siovctl sriov %s --numvfs %d changes it).", pf, cur, want, pf, want);
                return 0;
        }
        /* Made on the PF's worker; `then` once the VFs are there. */
        r = apply_numvfs(p, (uint32_t) want, false, true, NULL, false, then, &e);
        if (r < 0) {
                log_error("Cannot create the %d VFs of PF %s from its configuration: %s", want, pf, e.message);
                return 0;
        }
        return 1;
}

/* For the per-VF settings (sriov-vf.c), which keep the same files. */
void sriov_config_replace(Manager *m, const char *pf, struct siov_pf_config *c) {
        config_set(m, pf, c);
}
