/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "bus-object.h"
#include "bus-property.h"
#include "manager.h"

/* A parent: an mdev parent, an SR-IOV PF, or both. Its types are child
 * objects; its VFs are Device objects. State is the latest libsiov
 * snapshot; the D-Bus getters read from it. */
struct Parent {
        Manager *manager;
        char *name;
        char *path;
        struct siov_parent *snap;
        Type **types;           /* sorted by id */
        size_t n_types;
        /* Its VFs' network settings as the PF's driver reports them
         * (sriov-net.c): read when first asked, again when the PF
         * changes or siovd set some. */
        struct VfNetState *vf_net;
        size_t n_vf_net;
        bool vf_net_valid;
};

typedef enum TypeKind {
        TYPE_KIND_MDEV,
        TYPE_KIND_VF,           /* the synthetic "vf" type of an SR-IOV PF */
} TypeKind;

struct Type {
        Parent *parent;
        TypeKind kind;
        char *id;
        char *path;
        struct siov_type *snap; /* borrowed from parent->snap; NULL for "vf" */
        /* mdev: available_instances, from the snapshot or read again alone
         * after a create or remove (parent_refresh_available()). */
        uint32_t available;
        /* mdev: its active mdevs, counted as they come and go
         * (parent_count_mdev()), not listed. */
        uint32_t n_active;
};

/* org.siov1.Parent, one row per property (bus-property.h); o is a
 * const Parent *. */
#define PARENT_PROPERTIES(X)                                                                    \
        X(Name,      STR,        CONST,        siov_parent_get_name(o->snap))                   \
        X(Kinds,     KINDS,      EMITS_CHANGE, siov_parent_get_kinds(o->snap))                  \
        X(Driver,    STR,        EMITS_CHANGE, siov_parent_get_driver(o->snap))                 \
        X(Subsystem, STR,        EMITS_CHANGE, siov_parent_get_subsystem(o->snap))              \
        X(SysfsPath, STR,        EMITS_CHANGE, siov_parent_get_syspath(o->snap))                \
        X(Resources, RESOURCES,  EMITS_CHANGE, o->snap)                                         \
        X(HostUsage, HOST_USAGE, EMITS_CHANGE, o->snap)                                         \
        X(Netdevs,   STRV,       EMITS_CHANGE, siov_parent_get_netdevs(o->snap))                \
        X(TotalVFs,  U32,        EMITS_CHANGE, siov_parent_get_total_vfs(o->snap))              \
        X(NumVFs,    U32,        EMITS_CHANGE, siov_parent_get_num_vfs(o->snap))                \
        X(Broken,    STR,        EMITS_CHANGE, siov_parent_get_broken(o->snap))                 \
        X(Autoprobe, BOOL,       EMITS_CHANGE, siov_parent_get_autoprobe(o->snap) > 0)          \
        X(PersistentNumVFs, I32, EMITS_CHANGE,                                                  \
          siov_pf_config_get_numvfs(sriov_config_get(o->manager, o->name)))                     \
        X(PersistentAutoprobe, I32, EMITS_CHANGE,                                               \
          siov_pf_config_get_autoprobe(sriov_config_get(o->manager, o->name)))                  \
        X(IdxdDevice, STR,       EMITS_CHANGE, siov_idxd_get_name(siov_parent_get_idxd(o->snap))) \
        X(IdxdState, STR,        EMITS_CHANGE, siov_idxd_get_state(siov_parent_get_idxd(o->snap))) \
        X(WorkQueues, WORK_QUEUES, EMITS_CHANGE, siov_parent_get_idxd(o->snap))                 \
        X(IdxdGroups, IDXD_GROUPS, EMITS_CHANGE, siov_parent_get_idxd(o->snap))                 \
        X(NumaNode,  I32,        EMITS_CHANGE, siov_parent_get_numa_node(o->snap))

/* org.siov1.Type; o is a const Type *. */
#define TYPE_PROPERTIES(X)                                                                      \
        X(Id,                 STR, CONST,        o->id)                                         \
        X(Kind,               STR, CONST,        type_kind_to_string(o->kind))                  \
        X(Parent,             STR, CONST,        o->parent->name)                               \
        X(Name,               STR, EMITS_CHANGE, type_get_name(o))                              \
        X(Description,        STR, EMITS_CHANGE, type_get_description(o))                       \
        X(DeviceApi,          STR, EMITS_CHANGE, type_get_device_api(o))                        \
        X(AvailableInstances, U32, EMITS_CHANGE, type_get_available(o))                         \
        X(Broken,             STR, EMITS_CHANGE, type_get_broken(o))                            \
        X(MigrationVersion,   STR, EMITS_CHANGE, type_get_migration_version(o))

/* The parent's own value kinds: "as" of kind names, and two a{su}
 * dictionaries read from the snapshot. */
#define BUS_KIND_KINDS_TYPE             unsigned
#define BUS_KIND_KINDS_SIG              "as"
#define BUS_KIND_KINDS_EQUAL(a, b)      ((a) == (b))
#define BUS_KIND_KINDS_APPEND(m, v)     parent_append_kinds((m), (v))
#define BUS_KIND_RESOURCES_TYPE         const struct siov_parent *
#define BUS_KIND_RESOURCES_SIG          "a{su}"
#define BUS_KIND_RESOURCES_EQUAL(a, b)  parent_pool_equal((a), (b))
#define BUS_KIND_RESOURCES_APPEND(m, v) parent_append_resources((m), (v))
#define BUS_KIND_HOST_USAGE_TYPE        const struct siov_parent *
#define BUS_KIND_HOST_USAGE_SIG         "a{su}"
#define BUS_KIND_HOST_USAGE_EQUAL(a, b) parent_host_usage_equal((a), (b))
#define BUS_KIND_HOST_USAGE_APPEND(m, v) parent_append_host_usage((m), (v))

