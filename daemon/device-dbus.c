/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "bus-util.h"
#include "device.h"
#include "lifecycle.h"
#include "polkit.h"
#include "journal.h"
#include "log.h"
#include "siov-names.h"

DevicePath device_object_path(const char *uuid) {
        static const char hex[] = "0123456789abcdef";
        DevicePath p;
        char *t = stpcpy(p.s, SIOV_DBUS_DEVICE_PREFIX "/");

        /* sd_bus_path_encode()'s escaping: all but [a-zA-Z] and (not
         * first) [0-9] become _xx. A UUID is never empty. */
        for (const char *f = uuid; *f && t < p.s + sizeof(p.s) - 4; f++) {
                bool alpha = (*f >= 'a' && *f <= 'z') || (*f >= 'A' && *f <= 'Z');
                bool digit = *f >= '0' && *f <= '9';

                if (alpha || (digit && f > uuid))
                        *t++ = *f;
                else {
                        *t++ = '_';
                        *t++ = hex[(unsigned char) *f >> 4];
                        *t++ = hex[(unsigned char) *f & 0xf];
                }
        }
        *t = '\0';
        return p;
}

static int device_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
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
        /* Whatever reads it (Get, GetAll, a method, a signal) sees it whole. */
        (void) device_load(d);
        *found = d;
        return 1;
}

static int device_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes,
                           sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_strv_free_ char **l = NULL;
        size_t k = 0;
        Device *d;

        l = calloc(hashmap_size(m->devices) + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        HASHMAP_FOREACH(d, m->devices, i) {
                l[k] = strdup(DEVICE_PATH(d));
                if (!l[k++])
                        return -ENOMEM;
        }
        *nodes = TAKE_PTR(l);
        return 1;
}

int device_append_attrs(sd_bus_message *m, const struct siov_definition *spec) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "(ss)");
        if (r < 0)
                return r;
        for (size_t i = 0; spec && i < siov_definition_get_n_attrs(spec); i++) {
                r = sd_bus_message_append(m, "(ss)", siov_definition_get_attr_name(spec, i),
                                          siov_definition_get_attr_value(spec, i));
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(m);
}

#define DEVICE_GETTER(name, kind, flags, expr) BUS_PROPERTY_GETTER(device, Device, name, kind, expr)
#define DEVICE_VTABLE(name, kind, flags, expr) BUS_PROPERTY_VTABLE(device, name, kind, flags)
#define DEVICE_GETTER_PTR(name, kind, flags, expr) device_property_get_##name,
#define DEVICE_SIGNATURE(name, kind, flags, expr) BUS_KIND_##kind##_SIG,

DEVICE_PROPERTIES(DEVICE_GETTER)

static const sd_bus_property_get_t device_getters[] = { DEVICE_PROPERTIES(DEVICE_GETTER_PTR) };
const char *const device_property_signatures[] = { DEVICE_PROPERTIES(DEVICE_SIGNATURE) NULL };

/* NVIDIA SR-IOV vGPU VFs, read only: the creatable types (id, name);
 * [] for every other device. */
int device_append_vgpu_types(sd_bus_message *m, const struct siov_vf *vf) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "(us)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < siov_vf_get_n_vgpu_types(vf); i++) {
                r = sd_bus_message_append(m, "(us)", siov_vf_get_vgpu_type_id(vf, i),
                                          siov_vf_get_vgpu_type_name(vf, i));
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(m);
}

/* Manager.ListDevices' record: the path, then the first DEVICE_RECORD_N
 * Device properties in table order. Its signature is API, so properties
 * added later (after the first DEVICE_RECORD_N rows) are not in it; the
 * unit tests check DEVICE_RECORD_SIGNATURE against the table. */
