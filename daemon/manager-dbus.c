/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdlib.h>

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

const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("SysfsRoot", "s", property_get_sysfs_root, 0, SD_BUS_VTABLE_PROPERTY_CONST),
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
