/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "hashmap.h"
#include "siov-macro.h"
#include "libsiov.h"

typedef struct Manager Manager;
typedef struct Parent Parent;
typedef struct Type Type;
typedef struct Device Device;
typedef struct Metrics Metrics;

typedef enum UeventSource {
        UEVENT_SOURCE_AUTO,     /* udev when systemd-udevd runs, else kernel */
        UEVENT_SOURCE_UDEV,
        UEVENT_SOURCE_KERNEL,
} UeventSource;

/* A device's State, for the counts Manager.GetStatus returns. */
typedef enum DeviceState {
        DEVICE_STATE_UNCOUNTED,
        DEVICE_STATE_DEFINED,
        DEVICE_STATE_ACTIVE,
        DEVICE_STATE_BOTH,
        DEVICE_STATE_REMOVING,
        _DEVICE_STATE_MAX,
} DeviceState;

struct Manager {
        sd_event *event;
        sd_bus *bus;
        struct siov_ctx *ctx;

        struct udev *udev;
        struct udev_monitor *monitor;
        sd_event_source *monitor_source;
        UeventSource uevent_source;
        sd_event_source *rescan_source;   /* deferred full rescan after lost uevents */
        /* uevents read, and overflows of the socket (each lost an unknown
         * number): GetStatus reports both, so a storm test can tell a
         * lost uevent from a slow one. */
        uint64_t n_uevents, n_uevent_overflows;

        /* Objects to re-read from sysfs once the queued uevents are all in:
         * a create sends three (the mdev's add and bind, the parent's
         * change), which then cost one read of the parent, not three. */
        Hashmap *dirty_parents;           /* name → malloc'd name */
        Hashmap *dirty_mdevs;             /* uuid → malloc'd uuid */
        /* Parents where only the types' available_instances changed (an
         * mdev came or went): read those files, not the whole parent. */
        Hashmap *dirty_counters;          /* name → malloc'd name */
        sd_event_source *refresh_source;

        Hashmap *parents;       /* name → Parent */
        Hashmap *devices;       /* uuid → Device (mdevs and VFs) */
        /* Devices by State and Kind, kept as they change (device_count()),
         * so that a status is not a walk over 100,000 devices. */
        size_t device_counts[_DEVICE_STATE_MAX][2];
        Hashmap *vf_owners;     /* VF PCI address → Parent (its PF) */
        Hashmap *by_parent;     /* parent name → DeviceList (device.h) */
        /* Parent names, types, sysfs paths and drivers that devices share
         * (manager_intern()): 100,000 mdevs have a few hundred. */
        Hashmap *strings;
        Hashmap *mdev_shapes;   /* key → DeviceMdev (device.h), shared by mdevs */
        /* Where Devices are allocated (device.c); blocks with a free slot
         * first. */
        struct DeviceBlock *device_blocks;
        /* mdevs whose driver and migratable attribute are not read yet
         * (device_load()), and the idle source that reads them. */
        size_t n_unloaded;
        size_t load_cursor;
        sd_event_source *load_source;

        char *definitions_dir;  /* one <uuid>.json per persistent device */
        /* definitions.c: NULL when the folder is usable, else why siovd
         * runs degraded (reads and transient devices only). */
        char *definitions_problem;
        Hashmap *skipped_definitions;     /* file name → SkippedDefinition */
        struct RefusedChange *refusals;   /* the latest, oldest first */
        size_t n_refusals;
        sd_event_source *definitions_watch;       /* inotify on the folder */
        Hashmap *dirty_definitions;       /* uuid → malloc'd uuid: re-read soon */
        bool definitions_reload_all;
        sd_event_source *definitions_defer;
        char *parents_dir;      /* one <pf>.json per persistent PF configuration */
        Hashmap *pf_configs;    /* PF name → struct siov_pf_config (as on disk) */
        Hashmap *pf_config_errors; /* PF name → malloc'd "path: why it was skipped" */
        Hashmap *polkit_registry; /* pending and answered polkit queries */
        struct SysfsQueue *sysfs_queue; /* blocking sysfs writes, off the event loop */
        Hashmap *pending;       /* uuid → PendingOp: a sysfs write for it is under way */
        uint64_t answer_usec;   /* a removal the kernel holds is answered after this */
        sd_bus_message *deferred_call; /* the call whose handler just left it to a worker */

        /* Rescan calls: at most one scan per SIOV_RESCAN_INTERVAL_USEC; the
         * calls that come sooner wait for the next, one scan answers them. */
        uint64_t last_rescan_usec;
        sd_event_source *rescan_timer;
        sd_bus_message **rescan_waiting;
        size_t n_rescan_waiting;
        char *libvirt_uri;      /* NULL: $SIOV_LIBVIRT_URI or qemu:///system */
        uint64_t libvirt_timeout_usec; /* a libvirt call's caller is answered after this (vm-job.h) */
        unsigned n_vm_jobs;     /* libvirt calls queued or under way */
        uint64_t max_reply_size; /* the bus's message limit: larger answers are refused */
        Hashmap *tree_read_buckets; /* uid → TreeReadBucket: whole-tree reads (manager-dbus.c) */
        Metrics *metrics;       /* --metrics=FILE, or NULL */

