/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * siov-device-plugin: hands siovd's mdevs and SR-IOV VFs to Kubernetes
 * (KubeVirt VMs) through the kubelet device plugin API v1beta1, creating
 * each device only when the kubelet allocates it.
 *
 * It talks to siovd over D-Bus only, never to sysfs: what it advertises is
 * siovd's view (AvailableInstances of the configured types, the free VFs
 * of the configured PFs, the devices it made, marked Owner=siov-device-plugin)
 * and it follows siovd's signals. Each configured resource is one gRPC
 * server on its own socket in the kubelet's folder, registered with the
 * kubelet.
 *
 * Device IDs are UUIDs: a free mdev slot is advertised under the UUID the
 * mdev will get when the kubelet allocates it, so an ID means the same
 * device before and after it is made (and again after it is given back).
 * A VF's ID is siovd's UUID of that VF.
 */

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <systemd/sd-id128.h>

#include "api.pb-c.h"
#include "grpc-bridge.h"
#include "libsiov.h"
#include "log.h"
#include "siov-macro.h"
#include "siov-names.h"
#include "strv.h"

#define OWNER           "siov-device-plugin"
#define API_VERSION     "v1beta1"
#define KUBELET_SOCKET  "kubelet.sock"
#define DEFAULT_CONFIG  SYSCONFDIR "/siov/device-plugin.json"
#define DEFAULT_DIR     "/var/lib/kubelet/device-plugins"
#define DEFAULT_IDLE_S  300
#define UUID_MAX        37

#define GRPC_OK                 0
#define GRPC_INVALID_ARGUMENT   3
#define GRPC_NOT_FOUND          5
#define GRPC_FAILED_PRECONDITION 9
#define GRPC_UNIMPLEMENTED      12
#define GRPC_UNAVAILABLE        14

typedef struct Plugin Plugin;

/* One advertised ID that is not yet a device: a free mdev slot of a parent,
 * or a free VF (its siovd UUID). */
typedef struct Slot {
        char id[UUID_MAX];
        char *parent;
} Slot;

/* A device made for the plugin (Owner=siov-device-plugin), as siovd has it. */
typedef struct Owned {
        char uuid[UUID_MAX];
        char *parent, *type, *kind, *state, *address, *group;
        uint64_t idle_since;    /* CLOCK_MONOTONIC µs: made, allocated or seen in use */
} Owned;

typedef struct Resource {
        Plugin *p;
        char *name;             /* siov.io/idxd-1dwq */
        char *type;             /* idxd-1dwq, or "vf" */
        char **parents;         /* only these parents (required for vf); NULL: all */
        char *env;              /* MDEV_PCI_RESOURCE_SIOV_IO_IDXD-1DWQ */
        char *socket;           /* file name in the kubelet's folder */
        GrpcServer *server;
        bool stopping;          /* the old server is going away; the new one waits */
        bool registered;        /* with the kubelet, since its socket appeared */
        Slot *slots;
        size_t n_slots;
        GrpcCall **streams;     /* open ListAndWatch calls */
        size_t n_streams;
        uint8_t *last;          /* the list as last sent */
        size_t last_len;
        bool have_last;
} Resource;

struct Plugin {
        sd_event *event;
        sd_bus *bus;
        GrpcBridge *grpc;
        char *dir;
        uint64_t idle_usec;
        Resource *resources;
        size_t n_resources;
        Owned *owned;
        size_t n_owned;
        bool kubelet_new;       /* kubelet.sock appeared: register everything again */
        char **numa_parents;    /* the parents read, and ... */
        int *numa_nodes;        /* ... their NUMA nodes (-1: none) */
        sd_event_source *refresh_timer, *kubelet_timer, *idle_timer, *inotify;
};

/* Small string lists (NULL-terminated). */
static bool strv_isempty(char * const *l) {
        return !l || !l[0];
}

static bool strv_contains(char * const *l, const char *s) {
        return l && strv_contains_const((const char * const *) l, s);
}

static int strv_extend(char ***l, const char *s) {
        size_t n = strv_length(*l);
        char **x = reallocarray(*l, n + 2, sizeof(char *));

        if (!x)
                return -ENOMEM;
        *l = x;
        x[n] = strdup(s);
        if (!x[n])
                return -ENOMEM;
        x[n + 1] = NULL;
        return 0;
}

#define STRV_FOREACH(s, l) for (char **s = (l); s && *s; s++)

static char **strv_copy_n(char **l, size_t n) {
        char **c = calloc(n + 1, sizeof(char *));

        for (size_t i = 0; c && i < n; i++)
                if (!(c[i] = strdup(l[i])))
                        return strv_free(c);
        return c;
}

/* ---- configuration ---------------------------------------------------- */

static bool resource_name_is_valid(const char *s) {
        const char *slash = strchr(s, '/');

        if (!slash || slash == s || !slash[1] || strchr(slash + 1, '/') || strlen(s) > 253)
                return false;
        for (const char *c = s; *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                      *c == '.' || *c == '-' || *c == '_' || *c == '/'))
                        return false;
        return true;
}

/* KubeVirt's name for the variable: the resource name upper-cased, '/' and
 * '.' as '_', after MDEV_PCI_RESOURCE_ (mdevs) or PCI_RESOURCE_ (VFs). */
static char *resource_env(const char *name, bool vf) {
        char *e = NULL;

        if (asprintf(&e, "%s_%s", vf ? "PCI_RESOURCE" : "MDEV_PCI_RESOURCE", name) < 0)
                return NULL;
        for (char *c = e; *c; c++)
                *c = (*c == '/' || *c == '.') ? '_' : (char) (*c >= 'a' && *c <= 'z' ? *c - 'a' + 'A' : *c);
        return e;
}

static int config_error(const char *path, const char *what) {
        log_error("%s: %s", path, what);
        return -EINVAL;
}

