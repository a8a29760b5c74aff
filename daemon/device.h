/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

#include "manager.h"

typedef enum DeviceKind {
        DEVICE_KIND_MDEV,
        DEVICE_KIND_VF,
} DeviceKind;

/* An mdev (keyed by its UUID) or an SR-IOV VF (keyed by the name-based UUID
 * libsiov derives from its PF and index). It exists while it is active in
 * sysfs or has a persistent definition.
 *
 * spec: what siovd was asked to make (parent, type, attributes, VM,
 * autostart) — the persistent definition when `persistent`, else the
 * request of a transient create (kept for Attributes and VM while siovd
 * runs). NULL for devices siovd found but did not make. Specs are never
 * changed in place: a change makes a new one, so a diff can compare the old
 * and the new. */
struct Device {
        Manager *manager;
        DeviceKind kind;
        char *uuid;
        char *path;

        struct siov_mdev *mdev;         /* active mdev, or NULL */

        struct siov_parent *pf;         /* VF: snapshot of its PF ... */
        size_t vf_index;                /* ... and its position in it */

        struct siov_definition *spec;
        bool persistent;
        /* What <uuid>.json held when siovd last loaded or wrote it: the
         * file is replaced or removed only while it still holds that. */
        siov_definition_stamp stamp;

        DeviceState counted;    /* where Manager.device_counts has it */
};

int device_new_mdev(Manager *m, struct siov_mdev *mdev, Device **ret);
int device_new_vf(Manager *m, struct siov_parent *pf, size_t i, Device **ret);
/* A device known only by its definition (not active). */
int device_new_defined(Manager *m, struct siov_definition *def, Device **ret);
Device *device_free(Device *d);
/* New snapshots; signal the properties that changed. mdev NULL: the mdev
 * is gone (the object goes too unless a definition keeps it). */
void device_update_mdev(Device *d, struct siov_mdev *mdev);
void device_update_vf(Device *d, struct siov_parent *pf, size_t i);
/* Replaces the spec (NULL drops it); signals what changed; removes the
 * object if nothing keeps it any more. Returns false if it was removed. */
bool device_set_spec(Device *d, struct siov_definition *spec, bool persistent);
/* Moves the device to its current State in Manager.device_counts; called
 * wherever its State may change. */
void device_count(Device *d);
DeviceState device_state_from_string(const char *s);
/* Signals removal, drops it from the manager, frees it. */
void device_remove(Device *d);
/* Removes the object if neither sysfs nor a definition keeps it. */
bool device_gc(Device *d);
bool device_is_active(const Device *d);
bool device_get_autostart(const Device *d);
const char *device_get_vm(const Device *d);

const struct siov_vf *device_get_vf(const Device *d);
const char *device_get_parent(const Device *d);
const char *device_get_type(const Device *d);
const char *device_get_state(const Device *d);
/* While a removal waits for the kernel: the process holding the device. */
pid_t device_get_holder(const Device *d);
const char *device_get_address(const Device *d);
const char *device_get_syspath(const Device *d, char *buf, size_t size);
const char *device_get_driver(const Device *d);
bool device_get_host_used(const Device *d);
char * const *device_get_netdevs(const Device *d);
const char *device_kind_to_string(DeviceKind k);

/* device-dbus.c */
extern const sd_bus_vtable device_vtable[];
int device_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found, sd_bus_error *error);
int device_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error);
int device_path(const char *uuid, char **ret);
int device_append_record(Device *d, sd_bus_message *m);
size_t device_reply_size(Device *d, bool object);