        /* Objects are exported and the name is owned: changes are signalled.
         * During the first scan nobody can be listening, so no signals. */
        bool exported;

        char *idxd_problem;     /* last reported reason idxd devices are not read */
        /* rtnetlink for VF network settings: the kernel's, or a test's;
         * link notifications tell when a PF's VFs may have changed. */
        const struct VfNetTransport *vf_net_transport;
        struct VfNetMonitor *vf_net_monitor;
        sd_event_source *vf_net_source;
};

int manager_new(Manager **ret, const char *sysfs_root, const char *definitions_dir, UeventSource source);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

int manager_startup(Manager *m);
/* After READY: reads what start-up left out, a batch per idle turn of the
 * loop (calls and uevents go first). */
int manager_start_loading(Manager *m);
#define SIOV_LOAD_BATCH 128

/* A shared copy of s (a reference), NULL when out of memory; each one is
 * given back with manager_unintern() (NULL is fine). */
const char *manager_intern(Manager *m, const char *s);
void manager_unintern(Manager *m, const char *s);
/* Reads all of sysfs again and reconciles every object, signalling what
 * changed. */
int manager_rescan(Manager *m);
int manager_request_rescan(Manager *m);
/* Re-read one object from sysfs and update (or drop) its D-Bus object. */
void manager_refresh_parent(Manager *m, const char *name);
void manager_refresh_mdev(Manager *m, const char *uuid);
/* The mdev is gone (its remove uevent): drop it, count it out. */
void manager_forget_mdev(Manager *m, const char *uuid);
void manager_set_parent(Manager *m, struct siov_parent *snap);
/* Re-read soon: after every queued uevent is seen, before the next D-Bus
 * call is dispatched. */
void manager_mark_parent(Manager *m, const char *name);
void manager_mark_mdev(Manager *m, const char *uuid);
/* An mdev of the parent came or went: its types' available_instances
 * are read again soon (a whole re-read if that fails). */
void manager_mark_counters(Manager *m, const char *name);
/* What is waiting in the three sets above. */
size_t manager_refresh_pending(const Manager *m);

/* Event priorities: uevents are drained first, then the re-reads they
 * asked for, then D-Bus calls, which then see an up-to-date model. */
#define SIOV_PRIORITY_UEVENTS  (-100)
#define SIOV_PRIORITY_REFRESH  (-50)
/* Uevents read, and objects re-read, per dispatch: past that, the rest
 * waits at the bus's priority (a storm does not hold the calls back). */
#define SIOV_UEVENT_BATCH      256
#define SIOV_REFRESH_BATCH     512
/* ... and a batch of re-reads ends once it took this long, checked every
 * SIOV_REFRESH_STEP objects. */
#define SIOV_REFRESH_BUDGET_USEC (UINT64_C(10) * 1000)
#define SIOV_REFRESH_STEP      16
/* Makes the objects match the definitions on disk (definitions.c). */
int manager_load_definitions(Manager *m);
/* Reads the PF configurations again; a file that cannot be used is kept in
 * pf_config_errors (reported, never overwritten). */
int manager_load_pf_configs(Manager *m);

/* monitor.c: uevents in, and the one handler for them (also called by
 * tests). */
int manager_monitor_start(Manager *m);
void manager_handle_uevent(Manager *m, const char *action, const char *devpath, const char *subsystem);
void manager_monitor_stop(Manager *m);

/* dbus-daemon's default max_message_size: it drops a connection that sends
 * a larger message. */
#define SIOV_REPLY_SIZE_MAX (UINT64_C(32) * 1024 * 1024)
/* A caller waits at most this long for a removal the kernel holds (a VM
 * has the device open): then it is told the device is `removing`, and by
 * whom. */
#define SIOV_ANSWER_USEC (UINT64_C(2) * 1000000)
#define SIOV_RESCAN_INTERVAL_USEC (UINT64_C(1) * 1000000)
#define SIOV_RESCAN_WAITING_MAX 1024
/* Whole-tree reads of unprivileged callers, per uid: devices per second,
 * the least a bucket holds, and what a read costs beyond its devices. */
#define SIOV_TREE_READ_RATE 10000
#define SIOV_TREE_READ_BURST 30000.0
#define SIOV_TREE_READ_BASE_COST 100.0

/* manager-dbus.c */
int manager_connect_bus(Manager *m);

/* Signal helpers: no-ops until the objects are exported. */
void manager_emit_added(Manager *m, const char *path);
void manager_emit_removed(Manager *m, const char *path);
void manager_emit_changed(Manager *m, const char *path, const char *interface, char **names);
