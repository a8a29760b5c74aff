/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus-util.h"
#include "log.h"
#include "parent.h"
#include "polkit.h"
#include "siov-names.h"
#include "sriov.h"

int parent_path(const char *name, char **ret) {
        return sd_bus_path_encode(SIOV_DBUS_PARENT_PREFIX, name, ret);
}

int type_path(const char *parent, const char *id, char **ret) {
        return sd_bus_path_encode_many(ret, SIOV_DBUS_PARENT_PREFIX "/%/" SIOV_DBUS_TYPE_INFIX "/%", parent, id);
}

static int parent_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                       void **found, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_free_ char *name = NULL;
        Parent *p;
        int r;

        r = sd_bus_path_decode(path, SIOV_DBUS_PARENT_PREFIX, &name);
        if (r <= 0)
                return r;
        p = hashmap_get(m->parents, name);
        if (!p)
                return 0;
        *found = p;
        return 1;
}

static int type_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                     void **found, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_free_ char *pname = NULL, *tid = NULL;
        Parent *p;
        Type *t;
        int r;

        r = sd_bus_path_decode_many(path, SIOV_DBUS_PARENT_PREFIX "/%/" SIOV_DBUS_TYPE_INFIX "/%", &pname, &tid);
        if (r <= 0)
                return r;
        p = hashmap_get(m->parents, pname);
        if (!p)
                return 0;
        t = parent_find_type(p, tid);
        if (!t)
                return 0;
        *found = t;
        return 1;
}

static int parent_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes,
                           sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_strv_free_ char **l = NULL;
        size_t n = 0, k = 0;
        Parent *p;

        HASHMAP_FOREACH(p, m->parents, i)
                n += 1 + p->n_types;
        l = calloc(n + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        HASHMAP_FOREACH(p, m->parents, i) {
                l[k] = strdup(p->path);
                if (!l[k++])
                        return -ENOMEM;
                for (size_t j = 0; j < p->n_types; j++) {
                        l[k] = strdup(p->types[j]->path);
                        if (!l[k++])
                                return -ENOMEM;
                }
        }
        *nodes = TAKE_PTR(l);
        return 1;
}

/* An upper bound of what a parent and its types add to GetManagedObjects
 * (measured: about 1.5 KiB for a parent, 700 bytes for a type; the fixed
 * parts leave a margin). */
size_t parent_reply_size(Parent *p) {
        size_t n = 2048 + strlen(p->path) + strlen(strempty(siov_parent_get_syspath(p->snap))) +
                   strlen(strempty(siov_parent_get_broken(p->snap)));

        for (char * const *l = siov_parent_get_netdevs(p->snap); l && *l; l++)
                n += 8 + strlen(*l);
        for (size_t i = 0; i < p->n_types; i++) {
                Type *t = p->types[i];

                n += 1024 + strlen(t->path) + 2 * strlen(t->id) + strlen(strempty(type_get_name(t))) +
                     strlen(strempty(type_get_description(t))) + strlen(strempty(type_get_broken(t)));
        }
        return n;
}

