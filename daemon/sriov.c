/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * SR-IOV physical functions: the VF count and autoprobe. Order of a change:
 * validate → check every VF that would go → change sysfs (0 first, then
 * N) → re-read the PF (VF objects come and go, TotalVFs/NumVFs signal) →
 * start the PF's autostart VF devices.
 *
 * The sriov_numvfs write runs on the main loop: the kernel creates or
 * removes the VFs inside it (milliseconds per VF on real hardware, longer
 * when a VF driver's remove waits). TODO(issue 11): run it on the per-parent
 * worker once that lands.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "lifecycle.h"
#include "log.h"
#include "manager.h"
#include "sriov.h"
#include "siov-names.h"

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

int sriov_set_numvfs(Parent *p, uint32_t n, bool force, sd_bus_error *error) {
        Manager *m = p->manager;
        _cleanup_free_ char *name = strdup(p->name), *list = NULL, *msg = NULL;
        uint32_t cur, total;
        size_t n_way = 0, n_host = 0;
        int r;

        if (!name)
                return -ENOMEM;
        if (!(siov_parent_get_kinds(p->snap) & SIOV_KIND_SRIOV))
                return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT,
                                         "parent %s is not an SR-IOV physical function", name);
        cur = siov_parent_get_num_vfs(p->snap);
        total = siov_parent_get_total_vfs(p->snap);
        if (n > total)
                return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT,
                                         "PF %s supports at most %u VFs (sriov_totalvfs); %u asked",
                                         name, total, n);
        if (n == cur)
                return 0;

        if (cur > 0) {
                r = vfs_in_the_way(p, force, &list, &n_way, &n_host);
                if (r < 0)
                        return r;
                if (n_way > 0)
                        return sd_bus_error_setf(error, SIOV_ERROR_BUSY,
                                                 "cannot change the VF count of %s from %u to %u: the kernel "
                                                 "removes every VF first, and %zu VF%s in the way: %s%s",
                                                 name, cur, n, n_way, n_way == 1 ? " is" : "s are", list,
                                                 n_host > 0 ? " (--force ignores host use, never VMs)" : "");
        }

        if (cur > 0) {
                r = siov_pf_set_numvfs(m->ctx, name, 0, &msg);
                if (r < 0) {
                        manager_refresh_parent(m, name);
                        return sd_bus_error_setf(error, SIOV_ERROR_KERNEL_ERROR, "%s", msg ?: strerror(-r));
                }
        }
        if (n > 0) {
                r = siov_pf_set_numvfs(m->ctx, name, n, &msg);
                if (r < 0) {
                        _cleanup_free_ char *back = NULL;
                        const char *hint = r == -ENOENT ? " (no driver is bound to the PF: its driver enables SR-IOV)" : "";
                        int k = 0;

                        /* Put the count back that we took away. */
                        if (cur > 0)
                                k = siov_pf_set_numvfs(m->ctx, name, cur, &back);
                        manager_refresh_parent(m, name);
                        if (cur == 0)
                                return sd_bus_error_setf(error, SIOV_ERROR_KERNEL_ERROR, "%s%s",
                                                         msg ?: strerror(-r), hint);
                        if (k >= 0)
                                return sd_bus_error_setf(error, SIOV_ERROR_KERNEL_ERROR,
                                                         "%s%s; the previous %u VFs were re-created",
                                                         msg ?: strerror(-r), hint, cur);
                        return sd_bus_error_setf(error, SIOV_ERROR_KERNEL_ERROR,
                                                 "%s%s; re-creating the previous %u VFs failed too: %s",
                                                 msg ?: strerror(-r), hint, cur, back ?: strerror(-k));
                }
        }
        log_info("Changed the VF count of %s from %u to %u%s.", name, cur, n, force ? " (forced)" : "");
        manager_refresh_parent(m, name);

        /* New VFs: the autostart VF devices of this PF come back, as when
         * the PF itself appears. */
        if (n > 0 && hashmap_get(m->parents, name)) {
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

                if (lifecycle_provision(m, name, NULL, &e) < 0)
                        log_warning("Cannot start the autostart devices of %s: %s", name, e.message);
        }
        return 0;
}

int sriov_set_autoprobe(Parent *p, bool on, sd_bus_error *error) {
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
        r = siov_pf_set_autoprobe(m->ctx, name, on, &msg);
        manager_refresh_parent(m, name);
        if (r < 0)
                return sd_bus_error_setf(error, SIOV_ERROR_KERNEL_ERROR, "%s", msg ?: strerror(-r));
        log_info("Set sriov_drivers_autoprobe of %s to %d.", name, on);
        return 0;
}
