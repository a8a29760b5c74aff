/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bus-util.h"
#include "definitions.h"
#include "device.h"
#include "lifecycle.h"
#include "polkit.h"
#include "journal.h"
#include "log.h"
#include "manager.h"
#include "metrics.h"
#include "parent.h"
#include "siov-errors.h"
#include "siov-names.h"
#include "sriov.h"

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

static int property_get_definitions_dir(sd_bus *bus, const char *path, const char *interface,
                                       const char *property, sd_bus_message *reply, void *userdata,
                                       sd_bus_error *error) {
        Manager *m = userdata;
        return sd_bus_message_append(reply, "s", m->definitions_dir);
}

static int property_get_definitions_problem(sd_bus *bus, const char *path, const char *interface,
                                           const char *property, sd_bus_message *reply, void *userdata,
                                           sd_bus_error *error) {
        Manager *m = userdata;
        return sd_bus_message_append(reply, "s", strempty(m->definitions_problem));
}

static int property_get_skipped_definitions(sd_bus *bus, const char *path, const char *interface,
                                            const char *property, sd_bus_message *reply, void *userdata,
                                            sd_bus_error *error) {
        return definitions_append_skipped(userdata, reply);
}

static int property_get_refused_changes(sd_bus *bus, const char *path, const char *interface,
                                        const char *property, sd_bus_message *reply, void *userdata,
                                        sd_bus_error *error) {
        return definitions_append_refusals(userdata, reply);
}

static void rescan_answer(Manager *m, sd_bus_message *message, int r) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

        if (r < 0) {
                (void) sd_bus_error_setf(&e, SIOV_ERROR_KERNEL_ERROR, "Cannot read sysfs under '%s/': %s",
                                         siov_ctx_get_root(m->ctx), strerror(-r));
                r = sd_bus_reply_method_error(message, &e);
        } else
                r = sd_bus_reply_method_return(message, NULL);
        if (r < 0)
                log_debug_errno(r, "Cannot answer a Rescan: %m");
}

static int do_rescan(Manager *m) {
        int r = manager_rescan(m);

        (void) sd_event_now(m->event, CLOCK_MONOTONIC, &m->last_rescan_usec);
        return r;
}

static int on_rescan_due(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        sd_bus_message **waiting = TAKE_PTR(m->rescan_waiting);
        size_t n = m->n_rescan_waiting;
        int r;

        m->n_rescan_waiting = 0;
        r = do_rescan(m);
        for (size_t i = 0; i < n; i++) {
                rescan_answer(m, waiting[i], r);
                sd_bus_message_unref(waiting[i]);
        }
        free(waiting);
        return 0;
}

/* A full rescan reads all of sysfs (100,000 devices: a noticeable time).
 * Anyone may ask, so at most one runs per SIOV_RESCAN_INTERVAL_USEC: a call
 * that comes sooner waits for the next one, which answers every caller
 * waiting (each still gets a read made after it asked). Callers looping
 * Rescan cannot keep siovd scanning. */
static int method_rescan(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        sd_bus_message **w;
        uint64_t now;
        int r;

        (void) sd_event_now(m->event, CLOCK_MONOTONIC, &now);
        if (m->n_rescan_waiting == 0 &&
            (m->last_rescan_usec == 0 || now >= m->last_rescan_usec + SIOV_RESCAN_INTERVAL_USEC)) {
                r = do_rescan(m);
                if (r < 0)
                        return sd_bus_error_setf(error, SIOV_ERROR_KERNEL_ERROR,
                                                 "Cannot read sysfs under '%s/': %s",
                                                 siov_ctx_get_root(m->ctx), strerror(-r));
                return sd_bus_reply_method_return(message, NULL);
        }
        if (m->n_rescan_waiting >= SIOV_RESCAN_WAITING_MAX)
                return sd_bus_error_setf(error, SIOV_ERROR_BUSY,
                                         "%zu Rescan calls are waiting already; retry in a second",
                                         m->n_rescan_waiting);
        w = reallocarray(m->rescan_waiting, m->n_rescan_waiting + 1, sizeof(sd_bus_message *));
        if (!w)
                return -ENOMEM;
        m->rescan_waiting = w;
        if (!m->rescan_timer) {
                r = sd_event_add_time(m->event, &m->rescan_timer, CLOCK_MONOTONIC,
                                      m->last_rescan_usec + SIOV_RESCAN_INTERVAL_USEC, 0, on_rescan_due, m);
                if (r < 0)
                        return r;
        } else {
                r = sd_event_source_set_time(m->rescan_timer, m->last_rescan_usec + SIOV_RESCAN_INTERVAL_USEC);
                if (r >= 0)
                        r = sd_event_source_set_enabled(m->rescan_timer, SD_EVENT_ONESHOT);
                if (r < 0)
                        return r;
        }
        m->rescan_waiting[m->n_rescan_waiting++] = sd_bus_message_ref(message);
        return 1;
}

