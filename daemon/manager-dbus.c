/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "device.h"
#include "log.h"
#include "manager.h"
#include "parent.h"
#include "siov-errors.h"
#include "siov-names.h"

static int property_get_sysfs_root(sd_bus *bus, const char *path, const char *interface, const char *property,
                                   sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *root = siov_ctx_get_root(m->ctx);
        return sd_bus_message_append(reply, "s", isempty(root) ? "/" : root);
}

static int property_get_version(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", PACKAGE_VERSION);
}

static int method_rescan(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        int r;

        r = manager_rescan(m);
        if (r < 0)
                return sd_bus_error_setf(error, SIOV_ERROR_KERNEL_ERROR,
                                         "Cannot read sysfs under '%s/': %s",
                                         siov_ctx_get_root(m->ctx), strerror(-r));
        return sd_bus_reply_method_return(message, NULL);
}

/* "No such parent 'X'" plus what the caller may have meant: the name in
 * another case, else the known names (a few). */
static int error_no_such(sd_bus_error *error, const char *name, const char *what, const char *wanted,
                         char **known, size_t n_known) {
        _cleanup_free_ char *list = NULL;
        size_t len = 0;

        for (size_t i = 0; i < n_known; i++)
                if (strcasecmp(known[i], wanted) == 0)
                        return sd_bus_error_setf(error, name, "no such %s '%s'; did you mean '%s'?",
                                                 what, wanted, known[i]);
        for (size_t i = 0; i < n_known && i < 10; i++) {
                char *l = realloc(list, len + strlen(known[i]) + 3);
                if (!l)
                        return -ENOMEM;
                list = l;
                len += sprintf(list + len, "%s%s", i ? ", " : "", known[i]);
        }
        return sd_bus_error_setf(error, name, "no such %s '%s' (known: %s%s)", what, wanted,
                                 list ?: "none", n_known > 10 ? ", ..." : "");
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char * const *) a, *(char * const *) b);
}

