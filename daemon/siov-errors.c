/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "device.h"
#include "parent.h"
#include "siov-errors.h"

const sd_bus_error_map siov_error_map[] = {
        SD_BUS_ERROR_MAP(SIOV_ERROR_NO_SUCH_PARENT,   ENODEV),
        SD_BUS_ERROR_MAP(SIOV_ERROR_NO_SUCH_TYPE,     ENOENT),
        SD_BUS_ERROR_MAP(SIOV_ERROR_NO_SUCH_DEVICE,   ENXIO),
        SD_BUS_ERROR_MAP(SIOV_ERROR_NO_CAPACITY,      ENOSPC),
        SD_BUS_ERROR_MAP(SIOV_ERROR_ALREADY_EXISTS,   EEXIST),
        SD_BUS_ERROR_MAP(SIOV_ERROR_BUSY,             EBUSY),
        SD_BUS_ERROR_MAP(SIOV_ERROR_INVALID_ARGUMENT, EINVAL),
        SD_BUS_ERROR_MAP(SIOV_ERROR_KERNEL_ERROR,     EIO),
        SD_BUS_ERROR_MAP(SIOV_ERROR_NOT_AUTHORIZED,   EACCES),
        SD_BUS_ERROR_MAP(SIOV_ERROR_NOT_AUTHORIZED,   EPERM),
        SD_BUS_ERROR_MAP(SIOV_ERROR_LIMITS_EXCEEDED,  EMSGSIZE),
        SD_BUS_ERROR_MAP(SIOV_ERROR_DEFINITIONS_UNAVAILABLE, EROFS),
        SD_BUS_ERROR_MAP(SIOV_ERROR_LIBVIRT_ERROR,    ENOTCONN),
        SD_BUS_ERROR_MAP_END
};

int siov_errors_register(void) {
        return sd_bus_error_add_map(siov_error_map);
}

char *siov_names_join(const char **names, size_t n) {
        char *buf = NULL;
        size_t len = 0, shown = 0;

        strv_sort(names, n);
        for (size_t i = 0; i < n; i++) {
                if (i > 0 && streq(names[i], names[i - 1]))
                        continue;
                if (shown == 12) {
                        (void) strextendf(&buf, &len, ", ...");
                        break;
                }
                if (strextendf(&buf, &len, "%s%s", shown ? ", " : "", names[i]) < 0)
                        break;
                shown++;
        }
        return buf ?: strdup("none");
}

int siov_error_no_such(sd_bus_error *error, const char *error_name, const char *what, const char *wanted,
                       const char **known, size_t n_known) {
        _cleanup_free_ char *list = NULL;

        for (size_t i = 0; i < n_known; i++)
                if (strcasecmp(known[i], wanted) == 0)
                        return sd_bus_error_setf(error, error_name, "no such %s '%s'; did you mean '%s'?",
                                                 what, wanted, known[i]);
        list = siov_names_join(known, n_known);
        if (!list)
                return -ENOMEM;
        return sd_bus_error_setf(error, error_name, "no such %s '%s' (known: %s)", what, wanted, list);
}

int siov_error_no_such_parent(Manager *m, const char *parent, sd_bus_error *error) {
        _cleanup_free_ const char **known = calloc(hashmap_size(m->parents) + 1, sizeof(char *));
        size_t n = 0;
        Parent *p;

        if (!known)
                return -ENOMEM;
        HASHMAP_FOREACH(p, m->parents, i)
                known[n++] = p->name;
        return siov_error_no_such(error, SIOV_ERROR_NO_SUCH_PARENT, "parent", parent, known, n);
}

