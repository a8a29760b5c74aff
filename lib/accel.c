/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* idxd (Intel DSA/IAA) devices read through libaccel-config: the device,
 * its groups, engines and work queues. One libaccel-config context per
 * siov_ctx, replaced by siov_ctx_refresh_idxd() (libaccel-config caches a
 * WQ's type, size and group for the life of a context and has no refresh).
 * Read only: nothing here changes a WQ. See notes/libaccel-config.md. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <accel-config/libaccel_config.h>

#include "siov-names.h"
#include "siov-private.h"

struct siov_accel {
        struct accfg_ctx *ctx;
};

static void accel_log_nothing(struct accfg_ctx *ctx, int priority, const char *file, int line,
                              const char *fn, const char *format, va_list args) {
}

static bool has_prefix_digit(const char *s, const char *prefix) {
        size_t n = strlen(prefix);
        return strncmp(s, prefix, n) == 0 && s[n] >= '0' && s[n] <= '9';
}

/* libaccel-config dereferences what it reads without checking: a WQ without
 * mode, type or name, or a device without op_cap or errors, crashes it
 * (measured with 3.5.3: accel-config list dies of SIGSEGV). Look first, and
 * leave the library alone rather than let a kernel's sysfs kill siovd. Sets
 * *ret to what is missing ("wq0.1: no 'mode'"), NULL when all is there. */
static int accel_tree_problem(struct siov_ctx *ctx, char **ret) {
        static const char * const wq_attrs[] = { "mode", "type", "name", NULL };
        static const char * const dev_attrs[] = { "op_cap", "errors", NULL };
        _cleanup_free_ char **names = NULL;
        _cleanup_close_ int bus = -1;
        int r;

        *ret = NULL;
        bus = openat(ctx->root_fd, SIOV_SYSFS_DSA_DEVICES, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (bus < 0)
                return errno == ENOMEM ? -ENOMEM : 0;
        r = siov_list_names_at(bus, NULL, NULL, &names);
        if (r < 0)
                return r;
        for (char **n = names; n && *n; n++) {
                const char * const *need;
                _cleanup_close_ int fd = -1;

                if (strchr(*n, '!'))
                        continue;
                if (has_prefix_digit(*n, "wq"))
                        need = wq_attrs;
                else if (has_prefix_digit(*n, "dsa") || has_prefix_digit(*n, "iax"))
                        need = dev_attrs;
                else
                        continue;
                fd = openat(bus, *n, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        continue;       /* going away */
                for (; *need; need++)
                        if (faccessat(fd, *need, F_OK, 0) < 0) {
                                _cleanup_free_ char *e = siov_escape_value(*n);

                                if (!e || asprintf(ret, "%s: no '%s'", e, *need) < 0) {
                                        *ret = NULL;
                                        return -ENOMEM;
                                }
                                return 0;
                        }
        }
        return 0;
}

struct siov_accel *siov_accel_get(struct siov_ctx *ctx) {
        _cleanup_free_ char *problem = NULL;
        struct stat ours, its;
        struct siov_accel *a;

        if (ctx->accel)
                return ctx->accel;
        /* libaccel-config reads /sys/bus/dsa itself, without our prefix:
         * its answers are only ours when that is the dsa bus under our
         * root (the real root, or a tree bound over /sys). No dsa bus
         * (idxd not loaded yet): nothing cached, the next read looks again. */
        if (stat("/" SIOV_SYSFS_DSA_DEVICES, &its) < 0 ||
            fstatat(ctx->root_fd, SIOV_SYSFS_DSA_DEVICES, &ours, 0) < 0 ||
            its.st_dev != ours.st_dev || its.st_ino != ours.st_ino)
                return NULL;

        free(ctx->idxd_problem);
        ctx->idxd_problem = NULL;
        if (accel_tree_problem(ctx, &problem) < 0)
                return NULL;
        if (problem) {
                ctx->idxd_problem = TAKE_PTR(problem);
                return NULL;
        }

        a = calloc(1, sizeof(*a));
        if (!a)
                return NULL;
        if (accfg_new(&a->ctx) < 0 || !a->ctx) {
                free(a);
                return NULL;
        }
        accfg_set_log_fn(a->ctx, accel_log_nothing);
        ctx->accel = a;
        return a;
}

_public_ const char *siov_ctx_get_idxd_problem(const struct siov_ctx *ctx) {
        return ctx ? ctx->idxd_problem : NULL;
}

void siov_accel_free(struct siov_accel *a) {
        if (!a)
                return;
        accfg_unref(a->ctx);
        free(a);
}

_public_ void siov_ctx_refresh_idxd(struct siov_ctx *ctx) {
        if (!ctx)
                return;
        siov_accel_free(ctx->accel);
        ctx->accel = NULL;
}

/* A device name we can put in a path: "dsa0", never a "dsa!wq0.2"
 * character device, which the dsa bus lists too. */
static bool idxd_name_is_valid(const char *s) {
        return s && siov_name_is_valid(s) && !strchr(s, '!');
}

int siov_accel_list(struct siov_accel *a, char ***ret) {
        struct accfg_device *dev;
        _cleanup_free_ char **l = NULL;
        size_t n = 0, allocated = 0;

        *ret = NULL;
        if (!a)
                return 0;
        accfg_device_foreach(a->ctx, dev) {
                const char *name = accfg_device_get_devname(dev);

                if (!idxd_name_is_valid(name))
                        continue;
                if (n == allocated) {
                        size_t k = allocated ? allocated * 2 : 8;
                        char **m = realloc(l, k * sizeof(char *));
                        if (!m)
                                return -ENOMEM;
                        l = m;
                        allocated = k;
                }
                l[n++] = (char *) name;
        }
        return strv_pack(l, n, ret);
}

static struct accfg_device *accel_device(struct siov_accel *a, const char *devname) {
        struct accfg_device *dev;

        accfg_device_foreach(a->ctx, dev) {
                const char *name = accfg_device_get_devname(dev);
                if (name && streq(name, devname))
                        return dev;
        }
        return NULL;
}

const char *siov_accel_find(struct siov_accel *a, int parent_fd, const char *devname) {
        struct accfg_device *dev;

        if (!a)
                return NULL;
        accfg_device_foreach(a->ctx, dev) {
                const char *name = accfg_device_get_devname(dev);
                struct stat st;

                if (!idxd_name_is_valid(name))
                        continue;
                if (devname) {
                        if (streq(name, devname))
                                return name;
                        continue;
                }
                /* An idxd device is a child of its PCI function. */
                if (fstatat(parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISDIR(st.st_mode))
                        return name;
        }
        return NULL;
}

static enum siov_wq_mode wq_mode(struct accfg_wq *wq) {
        switch (accfg_wq_get_mode(wq)) {
        case ACCFG_WQ_DEDICATED:
                return SIOV_WQ_MODE_DEDICATED;
        case ACCFG_WQ_SHARED:
                return SIOV_WQ_MODE_SHARED;
        default:
                return SIOV_WQ_MODE_UNKNOWN;
        }
}

/* accfg_wq_is_enabled() only checks that "mode" exists: the state is the
 * one that tells. */
static enum siov_wq_state wq_state(struct accfg_wq *wq) {
        switch (accfg_wq_get_state(wq)) {
        case ACCFG_WQ_DISABLED:
                return SIOV_WQ_STATE_DISABLED;
        case ACCFG_WQ_ENABLED:
                return SIOV_WQ_STATE_ENABLED;
        case ACCFG_WQ_QUIESCING:
                return SIOV_WQ_STATE_QUIESCING;
        case ACCFG_WQ_LOCKED:
                return SIOV_WQ_STATE_LOCKED;
        default:
                return SIOV_WQ_STATE_UNKNOWN;
        }
}

/* libaccel-config knows "kernel" and "user"; anything else, including the
 * out-of-tree "mdev" (newer: "vdev") type of vendor mdev drivers, becomes
 * NONE, so the attribute itself tells those apart. */
static enum siov_wq_type wq_type(struct accfg_wq *wq, int wq_fd) {
        _cleanup_free_ char *raw = NULL;

        switch (accfg_wq_get_type(wq)) {
        case ACCFG_WQT_KERNEL:
                return SIOV_WQ_TYPE_KERNEL;
        case ACCFG_WQT_USER:
                return SIOV_WQ_TYPE_USER;
        default:
                break;
        }
        if (wq_fd >= 0 && siov_read_attr_at(wq_fd, "type", &raw) >= 0 &&
            (streq(raw, "mdev") || streq(raw, "vdev")))
                return SIOV_WQ_TYPE_MDEV;
        return SIOV_WQ_TYPE_NONE;
}

static int strdup_optional(const char *s, char **ret) {
        *ret = NULL;
        if (isempty(s))
                return 0;
        *ret = strdup(s);
        if (!*ret)
                return -ENOMEM;
        siov_utf8_sanitize(*ret);
        return 0;
}

static int wq_load(struct siov_ctx *ctx, struct accfg_wq *wq, struct siov_wq *w) {
        _cleanup_free_ char *path = NULL, *canon = NULL;
        _cleanup_close_ int fd = -1;
        const char *name = accfg_wq_get_devname(wq);
        int r;

        if (!idxd_name_is_valid(name))
                return -ENODEV;
        w->name = strdup(name);
        if (!w->name)
                return -ENOMEM;
        w->group = -1;
        w->clients = -1;

        /* What libaccel-config does not say: the bound driver (6.1 has no
         * driver_name attribute) and unknown types. */
        if (asprintf(&path, SIOV_SYSFS_DSA_DEVICES "/%s", name) < 0)
                return -ENOMEM;
        fd = siov_open_in_root(ctx, ctx->root_fd, "", path, O_RDONLY | O_DIRECTORY, &canon);
        if (fd == -ENOMEM)
                return fd;
        if (fd >= 0) {
                r = siov_read_link_name(ctx, fd, siov_path_depth(canon), SIOV_ATTR_DRIVER, &w->driver);
                if (r < 0)
                        return r;
        }

        w->mode = wq_mode(wq);
        w->type = wq_type(wq, fd);
        w->state = wq_state(wq);
        w->size = (uint32_t) accfg_wq_get_size(wq);
        if (accfg_wq_get_group(wq))
                w->group = accfg_wq_get_group_id(wq);
        w->clients = accfg_wq_get_clients(wq);
        if (w->clients < 0)
                w->clients = -1;
        return strdup_optional(accfg_wq_get_type_name(wq), &w->label);
}

static int wq_cmp(const void *a, const void *b) {
        const struct siov_wq *x = a, *y = b;
        return strverscmp(x->name, y->name);
}

static int part_cmp(const void *a, const void *b) {
        const struct siov_idxd_part *x = a, *y = b;
        return strverscmp(x->name, y->name);
}

static int part_add(struct siov_idxd_part **parts, size_t *n, const char *name, int id) {
        struct siov_idxd_part *m;

        if (!idxd_name_is_valid(name))
                return 0;
        m = realloc(*parts, (*n + 1) * sizeof(**parts));
        if (!m)
                return -ENOMEM;
        *parts = m;
        m[*n] = (struct siov_idxd_part) { .name = strdup(name), .id = id };
        if (!m[*n].name)
                return -ENOMEM;
        (*n)++;
        return 0;
}

struct siov_idxd *siov_idxd_free(struct siov_idxd *d) {
        if (!d)
                return NULL;
        for (size_t i = 0; i < d->n_wqs; i++) {
                free(d->wqs[i].name);
                free(d->wqs[i].driver);
                free(d->wqs[i].label);
        }
        free(d->wqs);
        for (size_t i = 0; i < d->n_groups; i++)
                free(d->groups[i].name);
        free(d->groups);
        for (size_t i = 0; i < d->n_engines; i++)
                free(d->engines[i].name);
        free(d->engines);
        free(d->name);
        free(d->model);
        free(d->state);
        free(d);
        return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct siov_idxd *, siov_idxd_free);

int siov_accel_read(struct siov_ctx *ctx, struct siov_accel *a, const char *devname, struct siov_idxd **ret) {
        _cleanup_(siov_idxd_freep) struct siov_idxd *d = NULL;
        struct accfg_device *dev;
        struct accfg_group *group;
        struct accfg_engine *engine;
        struct accfg_wq *wq;
        const char *state;
        int r;

        if (!a)
                return -ENODEV;
        dev = accel_device(a, devname);
        if (!dev)
                return -ENODEV;

        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        switch (accfg_device_get_state(dev)) {
        case ACCFG_DEVICE_ENABLED:
                state = "enabled";
                break;
        case ACCFG_DEVICE_DISABLED:
                state = "disabled";
                break;
        default:
                state = "unknown";
        }
        d->name = strdup(devname);
        d->model = strdup(accfg_device_get_type(dev) == ACCFG_DEVICE_IAX ? "iax" :
                          accfg_device_get_type(dev) == ACCFG_DEVICE_DSA ? "dsa" : "unknown");
        d->state = strdup(state);
        if (!d->name || !d->model || !d->state)
                return -ENOMEM;

        accfg_group_foreach(dev, group) {
                r = part_add(&d->groups, &d->n_groups, accfg_group_get_devname(group), accfg_group_get_id(group));
                if (r < 0)
                        return r;
        }
        accfg_engine_foreach(dev, engine) {
                r = part_add(&d->engines, &d->n_engines, accfg_engine_get_devname(engine),
                             accfg_engine_get_group(engine) ? accfg_engine_get_group_id(engine) : -1);
                if (r < 0)
                        return r;
        }
        accfg_wq_foreach(dev, wq) {
                struct siov_wq *m = realloc(d->wqs, (d->n_wqs + 1) * sizeof(struct siov_wq));

                if (!m)
                        return -ENOMEM;
                d->wqs = m;
                m[d->n_wqs] = (struct siov_wq) {};
                r = wq_load(ctx, wq, &m[d->n_wqs]);
                d->n_wqs++;     /* so that a partial WQ is freed too */
                if (r == -ENODEV) {
                        free(m[--d->n_wqs].name);
                        continue;
                }
                if (r < 0)
                        return r;
        }
        /* "wq0.10" after "wq0.9" */
        if (d->n_wqs > 1)
                qsort(d->wqs, d->n_wqs, sizeof(struct siov_wq), wq_cmp);
        if (d->n_groups > 1)
                qsort(d->groups, d->n_groups, sizeof(struct siov_idxd_part), part_cmp);
        if (d->n_engines > 1)
                qsort(d->engines, d->n_engines, sizeof(struct siov_idxd_part), part_cmp);

        *ret = TAKE_PTR(d);
        return 0;
}

/* ---- public getters ------------------------------------------------------ */

_public_ const char *siov_idxd_get_name(const struct siov_idxd *d) {
        return d ? d->name : NULL;
}

_public_ const char *siov_idxd_get_model(const struct siov_idxd *d) {
        return d ? d->model : NULL;
}

_public_ const char *siov_idxd_get_state(const struct siov_idxd *d) {
        return d ? d->state : NULL;
}

_public_ size_t siov_idxd_get_n_wqs(const struct siov_idxd *d) {
        return d ? d->n_wqs : 0;
}

_public_ const struct siov_wq *siov_idxd_get_wq(const struct siov_idxd *d, size_t i) {
        return d && i < d->n_wqs ? &d->wqs[i] : NULL;
}

_public_ size_t siov_idxd_get_n_groups(const struct siov_idxd *d) {
        return d ? d->n_groups : 0;
}

_public_ const char *siov_idxd_get_group_name(const struct siov_idxd *d, size_t i) {
        return d && i < d->n_groups ? d->groups[i].name : NULL;
}

_public_ int siov_idxd_get_group_id(const struct siov_idxd *d, size_t i) {
        return d && i < d->n_groups ? d->groups[i].id : -1;
}

_public_ size_t siov_idxd_get_n_engines(const struct siov_idxd *d) {
        return d ? d->n_engines : 0;
}

_public_ const char *siov_idxd_get_engine_name(const struct siov_idxd *d, size_t i) {
        return d && i < d->n_engines ? d->engines[i].name : NULL;
}

_public_ int siov_idxd_get_engine_group(const struct siov_idxd *d, size_t i) {
        return d && i < d->n_engines ? d->engines[i].id : -1;
}

_public_ const char *siov_wq_mode_to_string(enum siov_wq_mode m) {
        static const char * const table[] = {
                [SIOV_WQ_MODE_UNKNOWN] = "unknown",
                [SIOV_WQ_MODE_DEDICATED] = "dedicated",
                [SIOV_WQ_MODE_SHARED] = "shared",
        };
        return (unsigned) m < ELEMENTSOF(table) ? table[m] : NULL;
}

_public_ const char *siov_wq_type_to_string(enum siov_wq_type t) {
        static const char * const table[] = {
                [SIOV_WQ_TYPE_NONE] = "none",
                [SIOV_WQ_TYPE_KERNEL] = "kernel",
                [SIOV_WQ_TYPE_USER] = "user",
                [SIOV_WQ_TYPE_MDEV] = "mdev",
        };
        return (unsigned) t < ELEMENTSOF(table) ? table[t] : NULL;
}

_public_ const char *siov_wq_state_to_string(enum siov_wq_state s) {
        static const char * const table[] = {
                [SIOV_WQ_STATE_UNKNOWN] = "unknown",
                [SIOV_WQ_STATE_DISABLED] = "disabled",
                [SIOV_WQ_STATE_ENABLED] = "enabled",
                [SIOV_WQ_STATE_QUIESCING] = "quiescing",
                [SIOV_WQ_STATE_LOCKED] = "locked",
        };
        return (unsigned) s < ELEMENTSOF(table) ? table[s] : NULL;
}

_public_ const char *siov_wq_get_name(const struct siov_wq *wq) {
        return wq ? wq->name : NULL;
}

_public_ enum siov_wq_mode siov_wq_get_mode(const struct siov_wq *wq) {
        return wq ? wq->mode : SIOV_WQ_MODE_UNKNOWN;
}

_public_ enum siov_wq_type siov_wq_get_type(const struct siov_wq *wq) {
        return wq ? wq->type : SIOV_WQ_TYPE_NONE;
}

_public_ enum siov_wq_state siov_wq_get_state(const struct siov_wq *wq) {
        return wq ? wq->state : SIOV_WQ_STATE_UNKNOWN;
}

_public_ const char *siov_wq_get_driver(const struct siov_wq *wq) {
        return wq ? strempty(wq->driver) : NULL;
}

_public_ const char *siov_wq_get_label(const struct siov_wq *wq) {
        return wq ? strempty(wq->label) : NULL;
}

_public_ uint32_t siov_wq_get_size(const struct siov_wq *wq) {
        return wq ? wq->size : 0;
}

_public_ int siov_wq_get_group(const struct siov_wq *wq) {
        return wq ? wq->group : -1;
}

_public_ int siov_wq_get_clients(const struct siov_wq *wq) {
        return wq ? wq->clients : -1;
}

_public_ bool siov_wq_is_host_used(const struct siov_wq *wq) {
        return wq && wq->state == SIOV_WQ_STATE_ENABLED &&
               (wq->type == SIOV_WQ_TYPE_KERNEL || wq->type == SIOV_WQ_TYPE_USER);
}
