/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Each D-Bus property is described once, in one table per object kind: an
 * X-macro in the object's header (PARENT_PROPERTIES, TYPE_PROPERTIES,
 * DEVICE_PROPERTIES), one row per property:
 *
 *     X(Name, KIND, FLAGS, expression of the object `o`)
 *
 * From that one row come the vtable entry and its getter (the *-dbus.c
 * file), the field of the object's Values snapshot, and the line of the
 * change diff (the core file), so a property cannot be published without
 * being signalled, or signalled under another name.
 *
 * KIND names a set of macros BUS_KIND_<KIND>_{TYPE,SIG,EQUAL,APPEND}: the C
 * type of the value, its D-Bus signature, how two values compare and how
 * one is appended to a message. FLAGS is CONST or EMITS_CHANGE (sd-bus's
 * SD_BUS_VTABLE_PROPERTY_*); only EMITS_CHANGE properties are diffed.
 */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "siov-macro.h"

#define BUS_KIND_STR_TYPE               const char *
#define BUS_KIND_STR_SIG                "s"
#define BUS_KIND_STR_EQUAL(a, b)        streq(strempty(a), strempty(b))
#define BUS_KIND_STR_APPEND(m, v)       sd_bus_message_append_basic((m), 's', strempty(v))

#define BUS_KIND_U32_TYPE               uint32_t
#define BUS_KIND_U32_SIG                "u"
#define BUS_KIND_U32_EQUAL(a, b)        ((a) == (b))
#define BUS_KIND_U32_APPEND(m, v)       sd_bus_message_append((m), "u", (uint32_t) (v))

#define BUS_KIND_I32_TYPE               int32_t
#define BUS_KIND_I32_SIG                "i"
#define BUS_KIND_I32_EQUAL(a, b)        ((a) == (b))
#define BUS_KIND_I32_APPEND(m, v)       sd_bus_message_append((m), "i", (int32_t) (v))

#define BUS_KIND_BOOL_TYPE              bool
#define BUS_KIND_BOOL_SIG               "b"
#define BUS_KIND_BOOL_EQUAL(a, b)       ((a) == (b))
#define BUS_KIND_BOOL_APPEND(m, v)      sd_bus_message_append((m), "b", (int) !!(v))

/* NULL and the empty list are the same to a client. */
#define BUS_KIND_STRV_TYPE              char * const *
#define BUS_KIND_STRV_SIG               "as"
#define BUS_KIND_STRV_EQUAL(a, b)       strv_equal((a), (b))
#define BUS_KIND_STRV_APPEND(m, v)      bus_message_append_strv((m), (v))

/* A path built into a buffer (a VF's sysfs path). */
typedef struct PathBuf {
        char s[4096];
} PathBuf;
#define BUS_KIND_PATH_TYPE              PathBuf
#define BUS_KIND_PATH_SIG               "s"
#define BUS_KIND_PATH_EQUAL(a, b)       streq((a).s, (b).s)
#define BUS_KIND_PATH_APPEND(m, v)      sd_bus_message_append_basic((m), 's', (v).s)

#define BUS_FLAGS_CONST_DIFFED          0
#define BUS_FLAGS_EMITS_CHANGE_DIFFED   1

int bus_message_append_strv(sd_bus_message *m, char * const *l);

/* Row expanders. In a core file:
 *     typedef struct FooValues { FOO_PROPERTIES(BUS_PROPERTY_FIELD) } FooValues;
 *     static FooValues foo_values(const Foo *o) {
 *             return (FooValues) { FOO_PROPERTIES(BUS_PROPERTY_VALUE) };
 *     }
 *     ... FOO_PROPERTIES(BUS_PROPERTY_DIFF) with a, b, changed, n in scope;
 * in a bus file, with Foo and foo (the getter prefix):
 *     #define FOO_GETTER(name, kind, flags, expr) BUS_PROPERTY_GETTER(foo, Foo, name, kind, expr)
 *     FOO_PROPERTIES(FOO_GETTER)
 *     ... FOO_PROPERTIES(FOO_VTABLE) where
 *     #define FOO_VTABLE(name, kind, flags, expr) BUS_PROPERTY_VTABLE(foo, name, kind, flags)
 */
#define BUS_PROPERTY_COUNT(name, kind, flags, expr) + 1
#define BUS_PROPERTY_FIELD(name, kind, flags, expr) BUS_KIND_##kind##_TYPE name;
#define BUS_PROPERTY_VALUE(name, kind, flags, expr) .name = (expr),
#define BUS_PROPERTY_DIFF(name, kind, flags, expr)                                      \
        if (BUS_FLAGS_##flags##_DIFFED && !BUS_KIND_##kind##_EQUAL(a->name, b->name))  \
                changed[n++] = #name;

#define BUS_PROPERTY_GETTER(prefix, Object, name, kind, expr)                                   \
        static int prefix##_property_get_##name(sd_bus *bus, const char *path,                 \
                                                const char *interface, const char *property,   \
                                                sd_bus_message *reply, void *userdata,         \
                                                sd_bus_error *error) {                         \
                _unused_ const Object *o = userdata;                                           \
                return BUS_KIND_##kind##_APPEND(reply, (expr));                                \
        }
#define BUS_PROPERTY_VTABLE(prefix, name, kind, flags) \
        SD_BUS_PROPERTY(#name, BUS_KIND_##kind##_SIG, prefix##_property_get_##name, 0, SD_BUS_VTABLE_PROPERTY_##flags),

/* The names of the EMITS_CHANGE properties whose values differ between a
 * and b (NULL-terminated in changed, which holds one more than the table
 * has rows); returns how many. */
#define BUS_PROPERTIES_DIFF_FUNCTION(fn, Values, TABLE)                                 \
        size_t fn(const Values *a, const Values *b, const char **changed) {            \
                size_t n = 0;                                                           \
                TABLE(BUS_PROPERTY_DIFF)                                                \
                changed[n] = NULL;                                                      \
                return n;                                                               \
        }
