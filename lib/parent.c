/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Parents: mdev parents (class mdev_bus) and SR-IOV physical functions. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uuid/uuid.h>

#include "siov-names.h"
#include "siov-private.h"

/* Namespace of the name-based (v5) UUIDs given to VFs, fixed forever so that
 * a VF keeps its UUID across reboots and daemon restarts:
 * 5dd04659-0f21-4a82-a253-810929093cc5. The name hashed is
 * "<pf-name>/vf<index>", e.g. "0000:3b:00.0/vf3". */
static const uuid_t vf_uuid_namespace = {
        0x5d, 0xd0, 0x46, 0x59, 0x0f, 0x21, 0x4a, 0x82,
        0xa2, 0x53, 0x81, 0x09, 0x29, 0x09, 0x3c, 0xc5,
};

static char * const empty_strv[] = { NULL };

static void type_done(struct siov_type *t) {
        free(t->id);
        free(t->name);
        free(t->description);
        free(t->device_api);
        free(t->migration_version);
        free(t->broken);
        free(t->devices);
}

static void vf_done(struct siov_vf *vf) {
        free(vf->address);
        free(vf->driver);
        free(vf->netdevs);
        siov_vgpu_types_free(vf->vgpu_types, vf->n_vgpu_types);
}

static struct siov_parent *parent_free(struct siov_parent *p) {
        for (size_t i = 0; i < p->n_types; i++)
                type_done(&p->types[i]);
        free(p->types);
        for (size_t i = 0; i < p->n_vfs; i++)
                vf_done(&p->vfs[i]);
        free(p->vfs);
        free(p->netdevs);
        free(p->name);
        free(p->syspath);
        free(p->driver);
        free(p->subsystem);
        free(p->broken);
        siov_idxd_free(p->idxd);
        free(p);
        return NULL;
}

_public_ struct siov_parent *siov_parent_ref(struct siov_parent *p) {
        if (p)
                p->n_ref++;
        return p;
}

_public_ struct siov_parent *siov_parent_unref(struct siov_parent *p) {
        if (!p || --p->n_ref > 0)
                return NULL;
        return parent_free(p);
}


/* Optional text attribute: NULL when absent or unreadable. */
static int read_optional(int dirfd, const char *attr, char **ret) {
        int r;

        *ret = NULL;
        r = siov_read_attr_at(dirfd, attr, ret);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                *ret = NULL;
                return 0;
        }
        siov_utf8_sanitize(*ret);
        return 0;
}

static bool uuid_filter(const char *s) {
        return siov_uuid_is_valid(s);
}

/* Reads one type folder. -ENODEV: not a folder (or a symlink: never
 * followed); -ENOMEM. Anything malformed marks only this type broken. */
static int type_load(int types_fd, const char *id, bool list_devices, struct siov_type *t) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *api = NULL;
        size_t n;
        int r;

        fd = openat(types_fd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOMEM ? -ENOMEM : -ENODEV;

        t->id = strdup(id);
        if (!t->id)
                return -ENOMEM;

        r = siov_read_u32_reason(fd, SIOV_ATTR_AVAILABLE_INSTANCES, SIOV_ATTR_AVAILABLE_INSTANCES,
                                 &t->available, &t->broken);
        if (r == -ENOMEM)
                return r;

        r = siov_read_attr_at(fd, SIOV_ATTR_DEVICE_API, &api);
        if (r == -ENOMEM)
                return r;
        if (r == -ENOENT)
                r = siov_reason_add(&t->broken, SIOV_ATTR_DEVICE_API ": missing");
        else if (r < 0)
                r = siov_reason_add(&t->broken, SIOV_ATTR_DEVICE_API ": %s", strerror(-r));
        else if (isempty(api))
                r = siov_reason_add(&t->broken, SIOV_ATTR_DEVICE_API ": empty");
        else {
                siov_utf8_sanitize(api);
                t->device_api = TAKE_PTR(api);
                r = 0;
        }
        if (r < 0)
                return r;

        /* name and description are optional (GVT-g has no name) */
        r = read_optional(fd, SIOV_ATTR_NAME, &t->name);
        if (r < 0)
                return r;
        r = read_optional(fd, SIOV_ATTR_DESCRIPTION, &t->description);
        if (r < 0)
                return r;
        r = read_optional(fd, SIOV_ATTR_MIGRATION_VERSION, &t->migration_version);
        if (r < 0)
                return r;

        if (t->broken) {
                /* A broken type offers nothing, whatever else it says. */
                t->available = 0;
                t->device_api = mfree(t->device_api);
        }

        if (!list_devices)
                return 0;
        r = siov_list_names_at(fd, "devices", uuid_filter, &t->devices);
        if (r < 0)
                return r;
        n = strv_length(t->devices);
        /* (the kernel names them in lower case: most need nothing) */
        for (size_t i = 0; i < n; i++)
                if (strpbrk(t->devices[i], "ABCDEF"))
                        (void) siov_uuid_normalize(t->devices[i], t->devices[i]);
        strv_sort(t->devices, n);
        return 0;
}