int siov_error_no_capacity(Manager *m, Parent *p, const char *type, sd_bus_error *error) {
        _cleanup_free_ char *usage = NULL;
        struct siov_pool pool;
        size_t len = 0;
        Device *d;
        struct { const char *type; unsigned n; } counts[64];
        size_t n_counts = 0;
        uint32_t avail = 0;
        Type *t = parent_find_type(p, type);

        if (t)
                avail = type_get_available(t);

        /* What holds the pool: mdevs by type, then the host. */
        DEVICE_LIST_FOREACH(d, manager_parent_devices(m, p->name), i) {
                size_t k;

                if (!device_is_active_mdev(d))
                        continue;
                for (k = 0; k < n_counts && !streq(counts[k].type, device_get_type(d)); k++)
                        ;
                if (k == n_counts) {
                        if (n_counts == ELEMENTSOF(counts))
                                continue;
                        counts[n_counts++] = (typeof(counts[0])) { device_get_type(d), 0 };
                }
                counts[k].n++;
        }
        if (siov_parent_get_idxd(p->snap)) {
                const struct siov_idxd *x = siov_parent_get_idxd(p->snap);
                const char *sep = "";
                size_t n_disabled = 0;

                /* A DSA/IAA device: say which WQs hold what, by name, so
                 * the admin knows what to change with accel-config. */
                (void) strextendf(&usage, &len, "its %zu work queues are used by ", siov_idxd_get_n_wqs(x));
                if (n_counts == 0)
                        (void) strextendf(&usage, &len, "no mdevs, ");
                for (size_t k = 0; k < n_counts; k++)
                        (void) strextendf(&usage, &len, "%u %s mdev%s, ", counts[k].n, counts[k].type,
                                      counts[k].n == 1 ? "" : "s");
                (void) strextendf(&usage, &len, "%u host kernel and %u host user work queue%s",
                              siov_parent_get_host_usage(p->snap, SIOV_HOST_WQ_KERNEL),
                              siov_parent_get_host_usage(p->snap, SIOV_HOST_WQ_USER),
                              siov_parent_get_host_usage(p->snap, SIOV_HOST_WQ_USER) == 1 ? "" : "s");
                for (size_t i = 0; i < siov_idxd_get_n_wqs(x); i++) {
                        const struct siov_wq *wq = siov_idxd_get_wq(x, i);

                        if (siov_wq_get_state(wq) == SIOV_WQ_STATE_DISABLED) {
                                n_disabled++;
                                continue;
                        }
                        (void) strextendf(&usage, &len, "%s%s %s, %s, %s%s%s%s",
                                      *sep ? sep : "; in the way: ", siov_wq_get_name(wq),
                                      siov_wq_mode_to_string(siov_wq_get_mode(wq)),
                                      siov_wq_type_to_string(siov_wq_get_type(wq)),
                                      siov_wq_state_to_string(siov_wq_get_state(wq)),
                                      isempty(siov_wq_get_driver(wq)) ? "" : " (",
                                      siov_wq_get_driver(wq),
                                      isempty(siov_wq_get_driver(wq)) ? "" : ")");
                        sep = "; ";
                }
                if (n_disabled > 0) {
                        (void) strextendf(&usage, &len, "; disabled (not configured for mdevs): ");
                        sep = "";
                        for (size_t i = 0; i < siov_idxd_get_n_wqs(x); i++)
                                if (siov_wq_get_state(siov_idxd_get_wq(x, i)) == SIOV_WQ_STATE_DISABLED) {
                                        (void) strextendf(&usage, &len, "%s%s", sep,
                                                      siov_wq_get_name(siov_idxd_get_wq(x, i)));
                                        sep = ", ";
                                }
                }
                (void) strextendf(&usage, &len, ". accel-config can disable or reconfigure them");
        } else if (siov_parent_get_pool(p->snap, &pool)) {
                (void) strextendf(&usage, &len, "its %u work queues are used by ", pool.total);
                if (n_counts == 0)
                        (void) strextendf(&usage, &len, "no mdevs, ");
                for (size_t k = 0; k < n_counts; k++)
                        (void) strextendf(&usage, &len, "%u %s mdev%s, ", counts[k].n, counts[k].type,
                                      counts[k].n == 1 ? "" : "s");
                (void) strextendf(&usage, &len, "%u host netdev%s, %u host work queue%s; %u free",
                              pool.host_netdev, pool.host_netdev == 1 ? "" : "s",
                              pool.host_wq, pool.host_wq == 1 ? "" : "s", pool.free);
        } else {
                (void) strextendf(&usage, &len, "in use: ");
                if (n_counts == 0)
                        (void) strextendf(&usage, &len, "no mdevs");
                for (size_t k = 0; k < n_counts; k++)
                        (void) strextendf(&usage, &len, "%s%u %s mdev%s", k ? ", " : "", counts[k].n,
                                      counts[k].type, counts[k].n == 1 ? "" : "s");
                for (int u = 0; u < _SIOV_HOST_USAGE_MAX; u++) {
                        uint32_t v = siov_parent_get_host_usage(p->snap, u);
                        if (v > 0)
                                (void) strextendf(&usage, &len, ", %u %s", v, siov_host_usage_to_string(u));
                }
        }
        return sd_bus_error_setf(error, SIOV_ERROR_NO_CAPACITY,
                                 "parent %s has %u available %s instances: %s",
                                 p->name, avail, type, strempty(usage));
}