static int append_dict_su(sd_bus_message *reply, const char * const *keys, const uint32_t *values, size_t n) {
        int r;

        r = sd_bus_message_open_container(reply, 'a', "{su}");
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                r = sd_bus_message_append(reply, "{su}", keys[i], values[i]);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

int parent_append_kinds(sd_bus_message *m, unsigned kinds) {
        char *l[4] = {};
        size_t n = 0;

        if (kinds & SIOV_KIND_MDEV)
                l[n++] = (char *) "mdev";
        if (kinds & SIOV_KIND_SRIOV)
                l[n++] = (char *) "sriov";
        if (kinds & SIOV_KIND_IDXD)
                l[n++] = (char *) "idxd";
        return bus_message_append_strv(m, l);
}

int parent_append_resources(sd_bus_message *m, const struct siov_parent *snap) {
        static const char *const keys[] = {
                "total", "free", "mdev-dwq", "mdev-swq", "host-netdev", "host-wq", "swq-slots",
        };
        struct siov_pool pool;

        if (!siov_parent_get_pool(snap, &pool))
                return append_dict_su(m, keys, NULL, 0);
        uint32_t values[] = {
                pool.total, pool.free, pool.mdev_dwq, pool.mdev_swq,
                pool.host_netdev, pool.host_wq, pool.swq_slots,
        };
        return append_dict_su(m, keys, values, ELEMENTSOF(values));
}

int parent_append_host_usage(sd_bus_message *m, const struct siov_parent *snap) {
        const char *keys[_SIOV_HOST_USAGE_MAX];
        uint32_t values[_SIOV_HOST_USAGE_MAX];
        struct siov_pool pool;
        bool has_pool = siov_parent_get_pool(snap, &pool);
        bool sriov = siov_parent_get_kinds(snap) & SIOV_KIND_SRIOV;
        size_t n = 0;

        /* Only the kinds that can apply to this parent: WQ kinds where there
         * is a pool, VF kinds on a PF, netdevs on either. */
        for (int u = 0; u < _SIOV_HOST_USAGE_MAX; u++) {
                uint32_t v = siov_parent_get_host_usage(snap, u);
                bool applies;

                switch (u) {
                case SIOV_HOST_NETDEV:
                        /* DSA/IAA WQs carry no netdevs */
                        applies = (has_pool && !siov_parent_get_idxd(snap)) || sriov || v > 0;
                        break;
                case SIOV_HOST_VF_HOST:
                        applies = sriov;
                        break;
                default:
                        applies = has_pool || v > 0;
                }
                if (!applies)
                        continue;
                keys[n] = siov_host_usage_to_string(u);
                values[n++] = v;
        }
        return append_dict_su(m, keys, values, n);
}

#define PARENT_GETTER(name, kind, flags, expr) BUS_PROPERTY_GETTER(parent, Parent, name, kind, expr)
#define PARENT_VTABLE(name, kind, flags, expr) BUS_PROPERTY_VTABLE(parent, name, kind, flags)
#define TYPE_GETTER(name, kind, flags, expr) BUS_PROPERTY_GETTER(type, Type, name, kind, expr)
#define TYPE_VTABLE(name, kind, flags, expr) BUS_PROPERTY_VTABLE(type, name, kind, flags)

int parent_append_work_queues(sd_bus_message *m, const struct siov_idxd *d) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "(ssssssuii)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < siov_idxd_get_n_wqs(d); i++) {
                const struct siov_wq *wq = siov_idxd_get_wq(d, i);

                r = sd_bus_message_append(m, "(ssssssuii)",
                                          siov_wq_get_name(wq),
                                          siov_wq_mode_to_string(siov_wq_get_mode(wq)),
                                          siov_wq_type_to_string(siov_wq_get_type(wq)),
                                          siov_wq_state_to_string(siov_wq_get_state(wq)),
                                          siov_wq_get_driver(wq),
                                          siov_wq_get_label(wq),
                                          siov_wq_get_size(wq),
                                          siov_wq_get_group(wq),
                                          siov_wq_get_clients(wq));
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(m);
}

int parent_append_idxd_groups(sd_bus_message *m, const struct siov_idxd *d) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "(sasas)");
        if (r < 0)
                return r;
        for (size_t g = 0; g < siov_idxd_get_n_groups(d); g++) {
                int id = siov_idxd_get_group_id(d, g);

                r = sd_bus_message_open_container(m, 'r', "sasas");
                if (r >= 0)
                        r = sd_bus_message_append_basic(m, 's', siov_idxd_get_group_name(d, g));
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'a', "s");
                for (size_t i = 0; r >= 0 && i < siov_idxd_get_n_wqs(d); i++)
                        if (siov_wq_get_group(siov_idxd_get_wq(d, i)) == id)
                                r = sd_bus_message_append_basic(m, 's', siov_wq_get_name(siov_idxd_get_wq(d, i)));
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'a', "s");
                for (size_t i = 0; r >= 0 && i < siov_idxd_get_n_engines(d); i++)
                        if (siov_idxd_get_engine_group(d, i) == id)
                                r = sd_bus_message_append_basic(m, 's', siov_idxd_get_engine_name(d, i));
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(m);
}

