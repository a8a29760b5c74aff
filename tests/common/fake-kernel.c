/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fake kernel as an LD_PRELOAD object: write(), pwrite() and pwrite64()
 * on a regular file below $SIOV_FAKE_KERNEL_ROOT are answered the way the
 * kernel answers sysfs writes (fake-kernel.h lists which files and how).
 * Everything else, including every write outside the root, goes to libc
 * untouched.
 *
 * How tests use it (integration, plain build):
 *
 *   ROOT=$(mktemp -d); fake-sysfs-tool $ROOT add-siov-parent siov0 --free 2
 *   LD_PRELOAD=$BUILD/tests/common/.libs/fake-kernel.so \
 *   SIOV_FAKE_KERNEL_ROOT=$ROOT siovd --sysfs-root=$ROOT &
 *   echo EIO > $ROOT/fake-kernel/fail-create     # next create fails with EIO
 *   echo 200 > $ROOT/fake-kernel/delay-ms        # each create takes 200 ms
 *   fake-sysfs-tool $ROOT kernel-write \
 *       sys/class/mdev_bus/siov0/mdev_supported_types/idxd-1dwq/create $UUID
 *                                                # "another tool" racing siovd
 *   cat $ROOT/fake-kernel/log                    # what the kernel was asked
 *
 * The preloaded object is built without sanitizers so that it loads into
 * any process. A program built with ASan refuses to start when anything is
 * preloaded before its runtime: run it with
 * ASAN_OPTIONS=verify_asan_link_order=0 (checked with an ASan siovd).
 * Preloading libasan.so itself would also reach every child, libtool's
 * wrapper scripts and their sed included. Unit tests link this file into
 * the test binary instead (no preload needed).
 *
 * Not wrapped: writev(), fwrite() through stdio (glibc calls its internal
 * write directly) and io_uring. libsiov writes sysfs with write() only; a
 * shell's "echo > file" is a write() too.
 */

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake-kernel.h"

#define ENV_ROOT "SIOV_FAKE_KERNEL_ROOT"

typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);

static pthread_mutex_t root_lock = PTHREAD_MUTEX_INITIALIZER;
static char *root_env;          /* value of $SIOV_FAKE_KERNEL_ROOT last seen */
static char *root_real;         /* its realpath, NULL if none */

/* The canonical root into buf; false when unset or unusable. Cached per
 * value of the variable, so tests may point it elsewhere between trees. */
static bool current_root(char buf[static PATH_MAX]) {
        const char *env = getenv(ENV_ROOT);
        bool ok = false;

        if (!env || !*env)
                return false;
        pthread_mutex_lock(&root_lock);
        if (!root_env || strcmp(root_env, env) != 0) {
                free(root_env);
                free(root_real);
                root_env = strdup(env);
                fake_kernel_busy++;
                root_real = realpath(env, NULL);
                fake_kernel_busy--;
        }
        if (root_real && strlen(root_real) < PATH_MAX && strcmp(root_real, "/") != 0) {
                strcpy(buf, root_real);
                ok = true;
        }
        pthread_mutex_unlock(&root_lock);
        return ok;
}

/* >0: bytes the fake kernel took; 0: pass it on; <0: fail with it. */
static int intercept(int fd, const void *buf, size_t n) {
        char root[PATH_MAX], proc[64], path[PATH_MAX];
        struct stat st;
        ssize_t l;

        if (fake_kernel_busy)
                return 0;
        /* Cheap checks first: sockets, pipes and ttys are never sysfs. */
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return 0;
        if (!current_root(root))
                return 0;
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        l = readlink(proc, path, sizeof(path) - 1);
        if (l < 0 || (size_t) l >= sizeof(path) - 1)
                return 0;
        path[l] = '\0';
        return fake_kernel_write(root, path, buf, n);
}

static write_fn real_write(void) {
        static write_fn fn;

        if (!fn)
                fn = (write_fn) dlsym(RTLD_NEXT, "write");
        return fn;
}

static pwrite_fn real_pwrite(const char *name) {
        return (pwrite_fn) dlsym(RTLD_NEXT, name);
}

/* Whether the fake kernel answered the write: then *ret is what the call
 * returns, with errno as the kernel would leave it. Otherwise the write goes
 * to libc, errno as the caller had it. */
static bool faked(int fd, const void *buf, size_t n, ssize_t *ret) {
        int saved = errno, r;

        r = intercept(fd, buf, n);
        if (r < 0) {
                errno = -r;
                *ret = -1;
                return true;
        }
        errno = saved;
        if (r > 0) {
                *ret = (ssize_t) r;
                return true;
        }
        return false;
}

ssize_t write(int fd, const void *buf, size_t n) {
        ssize_t k;

        if (faked(fd, buf, n, &k))
                return k;
        return real_write()(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t offset) {
        static pwrite_fn fn;
        ssize_t k;

        /* sysfs ignores the offset of a store: so does the fake kernel */
        if (faked(fd, buf, n, &k))
                return k;
        if (!fn)
                fn = real_pwrite("pwrite");
        return fn(fd, buf, n, offset);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t offset) {
        static pwrite_fn fn;
        ssize_t k;

        if (faked(fd, buf, n, &k))
                return k;
        if (!fn)
                fn = real_pwrite("pwrite64");
        return fn(fd, buf, n, (off_t) offset);
}
