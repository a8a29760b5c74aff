/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

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
};

int parent_new(Manager *m, struct siov_parent *snap, Parent **ret);
Parent *parent_free(Parent *p);
/* Takes a new snapshot of this parent and signals every difference. */
int parent_update(Parent *p, struct siov_parent *snap);
/* Signals removal of the parent, its types and its VFs, then frees it. */
void parent_remove(Parent *p);
Type *parent_find_type(Parent *p, const char *id);

const char *type_get_name(const Type *t);
const char *type_get_description(const Type *t);
const char *type_get_device_api(const Type *t);
uint32_t type_get_available(const Type *t);
const char *type_get_broken(const Type *t);
const char *type_kind_to_string(TypeKind k);

/* parent-dbus.c */
extern const sd_bus_vtable parent_vtable[];
extern const sd_bus_vtable type_vtable[];
int parent_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found, sd_bus_error *error);
int type_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found, sd_bus_error *error);
int parent_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error);
int parent_path(const char *name, char **ret);
int type_path(const char *parent, const char *id, char **ret);
size_t parent_reply_size(Parent *p);
/* One record per object for Manager.ListParents / ListTypes: the path,
 * then the properties in the XML's order. */
#define PARENT_RECORD_SIGNATURE "osassssa{su}a{su}asuusbiissa(ssssssuii)a(sasas)"
#define TYPE_RECORD_SIGNATURE "ossssssus"
int parent_append_record(Parent *p, sd_bus_message *m);
int type_append_record(Type *t, sd_bus_message *m);