/* The options of a PF method, and the cheap refusal before asking anyone. */
static int read_pf_options(sd_bus_message *message, Parent *p, const char * const *allowed, LifecycleOptions *o,
                           sd_bus_error *error) {
        int r;

        r = bus_read_options(message, allowed, o, error);
        if (r < 0)
                return r;
        if (!(siov_parent_get_kinds(p->snap) & SIOV_KIND_SRIOV))
                return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT,
                                         "parent %s is not an SR-IOV physical function", p->name);
        return 0;
}

static int method_set_numvfs(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        static const char * const allowed[] = { "force", "persistent", NULL };
        Parent *p = userdata;
        LifecycleOptions o;
        BusCall *c;
        char num[16];
        uint32_t n;
        int r;

        r = sd_bus_message_read(message, "u", &n);
        if (r < 0)
                return r;
        r = read_pf_options(message, p, allowed, &o, error);
        if (r < 0)
                return r;
        if (n > siov_parent_get_total_vfs(p->snap))
                return sd_bus_error_setf(error, SIOV_ERROR_INVALID_ARGUMENT,
                                         "PF %s supports at most %u VFs (sriov_totalvfs); %u asked",
                                         p->name, siov_parent_get_total_vfs(p->snap), n);
        snprintf(num, sizeof(num), "%u", n);
        {
                const char *actions[] = { SIOV_POLKIT_MANAGE, o.persistent ? SIOV_POLKIT_DEFINE : NULL };

                r = bus_verify_actions(message, p->manager, actions, ELEMENTSOF(actions),
                                       (const char *[]) { "pf", p->name, "numvfs", num, NULL }, error);
                if (r <= 0)
                        return r < 0 ? r : 1;
        }
        /* Answered when the kernel is done (on the PF's worker). */
        c = bus_call_new(p->manager, message, BUS_CALL_REPLY_NONE, NULL);
        if (!c)
                return -ENOMEM;
        r = sriov_set_numvfs(p, n, o.force, o.persistent, bus_call_lifecycle_done(c), error);
        return bus_call_started(c, r, false);
}

