/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sanitizer/asan_interface.h>

#include "alloc.h"
#include "device.h"
#include "lifecycle.h"
#include "log.h"
#include "parent.h"
#include "siov-names.h"
#include "sriov-net.h"

const char *device_kind_to_string(DeviceKind k) {
        return k == DEVICE_KIND_VF ? "vf" : "mdev";
}

/* Devices are allocated from aligned blocks of DEVICE_BLOCK_SIZE: one
 * malloc each would cost 16 bytes of header and rounding on top of 96 at
 * 100,000 devices. A device finds its block by its address; an empty block
 * goes back to the allocator. Manager.device_blocks lists the blocks with
 * a free slot first: when its head is full, all are. */
#define DEVICE_BLOCK_SIZE ((size_t) 64 * 1024)

typedef struct DeviceBlock {
        struct DeviceBlock *prev, *next;
        Device *free;           /* freed slots, linked through their first word */
        uint32_t n_used;        /* slots given out */
        uint32_t n_fresh;       /* slots ever given out: the rest were never used */
        Device devices[];
} DeviceBlock;

#define DEVICE_BLOCK_N ((DEVICE_BLOCK_SIZE - offsetof(DeviceBlock, devices)) / sizeof(Device))

static DeviceBlock *block_of(const Device *d) {
        return (DeviceBlock *) ((uintptr_t) d & ~(uintptr_t) (DEVICE_BLOCK_SIZE - 1));
}

static void block_unlink(Manager *m, DeviceBlock *b) {
        if (b->prev)
                b->prev->next = b->next;
        else
                m->device_blocks = b->next;
        if (b->next)
                b->next->prev = b->prev;
        b->prev = b->next = NULL;
}

static void block_push(Manager *m, DeviceBlock *b, bool front) {
        DeviceBlock *last;

        if (front || !m->device_blocks) {
                b->next = m->device_blocks;
                if (b->next)
                        b->next->prev = b;
                m->device_blocks = b;
                return;
        }
        /* Full blocks go to the end; there are a few hundred at most. */
        for (last = m->device_blocks; last->next; last = last->next)
                ;
        last->next = b;
        b->prev = last;
}

static Device *device_slot_new(Manager *m) {
        DeviceBlock *b = m->device_blocks;
        Device *d;

        if (!b || b->n_used == DEVICE_BLOCK_N) {
                b = aligned_alloc(DEVICE_BLOCK_SIZE, DEVICE_BLOCK_SIZE);
                if (!b)
                        return NULL;
                *b = (DeviceBlock) {};
                ASAN_POISON_MEMORY_REGION(b->devices, DEVICE_BLOCK_N * sizeof(Device));
                block_push(m, b, true);
        }
        if (b->free) {
                d = b->free;
                ASAN_UNPOISON_MEMORY_REGION(d, sizeof(Device));
                b->free = *(Device **) d;
        } else {
                d = &b->devices[b->n_fresh++];
                ASAN_UNPOISON_MEMORY_REGION(d, sizeof(Device));
        }
        if (++b->n_used == DEVICE_BLOCK_N && b->next) {
                block_unlink(m, b);
                block_push(m, b, false);
        }
        *d = (Device) {};
        return d;
}

static void device_slot_free(Manager *m, Device *d) {
        DeviceBlock *b = block_of(d);

        *(Device **) d = b->free;
        b->free = d;
        ASAN_POISON_MEMORY_REGION(d, sizeof(Device));
        if (--b->n_used == 0) {
                block_unlink(m, b);
                free(b);
        } else if (b->n_used == DEVICE_BLOCK_N - 1 && b != m->device_blocks) {
                /* It has room again: to the front. */
                block_unlink(m, b);
                block_push(m, b, true);
        }
}

/* The union's member for the device's kind. */
static const DeviceMdev *mdev_get(const Device *d) {
        return d->kind == DEVICE_KIND_MDEV ? d->mdev : NULL;
}

static struct siov_parent *pf_get(const Device *d) {
        return d->kind == DEVICE_KIND_VF ? d->pf : NULL;
}

size_t device_debug_blocks(const Manager *m) {
        size_t n = 0;

        for (const DeviceBlock *b = m->device_blocks; b; b = b->next)
                n++;
        return n;
}

