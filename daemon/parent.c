/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "log.h"
#include "parent.h"
#include "sriov.h"
#include "sriov-net.h"
#include "siov-names.h"

static Type *type_free(Type *t) {
        if (!t)
                return NULL;
        free(t->id);
        free(t->path);
        free(t);
        return NULL;
}

static int type_new(Parent *p, TypeKind kind, const char *id, struct siov_type *snap, Type **ret) {
        _cleanup_free_ Type *t = NULL;

        t = calloc(1, sizeof(Type));
        if (!t)
                return -ENOMEM;
        *t = (Type) { .parent = p, .kind = kind, .snap = snap, .available = siov_type_get_available(snap) };
        t->id = strdup(id);
        if (!t->id)
                return -ENOMEM;
        if (type_path(p->name, id, &t->path) < 0) {
                free(t->id);
                return -ENOMEM;
        }
        *ret = TAKE_PTR(t);
        return 0;
}

const char *type_kind_to_string(TypeKind k) {
        return k == TYPE_KIND_VF ? "vf" : "mdev";
}

const char *type_get_name(const Type *t) {
        if (t->kind == TYPE_KIND_VF)
                return "SR-IOV virtual function";
        return siov_type_get_name(t->snap);
}

const char *type_get_description(const Type *t) {
        if (t->kind == TYPE_KIND_VF)
                return "A whole PCI virtual function of this physical function, "
                       "assigned through VFIO; counts the VFs that no host driver holds.";
        return siov_type_get_description(t->snap);
}

const char *type_get_device_api(const Type *t) {
        if (t->kind == TYPE_KIND_VF)
                return "vfio-pci";
        return siov_type_get_device_api(t->snap);
}

const char *type_get_migration_version(const Type *t) {
        return t->kind == TYPE_KIND_VF ? "" : siov_type_get_migration_version(t->snap);
}

uint32_t type_get_available(const Type *t) {
        uint32_t n = 0;

        if (t->kind == TYPE_KIND_MDEV)
                return t->available;

        /* A VF is available when neither the host (a host driver) nor
         * siovd (a device made of it) holds it. */
        for (size_t i = 0; i < siov_parent_get_n_vfs(t->parent->snap); i++) {
                const struct siov_vf *vf = siov_parent_get_vf(t->parent->snap, i);
                const Device *d = hashmap_get(t->parent->manager->devices, siov_vf_get_uuid(vf));

                if (siov_vf_get_usage(vf) != SIOV_VF_HOST && !(d && d->spec))
                        n++;
        }
        return n;
}

const char *type_get_broken(const Type *t) {
        if (t->kind == TYPE_KIND_VF)
                return "";
        return strempty(siov_type_get_broken(t->snap));
}

Type *parent_find_type(Parent *p, const char *id) {
        for (size_t i = 0; i < p->n_types; i++)
                if (streq(p->types[i]->id, id))
                        return p->types[i];
        return NULL;
}

void parent_count_mdev(Manager *m, const char *parent, const char *type, int delta) {
        Parent *p = parent ? hashmap_get(m->parents, parent) : NULL;
        Type *t = p ? parent_find_type(p, type) : NULL;

        /* A type that is not there yet counts its devices when it comes
         * (parent_add_type()). */
        if (!t || t->kind != TYPE_KIND_MDEV)
                return;
        if (delta < 0 && t->n_active == 0) {
                log_debug("Type %s of %s: more mdevs went than came.", type, parent);
                return;
        }
        t->n_active += delta;
}

/* The devices of the parent that a new type has already: one parent's. */
static uint32_t type_count_active(const Type *t) {
        const DeviceList *l = manager_parent_devices(t->parent->manager, t->parent->name);
        uint32_t n = 0;
        Device *d;

        DEVICE_LIST_FOREACH(d, l, i)
                if (device_is_active_mdev(d) && streq(d->mdev->type, t->id) && streq(d->mdev->parent, t->parent->name))
                        n++;
        return n;
}