int device_append_record(Device *d, sd_bus_message *m) {
        int r;

        (void) device_load(d);
        r = sd_bus_message_open_container(m, 'r', DEVICE_RECORD_SIGNATURE);
        if (r < 0)
                return r;
        r = sd_bus_message_append_basic(m, 'o', DEVICE_PATH(d));
        if (r < 0)
                return r;
        for (size_t i = 0; i < DEVICE_RECORD_N; i++) {
                r = device_getters[i](NULL, NULL, NULL, NULL, m, d, NULL);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(m);
}

/* An upper bound of what the device adds to a reply: its record in
 * ListDevices, or (object) its entry in GetManagedObjects, where every
 * property also carries its name and signature and the standard
 * interfaces are listed (measured: 770 bytes for an mdev without
 * attributes; the fixed parts below leave a margin over that). */
size_t device_reply_size(Device *d, bool object) {
        /* (a driver not read yet: a name of up to 32 bytes) */
        size_t n = (object ? 640 : 128) + (device_is_active_mdev(d) && !d->mdev->driver ? 32 : 0);

        /* The object path: the prefix, '/', each UUID byte at most "_xx". */
        n += (sizeof(SIOV_DBUS_DEVICE_PREFIX "/") - 1) + 5 * strlen(d->uuid) + strlen(strempty(device_get_parent(d))) +
             strlen(strempty(device_get_type(d))) + strlen(strempty(device_get_vm(d))) +
             strlen(strempty(device_get_address(d))) + strlen(strempty(device_get_driver(d))) +
             strlen(device_get_syspath(d).s);
        for (size_t i = 0; d->spec && i < siov_definition_get_n_attrs(d->spec); i++)
                n += 16 + strlen(siov_definition_get_attr_name(d->spec, i)) +
                     strlen(siov_definition_get_attr_value(d->spec, i));
        for (char * const *l = device_get_netdevs(d); *l; l++)
                n += 8 + strlen(*l);
        if (object) {
                const struct siov_vf *vf = device_get_vf(d);

                n += 96;        /* VgpuType, VgpuCreatableTypes */
                n += 256;       /* VfMac … VfTrust: six names, a MAC, two words */
                n += 24 + strlen(device_get_owner(d));  /* Owner */
                for (size_t i = 0; i < siov_vf_get_n_vgpu_types(vf); i++)
                        n += 16 + strlen(siov_vf_get_vgpu_type_name(vf, i));
        }
        return n;
}

static void log_refused(Device *d, const char *vm, const char *verb, const sd_bus_error *error, int r) {
        _cleanup_free_ char *what = NULL;

        if (asprintf(&what, "%s device %s", verb, d->uuid) < 0)
                return;
        log_device_refused(&(DeviceEvent) { .device = d->uuid, .parent = device_get_parent(d),
                                            .type = device_get_type(d), .vm = vm ?: device_get_vm(d) },
                           what, sd_bus_error_is_set(error) ? error->message : strerror(-r));
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

/* Undefine: no arguments, one action, one operation. */
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
        if (r < 0)
                log_refused(d, NULL, "destroy", error, r);
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
        Device *d = userdata;
        LifecycleOptions o;
        const char *vm;
        BusCall *c;
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
        /* Answered when libvirt has (vm-job.h). */
        c = bus_call_new(d->manager, message, BUS_CALL_REPLY_NONE, d->uuid);
        if (!c)
                return -ENOMEM;
        r = lifecycle_assign(d, vm, bus_call_lifecycle_done(c), error);
        if (r < 0)
                log_refused(d, vm, "assign", error, r);
        return bus_call_started(c, r, false);
}

static int method_unassign(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        static const char * const allowed[] = { NULL };
        Device *d = userdata;
        LifecycleOptions o;
        BusCall *c;
        int r;

        r = bus_read_options(message, allowed, &o, error);
        if (r < 0)
                return r;
        r = verify(message, d, SIOV_POLKIT_ASSIGN, false, false, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        c = bus_call_new(d->manager, message, BUS_CALL_REPLY_NONE, d->uuid);
        if (!c)
                return -ENOMEM;
        return bus_call_started(c, lifecycle_unassign(d, bus_call_lifecycle_done(c), error), false);
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

static const sd_bus_vtable device_vtable[] = {
        SD_BUS_VTABLE_START(0),
        DEVICE_PROPERTIES(DEVICE_VTABLE)
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

/* Devices (mdevs and VFs) live below /org/siov1/device. */
const BusObjectImplementation device_object = {
        .path = SIOV_DBUS_DEVICE_PREFIX,
        .manager = true,        /* its own ObjectManager: the root's answer stays small */
        .vtables = (const BusObjectVtable[]) {
                { SIOV_DBUS_DEVICE_INTERFACE, device_vtable, device_object_find },
                {}
        },
        .node_enumerator = device_node_enumerator,
};