static int method_list_devices(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char **known = NULL;
        Manager *m = userdata;
        const char *parent, *type;
        size_t n_known = 0;
        Parent *p;
        Device *d;
        int r;

        r = sd_bus_message_read(message, "ss", &parent, &type);
        if (r < 0)
                return r;

        /* Filters name objects: unknown ones are errors, not empty lists. */
        if (!isempty(parent) && !hashmap_get(m->parents, parent)) {
                bool listed = false;

                HASHMAP_FOREACH(d, m->devices, i)
                        if (streq(device_get_parent(d), parent)) {
                                listed = true;
                                break;
                        }
                if (!listed) {
                        known = calloc(hashmap_size(m->parents) + 1, sizeof(char *));
                        if (!known)
                                return -ENOMEM;
                        HASHMAP_FOREACH(p, m->parents, i)
                                known[n_known++] = p->name;
                        qsort(known, n_known, sizeof(char *), cmp_str);
                        return error_no_such(error, SIOV_ERROR_NO_SUCH_PARENT, "parent", parent, known, n_known);
                }
        }
        if (!isempty(type)) {
                bool found = false;
                size_t n = 0;

                HASHMAP_FOREACH(p, m->parents, i)
                        if (isempty(parent) || streq(p->name, parent)) {
                                n += p->n_types;
                                found = found || parent_find_type(p, type);
                        }
                HASHMAP_FOREACH(d, m->devices, i)
                        if (!found && streq(device_get_type(d), type) &&
                            (isempty(parent) || streq(device_get_parent(d), parent)))
                                found = true;
                if (!found) {
                        known = calloc(n + 1, sizeof(char *));
                        if (!known)
                                return -ENOMEM;
                        HASHMAP_FOREACH(p, m->parents, i)
                                if (isempty(parent) || streq(p->name, parent))
                                        for (size_t j = 0; j < p->n_types; j++) {
                                                bool dup = false;
                                                for (size_t k = 0; k < n_known && !dup; k++)
                                                        dup = streq(known[k], p->types[j]->id);
                                                if (!dup)
                                                        known[n_known++] = p->types[j]->id;
                                        }
                        qsort(known, n_known, sizeof(char *), cmp_str);
                        return error_no_such(error, SIOV_ERROR_NO_SUCH_TYPE, "type", type, known, n_known);
                }
        }

        r = sd_bus_message_new_method_return(message, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(osssssbbsa(ss)sssbas)");
        if (r < 0)
                return r;
        HASHMAP_FOREACH(d, m->devices, i) {
                if (!isempty(parent) && !streq(device_get_parent(d), parent))
                        continue;
                if (!isempty(type) && !streq(device_get_type(d), type))
                        continue;
                r = device_append_record(d, reply);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("SysfsRoot", "s", property_get_sysfs_root, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD_WITH_ARGS("ListDevices",
                                SD_BUS_ARGS("s", parent, "s", type),
                                SD_BUS_RESULT("a(osssssbbsa(ss)sssbas)", devices),
                                method_list_devices, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Rescan", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_rescan, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

void manager_emit_added(Manager *m, const char *path) {
        int r;

        if (!m->exported)
                return;
        r = sd_bus_emit_object_added(m->bus, path);
        if (r < 0)
                log_debug_errno(r, "Cannot signal %s added: %m", path);
}

void manager_emit_removed(Manager *m, const char *path) {
        int r;

        if (!m->exported)
                return;
        r = sd_bus_emit_object_removed(m->bus, path);
        if (r < 0)
                log_debug_errno(r, "Cannot signal %s removed: %m", path);
}

void manager_emit_changed(Manager *m, const char *path, const char *interface, char **names) {
        int r;

        if (!m->exported)
                return;
        r = sd_bus_emit_properties_changed_strv(m->bus, path, interface, names);
        if (r < 0)
                log_debug_errno(r, "Cannot signal changes of %s: %m", path);
}

int manager_connect_bus(Manager *m) {
        int r;

        /* sd_bus_open_system() honours DBUS_SYSTEM_BUS_ADDRESS (tests). */
        r = sd_bus_open_system(&m->bus);
        if (r < 0)
                return log_error_errno(r, "Cannot connect to the system bus: %m");

        r = sd_bus_add_object_manager(m->bus, NULL, SIOV_DBUS_PATH);
        if (r < 0)
                return log_error_errno(r, "Cannot add the object manager: %m");
        r = sd_bus_add_object_vtable(m->bus, NULL, SIOV_DBUS_PATH, SIOV_DBUS_MANAGER_INTERFACE,
                                     manager_vtable, m);
        if (r < 0)
                return log_error_errno(r, "Cannot add the manager object: %m");

        r = sd_bus_add_fallback_vtable(m->bus, NULL, SIOV_DBUS_PARENT_PREFIX, SIOV_DBUS_PARENT_INTERFACE,
                                       parent_vtable, parent_object_find, m);
        if (r < 0)
                return log_error_errno(r, "Cannot add the parent objects: %m");
        r = sd_bus_add_fallback_vtable(m->bus, NULL, SIOV_DBUS_PARENT_PREFIX, SIOV_DBUS_TYPE_INTERFACE,
                                       type_vtable, type_object_find, m);
        if (r < 0)
                return log_error_errno(r, "Cannot add the type objects: %m");
        r = sd_bus_add_node_enumerator(m->bus, NULL, SIOV_DBUS_PARENT_PREFIX, parent_node_enumerator, m);
        if (r < 0)
                return log_error_errno(r, "Cannot add the parent enumerator: %m");

        r = sd_bus_add_fallback_vtable(m->bus, NULL, SIOV_DBUS_DEVICE_PREFIX, SIOV_DBUS_DEVICE_INTERFACE,
                                       device_vtable, device_object_find, m);
        if (r < 0)
                return log_error_errno(r, "Cannot add the device objects: %m");
        r = sd_bus_add_node_enumerator(m->bus, NULL, SIOV_DBUS_DEVICE_PREFIX, device_node_enumerator, m);
        if (r < 0)
                return log_error_errno(r, "Cannot add the device enumerator: %m");

        r = sd_bus_attach_event(m->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Cannot attach the bus to the event loop: %m");

        /* Objects are complete now: from here on, changes are signalled. */
        m->exported = true;

        r = sd_bus_request_name(m->bus, SIOV_DBUS_NAME, 0);
        if (r < 0)
                return log_error_errno(r, "Cannot own %s on the system bus (is another siovd running, "
                                       "and is the bus policy org.siov1.conf installed?): %m", SIOV_DBUS_NAME);
        return 0;
}