static int device_alloc(Manager *m, DeviceKind kind, const char *uuid, Device **ret) {
        Device *d;
        int r;

        d = device_slot_new(m);
        if (!d)
                return -ENOMEM;
        d->manager = m;
        d->kind = kind;
        d->counted = DEVICE_STATE_UNCOUNTED;
        snprintf(d->uuid, sizeof(d->uuid), "%s", uuid);
        r = hashmap_put(m->devices, d->uuid, d);
        if (r < 0) {
                device_free(d);
                return r;
        }
        *ret = d;
        return 0;
}

static void mdev_unref(Manager *m, const DeviceMdev *c) {
        DeviceMdev *x = (DeviceMdev *) c;

        if (!x || --x->n_ref > 0)
                return;
        hashmap_remove(m->mdev_shapes, x->key);
        manager_unintern(m, x->parent);
        manager_unintern(m, x->type);
        manager_unintern(m, x->home);
        manager_unintern(m, x->driver);
        free(x);
}

/* The shared record of these values, with a new reference; NULL on OOM.
 * driver NULL: not read yet. */
static const DeviceMdev *mdev_shape(Manager *m, const char *parent, const char *type, const char *home,
                                    const char *driver, bool migratable) {
        size_t lp = strlen(parent), lt = strlen(type), lh = strlen(home), ld = driver ? strlen(driver) : 0;
        /* Names and paths hold no control characters (validated). */
        size_t n = lp + lt + lh + ld + 5;
        char key[PATH_MAX + 3 * NAME_MAX + 5], *k = key;
        DeviceMdev *x;

        if (n > sizeof(key))
                return NULL;

        k = mempcpy(k, parent, lp);
        *k++ = '\x1f';
        k = mempcpy(k, type, lt);
        *k++ = '\x1f';
        k = mempcpy(k, home, lh);
        *k++ = '\x1f';
        *k++ = !driver ? '?' : migratable ? 'm' : '-';
        k = mempcpy(k, strempty(driver), ld);
        *k = '\0';

        x = hashmap_get(m->mdev_shapes, key);
        if (x) {
                x->n_ref++;
                return x;
        }
        x = malloc(offsetof(DeviceMdev, key) + n);
        if (!x)
                return NULL;
        *x = (DeviceMdev) {
                .parent = manager_intern(m, parent),
                .type = manager_intern(m, type),
                .home = manager_intern(m, home),
                .driver = driver ? manager_intern(m, driver) : NULL,
                .migratable = driver && migratable,
                .n_ref = 1,
        };
        memcpy(x->key, key, n);
        if (!x->parent || !x->type || !x->home || (driver && !x->driver) ||
            hashmap_put(m->mdev_shapes, x->key, x) < 0) {
                manager_unintern(m, x->parent);
                manager_unintern(m, x->type);
                manager_unintern(m, x->home);
                manager_unintern(m, x->driver);
                free(x);
                return NULL;
        }
        return x;
}

/* What the device keeps of an mdev snapshot (NULL: not active). */
static int mdev_of(Manager *m, const struct siov_mdev *mdev, const DeviceMdev **ret) {
        const char *syspath, *slash;
        char home[PATH_MAX];

        *ret = NULL;
        if (!mdev)
                return 0;
        syspath = siov_mdev_get_syspath(mdev);
        slash = strrchr(syspath, '/');
        snprintf(home, sizeof(home), "%.*s", (int) (slash ? slash - syspath : 0), syspath);
        *ret = mdev_shape(m, siov_mdev_get_parent(mdev), siov_mdev_get_type(mdev), home,
                          strempty(siov_mdev_get_driver(mdev)), siov_mdev_get_migratable(mdev));
        return *ret ? 0 : -ENOMEM;
}

int device_new_mdev(Manager *m, struct siov_mdev *mdev, Device **ret) {
        const DeviceMdev *x;
        Device *d;
        int r;

        r = mdev_of(m, mdev, &x);
        if (r < 0)
                return r;
        r = device_alloc(m, DEVICE_KIND_MDEV, siov_mdev_get_uuid(mdev), &d);
        if (r < 0) {
                mdev_unref(m, x);
                return r;
        }
        d->mdev = x;
        parent_count_mdev(m, x->parent, x->type, 1);
        device_count(d);
        if (ret)
                *ret = d;
        return 0;
}

