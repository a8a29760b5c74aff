/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * siovctl's side of the bus: connecting, calling siovd, turning D-Bus errors
 * into one line and an exit code, and reading siovd's objects through the
 * compact Manager calls (ListParents, ListTypes, GetStatus, ListDevices),
 * whose size does not depend on the rest of the host. model_parse() reads
 * a GetManagedObjects reply (tests, tools that want the tree).
 */

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "siov-names.h"
#include "siovctl.h"

#define DEFAULT_SYSTEM_BUS_ADDRESS "unix:path=/run/dbus/system_bus_socket"

int bus_connect(Context *c) {
        _cleanup_(sd_bus_unrefp) sd_bus *bus = NULL;
        const char *desc;
        int r;

        if (c->bus)
                return 0;

        if (c->address) {
                desc = c->address;
                r = sd_bus_new(&bus);
                if (r < 0)
                        return log_error_errno(r, "cannot allocate a bus connection: %m");
                r = sd_bus_set_address(bus, c->address);
                if (r >= 0)
                        r = sd_bus_set_bus_client(bus, true);
                if (r >= 0)
                        r = sd_bus_start(bus);
        } else {
                /* sd_bus_open_system() honours $DBUS_SYSTEM_BUS_ADDRESS. */
                desc = getenv("DBUS_SYSTEM_BUS_ADDRESS");
                if (isempty(desc))
                        desc = DEFAULT_SYSTEM_BUS_ADDRESS;
                r = sd_bus_open_system(&bus);
        }
        if (r < 0) {
                log_error_errno(r, "cannot connect to %s at %s: %m",
                                c->address ? "D-Bus" : "the D-Bus system bus", desc);
                return -ERRNO_UNREACHABLE;
        }

        c->bus_description = strdup(desc);
        if (!c->bus_description)
                return log_error_errno(-ENOMEM, "out of memory");
        c->bus = TAKE_PTR(bus);
        return 0;
}

static bool error_name_startswith(const sd_bus_error *e, const char *prefix) {
        return e && e->name && strncmp(e->name, prefix, strlen(prefix)) == 0;
}

int bus_log_call_error(Context *c, const sd_bus_error *e, int r, const char *what) {
        return bus_log_call_error_object(c, e, r, what, NULL, NULL);
}

int bus_log_call_error_object(Context *c, const sd_bus_error *e, int r, const char *what,
                              const char *object, const char *object_id) {
        const char *bus = c->bus_description ?: "the bus";
        const char *msg;

        if (!sd_bus_error_is_set(e)) {
                /* No error reply: the connection itself failed. */
                if (r == -ETIMEDOUT)
                        log_error_errno(r, "cannot %s: siovd did not answer in time on %s", what, bus);
                else
                        log_error_errno(r, "cannot %s: connection to %s failed: %m", what, bus);
                return -ERRNO_UNREACHABLE;
        }

        msg = isempty(e->message) ? e->name : e->message;

        if (sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER)) {
                log_error_errno(r, "siovd is not running (no owner for %s on %s); start it with 'systemctl start siovd'",
                                SIOV_DBUS_NAME, bus);
                return -ERRNO_UNREACHABLE;
        }
        if (sd_bus_error_has_names(e, SD_BUS_ERROR_NO_REPLY, SD_BUS_ERROR_TIMEOUT,
                                   "org.freedesktop.DBus.Error.TimedOut")) {
                /* NoReply also comes when siovd went away during the call:
                 * the bus's message says which. */
                if (isempty(e->message))
                        log_error_errno(r, "cannot %s: siovd did not answer in time on %s", what, bus);
                else
                        log_error_errno(r, "cannot %s: siovd did not answer on %s: %s", what, bus, e->message);
                return -ERRNO_UNREACHABLE;
        }
        if (sd_bus_error_has_names(e, SD_BUS_ERROR_DISCONNECTED, SD_BUS_ERROR_NO_SERVER,
                                   SD_BUS_ERROR_NO_NETWORK, SD_BUS_ERROR_ADDRESS_IN_USE) ||
            error_name_startswith(e, "org.freedesktop.DBus.Error.Spawn.") ||
            error_name_startswith(e, "org.freedesktop.systemd1.")) {
                /* Activation failed or the connection broke: siovd is out of reach. */
                log_error_errno(r, "cannot %s: siovd could not be reached on %s: %s", what, bus, msg);
                return -ERRNO_UNREACHABLE;
        }
        if (sd_bus_error_has_names(e, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED)) {
                /* polkit wanted a password but the call did not allow asking. */
                log_error_errno(r, "cannot %s: not authorized: %s (authentication is required: "
                                "run as root, or from a terminal without --no-ask-password)", what, msg);
                return -ERRNO_NOT_AUTHORIZED;
        }
        if (sd_bus_error_has_names(e, SD_BUS_ERROR_ACCESS_DENIED, SD_BUS_ERROR_AUTH_FAILED,
                                   SIOV_ERROR_NOT_AUTHORIZED)) {
                log_error_errno(r, "cannot %s: not authorized: %s", what, msg);
                return -ERRNO_NOT_AUTHORIZED;
        }
        if (object && sd_bus_error_has_names(e, SD_BUS_ERROR_UNKNOWN_OBJECT)) {
                /* siovd has no object at that path: the device is not known. */
                log_error_errno(r, "no such %s", object);
                return -ERRNO_NO_SUCH_OBJECT;
        }
        if (sd_bus_error_has_names(e, SD_BUS_ERROR_UNKNOWN_METHOD, SD_BUS_ERROR_UNKNOWN_OBJECT,
                                   SD_BUS_ERROR_UNKNOWN_INTERFACE, SD_BUS_ERROR_UNKNOWN_PROPERTY)) {
                log_error_errno(r, "cannot %s: siovd on %s does not support this (different version?): %s",
                                what, bus, msg);
                return -EPROTO;
        }

        /* siovd's own errors say what went wrong and name the object; a
         * message that does not is prefixed with it. */
        if (object && (isempty(object_id) || !strstr(msg, object_id)))
                log_error_errno(r, "%s: %s", object, msg);
        else
                log_error_errno(r, "%s", msg);
        return errno_from_siovd_error(e);
}

