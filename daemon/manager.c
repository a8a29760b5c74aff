/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libudev.h>

#include "sriov-net.h"
#include "definitions.h"
#include "device.h"
#include "lifecycle.h"
#include "log.h"
#include "manager.h"
#include "metrics.h"
#include "parent.h"
#include "polkit.h"
#include "sriov.h"
#include "vm.h"
#include "vm-job.h"
#include "siov-names.h"
#include "sysfs-queue.h"

int manager_new(Manager **ret, const char *sysfs_root, const char *definitions_dir, UeventSource source) {
        _cleanup_(manager_freep) Manager *m = NULL;
        int r;

        m = calloc(1, sizeof(Manager));
        if (!m)
                return -ENOMEM;
        m->uevent_source = source;
        m->max_reply_size = SIOV_REPLY_SIZE_MAX;
        m->vf_net_transport = &vf_net_kernel_transport;
        m->definitions_dir = strdup(definitions_dir);
        if (!m->definitions_dir)
                return -ENOMEM;

        r = siov_ctx_new(&m->ctx, sysfs_root);
        if (r < 0)
                return log_error_errno(r, "Cannot use sysfs root '%s': %m", strempty(sysfs_root));
        r = siov_ctx_load_vfio_variants(m->ctx);
        if (r < 0)
                log_debug_errno(r, "No VFIO variant drivers from modules.alias: %m");

        m->parents = hashmap_new(parent_free_void);
        m->devices = hashmap_new_keyed(device_free_void, offsetof(Device, uuid));
        m->vf_owners = hashmap_new(NULL);
        m->by_parent = hashmap_new(device_list_free);
        m->strings = hashmap_new(NULL);
        m->mdev_shapes = hashmap_new_keyed(NULL, offsetof(DeviceMdev, key));
        m->dirty_parents = hashmap_new(free);
        m->dirty_mdevs = hashmap_new(free);
        m->dirty_counters = hashmap_new(free);
        m->skipped_definitions = hashmap_new(NULL);
        m->dirty_definitions = hashmap_new(NULL);
        m->refusals = calloc(DEFINITIONS_REFUSALS_MAX, sizeof(RefusedChange));
        m->pf_configs = hashmap_new(NULL);
        m->pf_config_errors = hashmap_new(NULL);
        m->pending = hashmap_new(NULL);
        if (!m->parents || !m->devices || !m->vf_owners || !m->by_parent || !m->strings || !m->mdev_shapes || !m->dirty_parents || !m->dirty_mdevs ||
            !m->dirty_counters ||
            !m->skipped_definitions || !m->dirty_definitions || !m->refusals || !m->pf_configs ||
            !m->pf_config_errors || !m->pending)
                return -ENOMEM;
        m->answer_usec = SIOV_ANSWER_USEC;
        m->libvirt_timeout_usec = SIOV_LIBVIRT_TIMEOUT_USEC;

        r = sd_event_default(&m->event);
        if (r < 0)
                return r;
        r = sysfs_queue_start(m);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the sysfs workers: %m");

        *ret = TAKE_PTR(m);
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        manager_monitor_stop(m);
        sriov_vf_monitor_stop(m);
        sysfs_queue_stop(m);
        /* Operations still waiting for the kernel die with the process. */
        hashmap_free(m->pending);
        hashmap_free(m->tree_read_buckets);
        definitions_free(m);
        free(m->refusals);
        m->metrics = metrics_free(m->metrics);
        sd_event_source_unref(m->rescan_source);
        sd_event_source_disable_unref(m->rescan_timer);
        for (size_t i = 0; i < m->n_rescan_waiting; i++)
                sd_bus_message_unref(m->rescan_waiting[i]);
        free(m->rescan_waiting);
        sd_event_source_unref(m->refresh_source);
        hashmap_free(m->dirty_parents);
        hashmap_free(m->dirty_mdevs);
        hashmap_free(m->dirty_counters);

        /* No signals while tearing down. The maps own their objects. */
        m->exported = false;
        sd_event_source_disable_unref(m->load_source);
        hashmap_free(m->devices);
        hashmap_free(m->by_parent);
        hashmap_free(m->parents);
        hashmap_free(m->vf_owners);
        sriov_configs_clear(m);
        hashmap_free(m->pf_configs);
        hashmap_free(m->pf_config_errors);
        free(m->parents_dir);

        m->polkit_registry = siov_polkit_registry_free(m->polkit_registry);
        sd_bus_flush_close_unref(m->bus);
        sd_event_unref(m->event);
        siov_ctx_unref(m->ctx);
        free(m->definitions_dir);
        free(m->libvirt_uri);
        free(m->idxd_problem);
        /* Every device gave its strings back: the map is empty now. */
        hashmap_free(m->strings);
        hashmap_free(m->mdev_shapes);
        /* A worker still waiting for libvirt owns the connections. */
        if (!vm_job_busy(m))
                vm_close();
        free(m);
        return NULL;
}

