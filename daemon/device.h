/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

#include "bus-object.h"
#include "bus-property.h"
#include "manager.h"
#include "siov-names.h"

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
/* An active mdev's parent, type, parent sysfs path, driver and migratable
 * attribute: one shared, reference-counted record per distinct combination
 * (Manager.mdev_shapes), so 100,000 mdevs of 200 types keep a few hundred. */
typedef struct DeviceMdev {
        const char *parent;
        const char *type;
        const char *home;               /* the parent's sysfs path; the mdev is <home>/<uuid> */
        /* NULL: not read yet. Start-up reads only which mdevs each type
         * lists; the driver and the migratable attribute come after READY
         * in small batches, or first when a client asks (device_load()). */
        const char *driver;
        bool migratable;
        unsigned n_ref;
        char key[];                     /* then the strings above */
} DeviceMdev;

/* The devices of one parent (by device_get_parent()), kept current by
 * device_count(): per-parent work without a walk over every device. */
typedef struct DeviceList {
        char *parent;
        Device **items;
        size_t n, allocated;
} DeviceList;

/* 96 bytes, allocated in blocks (device.c): 100,000 of them are the bulk
 * of siovd's memory. */
struct Device {
        Manager *manager;
        union {
                const DeviceMdev *mdev;         /* mdev: NULL while not active */
                struct siov_parent *pf;         /* VF: snapshot of its PF ... */
        };

        struct siov_definition *spec;
        /* What <uuid>.json held when siovd last loaded or wrote it: the
         * file is replaced or removed only while it still holds that. */
        siov_definition_stamp stamp;

        DeviceList *listed;     /* where Manager.by_parent has it ... */
        uint32_t listed_pos;    /* ... and at which position */
        uint32_t vf_index;      /* VF: its position in pf */
        uint8_t kind;           /* DeviceKind */
        uint8_t counted;        /* DeviceState: where Manager.device_counts has it */
        bool persistent;
        char uuid[SIOV_UUID_STRING_MAX];
};

/* org.siov1.Device, one row per property (bus-property.h); o is a
 * const Device *. */
#define DEVICE_PROPERTIES(X)                                                                    \
        X(Uuid,       STR,   CONST,        o->uuid)                                             \
        X(Kind,       STR,   CONST,        device_kind_to_string(o->kind))                      \
        X(Parent,     STR,   EMITS_CHANGE, device_get_parent(o))                                \
        X(Type,       STR,   EMITS_CHANGE, device_get_type(o))                                  \
        X(State,      STR,   EMITS_CHANGE, device_get_state(o))                                 \
        X(Persistent, BOOL,  EMITS_CHANGE, o->persistent)                                       \
        X(Autostart,  BOOL,  EMITS_CHANGE, device_get_autostart(o))                             \
        X(VM,         STR,   EMITS_CHANGE, device_get_vm(o))                                    \
        X(Attributes, ATTRS, EMITS_CHANGE, o->spec)                                             \
        X(Address,    STR,   EMITS_CHANGE, device_get_address(o))                               \
        X(SysfsPath,  PATH,  EMITS_CHANGE, device_get_syspath(o))                               \
        X(Driver,     STR,   EMITS_CHANGE, device_get_driver(o))                                \
        X(HostUsed,   BOOL,  EMITS_CHANGE, device_get_host_used(o))                             \
        X(Netdevs,    STRV,  EMITS_CHANGE, device_get_netdevs(o))                             \
        X(Migratable, BOOL,  EMITS_CHANGE, device_get_migratable(o))                            \
        X(VgpuType,   U32,   EMITS_CHANGE, siov_vf_get_vgpu_current(device_get_vf(o)))          \
        X(VgpuCreatableTypes, VGPU, EMITS_CHANGE, device_get_vf(o))                            \
        X(HolderPID,  U32,   EMITS_CHANGE, (uint32_t) device_get_holder(o))                     \
        X(VfMac,      MAC,   EMITS_CHANGE, device_get_vf_mac(o))                                \
        X(VfVlan,     U32,   EMITS_CHANGE, device_get_vf_vlan(o))                               \
        X(VfQos,      U32,   EMITS_CHANGE, device_get_vf_qos(o))                                \
        X(VfLinkState, STR,  EMITS_CHANGE, device_get_vf_link_state(o))                         \
        X(VfSpoofCheck, STR, EMITS_CHANGE, device_get_vf_spoofchk(o))                           \
        X(VfTrust,    STR,   EMITS_CHANGE, device_get_vf_trust(o))                                \
        X(Owner,      STR,   EMITS_CHANGE, device_get_owner(o))
/* The rows a PF's report of its VFs feeds (parent_vf_net_refresh). */
#define DEVICE_VF_NET_PROPERTY_NAMES                                                            \
        (char *) "VfMac", (char *) "VfVlan", (char *) "VfQos", (char *) "VfLinkState",          \
        (char *) "VfSpoofCheck", (char *) "VfTrust"

/* A VF's MAC address as its PF reports it ("" when not reported). */
typedef struct MacBuf {
        char s[SIOV_VF_MAC_STRING_MAX];
} MacBuf;
#define BUS_KIND_MAC_TYPE               MacBuf
#define BUS_KIND_MAC_SIG                "s"
#define BUS_KIND_MAC_EQUAL(a, b)        streq((a).s, (b).s)
#define BUS_KIND_MAC_APPEND(m, v)       sd_bus_message_append_basic((m), 's', (v).s)