static int parent_load_types(struct siov_parent *p, int fd, bool list_devices) {
        _cleanup_close_ int tfd = -1;
        char **ids = NULL;
        size_t n;
        int r;

        tfd = openat(fd, SIOV_ATTR_MDEV_SUPPORTED_TYPES, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (tfd < 0) {
                if (errno == ENOENT)
                        return 0;
                if (errno == ENOMEM)
                        return -ENOMEM;
                return siov_reason_add(&p->broken, SIOV_ATTR_MDEV_SUPPORTED_TYPES ": %s", strerror(errno));
        }

        r = siov_list_names_at(tfd, NULL, NULL, &ids);
        if (r < 0)
                return r;
        n = strv_length(ids);
        if (n == 0)
                return 0;
        p->types = calloc(n, sizeof(struct siov_type));
        if (!p->types) {
                free(ids);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                struct siov_type *t = &p->types[p->n_types];

                r = type_load(tfd, ids[i], list_devices, t);
                if (r == -ENODEV) {
                        type_done(t);
                        *t = (struct siov_type) {};
                        continue;
                }
                p->n_types++;   /* so that a partial type is freed too */
                if (r < 0) {
                        free(ids);
                        return r;
                }
        }
        free(ids);
        return 0;
}

static int parent_load_pool(struct siov_parent *p, int fd) {
        static const struct {
                const char *attr;
                size_t offset;
        } counters[] = {
                { SIOV_KMOD_POOL_TOTAL,       offsetof(struct siov_pool, total) },
                { SIOV_KMOD_POOL_FREE,        offsetof(struct siov_pool, free) },
                { SIOV_KMOD_POOL_MDEV_DWQ,    offsetof(struct siov_pool, mdev_dwq) },
                { SIOV_KMOD_POOL_MDEV_SWQ,    offsetof(struct siov_pool, mdev_swq) },
                { SIOV_KMOD_POOL_HOST_NETDEV, offsetof(struct siov_pool, host_netdev) },
                { SIOV_KMOD_POOL_HOST_WQ,     offsetof(struct siov_pool, host_wq) },
                { SIOV_KMOD_POOL_SWQ_SLOTS,   offsetof(struct siov_pool, swq_slots) },
        };
        _cleanup_close_ int pfd = -1;
        bool ok = true;

        pfd = openat(fd, SIOV_KMOD_POOL_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (pfd < 0)
                return errno == ENOMEM ? -ENOMEM : 0;

        for (size_t i = 0; i < ELEMENTSOF(counters); i++) {
                char label[64];
                int r;

                snprintf(label, sizeof(label), SIOV_KMOD_POOL_DIR "/%s", counters[i].attr);
                r = siov_read_u32_reason(pfd, counters[i].attr, label,
                                         (uint32_t *) ((uint8_t *) &p->pool + counters[i].offset),
                                         &p->broken);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        ok = false;
        }
        /* Half a pool would mislead: report none, and why. */
        p->has_pool = ok;
        if (!ok)
                p->pool = (struct siov_pool) {};
        return 0;
}

static int vf_cmp(const void *a, const void *b) {
        const struct siov_vf *x = a, *y = b;

        return x->index < y->index ? -1 : x->index > y->index;
}

/* NVIDIA SR-IOV vGPU (Ampere and later): the VF's nvidia/ folder holds
 * current_vgpu_type (a type id, 0 for none) and creatable_vgpu_types. Read
 * only: siovd shows them, the vGPU manager owns them. A VF without the
 * folder, or with unreadable files, is simply no vGPU. */
static int vf_load_vgpu(struct siov_vf *vf, int vfd) {
        _cleanup_close_ int nfd = -1;
        _cleanup_free_ char *cur = NULL, *types = NULL;
        int r;

        nfd = openat(vfd, SIOV_ATTR_NVIDIA_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (nfd < 0)
                return errno == ENOMEM ? -ENOMEM : 0;
        r = siov_read_attr_at(nfd, SIOV_ATTR_NVIDIA_CURRENT_VGPU, &cur);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || siov_parse_u32(cur, &vf->vgpu_current) < 0)
                return 0;
        r = siov_read_attr_at(nfd, SIOV_ATTR_NVIDIA_CREATABLE_VGPUS, &types);
        if (r == -ENOMEM)
                return r;
        if (r >= 0) {
                r = siov_vgpu_types_parse(types, &vf->vgpu_types, &vf->n_vgpu_types);
                if (r < 0)
                        return r;
        }
        vf->vgpu = true;
        return 0;
}

/* Reads the VF behind pf_fd/<link>. 0 and vf->address == NULL: skipped. */
static int vf_load(const struct siov_ctx *ctx, struct siov_parent *p, int pf_fd,
                   const char *link, uint32_t index, struct siov_vf *vf) {
        _cleanup_free_ char *vcanon = NULL;
        _cleanup_close_ int vfd = -1;
        char target[PATH_MAX], resolved[PATH_MAX], name[300];
        uuid_t u;
        const char *addr;
        int r;

        r = siov_readlinkat(pf_fd, link, target);
        if (r < 0)
                return siov_reason_add(&p->broken, "%s: %s", link, strerror(-r));
        r = siov_path_resolve_lexical(ctx, p->syspath, target, resolved);
        if (r < 0)
                return siov_reason_add(&p->broken, "%s: points outside the root", link);

        vfd = siov_open_in_root(ctx, pf_fd, p->syspath, link, O_RDONLY | O_DIRECTORY, &vcanon);
        if (vfd == -ENOMEM)
                return vfd;
        if (vfd == -ENOENT)
                return 0;       /* VF going away while we look: not an error */
        if (vfd < 0)
                return siov_reason_add(&p->broken, "%s: %s", link,
                                       vfd == -EXDEV ? "points outside the root" : strerror(-vfd));

        addr = strrchr(vcanon, '/') + 1;
        if (!siov_pci_address_is_valid(addr)) {
                _cleanup_free_ char *e = siov_escape_value(addr);
                if (!e)
                        return -ENOMEM;
                return siov_reason_add(&p->broken, "%s: not a PCI address: '%s'", link, e);
        }

        vf->index = index;
        vf->address = strdup(addr);
        if (!vf->address)
                return -ENOMEM;
        r = siov_read_link_name(ctx, vfd, siov_path_depth(vcanon), SIOV_ATTR_DRIVER, &vf->driver);
        if (r < 0)
                return r;
        r = siov_list_names_at(vfd, SIOV_ATTR_NET, NULL, &vf->netdevs);
        if (r < 0)
                return r;
        r = vf_load_vgpu(vf, vfd);
        if (r < 0)
                return r;

        if (!vf->driver)
                vf->usage = SIOV_VF_UNBOUND;
        else if (siov_ctx_is_vfio_driver(ctx, vf->driver))
                vf->usage = SIOV_VF_VFIO;
        else
                vf->usage = SIOV_VF_HOST;

        snprintf(name, sizeof(name), "%s/vf%" PRIu32, p->name, index);
        uuid_generate_sha1(u, vf_uuid_namespace, name, strlen(name));
        uuid_unparse_lower(u, vf->uuid);
        return 0;
}

static int parent_load_sriov(const struct siov_ctx *ctx, struct siov_parent *p, int fd) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        size_t allocated = 0;
        int dfd, r;

        r = siov_read_u32_reason(fd, SIOV_ATTR_SRIOV_TOTALVFS, SIOV_ATTR_SRIOV_TOTALVFS, &p->total_vfs, &p->broken);
        if (r == -ENOMEM)
                return r;
        r = siov_read_u32_reason(fd, SIOV_ATTR_SRIOV_NUMVFS, SIOV_ATTR_SRIOV_NUMVFS, &p->num_vfs, &p->broken);
        if (r == -ENOMEM)
                return r;
        {
                _cleanup_free_ char *v = NULL;
                uint32_t u;

                /* Optional (not every PF driver lets it be read): unknown, not broken. */
                p->autoprobe = -1;
                r = siov_read_attr_at(fd, SIOV_ATTR_SRIOV_AUTOPROBE, &v);
                if (r == -ENOMEM)
                        return r;
                if (r >= 0 && siov_parse_u32(v, &u) >= 0 && u <= 1)
                        p->autoprobe = (int) u;
        }

        dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return errno == ENOMEM ? -ENOMEM : siov_reason_add(&p->broken, "%s", strerror(errno));
        d = fdopendir(dfd);
        if (!d) {
                close(dfd);
                return -ENOMEM;
        }

        FOREACH_DIRENT(de, d) {
                const char *suffix;
                uint32_t index;

                if (strncmp(de->d_name, SIOV_ATTR_VIRTFN_PREFIX, strlen(SIOV_ATTR_VIRTFN_PREFIX)) != 0)
                        continue;
                suffix = de->d_name + strlen(SIOV_ATTR_VIRTFN_PREFIX);
                /* parse_u32 accepts one trailing newline; a name never has one */
                if (strchr(suffix, '\n') || siov_parse_u32(suffix, &index) < 0)
                        continue;

                if (!GREEDY_REALLOC(p->vfs, allocated, p->n_vfs + 1))
                        return -ENOMEM;
                p->vfs[p->n_vfs] = (struct siov_vf) {};
                r = vf_load(ctx, p, dirfd(d), de->d_name, index, &p->vfs[p->n_vfs]);
                if (!p->vfs[p->n_vfs].address) {
                        vf_done(&p->vfs[p->n_vfs]);
                        if (r < 0)
                                return r;
                        continue;
                }
                p->n_vfs++;
                if (r < 0)
                        return r;
        }
        qsort_safe(p->vfs, p->n_vfs, sizeof(struct siov_vf), vf_cmp);
        return 0;
}

/* The parent's own net/ entries and those of its VFs. */
static int parent_collect_netdevs(struct siov_parent *p, int fd) {
        _cleanup_free_ char **own = NULL;
        _cleanup_free_ char **items = NULL;
        size_t n = 0, k = 0;
        int r;

        r = siov_list_names_at(fd, SIOV_ATTR_NET, NULL, &own);
        if (r < 0)
                return r;
        n = strv_length(own);
        for (size_t i = 0; i < p->n_vfs; i++)
                n += strv_length(p->vfs[i].netdevs);
        if (n == 0)
                return 0;
        items = malloc(n * sizeof(char *));
        if (!items)
                return -ENOMEM;
        for (char **s = own; s && *s; s++)
                items[k++] = *s;
        for (size_t i = 0; i < p->n_vfs; i++)
                for (char **s = p->vfs[i].netdevs; s && *s; s++)
                        items[k++] = *s;
        return strv_pack(items, k, &p->netdevs);
}

static void parent_compute_host_usage(struct siov_parent *p) {
        uint32_t vf_netdevs = 0, vf_host = 0;

        for (size_t i = 0; i < p->n_vfs; i++) {
                vf_netdevs += (uint32_t) strv_length(p->vfs[i].netdevs);
                if (p->vfs[i].usage == SIOV_VF_HOST)
                        vf_host++;
        }
        /* "netdev" is what the host takes away from what VMs could get:
         * netdevs drawing on the pool plus netdevs running on VFs. The PF's
         * own netdev (its net/ folder) uses no pool WQ and no VF, so it is
         * listed among the netdevs but not counted as host usage. */
        p->host_usage[SIOV_HOST_NETDEV] = (p->has_pool ? p->pool.host_netdev : 0) + vf_netdevs;
        p->host_usage[SIOV_HOST_WQ_KERNEL] = p->has_pool ? p->pool.host_wq : 0;
        p->host_usage[SIOV_HOST_VF_HOST] = vf_host;
}

static const char *last_component(const char *path) {
        const char *s = strrchr(path, '/');
        return s ? s + 1 : path;
}

/* Opens the device behind <dirfd>/<name> if it is a real device folder
 * inside the root whose own name is name. */
static int open_device(const struct siov_ctx *ctx, int dirfd, const char *base,
                       const char *name, char **ret_canon) {
        _cleanup_free_ char *canon = NULL;
        int fd;

        *ret_canon = NULL;
        if (dirfd < 0)
                return -ENOENT;
        fd = siov_open_in_root(ctx, dirfd, base, name, O_RDONLY | O_DIRECTORY, &canon);
        if (fd < 0)
                return fd;
        if (!siov_is_device_path(canon) || !streq(last_component(canon), name)) {
                close(fd);
                return -ENODEV;
        }
        *ret_canon = TAKE_PTR(canon);
        return fd;
}

static bool is_regular_at(int dirfd, const char *name) {
        struct stat st;

        return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISREG(st.st_mode);
}

/* Opens the idxd device name on the dsa bus; its canonical path must be
 * expected when given (its folder below the PCI function). */
static int open_idxd(const struct siov_ctx *ctx, const struct siov_parent_scan *s, const char *name,
                     const char *expected, char **ret_canon) {
        int fd;

        fd = open_device(ctx, s->dsa_fd, "/" SIOV_SYSFS_DSA_DEVICES, name, ret_canon);
        if (fd >= 0 && expected && !streq(*ret_canon, expected)) {
                *ret_canon = mfree(*ret_canon);
                fd = safe_close(fd);
                return -ENODEV;
        }
        return fd;
}

/* Whether the device folder canon (a PCI function) is listed as an mdev
 * parent or an SR-IOV PF under its own name. */
static bool is_mdev_or_sriov_parent(const struct siov_ctx *ctx, const struct siov_parent_scan *s,
                                    const char *canon) {
        const char *name = last_component(canon);
        _cleanup_free_ char *c = NULL;
        _cleanup_close_ int fd = -1;

        if (!siov_name_is_valid(name))
                return false;
        fd = open_device(ctx, s->mdev_bus_fd, "/" SIOV_SYSFS_MDEV_BUS_CLASS, name, &c);
        if (fd >= 0 && streq(c, canon))
                return true;
        fd = safe_close(fd);
        c = mfree(c);
        fd = open_device(ctx, s->pci_fd, "/" SIOV_SYSFS_PCI_DEVICES, name, &c);
        return fd >= 0 && streq(c, canon) && is_regular_at(fd, SIOV_ATTR_SRIOV_TOTALVFS);
}

/* Host usage, resources and what remains for mdevs, from the WQs: the
 * bundled driver's pool wins where there is one. */
static void parent_count_wqs(struct siov_parent *p) {
        uint32_t kernel = 0, user = 0, mdev_d = 0, mdev_s = 0;
        const struct siov_idxd *d = p->idxd;

        for (size_t i = 0; i < d->n_wqs; i++) {
                const struct siov_wq *wq = &d->wqs[i];

                if (wq->state != SIOV_WQ_STATE_ENABLED)
                        continue;
                if (wq->type == SIOV_WQ_TYPE_KERNEL)
                        kernel++;
                else if (wq->type == SIOV_WQ_TYPE_USER)
                        user++;
                else if (wq->type == SIOV_WQ_TYPE_MDEV && wq->mode == SIOV_WQ_MODE_SHARED)
                        mdev_s++;
                else if (wq->type == SIOV_WQ_TYPE_MDEV)
                        mdev_d++;
        }
        p->host_usage[SIOV_HOST_WQ_KERNEL] = kernel;
        p->host_usage[SIOV_HOST_WQ_USER] = user;
        if (p->has_pool)
                return;
        p->has_pool = true;
        p->pool = (struct siov_pool) {
                .total = (uint32_t) d->n_wqs,
                .host_wq = kernel + user,
                .mdev_dwq = mdev_d,
                .mdev_swq = mdev_s,
                .free = (uint32_t) d->n_wqs - kernel - user - mdev_d - mdev_s,
        };
}

int siov_parent_load(struct siov_ctx *ctx, const struct siov_parent_scan *s,
                     const char *name, struct siov_parent **ret) {
        _cleanup_(siov_parent_unrefp) struct siov_parent *p = NULL;
        _cleanup_free_ char *canon_m = NULL, *canon_p = NULL, *canon_i = NULL;
        _cleanup_close_ int fd_m = -1, fd_p = -1, fd_i = -1;
        const char *idxd = NULL;
        unsigned kinds = 0;
        size_t depth;
        int fd, r;

        if (!siov_name_is_valid(name))
                return -EINVAL;

        fd_m = open_device(ctx, s->mdev_bus_fd, "/" SIOV_SYSFS_MDEV_BUS_CLASS, name, &canon_m);
        if (fd_m == -ENOMEM)
                return fd_m;
        if (fd_m >= 0)
                kinds |= SIOV_KIND_MDEV;

        fd_p = open_device(ctx, s->pci_fd, "/" SIOV_SYSFS_PCI_DEVICES, name, &canon_p);
        if (fd_p == -ENOMEM)
                return fd_p;
        /* One parent, both kinds, only if both links name the same device. */
        if (fd_p >= 0 && is_regular_at(fd_p, SIOV_ATTR_SRIOV_TOTALVFS) &&
            (!canon_m || streq(canon_m, canon_p)))
                kinds |= SIOV_KIND_SRIOV;

        if (kinds != 0) {
                /* A vendor mdev driver (or SR-IOV) on the PCI function of an
                 * idxd device: one parent, under the function's name. A
                 * driver that made the idxd device itself ("dsa0") the mdev
                 * parent: that device. */
                const char *canon = (kinds & SIOV_KIND_MDEV) ? canon_m : canon_p;
                _cleanup_free_ char *expected = NULL, *c = NULL;
                _cleanup_close_ int f = -1;

                idxd = siov_accel_find(s->accel, (kinds & SIOV_KIND_MDEV) ? fd_m : fd_p, NULL);
                if (idxd) {
                        if (asprintf(&expected, "%s/%s", canon, idxd) < 0)
                                return -ENOMEM;
                } else {
                        idxd = siov_accel_find(s->accel, -1, name);
                        if (idxd && !(expected = strdup(canon)))
                                return -ENOMEM;
                }
                if (idxd) {
                        f = open_idxd(ctx, s, idxd, expected, &c);
                        if (f == -ENOMEM)
                                return f;
                        if (f < 0)
                                idxd = NULL;
                }
        } else {
                idxd = siov_accel_find(s->accel, -1, name);
                if (!idxd)
                        return -ENODEV;
                fd_i = open_idxd(ctx, s, name, NULL, &canon_i);
                if (fd_i == -ENOMEM)
                        return fd_i;
                if (fd_i < 0)
                        return -ENODEV;
                /* Listed under its PCI function's name when that is a parent. */
                {
                        _cleanup_free_ char *up = strdup(canon_i);

                        if (!up)
                                return -ENOMEM;
                        *strrchr(up, '/') = '\0';
                        if (is_mdev_or_sriov_parent(ctx, s, up))
                                return -ENODEV;
                }
        }
        if (idxd)
                kinds |= SIOV_KIND_IDXD;

        if (kinds == 0)
                return -ENODEV;
        fd = (kinds & SIOV_KIND_MDEV) ? fd_m : (kinds & SIOV_KIND_SRIOV) ? fd_p : fd_i;

        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->n_ref = 1;
        p->kinds = kinds;
        p->name = strdup(name);
        if (!p->name)
                return -ENOMEM;
        if (kinds & SIOV_KIND_MDEV)
                p->syspath = TAKE_PTR(canon_m);
        else if (kinds & SIOV_KIND_SRIOV)
                p->syspath = TAKE_PTR(canon_p);
        else
                p->syspath = TAKE_PTR(canon_i);
        depth = siov_path_depth(p->syspath);

        r = siov_read_link_name(ctx, fd, depth, SIOV_ATTR_DRIVER, &p->driver);
        if (r < 0)
                return r;
        r = siov_read_link_name(ctx, fd, depth, "subsystem", &p->subsystem);
        if (r < 0)
                return r;
        {
                _cleanup_free_ char *v = NULL;
                char *end;
                long n;

                /* Optional: a class device (siov0) has none; the kernel says -1. */
                p->numa_node = -1;
                r = siov_read_attr_at(fd, "numa_node", &v);
                if (r == -ENOMEM)
                        return r;
                if (r >= 0) {
                        errno = 0;
                        n = strtol(v, &end, 10);
                        if (errno == 0 && end != v && (*end == '\0' || *end == '\n') && n >= -1 && n < 65536)
                                p->numa_node = (int) n;
                }
        }

        if (kinds & SIOV_KIND_MDEV) {
                r = parent_load_types(p, fd, !s->no_devices);
                if (r < 0)
                        return r;
        }
        r = parent_load_pool(p, fd);
        if (r < 0)
                return r;
        if (kinds & SIOV_KIND_SRIOV) {
                r = parent_load_sriov(ctx, p, fd);
                if (r < 0)
                        return r;
        }
        r = parent_collect_netdevs(p, fd);
        if (r < 0)
                return r;
        parent_compute_host_usage(p);
        if (idxd) {
                r = siov_accel_read(ctx, s->accel, idxd, &p->idxd);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        r = siov_reason_add(&p->broken, "idxd device %s: libaccel-config cannot read it", idxd);
                        if (r < 0)
                                return r;
                } else
                        parent_count_wqs(p);
        }

        *ret = TAKE_PTR(p);
        return 0;
}

