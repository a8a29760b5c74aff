/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Fleet metrics: `siovd --metrics=FILE` keeps FILE, a Prometheus text
 * exposition (node_exporter's textfile collector format: point the
 * collector's --collector.textfile.directory at FILE's folder and name it
 * *.prom), in step with the model:
 *
 *   siovd_info{version}                                  1
 *   siov_type_available_instances{parent,type,kind}      gauge
 *   siov_type_used_instances{parent,type,kind}           gauge: active mdevs of the type, VFs siovd holds
 *   siov_parent_host_usage{parent,kind}                  gauge: netdev, wq-kernel, wq-user, vf-host
 *   siov_parent_broken{parent}                           gauge: 1 when broken
 *   siov_devices{kind,state}                             gauge: every kind × state, zeros too
 *   siov_vfs{parent,user}                                gauge: user host, vm (siovd holds it), free
 *   siov_operations_total{operation}                     counter: changing D-Bus calls by method
 *   siov_operation_failures_total{operation,error}       counter: ... that failed, by error name
 *
 * Every change of the model marks the file stale; a timer rewrites it at
 * most every METRICS_COALESCE_USEC, so a burst of uevents (a create sends
 * three) or a 32-client race costs one write. The write goes to a
 * temporary file in the same folder, then rename(): a scrape sees the old
 * or the new file, never half of one. No fsync: after a crash siovd writes
 * the file anew at start, so durability buys nothing, and the event loop
 * does not wait for the disk.
 *
 * The file's first line marks it as siovd's: siovd refuses to start over a
 * file without it, so a wrong --metrics never overwrites someone's file.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "device.h"
#include "log.h"
#include "metrics.h"
#include "parent.h"
#include "siov-names.h"

#define METRICS_COALESCE_USEC (100ULL * 1000ULL)
#define METRICS_MARK "# siovd metrics"

typedef struct CallCount {
        char *member;
        char *error;            /* NULL: the total of member */
        uint64_t n;
} CallCount;

struct Metrics {
        char *path;
        sd_event_source *timer;
        CallCount *calls;
        size_t n_calls;
};

Metrics *metrics_free(Metrics *x) {
        if (!x)
                return NULL;
        sd_event_source_disable_unref(x->timer);
        for (size_t i = 0; i < x->n_calls; i++) {
                free(x->calls[i].member);
                free(x->calls[i].error);
        }
        free(x->calls);
        free(x->path);
        free(x);
        return NULL;
}

int metrics_new(Manager *m, const char *path, Metrics **ret) {
        _cleanup_fclose_ FILE *f = NULL;
        Metrics *x;
        char line[sizeof(METRICS_MARK)] = "";

        /* Never overwrite a file siovd did not write. */
        f = fopen(path, "re");
        if (f) {
                if (!fgets(line, sizeof(line), f) || !streq(line, METRICS_MARK))
                        return log_error_errno(EEXIST, "Metrics file %s exists and was not written by siovd "
                                               "(its first line is not '%s'): not overwriting it; "
                                               "remove it or choose another path.", path, METRICS_MARK);
        } else if (errno != ENOENT)
                return log_error_errno(errno, "Cannot read metrics file %s: %m", path);

        x = calloc(1, sizeof(Metrics));
        if (!x)
                return log_oom();
        x->path = strdup(path);
        if (!x->path) {
                metrics_free(x);
                return log_oom();
        }
        *ret = x;
        return 0;
}

/* Label values: backslash, double quote and newline escaped. */
static void put_label(FILE *f, const char *name, const char *value, bool first) {
        fprintf(f, "%s%s=\"", first ? "" : ",", name);
        for (const char *c = value; *c; c++)
                if (*c == '\\' || *c == '"')
                        fprintf(f, "\\%c", *c);
                else if (*c == '\n')
                        fputs("\\n", f);
                else
                        fputc(*c, f);
        fputc('"', f);
}