static int config_load(Plugin *p, const char *path) {
        _cleanup_free_ char *text = NULL;
        struct json_object *o, *v;
        enum json_tokener_error jerr;
        size_t n;
        FILE *f;
        int r = 0;

        f = fopen(path, "re");
        if (!f)
                return log_error_errno(errno, "cannot read %s: %m", path);
        {
                size_t len = 0;
                ssize_t k;
                char buf[4096];

                while ((k = (ssize_t) fread(buf, 1, sizeof(buf), f)) > 0) {
                        char *t = realloc(text, len + (size_t) k + 1);

                        if (!t || len + (size_t) k > 1024 * 1024) {
                                free(t ?: text);
                                text = NULL;
                                fclose(f);
                                return config_error(path, "larger than 1 MiB");
                        }
                        text = t;
                        memcpy(text + len, buf, (size_t) k);
                        len += (size_t) k;
                        text[len] = 0;
                }
        }
        fclose(f);
        o = json_tokener_parse_verbose(strempty(text), &jerr);
        if (!o || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return config_error(path, "not a JSON object");
        }
        json_object_object_foreach(o, key, val) {
                if (streq(key, "kubelet_dir")) {
                        if (!json_object_is_type(val, json_type_string) || json_object_get_string(val)[0] != '/') {
                                r = config_error(path, "kubelet_dir: expected an absolute path");
                                goto finish;
                        }
                        if (!p->dir && !(p->dir = strdup(json_object_get_string(val)))) {
                                r = log_oom();
                                goto finish;
                        }
                } else if (streq(key, "idle_seconds")) {
                        if (!json_object_is_type(val, json_type_int) || json_object_get_int64(val) < 1 ||
                            json_object_get_int64(val) > 7 * 24 * 3600) {
                                r = config_error(path, "idle_seconds: expected a number of seconds, 1 to 604800");
                                goto finish;
                        }
                        p->idle_usec = (uint64_t) json_object_get_int64(val) * 1000000ULL;
                } else if (streq(key, "resources")) {
                        if (!json_object_is_type(val, json_type_array)) {
                                r = config_error(path, "resources: expected an array");
                                goto finish;
                        }
                } else {
                        char msg[300];

                        snprintf(msg, sizeof(msg), "unknown key '%.64s' (known: kubelet_dir, idle_seconds, resources)", key);
                        r = config_error(path, msg);
                        goto finish;
                }
        }
        if (!json_object_object_get_ex(o, "resources", &v) || json_object_array_length(v) == 0) {
                r = config_error(path, "resources: at least one resource is needed");
                goto finish;
        }
        n = json_object_array_length(v);
        p->resources = calloc(n, sizeof(Resource));
        if (!p->resources) {
                r = log_oom();
                goto finish;
        }
        for (size_t i = 0; i < n; i++) {
                struct json_object *e = json_object_array_get_idx(v, i);
                Resource *res = &p->resources[p->n_resources];
                char msg[400];

                *res = (Resource) { .p = p };
                if (!json_object_is_type(e, json_type_object)) {
                        snprintf(msg, sizeof(msg), "resources[%zu]: expected an object", i);
                        r = config_error(path, msg);
                        goto finish;
                }
                json_object_object_foreach(e, k, x) {
                        if (STR_IN_SET(k, "resource", "type")) {
                                if (!json_object_is_type(x, json_type_string)) {
                                        snprintf(msg, sizeof(msg), "resources[%zu].%s: expected a string", i, k);
                                        r = config_error(path, msg);
                                        goto finish;
                                }
                        } else if (streq(k, "parents")) {
                                if (!json_object_is_type(x, json_type_array)) {
                                        snprintf(msg, sizeof(msg), "resources[%zu].parents: expected an array", i);
                                        r = config_error(path, msg);
                                        goto finish;
                                }
                                for (size_t j = 0; j < json_object_array_length(x); j++) {
                                        struct json_object *s = json_object_array_get_idx(x, j);

                                        if (!json_object_is_type(s, json_type_string) ||
                                            !siov_name_is_valid(json_object_get_string(s))) {
                                                snprintf(msg, sizeof(msg),
                                                         "resources[%zu].parents[%zu]: expected a parent's name", i, j);
                                                r = config_error(path, msg);
                                                goto finish;
                                        }
                                        if (strv_extend(&res->parents, json_object_get_string(s)) < 0) {
                                                r = log_oom();
                                                goto finish;
                                        }
                                }
                        } else {
                                snprintf(msg, sizeof(msg), "resources[%zu]: unknown key '%.64s' (known: resource, "
                                         "type, parents)", i, k);
                                r = config_error(path, msg);
                                goto finish;
                        }
                }
                p->n_resources++;
                if (!json_object_object_get_ex(e, "resource", &x) ||
                    !resource_name_is_valid(json_object_get_string(x))) {
                        snprintf(msg, sizeof(msg), "resources[%zu].resource: expected a Kubernetes extended "
                                 "resource name such as \"siov.io/idxd-1dwq\"", i);
                        r = config_error(path, msg);
                        goto finish;
                }
                res->name = strdup(json_object_get_string(x));
                if (!json_object_object_get_ex(e, "type", &x) || !siov_name_is_valid(json_object_get_string(x))) {
                        snprintf(msg, sizeof(msg), "resources[%zu].type: expected a type id (\"idxd-1dwq\", \"vf\")", i);
                        r = config_error(path, msg);
                        goto finish;
                }
                res->type = strdup(json_object_get_string(x));
                if (!res->name || !res->type) {
                        r = log_oom();
                        goto finish;
                }
                if (streq(res->type, SIOV_VF_TYPE_ID) && strv_isempty(res->parents)) {
                        snprintf(msg, sizeof(msg), "resources[%zu]: type \"vf\" needs \"parents\": the PFs whose VFs "
                                 "it hands out", i);
                        r = config_error(path, msg);
                        goto finish;
                }
                for (size_t j = 0; j + 1 < p->n_resources; j++)
                        if (streq(p->resources[j].name, res->name)) {
                                snprintf(msg, sizeof(msg), "resources[%zu]: %s is configured twice", i, res->name);
                                r = config_error(path, msg);
                                goto finish;
                        }
                res->env = resource_env(res->name, streq(res->type, SIOV_VF_TYPE_ID));
                if (asprintf(&res->socket, "siov-%s.sock", res->name) < 0)
                        res->socket = NULL;
                if (!res->env || !res->socket) {
                        r = log_oom();
                        goto finish;
                }
                for (char *c = res->socket; *c; c++)
                        if (*c == '/')
                                *c = '_';
        }
finish:
        json_object_put(o);
        return r;
}

/* ---- siovd's view ----------------------------------------------------- */

static void owned_clear(Owned *o) {
        free(o->parent);
        free(o->type);
        free(o->kind);
        free(o->state);
        free(o->address);
        free(o->group);
}

static Owned *owned_find(Plugin *p, const char *uuid) {
        for (size_t i = 0; i < p->n_owned; i++)
                if (streq(p->owned[i].uuid, uuid))
                        return &p->owned[i];
        return NULL;
}

static bool parent_allowed(const Resource *res, const char *parent) {
        return strv_isempty(res->parents) || strv_contains(res->parents, parent);
}

static bool is_vf(const Resource *res) {
        return streq(res->type, SIOV_VF_TYPE_ID);
}

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
}

static const char *bus_error_text(const sd_bus_error *e, int r) {
        return sd_bus_error_is_set(e) ? e->message : strerror(-r);
}

/* The parents whose devices the plugin reads: those of the configured
 * types (from ListTypes) and the configured PFs. */
typedef struct TypeRecord {
        char *parent, *id;
        uint32_t available;
        bool broken;
} TypeRecord;

static int read_types(Plugin *p, TypeRecord **ret, size_t *n) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        TypeRecord *t = NULL;
        size_t k = 0;
        int r;

        r = sd_bus_call_method(p->bus, SIOV_DBUS_NAME, SIOV_DBUS_PATH, SIOV_DBUS_MANAGER_INTERFACE, "ListTypes",
                               &e, &reply, "s", "");
        if (r < 0)
                return log_debug_errno(r, "ListTypes: %s", bus_error_text(&e, r));
        r = sd_bus_message_enter_container(reply, 'a', "(ossssssuss)");
        while (r >= 0) {
                const char *path, *id, *kind, *parent, *name, *desc, *api, *broken, *mig;
                uint32_t avail;
                TypeRecord *x;

                r = sd_bus_message_read(reply, "(ossssssuss)", &path, &id, &kind, &parent, &name, &desc, &api,
                                        &avail, &broken, &mig);
                if (r <= 0)
                        break;
                x = reallocarray(t, k + 1, sizeof(TypeRecord));
                if (!x) {
                        r = -ENOMEM;
                        break;
                }
                t = x;
                t[k++] = (TypeRecord) { strdup(parent), strdup(id), avail, !isempty(broken) };
        }
        *ret = t;
        *n = k;
        return r < 0 ? log_error_errno(r, "cannot read siovd's ListTypes answer: %m") : 0;
}