int parent_refresh_available(Parent *p) {
        static char *const changed[] = { (char *) "AvailableInstances", NULL };

        for (size_t i = 0; i < p->n_types; i++) {
                Type *t = p->types[i];
                uint32_t n;
                int r;

                if (t->kind != TYPE_KIND_MDEV)
                        continue;
                /* A broken type offers nothing whatever the file says:
                 * only a whole re-read tells it is fixed. */
                if (!isempty(type_get_broken(t)))
                        return -EAGAIN;
                r = siov_type_read_available(p->manager->ctx, p->name, t->id, &n);
                if (r < 0)
                        return log_debug_errno(r, "Cannot read available_instances of %s/%s: %m", p->name, t->id);
                if (n == t->available)
                        continue;
                t->available = n;
                manager_emit_changed(p->manager, t->path, SIOV_DBUS_TYPE_INTERFACE, (char **) changed);
        }
        return 0;
}

/* The types a snapshot implies: its mdev types, plus "vf" for a PF. */
static size_t snap_n_types(struct siov_parent *snap) {
        return siov_parent_get_n_types(snap) + !!(siov_parent_get_kinds(snap) & SIOV_KIND_SRIOV);
}

static const char *snap_type_id(struct siov_parent *snap, size_t i, struct siov_type **ret) {
        if (i < siov_parent_get_n_types(snap)) {
                *ret = siov_parent_get_type(snap, i);
                return siov_type_get_id(*ret);
        }
        *ret = NULL;
        return SIOV_VF_TYPE_ID;
}

bool parent_pool_equal(const struct siov_parent *a, const struct siov_parent *b) {
        struct siov_pool pa = {}, pb = {};
        bool ha = siov_parent_get_pool(a, &pa), hb = siov_parent_get_pool(b, &pb);
        return ha == hb && memcmp(&pa, &pb, sizeof(pa)) == 0;
}

bool parent_host_usage_equal(const struct siov_parent *a, const struct siov_parent *b) {
        for (int u = 0; u < _SIOV_HOST_USAGE_MAX; u++)
                if (siov_parent_get_host_usage(a, u) != siov_parent_get_host_usage(b, u))
                        return false;
        return true;
}

static bool wq_equal(const struct siov_wq *a, const struct siov_wq *b) {
        return streq(siov_wq_get_name(a), siov_wq_get_name(b)) &&
               siov_wq_get_mode(a) == siov_wq_get_mode(b) &&
               siov_wq_get_type(a) == siov_wq_get_type(b) &&
               siov_wq_get_state(a) == siov_wq_get_state(b) &&
               streq(siov_wq_get_driver(a), siov_wq_get_driver(b)) &&
               streq(siov_wq_get_label(a), siov_wq_get_label(b)) &&
               siov_wq_get_size(a) == siov_wq_get_size(b) &&
               siov_wq_get_group(a) == siov_wq_get_group(b) &&
               siov_wq_get_clients(a) == siov_wq_get_clients(b);
}

bool parent_wqs_equal(const struct siov_idxd *a, const struct siov_idxd *b) {
        if (siov_idxd_get_n_wqs(a) != siov_idxd_get_n_wqs(b))
                return false;
        for (size_t i = 0; i < siov_idxd_get_n_wqs(a); i++)
                if (!wq_equal(siov_idxd_get_wq(a, i), siov_idxd_get_wq(b, i)))
                        return false;
        return true;
}

bool parent_idxd_groups_equal(const struct siov_idxd *a, const struct siov_idxd *b) {
        if (siov_idxd_get_n_groups(a) != siov_idxd_get_n_groups(b) ||
            siov_idxd_get_n_engines(a) != siov_idxd_get_n_engines(b))
                return false;
        for (size_t i = 0; i < siov_idxd_get_n_groups(a); i++)
                if (!streq(siov_idxd_get_group_name(a, i), siov_idxd_get_group_name(b, i)) ||
                    siov_idxd_get_group_id(a, i) != siov_idxd_get_group_id(b, i))
                        return false;
        for (size_t i = 0; i < siov_idxd_get_n_engines(a); i++)
                if (!streq(siov_idxd_get_engine_name(a, i), siov_idxd_get_engine_name(b, i)) ||
                    siov_idxd_get_engine_group(a, i) != siov_idxd_get_engine_group(b, i))
                        return false;
        /* a WQ moving to another group shows in WorkQueues and here */
        return parent_wqs_equal(a, b);
}