int bus_call(Context *c, const char *path, const char *interface, const char *member,
             const char *what, sd_bus_message **ret_reply, const char *types, ...) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        int r;

        r = bus_connect(c);
        if (r < 0)
                return r;

        r = sd_bus_message_new_method_call(c->bus, &m, SIOV_DBUS_NAME, path, interface, member);
        if (r < 0)
                return log_error_errno(r, "cannot build a call to %s: %m", member);

        if (!isempty(types)) {
                va_list ap;

                va_start(ap, types);
                r = sd_bus_message_appendv(m, types, ap);
                va_end(ap);
                if (r < 0)
                        return log_error_errno(r, "cannot build a call to %s: %m", member);
        }

        r = sd_bus_call(c->bus, m, 0, &error, &reply);
        if (r < 0)
                return bus_log_call_error(c, &error, r, what);

        if (ret_reply)
                *ret_reply = TAKE_PTR(reply);
        return 0;
}

static int batch_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        BusBatchCall *b = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        b->done = true;
        b->slot = sd_bus_slot_unref(b->slot);
        if (e) {
                b->r = -(sd_bus_message_get_errno(reply) ?: EIO);
                (void) sd_bus_error_copy(&b->error, e);
                return 1;
        }
        *b->reply = sd_bus_message_ref(reply);
        return 1;
}

int bus_call_batch(Context *c, BusBatchCall *calls, size_t n) {
        size_t n_done = 0;
        int r = 0;

        r = bus_connect(c);
        if (r < 0)
                return r;

        /* Every call is sent before any answer is awaited: sd-bus queues
         * them behind its Hello, so the whole batch costs one round trip
         * through the bus instead of one per call (what a short command
         * waits for most on a busy host). */
        for (size_t i = 0; i < n; i++) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
                BusBatchCall *b = &calls[i];

                b->error = SD_BUS_ERROR_NULL;
                b->r = 0;
                b->done = false;
                b->slot = NULL;
                r = sd_bus_message_new_method_call(c->bus, &m, SIOV_DBUS_NAME, SIOV_DBUS_PATH,
                                                   b->interface ?: SIOV_DBUS_MANAGER_INTERFACE, b->member);
                if (r >= 0 && b->arg)
                        r = sd_bus_message_append_basic(m, 's', b->arg);
                if (r >= 0 && b->arg2)
                        r = sd_bus_message_append_basic(m, 's', b->arg2);
                if (r >= 0)
                        r = sd_bus_call_async(c->bus, &b->slot, m, batch_reply, b, 0);
                if (r < 0) {
                        log_error_errno(r, "cannot call %s: %m", b->member);
                        goto finish;
                }
        }
        while (n_done < n) {
                n_done = 0;
                for (size_t i = 0; i < n; i++)
                        n_done += calls[i].done;
                if (n_done == n)
                        break;
                r = sd_bus_process(c->bus, NULL);
                if (r > 0)
                        continue;
                if (r == 0)
                        r = sd_bus_wait(c->bus, UINT64_MAX);
                if (r < 0) {
                        log_error_errno(r, "lost the connection to %s: %m", c->bus_description);
                        r = -ERRNO_UNREACHABLE;
                        goto finish;
                }
        }
        /* The first failure in the order of the calls, as bus_call() would. */
        for (size_t i = 0; i < n && r >= 0; i++)
                if (calls[i].r < 0 && !calls[i].optional)
                        r = bus_log_call_error(c, &calls[i].error, calls[i].r, calls[i].what);
finish:
        for (size_t i = 0; i < n; i++) {
                calls[i].slot = sd_bus_slot_unref(calls[i].slot);
                /* An optional call's error stays for the caller (who frees it). */
                if (!calls[i].optional || r < 0)
                        sd_bus_error_free(&calls[i].error);
        }
        return r < 0 ? r : 0;
}

