/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Full scan: every parent, then every active mdev; the model snapshot. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hashmap.h"
#include "siov-names.h"
#include "siov-private.h"

static struct siov_model *model_free(struct siov_model *m) {
        for (size_t i = 0; i < m->n_parents; i++)
                siov_parent_unref(m->parents[i]);
        free(m->parents);
        for (size_t i = 0; i < m->n_mdevs; i++)
                siov_mdev_unref(m->mdevs[i]);
        free(m->mdevs);
        free(m);
        return NULL;
}

_public_ struct siov_model *siov_model_ref(struct siov_model *m) {
        if (m)
                m->n_ref++;
        return m;
}

_public_ struct siov_model *siov_model_unref(struct siov_model *m) {
        if (!m || --m->n_ref > 0)
                return NULL;
        return model_free(m);
}


/* Folders holding mdevs, interned: the bus lists mdevs in hash order and we
 * want to open each parent folder once, whatever the order. */
struct folder_table {
        char **names;           /* by index */
        size_t n, allocated;
        Hashmap *index;         /* name → index + 1 */
};

static int folder_table_intern(struct folder_table *t, const char *name, uint32_t *ret) {
        uintptr_t i;
        int r;

        r = hashmap_ensure_allocated(&t->index, NULL);
        if (r < 0)
                return r;
        i = (uintptr_t) hashmap_get(t->index, name);
        if (i > 0) {
                *ret = (uint32_t) (i - 1);
                return 0;
        }
        if (!GREEDY_REALLOC(t->names, t->allocated, t->n + 1))
                return -ENOMEM;
        t->names[t->n] = strdup(name);
        if (!t->names[t->n])
                return -ENOMEM;
        r = hashmap_put(t->index, t->names[t->n], (void *) (uintptr_t) (t->n + 1));
        if (r < 0) {
                free(t->names[t->n]);
                return r;
        }
        *ret = (uint32_t) t->n++;
        return 0;
}

static void folder_table_done(struct folder_table *t) {
        hashmap_free(t->index);
        for (size_t i = 0; i < t->n; i++)
                free(t->names[i]);
        free(t->names);
}

struct bus_entry {
        char uuid[SIOV_UUID_STRING_MAX];
        uint32_t folder;
};

static int bus_entry_cmp(const void *a, const void *b) {
        const struct bus_entry *x = a, *y = b;

        return x->folder < y->folder ? -1 : x->folder > y->folder;
}

/* Which parent folder holds an mdev, as the types' devices/ folders (read
 * with the parents) already tell: spares one readlink per mdev. uuid →
 * parent syspath, both pointing into the parents. */
static int hint_table_build(Hashmap **ret, const struct siov_model *m) {
        _cleanup_(hashmap_freep) Hashmap *h = NULL;

        *ret = NULL;
        for (size_t i = 0; i < m->n_parents; i++) {
                const struct siov_parent *p = m->parents[i];

                for (size_t j = 0; j < p->n_types; j++)
                        for (char **u = p->types[j].devices; u && *u; u++) {
                                int r = hashmap_ensure_allocated(&h, NULL);
                                if (r < 0)
                                        return r;
                                /* The first parent listing a uuid wins. */
                                r = hashmap_put(h, *u, p->syspath);
                                if (r < 0 && r != -EEXIST)
                                        return r;
                        }
        }
        *ret = TAKE_PTR(h);
        return 0;
}