static void types_free(TypeRecord *t, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(t[i].parent);
                free(t[i].id);
        }
        free(t);
}

/* Reads siovd's ListDevices(parent) and calls fn for each record. */
typedef struct DeviceRecord {
        const char *uuid, *kind, *parent, *type, *state, *address, *driver;
        int host_used;
} DeviceRecord;

static int read_devices(Plugin *p, const char *parent, void (*fn)(Plugin *p, const DeviceRecord *d, void *u), void *u) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_call_method(p->bus, SIOV_DBUS_NAME, SIOV_DBUS_PATH, SIOV_DBUS_MANAGER_INTERFACE, "ListDevices",
                               &e, &reply, "ss", parent, "");
        if (r < 0) {
                /* A parent that went away since ListTypes: its devices are gone too. */
                if (sd_bus_error_has_name(&e, SIOV_ERROR_NO_SUCH_PARENT))
                        return 0;
                return log_debug_errno(r, "ListDevices(%s): %s", parent, bus_error_text(&e, r));
        }
        r = sd_bus_message_enter_container(reply, 'a', "(osssssbbsa(ss)sssbas)");
        while (r >= 0) {
                DeviceRecord d = {};
                const char *path, *vm, *syspath;
                int persistent, autostart;

                r = sd_bus_message_enter_container(reply, 'r', "osssssbbsa(ss)sssbas");
                if (r <= 0)
                        break;
                r = sd_bus_message_read(reply, "osssssbbs", &path, &d.uuid, &d.kind, &d.parent, &d.type, &d.state,
                                        &persistent, &autostart, &vm);
                if (r >= 0)
                        r = sd_bus_message_skip(reply, "a(ss)");
                if (r >= 0)
                        r = sd_bus_message_read(reply, "sssb", &d.address, &syspath, &d.driver, &d.host_used);
                if (r >= 0)
                        r = sd_bus_message_skip(reply, "as");
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        break;
                fn(p, &d, u);
        }
        return r < 0 ? log_error_errno(r, "cannot read siovd's ListDevices answer: %m") : 0;
}

static int set_str(char **s, const char *v) {
        char *c = strdup(strempty(v));

        if (!c)
                return -ENOMEM;
        free(*s);
        *s = c;
        return 0;
}

static void note_owned(Plugin *p, const DeviceRecord *d, void *u) {
        Owned *o = owned_find(p, d->uuid);

        if (!o)
                return;
        (void) set_str(&o->parent, d->parent);
        (void) set_str(&o->type, d->type);
        (void) set_str(&o->kind, d->kind);
        (void) set_str(&o->state, d->state);
        (void) set_str(&o->address, d->address);
}

/* A free VF of a configured PF: not the host's, not bound to a VFIO driver
 * (someone has it), not ours. siovd has the last word when it is taken. */
static void note_vf(Plugin *p, const DeviceRecord *d, void *u) {
        Resource *res = u;
        Slot *s;

        if (!streq(d->kind, "vf") || d->host_used || strstr(d->driver, "vfio") || owned_find(p, d->uuid))
                return;
        s = reallocarray(res->slots, res->n_slots + 1, sizeof(Slot));
        if (!s)
                return;
        res->slots = s;
        s = &res->slots[res->n_slots];
        snprintf(s->id, sizeof(s->id), "%s", d->uuid);
        s->parent = strdup(d->parent);
        if (s->parent)
                res->n_slots++;
}

static void slots_clear(Resource *res) {
        for (size_t i = 0; i < res->n_slots; i++)
                free(res->slots[i].parent);
        res->slots = mfree(res->slots);
        res->n_slots = 0;
}

/* The mdev slots of res: `available` IDs per parent, the ones advertised
 * before kept (an ID the kubelet saw stays valid while the room is there). */
static int mdev_slots_update(Resource *res, const TypeRecord *types, size_t n_types) {
        Slot *old = res->slots, *slots = NULL;
        size_t n_old = res->n_slots, n = 0;

        for (size_t t = 0; t < n_types; t++) {
                uint32_t want, have = 0;

                if (!streq(types[t].id, res->type) || types[t].broken || !parent_allowed(res, types[t].parent))
                        continue;
                want = types[t].available;
                for (size_t i = 0; i < n_old && have < want; i++) {
                        if (!old[i].parent || !streq(old[i].parent, types[t].parent) ||
                            owned_find(res->p, old[i].id))
                                continue;
                        Slot *s = reallocarray(slots, n + 1, sizeof(Slot));
                        if (!s)
                                return -ENOMEM;
                        slots = s;
                        slots[n++] = old[i];
                        old[i].parent = NULL;   /* moved */
                        have++;
                }
                for (; have < want; have++) {
                        sd_id128_t id;
                        Slot *s = reallocarray(slots, n + 1, sizeof(Slot));

                        if (!s)
                                return -ENOMEM;
                        slots = s;
                        if (sd_id128_randomize(&id) < 0)
                                return -EIO;
                        sd_id128_to_uuid_string(id, slots[n].id);
                        slots[n].parent = strdup(types[t].parent);
                        if (!slots[n].parent)
                                return -ENOMEM;
                        n++;
                }
        }
        slots_clear(res);
        res->slots = slots;
        res->n_slots = n;
        return 0;
}

static void resource_publish(Resource *res);
static void idle_schedule(Plugin *p);

/* Each parent's NUMA node (Parent.NumaNode), for the kubelet's topology
 * manager: one Get per parent concerned. */
static void numa_read(Plugin *p, char **parents) {
        size_t n = strv_length(parents);
        int *nodes = calloc(n ?: 1, sizeof(int));

        if (!nodes)
                return;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *path = NULL;
                int32_t v = -1;

                nodes[i] = -1;
                if (sd_bus_path_encode(SIOV_DBUS_PATH "/parent", parents[i], &path) < 0)
                        continue;
                if (sd_bus_get_property_trivial(p->bus, SIOV_DBUS_NAME, path, SIOV_DBUS_PARENT_INTERFACE, "NumaNode",
                                                NULL, 'i', &v) >= 0)
                        nodes[i] = v;
        }
        strv_free(p->numa_parents);
        free(p->numa_nodes);
        p->numa_parents = strv_copy_n(parents, n);
        p->numa_nodes = p->numa_parents ? nodes : (free(nodes), NULL);
}

static int numa_node(const Plugin *p, const char *parent) {
        for (size_t i = 0; parent && p->numa_parents && p->numa_parents[i]; i++)
                if (streq(p->numa_parents[i], parent))
                        return p->numa_nodes[i];
        return -1;
}

/* Reads everything the plugin advertises from siovd (a handful of calls:
 * ListTypes, ListOwners, ListDevices per parent concerned) and sends the
 * lists that changed. */