int bus_message_read_dict(sd_bus_message *m, const char *entry, bus_dict_cb_t cb, void *userdata) {
        char array[64];
        int r;

        if ((size_t) snprintf(array, sizeof(array), "{%s}", entry) >= sizeof(array))
                return -EINVAL;
        r = sd_bus_message_enter_container(m, 'a', array);
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', entry)) > 0) {
                const char *key;

                r = sd_bus_message_read_basic(m, entry[0], &key);
                if (r < 0)
                        return r;
                r = cb(m, key, userdata);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

/* ---- model ------------------------------------------------------------- */

Model *model_free(Model *m) {
        if (!m)
                return NULL;

        for (size_t i = 0; i < m->n_parents; i++) {
                free(m->parents[i].kinds);
                free(m->parents[i].resources);
                free(m->parents[i].host_usage);
                free(m->parents[i].netdevs);
                free(m->parents[i].types);
                free(m->parents[i].work_queues);
                for (size_t j = 0; j < m->parents[i].n_idxd_groups; j++) {
                        free(m->parents[i].idxd_groups[j].work_queues);
                        free(m->parents[i].idxd_groups[j].engines);
                }
                free(m->parents[i].idxd_groups);
        }
        free(m->parents);
        free(m->types);
        for (size_t i = 0; i < m->n_devices; i++) {
                free(m->devices[i].attributes);
                free(m->devices[i].netdevs);
                free(m->devices[i].vgpu_types);
        }
        free(m->devices);
        free(m->by_uuid);
        free(m->skipped_definitions);
        free(m->refused_changes);
        free(m->counts);
        sd_bus_message_unref(m->reply);
        sd_bus_message_unref(m->manager_reply);
        sd_bus_message_unref(m->types_reply);
        sd_bus_message_unref(m->status_reply);
        sd_bus_message_unref(m->configs_reply);
        for (size_t i = 0; i < m->n_pages; i++)
                sd_bus_message_unref(m->pages[i]);
        free(m->pages);
        sd_bus_message_unref(m->vgpu_reply);
        sd_bus_message_unref(m->vf_net_reply);
        sd_bus_message_unref(m->owners_reply);
        free(m);
        return NULL;
}

/* Property readers: each reads the variant's contents (already entered)
 * into the field at userdata. Strings are borrowed from the message. */
typedef int (*prop_read_t)(sd_bus_message *m, void *field, void *count);

static int read_string(sd_bus_message *m, void *field, void *count) {
        return sd_bus_message_read_basic(m, 's', field);
}

static int read_bool(sd_bus_message *m, void *field, void *count) {
        return sd_bus_message_read_basic(m, 'b', field);
}

static int read_u32(sd_bus_message *m, void *field, void *count) {
        return sd_bus_message_read_basic(m, 'u', field);
}

static int read_i32(sd_bus_message *m, void *field, void *count) {
        return sd_bus_message_read_basic(m, 'i', field);
}

static int read_strv(sd_bus_message *m, void *field, void *count) {
        const char ***ret = field;
        _cleanup_free_ const char **l = NULL;
        size_t n = 0, allocated = 0;
        const char *s;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "s");
        if (r < 0)
                return r;
        for (;;) {
                r = sd_bus_message_read_basic(m, 's', &s);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                r = greedy_realloc((void **) &l, &allocated, n + 2, sizeof(*l)) ? 0 : -ENOMEM;
                if (r < 0)
                        return r;
                l[n++] = s;
        }
        if (!l) {
                l = calloc(1, sizeof(*l));
                if (!l)
                        return -ENOMEM;
        }
        l[n] = NULL;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;

        free(*ret);
        *ret = TAKE_PTR(l);
        return 0;
}

/* Reads an array of contents (e.g. "(ss)") into a malloc'd array of size-
 * byte elements, each filled by read_one (>0: read one, 0: the end): the
 * shape of every a(...) property. Replaces *ret and *count. */
static int read_array(sd_bus_message *m, const char *contents, size_t size,
                      int (*read_one)(sd_bus_message *m, void *elem), void *ret, void *count) {
        _cleanup_free_ uint8_t *a = NULL;
        uint8_t elem[128];
        size_t n = 0, allocated = 0;
        int r;

        assert(size <= sizeof(elem));
        r = sd_bus_message_enter_container(m, 'a', contents);
        if (r < 0)
                return r;
        for (;;) {
                memset(elem, 0, size);
                r = read_one(m, elem);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                if (!GREEDY_REALLOC(a, allocated, (n + 1) * size))
                        return -ENOMEM;
                memcpy(a + n++ * size, elem, size);
        }
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;

        free(*(void **) ret);
        *(void **) ret = TAKE_PTR(a);
        *(size_t *) count = n;
        return 0;
}

static int read_one_key_value(sd_bus_message *m, void *elem) {
        KeyValue *kv = elem;
        return sd_bus_message_read(m, "{su}", &kv->key, &kv->value);
}

static int read_one_attribute(sd_bus_message *m, void *elem) {
        Attribute *a = elem;
        return sd_bus_message_read(m, "(ss)", &a->name, &a->value);
}

static int read_one_refusal(sd_bus_message *m, void *elem) {
        Refusal *a = elem;
        return sd_bus_message_read(m, "(tss)", &a->usec, &a->uuid, &a->reason);
}

static int read_one_work_queue(sd_bus_message *m, void *elem) {
        WorkQueue *wq = elem;
        return sd_bus_message_read(m, "(ssssssuii)", &wq->name, &wq->mode, &wq->type, &wq->state,
                                   &wq->driver, &wq->label, &wq->size, &wq->group, &wq->clients);
}

static int read_dict_su(sd_bus_message *m, void *field, void *count) {
        return read_array(m, "{su}", sizeof(KeyValue), read_one_key_value, field, count);
}

static int read_attributes(sd_bus_message *m, void *field, void *count) {
        return read_array(m, "(ss)", sizeof(Attribute), read_one_attribute, field, count);
}

static int read_refusals(sd_bus_message *m, void *field, void *count) {
        return read_array(m, "(tss)", sizeof(Refusal), read_one_refusal, field, count);
}

static int read_work_queues(sd_bus_message *m, void *field, void *count) {
        return read_array(m, "(ssssssuii)", sizeof(WorkQueue), read_one_work_queue, field, count);
}

static void idxd_groups_free(IdxdGroup *g, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(g[i].work_queues);
                free(g[i].engines);
        }
        free(g);
}