#define BUS_KIND_WORK_QUEUES_TYPE       const struct siov_idxd *
#define BUS_KIND_WORK_QUEUES_SIG        "a(ssssssuii)"
#define BUS_KIND_WORK_QUEUES_EQUAL(a, b) parent_wqs_equal((a), (b))
#define BUS_KIND_WORK_QUEUES_APPEND(m, v) parent_append_work_queues((m), (v))
#define BUS_KIND_IDXD_GROUPS_TYPE       const struct siov_idxd *
#define BUS_KIND_IDXD_GROUPS_SIG        "a(sasas)"
#define BUS_KIND_IDXD_GROUPS_EQUAL(a, b) parent_idxd_groups_equal((a), (b))
#define BUS_KIND_IDXD_GROUPS_APPEND(m, v) parent_append_idxd_groups((m), (v))

bool parent_pool_equal(const struct siov_parent *a, const struct siov_parent *b);
bool parent_wqs_equal(const struct siov_idxd *a, const struct siov_idxd *b);
bool parent_idxd_groups_equal(const struct siov_idxd *a, const struct siov_idxd *b);
bool parent_host_usage_equal(const struct siov_parent *a, const struct siov_parent *b);

/* What a client sees of a parent or a type, to signal what changed. */
typedef struct ParentValues {
        PARENT_PROPERTIES(BUS_PROPERTY_FIELD)
} ParentValues;
typedef struct TypeValues {
        TYPE_PROPERTIES(BUS_PROPERTY_FIELD)
} TypeValues;
ParentValues parent_values(const Parent *o);
TypeValues type_values(const Type *o);
/* The names of the properties that differ, NULL-terminated in changed
 * (PARENT_N_PROPERTIES + 1 / TYPE_N_PROPERTIES + 1 entries); returns how
 * many. */
#define PARENT_N_PROPERTIES (0 PARENT_PROPERTIES(BUS_PROPERTY_COUNT))
#define TYPE_N_PROPERTIES (0 TYPE_PROPERTIES(BUS_PROPERTY_COUNT))
size_t parent_values_diff(const ParentValues *a, const ParentValues *b, const char **changed);
size_t type_values_diff(const TypeValues *a, const TypeValues *b, const char **changed);

int parent_new(Manager *m, struct siov_parent *snap, Parent **ret);
Parent *parent_free(Parent *p);
/* For maps that own their parents. */
void parent_free_void(void *p);
/* Takes a new snapshot of this parent and signals every difference. */
int parent_update(Parent *p, struct siov_parent *snap);
/* Signals removal of the parent, its types and its VFs, then frees it. */
void parent_remove(Parent *p);
Type *parent_find_type(Parent *p, const char *id);
/* An active mdev of parent/type came (delta 1) or went (-1). */
void parent_count_mdev(Manager *m, const char *parent, const char *type, int delta);
/* Reads each mdev type's available_instances again (a create or remove
 * changes it, of the other types too when they share resources) and
 * signals what changed: a few small reads instead of re-reading the
 * parent. < 0 when a type cannot be read: the caller re-reads the parent. */
int parent_refresh_available(Parent *p);

const char *type_get_name(const Type *t);
const char *type_get_description(const Type *t);
const char *type_get_device_api(const Type *t);
const char *type_get_migration_version(const Type *t);  /* "" when none */
uint32_t type_get_available(const Type *t);
const char *type_get_broken(const Type *t);
const char *type_kind_to_string(TypeKind k);

/* parent-dbus.c */
extern const BusObjectImplementation parent_object;
int parent_append_kinds(sd_bus_message *m, unsigned kinds);
int parent_append_resources(sd_bus_message *m, const struct siov_parent *snap);
int parent_append_host_usage(sd_bus_message *m, const struct siov_parent *snap);
int parent_append_work_queues(sd_bus_message *m, const struct siov_idxd *d);
int parent_append_idxd_groups(sd_bus_message *m, const struct siov_idxd *d);
int parent_path(const char *name, char **ret);
int type_path(const char *parent, const char *id, char **ret);
size_t parent_reply_size(Parent *p);
/* One record per object for Manager.ListParents / ListTypes: the path,
 * then the properties in the XML's order. */
/* ListParents' records hold the first PARENT_RECORD_N properties: rows
 * added later (NumaNode) are read with Get, so the signature stays. */
#define PARENT_RECORD_SIGNATURE "osassssa{su}a{su}asuusbiissa(ssssssuii)a(sasas)"
#define PARENT_RECORD_N 18
#define TYPE_RECORD_SIGNATURE "ossssssuss"
int parent_append_record(Parent *p, sd_bus_message *m);
int type_append_record(Type *t, sd_bus_message *m);

/* The netdev of PF p from its snapshot (its own, not its VFs'), or NULL. */
const char *parent_get_pf_netdev(const Parent *p);
/* VF vf's network state as the PF's driver reports it (read on first use),
 * or NULL: not reported, no netdev, no libnl. */
const struct VfNetState *parent_vf_net_state(Parent *p, uint32_t vf);
/* Asks the PF again if it was asked before, and signals the VFs whose
 * state changed. */
void parent_vf_net_refresh(Parent *p);