typedef struct Interned {
        unsigned n_ref;
        char s[];
} Interned;

const char *manager_intern(Manager *m, const char *s) {
        Interned *i = hashmap_get(m->strings, s);

        if (!i) {
                i = malloc(offsetof(Interned, s) + strlen(s) + 1);
                if (!i)
                        return NULL;
                i->n_ref = 0;
                strcpy(i->s, s);
                if (hashmap_put(m->strings, i->s, i) < 0) {
                        free(i);
                        return NULL;
                }
        }
        i->n_ref++;
        return i->s;
}

void manager_unintern(Manager *m, const char *s) {
        Interned *i;

        if (!s)
                return;
        i = (Interned *) (s - offsetof(Interned, s));
        if (--i->n_ref > 0)
                return;
        hashmap_remove(m->strings, i->s);
        free(i);
}

void manager_set_parent(Manager *m, struct siov_parent *snap) {
        Parent *p = hashmap_get(m->parents, siov_parent_get_name(snap));
        int r;

        if (p) {
                r = parent_update(p, snap);
                if (r < 0)
                        log_warning_errno(r, "Cannot update parent %s: %m", siov_parent_get_name(snap));
                return;
        }
        r = parent_new(m, snap, &p);
        if (r < 0) {
                log_warning_errno(r, "Cannot track parent %s: %m", siov_parent_get_name(snap));
                return;
        }
        /* A parent that appears while siovd runs (hotplug, a module loaded
         * later) gets its autostart devices now. At start-up this is left
         * to the udev rule's ProvisionParent call: restarting siovd must
         * not re-create devices an admin stopped. */
        if (m->exported) {
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

                if (lifecycle_provision(m, p->name, (LifecycleDone) {}, &e) < 0)
                        log_warning("Cannot provision parent %s: %s", p->name, e.message);
        }
}

static void manager_set_mdev(Manager *m, struct siov_mdev *mdev) {
        Device *d = hashmap_get(m->devices, siov_mdev_get_uuid(mdev));
        int r;

        if (d && d->kind == DEVICE_KIND_MDEV) {
                device_update_mdev(d, mdev);
                return;
        }
        if (d) {
                log_warning("mdev %s has the UUID of a VF; not published.", siov_mdev_get_uuid(mdev));
                return;
        }
        r = device_new_mdev(m, mdev, &d);
        if (r < 0) {
                log_warning_errno(r, "Cannot track mdev %s: %m", siov_mdev_get_uuid(mdev));
                return;
        }
        manager_emit_added(m, DEVICE_PATH(d));
}

/* Makes the objects match a full scan. Used at start and by Rescan(). */
static int manager_reconcile(Manager *m, struct siov_model *model) {
        _cleanup_free_ Parent **gone_parents = NULL;
        _cleanup_free_ Device **gone_devices = NULL;
        size_t n_gone_parents = 0, n_gone_devices = 0;
        Parent *p;
        Device *d;

        /* Collect first: the tables must not change while iterating. */
        gone_parents = calloc(hashmap_size(m->parents) + 1, sizeof(Parent *));
        gone_devices = calloc(hashmap_size(m->devices) + 1, sizeof(Device *));
        if (!gone_parents || !gone_devices)
                return -ENOMEM;
        HASHMAP_FOREACH(p, m->parents, i)
                if (!siov_model_find_parent(model, p->name))
                        gone_parents[n_gone_parents++] = p;
        HASHMAP_FOREACH(d, m->devices, i)
                if (device_is_active_mdev(d) && !siov_model_find_mdev(model, d->uuid))
                        gone_devices[n_gone_devices++] = d;

        for (size_t i = 0; i < n_gone_devices; i++)
                device_update_mdev(gone_devices[i], NULL);
        for (size_t i = 0; i < n_gone_parents; i++)
                parent_remove(gone_parents[i]);

        for (size_t i = 0; i < siov_model_get_n_parents(model); i++) {
                manager_set_parent(m, siov_model_get_parent(model, i));
                /* The scan used them; the mdevs' own uevents keep the
                 * counts from now on. */
                siov_parent_forget_devices(siov_model_get_parent(model, i));
        }
        for (size_t i = 0; i < siov_model_get_n_mdevs(model); i++)
                manager_set_mdev(m, siov_model_get_mdev(model, i));
        return 0;
}

