/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One file written atomically: a hidden temporary file in the same folder,
 * fsync, rename over the name, fsync of the folder. A crash leaves the old
 * file or the new one, never a mix; loaders skip dot files, so a leftover
 * temporary file is never read as configuration.
 *
 * Used by the definitions store (definition-store.c, which locks and
 * checks the folder first and passes its fault hook) and the PF
 * configurations (sriov-config.c).
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "siov-private.h"

static int mkdir_p(const char *dir, mode_t mode) {
        _cleanup_free_ char *p = strdup(dir);

        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = '\0';
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

static int step_done(int (*fault)(const char *step), const char *step) {
        return fault ? fault(step) : 0;
}

int siov_write_file_atomic_at(int dfd, const char *dir, const char *name, const char *data, size_t len,
                              int (*fault)(const char *step), char **error_msg) {
        _cleanup_close_ int fd = -1;
        char tmp[NAME_MAX + 1];
        const char *step;
        size_t done = 0;
        int r;

        if (!siov_name_is_valid(name) || strlen(name) > NAME_MAX - 16)
                return siov_error(error_msg, -EINVAL, "invalid file name");

        /* Hidden temporary name ".<name>.<random>": loaders skip dot files,
         * so a crash before the rename leaves nothing they would read. */
        for (unsigned attempt = 0;; attempt++) {
                struct timespec ts;

                clock_gettime(CLOCK_MONOTONIC, &ts);
                snprintf(tmp, sizeof(tmp), ".%s.%05x%06lx", name, (unsigned) getpid() & 0xfffff,
                         ((unsigned long) ts.tv_nsec + attempt * 7919ul) & 0xffffff);
                fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0644);
                if (fd >= 0)
                        break;
                if (errno != EEXIST || attempt >= 64)
                        return siov_error(error_msg, -errno, "cannot create a temporary file in %s: %s",
                                          dir, strerror(errno));
        }

        step = "setting the mode of";
        /* 0644 whatever the umask: readable by all, like the rest of /etc. */
        r = fchmod(fd, 0644) < 0 ? -errno : step_done(fault, "created");
        if (r < 0)
                goto fail;

        step = "writing";
        while (done < len) {
                ssize_t k = write(fd, data + done, len - done);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        goto fail;
                }
                done += (size_t) k;
        }
        r = step_done(fault, "written");
        if (r < 0)
                goto fail;

        step = "syncing";
        r = fsync(fd) < 0 ? -errno : step_done(fault, "synced");
        if (r < 0)
                goto fail;

        step = "closing";
        r = close(TAKE_FD(fd)) < 0 ? -errno : step_done(fault, "closed");
        if (r < 0)
                goto fail;

        step = "renaming";
        if (renameat(dfd, tmp, dfd, name) < 0) {
                r = -errno;
                goto fail;
        }

        /* The new name is in place; make the folder entry durable too. */
        r = step_done(fault, "renamed");
        if (r >= 0 && fsync(dfd) < 0)
                r = -errno;
        if (r < 0)
                return siov_error(error_msg, r, "%s/%s was written but syncing %s failed: %s",
                                  dir, name, dir, strerror(-r));
        return 0;

fail:
        (void) unlinkat(dfd, tmp, 0);
        return siov_error(error_msg, r, "%s %s/%s (for %s) failed: %s; %s/%s is unchanged",
                          step, dir, tmp, name, strerror(-r), dir, name);
}

int siov_dir_open(const char *dir, bool create, char **error_msg) {
        int fd, r;

        if (isempty(dir))
                return siov_error(error_msg, -EINVAL, "no folder given");
        if (create) {
                r = mkdir_p(dir, 0755);
                if (r < 0)
                        return siov_error(error_msg, r, "cannot create %s: %s", dir, strerror(-r));
        }
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return siov_error(error_msg, -errno, "cannot open %s: %s", dir, strerror(errno));
        return fd;
}

int siov_write_file_atomic(const char *dir, const char *name, const char *data, size_t len, char **error_msg) {
        _cleanup_close_ int dfd = -1;

        if (error_msg)
                *error_msg = NULL;
        dfd = siov_dir_open(dir, true, error_msg);
        if (dfd < 0)
                return dfd;
        return siov_write_file_atomic_at(dfd, dir, name, data, len, NULL, error_msg);
}