int device_new_mdev_listed(Manager *m, const char *uuid, const char *parent, const char *type, const char *home,
                           Device **ret) {
        const DeviceMdev *x = mdev_shape(m, parent, type, home, NULL, false);
        Device *d;
        int r;

        if (!x)
                return -ENOMEM;
        r = device_alloc(m, DEVICE_KIND_MDEV, uuid, &d);
        if (r < 0) {
                mdev_unref(m, x);
                return r;
        }
        d->mdev = x;
        parent_count_mdev(m, x->parent, x->type, 1);
        m->n_unloaded++;
        device_count(d);
        if (ret)
                *ret = d;
        return 0;
}

bool device_load(Device *d) {
        Manager *m = d->manager;
        const DeviceMdev *old = d->kind == DEVICE_KIND_MDEV ? d->mdev : NULL, *x = NULL;
        struct siov_mdev *mdev = NULL;
        int r;

        if (!old || old->driver)
                return false;
        r = siov_mdev_read(m->ctx, d->uuid, &mdev);
        if (r >= 0 && streq(siov_mdev_get_parent(mdev), old->parent) &&
            streq(siov_mdev_get_type(mdev), old->type))
                x = mdev_shape(m, old->parent, old->type, old->home, strempty(siov_mdev_get_driver(mdev)),
                               siov_mdev_get_migratable(mdev));
        if (x) {
                d->mdev = x;
                mdev_unref(m, old);
                m->n_unloaded--;
        } else
                /* Gone or moved since the listing (or no memory): its
                 * uevents are queued; read it whole once they are in.
                 * Until then it shows no driver. */
                manager_mark_mdev(m, d->uuid);
        siov_mdev_unref(mdev);
        return true;
}

int device_new_vf(Manager *m, struct siov_parent *pf, size_t i, Device **ret) {
        Device *d;
        int r;

        r = device_alloc(m, DEVICE_KIND_VF, siov_vf_get_uuid(siov_parent_get_vf(pf, i)), &d);
        if (r < 0)
                return r;
        d->pf = siov_parent_ref(pf);
        d->vf_index = i;
        device_count(d);
        if (ret)
                *ret = d;
        return 0;
}

int device_new_defined(Manager *m, struct siov_definition *def, Device **ret) {
        DeviceKind kind = streq(siov_definition_get_type(def), SIOV_VF_TYPE_ID) ? DEVICE_KIND_VF : DEVICE_KIND_MDEV;
        Device *d;
        int r;

        r = device_alloc(m, kind, siov_definition_get_uuid(def), &d);
        if (r < 0)
                return r;
        d->spec = siov_definition_ref(def);
        d->persistent = true;
        device_count(d);
        if (ret)
                *ret = d;
        return 0;
}

DeviceState device_state_from_string(const char *s) {
        static const char * const names[_DEVICE_STATE_MAX] = {
                [DEVICE_STATE_DEFINED] = "defined",
                [DEVICE_STATE_ACTIVE] = "active",
                [DEVICE_STATE_BOTH] = "both",
                [DEVICE_STATE_REMOVING] = "removing",
        };

        for (DeviceState i = DEVICE_STATE_DEFINED; i < _DEVICE_STATE_MAX; i++)
                if (streq(names[i], s))
                        return i;
        return DEVICE_STATE_UNCOUNTED;
}

void device_unlist(Device *d) {
        DeviceList *l = d->listed;

        if (!l)
                return;
        l->items[d->listed_pos] = l->items[--l->n];
        l->items[d->listed_pos]->listed_pos = d->listed_pos;
        d->listed = NULL;
        if (l->n == 0) {
                hashmap_remove(d->manager->by_parent, l->parent);
                device_list_free(l);
        }
}

/* Files the device under its current parent in Manager.by_parent. */
static void device_list(Device *d) {
        Manager *m = d->manager;
        const char *parent = device_get_parent(d);
        DeviceList *l;

        if (d->listed && streq(d->listed->parent, parent))
                return;
        device_unlist(d);
        l = hashmap_get(m->by_parent, parent);
        if (!l) {
                l = calloc(1, sizeof(DeviceList));
                if (!l || !(l->parent = strdup(parent)) || hashmap_put(m->by_parent, l->parent, l) < 0) {
                        device_list_free(l);
                        log_oom();
                        return;
                }
        }
        if (!GREEDY_REALLOC(l->items, l->allocated, l->n + 1)) {
                if (l->n == 0) {
                        hashmap_remove(m->by_parent, l->parent);
                        device_list_free(l);
                }
                log_oom();
                return;
        }
        d->listed = l;
        d->listed_pos = l->n;
        l->items[l->n++] = d;
}