static int read_idxd_groups(sd_bus_message *m, void *field, void *count) {
        IdxdGroup **ret = field;
        IdxdGroup *a = NULL;
        size_t n = 0, allocated = 0;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "(sasas)");
        if (r < 0)
                return r;
        for (;;) {
                r = sd_bus_message_enter_container(m, 'r', "sasas");
                if (r <= 0)
                        break;
                r = greedy_realloc((void **) &a, &allocated, n + 1, sizeof(*a)) ? 0 : -ENOMEM;
                if (r < 0)
                        break;
                a[n] = (IdxdGroup) {};
                r = sd_bus_message_read_basic(m, 's', &a[n].name);
                n++;
                if (r >= 0)
                        r = read_strv(m, &a[n - 1].work_queues, NULL);
                if (r >= 0)
                        r = read_strv(m, &a[n - 1].engines, NULL);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                if (r < 0)
                        break;
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r < 0) {
                idxd_groups_free(a, n);
                return r;
        }
        idxd_groups_free(*ret, *(size_t *) count);
        *ret = a;
        *(size_t *) count = n;
        return 0;
}

typedef struct Property {
        const char *name;
        const char *signature;
        prop_read_t read;
        size_t offset;
        size_t count_offset;    /* for arrays with a separate length */
} Property;

#define PROP(n, sig, fn, type, member) \
        { n, sig, fn, offsetof(type, member), 0 }
#define PROP_N(n, sig, fn, type, member, count) \
        { n, sig, fn, offsetof(type, member), offsetof(type, count) }

static const Property parent_properties[] = {
        PROP("Name",            "s",     read_string,  Parent, name),
        PROP("Kinds",           "as",    read_strv,    Parent, kinds),
        PROP("Driver",          "s",     read_string,  Parent, driver),
        PROP("Subsystem",       "s",     read_string,  Parent, subsystem),
        PROP("SysfsPath",       "s",     read_string,  Parent, sysfs_path),
        PROP_N("Resources",     "a{su}", read_dict_su, Parent, resources, n_resources),
        PROP_N("HostUsage",     "a{su}", read_dict_su, Parent, host_usage, n_host_usage),
        PROP("Netdevs",         "as",    read_strv,    Parent, netdevs),
        PROP("TotalVFs",        "u",     read_u32,     Parent, total_vfs),
        PROP("NumVFs",          "u",     read_u32,     Parent, num_vfs),
        PROP("Broken",          "s",     read_string,  Parent, broken),
        PROP("Autoprobe",       "b",     read_bool,    Parent, autoprobe),
        PROP("PersistentNumVFs", "i",    read_i32,     Parent, persistent_numvfs),
        PROP("PersistentAutoprobe", "i", read_i32,     Parent, persistent_autoprobe),
        PROP("IdxdDevice",      "s",     read_string,  Parent, idxd_device),
        PROP("IdxdState",       "s",     read_string,  Parent, idxd_state),
        PROP_N("WorkQueues",    "a(ssssssuii)", read_work_queues, Parent, work_queues, n_work_queues),
        PROP_N("IdxdGroups",    "a(sasas)", read_idxd_groups, Parent, idxd_groups, n_idxd_groups),
        {}
};

static const Property type_properties[] = {
        PROP("Id",                 "s", read_string, Type, id),
        PROP("Kind",               "s", read_string, Type, kind),
        PROP("Parent",             "s", read_string, Type, parent),
        PROP("Name",               "s", read_string, Type, name),
        PROP("Description",        "s", read_string, Type, description),
        PROP("DeviceApi",          "s", read_string, Type, device_api),
        PROP("AvailableInstances", "u", read_u32,    Type, available),
        PROP("Broken",             "s", read_string, Type, broken),
        PROP("MigrationVersion",   "s", read_string, Type, migration_version),
        {}
};

static const Property device_properties[] = {
        PROP("Uuid",            "s",     read_string,     Device, uuid),
        PROP("Kind",            "s",     read_string,     Device, kind),
        PROP("Parent",          "s",     read_string,     Device, parent),
        PROP("Type",            "s",     read_string,     Device, type),
        PROP("State",           "s",     read_string,     Device, state),
        PROP("Persistent",      "b",     read_bool,       Device, persistent),
        PROP("Autostart",       "b",     read_bool,       Device, autostart),
        PROP("VM",              "s",     read_string,     Device, vm),
        PROP_N("Attributes",    "a(ss)", read_attributes, Device, attributes, n_attributes),
        PROP("Address",         "s",     read_string,     Device, address),
        PROP("SysfsPath",       "s",     read_string,     Device, sysfs_path),
        PROP("Driver",          "s",     read_string,     Device, driver),
        PROP("HostUsed",        "b",     read_bool,       Device, host_used),
        PROP("Netdevs",         "as",    read_strv,       Device, netdevs),
        PROP("Owner",           "s",     read_string,     Device, owner),
        {}
};

static const Property manager_properties[] = {
        PROP("Version",         "s", read_string, Model, version),
        PROP("SysfsRoot",       "s", read_string, Model, sysfs_root),
        PROP("DefinitionsDir",  "s", read_string, Model, definitions_dir),
        PROP("DefinitionsProblem", "s", read_string, Model, definitions_problem),
        PROP_N("SkippedDefinitions", "a(ss)", read_attributes, Model, skipped_definitions, n_skipped_definitions),
        PROP_N("RefusedChanges", "a(tss)", read_refusals, Model, refused_changes, n_refused_changes),
        {}
};

typedef struct PropertyReader {
        const Property *table;
        const Property *hint;
        void *base;
        const char *interface;
        const char *path;
} PropertyReader;