static int scan_mdevs(struct siov_ctx *ctx, struct siov_model *m) {
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_free_ struct bus_entry *entries = NULL;
        _cleanup_free_ char *bus = NULL;
        struct folder_table folders = {};
        Hashmap *hints = NULL;
        size_t n = 0, allocated = 0, allocated_mdevs = 0;
        struct dirent *de;
        int fd, r = 0;

        fd = siov_open_in_root(ctx, ctx->root_fd, "", SIOV_SYSFS_MDEV_DEVICES, O_RDONLY | O_DIRECTORY, &bus);
        if (fd < 0)
                /* No mdev core loaded: no /sys/bus/mdev at all. */
                return fd == -ENOMEM ? fd : 0;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -ENOMEM;
        }

        r = hint_table_build(&hints, m);
        if (r < 0)
                goto finish;

        /* Pass 1: where does each mdev live? Link text only, no lookups. */
        FOREACH_DIRENT(de, d) {
                char target[PATH_MAX], resolved[PATH_MAX];
                const char *hint;
                char *slash;

                if (!GREEDY_REALLOC(entries, allocated, n + 1)) {
                        r = -ENOMEM;
                        goto finish;
                }
                /* The kernel names them lower case; the folder we open
                 * inside the parent must carry exactly this name. */
                if (siov_uuid_normalize(de->d_name, entries[n].uuid) < 0 ||
                    !streq(entries[n].uuid, de->d_name))
                        continue;
                /* Whatever the hint says, the mdev is then opened inside
                 * that (checked) folder without following links, and its
                 * mdev_type link decides the type. */
                hint = hashmap_get(hints, entries[n].uuid);
                if (hint) {
                        r = folder_table_intern(&folders, hint, &entries[n].folder);
                        if (r < 0)
                                goto finish;
                        n++;
                        continue;
                }
                if (siov_readlinkat(dirfd(d), de->d_name, target) < 0)
                        continue;
                if (siov_path_resolve_lexical(ctx, bus, target, resolved) < 0)
                        continue;
                slash = strrchr(resolved, '/');
                if (!slash || slash == resolved || !streq(slash + 1, de->d_name))
                        continue;
                *slash = '\0';
                r = folder_table_intern(&folders, resolved, &entries[n].folder);
                if (r < 0)
                        goto finish;
                n++;
        }
        qsort_safe(entries, n, sizeof(struct bus_entry), bus_entry_cmp);

        /* Pass 2: open each parent folder once (checked to be inside the
         * root), then every mdev in it with single-component lookups. */
        for (size_t i = 0; i < n; ) {
                _cleanup_free_ char *canon = NULL;
                _cleanup_close_ int pfd = -1;
                uint32_t f = entries[i].folder;
                size_t depth = 0;

                pfd = siov_open_in_root(ctx, ctx->root_fd, "", folders.names[f] + 1,
                                        O_PATH | O_DIRECTORY, &canon);
                if (pfd == -ENOMEM) {
                        r = pfd;
                        goto finish;
                }
                if (pfd >= 0 && !siov_is_device_path(canon))
                        pfd = safe_close(pfd);
                if (pfd >= 0)
                        depth = siov_path_depth(canon);

                for (; i < n && entries[i].folder == f; i++) {
                        struct siov_mdev *dev;

                        if (pfd < 0)
                                continue;
                        r = siov_mdev_load_in_parent(ctx, pfd, canon, depth, entries[i].uuid, &dev);
                        if (r == -ENOMEM)
                                goto finish;
                        if (r < 0)
                                continue;
                        if (!GREEDY_REALLOC(m->mdevs, allocated_mdevs, m->n_mdevs + 1)) {
                                siov_mdev_unref(dev);
                                r = -ENOMEM;
                                goto finish;
                        }
                        m->mdevs[m->n_mdevs++] = dev;
                }
        }
        qsort_safe(m->mdevs, m->n_mdevs, sizeof(struct siov_mdev *), siov_mdev_cmp_ptr);
        r = 0;
finish:
        folder_table_done(&folders);
        hashmap_free(hints);
        return r;
}