ParentValues parent_values(const Parent *o) {
        return (ParentValues) { PARENT_PROPERTIES(BUS_PROPERTY_VALUE) };
}

TypeValues type_values(const Type *o) {
        return (TypeValues) { TYPE_PROPERTIES(BUS_PROPERTY_VALUE) };
}

BUS_PROPERTIES_DIFF_FUNCTION(parent_values_diff, ParentValues, PARENT_PROPERTIES)
BUS_PROPERTIES_DIFF_FUNCTION(type_values_diff, TypeValues, TYPE_PROPERTIES)

static int parent_add_type(Parent *p, TypeKind kind, const char *id, struct siov_type *snap, Type **ret) {
        Type **types;
        Type *t;
        size_t pos;
        int r;

        r = type_new(p, kind, id, snap, &t);
        if (r < 0)
                return r;
        types = realloc(p->types, (p->n_types + 1) * sizeof(Type *));
        if (!types) {
                type_free(t);
                return -ENOMEM;
        }
        p->types = types;
        for (pos = 0; pos < p->n_types && strcmp(p->types[pos]->id, id) < 0; pos++)
                ;
        memmove(p->types + pos + 1, p->types + pos, (p->n_types - pos) * sizeof(Type *));
        p->types[pos] = t;
        p->n_types++;
        if (kind == TYPE_KIND_MDEV)
                t->n_active = type_count_active(t);
        if (ret)
                *ret = t;
        return 0;
}

static void parent_drop_type(Parent *p, size_t pos) {
        type_free(p->types[pos]);
        memmove(p->types + pos, p->types + pos + 1, (p->n_types - pos - 1) * sizeof(Type *));
        p->n_types--;
}

/* VFs of a snapshot become Device objects; the manager maps each VF address
 * to its PF so uevents on a VF (bind, unbind, its netdevs) refresh the PF. */
static void parent_sync_vfs(Parent *p, struct siov_parent *old) {
        Manager *m = p->manager;
        size_t n = siov_parent_get_n_vfs(p->snap);

        /* Removed VFs first, while their objects can still be found. */
        if (old)
                for (size_t i = 0; i < siov_parent_get_n_vfs(old); i++) {
                        const struct siov_vf *vf = siov_parent_get_vf(old, i);
                        bool still = false;
                        Device *d;

                        for (size_t j = 0; j < n && !still; j++)
                                still = streq(siov_vf_get_uuid(siov_parent_get_vf(p->snap, j)),
                                              siov_vf_get_uuid(vf));
                        if (still)
                                continue;
                        if (hashmap_get(m->vf_owners, siov_vf_get_address(vf)) == p)
                                hashmap_remove(m->vf_owners, siov_vf_get_address(vf));
                        d = hashmap_get(m->devices, siov_vf_get_uuid(vf));
                        if (d && d->kind == DEVICE_KIND_VF)
                                device_update_vf(d, NULL, 0);
                }

        for (size_t i = 0; i < n; i++) {
                const struct siov_vf *vf = siov_parent_get_vf(p->snap, i);
                Device *d = hashmap_get(m->devices, siov_vf_get_uuid(vf));

                /* The address string lives in the snapshot: re-key on every
                 * update so the map never points into a freed snapshot. */
                hashmap_remove(m->vf_owners, siov_vf_get_address(vf));
                if (hashmap_put(m->vf_owners, siov_vf_get_address(vf), p) < 0)
                        log_oom();

                if (d && d->kind == DEVICE_KIND_VF) {
                        device_update_vf(d, p->snap, i);
                        continue;
                }
                if (d) {
                        log_warning("VF %s of %s has the UUID %s of an existing mdev; not published.",
                                    siov_vf_get_address(vf), p->name, d->uuid);
                        continue;
                }
                if (device_new_vf(m, p->snap, i, &d) < 0) {
                        log_oom();
                        continue;
                }
                manager_emit_added(m, DEVICE_PATH(d));
        }
}