static void put_header(FILE *f, const char *name, const char *type, const char *help) {
        fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int cmp_parent(const void *a, const void *b) {
        return strcmp((*(Parent * const *) a)->name, (*(Parent * const *) b)->name);
}

static uint32_t type_used(const Type *t) {
        uint32_t n = 0;

        if (t->kind == TYPE_KIND_MDEV)
                return t->n_active;
        for (size_t i = 0; i < siov_parent_get_n_vfs(t->parent->snap); i++) {
                const Device *d = hashmap_get(t->parent->manager->devices,
                                              siov_vf_get_uuid(siov_parent_get_vf(t->parent->snap, i)));
                if (d && d->spec)
                        n++;
        }
        return n;
}

static void write_model(Manager *m, FILE *f) {
        static const char * const states[] = { "active", "defined", "both" };
        _cleanup_free_ Parent **ps = NULL;
        uint64_t devices[2][ELEMENTSOF(states)] = {};
        size_t n = 0;
        Parent *p;

        ps = calloc(hashmap_size(m->parents) + 1, sizeof(Parent *));
        if (!ps)
                return;
        HASHMAP_FOREACH(p, m->parents, i)
                ps[n++] = p;
        qsort(ps, n, sizeof(Parent *), cmp_parent);

        put_header(f, "siov_type_available_instances", "gauge",
                   "Instances of a type that can still be created (mdev: available_instances; vf: VFs free for VMs).");
        for (size_t i = 0; i < n; i++)
                for (size_t k = 0; k < ps[i]->n_types; k++) {
                        Type *t = ps[i]->types[k];
                        fputs("siov_type_available_instances{", f);
                        put_label(f, "parent", ps[i]->name, true);
                        put_label(f, "type", t->id, false);
                        put_label(f, "kind", type_kind_to_string(t->kind), false);
                        fprintf(f, "} %" PRIu32 "\n", type_get_available(t));
                }
        put_header(f, "siov_type_used_instances", "gauge",
                   "Instances of a type in use by devices (active mdevs; VFs siovd holds for VMs).");
        for (size_t i = 0; i < n; i++)
                for (size_t k = 0; k < ps[i]->n_types; k++) {
                        Type *t = ps[i]->types[k];
                        fputs("siov_type_used_instances{", f);
                        put_label(f, "parent", ps[i]->name, true);
                        put_label(f, "type", t->id, false);
                        put_label(f, "kind", type_kind_to_string(t->kind), false);
                        fprintf(f, "} %" PRIu32 "\n", type_used(t));
                }
        put_header(f, "siov_parent_host_usage", "gauge",
                   "What the host itself uses of a parent, by kind (netdev, wq-kernel, wq-user, vf-host).");
        for (size_t i = 0; i < n; i++)
                for (int u = 0; u < _SIOV_HOST_USAGE_MAX; u++) {
                        fputs("siov_parent_host_usage{", f);
                        put_label(f, "parent", ps[i]->name, true);
                        put_label(f, "kind", siov_host_usage_to_string(u), false);
                        fprintf(f, "} %" PRIu32 "\n", siov_parent_get_host_usage(ps[i]->snap, u));
                }
        put_header(f, "siov_parent_broken", "gauge", "1 when siovd cannot use the parent (see siovctl status).");
        for (size_t i = 0; i < n; i++) {
                fputs("siov_parent_broken{", f);
                put_label(f, "parent", ps[i]->name, true);
                fprintf(f, "} %d\n", !isempty(siov_parent_get_broken(ps[i]->snap)));
        }
        put_header(f, "siov_vfs", "gauge",
                   "SR-IOV VFs by user: host (a host driver), vm (siovd holds it for a VM), free.");
        for (size_t i = 0; i < n; i++) {
                uint32_t host = 0, vm = 0, free_ = 0;

                if (!(siov_parent_get_kinds(ps[i]->snap) & SIOV_KIND_SRIOV))
                        continue;
                for (size_t k = 0; k < siov_parent_get_n_vfs(ps[i]->snap); k++) {
                        const struct siov_vf *vf = siov_parent_get_vf(ps[i]->snap, k);
                        const Device *vd = hashmap_get(m->devices, siov_vf_get_uuid(vf));

                        if (siov_vf_get_usage(vf) == SIOV_VF_HOST)
                                host++;
                        else if (vd && vd->spec)
                                vm++;
                        else
                                free_++;
                }
                for (int u = 0; u < 3; u++) {
                        fputs("siov_vfs{", f);
                        put_label(f, "parent", ps[i]->name, true);
                        put_label(f, "user", (const char *[]) { "host", "vm", "free" }[u], false);
                        fprintf(f, "} %" PRIu32 "\n", (uint32_t[]) { host, vm, free_ }[u]);
                }
        }

        /* Kept as devices change (device_count()): no walk over them. */
        for (int k = 0; k < 2; k++)
                for (size_t s = 0; s < ELEMENTSOF(states); s++)
                        devices[k][s] = m->device_counts[device_state_from_string(states[s])][k];
        put_header(f, "siov_devices", "gauge", "Devices by kind (mdev, vf) and state (active, defined, both).");
        for (int k = 0; k < 2; k++)
                for (size_t s = 0; s < ELEMENTSOF(states); s++) {
                        fputs("siov_devices{", f);
                        put_label(f, "kind", device_kind_to_string(k), true);
                        put_label(f, "state", states[s], false);
                        fprintf(f, "} %" PRIu64 "\n", devices[k][s]);
                }
}

static void write_calls(Metrics *x, FILE *f) {
        put_header(f, "siov_operations_total", "counter", "Changing D-Bus calls to siovd by method, since it started.");
        for (size_t i = 0; i < x->n_calls; i++)
                if (!x->calls[i].error) {
                        fputs("siov_operations_total{", f);
                        put_label(f, "operation", x->calls[i].member, true);
                        fprintf(f, "} %" PRIu64 "\n", x->calls[i].n);
                }
        put_header(f, "siov_operation_failures_total", "counter",
                   "Changing D-Bus calls that failed, by method and D-Bus error name, since siovd started.");
        for (size_t i = 0; i < x->n_calls; i++)
                if (x->calls[i].error) {
                        fputs("siov_operation_failures_total{", f);
                        put_label(f, "operation", x->calls[i].member, true);
                        put_label(f, "error", x->calls[i].error, false);
                        fprintf(f, "} %" PRIu64 "\n", x->calls[i].n);
                }
}

int metrics_write(Manager *m) {
        Metrics *x = m->metrics;
        _cleanup_free_ char *buf = NULL, *tmp = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        size_t size = 0;
        ssize_t k;
        int fd, r;

        if (!x)
                return 0;
        x->timer = sd_event_source_disable_unref(x->timer);

        f = open_memstream(&buf, &size);
        if (!f)
                return log_oom();
        fputs(METRICS_MARK " (siovd --metrics); rewritten on every change.\n", f);
        put_header(f, "siovd_info", "gauge", "siovd's version.");
        fputs("siovd_info{", f);
        put_label(f, "version", PACKAGE_VERSION, true);
        fputs("} 1\n", f);
        write_model(m, f);
        write_calls(x, f);
        if (fflush(f) != 0 || ferror(f))
                return log_oom();

        if (asprintf(&tmp, "%s.XXXXXX", x->path) < 0) {
                tmp = NULL;
                return log_oom();
        }
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return log_warning_errno(errno, "Cannot write metrics next to %s: %m", x->path);
        /* node_exporter runs as its own user: the file is world-readable. */
        r = fchmod(fd, 0644) < 0 ? -errno : 0;
        for (size_t done = 0; r == 0 && done < size; done += (size_t) k) {
                k = write(fd, buf + done, size - done);
                if (k < 0)
                        r = -errno;
        }
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, x->path) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlink(tmp);
                return log_warning_errno(r, "Cannot write metrics to %s: %m", x->path);
        }
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        (void) metrics_write(userdata);
        return 0;
}