int siov_parent_scan_init(struct siov_ctx *ctx, struct siov_parent_scan *s) {
        *s = (struct siov_parent_scan) { .mdev_bus_fd = -1, .pci_fd = -1, .dsa_fd = -1 };

        s->mdev_bus_fd = siov_open_in_root(ctx, ctx->root_fd, "", SIOV_SYSFS_MDEV_BUS_CLASS,
                                           O_RDONLY | O_DIRECTORY, NULL);
        if (s->mdev_bus_fd == -ENOMEM)
                return -ENOMEM;
        s->pci_fd = siov_open_in_root(ctx, ctx->root_fd, "", SIOV_SYSFS_PCI_DEVICES,
                                      O_RDONLY | O_DIRECTORY, NULL);
        if (s->pci_fd == -ENOMEM) {
                siov_parent_scan_done(s);
                return -ENOMEM;
        }
        s->accel = siov_accel_get(ctx);
        if (s->accel) {
                s->dsa_fd = siov_open_in_root(ctx, ctx->root_fd, "", SIOV_SYSFS_DSA_DEVICES,
                                              O_RDONLY | O_DIRECTORY, NULL);
                if (s->dsa_fd == -ENOMEM) {
                        siov_parent_scan_done(s);
                        return -ENOMEM;
                }
        }
        return 0;
}