int parent_new(Manager *m, struct siov_parent *snap, Parent **ret) {
        Parent *p;
        int r;

        p = calloc(1, sizeof(Parent));
        if (!p)
                return -ENOMEM;
        p->manager = m;
        p->snap = siov_parent_ref(snap);
        p->name = strdup(siov_parent_get_name(snap));
        if (!p->name || parent_path(p->name, &p->path) < 0) {
                parent_free(p);
                return -ENOMEM;
        }
        for (size_t i = 0; i < snap_n_types(snap); i++) {
                struct siov_type *ts;
                const char *id = snap_type_id(snap, i, &ts);

                r = parent_add_type(p, ts ? TYPE_KIND_MDEV : TYPE_KIND_VF, id, ts, NULL);
                if (r < 0) {
                        parent_free(p);
                        return r;
                }
        }
        r = hashmap_put(m->parents, p->name, p);
        if (r < 0) {
                parent_free(p);
                return r;
        }

        manager_emit_added(m, p->path);
        for (size_t i = 0; i < p->n_types; i++)
                manager_emit_added(m, p->types[i]->path);
        parent_sync_vfs(p, NULL);

        log_debug("Parent %s added (%zu types, %zu VFs).", p->name, p->n_types, siov_parent_get_n_vfs(snap));
        if (ret)
                *ret = p;
        return 0;
}

void parent_free_void(void *p) {
        parent_free(p);
}

Parent *parent_free(Parent *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_types; i++)
                type_free(p->types[i]);
        free(p->types);
        siov_parent_unref(p->snap);
        free(p->vf_net);
        free(p->name);
        free(p->path);
        free(p);
        return NULL;
}

const char *parent_get_pf_netdev(const Parent *p) {
        char * const *all = siov_parent_get_netdevs(p->snap);

        /* The parent's list holds its VFs' netdevs too. */
        for (char * const *n = all; n && *n; n++) {
                bool of_vf = false;

                for (size_t i = 0; i < siov_parent_get_n_vfs(p->snap) && !of_vf; i++)
                        of_vf = strv_contains_const((const char * const *) siov_vf_get_netdevs(siov_parent_get_vf(p->snap, i)), *n);
                if (!of_vf)
                        return *n;
        }
        return NULL;
}

static int parent_vf_net_read(Parent *p, VfNetState **ret, size_t *ret_n) {
        _cleanup_free_ char *msg = NULL;
        const char *ifname = parent_get_pf_netdev(p);
        int r;

        *ret = NULL;
        *ret_n = 0;
        if (!ifname || !vf_net_supported() || siov_parent_get_n_vfs(p->snap) == 0)
                return 0;
        r = vf_net_read(p->manager->vf_net_transport, p->name, ifname, ret, ret_n, &msg);
        if (r < 0)
                log_debug("Cannot read the VF network settings of %s: %s", p->name, msg ?: strerror(-r));
        return r;
}

const VfNetState *parent_vf_net_state(Parent *p, uint32_t vf) {
        if (!p)
                return NULL;
        /* Read when first asked: PFs without a netdev (NVMe, GPUs) and
         * clients that never look cost nothing. */
        if (!p->vf_net_valid) {
                p->vf_net = mfree(p->vf_net);
                (void) parent_vf_net_read(p, &p->vf_net, &p->n_vf_net);
                p->vf_net_valid = true;
        }
        return vf_net_find(p->vf_net, p->n_vf_net, vf);
}

static bool vf_net_state_equal(const VfNetState *a, const VfNetState *b) {
        if (!a || !b)
                return a == b;
        return memcmp(a, b, sizeof(*a)) == 0;
}

void parent_vf_net_refresh(Parent *p) {
        static char *const names[] = { DEVICE_VF_NET_PROPERTY_NAMES, NULL };
        _cleanup_free_ VfNetState *old = NULL;
        size_t n_old;

        if (!p || !p->vf_net_valid)
                return;
        old = TAKE_PTR(p->vf_net);
        n_old = p->n_vf_net;
        p->n_vf_net = 0;
        (void) parent_vf_net_read(p, &p->vf_net, &p->n_vf_net);
        for (size_t i = 0; i < siov_parent_get_n_vfs(p->snap); i++) {
                const struct siov_vf *vf = siov_parent_get_vf(p->snap, i);
                uint32_t idx = siov_vf_get_index(vf);
                Device *d = hashmap_get(p->manager->devices, siov_vf_get_uuid(vf));

                if (d && d->kind == DEVICE_KIND_VF &&
                    !vf_net_state_equal(vf_net_find(old, n_old, idx), vf_net_find(p->vf_net, p->n_vf_net, idx)))
                        manager_emit_changed(p->manager, DEVICE_PATH(d), SIOV_DBUS_DEVICE_INTERFACE, (char **) names);
        }
}