void metrics_changed(Manager *m) {
        Metrics *x = m->metrics;
        int r;

        if (!x || x->timer)
                return;
        r = sd_event_add_time_relative(m->event, &x->timer, CLOCK_MONOTONIC, METRICS_COALESCE_USEC, 0,
                                       on_timer, m);
        if (r < 0) {
                log_warning_errno(r, "Cannot schedule a metrics write, writing now: %m");
                (void) metrics_write(m);
                return;
        }
        (void) sd_event_source_set_priority(x->timer, SD_EVENT_PRIORITY_IDLE);
}

static CallCount *call_count(Metrics *x, const char *member, const char *error) {
        CallCount *c;

        for (size_t i = 0; i < x->n_calls; i++)
                if (streq(x->calls[i].member, member) &&
                    (error ? x->calls[i].error && streq(x->calls[i].error, error) : !x->calls[i].error))
                        return &x->calls[i];
        c = reallocarray(x->calls, x->n_calls + 1, sizeof(CallCount));
        if (!c)
                return NULL;
        x->calls = c;
        c = &x->calls[x->n_calls];
        *c = (CallCount) { strdup(member), error ? strdup(error) : NULL, 0 };
        if (!c->member || (error && !c->error)) {
                free(c->member);
                free(c->error);
                return NULL;
        }
        x->n_calls++;
        return c;
}

void metrics_count_call(Manager *m, const char *member, const sd_bus_error *error) {
        Metrics *x = m->metrics;
        CallCount *c;

        if (!x || !member)
                return;
        c = call_count(x, member, NULL);
        if (c)
                c->n++;
        if (sd_bus_error_is_set(error)) {
                c = call_count(x, member, error->name);
                if (c)
                        c->n++;
        }
        metrics_changed(m);
}