static int refresh(Plugin *p) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **parents = NULL;
        TypeRecord *types = NULL;
        size_t n_types = 0, n_new = 0;
        Owned *fresh = NULL;
        const char *uuid, *owner, *group;
        uint64_t now = now_usec();
        int r;

        r = read_types(p, &types, &n_types);
        if (r < 0)
                return r;
        r = sd_bus_call_method(p->bus, SIOV_DBUS_NAME, SIOV_DBUS_PATH, SIOV_DBUS_MANAGER_INTERFACE, "ListOwners",
                               &e, &reply, "s", "");
        if (r < 0) {
                types_free(types, n_types);
                return log_warning_errno(r, "ListOwners: %s", bus_error_text(&e, r));
        }
        r = sd_bus_message_enter_container(reply, 'a', "(sss)");
        while (r >= 0) {
                Owned *o, *x;

                r = sd_bus_message_read(reply, "(sss)", &uuid, &owner, &group);
                if (r <= 0)
                        break;
                if (!streq(owner, OWNER))
                        continue;
                x = reallocarray(fresh, n_new + 1, sizeof(Owned));
                if (!x) {
                        r = -ENOMEM;
                        break;
                }
                fresh = x;
                o = owned_find(p, uuid);
                fresh[n_new] = (Owned) { .idle_since = o ? o->idle_since : now };
                snprintf(fresh[n_new].uuid, UUID_MAX, "%s", uuid);
                fresh[n_new].group = strdup(group);
                /* What it was, until ListDevices says what it is: a device
                 * whose parent went away is not listed, and stays ours,
                 * with no State (Unhealthy). */
                if (o) {
                        (void) set_str(&fresh[n_new].parent, o->parent);
                        (void) set_str(&fresh[n_new].type, o->type);
                        (void) set_str(&fresh[n_new].kind, o->kind);
                }
                n_new++;
        }
        for (size_t i = 0; i < p->n_owned; i++)
                owned_clear(&p->owned[i]);
        free(p->owned);
        p->owned = fresh;
        p->n_owned = n_new;
        if (r < 0) {
                types_free(types, n_types);
                return log_error_errno(r, "cannot read siovd's ListOwners answer: %m");
        }

        /* The parents to list: of the configured types, and the PFs. */
        for (size_t i = 0; i < p->n_resources; i++) {
                Resource *res = &p->resources[i];

                if (is_vf(res))
                        STRV_FOREACH(s, res->parents)
                                if (!strv_contains(parents, *s))
                                        (void) strv_extend(&parents, *s);
                for (size_t t = 0; t < n_types; t++)
                        if (streq(types[t].id, res->type) && parent_allowed(res, types[t].parent) &&
                            !strv_contains(parents, types[t].parent))
                                (void) strv_extend(&parents, types[t].parent);
        }
        STRV_FOREACH(s, parents)
                (void) read_devices(p, *s, note_owned, NULL);
        numa_read(p, parents);

        for (size_t i = 0; i < p->n_resources; i++) {
                Resource *res = &p->resources[i];

                if (is_vf(res)) {
                        slots_clear(res);
                        STRV_FOREACH(s, res->parents)
                                (void) read_devices(p, *s, note_vf, res);
                } else
                        (void) mdev_slots_update(res, types, n_types);
                resource_publish(res);
        }
        types_free(types, n_types);
        idle_schedule(p);
        return 0;
}

static int on_refresh_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Plugin *p = userdata;

        (void) refresh(p);
        return 0;
}

/* siovd signals changes one object at a time; a burst (a parent's uevent
 * changes every type) is read once, 50 ms after it starts. */
static void refresh_soon(Plugin *p) {
        int enabled = SD_EVENT_OFF;

        if (p->refresh_timer)
                (void) sd_event_source_get_enabled(p->refresh_timer, &enabled);
        if (enabled != SD_EVENT_OFF)
                return;
        if (!p->refresh_timer)
                (void) sd_event_add_time_relative(p->event, &p->refresh_timer, CLOCK_MONOTONIC, 50 * 1000, 0,
                                                  on_refresh_timer, p);
        else {
                (void) sd_event_source_set_time_relative(p->refresh_timer, 50 * 1000);
                (void) sd_event_source_set_enabled(p->refresh_timer, SD_EVENT_ONESHOT);
        }
}

static int on_siovd_signal(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        refresh_soon(userdata);
        return 0;
}

static int on_name_owner(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Plugin *p = userdata;
        const char *name, *old, *new;

        if (sd_bus_message_read(m, "sss", &name, &old, &new) < 0 || !streq(name, SIOV_DBUS_NAME))
                return 0;
        if (isempty(new))
                log_info("siovd left the bus; keeping the lists until it is back");
        else {
                log_info("siovd is on the bus (%s); reading its devices", new);
                refresh_soon(p);
        }
        return 0;
}

/* ---- the kubelet's side -------------------------------------------------- */

/* The parent's NUMA node, when it has one, as the device's topology. */
static void set_topology(V1beta1__Device *d, V1beta1__TopologyInfo *t, V1beta1__NUMANode *node,
                         V1beta1__NUMANode **nodep, int numa) {
        if (numa < 0)
                return;
        v1beta1__topology_info__init(t);
        v1beta1__numanode__init(node);
        node->id = numa;
        *nodep = node;
        t->n_nodes = 1;
        t->nodes = nodep;
        d->topology = t;
}

/* The list for ListAndWatch: every device made for this resource (Healthy
 * while active with its parent there) and every free slot (Healthy). */
static int resource_pack(Resource *res, uint8_t **ret, size_t *ret_len) {
        V1beta1__ListAndWatchResponse msg = V1BETA1__LIST_AND_WATCH_RESPONSE__INIT;
        V1beta1__Device *devs = NULL, **ptrs = NULL;
        V1beta1__TopologyInfo *topo = NULL;
        V1beta1__NUMANode *nodes = NULL, **nodep = NULL;
        size_t n = 0, max = res->n_slots + res->p->n_owned;
        uint8_t *buf;

        devs = calloc(max ?: 1, sizeof(*devs));
        ptrs = calloc(max ?: 1, sizeof(*ptrs));
        topo = calloc(max ?: 1, sizeof(*topo));
        nodes = calloc(max ?: 1, sizeof(*nodes));
        nodep = calloc(max ?: 1, sizeof(*nodep));
        if (!devs || !ptrs || !topo || !nodes || !nodep) {
                free(devs);
                free(ptrs);
                free(topo);
                free(nodes);
                free(nodep);
                return -ENOMEM;
        }
        for (size_t i = 0; i < res->p->n_owned; i++) {
                Owned *o = &res->p->owned[i];
                bool mine = is_vf(res) ? streq(strempty(o->kind), "vf") && parent_allowed(res, strempty(o->parent))
                                       : streq(strempty(o->type), res->type) && parent_allowed(res, strempty(o->parent));

                if (!mine)
                        continue;
                v1beta1__device__init(&devs[n]);
                devs[n].id = o->uuid;
                devs[n].health = (char *) (STR_IN_SET(strempty(o->state), "active", "both") ? "Healthy" : "Unhealthy");
                set_topology(&devs[n], &topo[n], &nodes[n], &nodep[n], numa_node(res->p, o->parent));
                ptrs[n] = &devs[n];
                n++;
        }
        for (size_t i = 0; i < res->n_slots; i++) {
                v1beta1__device__init(&devs[n]);
                devs[n].id = res->slots[i].id;
                devs[n].health = (char *) "Healthy";
                set_topology(&devs[n], &topo[n], &nodes[n], &nodep[n], numa_node(res->p, res->slots[i].parent));
                ptrs[n] = &devs[n];
                n++;
        }
        msg.n_devices = n;
        msg.devices = ptrs;
        *ret_len = v1beta1__list_and_watch_response__get_packed_size(&msg);
        buf = malloc(*ret_len ?: 1);
        if (buf)
                v1beta1__list_and_watch_response__pack(&msg, buf);
        free(devs);
        free(ptrs);
        free(topo);
        free(nodes);
        free(nodep);
        *ret = buf;
        return buf ? 0 : -ENOMEM;
}

