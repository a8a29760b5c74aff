/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "log.h"
#include "siov-names.h"

int device_path(const char *uuid, char **ret) {
        return sd_bus_path_encode(SIOV_DBUS_DEVICE_PREFIX, uuid, ret);
}

int device_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                       void **found, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_free_ char *uuid = NULL;
        Device *d;
        int r;

        r = sd_bus_path_decode(path, SIOV_DBUS_DEVICE_PREFIX, &uuid);
        if (r <= 0)
                return r;
        d = hashmap_get(m->devices, uuid);
        if (!d)
                return 0;
        *found = d;
        return 1;
}

int device_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes,
                           sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_strv_free_ char **l = NULL;
        size_t k = 0;
        Device *d;

        l = calloc(hashmap_size(m->devices) + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        HASHMAP_FOREACH(d, m->devices, i) {
                l[k] = strdup(d->path);
                if (!l[k++])
                        return -ENOMEM;
        }
        *nodes = TAKE_PTR(l);
        return 1;
}

#define DEVICE_STRING_GETTER(fn, expr)                                                          \
        static int fn(sd_bus *bus, const char *path, const char *interface, const char *property, \
                      sd_bus_message *reply, void *userdata, sd_bus_error *error) {             \
                _unused_ Device *d = userdata;                                                  \
                return sd_bus_message_append_basic(reply, 's', strempty(expr));                 \
        }

DEVICE_STRING_GETTER(property_get_uuid, d->uuid)
DEVICE_STRING_GETTER(property_get_kind, device_kind_to_string(d->kind))
DEVICE_STRING_GETTER(property_get_parent, device_get_parent(d))
DEVICE_STRING_GETTER(property_get_type, device_get_type(d))
DEVICE_STRING_GETTER(property_get_state, device_get_state(d))
DEVICE_STRING_GETTER(property_get_vm, "")
DEVICE_STRING_GETTER(property_get_address, device_get_address(d))
DEVICE_STRING_GETTER(property_get_driver, device_get_driver(d))

static int property_get_syspath(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Device *d = userdata;
        char buf[PATH_MAX];

        return sd_bus_message_append_basic(reply, 's', strempty(device_get_syspath(d, buf, sizeof(buf))));
}

static int property_get_false(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        /* Persistent and Autostart: no definitions are kept yet. */
        return sd_bus_message_append(reply, "b", 0);
}

static int property_get_attributes(sd_bus *bus, const char *path, const char *interface, const char *property,
                                   sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(ss)");
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

static int property_get_host_used(sd_bus *bus, const char *path, const char *interface, const char *property,
                                  sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Device *d = userdata;
        return sd_bus_message_append(reply, "b", device_get_host_used(d));
}

static int property_get_netdevs(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Device *d = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "s");
        if (r < 0)
                return r;
        for (char * const *n = device_get_netdevs(d); *n; n++) {
                r = sd_bus_message_append_basic(reply, 's', *n);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

/* One Device as a struct of the Device properties, in their order:
 * (o s s s s s b b s a(ss) s s s b as). Used by Manager.ListDevices. */
int device_append_record(Device *d, sd_bus_message *m) {
        char buf[PATH_MAX];
        int r;

        r = sd_bus_message_open_container(m, 'r', "osssssbbsa(ss)sssbas");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "osssssbbs", d->path, d->uuid, device_kind_to_string(d->kind),
                                  strempty(device_get_parent(d)), strempty(device_get_type(d)),
                                  device_get_state(d), 0, 0, "");
        if (r < 0)
                return r;
        r = property_get_attributes(NULL, NULL, NULL, NULL, m, d, NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "sssb", strempty(device_get_address(d)),
                                  strempty(device_get_syspath(d, buf, sizeof(buf))),
                                  strempty(device_get_driver(d)), device_get_host_used(d));
        if (r < 0)
                return r;
        r = property_get_netdevs(NULL, NULL, NULL, NULL, m, d, NULL);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(m);
}

const sd_bus_vtable device_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Uuid", "s", property_get_uuid, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Kind", "s", property_get_kind, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Parent", "s", property_get_parent, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Type", "s", property_get_type, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("State", "s", property_get_state, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Persistent", "b", property_get_false, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Autostart", "b", property_get_false, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("VM", "s", property_get_vm, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Attributes", "a(ss)", property_get_attributes, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Address", "s", property_get_address, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("SysfsPath", "s", property_get_syspath, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Driver", "s", property_get_driver, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("HostUsed", "b", property_get_host_used, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Netdevs", "as", property_get_netdevs, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_VTABLE_END
};
