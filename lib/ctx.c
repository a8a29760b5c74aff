/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Library context: the root prefix and the VFIO variant driver list. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "siov-names.h"
#include "siov-private.h"

_public_ int siov_ctx_new(struct siov_ctx **ret, const char *sysfs_root) {
        _cleanup_free_ char *real = NULL;
        struct siov_ctx *ctx;
        int r;

        if (!ret)
                return -EINVAL;
        if (!sysfs_root)
                sysfs_root = secure_getenv(SIOV_ENV_SYSFS_ROOT);
        if (isempty(sysfs_root))
                sysfs_root = "/";

        /* Canonical, so that the containment check can compare strings
         * with what /proc/self/fd reports. */
        real = realpath(sysfs_root, NULL);
        if (!real)
                return -errno;

        ctx = calloc(1, sizeof(*ctx));
        if (!ctx)
                return -ENOMEM;
        ctx->n_ref = 1;
        ctx->root_fd = open(real, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (ctx->root_fd < 0) {
                r = -errno;
                free(ctx);
                return r;
        }
        ctx->root = streq(real, "/") ? strdup("") : TAKE_PTR(real);
        if (!ctx->root) {
                siov_ctx_unref(ctx);
                return -ENOMEM;
        }

        /* A missing or unreadable modules.alias only means "no variants". */
        r = siov_ctx_load_vfio_variants(ctx);
        if (r == -ENOMEM) {
                siov_ctx_unref(ctx);
                return r;
        }

        *ret = ctx;
        return 0;
}

_public_ struct siov_ctx *siov_ctx_ref(struct siov_ctx *ctx) {
        if (ctx)
                ctx->n_ref++;
        return ctx;
}

static void vfio_variants_clear(struct siov_ctx *ctx) {
        for (size_t i = 0; i < ctx->n_vfio_variants; i++)
                free(ctx->vfio_variants[i]);
        free(ctx->vfio_variants);
        ctx->vfio_variants = NULL;
        ctx->n_vfio_variants = 0;
}

_public_ struct siov_ctx *siov_ctx_unref(struct siov_ctx *ctx) {
        if (!ctx || --ctx->n_ref > 0)
                return NULL;
        vfio_variants_clear(ctx);
        siov_accel_free(ctx->accel);
        free(ctx->idxd_problem);
        if (ctx->root_fd >= 0)
                close(ctx->root_fd);
        free(ctx->root);
        free(ctx);
        return NULL;
}

_public_ const char *siov_ctx_get_root(const struct siov_ctx *ctx) {
        return ctx ? ctx->root : NULL;
}

_public_ char *siov_ctx_path(const struct siov_ctx *ctx, const char *relative) {
        char *s;

        if (!ctx || !relative)
                return NULL;
        relative += strspn(relative, "/");
        for (const char *c = relative; *c; ) {
                size_t n = strcspn(c, "/");

                if (n == 2 && c[0] == '.' && c[1] == '.')
                        return NULL;
                c += n;
                c += strspn(c, "/");
        }
        if (asprintf(&s, "%s/%s", ctx->root, relative) < 0)
                return NULL;
        return s;
}

/* Module and driver names mix '-' and '_' freely (modprobe treats them as
 * the same), so compare them folded. */
static void fold_dashes(char *s) {
        for (; *s; s++)
                if (*s == '-')
                        *s = '_';
}

_public_ int siov_ctx_load_vfio_variants(struct siov_ctx *ctx) {
        _cleanup_free_ char *path = NULL, *line = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        char **items = NULL;
        size_t n = 0, allocated = 0, linesz = 0, k = 0;
        struct utsname u;
        int fd, r = 0;

        if (!ctx)
                return -EINVAL;
        vfio_variants_clear(ctx);

        if (uname(&u) < 0)
                return -errno;
        if (!siov_name_is_valid(u.release))
                return -EINVAL;
        if (asprintf(&path, "lib/modules/%s/modules.alias", u.release) < 0)
                return -ENOMEM;

        fd = siov_open_in_root(ctx, ctx->root_fd, "", path, O_RDONLY | O_NONBLOCK, NULL);
        if (fd < 0)
                return fd == -ENOMEM ? fd : 0;
        f = fdopen(fd, "re");
        if (!f) {
                close(fd);
                return -errno;
        }

        while (getline(&line, &linesz, f) > 0) {
                char *mod, *e;

                if (strncmp(line, "alias vfio_pci:", 15) != 0)
                        continue;
                /* "alias vfio_pci:v...d...sv*sd*bc*sc*i* <module>" */
                mod = line + 15 + strcspn(line + 15, " \t");
                mod += strspn(mod, " \t");
                e = mod + strcspn(mod, " \t\n");
                *e = '\0';
                if (!siov_name_is_valid(mod))
                        continue;
                if (!GREEDY_REALLOC(items, allocated, n + 1)) {
                        r = -ENOMEM;
                        goto fail;
                }
                items[n] = strdup(mod);
                if (!items[n]) {
                        r = -ENOMEM;
                        goto fail;
                }
                fold_dashes(items[n]);
                n++;
        }

        strv_sort(items, n);
        for (size_t i = 0; i < n; i++) {
                if (k > 0 && streq(items[i], items[k - 1])) {
                        free(items[i]);
                        continue;
                }
                items[k++] = items[i];
        }
        ctx->vfio_variants = items;
        ctx->n_vfio_variants = k;
        return 0;

fail:
        for (size_t i = 0; i < n; i++)
                free(items[i]);
        free(items);
        return r;
}

_public_ bool siov_ctx_is_vfio_driver(const struct siov_ctx *ctx, const char *driver) {
        char buf[256];
        char *key = buf;

        if (isempty(driver) || strlen(driver) >= sizeof(buf))
                return false;
        strcpy(buf, driver);
        fold_dashes(buf);
        if (streq(buf, "vfio_pci"))
                return true;
        if (!ctx || ctx->n_vfio_variants == 0)
                return false;
        return bsearch(&key, ctx->vfio_variants, ctx->n_vfio_variants,
                       sizeof(char *), strcmp_ptr) != NULL;
}