static void resource_publish(Resource *res) {
        uint8_t *buf;
        size_t len;

        if (resource_pack(res, &buf, &len) < 0)
                return;
        if (res->have_last && len == res->last_len && memcmp(buf, res->last, len) == 0) {
                free(buf);
                return;
        }
        free(res->last);
        res->last = buf;
        res->last_len = len;
        res->have_last = true;
        log_debug("%s: %zu free slots, sending to %zu watchers", res->name, res->n_slots, res->n_streams);
        for (size_t i = 0; i < res->n_streams; i++)
                bridge_call_send(res->streams[i], res->last, res->last_len);
}

static void reply_packed(GrpcCall *call, const ProtobufCMessage *m) {
        size_t len = protobuf_c_message_get_packed_size(m);
        uint8_t *buf = malloc(len ?: 1);

        if (!buf) {
                bridge_call_reply(call, NULL, 0, GRPC_UNAVAILABLE, "out of memory");
                return;
        }
        protobuf_c_message_pack(m, buf);
        bridge_call_reply(call, buf, len, GRPC_OK, NULL);
        free(buf);
}

static const char *id_parent(Resource *res, const char *id) {
        Owned *o = owned_find(res->p, id);

        if (o)
                return strempty(o->parent);
        for (size_t i = 0; i < res->n_slots; i++)
                if (streq(res->slots[i].id, id))
                        return res->slots[i].parent;
        return "";
}

/* One parent if it can serve the request (made devices first), the
 * must-include IDs' parent first, else the parent with the most IDs. */
static void preferred(Resource *res, const V1beta1__ContainerPreferredAllocationRequest *req,
                      V1beta1__ContainerPreferredAllocationResponse *out) {
        size_t size = req->allocation_size > 0 ? (size_t) req->allocation_size : 0, n = 0;
        char **ids = calloc(size + 1, sizeof(char *));
        const char *best = NULL;
        size_t best_count = 0;

        out->deviceids = ids;
        out->n_deviceids = 0;
        if (!ids)
                return;
        for (size_t i = 0; i < req->n_must_include_deviceids && n < size; i++)
                ids[n++] = req->must_include_deviceids[i];
        if (n > 0)
                best = id_parent(res, ids[0]);
        else
                for (size_t i = 0; i < req->n_available_deviceids; i++) {
                        const char *par = id_parent(res, req->available_deviceids[i]);
                        size_t c = 0;

                        for (size_t j = 0; j < req->n_available_deviceids; j++)
                                c += streq(par, id_parent(res, req->available_deviceids[j]));
                        if (c > best_count) {
                                best = par;
                                best_count = c;
                        }
                }
        /* Four passes: made devices of the best parent, its free slots,
         * IDs on its NUMA node, then anything. */
        for (int pass = 0; pass < 4 && n < size; pass++)
                for (size_t i = 0; i < req->n_available_deviceids && n < size; i++) {
                        char *id = req->available_deviceids[i];
                        bool taken = false;

                        for (size_t j = 0; j < n && !taken; j++)
                                taken = streq(ids[j], id);
                        if (taken)
                                continue;
                        if (pass < 2 && (!best || !streq(id_parent(res, id), best)))
                                continue;
                        if (pass == 2 && (!best || numa_node(res->p, best) < 0 ||
                                          numa_node(res->p, id_parent(res, id)) != numa_node(res->p, best)))
                                continue;
                        if (pass == 0 && !owned_find(res->p, id))
                                continue;
                        ids[n++] = id;
                }
        out->n_deviceids = n;
}

static void handle_preferred(Resource *res, GrpcCall *call, const uint8_t *data, size_t len) {
        V1beta1__PreferredAllocationRequest *req = v1beta1__preferred_allocation_request__unpack(NULL, len, data);
        V1beta1__PreferredAllocationResponse resp = V1BETA1__PREFERRED_ALLOCATION_RESPONSE__INIT;
        V1beta1__ContainerPreferredAllocationResponse *c, **cp;

        if (!req) {
                bridge_call_reply(call, NULL, 0, GRPC_INVALID_ARGUMENT, "unreadable PreferredAllocationRequest");
                return;
        }
        c = calloc(req->n_container_requests ?: 1, sizeof(*c));
        cp = calloc(req->n_container_requests ?: 1, sizeof(*cp));
        if (c && cp) {
                for (size_t i = 0; i < req->n_container_requests; i++) {
                        v1beta1__container_preferred_allocation_response__init(&c[i]);
                        preferred(res, req->container_requests[i], &c[i]);
                        cp[i] = &c[i];
                }
                resp.n_container_responses = req->n_container_requests;
                resp.container_responses = cp;
                reply_packed(call, &resp.base);
        } else
                bridge_call_reply(call, NULL, 0, GRPC_UNAVAILABLE, "out of memory");
        for (size_t i = 0; c && i < req->n_container_requests; i++)
                free(c[i].deviceids);
        free(c);
        free(cp);
        v1beta1__preferred_allocation_request__free_unpacked(req, NULL);
}

/* Makes the device behind id through siovd (owner=siov-device-plugin,
 * persistent so that the owner survives a restart of siovd). msg gets
 * siovd's reason on failure. */
static int make_device(Resource *res, const char *id, char **msg) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Owned *o = owned_find(res->p, id);
        const char *parent = NULL;
        int r;

        if (o) {
                _cleanup_free_ char *path = NULL;

                if (STR_IN_SET(strempty(o->state), "active", "both"))
                        return 0;
                if (!streq(strempty(o->state), "defined"))
                        return asprintf(msg, "device %s is %s, not active", id,
                                        o->state ? o->state : "gone (its parent is absent)") < 0 ? -ENOMEM : -ENODEV;
                /* Made before a reboot: its definition is there, start it. */
                r = sd_bus_path_encode(SIOV_DBUS_PATH "/device", id, &path);
                if (r < 0)
                        return r;
                r = sd_bus_call_method(res->p->bus, SIOV_DBUS_NAME, path, SIOV_DBUS_DEVICE_INTERFACE, "Start", &e,
                                       NULL, "");
                if (r < 0)
                        return asprintf(msg, "siovd could not start %s: %s", id, bus_error_text(&e, r)) < 0
                                       ? -ENOMEM : r;
                log_info("%s: started %s again", res->name, id);
                return 0;
        }
        for (size_t i = 0; i < res->n_slots && !parent; i++)
                if (streq(res->slots[i].id, id))
                        parent = res->slots[i].parent;
        if (!parent)
                return asprintf(msg, "unknown device ID %s for %s (not advertised, or taken meanwhile)", id,
                                res->name) < 0 ? -ENOMEM : -ENOENT;
        r = sd_bus_call_method(res->p->bus, SIOV_DBUS_NAME, SIOV_DBUS_PATH, SIOV_DBUS_MANAGER_INTERFACE,
                               "CreateDevice", &e, &reply, "sssa{sv}", parent, res->type, id, 2,
                               "owner", "s", OWNER, "persistent", "b", 1);
        if (r < 0)
                return asprintf(msg, "siovd could not create %s %s on %s: %s%s%s", res->type, id, parent,
                                bus_error_text(&e, r), sd_bus_error_is_set(&e) ? " " : "",
                                sd_bus_error_is_set(&e) ? e.name : "") < 0 ? -ENOMEM : r;
        log_info("%s: created %s %s on %s", res->name, res->type, id, parent);
        return 0;
}

