/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The definitions store: one file per device, <dir>/<uuid>.json. Writing is
 * atomic (temporary file, fsync, rename, fsync of the folder), so a crash
 * leaves the old file or the new one, never a mix.
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

int (*siov_definition_save_fault)(const char *step) = NULL;

static int mkdir_parents_and_dir(const char *dir, mode_t mode) {
        _cleanup_free_ char *p = strdup(dir);

        if (!p)
                return -ENOMEM;
        if (mkdir(p, mode) >= 0 || errno == EEXIST)
                return 0;
        if (errno != ENOENT)
                return -errno;
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

static int fault(const char *step) {
        return siov_definition_save_fault ? siov_definition_save_fault(step) : 0;
}

/* Opens dir (creating it when asked): a folder, never a symlink's
 * replacement of one along the last component. */
static int open_dir(const char *dir, bool create, char **error_msg) {
        int fd, r;

        if (isempty(dir))
                return siov_error(error_msg, -EINVAL, "no definitions folder given");
        if (create) {
                r = mkdir_parents_and_dir(dir, 0755);
                if (r < 0)
                        return siov_error(error_msg, r, "cannot create %s: %s", dir, strerror(-r));
        }
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return siov_error(error_msg, -errno, "cannot open %s: %s", dir, strerror(errno));
        return fd;
}

_public_ int siov_definition_save(const char *dir, const struct siov_definition *d, char **error_msg) {
        _cleanup_free_ char *json = NULL;
        _cleanup_close_ int dfd = -1, fd = -1;
        char name[SIOV_UUID_STRING_MAX + 8], tmp[SIOV_UUID_STRING_MAX + 32];
        const char *step;
        size_t len, done = 0;
        int r;

        if (error_msg)
                *error_msg = NULL;
        if (!d)
                return -EINVAL;
        r = siov_definition_to_json(d, &json);
        if (r < 0)
                return r;
        len = strlen(json);

        dfd = open_dir(dir, true, error_msg);
        if (dfd < 0)
                return dfd;
        snprintf(name, sizeof(name), "%s.json", d->uuid);

        /* Hidden temporary name: the loader skips dot files, so a crash
         * before the rename leaves nothing it would report. */
        for (unsigned attempt = 0;; attempt++) {
                struct timespec ts;

                clock_gettime(CLOCK_MONOTONIC, &ts);
                snprintf(tmp, sizeof(tmp), ".%s.json.%05x%06lx", d->uuid,
                         (unsigned) getpid() & 0xfffff, ((unsigned long) ts.tv_nsec + attempt * 7919ul) & 0xffffff);
                fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0644);
                if (fd >= 0)
                        break;
                if (errno != EEXIST || attempt >= 64)
                        return siov_error(error_msg, -errno, "cannot create a temporary file in %s: %s",
                                          dir, strerror(errno));
        }

        step = "setting the mode of";
        /* 0644 whatever the umask: definitions are readable by all, like
         * the rest of /etc. */
        r = fchmod(fd, 0644) < 0 ? -errno : fault("created");
        if (r < 0)
                goto fail;

        step = "writing";
        while (done < len) {
                ssize_t k = write(fd, json + done, len - done);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        goto fail;
                }
                done += (size_t) k;
        }
        r = fault("written");
        if (r < 0)
                goto fail;

        step = "syncing";
        r = fsync(fd) < 0 ? -errno : fault("synced");
        if (r < 0)
                goto fail;

        step = "closing";
        r = close(TAKE_FD(fd)) < 0 ? -errno : fault("closed");
        if (r < 0)
                goto fail;

        step = "renaming";
        if (renameat(dfd, tmp, dfd, name) < 0) {
                r = -errno;
                goto fail;
        }

        /* The new name is in place; make the folder entry durable too. */
        r = fault("renamed");
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

_public_ int siov_definition_delete(const char *dir, const char *uuid, char **error_msg) {
        _cleanup_close_ int dfd = -1;
        _cleanup_free_ char *e = NULL;
        char id[SIOV_UUID_STRING_MAX], name[SIOV_UUID_STRING_MAX + 8];

        if (error_msg)
                *error_msg = NULL;
        if (siov_uuid_normalize(uuid, id) < 0) {
                e = siov_escape_value(strempty(uuid));
                return siov_error(error_msg, -EINVAL, "invalid UUID '%s'", strempty(e));
        }
        dfd = open_dir(dir, false, error_msg);
        if (dfd == -ENOENT)
                return siov_error(error_msg, -ENOENT, "no definition %s: %s does not exist", id, dir);
        if (dfd < 0)
                return dfd;
        snprintf(name, sizeof(name), "%s.json", id);
        if (unlinkat(dfd, name, 0) < 0) {
                if (errno == ENOENT)
                        return siov_error(error_msg, -ENOENT, "no definition %s (%s/%s)", id, dir, name);
                return siov_error(error_msg, -errno, "removing %s/%s failed: %s", dir, name, strerror(errno));
        }
        if (fsync(dfd) < 0)
                return siov_error(error_msg, -errno, "%s/%s was removed but syncing %s failed: %s",
                                  dir, name, dir, strerror(errno));
        return 0;
}