static int error_limits_exceeded(sd_bus_error *error, const char *call, size_t n_devices, uint64_t size,
                                 uint64_t limit, const char *how) {
        return sd_bus_error_setf(error, SIOV_ERROR_LIMITS_EXCEEDED,
                                 "the answer to %s (%zu devices, up to %.1f MiB) would exceed the bus's "
                                 "message limit of %.1f MiB: %s",
                                 call, n_devices, size / 1048576.0, limit / 1048576.0, how);
}

/* Whole-tree reads (GetManagedObjects of the devices, ListDevices without a
 * parent) cost the event loop time in proportion to the devices: a caller
 * looping them would slow everyone else's calls. Unprivileged callers get
 * a token bucket per uid (per uid, not per connection: a new connection
 * would otherwise bring a full bucket), counted in devices read: it
 * refills at SIOV_TREE_READ_RATE devices per second and holds at least two
 * whole trees, so a page load or a `siovctl list` is never refused. Past
 * that the call is Busy, saying when to retry and how to page. Root (and
 * so the libvirt hook and the udev rule) is never capped. */
typedef struct TreeReadBucket {
        char key[32];
        double tokens;
        uint64_t last_usec;
} TreeReadBucket;

static int tree_read_allowed(Manager *m, sd_bus_message *message, size_t n_devices, sd_bus_error *error) {
        const double cost = (double) n_devices + SIOV_TREE_READ_BASE_COST;
        const double capacity = cost * 2 > SIOV_TREE_READ_BURST ? cost * 2 : SIOV_TREE_READ_BURST;
        TreeReadBucket *b;
        char key[32];
        uint64_t now;
        uid_t uid;
        int r;

        r = siov_polkit_sender_euid(message, &uid);
        if (r < 0)
                /* Unknown: treated as unprivileged, with a bucket of its own
                 * kind (never root's free pass). */
                uid = (uid_t) -1;
        if (uid == 0)
                return 0;
        snprintf(key, sizeof(key), "%u", (unsigned) uid);
        (void) sd_event_now(m->event, CLOCK_MONOTONIC, &now);
        r = hashmap_ensure_allocated(&m->tree_read_buckets, free);
        if (r < 0)
                return r;
        b = hashmap_get(m->tree_read_buckets, key);
        if (!b) {
                /* Callers come and go: a table grown large starts over. */
                if (hashmap_size(m->tree_read_buckets) >= 4096)
                        hashmap_clear(m->tree_read_buckets);
                b = calloc(1, sizeof(*b));
                if (!b)
                        return -ENOMEM;
                snprintf(b->key, sizeof(b->key), "%s", key);
                b->tokens = capacity;
                b->last_usec = now;
                r = hashmap_put(m->tree_read_buckets, b->key, b);
                if (r < 0) {
                        free(b);
                        return r;
                }
        }
        b->tokens += (double) (now - b->last_usec) * SIOV_TREE_READ_RATE / 1e6;
        if (b->tokens > capacity)
                b->tokens = capacity;
        b->last_usec = now;
        if (b->tokens >= cost) {
                b->tokens -= cost;
                return 0;
        }
        log_debug("Refusing a whole-tree %s of uid %u: its read budget is spent.",
                  sd_bus_message_get_member(message), (unsigned) uid);
        return sd_bus_error_setf(error, SIOV_ERROR_BUSY,
                                 "whole-tree reads by uid %u are limited to %u devices per second and this "
                                 "tree has %zu: retry in %.1f s, or read one parent at a time with "
                                 "ListDevices(parent, \"\") (siovctl list --parent P)",
                                 (unsigned) uid, (unsigned) SIOV_TREE_READ_RATE, n_devices,
                                 (cost - b->tokens) / SIOV_TREE_READ_RATE + 0.05);
}

/* GetManagedObjects on the root (the Manager, parents and types) and on
 * the devices' manager comes here first. sd-bus answers it itself,
 * property by property; a reply over the bus's limit would make
 * dbus-daemon drop siovd's connection, so a tree too large for one message
 * is refused with the way to page it. */