/* Names of the SR-IOV PFs on the PCI bus: entries with sriov_totalvfs. */
static int list_pfs(int pci_fd, char ***ret) {
        _cleanup_free_ char **all = NULL;
        char **pfs = NULL;
        size_t n = 0;
        int r;

        *ret = NULL;
        if (pci_fd < 0)
                return 0;
        r = siov_list_names_at(pci_fd, NULL, NULL, &all);
        if (r < 0)
                return r;
        for (char **s = all; s && *s; s++) {
                char path[PATH_MAX];
                struct stat st;

                /* Only a stat here; siov_parent_load() opens it checked. */
                if ((size_t) snprintf(path, sizeof(path), "%s/" SIOV_ATTR_SRIOV_TOTALVFS, *s) >= sizeof(path))
                        continue;
                if (fstatat(pci_fd, path, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                        continue;
                all[n++] = *s;  /* compact in place; strings stay in all's block */
        }
        r = strv_pack(all, n, &pfs);
        if (r < 0)
                return r;
        *ret = pfs;
        return 0;
}

static int scan(struct siov_ctx *ctx, bool with_mdevs, struct siov_model **ret) {
        _cleanup_(siov_model_unrefp) struct siov_model *m = NULL;
        _cleanup_free_ char **mdev_parents = NULL, **pfs = NULL, **idxds = NULL, **names = NULL;
        _cleanup_free_ char **all = NULL;
        struct siov_parent_scan s;
        size_t n = 0, k = 0;
        int r;

        if (!ctx || !ret)
                return -EINVAL;

        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->n_ref = 1;

        r = siov_parent_scan_init(ctx, &s);
        if (r < 0)
                return r;

        if (s.mdev_bus_fd >= 0) {
                r = siov_list_names_at(s.mdev_bus_fd, NULL, NULL, &mdev_parents);
                if (r < 0)
                        goto finish;
        }
        r = list_pfs(s.pci_fd, &pfs);
        if (r < 0)
                goto finish;
        r = siov_accel_list(s.accel, &idxds);
        if (r < 0)
                goto finish;

        /* A device that is both an mdev parent and a PF is one parent; an
         * idxd device on such a PCI function is that parent too
         * (siov_parent_load() refuses its own name then). */
        n = strv_length(mdev_parents) + strv_length(pfs) + strv_length(idxds);
        if (n > 0) {
                all = malloc(n * sizeof(char *));
                if (!all) {
                        r = -ENOMEM;
                        goto finish;
                }
                for (char **x = mdev_parents; x && *x; x++)
                        all[k++] = *x;
                for (char **x = pfs; x && *x; x++)
                        all[k++] = *x;
                for (char **x = idxds; x && *x; x++)
                        all[k++] = *x;
                r = strv_pack(all, k, &names);
                if (r < 0)
                        goto finish;
        }

        n = strv_length(names);
        if (n > 0) {
                m->parents = calloc(n, sizeof(struct siov_parent *));
                if (!m->parents) {
                        r = -ENOMEM;
                        goto finish;
                }
        }
        for (size_t i = 0; i < n; i++) {
                r = siov_parent_load(ctx, &s, names[i], &m->parents[m->n_parents]);
                if (r == -ENOMEM)
                        goto finish;
                /* Gone, bogus, or outside the root: not a parent. */
                if (r < 0)
                        continue;
                m->n_parents++;
        }

        if (with_mdevs) {
                r = scan_mdevs(ctx, m);
                if (r < 0)
                        goto finish;
        }

        *ret = TAKE_PTR(m);
        r = 0;
finish:
        siov_parent_scan_done(&s);
        return r;
}

_public_ int siov_scan(struct siov_ctx *ctx, struct siov_model **ret) {
        return scan(ctx, true, ret);
}

/* The parents only: each type's devices/ listing already says which mdevs
 * it has, without the per-mdev reads (a readlink and two opens each). */
_public_ int siov_scan_parents(struct siov_ctx *ctx, struct siov_model **ret) {
        return scan(ctx, false, ret);
}

_public_ size_t siov_model_get_n_parents(const struct siov_model *m) {
        return m ? m->n_parents : 0;
}

_public_ struct siov_parent *siov_model_get_parent(const struct siov_model *m, size_t i) {
        return m && i < m->n_parents ? m->parents[i] : NULL;
}

static int parent_cmp_name(const void *key, const void *elem) {
        return strcmp(key, (*(struct siov_parent * const *) elem)->name);
}

_public_ struct siov_parent *siov_model_find_parent(const struct siov_model *m, const char *name) {
        struct siov_parent **p;

        if (!m || !name || m->n_parents == 0)
                return NULL;
        p = bsearch(name, m->parents, m->n_parents, sizeof(struct siov_parent *), parent_cmp_name);
        return p ? *p : NULL;
}

_public_ size_t siov_model_get_n_mdevs(const struct siov_model *m) {
        return m ? m->n_mdevs : 0;
}

_public_ struct siov_mdev *siov_model_get_mdev(const struct siov_model *m, size_t i) {
        return m && i < m->n_mdevs ? m->mdevs[i] : NULL;
}

static int mdev_cmp_uuid(const void *key, const void *elem) {
        return strcmp(key, (*(struct siov_mdev * const *) elem)->uuid);
}

_public_ struct siov_mdev *siov_model_find_mdev(const struct siov_model *m, const char *uuid) {
        char id[SIOV_UUID_STRING_MAX];
        struct siov_mdev **d;

        if (!m || m->n_mdevs == 0 || siov_uuid_normalize(uuid, id) < 0)
                return NULL;
        d = bsearch(id, m->mdevs, m->n_mdevs, sizeof(struct siov_mdev *), mdev_cmp_uuid);
        return d ? *d : NULL;
}
