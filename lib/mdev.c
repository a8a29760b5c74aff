/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Active mdevs: /sys/bus/mdev/devices/<uuid>. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "siov-names.h"
#include "siov-private.h"

_public_ struct siov_mdev *siov_mdev_ref(struct siov_mdev *d) {
        if (d)
                d->n_ref++;
        return d;
}

_public_ struct siov_mdev *siov_mdev_unref(struct siov_mdev *d) {
        if (!d || --d->n_ref > 0)
                return NULL;
        free(d);
        return NULL;
}

int siov_mdev_cmp_ptr(const void *a, const void *b) {
        const struct siov_mdev *x = *(struct siov_mdev * const *) a, *y = *(struct siov_mdev * const *) b;

        return strcmp(x->uuid, y->uuid);
}

/* Type id named by the mdev_type link text found in <parent>/<uuid>/. The
 * kernel writes "../mdev_supported_types/<type>"; anything else must still
 * resolve to <parent>/mdev_supported_types/<type>. */
static const char *type_from_link(const struct siov_ctx *ctx, const char *parent_syspath,
                                  const char *uuid, const char *target, char buf[static PATH_MAX]) {
        static const char fast[] = "../" SIOV_ATTR_MDEV_SUPPORTED_TYPES "/";
        char base[PATH_MAX];
        size_t l;
        const char *t;

        if (strncmp(target, fast, strlen(fast)) == 0) {
                t = target + strlen(fast);
                return siov_name_is_valid(t) ? t : NULL;
        }

        if ((size_t) snprintf(base, sizeof(base), "%s/%s", parent_syspath, uuid) >= sizeof(base))
                return NULL;
        if (siov_path_resolve_lexical(ctx, base, target, buf) < 0)
                return NULL;
        l = strlen(parent_syspath);
        if (strncmp(buf, parent_syspath, l) != 0 || buf[l] != '/')
                return NULL;
        t = buf + l + 1;
        if (strncmp(t, SIOV_ATTR_MDEV_SUPPORTED_TYPES "/", strlen(SIOV_ATTR_MDEV_SUPPORTED_TYPES) + 1) != 0)
                return NULL;
        t += strlen(SIOV_ATTR_MDEV_SUPPORTED_TYPES) + 1;
        return siov_name_is_valid(t) ? t : NULL;
}

int siov_mdev_load_in_parent(const struct siov_ctx *ctx, int parent_fd, const char *parent_syspath,
                             size_t parent_depth, const char *uuid, struct siov_mdev **ret) {
        _cleanup_close_ int fd = -1;
        char target[PATH_MAX], tbuf[PATH_MAX], driver[PATH_MAX];
        _cleanup_free_ char *mig = NULL;
        const char *type, *pname;
        bool migratable;
        size_t lp, lt, ls, ld;
        struct siov_mdev *d;
        char *o;

        /* uuid is one validated component and the parent folder is inside
         * the root: O_NOFOLLOW keeps it there. */
        fd = openat(parent_fd, uuid, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOMEM ? -ENOMEM : -ENODEV;
        if (siov_readlinkat(fd, SIOV_ATTR_MDEV_TYPE, target) < 0)
                return -ENODEV;
        type = type_from_link(ctx, parent_syspath, uuid, target, tbuf);
        if (!type)
                return -ENODEV;
        ld = siov_read_link_name_buf(ctx, fd, parent_depth + 1, SIOV_ATTR_DRIVER, driver);
        migratable = siov_read_attr_at(fd, SIOV_ATTR_MIGRATABLE, &mig) >= 0 && streq(mig, "1");

        pname = strrchr(parent_syspath, '/') + 1;
        lp = strlen(pname);
        lt = strlen(type);
        ls = strlen(parent_syspath) + 1 + strlen(uuid);

        /* One block per mdev: 10,000 of them stay around 2 MiB. */
        d = malloc(sizeof(*d) + lp + 1 + lt + 1 + ls + 1 + ld + 1);
        if (!d)
                return -ENOMEM;
        d->n_ref = 1;
        snprintf(d->uuid, sizeof(d->uuid), "%s", uuid);
        o = d->buf;
        d->parent = o;
        o = stpcpy(o, pname) + 1;
        d->type = o;
        o = stpcpy(o, type) + 1;
        d->syspath = o;
        o += sprintf(o, "%s/%s", parent_syspath, uuid) + 1;
        d->driver = o;
        memcpy(o, driver, ld + 1);
        d->migratable = migratable;

        *ret = d;
        return 0;
}

_public_ int siov_mdev_read(struct siov_ctx *ctx, const char *uuid, struct siov_mdev **ret) {
        _cleanup_free_ char *canon = NULL;
        _cleanup_close_ int pfd = -1;
        char id[SIOV_UUID_STRING_MAX], path[128], target[PATH_MAX], resolved[PATH_MAX];
        char *slash;
        int r;

        if (!ctx || !ret)
                return -EINVAL;
        r = siov_uuid_normalize(uuid, id);
        if (r < 0)
                return r;

        snprintf(path, sizeof(path), SIOV_SYSFS_MDEV_DEVICES "/%s", id);
        r = siov_readlinkat(ctx->root_fd, path, target);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return -ENODEV;
        r = siov_path_resolve_lexical(ctx, "/" SIOV_SYSFS_MDEV_DEVICES, target, resolved);
        if (r < 0)
                return -ENODEV;
        slash = strrchr(resolved, '/');
        if (!slash || slash == resolved || !streq(slash + 1, id))
                return -ENODEV;
        *slash = '\0';

        /* Open the parent folder checked, then the mdev inside it. */
        pfd = siov_open_in_root(ctx, ctx->root_fd, "", resolved + 1, O_PATH | O_DIRECTORY, &canon);
        if (pfd == -ENOMEM)
                return pfd;
        if (pfd < 0 || !siov_is_device_path(canon))
                return -ENODEV;
        return siov_mdev_load_in_parent(ctx, pfd, canon, siov_path_depth(canon), id, ret);
}

_public_ const char *siov_mdev_get_uuid(const struct siov_mdev *d) {
        return d ? d->uuid : NULL;
}

_public_ const char *siov_mdev_get_parent(const struct siov_mdev *d) {
        return d ? d->parent : NULL;
}

_public_ const char *siov_mdev_get_type(const struct siov_mdev *d) {
        return d ? d->type : NULL;
}

_public_ const char *siov_mdev_get_syspath(const struct siov_mdev *d) {
        return d ? d->syspath : NULL;
}

_public_ const char *siov_mdev_get_driver(const struct siov_mdev *d) {
        return d ? d->driver : NULL;
}

_public_ bool siov_mdev_get_migratable(const struct siov_mdev *d) {
        return d && d->migratable;
}