void device_list_free(void *p) {
        DeviceList *l = p;

        if (!l)
                return;
        for (size_t i = 0; i < l->n; i++)
                l->items[i]->listed = NULL;
        free(l->items);
        free(l->parent);
        free(l);
}

const DeviceList *manager_parent_devices(Manager *m, const char *parent) {
        return hashmap_get(m->by_parent, strempty(parent));
}

void device_count(Device *d) {
        size_t (*c)[2] = d->manager->device_counts;
        DeviceState s = device_state_from_string(device_get_state(d));

        device_list(d);
        if (s == d->counted)
                return;
        if (d->counted != DEVICE_STATE_UNCOUNTED)
                c[d->counted][d->kind]--;
        if (s != DEVICE_STATE_UNCOUNTED)
                c[s][d->kind]++;
        d->counted = s;
}

void device_free_void(void *d) {
        device_free(d);
}

Device *device_free(Device *d) {
        if (!d)
                return NULL;
        if (d->counted != DEVICE_STATE_UNCOUNTED)
                d->manager->device_counts[d->counted][d->kind]--;
        device_unlist(d);
        if (mdev_get(d) && !d->mdev->driver)
                d->manager->n_unloaded--;
        if (mdev_get(d))
                parent_count_mdev(d->manager, d->mdev->parent, d->mdev->type, -1);
        if (d->kind == DEVICE_KIND_MDEV)
                mdev_unref(d->manager, d->mdev);
        else
                siov_parent_unref(d->pf);
        siov_definition_unref(d->spec);
        device_slot_free(d->manager, d);
        return NULL;
}

const struct siov_vf *device_get_vf(const Device *d) {
        return pf_get(d) ? siov_parent_get_vf(d->pf, d->vf_index) : NULL;
}

bool device_is_active_mdev(const Device *d) {
        return mdev_get(d);
}

bool device_is_active(const Device *d) {
        if (d->kind == DEVICE_KIND_MDEV)
                return !!d->mdev;
        /* A VF exists while its PF has it; one that siovd keeps a definition
         * of is active only while it is given to VFIO, as Start leaves it. */
        if (!d->pf)
                return false;
        return !d->persistent || siov_vf_get_usage(device_get_vf(d)) == SIOV_VF_VFIO;
}

const char *device_get_parent(const Device *d) {
        if (pf_get(d))
                return siov_parent_get_name(d->pf);
        if (mdev_get(d))
                return d->mdev->parent;
        return d->spec ? siov_definition_get_parent(d->spec) : "";
}

const char *device_get_type(const Device *d) {
        if (d->kind == DEVICE_KIND_VF)
                return SIOV_VF_TYPE_ID;
        if (d->mdev)
                return d->mdev->type;
        return d->spec ? siov_definition_get_type(d->spec) : "";
}

const char *device_get_state(const Device *d) {
        bool active = device_is_active(d);
        PendingOp *op = hashmap_get(d->manager->pending, d->uuid);

        /* The kernel removes it, and may wait for a VM to let go. */
        if (active && op && (streq(op->what, "removed") || streq(op->what, "released")))
                return "removing";

        if (active && d->persistent)
                return "both";
        return active ? "active" : "defined";
}

pid_t device_get_holder(const Device *d) {
        PendingOp *op = hashmap_get(d->manager->pending, d->uuid);
        return op ? op->holder : 0;
}

bool device_get_autostart(const Device *d) {
        return d->persistent && siov_definition_get_autostart(d->spec);
}

const char *device_get_vm(const Device *d) {
        return d->spec ? siov_definition_get_vm(d->spec) : "";
}

const char *device_get_owner(const Device *d) {
        return d->spec ? siov_definition_get_owner(d->spec) : "";
}