static int managed_objects_filter(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        bool devices = streq(sd_bus_message_get_path(message), SIOV_DBUS_DEVICE_PREFIX);
        uint64_t size = 4096;
        Parent *p;
        Device *d;

        if (!sd_bus_message_is_method_call(message, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects"))
                return 0;
        if (devices)
                HASHMAP_FOREACH(d, m->devices, i)
                        size += device_reply_size(d, true);
        else
                HASHMAP_FOREACH(p, m->parents, i)
                        size += parent_reply_size(p);
        if (size <= m->max_reply_size)
                return devices ? tree_read_allowed(m, message, hashmap_size(m->devices), error) : 0;
        return error_limits_exceeded(error, "GetManagedObjects", devices ? hashmap_size(m->devices) : 0, size,
                                     m->max_reply_size,
                                     "list devices with " SIOV_DBUS_MANAGER_INTERFACE ".ListDevices, one parent "
                                     "at a time (siovctl list --parent P), parents and types with ListParents "
                                     "and ListTypes, and read single objects with "
                                     "org.freedesktop.DBus.Properties.GetAll");
}

/* The bus is siovd's reason to run: without it nobody can reach it, and
 * the name is gone. Exit, so that the service manager starts it again. */
static int on_disconnected(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;

        log_error("Lost the connection to the bus; exiting so that the service manager restarts siovd.");
        return sd_event_exit(m->event, -ENOTCONN);
}

/* The compact lists: one record per object, in one array. */
typedef struct ListFilter {
        Manager *manager;
        const char *parent, *type;      /* "" or NULL: all */
} ListFilter;

static int reply_records(sd_bus_message *message, const char *record,
                         int (*append)(sd_bus_message *reply, const ListFilter *f), const ListFilter *f) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(message, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', record);
        if (r < 0)
                return r;
        r = append(reply, f);
        if (r < 0)
                return r;
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int append_device(Device *d, sd_bus_message *reply, const ListFilter *f) {
        if (!isempty(f->type) && !streq(device_get_type(d), f->type))
                return 0;
        return device_append_record(d, reply);
}

static int append_devices(sd_bus_message *reply, const ListFilter *f) {
        Device *d;
        int r;

        /* One parent: its own list, not a walk over every device. */
        if (!isempty(f->parent)) {
                DEVICE_LIST_FOREACH(d, manager_parent_devices(f->manager, f->parent), i) {
                        r = append_device(d, reply, f);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        HASHMAP_FOREACH(d, f->manager->devices, i) {
                r = append_device(d, reply, f);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int append_parents(sd_bus_message *reply, const ListFilter *f) {
        Parent *p;
        int r;

        HASHMAP_FOREACH(p, f->manager->parents, i) {
                r = parent_append_record(p, reply);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int append_types(sd_bus_message *reply, const ListFilter *f) {
        Parent *p;
        int r;

        HASHMAP_FOREACH(p, f->manager->parents, i) {
                if (!isempty(f->parent) && !streq(p->name, f->parent))
                        continue;
                for (size_t j = 0; j < p->n_types; j++) {
                        r = type_append_record(p->types[j], reply);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int method_list_devices(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_free_ const char **known = NULL;
        Manager *m = userdata;
        const char *parent, *type;
        size_t n_known = 0;
        bool charged = false;
        Parent *p;
        Device *d;
        int r;

        r = sd_bus_message_read(message, "ss", &parent, &type);
        if (r < 0)
                return r;

        /* Filters name objects: unknown ones are errors, not empty lists. */
        if (!isempty(parent) && !hashmap_get(m->parents, parent)) {
                if (!manager_parent_devices(m, parent)) {
                        known = calloc(hashmap_size(m->parents) + 1, sizeof(char *));
                        if (!known)
                                return -ENOMEM;
                        HASHMAP_FOREACH(p, m->parents, i)
                                known[n_known++] = p->name;
                        return siov_error_no_such(error, SIOV_ERROR_NO_SUCH_PARENT, "parent", parent, known, n_known);
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
                if (!found && !isempty(parent))
                        DEVICE_LIST_FOREACH(d, manager_parent_devices(m, parent), i)
                                if (streq(device_get_type(d), type)) {
                                        found = true;
                                        break;
                                }
                if (!found && isempty(parent)) {
                        /* A type no parent offers: only a walk over every
                         * device can tell, so an unprivileged caller pays
                         * for it as for the whole-tree reply (below). */
                        r = tree_read_allowed(m, message, hashmap_size(m->devices), error);
                        if (r < 0)
                                return r;
                        charged = true;
                        HASHMAP_FOREACH(d, m->devices, i)
                                if (streq(device_get_type(d), type)) {
                                        found = true;
                                        break;
                                }
                }
                if (!found) {
                        known = calloc(n + 1, sizeof(char *));
                        if (!known)
                                return -ENOMEM;
                        HASHMAP_FOREACH(p, m->parents, i)
                                if (isempty(parent) || streq(p->name, parent))
                                        for (size_t j = 0; j < p->n_types; j++)
                                                known[n_known++] = p->types[j]->id;
                        return siov_error_no_such(error, SIOV_ERROR_NO_SUCH_TYPE, "type", type, known, n_known);
                }
        }

        if (isempty(parent)) {
                uint64_t size = 0;
                size_t n = 0;

                HASHMAP_FOREACH(d, m->devices, i)
                        if (isempty(type) || streq(device_get_type(d), type)) {
                                size += device_reply_size(d, false);
                                n++;
                        }
                if (size > m->max_reply_size)
                        return error_limits_exceeded(error, "ListDevices", n, size, m->max_reply_size,
                                                     "ask for one parent at a time: ListDevices(parent, type) "
                                                     "(siovctl list --parent P)");
                if (!charged) {
                        r = tree_read_allowed(m, message, hashmap_size(m->devices), error);
                        if (r < 0)
                                return r;
                }
        }

        return reply_records(message, "(osssssbbsa(ss)sssbas)", append_devices,
                             &(ListFilter) { m, parent, type });
}

static int method_list_parents(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return reply_records(message, "(" PARENT_RECORD_SIGNATURE ")", append_parents,
                             &(ListFilter) { userdata, NULL, NULL });
}

static int method_list_types(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *parent;
        int r;

        r = sd_bus_message_read(message, "s", &parent);
        if (r < 0)
                return r;
        if (!isempty(parent) && !hashmap_get(m->parents, parent))
                return siov_error_no_such_parent(m, parent, error);

        return reply_records(message, "(" TYPE_RECORD_SIGNATURE ")", append_types,
                             &(ListFilter) { m, parent, NULL });
}

/* Counts from Manager.device_counts (kept as devices change), and the few
 * devices defined for a parent that is not present. */
static int method_get_status(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        size_t (*c)[2] = m->device_counts, by_kind[2] = {}, by_state[_DEVICE_STATE_MAX] = {}, n_types = 0;
        uint32_t parent_kinds[2] = {};
        DeviceList *l;
        Parent *p;
        Device *d;
        int r;

        for (DeviceState s = DEVICE_STATE_DEFINED; s < _DEVICE_STATE_MAX; s++)
                for (int k = 0; k < 2; k++) {
                        by_state[s] += c[s][k];
                        by_kind[k] += c[s][k];
                }
        HASHMAP_FOREACH(p, m->parents, i) {
                unsigned kinds = siov_parent_get_kinds(p->snap);

                parent_kinds[0] += !!(kinds & SIOV_KIND_MDEV);
                parent_kinds[1] += !!(kinds & SIOV_KIND_SRIOV);
                n_types += p->n_types;
        }

        r = sd_bus_message_new_method_return(message, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_append(reply, "a{su}", 15,
                                  "parents", (uint32_t) hashmap_size(m->parents),
                                  "parents-mdev", parent_kinds[0],
                                  "parents-sriov", parent_kinds[1],
                                  "types", (uint32_t) n_types,
                                  "devices", (uint32_t) (by_kind[DEVICE_KIND_MDEV] + by_kind[DEVICE_KIND_VF]),
                                  "mdev", (uint32_t) by_kind[DEVICE_KIND_MDEV],
                                  "vf", (uint32_t) by_kind[DEVICE_KIND_VF],
                                  "active", (uint32_t) by_state[DEVICE_STATE_ACTIVE],
                                  "defined", (uint32_t) by_state[DEVICE_STATE_DEFINED],
                                  "both", (uint32_t) by_state[DEVICE_STATE_BOTH],
                                  "removing", (uint32_t) by_state[DEVICE_STATE_REMOVING],
                                  "writes-pending", (uint32_t) hashmap_size(m->pending),
                                  /* uevents wraps at 2^32: compare differences. */
                                  "uevents", (uint32_t) m->n_uevents,
                                  "uevent-overflows", (uint32_t) m->n_uevent_overflows,
                                  "refresh-pending", (uint32_t) manager_refresh_pending(m));
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(osssssbbsa(ss)sssbas)");
        if (r < 0)
                return r;
        /* Only defined devices can wait; most hosts have none. Only the
         * devices of absent parents are looked at (Manager.by_parent). */
        if (by_state[DEVICE_STATE_DEFINED] > 0)
                HASHMAP_FOREACH(l, m->by_parent, i) {
                        if (hashmap_get(m->parents, l->parent))
                                continue;
                        DEVICE_LIST_FOREACH(d, l, k) {
                                if (d->counted != DEVICE_STATE_DEFINED)
                                        continue;
                                r = device_append_record(d, reply);
                                if (r < 0)
                                        return r;
                        }
                }
        return bus_reply_close_and_send(reply);
}

static int read_strings(sd_bus_message *message, size_t n, const char **ret, sd_bus_error *error) {
        for (size_t i = 0; i < n; i++) {
                int r = sd_bus_message_read_basic(message, 's', &ret[i]);
                if (r < 0)
                        return r;
                if (strlen(ret[i]) > SIOV_BUS_STRING_MAX)
                        return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT, "argument %zu too long", i + 1);
        }
        return 0;
}

static int method_create_or_define(sd_bus_message *message, Manager *m, bool define, sd_bus_error *error) {
        static const char * const create_options[] = { "persistent", "autostart", "attrs", "vm", "owner", "force",
                                                        "vf_mac", "vf_vlan", "vf_qos", "vf_spoofchk", "vf_trust",
                                                        "vf_link_state", NULL };
        static const char * const define_options[] = { "autostart", "attrs", "vm", "owner", NULL };
        LifecycleOptions o = {};
        const char *a[3];
        BusCall *c;
        int r;

        r = read_strings(message, 3, a, error);
        if (r < 0)
                return r;
        r = bus_read_options(message, define ? define_options : create_options, &o, error);
        if (r < 0)
                return r;
        {
                const char *actions[] = {
                        define ? SIOV_POLKIT_DEFINE : SIOV_POLKIT_MANAGE,
                        !define && (o.persistent || o.autostart) ? SIOV_POLKIT_DEFINE : NULL,
                        !isempty(o.vm) ? SIOV_POLKIT_ASSIGN : NULL,
                };
                VfNetDetails net;
                char vf[16] = "";

                /* What the call is about, for narrower polkit rules; a VF's
                 * network settings each by name ("" when not given). */
                if (o.vf_net_set)
                        lifecycle_vf_candidate(m, a[0], a[1], a[2], vf);
                bus_vf_net_details(&o.vf_net, &net);
                const char *details[] = {
                        "parent", a[0], "type", a[1], "uuid", a[2], "vm", strempty(o.vm), "vf", vf,
                        VF_NET_DETAILS(net), NULL,
                };
                r = bus_verify_actions(message, m, actions, ELEMENTSOF(actions), details, error);
                if (r <= 0) {
                        free((void *) o.attrs);
                        return r < 0 ? r : 1;
                }
        }
        /* Answered when the kernel made it, or libvirt has its VM. */
        c = bus_call_new(m, message, BUS_CALL_REPLY_PATH, NULL);
        if (!c) {
                free((void *) o.attrs);
                return -ENOMEM;
        }
        r = (define ? lifecycle_define : lifecycle_create)(m, a[0], a[1], a[2], &o, bus_call_lifecycle_done(c), error);
        if (r < 0)
                log_device_refused(&(DeviceEvent) { .device = a[2], .parent = a[0], .type = a[1], .vm = o.vm },
                                   define ? "define a device" : "create a device",
                                   sd_bus_error_is_set(error) ? error->message : strerror(-r));
        free((void *) o.attrs);
        return bus_call_started(c, r, false);
}

static int method_create_device(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return method_create_or_define(message, userdata, false, error);
}

static int method_define_device(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return method_create_or_define(message, userdata, true, error);
}

static int method_provision_parent(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        BusCall *c;
        const char *parent;
        int r;

        r = read_strings(message, 1, &parent, error);
        if (r < 0)
                return r;
        r = siov_polkit_verify(message, SIOV_POLKIT_MANAGE, (const char *[]) { "parent", parent, NULL },
                               &m->polkit_registry, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        c = bus_call_new(m, message, BUS_CALL_REPLY_PATHS, NULL);
        if (!c)
                return -ENOMEM;
        r = lifecycle_provision(m, parent, bus_call_lifecycle_done(c), error);
        return bus_call_started(c, r, false);
}

static int cmp_parent_name(const void *a, const void *b) {
        return strcmp((*(Parent * const *) a)->name, (*(Parent * const *) b)->name);
}

/* CheckMigration: can a device state saved on a host whose type published
 * remote_version be loaded here? Compatible when at least one present
 * parent's type shows the same migration_version; those parents are
 * returned. Else the reason, per parent. Reads only the snapshot. */
static int method_check_migration(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ Parent **parents = NULL;
        _cleanup_free_ const char **takers = NULL;
        _cleanup_free_ char *reasons = NULL;
        size_t n = 0, n_takers = 0, len = 0;
        Manager *m = userdata;
        const char *a[2], *exact;
        Parent *best, *p;
        FILE *f;
        int r;

        r = read_strings(message, 2, a, error);
        if (r < 0)
                return r;
        if (!siov_migration_version_is_valid(a[1]))
                return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT,
                                         "not a migration version: it is space-separated key=value pairs, "
                                         "e.g. 'driver=siov_mdev type=idxd-1dwq state=1'");
        r = lifecycle_resolve(m, "", a[0], &best, &exact, error);
        if (r < 0)
                return r;

        parents = calloc(hashmap_size(m->parents) + 1, sizeof(Parent *));
        takers = calloc(hashmap_size(m->parents) + 1, sizeof(char *));
        if (!parents || !takers)
                return -ENOMEM;
        HASHMAP_FOREACH(p, m->parents, i)
                if (parent_find_type(p, exact))
                        parents[n++] = p;
        qsort(parents, n, sizeof(Parent *), cmp_parent_name);

        f = open_memstream(&reasons, &len);
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const char *here = type_get_migration_version(parent_find_type(parents[i], exact));
                const char *sep = ftell(f) > 0 ? "; " : "";
                _cleanup_free_ char *why = NULL;

                if (isempty(here)) {
                        fprintf(f, "%s%s: %s has no migration_version (its driver offers no migration)",
                                sep, parents[i]->name, exact);
                        continue;
                }
                r = siov_migration_version_compare(here, a[1], &why);
                if (r > 0)
                        takers[n_takers++] = parents[i]->name;
                else if (r == 0)
                        fprintf(f, "%s%s: %s", sep, parents[i]->name, why);
                else if (r == -EINVAL)
                        fprintf(f, "%s%s: %s has a malformed migration_version", sep, parents[i]->name, exact);
                else {
                        fclose(f);
                        return r;
                }
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        log_debug("CheckMigration %s '%s': %s", exact, a[1], n_takers ? "compatible" : strempty(reasons));

        r = sd_bus_message_new_method_return(message, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_append(reply, "bs", n_takers > 0, n_takers ? "" : strempty(reasons));
        if (r < 0)
                return r;
        r = sd_bus_message_append_strv(reply, (char **) takers);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

typedef struct ImportContext {
        Manager *manager;
        sd_bus_message *reply;
        int error;
} ImportContext;

static void on_mdevctl(const char *path, const char *parent, const char *uuid, struct siov_definition *def,
                       const char *reason, void *userdata) {
        ImportContext *c = userdata;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *result = "refused";
        int r;

        if (c->error < 0)
                return;
        if (def) {
                LifecycleOptions o = {
                        .autostart = siov_definition_get_autostart(def),
                };
                LifecycleAttr attrs[SIOV_ATTRS_MAX];
                size_t n = siov_definition_get_n_attrs(def);

                for (size_t i = 0; i < n && i < SIOV_ATTRS_MAX; i++)
                        attrs[i] = (LifecycleAttr) { siov_definition_get_attr_name(def, i),
                                                     siov_definition_get_attr_value(def, i) };
                o.attrs = attrs;
                o.n_attrs = n;
                /* No VM: defined before this returns. */
                r = lifecycle_define(c->manager, siov_definition_get_parent(def), siov_definition_get_type(def),
                                     siov_definition_get_uuid(def), &o, (LifecycleDone) {}, &e);
                if (r >= 0) {
                        result = "defined";
                        reason = "";
                } else
                        reason = e.message ?: strerror(-r);
        }
        log_info("Import of mdevctl definition %s: %s%s%s", path, result, isempty(reason) ? "" : ": ", strempty(reason));
        r = sd_bus_message_append(c->reply, "(ssss)", strempty(uuid), strempty(parent), result, strempty(reason));
        if (r < 0)
                c->error = r;
}

static int method_import_mdevctl(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        ImportContext c = { .manager = userdata };
        const char *dir;
        int r;

        r = read_strings(message, 1, &dir, error);
        if (r < 0)
                return r;
        if (isempty(dir))
                dir = "/etc/mdevctl.d";
        if (dir[0] != '/' || strstr(dir, "/../") || (strlen(dir) >= 3 && streq(dir + strlen(dir) - 3, "/..")))
                return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT,
                                         "the mdevctl folder must be an absolute path without '..'");
        r = siov_polkit_verify(message, SIOV_POLKIT_DEFINE, NULL, &c.manager->polkit_registry, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = sd_bus_message_new_method_return(message, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(ssss)");
        if (r < 0)
                return r;
        c.reply = reply;
        r = siov_mdevctl_import_dir(dir, on_mdevctl, &c);
        if (r < 0)
                return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT, "cannot read %s: %s", dir, strerror(-r));
        if (c.error < 0)
                return c.error;
        return bus_reply_close_and_send(reply);
}

static Manager *manager_of(void *userdata) {
        return userdata;
}
BUS_METHOD_COUNTED(method_create_device, manager_of)
BUS_METHOD_COUNTED(method_define_device, manager_of)
BUS_METHOD_COUNTED(method_import_mdevctl, manager_of)
BUS_METHOD_COUNTED(method_provision_parent, manager_of)

/* Every persistent PF configuration, with its state: "present" (the PF is
 * here), "absent" (waiting for it), "unreadable" (the file is kept; the
 * reason says why it was skipped). */
static int method_list_parent_configs(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        struct siov_pf_config *c;
        const char *e;
        int r;

        r = sd_bus_message_new_method_return(message, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(siiss)");
        if (r < 0)
                return r;
        HASHMAP_FOREACH(c, m->pf_configs, i) {
                const char *pf = siov_pf_config_get_pf(c);

                if (sriov_config_error(m, pf))
                        continue;
                r = sd_bus_message_append(reply, "(siiss)", pf, (int32_t) siov_pf_config_get_numvfs(c),
                                          (int32_t) siov_pf_config_get_autoprobe(c),
                                          hashmap_get(m->parents, pf) ? "present" : "absent", "");
                if (r < 0)
                        return r;
        }
        HASHMAP_FOREACH(e, m->pf_config_errors, i) {
                r = sd_bus_message_append(reply, "(siiss)", e, -1, -1, "unreadable", sriov_config_error(m, e));
                if (r < 0)
                        return r;
        }
        return bus_reply_close_and_send(reply);
}

/* append() for each device of parent ("" for all): one parent's devices
 * come from its own list, not from a walk over every device. */
static int append_each_device(Manager *m, const char *parent, sd_bus_message *reply,
                              int (*append)(Manager *m, Device *d, sd_bus_message *reply)) {
        Device *d;
        int r;

        if (!isempty(parent)) {
                DEVICE_LIST_FOREACH(d, manager_parent_devices(m, parent), i) {
                        r = append(m, d, reply);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        HASHMAP_FOREACH(d, m->devices, i) {
                r = append(m, d, reply);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Answers a (s parent) listing: an array of sig, one entry per device of
 * that parent ("" for all) that append() adds (it returns 0 to skip). */
static int reply_per_device(sd_bus_message *message, Manager *m, const char *sig,
                            int (*append)(Manager *m, Device *d, sd_bus_message *reply)) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *parent;
        int r;

        r = sd_bus_message_read(message, "s", &parent);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(message, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', sig);
        if (r < 0)
                return r;
        r = append_each_device(m, parent, reply, append);
        if (r < 0)
                return r;
        return bus_reply_close_and_send(reply);
}

/* NVIDIA SR-IOV vGPU VFs: (uuid, current type, creatable types), one call
 * for `siovctl list`. */
static int append_vgpu(Manager *m, Device *d, sd_bus_message *reply) {
        const struct siov_vf *vf = d->kind == DEVICE_KIND_VF ? device_get_vf(d) : NULL;
        int r;

        if (!siov_vf_is_vgpu(vf))
                return 0;
        r = sd_bus_message_open_container(reply, 'r', "sua(us)");
        if (r >= 0)
                r = sd_bus_message_append(reply, "su", d->uuid, siov_vf_get_vgpu_current(vf));
        if (r >= 0)
                r = device_append_vgpu_types(reply, vf);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

static int method_list_vgpus(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return reply_per_device(message, userdata, "(sua(us))", append_vgpu);
}

/* The devices a program asked for (Device.Owner): (uuid, owner, VFIO
 * group), one call for `siovctl list` and the device plugin (Owner is not
 * in ListDevices' records, whose signature is fixed). Few devices have an
 * owner: their group links are read here. */
static int append_owner(Manager *m, Device *d, sd_bus_message *reply) {
        const char *owner = device_get_owner(d);
        char group[20] = "";

        if (isempty(owner))
                return 0;
        if (device_is_active(d))
                lifecycle_device_vfio_group(m, d, group, sizeof(group));
        return sd_bus_message_append(reply, "(sss)", d->uuid, owner, group);
}

static int method_list_owners(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return reply_per_device(message, userdata, "(sss)", append_owner);
}

static int append_vf_network(Device *d, sd_bus_message *reply) {
        if (d->kind != DEVICE_KIND_VF || !device_get_vf(d))
                return 0;
        return sd_bus_message_append(reply, "(ssuusss)", d->uuid, device_get_vf_mac(d).s,
                                     device_get_vf_vlan(d), device_get_vf_qos(d), device_get_vf_link_state(d),
                                     device_get_vf_spoofchk(d), device_get_vf_trust(d));
}

/* The VFs of one PF, if it has a netdev: found once per PF, not per VF
 * (that look-up walks every VF's netdevs). */
static int append_pf_vf_network(Manager *m, Parent *p, sd_bus_message *reply) {
        Device *d;
        int r;

        if (!parent_get_pf_netdev(p))
                return 0;
        DEVICE_LIST_FOREACH(d, manager_parent_devices(m, p->name), i) {
                r = append_vf_network(d, reply);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The network state of the VFs of PFs with a netdev, as their drivers
 * report it (one RTM_GETLINK per PF, cached: parent_vf_net_state). */
static int method_list_vf_network(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        const char *parent;
        Parent *p = NULL;
        int r;

        r = sd_bus_message_read(message, "s", &parent);
        if (r < 0)
                return r;
        if (!isempty(parent)) {
                p = hashmap_get(m->parents, parent);
                if (!p)
                        return siov_error_no_such_parent(m, parent, error);
        }
        r = sd_bus_message_new_method_return(message, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(ssuusss)");
        if (r < 0)
                return r;
        if (p)
                r = append_pf_vf_network(m, p, reply);
        else
                HASHMAP_FOREACH(p, m->parents, i) {
                        r = append_pf_vf_network(m, p, reply);
                        if (r < 0)
                                break;
                }
        if (r < 0)
                return r;
        return bus_reply_close_and_send(reply);
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("SysfsRoot", "s", property_get_sysfs_root, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("DefinitionsDir", "s", property_get_definitions_dir, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("DefinitionsProblem", "s", property_get_definitions_problem, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("SkippedDefinitions", "a(ss)", property_get_skipped_definitions, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("RefusedChanges", "a(tss)", property_get_refused_changes, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_ARGS("CreateDevice",
                                SD_BUS_ARGS("s", parent, "s", type, "s", uuid, "a{sv}", options),
                                SD_BUS_RESULT("o", device),
                                method_create_device_counted, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DefineDevice",
                                SD_BUS_ARGS("s", parent, "s", type, "s", uuid, "a{sv}", options),
                                SD_BUS_RESULT("o", device),
                                method_define_device_counted, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ImportMdevctl",
                                SD_BUS_ARGS("s", dir),
                                SD_BUS_RESULT("a(ssss)", results),
                                method_import_mdevctl_counted, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ProvisionParent",
                                SD_BUS_ARGS("s", parent),
                                SD_BUS_RESULT("ao", started),
                                method_provision_parent_counted, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListDevices",
                                SD_BUS_ARGS("s", parent, "s", type),
                                SD_BUS_RESULT("a(" DEVICE_RECORD_SIGNATURE ")", devices),
                                method_list_devices, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListVgpus",
                                SD_BUS_ARGS("s", parent),
                                SD_BUS_RESULT("a(sua(us))", vgpus),
                                method_list_vgpus, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListVfNetwork",
                                SD_BUS_ARGS("s", parent),
                                SD_BUS_RESULT("a(ssuusss)", vfs),
                                method_list_vf_network, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListOwners",
                                SD_BUS_ARGS("s", parent),
                                SD_BUS_RESULT("a(sss)", owners),
                                method_list_owners, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListParentConfigs",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a(siiss)", configs),
                                method_list_parent_configs, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListParents",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a(" PARENT_RECORD_SIGNATURE ")", parents),
                                method_list_parents, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListTypes",
                                SD_BUS_ARGS("s", parent),
                                SD_BUS_RESULT("a(" TYPE_RECORD_SIGNATURE ")", types),
                                method_list_types, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetStatus",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a{su}", counts, "a(osssssbbsa(ss)sssbas)", waiting),
                                method_get_status, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CheckMigration",
                                SD_BUS_ARGS("s", type, "s", remote_version),
                                SD_BUS_RESULT("b", compatible, "s", reason, "as", parents),
                                method_check_migration, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Rescan", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_rescan, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

/* The whole tree: the manager at /org/siov1 with its ObjectManager, the
 * parents (and their types) and the devices below it. */
static const BusObjectImplementation manager_object = {
        .path = SIOV_DBUS_PATH,
        .manager = true,
        .vtables = (const BusObjectVtable[]) {
                { SIOV_DBUS_MANAGER_INTERFACE, manager_vtable, NULL },
                {}
        },
        .children = (const BusObjectImplementation *const[]) { &parent_object, &device_object, NULL },
};

/* Every change of the tree passes here: the metrics follow it, and once
 * the objects are exported a signal tells the clients. */
static void emit(Manager *m, const char *path, const char *interface, char **names, bool added) {
        int r;

        metrics_changed(m);
        if (!m->exported)
                return;
        if (interface)
                r = sd_bus_emit_properties_changed_strv(m->bus, path, interface, names);
        else if (added)
                r = sd_bus_emit_object_added(m->bus, path);
        else
                r = sd_bus_emit_object_removed(m->bus, path);
        if (r < 0)
                log_debug_errno(r, "Cannot signal %s of %s: %m",
                                interface ? "changes" : added ? "the addition" : "the removal", path);
}

void manager_emit_added(Manager *m, const char *path) {
        emit(m, path, NULL, NULL, true);
}

void manager_emit_removed(Manager *m, const char *path) {
        emit(m, path, NULL, NULL, false);
}

void manager_emit_changed(Manager *m, const char *path, const char *interface, char **names) {
        emit(m, path, interface, names, false);
}

int manager_connect_bus(Manager *m) {
        int r;

        /* sd_bus_open_system() honours DBUS_SYSTEM_BUS_ADDRESS (tests). */
        r = sd_bus_open_system(&m->bus);
        if (r < 0)
                return log_error_errno(r, "Cannot connect to the system bus: %m");

        r = sd_bus_match_signal(m->bus, NULL, "org.freedesktop.DBus.Local", "/org/freedesktop/DBus/Local",
                                "org.freedesktop.DBus.Local", "Disconnected", on_disconnected, m);
        if (r < 0)
                return log_error_errno(r, "Cannot watch the bus connection: %m");
        r = sd_bus_add_object(m->bus, NULL, SIOV_DBUS_PATH, managed_objects_filter, m);
        if (r >= 0)
                r = sd_bus_add_object(m->bus, NULL, SIOV_DBUS_DEVICE_PREFIX, managed_objects_filter, m);
        if (r < 0)
                return log_error_errno(r, "Cannot add the object filters: %m");

        /* Two managers: the root's answer holds the Manager, the parents
         * and their types (independent of the number of devices); the
         * devices have their own at /org/siov1/device (device_object's
         * .manager), which the root's GetManagedObjects does not descend
         * into. */
        r = bus_add_implementation(m->bus, &manager_object, m);
        if (r < 0)
                return r;

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