int parent_update(Parent *p, struct siov_parent *snap) {
        Manager *m = p->manager;
        struct siov_parent *old = p->snap;
        size_t n_new = snap_n_types(snap);
        const char *changed[MAX(PARENT_N_PROPERTIES, TYPE_N_PROPERTIES) + 1];
        ParentValues parent_before = parent_values(p);
        TypeValues *before;
        Type **kept;
        size_t n_kept = 0;

        before = calloc(p->n_types ? p->n_types : 1, sizeof(TypeValues));
        kept = calloc(p->n_types ? p->n_types : 1, sizeof(Type *));
        if (!before || !kept) {
                free(before);
                free(kept);
                return -ENOMEM;
        }

        /* 1. Types that went away: signal while still findable, then drop. */
        for (size_t i = p->n_types; i-- > 0;) {
                Type *t = p->types[i];
                bool still = false;

                for (size_t j = 0; j < n_new && !still; j++) {
                        struct siov_type *ts;
                        still = streq(snap_type_id(snap, j, &ts), t->id);
                }
                if (!still) {
                        manager_emit_removed(m, t->path);
                        parent_drop_type(p, i);
                }
        }
        for (size_t i = 0; i < p->n_types; i++) {
                before[i] = type_values(p->types[i]);
                kept[n_kept++] = p->types[i];
        }

        /* 2. Switch to the new snapshot. The old one stays alive until the
         *    end: `before` points into it. */
        p->snap = siov_parent_ref(snap);
        for (size_t j = 0; j < n_new; j++) {
                struct siov_type *ts;
                const char *id = snap_type_id(snap, j, &ts);
                Type *t = parent_find_type(p, id);

                if (t) {
                        t->snap = ts;
                        t->available = siov_type_get_available(ts);
                        continue;
                }
                if (parent_add_type(p, ts ? TYPE_KIND_MDEV : TYPE_KIND_VF, id, ts, &t) < 0) {
                        log_oom();
                        continue;
                }
                manager_emit_added(m, t->path);
        }

        /* 3. Signal what changed. */
        ParentValues parent_now = parent_values(p);
        if (parent_values_diff(&parent_before, &parent_now, changed) > 0)
                manager_emit_changed(m, p->path, SIOV_DBUS_PARENT_INTERFACE, (char **) changed);
        for (size_t i = 0; i < n_kept; i++) {
                TypeValues now = type_values(kept[i]);

                if (type_values_diff(&before[i], &now, changed) > 0)
                        manager_emit_changed(m, kept[i]->path, SIOV_DBUS_TYPE_INTERFACE, (char **) changed);
        }
        parent_sync_vfs(p, old);
        /* A VF's MAC or link state changes without a uevent of the PF;
         * whenever the PF changes, they are asked again (if anyone asked). */
        parent_vf_net_refresh(p);

        free(before);
        free(kept);
        siov_parent_unref(old);
        return 0;
}

void parent_remove(Parent *p) {
        Manager *m = p->manager;

        for (size_t i = 0; i < siov_parent_get_n_vfs(p->snap); i++) {
                const struct siov_vf *vf = siov_parent_get_vf(p->snap, i);
                Device *d = hashmap_get(m->devices, siov_vf_get_uuid(vf));

                if (hashmap_get(m->vf_owners, siov_vf_get_address(vf)) == p)
                        hashmap_remove(m->vf_owners, siov_vf_get_address(vf));
                if (d && d->kind == DEVICE_KIND_VF)
                        device_update_vf(d, NULL, 0);
        }
        for (size_t i = 0; i < p->n_types; i++)
                manager_emit_removed(m, p->types[i]->path);
        manager_emit_removed(m, p->path);
        hashmap_remove(m->parents, p->name);
        log_debug("Parent %s removed.", p->name);
        parent_free(p);
}