int manager_load_definitions(Manager *m) {
        return definitions_load_all(m);
}

/* Says once, when it starts and when it ends, that libaccel-config is left
 * alone because the dsa bus would crash it. */
static void manager_report_idxd_problem(Manager *m) {
        const char *p = siov_ctx_get_idxd_problem(m->ctx);

        if (streq(strempty(p), strempty(m->idxd_problem)))
                return;
        free(m->idxd_problem);
        m->idxd_problem = p ? strdup(p) : NULL;
        if (p)
                log_warning("DSA/IAA devices are not read: libaccel-config would crash on /sys/bus/dsa/devices (%s).", p);
        else
                log_info("DSA/IAA devices are read again.");
}

/* Start-up: the parents, and their mdevs from their types' devices/
 * listings (one readdir per type); each mdev's driver and migratable
 * attribute are read after READY (manager_start_loading()). Nothing is
 * tracked yet, so there is nothing to reconcile. */
static int manager_add_listed(Manager *m, struct siov_model *model) {
        size_t n = 0;
        int r;

        for (size_t i = 0; i < siov_model_get_n_parents(model); i++)
                for (size_t j = 0; j < siov_parent_get_n_types(siov_model_get_parent(model, i)); j++)
                        n += strv_length(siov_type_get_devices(
                                siov_parent_get_type(siov_model_get_parent(model, i), j)));
        r = hashmap_reserve(m->devices, hashmap_size(m->devices) + n);
        if (r < 0)
                return r;

        for (size_t i = 0; i < siov_model_get_n_parents(model); i++) {
                struct siov_parent *snap = siov_model_get_parent(model, i);

                manager_set_parent(m, snap);
                for (size_t j = 0; j < siov_parent_get_n_types(snap); j++) {
                        const struct siov_type *t = siov_parent_get_type(snap, j);

                        for (char * const *u = siov_type_get_devices(t); *u; u++) {
                                r = device_new_mdev_listed(m, *u, siov_parent_get_name(snap), siov_type_get_id(t),
                                                           siov_parent_get_syspath(snap), NULL);
                                /* The first parent listing it wins (a VF's UUID is not an mdev). */
                                if (r == -EEXIST)
                                        log_warning("mdev %s is listed twice, or has the UUID of a VF; "
                                                    "published once.", *u);
                                else if (r < 0)
                                        return r;
                        }
                }
                /* Read: from now on each mdev's uevents say what changes. */
                siov_parent_forget_devices(snap);
        }
        return 0;
}

static int manager_scan(Manager *m, bool listed) {
        struct siov_model *model = NULL;
        int r;

        /* A rescan is asked for after changes siovd may not have seen
         * (accel-config without uevents, lost uevents): read the idxd
         * devices afresh too. */
        siov_ctx_refresh_idxd(m->ctx);
        r = (listed ? siov_scan_parents : siov_scan)(m->ctx, &model);
        if (r < 0)
                return log_error_errno(r, "Scanning sysfs under '%s/' failed: %m", siov_ctx_get_root(m->ctx));
        manager_report_idxd_problem(m);
        r = listed ? manager_add_listed(m, model) : manager_reconcile(m, model);
        siov_model_unref(model);
        if (r < 0)
                return log_error_errno(r, "Cannot reconcile the device model: %m");
        /* sysfs first, then definitions: what exists is never doubted. */
        r = manager_load_definitions(m);
        if (r < 0)
                return r;
        r = manager_load_pf_configs(m);
        if (r < 0)
                return r;
        log_debug("Rescan: %zu parents, %zu devices.", hashmap_size(m->parents), hashmap_size(m->devices));
        return 0;
}

int manager_rescan(Manager *m) {
        return manager_scan(m, false);
}

/* One batch of device_load() per turn, at idle priority: a client that
 * asks for a device meanwhile has it read on the spot. */
static int on_load(sd_event_source *s, void *userdata) {
        Manager *m = userdata;
        size_t n = 0;
        Device *d;

        while (n < SIOV_LOAD_BATCH && m->n_unloaded > 0 && hashmap_iterate(m->devices, &m->load_cursor, (void **) &d))
                if (device_load(d))
                        n++;
        if (n == 0 || m->n_unloaded == 0) {
                /* A full pass: what is left (gone meanwhile, marked for a
                 * re-read) is read when asked for. */
                log_debug("Start-up reads done (%zu left to read on demand).", m->n_unloaded);
                return sd_event_source_set_enabled(s, SD_EVENT_OFF);
        }
        return 0;
}