/* Takes the device out of Manager.by_parent (device_count() files it). */
void device_unlist(Device *d);
void device_list_free(void *l);
/* The devices of parent, or NULL when it has none. */
const DeviceList *manager_parent_devices(Manager *m, const char *parent);
#define DEVICE_LIST_FOREACH(d, list, i) \
        for (size_t i = 0; (list) && i < (list)->n && ((d) = (list)->items[i], true); i++)

/* The attributes of the device's spec: a(ss) in order. */
#define BUS_KIND_ATTRS_TYPE             const struct siov_definition *
#define BUS_KIND_ATTRS_SIG              "a(ss)"
#define BUS_KIND_ATTRS_EQUAL(a, b)      device_attrs_equal((a), (b))
#define BUS_KIND_ATTRS_APPEND(m, v)     device_append_attrs((m), (v))
bool device_attrs_equal(const struct siov_definition *a, const struct siov_definition *b);

/* An NVIDIA vGPU VF's creatable types: a(us) (id, name), [] otherwise. */
#define BUS_KIND_VGPU_TYPE              const struct siov_vf *
#define BUS_KIND_VGPU_SIG               "a(us)"
#define BUS_KIND_VGPU_EQUAL(a, b)       device_vgpu_types_equal((a), (b))
#define BUS_KIND_VGPU_APPEND(m, v)      device_append_vgpu_types((m), (v))
bool device_vgpu_types_equal(const struct siov_vf *a, const struct siov_vf *b);
int device_append_vgpu_types(sd_bus_message *m, const struct siov_vf *vf);

/* What a client sees of a device. Strings point into the snapshots and
 * specs the device holds: a caller keeps the old ones alive until the
 * diff is done. */
typedef struct DeviceValues {
        DEVICE_PROPERTIES(BUS_PROPERTY_FIELD)
} DeviceValues;
#define DEVICE_N_PROPERTIES (0 DEVICE_PROPERTIES(BUS_PROPERTY_COUNT))
DeviceValues device_values(const Device *o);
/* Names of the properties that differ, NULL-terminated in changed
 * (DEVICE_N_PROPERTIES + 1 entries); returns how many. */
size_t device_values_diff(const DeviceValues *a, const DeviceValues *b, const char **changed);

int device_new_mdev(Manager *m, struct siov_mdev *mdev, Device **ret);
/* An mdev found in its type's devices/ listing: its driver and migratable
 * attribute are read later (device_load()). */
int device_new_mdev_listed(Manager *m, const char *uuid, const char *parent, const char *type, const char *home,
                           Device **ret);
/* Reads what start-up left for later, before anything shows it. True
 * when there was something to read. */
bool device_load(Device *d);
int device_new_vf(Manager *m, struct siov_parent *pf, size_t i, Device **ret);
/* A device known only by its definition (not active). */
int device_new_defined(Manager *m, struct siov_definition *def, Device **ret);
Device *device_free(Device *d);
/* Tests: how many blocks the devices are allocated from. */
size_t device_debug_blocks(const Manager *m);
/* For maps that own their devices. */
void device_free_void(void *d);
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
bool device_is_active_mdev(const Device *d);
bool device_get_autostart(const Device *d);
const char *device_get_vm(const Device *d);
/* The program that asked for it (CreateDevice's `owner`), "" when none. */
const char *device_get_owner(const Device *d);

const struct siov_vf *device_get_vf(const Device *d);
const char *device_get_parent(const Device *d);
const char *device_get_type(const Device *d);
const char *device_get_state(const Device *d);
/* While a removal waits for the kernel: the process holding the device. */
pid_t device_get_holder(const Device *d);
const char *device_get_address(const Device *d);
PathBuf device_get_syspath(const Device *d);
const char *device_get_driver(const Device *d);
bool device_get_host_used(const Device *d);
bool device_get_migratable(const Device *d);    /* an active mdev offering VFIO migration */
char * const *device_get_netdevs(const Device *d);
const char *device_kind_to_string(DeviceKind k);
/* A VF's network state as its PF's driver reports it (rtnetlink, read
 * lazily per PF): "" / 0 when unknown, not a VF, or the PF has no netdev.
 * Link state "auto", "enable", "disable"; spoofchk and trust "on", "off". */
MacBuf device_get_vf_mac(const Device *d);
uint32_t device_get_vf_vlan(const Device *d);
uint32_t device_get_vf_qos(const Device *d);
const char *device_get_vf_link_state(const Device *d);
const char *device_get_vf_spoofchk(const Device *d);
const char *device_get_vf_trust(const Device *d);

/* device-dbus.c */
extern const BusObjectImplementation device_object;
int device_append_attrs(sd_bus_message *m, const struct siov_definition *spec);
/* The object path, /org/siov1/device/<uuid as sd_bus_path_encode()
 * escapes it>, made when needed: 100,000 devices do not keep one each.
 * DEVICE_PATH(d) lives until the end of the full expression. */
typedef struct DevicePath {
        char s[sizeof(SIOV_DBUS_DEVICE_PREFIX) + 1 + 3 * SIOV_UUID_STRING_MAX];
} DevicePath;
DevicePath device_object_path(const char *uuid);
#define DEVICE_PATH(d) (device_object_path((d)->uuid).s)
/* Manager.ListDevices' record of one device (see device-dbus.c). */
#define DEVICE_RECORD_SIGNATURE "osssssbbsa(ss)sssbas"
#define DEVICE_RECORD_N 14
int device_append_record(Device *d, sd_bus_message *m);
size_t device_reply_size(Device *d, bool object);
/* The signature of each property, in table order, NULL-terminated. */
extern const char *const device_property_signatures[];