/* ---- loading ------------------------------------------------------- */

static int definition_ptr_cmp(const void *a, const void *b) {
        const struct siov_definition *x = *(struct siov_definition * const *) a,
                *y = *(struct siov_definition * const *) b;

        return strcmp(x->uuid, y->uuid);
}

_printf_(5, 6) static int report(siov_definition_error_t on_error, void *userdata, const char *dir,
                                 const char *name, const char *fmt, ...) {
        _cleanup_free_ char *path = NULL, *reason = NULL;
        va_list ap;
        int r;

        if (!on_error)
                return 0;
        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        siov_utf8_sanitize(path);
        va_start(ap, fmt);
        r = vasprintf(&reason, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        siov_utf8_sanitize(reason);
        on_error(path, reason, userdata);
        return 0;
}

/* "<lower-case uuid>.json": true, and the uuid in id. */
static bool definition_file_name(const char *name, char id[static SIOV_UUID_STRING_MAX]) {
        char buf[SIOV_UUID_STRING_MAX];

        if (strlen(name) != 36 + 5 || !streq(name + 36, ".json"))
                return false;
        memcpy(buf, name, 36);
        buf[36] = '\0';
        if (siov_uuid_normalize(buf, id) < 0)
                return false;
        return streq(buf, id);
}

_public_ int siov_definitions_load(const char *dir, struct siov_definition ***ret, size_t *n_ret,
                                   siov_definition_error_t on_error, void *userdata) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_close_ int fd = -1;
        struct siov_definition **l = NULL;
        size_t n = 0, allocated = 0;
        int r = 0;

        if (!ret || !n_ret || isempty(dir))
                return -EINVAL;
        *ret = NULL;
        *n_ret = 0;

        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        /* sorted: the result is in UUID order, and reports come in a
         * stable order too */
        r = siov_list_dir_sorted(fd, &names);
        if (r < 0)
                return r;

        for (char **name = names; name && *name; name++) {
                _cleanup_(siov_definition_unrefp) struct siov_definition *def = NULL;
                _cleanup_free_ char *text = NULL, *msg = NULL;
                char id[SIOV_UUID_STRING_MAX], why[64];
                size_t len;

                /* our own temporary files (and editors' backups) */
                if ((*name)[0] == '.')
                        continue;
                if (!definition_file_name(*name, id)) {
                        r = report(on_error, userdata, dir, *name,
                                   "not a definition: the name is not <uuid>.json with a lower-case UUID");
                        if (r < 0)
                                goto fail;
                        continue;
                }
                r = siov_read_file_at(fd, *name, SIOV_DEFINITION_MAX_SIZE, &text, &len);
                if (r == -ENOMEM)
                        goto fail;
                if (r < 0) {
                        r = report(on_error, userdata, dir, *name, "%s", siov_definition_read_error(r, why));
                        if (r < 0)
                                goto fail;
                        continue;
                }
                r = siov_definition_parse(text, len, &def, &msg);
                if (r == -ENOMEM)
                        goto fail;
                if (r < 0) {
                        r = report(on_error, userdata, dir, *name, "%s", msg ?: strerror(-r));
                        if (r < 0)
                                goto fail;
                        continue;
                }
                if (!streq(def->uuid, id)) {
                        r = report(on_error, userdata, dir, *name,
                                   "its uuid key (%s) differs from its file name", def->uuid);
                        if (r < 0)
                                goto fail;
                        continue;
                }

                if (n == allocated) {
                        size_t a = allocated ? allocated * 2 : 16;
                        struct siov_definition **m = realloc(l, a * sizeof(*l));
                        if (!m) {
                                r = -ENOMEM;
                                goto fail;
                        }
                        l = m;
                        allocated = a;
                }
                l[n++] = TAKE_PTR(def);
        }

        if (n > 1)
                qsort(l, n, sizeof(*l), definition_ptr_cmp);
        *ret = l;
        *n_ret = n;
        return 0;

fail:
        siov_definitions_free(l, n);
        return r;
}

_public_ void siov_definitions_free(struct siov_definition **l, size_t n) {
        for (size_t i = 0; i < n; i++)
                siov_definition_unref(l[i]);
        free(l);
}