static void handle_allocate(Resource *res, GrpcCall *call, const uint8_t *data, size_t len) {
        V1beta1__AllocateRequest *req = v1beta1__allocate_request__unpack(NULL, len, data);
        V1beta1__AllocateResponse resp = V1BETA1__ALLOCATE_RESPONSE__INIT;
        _cleanup_free_ char *msg = NULL;
        size_t nc;
        int r = 0;

        if (!req) {
                bridge_call_reply(call, NULL, 0, GRPC_INVALID_ARGUMENT, "unreadable AllocateRequest");
                return;
        }
        nc = req->n_container_requests;
        /* Make them all first; a failure fails the whole Allocate with
         * siovd's reason (what it made stays ours and is given back when
         * idle). */
        for (size_t i = 0; i < nc && r >= 0; i++)
                for (size_t j = 0; j < req->container_requests[i]->n_devices_ids && r >= 0; j++)
                        r = make_device(res, req->container_requests[i]->devices_ids[j], &msg);
        (void) refresh(res->p);
        if (r >= 0) {
                V1beta1__ContainerAllocateResponse *c = calloc(nc ?: 1, sizeof(*c)), **cp = calloc(nc ?: 1, sizeof(*cp));
                V1beta1__ContainerAllocateResponse__EnvsEntry *env = calloc(nc ?: 1, sizeof(*env)),
                        **envp = calloc(nc ?: 1, sizeof(*envp));
                V1beta1__DeviceSpec *specs = NULL, **specp = NULL;
                char **values = calloc(nc ?: 1, sizeof(char *));
                char **paths = NULL;
                size_t n_specs = 0, max_specs = 1;

                for (size_t i = 0; i < nc; i++)
                        max_specs += req->container_requests[i]->n_devices_ids + 1;
                specs = calloc(max_specs, sizeof(*specs));
                specp = calloc(max_specs, sizeof(*specp));
                paths = calloc(max_specs, sizeof(char *));
                if (!c || !cp || !env || !envp || !specs || !specp || !values || !paths)
                        r = -ENOMEM;
                for (size_t i = 0; i < nc && r >= 0; i++) {
                        const V1beta1__ContainerAllocateRequest *cr = req->container_requests[i];
                        size_t first = n_specs;
                        FILE *f;
                        size_t sz;

                        v1beta1__container_allocate_response__init(&c[i]);
                        f = open_memstream(&values[i], &sz);
                        if (!f) {
                                r = -ENOMEM;
                                break;
                        }
                        for (size_t j = 0; j < cr->n_devices_ids && r >= 0; j++) {
                                Owned *o = owned_find(res->p, cr->devices_ids[j]);
                                bool dup = false;

                                if (!o || isempty(o->group)) {
                                        r = -ENODEV;
                                        free(msg);
                                        if (asprintf(&msg, "device %s has no VFIO group (is vfio bound to it?)",
                                                     cr->devices_ids[j]) < 0)
                                                msg = NULL;
                                        break;
                                }
                                o->idle_since = now_usec();
                                fprintf(f, "%s%s", j ? "," : "", is_vf(res) ? strempty(o->address) : o->uuid);
                                for (size_t k = first; k < n_specs && !dup; k++)
                                        dup = streq(specs[k].host_path + strlen("/dev/vfio/"), o->group);
                                if (dup)
                                        continue;
                                if (asprintf(&paths[n_specs], "/dev/vfio/%s", o->group) < 0) {
                                        r = -ENOMEM;
                                        break;
                                }
                                v1beta1__device_spec__init(&specs[n_specs]);
                                specs[n_specs].container_path = paths[n_specs];
                                specs[n_specs].host_path = paths[n_specs];
                                specs[n_specs].permissions = (char *) "mrw";
                                specp[n_specs] = &specs[n_specs];
                                n_specs++;
                        }
                        fclose(f);
                        if (r < 0)
                                break;
                        v1beta1__device_spec__init(&specs[n_specs]);
                        specs[n_specs].container_path = (char *) "/dev/vfio/vfio";
                        specs[n_specs].host_path = (char *) "/dev/vfio/vfio";
                        specs[n_specs].permissions = (char *) "mrw";
                        specp[n_specs] = &specs[n_specs];
                        n_specs++;
                        c[i].devices = &specp[first];
                        c[i].n_devices = n_specs - first;
                        v1beta1__container_allocate_response__envs_entry__init(&env[i]);
                        env[i].key = res->env;
                        env[i].value = values[i];
                        envp[i] = &env[i];
                        c[i].envs = &envp[i];
                        c[i].n_envs = 1;
                        cp[i] = &c[i];
                }
                if (r >= 0) {
                        resp.container_responses = cp;
                        resp.n_container_responses = nc;
                        reply_packed(call, &resp.base);
                        log_info("%s: allocated %zu container(s)", res->name, nc);
                }
                for (size_t i = 0; values && i < nc; i++)
                        free(values[i]);
                for (size_t i = 0; paths && i < max_specs; i++)
                        free(paths[i]);
                free(values);
                free(paths);
                free(c);
                free(cp);
                free(env);
                free(envp);
                free(specs);
                free(specp);
        }
        if (r < 0) {
                log_warning("%s: Allocate refused: %s", res->name, msg ?: strerror(-r));
                bridge_call_reply(call, NULL, 0, r == -ENOENT ? GRPC_NOT_FOUND : GRPC_FAILED_PRECONDITION,
                                msg ?: strerror(-r));
        }
        v1beta1__allocate_request__free_unpacked(req, NULL);
}

static void on_call(GrpcCall *call, const char *method, const uint8_t *data, size_t len, void *userdata) {
        Resource *res = userdata;

        log_debug("%s: %s", res->name, method);
        if (streq(method, "/v1beta1.DevicePlugin/GetDevicePluginOptions")) {
                V1beta1__DevicePluginOptions o = V1BETA1__DEVICE_PLUGIN_OPTIONS__INIT;

                o.get_preferred_allocation_available = true;
                reply_packed(call, &o.base);
        } else if (streq(method, "/v1beta1.DevicePlugin/ListAndWatch")) {
                GrpcCall **s = reallocarray(res->streams, res->n_streams + 1, sizeof(GrpcCall *));

                if (!s) {
                        bridge_call_reply(call, NULL, 0, GRPC_UNAVAILABLE, "out of memory");
                        return;
                }
                res->streams = s;
                res->streams[res->n_streams++] = call;
                if (!res->have_last)
                        resource_publish(res);
                else
                        bridge_call_send(call, res->last, res->last_len);
        } else if (streq(method, "/v1beta1.DevicePlugin/GetPreferredAllocation"))
                handle_preferred(res, call, data, len);
        else if (streq(method, "/v1beta1.DevicePlugin/Allocate"))
                handle_allocate(res, call, data, len);
        else if (streq(method, "/v1beta1.DevicePlugin/PreStartContainer")) {
                V1beta1__PreStartContainerResponse o = V1BETA1__PRE_START_CONTAINER_RESPONSE__INIT;

                reply_packed(call, &o.base);
        } else
                bridge_call_reply(call, NULL, 0, GRPC_UNIMPLEMENTED, "unknown method");
}

