/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Work queues used by host user space on real idxd (DSA/IAA) devices, from
 * libaccel-config. Fail-soft: any problem means "0", never a scan error. */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <accel-config/libaccel_config.h>

#include "siov-private.h"

struct siov_accel {
        struct accfg_ctx *ctx;
};

static void accel_log_nothing(struct accfg_ctx *ctx, int priority, const char *file, int line,
                              const char *fn, const char *format, va_list args) {
}

struct siov_accel *siov_accel_new(const struct siov_ctx *ctx) {
        struct siov_accel *a;

        /* libaccel-config reads /sys/bus/dsa itself, without our prefix:
         * only meaningful on the real root. */
        if (!isempty(ctx->root))
                return NULL;
        if (access("/sys/bus/dsa/devices", F_OK) < 0)
                return NULL;

        a = calloc(1, sizeof(*a));
        if (!a)
                return NULL;
        if (accfg_new(&a->ctx) < 0 || !a->ctx) {
                free(a);
                return NULL;
        }
        accfg_set_log_fn(a->ctx, accel_log_nothing);
        return a;
}

void siov_accel_free(struct siov_accel *a) {
        if (!a)
                return;
        accfg_unref(a->ctx);
        free(a);
}

uint32_t siov_accel_count_user_wqs(struct siov_accel *a, int parent_fd, const char *name) {
        struct accfg_device *dev;
        uint32_t n = 0;

        if (!a)
                return 0;
        accfg_device_foreach(a->ctx, dev) {
                const char *devname = accfg_device_get_devname(dev);
                struct accfg_wq *wq;
                struct stat st;

                if (!devname)
                        continue;
                /* The parent is the idxd device itself ("dsa0") or the PCI
                 * function it sits on (…/0000:6a:01.0/dsa0). */
                if (!streq(devname, name) &&
                    !(siov_name_is_valid(devname) &&
                      fstatat(parent_fd, devname, &st, AT_SYMLINK_NOFOLLOW) >= 0 &&
                      S_ISDIR(st.st_mode)))
                        continue;
                accfg_wq_foreach(dev, wq)
                        if (accfg_wq_get_type(wq) == ACCFG_WQT_USER &&
                            accfg_wq_get_state(wq) == ACCFG_WQ_ENABLED)
                                n++;
        }
        return n;
}
