/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

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
        bool force;
        const LifecycleAttr *attrs;     /* written in order after create */
        size_t n_attrs;
        bool autostart_set, attrs_set;  /* given at all (for Modify) */
} LifecycleOptions;

/* Every function sets `error` to a named org.siov1.Error with a message
 * that names the object and says what to do, and returns its errno. */

/* Finds the type (a full id, or a unique short form such as "1dwq") and,
 * without a parent, the parent with the most available instances of it
 * (ties by name; NULL if none offers it). */
int lifecycle_resolve(Manager *m, const char *parent, const char *type,
                      Parent **ret_parent, const char **ret_type, sd_bus_error *error);

int lifecycle_create(Manager *m, const char *parent, const char *type, const char *uuid,
                     const LifecycleOptions *o, Device **ret, sd_bus_error *error);
int lifecycle_define(Manager *m, const char *parent, const char *type, const char *uuid,
                     const LifecycleOptions *o, Device **ret, sd_bus_error *error);
int lifecycle_start(Device *d, sd_bus_error *error);
/* d may be freed by these (a transient device goes with its mdev). */
int lifecycle_stop(Device *d, sd_bus_error *error);
int lifecycle_destroy(Device *d, sd_bus_error *error);
int lifecycle_undefine(Device *d, sd_bus_error *error);
/* autostart: -1 unchanged, 0/1; set_attrs: replace the list with attrs. */
int lifecycle_modify(Device *d, int autostart, bool set_attrs, const LifecycleAttr *attrs, size_t n_attrs,
                     sd_bus_error *error);
/* Adds the device to a libvirt domain's definition (and live when it runs)
 * and records it; Unassign undoes it. */
int lifecycle_assign(Device *d, const char *vm, sd_bus_error *error);
int lifecycle_unassign(Device *d, sd_bus_error *error);
/* Stop and Destroy check this: refused (Busy) when a running VM uses the
 * device that siovd assigned, unless force. */
int lifecycle_stop_checked(Device *d, bool force, sd_bus_error *error);
int lifecycle_destroy_checked(Device *d, bool force, sd_bus_error *error);

/* Starts the autostart definitions of a present parent that are not
 * active; ret_started: their object paths. */
int lifecycle_provision(Manager *m, const char *parent, char ***ret_started, sd_bus_error *error);

/* 1 when a process (QEMU) holds the device's VFIO group open: group set to
 * its number, *ret_pid to the holder (0 when not found); 0 when not. */
int lifecycle_vfio_holder(Manager *m, Device *d, char *group, size_t group_size, pid_t *ret_pid);
