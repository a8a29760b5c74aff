/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

#include "device.h"
#include "parent.h"

typedef struct LifecycleAttr {
        const char *name;
        const char *value;
} LifecycleAttr;

typedef struct LifecycleOptions {
        bool persistent;
        bool autostart;                 /* implies persistent */
        const char *vm;                 /* libvirt domain, or NULL */
        const char *owner;              /* the program that asked (Device.Owner), or NULL */
        bool force;
        const LifecycleAttr *attrs;     /* written in order after create */
        size_t n_attrs;
        bool autostart_set, attrs_set;  /* given at all (for Modify) */
        /* A VF's network settings (vf_mac, vf_vlan, …), applied on its PF
         * before it goes to VFIO; only when vf_net_set. */
        struct siov_vf_net vf_net;
        bool vf_net_set;
} LifecycleOptions;

/* A sysfs write under way for a device (m->pending, keyed by uuid). */
typedef struct PendingOp {
        char uuid[SIOV_UUID_STRING_MAX];
        const char *what;       /* "created", "removed", ... */
        char group[20];         /* a removal: the device's IOMMU group, or "" */
        pid_t holder;           /* a removal the kernel holds: who holds it, once asked */
} PendingOp;

/* Operations that write sysfs (create, start, stop, destroy, provision)
 * hand the write to a worker of the parent (sysfs-queue.h) and finish
 * later: they return <0 with `error` set when refused before the kernel
 * was asked, and `done` is not called; else they return 0 and `done.fn`
 * (if set) is called exactly once, from the event loop, possibly before
 * they return. paths: the device (create, start) or the devices started
 * (provision); NULL otherwise. */
typedef struct LifecycleDone {
        void (*fn)(Manager *m, int r, const sd_bus_error *error, char **paths, void *userdata);
        void *userdata;
} LifecycleDone;

/* Every function sets `error` to a named org.siov1.Error with a message
 * that names the object and says what to do, and returns its errno. */

/* Finds the type (a full id, or a unique short form such as "1dwq") and,
 * without a parent, the parent with the most available instances of it
 * (ties by name; NULL if none offers it). */
int lifecycle_resolve(Manager *m, const char *parent, const char *type,
                      Parent **ret_parent, const char **ret_type, sd_bus_error *error);

/* For polkit's details: the index of the VF a create of type on parent
 * (with uuid, or "" for the lowest free one) would take now, as a string
 * ("" when not a VF create or none is free). */
void lifecycle_vf_candidate(Manager *m, const char *parent, const char *type, const char *uuid,
                            char buf[static 16]);

int lifecycle_create(Manager *m, const char *parent, const char *type, const char *uuid,
                     const LifecycleOptions *o, LifecycleDone done, sd_bus_error *error);
/* done gets the device's path; without a VM it is called before this
 * returns, with one after libvirt answered (vm-job.h). */
int lifecycle_define(Manager *m, const char *parent, const char *type, const char *uuid,
                     const LifecycleOptions *o, LifecycleDone done, sd_bus_error *error);
int lifecycle_start(Device *d, LifecycleDone done, sd_bus_error *error);
int lifecycle_undefine(Device *d, sd_bus_error *error);
/* autostart: -1 unchanged, 0/1; set_attrs: replace the list with attrs. */
int lifecycle_modify(Device *d, int autostart, bool set_attrs, const LifecycleAttr *attrs, size_t n_attrs,
                     sd_bus_error *error);
/* Adds the device to a libvirt domain's definition (and live when it runs)
 * and records it; Unassign undoes it. Both finish (done) once libvirt
 * answered, off the event loop, or did not within its time (vm-job.h);
 * paths is NULL. */
int lifecycle_assign(Device *d, const char *vm, LifecycleDone done, sd_bus_error *error);
int lifecycle_unassign(Device *d, LifecycleDone done, sd_bus_error *error);
/* Stop and Destroy check this: refused (Busy) when a running VM uses the
 * device that siovd assigned, unless force. */
int lifecycle_stop_checked(Device *d, bool force, LifecycleDone done, sd_bus_error *error);
int lifecycle_destroy_checked(Device *d, bool force, LifecycleDone done, sd_bus_error *error);
/* Busy when a sysfs write for the device is under way. */
int lifecycle_refuse_pending(Manager *m, const char *uuid, sd_bus_error *error);
/* A removal still under way: the process holding the device's VFIO group
 * (0 if none found); recorded for the HolderPID property. */
pid_t lifecycle_removal_holder(Manager *m, const char *uuid);

/* Starts the autostart definitions of a present parent that are not
 * active; done gets the object paths of those started. */
int lifecycle_provision(Manager *m, const char *parent, LifecycleDone done, sd_bus_error *error);

/* The number of the device's IOMMU group into group ("7": /dev/vfio/7),
 * "" if it has none. Reads one link: not for every device of a listing. */
void lifecycle_device_vfio_group(Manager *m, Device *d, char *group, size_t group_size);

/* 1 when a process (QEMU) holds the device's VFIO group open: group set to
 * its number, *ret_pid to the holder (0 when not found); 0 when not. */
int lifecycle_vfio_holder(Manager *m, Device *d, char *group, size_t group_size, pid_t *ret_pid);
