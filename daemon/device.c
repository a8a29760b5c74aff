/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "log.h"
#include "siov-names.h"

const char *device_kind_to_string(DeviceKind k) {
        return k == DEVICE_KIND_VF ? "vf" : "mdev";
}

static int device_alloc(Manager *m, DeviceKind kind, const char *uuid, Device **ret) {
        Device *d;
        int r;

        d = calloc(1, sizeof(Device));
        if (!d)
                return -ENOMEM;
        d->manager = m;
        d->kind = kind;
        d->uuid = strdup(uuid);
        if (!d->uuid || device_path(uuid, &d->path) < 0) {
                device_free(d);
                return -ENOMEM;
        }
        r = hashmap_put(m->devices, d->uuid, d);
        if (r < 0) {
                device_free(d);
                return r;
        }
        *ret = d;
        return 0;
}

int device_new_mdev(Manager *m, struct siov_mdev *mdev, Device **ret) {
        Device *d;
        int r;

        r = device_alloc(m, DEVICE_KIND_MDEV, siov_mdev_get_uuid(mdev), &d);
        if (r < 0)
                return r;
        d->mdev = siov_mdev_ref(mdev);
        if (ret)
                *ret = d;
        return 0;
}

int device_new_vf(Manager *m, struct siov_parent *pf, size_t i, Device **ret) {
        Device *d;
        int r;

        r = device_alloc(m, DEVICE_KIND_VF, siov_vf_get_uuid(siov_parent_get_vf(pf, i)), &d);
        if (r < 0)
                return r;
        d->pf = siov_parent_ref(pf);
        d->vf_index = i;
        if (ret)
                *ret = d;
        return 0;
}

Device *device_free(Device *d) {
        if (!d)
                return NULL;
        siov_mdev_unref(d->mdev);
        siov_parent_unref(d->pf);
        free(d->uuid);
        free(d->path);
        free(d);
        return NULL;
}

const struct siov_vf *device_get_vf(const Device *d) {
        return d->pf ? siov_parent_get_vf(d->pf, d->vf_index) : NULL;
}

const char *device_get_parent(const Device *d) {
        if (d->kind == DEVICE_KIND_VF)
                return siov_parent_get_name(d->pf);
        return d->mdev ? siov_mdev_get_parent(d->mdev) : "";
}

const char *device_get_type(const Device *d) {
        if (d->kind == DEVICE_KIND_VF)
                return SIOV_VF_TYPE_ID;
        return d->mdev ? siov_mdev_get_type(d->mdev) : "";
}

const char *device_get_state(const Device *d) {
        /* Definitions come later; everything published now exists. */
        return "active";
}

const char *device_get_address(const Device *d) {
        if (d->kind == DEVICE_KIND_VF)
                return siov_vf_get_address(device_get_vf(d));
        return d->uuid;
}

const char *device_get_syspath(const Device *d, char *buf, size_t size) {
        if (d->kind == DEVICE_KIND_VF) {
                /* VFs sit beside their PF in the device tree. */
                const char *pf = siov_parent_get_syspath(d->pf);
                const char *slash = strrchr(pf, '/');
                snprintf(buf, size, "%.*s/%s", (int) (slash ? slash - pf : 0), pf,
                         siov_vf_get_address(device_get_vf(d)));
                return buf;
        }
        return d->mdev ? siov_mdev_get_syspath(d->mdev) : "";
}

const char *device_get_driver(const Device *d) {
        if (d->kind == DEVICE_KIND_VF)
                return siov_vf_get_driver(device_get_vf(d));
        return d->mdev ? siov_mdev_get_driver(d->mdev) : "";
}

bool device_get_host_used(const Device *d) {
        return d->kind == DEVICE_KIND_VF && siov_vf_get_usage(device_get_vf(d)) == SIOV_VF_HOST;
}

char * const *device_get_netdevs(const Device *d) {
        static char *const empty[] = { NULL };

        if (d->kind == DEVICE_KIND_VF)
                return siov_vf_get_netdevs(device_get_vf(d)) ?: empty;
        return empty;
}

typedef struct DeviceValues {
        const char *parent, *type, *address, *syspath, *driver;
        bool host_used;
        char * const *netdevs;
} DeviceValues;

static DeviceValues device_values(const Device *d) {
        /* SysfsPath is built in a buffer: compare what it derives from. */
        return (DeviceValues) {
                .parent = strempty(device_get_parent(d)),
                .type = strempty(device_get_type(d)),
                .address = strempty(device_get_address(d)),
                .syspath = d->kind == DEVICE_KIND_VF ? siov_parent_get_syspath(d->pf)
                                                     : d->mdev ? siov_mdev_get_syspath(d->mdev) : "",
                .driver = strempty(device_get_driver(d)),
                .host_used = device_get_host_used(d),
                .netdevs = device_get_netdevs(d),
        };
}

static void device_signal_diff(Device *d, const DeviceValues *a, const DeviceValues *b) {
        const char *changed[10];
        size_t n = 0;
        char * const *x, * const *y;

        if (!streq(a->parent, b->parent))
                changed[n++] = "Parent";
        if (!streq(a->type, b->type))
                changed[n++] = "Type";
        if (!streq(a->address, b->address))
                changed[n++] = "Address";
        if (!streq(a->syspath, b->syspath))
                changed[n++] = "SysfsPath";
        if (!streq(a->driver, b->driver))
                changed[n++] = "Driver";
        if (a->host_used != b->host_used)
                changed[n++] = "HostUsed";
        for (x = a->netdevs, y = b->netdevs; *x && *y && streq(*x, *y); x++, y++)
                ;
        if (*x || *y)
                changed[n++] = "Netdevs";
        changed[n] = NULL;
        if (n > 0)
                manager_emit_changed(d->manager, d->path, SIOV_DBUS_DEVICE_INTERFACE, (char **) changed);
}

void device_update_mdev(Device *d, struct siov_mdev *mdev) {
        struct siov_mdev *old = d->mdev;
        DeviceValues a, b;

        a = device_values(d);
        d->mdev = siov_mdev_ref(mdev);
        b = device_values(d);
        device_signal_diff(d, &a, &b);
        siov_mdev_unref(old);
}

void device_update_vf(Device *d, struct siov_parent *pf, size_t i) {
        struct siov_parent *old = d->pf;
        DeviceValues a, b;

        if (old == pf && d->vf_index == i)
                return;
        a = device_values(d);
        d->pf = siov_parent_ref(pf);
        d->vf_index = i;
        b = device_values(d);
        device_signal_diff(d, &a, &b);
        siov_parent_unref(old);
}

void device_remove(Device *d) {
        manager_emit_removed(d->manager, d->path);
        hashmap_remove(d->manager->devices, d->uuid);
        device_free(d);
}