static int read_property(sd_bus_message *m, const char *name, void *userdata) {
        PropertyReader *pr = userdata;
        const char *contents = NULL;
        const Property *p;
        char type;
        int r;

        /* siovd sends properties in table (XML) order: try the one after
         * the last match first, the whole table otherwise. */
        p = pr->hint && pr->hint->name && streq(pr->hint->name, name) ? pr->hint : NULL;
        if (!p)
                for (p = pr->table; p->name; p++)
                        if (streq(p->name, name))
                                break;
        pr->hint = p->name ? p + 1 : pr->table;

        if (!p->name)
                return sd_bus_message_skip(m, "v");

        r = sd_bus_message_enter_container(m, 'v', p->signature);
        if (r == -ENXIO) {
                /* Only now find out what was sent, for the message. */
                (void) sd_bus_message_peek_type(m, &type, &contents);
                log_error_errno(-EBADMSG, "siovd sent %s.%s of %s with signature '%s', expected '%s'",
                                pr->interface, name, pr->path, strempty(contents), p->signature);
                return -EPROTO;
        }
        if (r < 0)
                return r;
        r = p->read(m, (uint8_t *) pr->base + p->offset,
                    p->count_offset ? (uint8_t *) pr->base + p->count_offset : NULL);
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

/* Reads one a{sv} into the struct at base. Unknown properties are skipped
 * (a newer siovd may add some); a known one with the wrong signature is a
 * broken contract and fails. */
static int read_properties(sd_bus_message *m, const Property *table, void *base,
                           const char *interface, const char *path) {
        PropertyReader pr = {
                .table = table, .hint = table, .base = base, .interface = interface, .path = path,
        };

        return bus_message_read_dict(m, "sv", read_property, &pr);
}

/* Every string field starts as "" so that absent properties print as "". */
static void parent_init(void *o, const char *path) {
        Parent *p = o;

        *p = (Parent) {
                .path = path, .name = "", .driver = "", .subsystem = "",
                .sysfs_path = "", .broken = "", .idxd_device = "", .idxd_state = "",
                .persistent_numvfs = -1, .persistent_autoprobe = -1,
        };
}

static void type_init(void *o, const char *path) {
        Type *t = o;

        *t = (Type) {
                .path = path, .id = "", .kind = "", .parent = "", .name = "",
                .description = "", .device_api = "", .broken = "",
        };
}

static void device_init(void *o, const char *path) {
        Device *d = o;

        *d = (Device) {
                .path = path, .uuid = "", .kind = "", .parent = "", .type = "",
                .state = "", .vm = "", .address = "", .sysfs_path = "",
                .driver = "", .netdevs = NULL,
        };
}

/* Absent array properties become empty lists, so printers need no checks. */
static int empty_strv(const char ***l) {
        if (*l)
                return 0;
        *l = calloc(1, sizeof(char *));
        return *l ? 0 : -ENOMEM;
}

static int model_fill_defaults(Model *m) {
        for (size_t i = 0; i < m->n_parents; i++)
                if (empty_strv(&m->parents[i].kinds) < 0 || empty_strv(&m->parents[i].netdevs) < 0)
                        return -ENOMEM;
        for (size_t i = 0; i < m->n_devices; i++)
                if (empty_strv(&m->devices[i].netdevs) < 0)
                        return -ENOMEM;
        return 0;
}

typedef struct ModelParser {
        Model *model;
        const char *path;       /* of the object being read */
        size_t allocated_parents, allocated_types, allocated_devices;
} ModelParser;

/* Appends an object of size bytes to *array, set up by init, and reads its
 * properties into it. */
static int model_add(sd_bus_message *reply, const ModelParser *mp, const char *interface,
                     void **array, size_t *n, size_t *allocated, size_t size,
                     void (*init)(void *o, const char *path), const Property *table) {
        void *o;
        int r;

        r = greedy_realloc(array, allocated, *n + 1, size) ? 0 : -ENOMEM;
        if (r < 0)
                return r;
        o = (uint8_t *) *array + *n * size;
        init(o, mp->path);
        /* Counted before reading, so model_free() sees arrays of a
         * half-read object. */
        (*n)++;
        return read_properties(reply, table, o, interface, mp->path);
}

static int model_parse_interface(sd_bus_message *reply, const char *interface, void *userdata) {
        ModelParser *mp = userdata;
        Model *m = mp->model;

        if (streq(interface, SIOV_DBUS_PARENT_INTERFACE))
                return model_add(reply, mp, interface, (void **) &m->parents, &m->n_parents,
                                 &mp->allocated_parents, sizeof(Parent), parent_init, parent_properties);
        if (streq(interface, SIOV_DBUS_TYPE_INTERFACE))
                return model_add(reply, mp, interface, (void **) &m->types, &m->n_types,
                                 &mp->allocated_types, sizeof(Type), type_init, type_properties);
        if (streq(interface, SIOV_DBUS_DEVICE_INTERFACE))
                return model_add(reply, mp, interface, (void **) &m->devices, &m->n_devices,
                                 &mp->allocated_devices, sizeof(Device), device_init, device_properties);
        if (streq(interface, SIOV_DBUS_MANAGER_INTERFACE)) {
                m->have_manager = true;
                return read_properties(reply, manager_properties, m, interface, mp->path);
        }
        return sd_bus_message_skip(reply, "a{sv}");
}

static int model_parse_object(sd_bus_message *reply, const char *path, void *userdata) {
        ModelParser *mp = userdata;

        mp->path = path;
        return bus_message_read_dict(reply, "sa{sv}", model_parse_interface, mp);
}

int model_parse(Model *m, sd_bus_message *reply) {
        ModelParser mp = { .model = m };
        int r;

        r = bus_message_read_dict(reply, "oa{sa{sv}}", model_parse_object, &mp);
        if (r < 0)
                return r;
        return model_fill_defaults(m);
}

/* An empty model, its strings "" until read; out of memory is printed. */
static int model_new(Model **ret) {
        Model *m;

        m = calloc(1, sizeof(Model));
        if (!m)
                return log_error_errno(-ENOMEM, "out of memory");
        m->version = m->sysfs_root = m->definitions_dir = m->definitions_problem = "";
        *ret = m;
        return 0;
}

/* The Manager's own properties (version, sysfs root), fetched already. */
static int model_read_manager(Context *c, Model *m) {
        int r;

        r = read_properties(m->manager_reply, manager_properties, m, SIOV_DBUS_MANAGER_INTERFACE, SIOV_DBUS_PATH);
        if (r == -EPROTO)
                return r;
        if (r < 0) {
                log_error_errno(r, "cannot parse siovd's manager properties: %s", strerror(-r));
                return -EPROTO;
        }
        m->have_manager = true;
        return 0;
}

/* The signature of a record of ListParents/ListTypes: the object path,
 * then every property of the table, in its order (siovd builds the records
 * from its vtable in the same order). A property one side has and the other
 * does not makes the records unreadable: an error, never a silent gap. */
static char *record_signature(const Property *table) {
        size_t n = 2;
        char *sig;

        for (const Property *p = table; p->name; p++)
                n += strlen(p->signature);
        sig = malloc(n);
        if (!sig)
                return NULL;
        strcpy(sig, "o");
        for (const Property *p = table; p->name; p++)
                strcat(sig, p->signature);
        return sig;
}

/* Reads a ListParents or ListTypes reply into *array (n objects of size
 * bytes, set up by init), each record read by the table's readers. */
static int model_parse_records(sd_bus_message *reply, const Property *table, void **array, size_t *n,
                               size_t size, void (*init)(void *o, const char *path)) {
        _cleanup_free_ char *sig = record_signature(table), *array_sig = NULL;
        size_t allocated = 0;
        int r;

        if (!sig || asprintf(&array_sig, "(%s)", sig) < 0)
                return -ENOMEM;
        r = sd_bus_message_enter_container(reply, 'a', array_sig);
        if (r < 0)
                return r;
        for (;;) {
                const char *path;
                uint8_t *o;

                r = sd_bus_message_enter_container(reply, 'r', sig);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                r = sd_bus_message_read_basic(reply, 'o', &path);
                if (r < 0)
                        return r;
                if (!greedy_realloc(array, &allocated, *n + 1, size))
                        return -ENOMEM;
                o = (uint8_t *) *array + *n * size;
                init(o, path);
                (*n)++;
                for (const Property *p = table; p->name; p++) {
                        r = p->read(reply, o + p->offset, p->count_offset ? o + p->count_offset : NULL);
                        if (r < 0)
                                return r;
                }
                r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_exit_container(reply);
}

static int model_parse_status(Model *m, sd_bus_message *reply) {
        int r;

        r = read_dict_su(reply, &m->counts, &m->n_counts);
        if (r < 0)
                return r;
        r = model_parse_device_list(m, reply);
        if (r < 0)
                return r;
        for (size_t i = 0; i < m->n_counts; i++)
                if (streq(m->counts[i].key, "devices"))
                        m->total_devices = m->counts[i].value;
        return 0;
}

int model_fetch_compact(Context *c, bool manager, Model **ret) {
        _cleanup_(model_freep) Model *m = NULL;
        int r;

        r = model_new(&m);
        if (r < 0)
                return r;

        {
                BusBatchCall calls[] = {
                        { .member = "ListParents", .what = "list siovd's parents", .reply = &m->reply },
                        { .member = "ListTypes", .arg = "", .what = "list siovd's types", .reply = &m->types_reply },
                        { .member = "GetStatus", .what = "read siovd's status", .reply = &m->status_reply },
                        { .interface = "org.freedesktop.DBus.Properties", .member = "GetAll",
                          .arg = SIOV_DBUS_MANAGER_INTERFACE, .what = "read siovd's version",
                          .reply = &m->manager_reply },
                        { .member = "ListParentConfigs", .what = "read the PF configurations",
                          .reply = &m->configs_reply },
                };

                /* The manager's properties and the PF configurations only
                 * for the status. */
                r = bus_call_batch(c, calls, manager ? ELEMENTSOF(calls) : 3);
                if (r < 0)
                        return r;
        }
        /* A bad reply is a failure of siovd (exit 1), whatever the errno. */
        r = model_parse_records(m->reply, parent_properties, (void **) &m->parents, &m->n_parents,
                                sizeof(Parent), parent_init);
        if (r >= 0)
                r = model_parse_records(m->types_reply, type_properties, (void **) &m->types, &m->n_types,
                                        sizeof(Type), type_init);
        if (r >= 0)
                r = model_parse_status(m, m->status_reply);
        if (r >= 0)
                r = model_fill_defaults(m);
        if (r < 0) {
                log_error_errno(r, "cannot parse siovd's lists from %s: %m", c->bus_description);
                return -EPROTO;
        }
        if (manager) {
                r = model_read_manager(c, m);
                if (r < 0)
                        return r;
        }
        r = model_link(m);
        if (r < 0)
                return log_error_errno(r, "out of memory");
        *ret = TAKE_PTR(m);
        return 0;
}

int device_fetch(Context *c, const char *path, const char *object, Model **ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(model_freep) Model *m = NULL;
        int r;

        r = bus_connect(c);
        if (r < 0)
                return r;

        r = model_new(&m);
        if (r < 0)
                return r;
        m->devices = calloc(1, sizeof(Device));
        if (!m->devices)
                return log_error_errno(-ENOMEM, "out of memory");

        r = sd_bus_call_method(c->bus, SIOV_DBUS_NAME, path, "org.freedesktop.DBus.Properties", "GetAll",
                               &error, &m->reply, "s", SIOV_DBUS_DEVICE_INTERFACE);
        if (r < 0)
                return bus_log_call_error_object(c, &error, r, "read the device", object, NULL);

        device_init(&m->devices[0], path);
        m->n_devices = 1;
        r = read_properties(m->reply, device_properties, &m->devices[0], SIOV_DBUS_DEVICE_INTERFACE, path);
        if (r == -EPROTO)
                return r;
        if (r < 0) {
                log_error_errno(r, "cannot parse the properties of %s: %m", object);
                return -EPROTO;
        }
        r = model_fill_defaults(m);
        if (r < 0)
                return log_error_errno(r, "out of memory");
        *ret = TAKE_PTR(m);
        return 0;
}

/* Reads a Manager.ListDevices reply: one record per device, the Device
 * properties in their order (see dbus/org.siov1.Manager.xml). */
int model_parse_device_list(Model *m, sd_bus_message *reply) {
        size_t allocated = 0;
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "(osssssbbsa(ss)sssbas)");
        if (r < 0)
                return r;
        for (;;) {
                Device *d;

                r = sd_bus_message_enter_container(reply, 'r', "osssssbbsa(ss)sssbas");
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                r = greedy_realloc((void **) &m->devices, &allocated, m->n_devices + 1, sizeof(Device)) ? 0 : -ENOMEM;
                if (r < 0)
                        return r;
                d = &m->devices[m->n_devices++];
                *d = (Device) {};
                r = sd_bus_message_read(reply, "osssssbbs", &d->path, &d->uuid, &d->kind, &d->parent,
                                        &d->type, &d->state, &d->persistent, &d->autostart, &d->vm);
                if (r < 0)
                        return r;
                r = read_attributes(reply, &d->attributes, &d->n_attributes);
                if (r < 0)
                        return r;
                r = sd_bus_message_read(reply, "sssb", &d->address, &d->sysfs_path, &d->driver, &d->host_used);
                if (r < 0)
                        return r;
                r = read_strv(reply, &d->netdevs, NULL);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_exit_container(reply);
}

/* Every device, one parent at a time: what siovd asks for when one answer
 * would not fit in a bus message (100,000 devices). The parents are those
 * of ListParents and of the devices waiting for an absent parent. */
static int device_list_fetch_paged(Context *c, const char *type, Model *m) {
        _cleanup_(model_freep) Model *parents = NULL;
        int r;

        r = model_fetch_compact(c, false, &parents);
        if (r < 0)
                return r;
        m->pages = calloc(parents->n_parents + parents->n_devices, sizeof(sd_bus_message *));
        if (!m->pages)
                return log_error_errno(-ENOMEM, "out of memory");
        for (size_t i = 0; i < parents->n_parents + parents->n_devices; i++) {
                const char *p = i < parents->n_parents ? parents->parents[i].name :
                                                         parents->devices[i - parents->n_parents].parent;
                bool seen = false;

                for (size_t k = parents->n_parents; k < i && !seen; k++)
                        seen = streq(parents->devices[k - parents->n_parents].parent, p);
                if (seen)
                        continue;
                r = bus_call(c, SIOV_DBUS_PATH, SIOV_DBUS_MANAGER_INTERFACE, "ListDevices",
                             "list siovd's devices", &m->pages[m->n_pages], "ss", p, "");
                if (r < 0)
                        return r;
                r = model_parse_device_list(m, m->pages[m->n_pages++]);
                if (r < 0)
                        return log_error_errno(-EPROTO, "cannot parse siovd's device list from %s: %s",
                                               c->bus_description, strerror(-r));
        }
        /* The type filter, here: a parent without that type is no error. */
        if (!isempty(type)) {
                size_t k = 0;

                for (size_t i = 0; i < m->n_devices; i++)
                        if (streq(m->devices[i].type, type))
                                m->devices[k++] = m->devices[i];
                        else {
                                free(m->devices[i].attributes);
                                free(m->devices[i].netdevs);
                        }
                m->n_devices = k;
        }
        return 0;
}

static int by_uuid_compare(const void *x, const void *y) {
        const Device * const *a = x, * const *b = y;

        return strcmp((*a)->uuid, (*b)->uuid);
}

Device *model_find_device(Model *m, const char *uuid) {
        Device key = { .uuid = uuid }, *k = &key, **found;

        /* An index by UUID, made at the first look-up: siovd's per-device
         * lists (ListVgpus, ListVfNetwork, ListOwners) name thousands of
         * devices at 10,000, a walk for each was most of siovctl's time. */
        if (m->n_by_uuid != m->n_devices || !m->by_uuid) {
                Device **l = reallocarray(m->by_uuid, MAX(m->n_devices, 1u), sizeof(Device *));

                if (!l)
                        return NULL;
                m->by_uuid = l;
                for (size_t i = 0; i < m->n_devices; i++)
                        l[i] = &m->devices[i];
                m->n_by_uuid = m->n_devices;
                qsort_safe(l, m->n_by_uuid, sizeof(Device *), by_uuid_compare);
        }
        found = m->n_by_uuid > 0 ? bsearch(&k, m->by_uuid, m->n_by_uuid, sizeof(Device *), by_uuid_compare) : NULL;
        return found ? *found : NULL;
}

/* ListVgpus: (uuid, current type, creatable types) per vGPU VF. */
static int model_parse_vgpus(Model *m, sd_bus_message *reply) {
        const char *uuid;
        uint32_t cur;
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "(sua(us))");
        while (r >= 0) {
                Device *d;

                r = sd_bus_message_enter_container(reply, 'r', "sua(us)");
                if (r <= 0)
                        break;
                r = sd_bus_message_read(reply, "su", &uuid, &cur);
                if (r < 0)
                        break;
                d = model_find_device(m, uuid);
                r = sd_bus_message_enter_container(reply, 'a', "(us)");
                while (r >= 0) {
                        VgpuType t, *l;

                        r = sd_bus_message_read(reply, "(us)", &t.id, &t.name);
                        if (r <= 0)
                                break;
                        if (!d)
                                continue;
                        l = reallocarray(d->vgpu_types, d->n_vgpu_types + 1, sizeof(VgpuType));
                        if (!l)
                                return log_error_errno(-ENOMEM, "out of memory");
                        d->vgpu_types = l;
                        d->vgpu_types[d->n_vgpu_types++] = t;
                }
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                if (d) {
                        d->vgpu = true;
                        d->vgpu_type = cur;
                }
        }
        if (r < 0)
                return log_error_errno(r, "cannot parse siovd's answer to ListVgpus: %s", strerror(-r));
        return 0;
}

/* ListVfNetwork: the network state of the VFs of PFs with a netdev. */
static int model_parse_vf_network(Model *m, sd_bus_message *reply) {
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "(ssuusss)");
        while (r > 0) {
                const char *uuid, *mac, *link, *spoofchk, *trust;
                uint32_t vlan, qos;
                Device *d;

                r = sd_bus_message_read(reply, "(ssuusss)", &uuid, &mac, &vlan, &qos, &link, &spoofchk, &trust);
                if (r <= 0)
                        break;
                d = model_find_device(m, uuid);
                if (!d)
                        continue;
                d->vf_net = true;
                d->vf_mac = mac;
                d->vf_vlan = vlan;
                d->vf_qos = qos;
                d->vf_link_state = link;
                d->vf_spoofchk = spoofchk;
                d->vf_trust = trust;
        }
        if (r < 0)
                return log_error_errno(r, "cannot parse siovd's answer to ListVfNetwork: %s", strerror(-r));
        return 0;
}