static int method_set_autoprobe(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        static const char * const allowed[] = { "persistent", NULL };
        Parent *p = userdata;
        LifecycleOptions o;
        int b, r;

        r = sd_bus_message_read(message, "b", &b);
        if (r < 0)
                return r;
        r = read_pf_options(message, p, allowed, &o, error);
        if (r < 0)
                return r;
        {
                const char *actions[] = { SIOV_POLKIT_MANAGE, o.persistent ? SIOV_POLKIT_DEFINE : NULL };

                r = bus_verify_actions(message, p->manager, actions, ELEMENTSOF(actions),
                                       (const char *[]) { "pf", p->name, "autoprobe", b ? "yes" : "no", NULL }, error);
                if (r <= 0)
                        return r < 0 ? r : 1;
        }
        r = sriov_set_autoprobe(p, b, o.persistent, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(message, NULL);
}

static int method_set_vf_network(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        static const char * const settings_allowed[] = { "vf_mac", "vf_vlan", "vf_qos", "vf_spoofchk", "vf_trust",
                                                         "vf_link_state", NULL };
        static const char * const allowed[] = { "persistent", NULL };
        Parent *p = userdata;
        LifecycleOptions s, o;
        uint32_t vf;
        int r;

        r = sd_bus_message_read(message, "u", &vf);
        if (r < 0)
                return r;
        r = bus_read_options(message, settings_allowed, &s, error);
        if (r < 0)
                return r;
        r = read_pf_options(message, p, allowed, &o, error);
        if (r < 0)
                return r;
        {
                const char *actions[] = { SIOV_POLKIT_MANAGE, o.persistent ? SIOV_POLKIT_DEFINE : NULL };
                VfNetDetails d;
                char num[16];

                snprintf(num, sizeof(num), "%u", vf);
                bus_vf_net_details(&s.vf_net, &d);
                r = bus_verify_actions(message, p->manager, actions, ELEMENTSOF(actions),
                                       (const char *[]) { "pf", p->name, "vf", num, VF_NET_DETAILS(d), NULL }, error);
                if (r <= 0)
                        return r < 0 ? r : 1;
        }
        /* Answered when the PF answered. */
        r = sriov_vf_set_network(p, message, vf, &s.vf_net, o.persistent, error);
        return r < 0 ? r : 1;
}

PARENT_PROPERTIES(PARENT_GETTER)
TYPE_PROPERTIES(TYPE_GETTER)

static const sd_bus_vtable parent_vtable[] = {
        SD_BUS_VTABLE_START(0),
        PARENT_PROPERTIES(PARENT_VTABLE)
        SD_BUS_METHOD_WITH_ARGS("SetNumVFs",
                                SD_BUS_ARGS("u", numvfs, "a{sv}", options),
                                SD_BUS_NO_RESULT,
                                method_set_numvfs, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetAutoprobe",
                                SD_BUS_ARGS("b", autoprobe, "a{sv}", options),
                                SD_BUS_NO_RESULT,
                                method_set_autoprobe, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetVfNetwork",
                                SD_BUS_ARGS("u", vf, "a{sv}", settings, "a{sv}", options),
                                SD_BUS_NO_RESULT,
                                method_set_vf_network, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

/* Records for Manager.ListParents and ListTypes: the object path, then
 * every property of the vtable (made from PARENT_PROPERTIES /
 * TYPE_PROPERTIES) in its order, through its own getter. A
 * property added to the vtable but not to the record's signature makes the
 * append fail (the calls answer an error, the tests notice) instead of
 * going missing from the records. */
static int append_vtable_record(sd_bus_message *m, const char *signature, const char *path,
                                const sd_bus_vtable *vtable, size_t n_max, void *userdata) {
        size_t n = 0;
        int r;

        r = sd_bus_message_open_container(m, 'r', signature);
        if (r < 0)
                return r;
        r = sd_bus_message_append_basic(m, 'o', path);
        if (r < 0)
                return r;
        for (const sd_bus_vtable *v = vtable; v->type != _SD_BUS_VTABLE_END; v++) {
                if (v->type != _SD_BUS_VTABLE_PROPERTY && v->type != _SD_BUS_VTABLE_WRITABLE_PROPERTY)
                        continue;
                if (n++ >= n_max)
                        break;
                r = v->x.property.get(NULL, path, NULL, v->x.property.member, m, userdata, NULL);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(m);
}

int parent_append_record(Parent *p, sd_bus_message *m) {
        return append_vtable_record(m, PARENT_RECORD_SIGNATURE, p->path, parent_vtable, PARENT_RECORD_N, p);
}

static const sd_bus_vtable type_vtable[] = {
        SD_BUS_VTABLE_START(0),
        TYPE_PROPERTIES(TYPE_VTABLE)
        SD_BUS_VTABLE_END
};

int type_append_record(Type *t, sd_bus_message *m) {
        return append_vtable_record(m, TYPE_RECORD_SIGNATURE, t->path, type_vtable, SIZE_MAX, t);
}
/* Parents and their types live below /org/siov1/parent. */
const BusObjectImplementation parent_object = {
        .path = SIOV_DBUS_PARENT_PREFIX,
        .vtables = (const BusObjectVtable[]) {
                { SIOV_DBUS_PARENT_INTERFACE, parent_vtable, parent_object_find },
                { SIOV_DBUS_TYPE_INTERFACE, type_vtable, type_object_find },
                {}
        },
        .node_enumerator = parent_node_enumerator,
};