void siov_parent_scan_done(struct siov_parent_scan *s) {
        if (s->mdev_bus_fd >= 0)
                close(s->mdev_bus_fd);
        if (s->pci_fd >= 0)
                close(s->pci_fd);
        if (s->dsa_fd >= 0)
                close(s->dsa_fd);
        /* s->accel belongs to the siov_ctx: kept for the next read. */
        *s = (struct siov_parent_scan) { .mdev_bus_fd = -1, .pci_fd = -1, .dsa_fd = -1 };
}

static int parent_read(struct siov_ctx *ctx, const char *name, bool list_devices, struct siov_parent **ret) {
        struct siov_parent_scan s;
        int r;

        if (!ctx || !ret)
                return -EINVAL;
        if (!siov_name_is_valid(name))
                return -EINVAL;
        r = siov_parent_scan_init(ctx, &s);
        if (r < 0)
                return r;
        s.no_devices = !list_devices;
        r = siov_parent_load(ctx, &s, name, ret);
        siov_parent_scan_done(&s);
        return r;
}

_public_ int siov_parent_read(struct siov_ctx *ctx, const char *name, struct siov_parent **ret) {
        return parent_read(ctx, name, true, ret);
}

_public_ int siov_parent_read_without_devices(struct siov_ctx *ctx, const char *name, struct siov_parent **ret) {
        return parent_read(ctx, name, false, ret);
}