const char *device_get_address(const Device *d) {
        if (d->kind == DEVICE_KIND_VF)
                return d->pf ? siov_vf_get_address(device_get_vf(d)) : "";
        return d->uuid;
}

PathBuf device_get_syspath(const Device *d) {
        /* Not zeroed: 4 KiB, twice per device in a ListDevices reply. */
        PathBuf b;

        b.s[0] = '\0';

        if (d->kind == DEVICE_KIND_VF) {
                const char *pf, *slash;

                if (!d->pf)
                        return b;
                /* VFs sit beside their PF in the device tree. */
                pf = siov_parent_get_syspath(d->pf);
                slash = strrchr(pf, '/');
                snprintf(b.s, sizeof(b.s), "%.*s/%s", (int) (slash ? slash - pf : 0), pf,
                         siov_vf_get_address(device_get_vf(d)));
        } else if (d->mdev) {
                size_t n = strlen(d->mdev->home);

                /* (not snprintf: this is a tenth of a ListDevices reply) */
                if (n + 1 + strlen(d->uuid) < sizeof(b.s))
                        stpcpy(stpcpy(mempcpy(b.s, d->mdev->home, n), "/"), d->uuid);
        }
        return b;
}

const char *device_get_driver(const Device *d) {
        if (d->kind == DEVICE_KIND_VF)
                return d->pf ? siov_vf_get_driver(device_get_vf(d)) : "";
        return d->mdev ? strempty(d->mdev->driver) : "";
}

bool device_get_migratable(const Device *d) {
        return mdev_get(d) && d->mdev->migratable;
}

bool device_get_host_used(const Device *d) {
        return d->kind == DEVICE_KIND_VF && d->pf && siov_vf_get_usage(device_get_vf(d)) == SIOV_VF_HOST;
}

char * const *device_get_netdevs(const Device *d) {
        static char *const empty[] = { NULL };

        if (d->kind == DEVICE_KIND_VF && d->pf)
                return siov_vf_get_netdevs(device_get_vf(d)) ?: empty;
        return empty;
}

DeviceValues device_values(const Device *o) {
        return (DeviceValues) { DEVICE_PROPERTIES(BUS_PROPERTY_VALUE) };
}

bool device_attrs_equal(const struct siov_definition *a, const struct siov_definition *b) {
        size_t n = a ? siov_definition_get_n_attrs(a) : 0;

        if (n != (b ? siov_definition_get_n_attrs(b) : 0))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!streq(siov_definition_get_attr_name(a, i), siov_definition_get_attr_name(b, i)) ||
                    !streq(siov_definition_get_attr_value(a, i), siov_definition_get_attr_value(b, i)))
                        return false;
        return true;
}

bool device_vgpu_types_equal(const struct siov_vf *a, const struct siov_vf *b) {
        size_t n = siov_vf_get_n_vgpu_types(a);

        if (n != siov_vf_get_n_vgpu_types(b))
                return false;
        for (size_t i = 0; i < n; i++)
                if (siov_vf_get_vgpu_type_id(a, i) != siov_vf_get_vgpu_type_id(b, i) ||
                    !streq(siov_vf_get_vgpu_type_name(a, i), siov_vf_get_vgpu_type_name(b, i)))
                        return false;
        return true;
}

BUS_PROPERTIES_DIFF_FUNCTION(device_values_diff, DeviceValues, DEVICE_PROPERTIES)

static void device_signal_diff(Device *d, const DeviceValues *a, const DeviceValues *b) {
        const char *changed[DEVICE_N_PROPERTIES + 1];

        if (device_values_diff(a, b, changed) > 0)
                manager_emit_changed(d->manager, DEVICE_PATH(d), SIOV_DBUS_DEVICE_INTERFACE, (char **) changed);
        device_count(d);
}

bool device_gc(Device *d) {
        if (device_is_active(d) || d->persistent)
                return false;
        device_remove(d);
        return true;
}

