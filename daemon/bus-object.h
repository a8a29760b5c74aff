/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Each *-dbus.c file describes its objects in one declaration (systemd's
 * BusObjectImplementation): where they live, their interfaces, how a path
 * finds its object, how the tree is enumerated, and the objects below.
 * siovd registers the whole tree with one bus_add_implementation() call.
 */

#include <stdbool.h>
#include <systemd/sd-bus.h>

typedef struct BusObjectVtable {
        const char *interface;
        const sd_bus_vtable *vtable;
        /* NULL: one object at path, its userdata the one passed to
         * bus_add_implementation(); else fallback objects below path. */
        sd_bus_object_find_t find;
} BusObjectVtable;

typedef struct BusObjectImplementation BusObjectImplementation;
struct BusObjectImplementation {
        const char *path;                       /* the object, or the prefix of its objects */
        const BusObjectVtable *vtables;         /* ends with { NULL } */
        sd_bus_node_enumerator_t node_enumerator;
        bool manager;                           /* org.freedesktop.DBus.ObjectManager at path */
        const BusObjectImplementation *const *children; /* NULL-terminated, or NULL */
};

/* Adds impl and its children, all with the same userdata. */
int bus_add_implementation(sd_bus *bus, const BusObjectImplementation *impl, void *userdata);