_public_ void siov_parent_forget_devices(struct siov_parent *p) {
        if (!p)
                return;
        for (size_t i = 0; i < p->n_types; i++)
                p->types[i].devices = mfree(p->types[i].devices);
}

_public_ int siov_type_read_available(struct siov_ctx *ctx, const char *parent, const char *type, uint32_t *ret) {
        _cleanup_free_ char *canon = NULL, *reason = NULL;
        _cleanup_close_ int bus_fd = -1, fd = -1, tfd = -1, yfd = -1;

        if (!ctx || !ret)
                return -EINVAL;
        if (!siov_name_is_valid(parent) || !siov_name_is_valid(type))
                return -EINVAL;
        /* The way siov_parent_read() goes, without the rest of the parent. */
        bus_fd = siov_open_in_root(ctx, ctx->root_fd, "", SIOV_SYSFS_MDEV_BUS_CLASS, O_RDONLY | O_DIRECTORY, NULL);
        if (bus_fd == -ENOMEM)
                return bus_fd;
        fd = open_device(ctx, bus_fd, "/" SIOV_SYSFS_MDEV_BUS_CLASS, parent, &canon);
        if (fd == -ENOMEM)
                return fd;
        if (fd < 0)
                return -ENODEV;
        tfd = openat(fd, SIOV_ATTR_MDEV_SUPPORTED_TYPES, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (tfd >= 0)
                yfd = openat(tfd, type, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (yfd < 0)
                return errno == ENOMEM ? -ENOMEM : -ENODEV;
        return siov_read_u32_reason(yfd, SIOV_ATTR_AVAILABLE_INSTANCES, SIOV_ATTR_AVAILABLE_INSTANCES, ret, &reason);
}

_public_ int siov_parent_read_devpath(struct siov_ctx *ctx, const char *devpath, struct siov_parent **ret) {
        _cleanup_(siov_parent_unrefp) struct siov_parent *p = NULL;
        _cleanup_free_ char *path = NULL, *canon = NULL;
        _cleanup_close_ int fd = -1;
        int r;

        if (!ctx || !ret)
                return -EINVAL;
        if (!siov_devpath_is_valid(devpath))
                return -EINVAL;
        if (asprintf(&path, "sys%s", devpath) < 0)
                return -ENOMEM;
        fd = siov_open_in_root(ctx, ctx->root_fd, "", path, O_PATH | O_DIRECTORY, &canon);
        if (fd == -ENOMEM)
                return fd;
        if (fd < 0)
                return -ENODEV;

        r = siov_parent_read(ctx, last_component(canon), &p);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return -ENODEV;
        /* The name may belong to another device than the one at devpath. */
        if (!streq(p->syspath, canon))
                return -ENODEV;
        *ret = TAKE_PTR(p);
        return 0;
}

_public_ const char *siov_host_usage_to_string(enum siov_host_usage u) {
        static const char * const table[_SIOV_HOST_USAGE_MAX] = {
                [SIOV_HOST_NETDEV] = "netdev",
                [SIOV_HOST_WQ_KERNEL] = "wq-kernel",
                [SIOV_HOST_WQ_USER] = "wq-user",
                [SIOV_HOST_VF_HOST] = "vf-host",
        };
        return (unsigned) u < _SIOV_HOST_USAGE_MAX ? table[u] : NULL;
}

_public_ const char *siov_vf_usage_to_string(enum siov_vf_usage u) {
        switch (u) {
        case SIOV_VF_UNBOUND:
                return "unbound";
        case SIOV_VF_VFIO:
                return "vfio";
        case SIOV_VF_HOST:
                return "host";
        }
        return NULL;
}

_public_ const char *siov_parent_get_name(const struct siov_parent *p) {
        return p ? p->name : NULL;
}

_public_ unsigned siov_parent_get_kinds(const struct siov_parent *p) {
        return p ? p->kinds : 0;
}

_public_ const char *siov_parent_get_driver(const struct siov_parent *p) {
        return p ? strempty(p->driver) : NULL;
}

_public_ const char *siov_parent_get_subsystem(const struct siov_parent *p) {
        return p ? strempty(p->subsystem) : NULL;
}

_public_ const char *siov_parent_get_syspath(const struct siov_parent *p) {
        return p ? p->syspath : NULL;
}

_public_ const char *siov_parent_get_devpath(const struct siov_parent *p) {
        return p ? p->syspath + strlen("/sys") : NULL;
}

_public_ size_t siov_parent_get_n_types(const struct siov_parent *p) {
        return p ? p->n_types : 0;
}

_public_ struct siov_type *siov_parent_get_type(const struct siov_parent *p, size_t i) {
        return p && i < p->n_types ? &p->types[i] : NULL;
}

static int type_cmp_id(const void *key, const void *elem) {
        return strcmp(key, ((const struct siov_type *) elem)->id);
}

_public_ struct siov_type *siov_parent_find_type(const struct siov_parent *p, const char *id) {
        if (!p || !id || p->n_types == 0)
                return NULL;
        return bsearch(id, p->types, p->n_types, sizeof(struct siov_type), type_cmp_id);
}

_public_ bool siov_parent_get_pool(const struct siov_parent *p, struct siov_pool *ret) {
        if (!p || !p->has_pool)
                return false;
        if (ret)
                *ret = p->pool;
        return true;
}

_public_ uint32_t siov_parent_get_host_usage(const struct siov_parent *p, enum siov_host_usage u) {
        if (!p || (unsigned) u >= _SIOV_HOST_USAGE_MAX)
                return 0;
        return p->host_usage[u];
}

_public_ char * const *siov_parent_get_netdevs(const struct siov_parent *p) {
        return p && p->netdevs ? p->netdevs : empty_strv;
}

_public_ uint32_t siov_parent_get_total_vfs(const struct siov_parent *p) {
        return p ? p->total_vfs : 0;
}

_public_ uint32_t siov_parent_get_num_vfs(const struct siov_parent *p) {
        return p ? p->num_vfs : 0;
}

_public_ size_t siov_parent_get_n_vfs(const struct siov_parent *p) {
        return p ? p->n_vfs : 0;
}

_public_ struct siov_vf *siov_parent_get_vf(const struct siov_parent *p, size_t i) {
        return p && i < p->n_vfs ? &p->vfs[i] : NULL;
}

_public_ int siov_parent_get_autoprobe(const struct siov_parent *p) {
        return p && (p->kinds & SIOV_KIND_SRIOV) ? p->autoprobe : -1;
}

_public_ int siov_parent_get_numa_node(const struct siov_parent *p) {
        return p ? p->numa_node : -1;
}

_public_ const struct siov_idxd *siov_parent_get_idxd(const struct siov_parent *p) {
        return p ? p->idxd : NULL;
}

_public_ const char *siov_parent_get_broken(const struct siov_parent *p) {
        return p ? p->broken : NULL;
}

_public_ const char *siov_type_get_id(const struct siov_type *t) {
        return t ? t->id : NULL;
}

_public_ const char *siov_type_get_name(const struct siov_type *t) {
        return t ? strempty(t->name) : NULL;
}

_public_ const char *siov_type_get_description(const struct siov_type *t) {
        return t ? strempty(t->description) : NULL;
}

_public_ const char *siov_type_get_migration_version(const struct siov_type *t) {
        return t ? strempty(t->migration_version) : NULL;
}

_public_ const char *siov_type_get_device_api(const struct siov_type *t) {
        return t ? strempty(t->device_api) : NULL;
}

_public_ uint32_t siov_type_get_available(const struct siov_type *t) {
        return t ? t->available : 0;
}

_public_ const char *siov_type_get_broken(const struct siov_type *t) {
        return t ? t->broken : NULL;
}

_public_ char * const *siov_type_get_devices(const struct siov_type *t) {
        return t && t->devices ? t->devices : empty_strv;
}

_public_ uint32_t siov_vf_get_index(const struct siov_vf *vf) {
        return vf ? vf->index : 0;
}

_public_ const char *siov_vf_get_address(const struct siov_vf *vf) {
        return vf ? vf->address : NULL;
}

_public_ const char *siov_vf_get_driver(const struct siov_vf *vf) {
        return vf ? strempty(vf->driver) : NULL;
}

_public_ enum siov_vf_usage siov_vf_get_usage(const struct siov_vf *vf) {
        return vf ? vf->usage : SIOV_VF_UNBOUND;
}

_public_ char * const *siov_vf_get_netdevs(const struct siov_vf *vf) {
        return vf && vf->netdevs ? vf->netdevs : empty_strv;
}

_public_ const char *siov_vf_get_uuid(const struct siov_vf *vf) {
        return vf ? vf->uuid : NULL;
}

_public_ bool siov_vf_is_vgpu(const struct siov_vf *vf) {
        return vf && vf->vgpu;
}

_public_ uint32_t siov_vf_get_vgpu_current(const struct siov_vf *vf) {
        return vf ? vf->vgpu_current : 0;
}

_public_ size_t siov_vf_get_n_vgpu_types(const struct siov_vf *vf) {
        return vf ? vf->n_vgpu_types : 0;
}

_public_ uint32_t siov_vf_get_vgpu_type_id(const struct siov_vf *vf, size_t i) {
        return vf && i < vf->n_vgpu_types ? vf->vgpu_types[i].id : 0;
}

_public_ const char *siov_vf_get_vgpu_type_name(const struct siov_vf *vf, size_t i) {
        return vf && i < vf->n_vgpu_types ? vf->vgpu_types[i].name : NULL;
}
