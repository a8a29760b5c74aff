/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "bus-util.h"
#include "device.h"
#include "lifecycle.h"
#include "polkit.h"
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
DEVICE_STRING_GETTER(property_get_vm, device_get_vm(d))
DEVICE_STRING_GETTER(property_get_address, device_get_address(d))
DEVICE_STRING_GETTER(property_get_driver, device_get_driver(d))

static int property_get_syspath(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Device *d = userdata;
        char buf[PATH_MAX];

        return sd_bus_message_append_basic(reply, 's', strempty(device_get_syspath(d, buf, sizeof(buf))));
}

static int property_get_holder(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Device *d = userdata;
        return sd_bus_message_append(reply, "u", (uint32_t) device_get_holder(d));
}

static int property_get_persistent(sd_bus *bus, const char *path, const char *interface, const char *property,
                                   sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Device *d = userdata;
        return sd_bus_message_append(reply, "b", d->persistent);
}

static int property_get_autostart(sd_bus *bus, const char *path, const char *interface, const char *property,
                                  sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Device *d = userdata;
        return sd_bus_message_append(reply, "b", device_get_autostart(d));
}

static int property_get_attributes(sd_bus *bus, const char *path, const char *interface, const char *property,
                                   sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Device *d = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(ss)");
        if (r < 0)
                return r;
        for (size_t i = 0; d->spec && i < siov_definition_get_n_attrs(d->spec); i++) {
                r = sd_bus_message_append(reply, "(ss)", siov_definition_get_attr_name(d->spec, i),
                                          siov_definition_get_attr_value(d->spec, i));
                if (r < 0)
                        return r;
        }
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
                                  device_get_state(d), d->persistent, device_get_autostart(d),
                                  strempty(device_get_vm(d)));
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

/* An upper bound of what the device adds to a reply: its record in
 * ListDevices, or (object) its entry in GetManagedObjects, where every
 * property also carries its name and signature and the standard
 * interfaces are listed (measured: 770 bytes for an mdev without
 * attributes; the fixed parts below leave a margin over that). */
size_t device_reply_size(Device *d, bool object) {
        char buf[PATH_MAX];
        size_t n = object ? 640 : 128;

        n += strlen(d->path) + 2 * strlen(d->uuid) + strlen(strempty(device_get_parent(d))) +
             strlen(strempty(device_get_type(d))) + strlen(strempty(device_get_vm(d))) +
             strlen(strempty(device_get_address(d))) + strlen(strempty(device_get_driver(d))) +
             strlen(strempty(device_get_syspath(d, buf, sizeof(buf))));
        for (size_t i = 0; d->spec && i < siov_definition_get_n_attrs(d->spec); i++)
                n += 16 + strlen(siov_definition_get_attr_name(d->spec, i)) +
                     strlen(siov_definition_get_attr_value(d->spec, i));
        for (char * const *l = device_get_netdevs(d); *l; l++)
                n += 8 + strlen(*l);
        return n;
}

/* Device methods: no side effect before polkit said yes (the handler runs
 * again after each answer). */
static int verify(sd_bus_message *message, Device *d, const char *action, bool also_define, bool also_assign,
                  sd_bus_error *error) {
        const char *actions[] = { action, also_define ? SIOV_POLKIT_DEFINE : NULL,
                                  also_assign ? SIOV_POLKIT_ASSIGN : NULL };
        const char *details[] = { "uuid", d->uuid, "parent", strempty(device_get_parent(d)),
                                  "type", strempty(device_get_type(d)), "vm", strempty(device_get_vm(d)), NULL };
        return bus_verify_actions(message, d->manager, actions, ELEMENTSOF(actions), details, error);
}

/* Start and Stop: answered when the kernel is done (Stop: or when the
 * removal turns out to wait for a VM). */
static int run_kernel(sd_bus_message *message, Device *d, bool start, sd_bus_error *error) {
        BusCall *c;
        int r = verify(message, d, SIOV_POLKIT_MANAGE, false, false, error);

        if (r <= 0)
                return r < 0 ? r : 1;
        c = bus_call_new(d->manager, message, BUS_CALL_REPLY_NONE, d->uuid);
        if (!c)
                return -ENOMEM;
        if (start)
                r = lifecycle_start(d, bus_call_lifecycle_done(c), error);
        else
                r = lifecycle_stop_checked(d, false, bus_call_lifecycle_done(c), error);
        return bus_call_started(c, r, !start);
}