static void on_closed(GrpcCall *call, void *userdata) {
        Resource *res = userdata;

        for (size_t i = 0; i < res->n_streams; i++)
                if (res->streams[i] == call) {
                        res->streams[i] = res->streams[--res->n_streams];
                        log_debug("%s: a ListAndWatch ended", res->name);
                        break;
                }
}

static void on_registered(int status, const char *details, void *userdata) {
        Resource *res = userdata;

        if (status == GRPC_OK)
                log_info("%s: registered with the kubelet (%s)", res->name, res->socket);
        else
                log_warning("%s: the kubelet refused the registration (gRPC status %d): %s", res->name, status,
                            details);
}

static int socket_path(const Plugin *p, const char *name, char *buf, size_t size) {
        if ((size_t) snprintf(buf, size, "%s/%s", p->dir, name) >= size)
                return -ENAMETOOLONG;
        return 0;
}

static bool is_socket(const char *path) {
        struct stat st;

        return stat(path, &st) >= 0 && S_ISSOCK(st.st_mode);
}

static void kubelet_connect(Plugin *p);

static void on_server_stopped(void *userdata) {
        Resource *res = userdata;

        res->stopping = false;
        kubelet_connect(res->p);
}

static void resource_register(Resource *res, const char *kubelet) {
        V1beta1__RegisterRequest rq = V1BETA1__REGISTER_REQUEST__INIT;
        V1beta1__DevicePluginOptions o = V1BETA1__DEVICE_PLUGIN_OPTIONS__INIT;
        uint8_t *buf;
        size_t len;
        int r;

        o.get_preferred_allocation_available = true;
        rq.version = (char *) API_VERSION;
        rq.endpoint = res->socket;
        rq.resource_name = res->name;
        rq.options = &o;
        len = v1beta1__register_request__get_packed_size(&rq);
        buf = malloc(len ?: 1);
        if (!buf)
                return;
        v1beta1__register_request__pack(&rq, buf);
        r = bridge_client_call(res->p->grpc, kubelet, "/v1beta1.Registration/Register", buf, len, 10000,
                               on_registered, res);
        if (r < 0)
                log_warning_errno(r, "%s: cannot call the kubelet: %m", res->name);
        else
                res->registered = true;
        free(buf);
}

/* Serves every resource whose socket is missing (first start, or the
 * kubelet removed it as it does when it restarts) and registers with the
 * kubelet what it does not know yet: everything when kubelet.sock is new,
 * else the resources whose server is new. */
static void kubelet_connect(Plugin *p) {
        char kubelet[PATH_MAX], path[PATH_MAX];
        bool up;

        if (socket_path(p, KUBELET_SOCKET, kubelet, sizeof(kubelet)) < 0)
                return;
        up = is_socket(kubelet);
        for (size_t i = 0; i < p->n_resources; i++) {
                Resource *res = &p->resources[i];
                int r;

                if (p->kubelet_new)
                        res->registered = false;
                if (res->stopping || socket_path(p, res->socket, path, sizeof(path)) < 0)
                        continue;
                if (res->server && !is_socket(path)) {
                        /* Its socket is gone: stop it, and start anew once
                         * gRPC is done with the old one (on_server_stopped). */
                        res->stopping = true;
                        res->n_streams = 0;     /* their closes still come, and find nothing */
                        bridge_server_stop(res->server, on_server_stopped, res);
                        res->server = NULL;
                        continue;
                }
                if (!res->server) {
                        r = bridge_server_start(p->grpc, path, on_call, on_closed, res, &res->server);
                        if (r < 0) {
                                log_error_errno(r, "%s: cannot listen on %s: %m", res->name, path);
                                continue;
                        }
                        log_info("%s: serving on %s", res->name, path);
                        res->registered = false;
                }
                if (up && !res->registered)
                        resource_register(res, kubelet);
        }
        p->kubelet_new = false;
}

static int on_kubelet_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        kubelet_connect(userdata);
        return 0;
}

static int on_inotify(sd_event_source *s, const struct inotify_event *ev, void *userdata) {
        Plugin *p = userdata;
        bool ours = ev->len > 0 && streq(ev->name, KUBELET_SOCKET);

        if (ours && (ev->mask & (IN_CREATE | IN_MOVED_TO)))
                p->kubelet_new = true;
        for (size_t i = 0; i < p->n_resources && !ours && ev->len > 0; i++)
                ours = streq(ev->name, p->resources[i].socket) && (ev->mask & IN_DELETE);
        if (!ours)
                return 0;
        /* The kubelet removes the plugins' sockets, then makes its own:
         * act once it has settled. */
        if (!p->kubelet_timer)
                (void) sd_event_add_time_relative(p->event, &p->kubelet_timer, CLOCK_MONOTONIC, 200 * 1000, 0,
                                                  on_kubelet_timer, p);
        else {
                (void) sd_event_source_set_time_relative(p->kubelet_timer, 200 * 1000);
                (void) sd_event_source_set_enabled(p->kubelet_timer, SD_EVENT_ONESHOT);
        }
        return 0;
}

/* ---- give-back ------------------------------------------------------------ */

/* Devices made for the plugin that no VFIO user held for idle_usec are
 * destroyed: the pool is not carved up in advance. siovd refuses the
 * Destroy (Busy) while a process has the device's VFIO group open; the
 * device is then in use, and its idle time starts again. */
static int on_idle_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Plugin *p = userdata;
        uint64_t now = now_usec();
        bool changed = false;

        for (size_t i = 0; i < p->n_owned; i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
                _cleanup_free_ char *path = NULL;
                Owned *o = &p->owned[i];
                int r;

                if (o->idle_since + p->idle_usec > now)
                        continue;
                r = sd_bus_path_encode(SIOV_DBUS_PATH "/device", o->uuid, &path);
                if (r < 0)
                        continue;
                r = sd_bus_call_method(p->bus, SIOV_DBUS_NAME, path, SIOV_DBUS_DEVICE_INTERFACE, "Destroy", &e, NULL,
                                       "a{sv}", 0);
                if (r >= 0) {
                        log_info("gave back %s (%s on %s): idle for %llu s", o->uuid, strempty(o->type),
                                 strempty(o->parent), (unsigned long long) (p->idle_usec / 1000000));
                        /* Its ID stays advertised, as a free slot again. */
                        for (size_t j = 0; j < p->n_resources; j++) {
                                Resource *res = &p->resources[j];
                                Slot *sl;

                                if (is_vf(res) || !streq(strempty(o->type), res->type) || !o->parent)
                                        continue;
                                sl = reallocarray(res->slots, res->n_slots + 1, sizeof(Slot));
                                if (!sl)
                                        break;
                                res->slots = sl;
                                memmove(&sl[1], &sl[0], res->n_slots * sizeof(Slot));
                                snprintf(sl[0].id, UUID_MAX, "%s", o->uuid);
                                sl[0].parent = strdup(o->parent);
                                if (sl[0].parent)
                                        res->n_slots++;
                                else
                                        memmove(&sl[0], &sl[1], res->n_slots * sizeof(Slot));
                                break;
                        }
                        changed = true;
                } else {
                        if (sd_bus_error_has_name(&e, SIOV_ERROR_BUSY))
                                log_debug("%s is in use: %s", o->uuid, e.message);
                        else
                                log_warning("cannot give back %s: %s", o->uuid, bus_error_text(&e, r));
                        o->idle_since = now;
                }
        }
        if (changed)
                (void) refresh(p);
        else
                idle_schedule(p);
        return 0;
}