/* ListOwners: (uuid, owner, VFIO group) of the devices a program asked for. */
static int model_parse_owners(Model *m, sd_bus_message *reply) {
        const char *uuid, *owner, *group;
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "(sss)");
        while (r >= 0) {
                Device *d;

                r = sd_bus_message_read(reply, "(sss)", &uuid, &owner, &group);
                if (r <= 0)
                        break;
                d = model_find_device(m, uuid);
                if (d)
                        d->owner = owner;
        }
        if (r < 0)
                return log_error_errno(r, "cannot parse siovd's answer to ListOwners: %s", strerror(-r));
        return 0;
}

int device_list_fetch(Context *c, const char *parent, const char *type, bool details, Model **ret) {
        _cleanup_(model_freep) Model *m = NULL;
        bool has_vf = false;
        int r;

        r = model_new(&m);
        if (r < 0)
                return r;

        /* The per-device lists go with ListDevices, in one round trip
         * (siovd answers them in order, the big list first). The VF lists
         * matter only when the list has a VF: their failure counts then. */
        BusBatchCall calls[] = {
                { .member = "ListDevices", .arg = strempty(parent), .arg2 = strempty(type),
                  .what = "list siovd's devices", .reply = &m->reply, .optional = true },
                { .member = "ListVgpus", .arg = strempty(parent), .what = "list the vGPU VFs",
                  .reply = &m->vgpu_reply, .optional = true },
                { .member = "ListVfNetwork", .arg = strempty(parent), .what = "list the network state of VFs",
                  .reply = &m->vf_net_reply, .optional = true },
                { .member = "ListOwners", .arg = strempty(parent), .what = "list the devices' owners",
                  .reply = &m->owners_reply, .optional = true },
        };
        r = bus_call_batch(c, calls, details ? ELEMENTSOF(calls) : 1);
        if (r >= 0) {
                /* siovd checks the filters: an unknown parent or type comes
                 * back as NoSuchParent/NoSuchType naming it (exit 4). */
                if (calls[0].r < 0 && isempty(parent) && sd_bus_error_has_name(&calls[0].error, SIOV_ERROR_LIMITS_EXCEEDED))
                        r = device_list_fetch_paged(c, type, m);
                else if (calls[0].r < 0)
                        r = bus_log_call_error(c, &calls[0].error, calls[0].r, calls[0].what);
                else {
                        r = model_parse_device_list(m, m->reply);
                        if (r < 0)
                                r = log_error_errno(-EPROTO, "cannot parse siovd's device list from %s: %s",
                                                    c->bus_description, strerror(-r));
                }
        }
        if (r >= 0)
                r = model_link(m) < 0 ? log_error_errno(-ENOMEM, "out of memory") : 0;
        for (size_t i = 0; r >= 0 && details && i < m->n_devices && !has_vf; i++)
                has_vf = streq(m->devices[i].kind, "vf");
        for (size_t i = 1; r >= 0 && has_vf && i <= 2; i++)
                if (calls[i].r < 0)
                        r = bus_log_call_error(c, &calls[i].error, calls[i].r, calls[i].what);
        if (r >= 0 && details && calls[3].r < 0)
                r = bus_log_call_error(c, &calls[3].error, calls[3].r, calls[3].what);
        if (r >= 0 && has_vf)
                r = model_parse_vgpus(m, m->vgpu_reply);
        if (r >= 0 && has_vf)
                r = model_parse_vf_network(m, m->vf_net_reply);
        if (r >= 0 && details)
                r = model_parse_owners(m, m->owners_reply);
        for (size_t i = 0; i < ELEMENTSOF(calls); i++)
                sd_bus_error_free(&calls[i].error);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}