/* Undefine, Unassign: no arguments, one action, one operation. */
static int run_simple(sd_bus_message *message, Device *d, const char *action,
                      int (*op)(Device *d, sd_bus_error *error), sd_bus_error *error) {
        int r = verify(message, d, action, false, false, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        r = op(d, error);
        return r < 0 ? r : sd_bus_reply_method_return(message, NULL);
}

static int method_start(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return run_kernel(message, userdata, true, error);
}

static int method_stop(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return run_kernel(message, userdata, false, error);
}

static int method_undefine(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return run_simple(message, userdata, SIOV_POLKIT_DEFINE, lifecycle_undefine, error);
}

static int method_destroy(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        static const char * const allowed[] = { "force", NULL };
        Device *d = userdata;
        LifecycleOptions o;
        BusCall *c;
        int r;

        r = bus_read_options(message, allowed, &o, error);
        if (r < 0)
                return r;
        /* Destroying a persistent device also drops its definition, and an
         * assigned one is taken out of its VM's definition. */
        r = verify(message, d, SIOV_POLKIT_MANAGE, d->persistent, !isempty(device_get_vm(d)), error);
        if (r <= 0)
                return r < 0 ? r : 1;
        c = bus_call_new(d->manager, message, BUS_CALL_REPLY_NONE, d->uuid);
        if (!c)
                return -ENOMEM;
        r = lifecycle_destroy_checked(d, o.force, bus_call_lifecycle_done(c), error);
        return bus_call_started(c, r, true);
}

static int method_modify(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        static const char * const allowed[] = { "autostart", "attrs", NULL };
        LifecycleOptions o;
        int r;

        r = bus_read_options(message, allowed, &o, error);
        if (r < 0)
                return r;
        r = verify(message, userdata, SIOV_POLKIT_DEFINE, false, false, error);
        if (r <= 0) {
                free((void *) o.attrs);
                return r < 0 ? r : 1;
        }
        r = lifecycle_modify(userdata, o.autostart_set ? o.autostart : -1, o.attrs_set, o.attrs, o.n_attrs, error);
        free((void *) o.attrs);
        return r < 0 ? r : sd_bus_reply_method_return(message, NULL);
}

static int method_assign(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        static const char * const allowed[] = { NULL };
        LifecycleOptions o;
        const char *vm;
        int r;

        r = sd_bus_message_read(message, "s", &vm);
        if (r < 0)
                return r;
        if (strlen(vm) > SIOV_BUS_STRING_MAX)
                return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT, "VM name too long");
        r = bus_read_options(message, allowed, &o, error);
        if (r < 0)
                return r;
        r = verify(message, userdata, SIOV_POLKIT_ASSIGN, false, false, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        r = lifecycle_assign(userdata, vm, error);
        return r < 0 ? r : sd_bus_reply_method_return(message, NULL);
}

static int method_unassign(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        static const char * const allowed[] = { NULL };
        LifecycleOptions o;
        int r;

        r = bus_read_options(message, allowed, &o, error);
        if (r < 0)
                return r;
        return run_simple(message, userdata, SIOV_POLKIT_ASSIGN, lifecycle_unassign, error);
}

static Manager *device_manager(void *userdata) {
        return ((Device *) userdata)->manager;
}
BUS_METHOD_COUNTED(method_start, device_manager)
BUS_METHOD_COUNTED(method_stop, device_manager)
BUS_METHOD_COUNTED(method_destroy, device_manager)
BUS_METHOD_COUNTED(method_undefine, device_manager)
BUS_METHOD_COUNTED(method_modify, device_manager)
BUS_METHOD_COUNTED(method_assign, device_manager)
BUS_METHOD_COUNTED(method_unassign, device_manager)

const sd_bus_vtable device_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Uuid", "s", property_get_uuid, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Kind", "s", property_get_kind, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Parent", "s", property_get_parent, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Type", "s", property_get_type, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("State", "s", property_get_state, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("HolderPID", "u", property_get_holder, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Persistent", "b", property_get_persistent, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Autostart", "b", property_get_autostart, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("VM", "s", property_get_vm, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Attributes", "a(ss)", property_get_attributes, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Address", "s", property_get_address, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("SysfsPath", "s", property_get_syspath, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Driver", "s", property_get_driver, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("HostUsed", "b", property_get_host_used, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Netdevs", "as", property_get_netdevs, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_ARGS("Start", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_start_counted, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Stop", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_stop_counted, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Destroy", SD_BUS_ARGS("a{sv}", options), SD_BUS_NO_RESULT,
                                method_destroy_counted, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Undefine", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_undefine_counted, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Modify", SD_BUS_ARGS("a{sv}", changes), SD_BUS_NO_RESULT,
                                method_modify_counted, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Assign", SD_BUS_ARGS("s", vm, "a{sv}", options), SD_BUS_NO_RESULT,
                                method_assign_counted, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Unassign", SD_BUS_ARGS("a{sv}", options), SD_BUS_NO_RESULT,
                                method_unassign_counted, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};