int manager_start_loading(Manager *m) {
        int r;

        if (m->n_unloaded == 0)
                return 0;
        m->load_cursor = 0;
        r = sd_event_add_defer(m->event, &m->load_source, on_load, m);
        if (r < 0)
                return r;
        return sd_event_source_set_priority(m->load_source, SD_EVENT_PRIORITY_IDLE);
}

static int on_deferred_rescan(sd_event_source *s, void *userdata) {
        Manager *m = userdata;

        m->rescan_source = sd_event_source_unref(m->rescan_source);
        (void) manager_rescan(m);
        return 0;
}

int manager_request_rescan(Manager *m) {
        if (m->rescan_source)
                return 0;
        return sd_event_add_defer(m->event, &m->rescan_source, on_deferred_rescan, m);
}

int manager_startup(Manager *m) {
        int r;

        /* The monitor exists before the first scan: a change during the scan
         * is queued on its socket and handled after, never lost. */
        r = manager_monitor_start(m);
        if (r < 0)
                return r;
        /* An unusable definitions folder never stops siovd: it runs
         * degraded (reads and transient devices only) and says so. */
        definitions_startup(m);
        r = manager_scan(m, true);
        if (r < 0)
                return r;
        log_info("Tracking %zu parents and %zu devices under '%s/'.",
                 hashmap_size(m->parents), hashmap_size(m->devices), siov_ctx_get_root(m->ctx));
        return 0;
}

void manager_refresh_parent(Manager *m, const char *name) {
        struct siov_parent *snap = NULL;
        Parent *p = hashmap_get(m->parents, name);
        int r;

        /* The mdevs are tracked one by one (their uevents): the types'
         * devices/ folders are not listed again. */
        r = siov_parent_read_without_devices(m->ctx, name, &snap);
        if (r == -ENODEV) {
                if (p)
                        parent_remove(p);
                return;
        }
        if (r < 0) {
                log_warning_errno(r, "Cannot read parent %s: %m", name);
                return;
        }
        manager_set_parent(m, snap);
        siov_parent_unref(snap);
}

/* Where an active mdev sits ("" when not active), copied: the device may
 * be freed by the update. */
typedef struct MdevPlace {
        char parent[256], type[256];
} MdevPlace;

static MdevPlace mdev_place(Manager *m, const char *uuid) {
        Device *d = hashmap_get(m->devices, uuid);
        MdevPlace x = {};

        if (d && device_is_active_mdev(d)) {
                snprintf(x.parent, sizeof(x.parent), "%s", d->mdev->parent);
                snprintf(x.type, sizeof(x.type), "%s", d->mdev->type);
        }
        return x;
}

/* An mdev came, went or moved: the available_instances of its parents'
 * types changed (the kernel counts them, siovd does not guess). */
static void mark_counters_if_moved(Manager *m, const MdevPlace *before, const char *uuid) {
        MdevPlace after = mdev_place(m, uuid);

        if (streq(before->parent, after.parent) && streq(before->type, after.type))
                return;
        if (!isempty(before->parent))
                manager_mark_counters(m, before->parent);
        if (!isempty(after.parent))
                manager_mark_counters(m, after.parent);
}

void manager_forget_mdev(Manager *m, const char *uuid) {
        MdevPlace before = mdev_place(m, uuid);
        Device *d = hashmap_get(m->devices, uuid);

        if (!d || d->kind != DEVICE_KIND_MDEV)
                return;
        device_update_mdev(d, NULL);
        mark_counters_if_moved(m, &before, uuid);
}

void manager_refresh_mdev(Manager *m, const char *uuid) {
        MdevPlace before = mdev_place(m, uuid);
        struct siov_mdev *mdev = NULL;
        int r;

        r = siov_mdev_read(m->ctx, uuid, &mdev);
        if (r == -ENODEV) {
                manager_forget_mdev(m, uuid);
                return;
        }
        if (r < 0) {
                log_warning_errno(r, "Cannot read mdev %s: %m", uuid);
                return;
        }
        manager_set_mdev(m, mdev);
        siov_mdev_unref(mdev);
        mark_counters_if_moved(m, &before, uuid);
}

/* The types' available_instances only; the whole parent when that fails
 * (a type went, a file is malformed): the model and sysfs disagree. */
static void manager_refresh_counters(Manager *m, const char *name) {
        Parent *p = hashmap_get(m->parents, name);

        if (p && parent_refresh_available(p) < 0)
                manager_mark_parent(m, name);
}