static void idle_schedule(Plugin *p) {
        uint64_t next = UINT64_MAX;

        for (size_t i = 0; i < p->n_owned; i++)
                if (p->owned[i].idle_since + p->idle_usec < next)
                        next = p->owned[i].idle_since + p->idle_usec;
        if (next == UINT64_MAX) {
                (void) sd_event_source_set_enabled(p->idle_timer, SD_EVENT_OFF);
                return;
        }
        if (!p->idle_timer)
                (void) sd_event_add_time(p->event, &p->idle_timer, CLOCK_MONOTONIC, next, 100 * 1000, on_idle_timer, p);
        else {
                (void) sd_event_source_set_time(p->idle_timer, next);
                (void) sd_event_source_set_enabled(p->idle_timer, SD_EVENT_ONESHOT);
        }
}

/* ---- main ----------------------------------------------------------------- */

/* At exit: the servers stop (gRPC removes their sockets), what gRPC still
 * reports is dispatched until it let go of them (at most 5 s), then
 * everything is freed. */
static void plugin_done(Plugin *p) {
        for (size_t i = 0; i < p->n_resources; i++) {
                bridge_server_stop(p->resources[i].server, NULL, NULL);
                p->resources[i].server = NULL;
                p->resources[i].n_streams = 0;
        }
        if (p->grpc && bridge_drain(p->grpc, 5000) < 0)
                log_warning("gRPC did not let go of its calls in 5 s; exiting anyway");
        else
                p->grpc = bridge_free(p->grpc);
        for (size_t i = 0; i < p->n_resources; i++) {
                Resource *res = &p->resources[i];

                free(res->name);
                free(res->type);
                strv_free(res->parents);
                free(res->env);
                free(res->socket);
                slots_clear(res);
                free(res->streams);
                free(res->last);
        }
        free(p->resources);
        for (size_t i = 0; i < p->n_owned; i++)
                owned_clear(&p->owned[i]);
        free(p->owned);
        strv_free(p->numa_parents);
        free(p->numa_nodes);
        free(p->dir);
        sd_event_source_disable_unref(p->refresh_timer);
        sd_event_source_disable_unref(p->kubelet_timer);
        sd_event_source_disable_unref(p->idle_timer);
        sd_event_source_disable_unref(p->inotify);
        sd_bus_flush_close_unref(p->bus);
        sd_event_unref(p->event);
}

static void help(void) {
        printf("siov-device-plugin [OPTIONS]\n\n"
               "Kubernetes device plugin (kubelet API " API_VERSION ") for siovd's mdevs and VFs.\n\n"
               "  -h --help              Show this help\n"
               "     --version           Show the version\n"
               "     --config=PATH       Configuration (default " DEFAULT_CONFIG ")\n"
               "     --kubelet-dir=DIR   The kubelet's device plugin folder (default " DEFAULT_DIR ")\n");
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "help",        no_argument,       NULL, 'h' },
                { "version",     no_argument,       NULL, 'V' },
                { "config",      required_argument, NULL, 'c' },
                { "kubelet-dir", required_argument, NULL, 'k' },
                {}
        };
        const char *config = DEFAULT_CONFIG;
        Plugin p = { .idle_usec = DEFAULT_IDLE_S * 1000000ULL };
        sigset_t ss;
        int c, r;

        log_setup("siov-device-plugin", LOG_TARGET_AUTO);
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case 'V':
                        printf("siov-device-plugin %s\n", PACKAGE_VERSION);
                        return 0;
                case 'c':
                        config = optarg;
                        break;
                case 'k':
                        if (optarg[0] != '/') {
                                log_error("--kubelet-dir needs an absolute path");
                                return 2;
                        }
                        p.dir = strdup(optarg);
                        break;
                default:
                        return 2;
                }
        if (optind < argc) {
                log_error("unexpected argument '%s'", argv[optind]);
                return 2;
        }
        r = config_load(&p, config);
        if (r < 0)
                goto finish;
        if (!p.dir && !(p.dir = strdup(DEFAULT_DIR))) {
                r = log_oom();
                goto finish;
        }

        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigprocmask(SIG_BLOCK, &ss, NULL);
        r = sd_event_default(&p.event);
        if (r < 0) {
                r = log_error_errno(r, "cannot make an event loop: %m");
                goto finish;
        }
        (void) sd_event_add_signal(p.event, NULL, SIGTERM, NULL, NULL);
        (void) sd_event_add_signal(p.event, NULL, SIGINT, NULL, NULL);

        r = sd_bus_open_system(&p.bus);
        if (r < 0) {
                r = log_error_errno(r, "cannot connect to the system bus: %m");
                goto finish;
        }
        (void) sd_bus_set_method_call_timeout(p.bus, 30 * 1000000ULL);
        r = sd_bus_attach_event(p.bus, p.event, 0);
        if (r < 0) {
                r = log_error_errno(r, "cannot attach the bus: %m");
                goto finish;
        }
        /* Every change siovd makes to what is advertised comes as one of
         * these; nothing is polled. */
        r = sd_bus_match_signal(p.bus, NULL, SIOV_DBUS_NAME, NULL, "org.freedesktop.DBus.Properties",
                                "PropertiesChanged", on_siovd_signal, &p);
        if (r >= 0)
                r = sd_bus_match_signal(p.bus, NULL, SIOV_DBUS_NAME, NULL, "org.freedesktop.DBus.ObjectManager",
                                        "InterfacesAdded", on_siovd_signal, &p);
        if (r >= 0)
                r = sd_bus_match_signal(p.bus, NULL, SIOV_DBUS_NAME, NULL, "org.freedesktop.DBus.ObjectManager",
                                        "InterfacesRemoved", on_siovd_signal, &p);
        if (r >= 0)
                r = sd_bus_add_match(p.bus, NULL,
                                     "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',"
                                     "member='NameOwnerChanged',arg0='" SIOV_DBUS_NAME "'",
                                     on_name_owner, &p);
        if (r < 0) {
                r = log_error_errno(r, "cannot subscribe to siovd's signals: %m");
                goto finish;
        }

        r = bridge_new(p.event, &p.grpc);
        if (r < 0) {
                r = log_error_errno(r, "cannot start gRPC: %m");
                goto finish;
        }
        if (mkdir(p.dir, 0755) < 0 && errno != EEXIST) {
                r = log_error_errno(errno, "cannot make %s: %m", p.dir);
                goto finish;
        }
        r = sd_event_add_inotify(p.event, &p.inotify, p.dir, IN_CREATE | IN_DELETE | IN_MOVED_TO, on_inotify, &p);
        if (r < 0) {
                r = log_error_errno(r, "cannot watch %s: %m", p.dir);
                goto finish;
        }

        /* siovd may not be there yet: it is read when its name appears. */
        if (refresh(&p) < 0)
                log_info("siovd is not answering yet; waiting for it on the bus");
        kubelet_connect(&p);
        (void) sd_notify(false, "READY=1");
        r = sd_event_loop(p.event);
finish:
        plugin_done(&p);
        return r < 0 ? 1 : 0;
}