void device_update_mdev(Device *d, struct siov_mdev *mdev) {
        const DeviceMdev *old, *now;
        bool unloaded;
        DeviceValues a, b;

        assert(d->kind == DEVICE_KIND_MDEV);
        old = d->mdev;
        unloaded = old && !old->driver;
        if (!mdev && !old)
                return;
        if (!mdev && !d->persistent) {
                /* Gone, and nothing keeps it: a transient spec dies with it. */
                device_remove(d);
                return;
        }
        if (mdev_of(d->manager, mdev, &now) < 0) {
                log_oom();
                (void) manager_request_rescan(d->manager);
                return;
        }
        a = device_values(d);
        d->mdev = now;
        if (old)
                parent_count_mdev(d->manager, old->parent, old->type, -1);
        if (now)
                parent_count_mdev(d->manager, now->parent, now->type, 1);
        if (unloaded)
                d->manager->n_unloaded--;
        b = device_values(d);
        if (unloaded) {
                /* Nobody was shown what was not read yet. */
                a.Driver = b.Driver;
                a.Migratable = b.Migratable;
        }
        device_signal_diff(d, &a, &b);
        /* The old strings stay until the diff is done: a points at them. */
        mdev_unref(d->manager, old);
}

void device_update_vf(Device *d, struct siov_parent *pf, size_t i) {
        struct siov_parent *old = d->pf;
        DeviceValues a, b;

        assert(d->kind == DEVICE_KIND_VF);
        if (old == pf && d->vf_index == i)
                return;
        a = device_values(d);
        d->pf = siov_parent_ref(pf);
        d->vf_index = i;
        if (!pf && !d->persistent) {
                /* The VF went away (sriov_numvfs lowered, PF removed). */
                d->pf = old;
                device_remove(d);
                return;
        }
        b = device_values(d);
        device_signal_diff(d, &a, &b);
        siov_parent_unref(old);
}

bool device_set_spec(Device *d, struct siov_definition *spec, bool persistent) {
        struct siov_definition *old = d->spec;
        DeviceValues a, b;

        a = device_values(d);
        d->spec = siov_definition_ref(spec);
        d->persistent = spec && persistent;
        if (!d->persistent)
                d->stamp = (siov_definition_stamp) {};
        if (device_gc(d)) {
                siov_definition_unref(old);
                return false;
        }
        b = device_values(d);
        device_signal_diff(d, &a, &b);
        /* A VF siovd holds is not available to others: its PF's "vf" type
         * changes with the spec, not with sysfs. */
        if (d->kind == DEVICE_KIND_VF && !old != !spec) {
                Parent *p = hashmap_get(d->manager->parents, device_get_parent(d));
                Type *t = p ? parent_find_type(p, SIOV_VF_TYPE_ID) : NULL;

                if (t)
                        manager_emit_changed(d->manager, t->path, SIOV_DBUS_TYPE_INTERFACE,
                                             (char *[]) { (char *) "AvailableInstances", NULL });
        }
        siov_definition_unref(old);
        return true;
}

void device_remove(Device *d) {
        manager_emit_removed(d->manager, DEVICE_PATH(d));
        hashmap_remove(d->manager->devices, d->uuid);
        device_free(d);
}

static const VfNetState *device_vf_net(const Device *d) {
        const struct siov_vf *vf = device_get_vf(d);

        if (!vf)
                return NULL;
        return parent_vf_net_state(hashmap_get(d->manager->parents, siov_parent_get_name(d->pf)),
                                   siov_vf_get_index(vf));
}

MacBuf device_get_vf_mac(const Device *d) {
        const VfNetState *s = device_vf_net(d);
        MacBuf b = {};

        if (s && s->has_mac)
                siov_vf_mac_format(s->mac, b.s);
        return b;
}

uint32_t device_get_vf_vlan(const Device *d) {
        const VfNetState *s = device_vf_net(d);

        return s && s->has_vlan ? s->vlan : 0;
}

uint32_t device_get_vf_qos(const Device *d) {
        const VfNetState *s = device_vf_net(d);

        return s && s->has_vlan ? s->qos : 0;
}

const char *device_get_vf_link_state(const Device *d) {
        const VfNetState *s = device_vf_net(d);

        return s ? strempty(siov_vf_link_state_to_string(s->link_state)) : "";
}

const char *device_get_vf_spoofchk(const Device *d) {
        const VfNetState *s = device_vf_net(d);

        return s ? vf_net_onoff(s->spoofchk) : "";
}

const char *device_get_vf_trust(const Device *d) {
        const VfNetState *s = device_vf_net(d);

        return s ? vf_net_onoff(s->trust) : "";
}