/* Takes up to max malloc'd names out of a set, into a NULL-terminated
 * array. */
static char **take_names(Hashmap *h, size_t max) {
        size_t n = hashmap_size(h) < max ? hashmap_size(h) : max;
        char **l = calloc(n + 1, sizeof(char *)), *name;
        size_t k = 0;

        if (!l)
                return NULL;
        HASHMAP_FOREACH(name, h, i) {
                if (k == n)
                        break;
                l[k++] = name;
        }
        for (size_t i = 0; i < k; i++)
                hashmap_remove(h, l[i]);
        return l;
}

/* Re-reads what the uevents named, in bounded batches: during a storm
 * (10,000 new mdevs) the rest waits at the bus's priority, so that calls
 * are answered between batches instead of after the whole storm. A batch
 * ends after SIOV_REFRESH_BATCH objects or SIOV_REFRESH_BUDGET_USEC,
 * whichever comes first: a re-read costs what the kernel (or a loaded
 * machine) makes it cost, and a call waits for at most one batch. */
/* The time now, not the loop's iteration time: a batch measures itself. */
static uint64_t now_usec_monotonic(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

static bool refresh_some(Manager *m, Hashmap *set, void (*refresh)(Manager *m, const char *name),
                         uint64_t start, size_t *n) {
        while (hashmap_size(set) > 0) {
                _cleanup_strv_free_ char **names = take_names(set, SIOV_REFRESH_STEP);
                uint64_t now;

                if (!names)
                        return false;
                for (char **x = names; *x; x++) {
                        refresh(m, *x);
                        (*n)++;
                }
                now = now_usec_monotonic();
                if (*n >= SIOV_REFRESH_BATCH || now >= start + SIOV_REFRESH_BUDGET_USEC)
                        break;
        }
        return true;
}

static int on_refresh(sd_event_source *s, void *userdata) {
        Manager *m = userdata;
        uint64_t start = now_usec_monotonic();
        size_t n = 0;
        bool more;

        /* mdevs first: a parent's update then finds its devices current;
         * then the counters their coming and going changed, unless the
         * parent is read whole anyway. */
        if (!refresh_some(m, m->dirty_mdevs, manager_refresh_mdev, start, &n)) {
                log_oom();
                return manager_request_rescan(m);
        }
        if (hashmap_size(m->dirty_mdevs) == 0 &&
            !refresh_some(m, m->dirty_counters, manager_refresh_counters, start, &n)) {
                log_oom();
                return manager_request_rescan(m);
        }
        if (hashmap_size(m->dirty_mdevs) == 0 && hashmap_size(m->dirty_counters) == 0) {
                if (!refresh_some(m, m->dirty_parents, manager_refresh_parent, start, &n)) {
                        log_oom();
                        return manager_request_rescan(m);
                }
                manager_report_idxd_problem(m);
        }
        more = manager_refresh_pending(m) > 0;
        (void) sd_event_source_set_priority(s, more ? SD_EVENT_PRIORITY_NORMAL : SIOV_PRIORITY_REFRESH);
        if (more)
                (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        return 0;
}

static void manager_mark(Manager *m, Hashmap *set, const char *name) {
        char *copy;
        int r;

        if (hashmap_get(set, name))
                return;
        copy = strdup(name);
        if (!copy || hashmap_put(set, copy, copy) < 0) {
                free(copy);
                log_oom();
                (void) manager_request_rescan(m);
                return;
        }
        if (!m->refresh_source) {
                r = sd_event_add_defer(m->event, &m->refresh_source, on_refresh, m);
                if (r >= 0)
                        r = sd_event_source_set_priority(m->refresh_source, SIOV_PRIORITY_REFRESH);
                if (r < 0) {
                        log_warning_errno(r, "Cannot schedule a refresh: %m");
                        return;
                }
        }
        (void) sd_event_source_set_enabled(m->refresh_source, SD_EVENT_ONESHOT);
}

void manager_mark_parent(Manager *m, const char *name) {
        manager_mark(m, m->dirty_parents, name);
}

void manager_mark_mdev(Manager *m, const char *uuid) {
        manager_mark(m, m->dirty_mdevs, uuid);
}

void manager_mark_counters(Manager *m, const char *name) {
        /* A whole re-read reads them too. */
        if (hashmap_get(m->dirty_parents, name))
                return;
        manager_mark(m, m->dirty_counters, name);
}

size_t manager_refresh_pending(const Manager *m) {
        return hashmap_size(m->dirty_parents) + hashmap_size(m->dirty_mdevs) + hashmap_size(m->dirty_counters);
}
