/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The definitions store: one file per device, <dir>/<uuid>.json. Writing is
 * atomic (temporary file, fsync, rename, fsync of the folder), so a crash
 * leaves the old file or the new one, never a mix.
 *
 * The folder is the operator's: a file is replaced or removed only when it
 * still holds what siovd last loaded or wrote there (its stamp: size and a
 * hash of the bytes), compared under the store's lock (flock on the folder)
 * right before the rename or unlink. A file siovd skipped, one copied in
 * since, or one edited by hand is never touched.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "siov-private.h"

int (*siov_definition_save_fault)(const char *step) = NULL;

static int fault(const char *step) {
        return siov_definition_save_fault ? siov_definition_save_fault(step) : 0;
}

/* Opens dir (creating it when asked): a folder, never a symlink's
 * replacement of one along the last component. */
static int open_dir(const char *dir, bool create, char **error_msg) {
        if (isempty(dir))
                return siov_error(error_msg, -EINVAL, "no definitions folder given");
        return siov_dir_open(dir, create, error_msg);
}

/* FNV-1a, 64 bits: tells an edit from the bytes siovd wrote (not a
 * defence against someone forging a collision: they could delete the file
 * anyway). */
static siov_definition_stamp stamp_of(const char *data, size_t len) {
        uint64_t h = 0xcbf29ce484222325ull;

        for (size_t i = 0; i < len; i++) {
                h ^= (unsigned char) data[i];
                h *= 0x100000001b3ull;
        }
        return (siov_definition_stamp) { .size = len, .hash = h };
}

static bool stamp_equal(const siov_definition_stamp *a, const siov_definition_stamp *b) {
        return a->size == b->size && a->hash == b->hash;
}

/* The lock orders siovd processes sharing a folder (a second instance, a
 * restart racing the old one); it cannot stop an editor, which is why the
 * content is compared right before each change. Never waited on for long:
 * any local user may hold an flock on a folder they can read. */
static int lock_dir(int dfd, const char *dir, char **error_msg) {
        for (unsigned i = 0;; i++) {
                if (flock(dfd, LOCK_EX | LOCK_NB) >= 0)
                        return 0;
                if (errno != EWOULDBLOCK && errno != EINTR)
                        return siov_error(error_msg, -errno, "cannot lock %s: %s", dir, strerror(errno));
                if (i >= 100)
                        return siov_error(error_msg, -EBUSY, "%s is locked by another process "
                                          "(another siovd?); try again", dir);
                (void) nanosleep(&(struct timespec) { .tv_nsec = 1000 * 1000 }, NULL);
        }
}

/* Whether <dir>/name holds what expected says: the stamp's bytes, or
 * (expected NULL) nothing at all. 0 when it does; -EEXIST (present but not
 * siovd's, or changed) or -ENOENT (removed) with the reason. */
static int verify_at(int dfd, const char *dir, const char *name, const siov_definition_stamp *expected,
                     char **error_msg) {
        _cleanup_free_ char *text = NULL;
        siov_definition_stamp now;
        size_t len = 0;
        int r;

        r = siov_read_file_at(dfd, name, SIOV_DEFINITION_MAX_SIZE, &text, &len);
        if (r == -ENOENT)
                return expected ? siov_error(error_msg, -ENOENT, "%s/%s was removed since siovd wrote it",
                                             dir, name) : 0;
        if (r == -ENOMEM)
                return r;
        if (!expected)
                return siov_error(error_msg, -EEXIST, "%s/%s exists and siovd did not write it", dir, name);
        if (r < 0)
                return siov_error(error_msg, -EEXIST, "%s/%s is no longer what siovd wrote: %s",
                                  dir, name, r == -EFBIG ? "it grew past the size limit" :
                                  r == -ELOOP ? "it is a symbolic link now" :
                                  r == -EINVAL || r == -EISDIR ? "it is not a regular file now" : strerror(-r));
        now = stamp_of(text, len);
        if (!stamp_equal(&now, expected))
                return siov_error(error_msg, -EEXIST, "%s/%s was changed on disk since siovd loaded or wrote it",
                                  dir, name);
        return 0;
}

_public_ int siov_definition_store_check(const char *dir, char **reason) {
        _cleanup_close_ int fd = -1;
        struct stat st;

        if (reason)
                *reason = NULL;
        if (isempty(dir))
                return siov_error(reason, -EINVAL, "no definitions folder given");
        if (stat(dir, &st) < 0) {
                if (errno == ENOENT)
                        return 0;       /* made by the first save */
                return siov_error(reason, -errno, "%s cannot be reached: %s", dir, strerror(errno));
        }
        if (!S_ISDIR(st.st_mode))
                return siov_error(reason, -ENOTDIR, "%s is not a folder", dir);
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return siov_error(reason, -errno, "%s cannot be read: %s", dir, strerror(errno));
        if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) < 0)
                return siov_error(reason, -errno, "%s is not writable: %s", dir, strerror(errno));
        return 0;
}

static int store_save(const char *dir, const struct siov_definition *d, bool check,
                      const siov_definition_stamp *expected, siov_definition_stamp *ret, char **error_msg) {
        _cleanup_free_ char *json = NULL;
        _cleanup_close_ int dfd = -1;
        char name[SIOV_UUID_STRING_MAX + 8];
        size_t len;
        int r;

        if (error_msg)
                *error_msg = NULL;
        if (!d)
                return -EINVAL;
        /* Never write what the loader would refuse. */
        r = siov_definition_check(d, &json, error_msg);
        if (r < 0)
                return r;
        len = strlen(json);

        dfd = open_dir(dir, true, error_msg);
        if (dfd < 0)
                return dfd;
        r = lock_dir(dfd, dir, error_msg);
        if (r < 0)
                return r;
        snprintf(name, sizeof(name), "%s.json", d->uuid);
        if (check) {
                r = verify_at(dfd, dir, name, expected, error_msg);
                if (r < 0)
                        return r;
        }

        /* Start-up removes the temporary files a crash leaves
         * (siov_definition_store_clean). */
        r = siov_write_file_atomic_at(dfd, dir, name, json, len, fault, error_msg);
        if (r >= 0 && ret)
                *ret = stamp_of(json, len);
        return r;
}

_public_ int siov_definition_store_save(const char *dir, const struct siov_definition *d,
                                        const siov_definition_stamp *expected, siov_definition_stamp *ret,
                                        char **error_msg) {
        return store_save(dir, d, true, expected, ret, error_msg);
}

_public_ int siov_definition_save(const char *dir, const struct siov_definition *d, char **error_msg) {
        return store_save(dir, d, false, NULL, NULL, error_msg);
}

static int store_delete(const char *dir, const char *uuid, bool check, const siov_definition_stamp *expected,
                        char **error_msg) {
        _cleanup_close_ int dfd = -1;
        _cleanup_free_ char *e = NULL;
        char id[SIOV_UUID_STRING_MAX], name[SIOV_UUID_STRING_MAX + 8];
        int r;

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
        r = lock_dir(dfd, dir, error_msg);
        if (r < 0)
                return r;
        snprintf(name, sizeof(name), "%s.json", id);
        if (check) {
                r = verify_at(dfd, dir, name, expected, error_msg);
                if (r < 0)
                        return r;
        }
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

_public_ int siov_definition_store_delete(const char *dir, const char *uuid, const siov_definition_stamp *expected,
                                          char **error_msg) {
        if (!expected)
                return -EINVAL;
        return store_delete(dir, uuid, true, expected, error_msg);
}

_public_ int siov_definition_delete(const char *dir, const char *uuid, char **error_msg) {
        return store_delete(dir, uuid, false, NULL, error_msg);
}

_public_ int siov_definition_store_verify(const char *dir, const char *uuid, const siov_definition_stamp *expected,
                                          char **error_msg) {
        _cleanup_close_ int dfd = -1;
        char id[SIOV_UUID_STRING_MAX], name[SIOV_UUID_STRING_MAX + 8];

        if (error_msg)
                *error_msg = NULL;
        if (siov_uuid_normalize(uuid, id) < 0)
                return -EINVAL;
        dfd = open_dir(dir, false, error_msg);
        if (dfd == -ENOENT)
                return expected ? siov_error(error_msg, -ENOENT, "%s does not exist", dir) : 0;
        if (dfd < 0)
                return dfd;
        snprintf(name, sizeof(name), "%s.json", id);
        return verify_at(dfd, dir, name, expected, error_msg);
}

/* ---- loading ------------------------------------------------------- */

static int definition_ptr_cmp(const void *a, const void *b) {
        const struct siov_definition *x = *(struct siov_definition * const *) a,
                *y = *(struct siov_definition * const *) b;

        return strcmp(x->uuid, y->uuid);
}

_public_ bool siov_definition_file_name(const char *name, char id[static SIOV_UUID_STRING_MAX]) {
        char buf[SIOV_UUID_STRING_MAX];

        if (strlen(name) != 36 + 5 || !streq(name + 36, ".json"))
                return false;
        memcpy(buf, name, 36);
        buf[36] = '\0';
        if (siov_uuid_normalize(buf, id) < 0)
                return false;
        return streq(buf, id);
}

/* Reads <dir>/name (name already known to be "<uuid>.json"): 1 with the
 * definition and its stamp, 0 when there is no such file, -EINVAL (or
 * another errno) with the reason it is skipped, -ENOMEM. */
static int load_at(int dfd, const char *name, const char *id, struct siov_definition **ret,
                   siov_definition_stamp *ret_stamp, char **reason) {
        _cleanup_(siov_definition_unrefp) struct siov_definition *def = NULL;
        _cleanup_free_ char *text = NULL, *msg = NULL;
        char why[64];
        size_t len;
        int r;

        r = siov_read_file_at(dfd, name, SIOV_DEFINITION_MAX_SIZE, &text, &len);
        if (r == -ENOENT)
                return 0;
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return siov_error(reason, r, "%s", siov_definition_read_error(r, why));
        r = siov_definition_parse(text, len, &def, &msg);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return siov_error(reason, r, "%s", msg ?: strerror(-r));
        if (!streq(def->uuid, id))
                return siov_error(reason, -EINVAL, "its uuid key (%s) differs from its file name", def->uuid);
        *ret_stamp = stamp_of(text, len);
        *ret = TAKE_PTR(def);
        return 1;
}

_public_ int siov_definition_store_load_one(const char *dir, const char *uuid, struct siov_definition **ret,
                                            siov_definition_stamp *ret_stamp, char **reason) {
        _cleanup_close_ int dfd = -1;
        char id[SIOV_UUID_STRING_MAX], name[SIOV_UUID_STRING_MAX + 8];
        int r;

        if (reason)
                *reason = NULL;
        if (!ret || !ret_stamp || siov_uuid_normalize(uuid, id) < 0)
                return -EINVAL;
        *ret = NULL;
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return errno == ENOENT ? 0 : siov_error(reason, -errno, "%s cannot be read: %s", dir, strerror(errno));
        snprintf(name, sizeof(name), "%s.json", id);
        r = load_at(dfd, name, id, ret, ret_stamp, reason);
        if (r < 0 && r != -ENOMEM && reason && *reason)
                siov_utf8_sanitize(*reason);
        return r;
}

_public_ int siov_definition_store_load(const char *dir, siov_definition_store_cb_t cb, void *userdata) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_close_ int fd = -1;
        int r, n = 0;

        if (isempty(dir) || !cb)
                return -EINVAL;
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        /* Readers and siovd's own writers take turns (see lock_dir): a
         * load never sees a file half way through being replaced by
         * another siovd. Loading goes on unlocked if the lock is busy. */
        (void) lock_dir(fd, dir, NULL);
        /* sorted: reports come in a stable order */
        r = siov_list_dir_sorted(fd, &names);
        if (r < 0)
                return r;

        for (char **name = names; name && *name; name++) {
                _cleanup_(siov_definition_unrefp) struct siov_definition *def = NULL;
                _cleanup_free_ char *reason = NULL, *path = NULL;
                siov_definition_stamp stamp = {};
                char id[SIOV_UUID_STRING_MAX];

                /* our own temporary files (and editors' backups) */
                if ((*name)[0] == '.')
                        continue;
                if (asprintf(&path, "%s/%s", dir, *name) < 0)
                        return -ENOMEM;
                siov_utf8_sanitize(path);
                n++;
                if (!siov_definition_file_name(*name, id)) {
                        cb(path, NULL, NULL, NULL,
                           "not a definition: the name is not <uuid>.json with a lower-case UUID", userdata);
                        continue;
                }
                r = load_at(fd, *name, id, &def, &stamp, &reason);
                if (r == -ENOMEM)
                        return r;
                if (r == 0)
                        continue;       /* gone meanwhile */
                if (r < 0) {
                        if (reason)
                                siov_utf8_sanitize(reason);
                        cb(path, id, NULL, NULL, reason ?: strerror(-r), userdata);
                        continue;
                }
                cb(path, id, def, &stamp, NULL, userdata);
        }
        return n;
}

/* ".<uuid>.json.<11 hex digits>": the temporary name store_save() uses. */
static bool temp_file_name(const char *name) {
        char buf[SIOV_UUID_STRING_MAX], id[SIOV_UUID_STRING_MAX];

        if (strlen(name) != 1 + 36 + 6 + 11 || name[0] != '.' || strncmp(name + 37, ".json.", 6) != 0)
                return false;
        memcpy(buf, name + 1, 36);
        buf[36] = '\0';
        if (siov_uuid_normalize(buf, id) < 0 || !streq(buf, id))
                return false;
        for (const char *p = name + 43; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
                        return false;
        return true;
}

_public_ int siov_definition_store_clean(const char *dir, siov_definition_clean_cb_t cb, void *userdata) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_close_ int fd = -1;
        int r, n = 0;

        if (isempty(dir))
                return -EINVAL;
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        /* Under the lock: another siovd's temporary file is only there
         * while it holds the lock. */
        r = lock_dir(fd, dir, NULL);
        if (r < 0)
                return r;
        r = siov_list_dir_sorted(fd, &names);
        if (r < 0)
                return r;
        for (char **name = names; name && *name; name++) {
                _cleanup_free_ char *path = NULL;
                struct stat st;

                if (!temp_file_name(*name))
                        continue;
                if (fstatat(fd, *name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                        continue;
                r = unlinkat(fd, *name, 0) < 0 ? -errno : 0;
                if (asprintf(&path, "%s/%s", dir, *name) < 0)
                        return -ENOMEM;
                if (cb)
                        cb(path, r, userdata);
                if (r >= 0)
                        n++;
        }
        if (n > 0)
                (void) fsync(fd);
        return n;
}

struct load_all {
        struct siov_definition **l;
        size_t n, allocated;
        siov_definition_error_t on_error;
        void *userdata;
        int r;
};

static void load_all_cb(const char *path, const char *uuid, struct siov_definition *def,
                        const siov_definition_stamp *stamp, const char *reason, void *userdata) {
        struct load_all *a = userdata;

        if (!def) {
                if (a->on_error)
                        a->on_error(path, reason, a->userdata);
                return;
        }
        if (a->r < 0)
                return;
        if (a->n == a->allocated) {
                size_t k = a->allocated ? a->allocated * 2 : 16;
                struct siov_definition **m = realloc(a->l, k * sizeof(*m));

                if (!m) {
                        a->r = -ENOMEM;
                        return;
                }
                a->l = m;
                a->allocated = k;
        }
        a->l[a->n++] = siov_definition_ref(def);
}

_public_ int siov_definitions_load(const char *dir, struct siov_definition ***ret, size_t *n_ret,
                                   siov_definition_error_t on_error, void *userdata) {
        struct load_all a = { .on_error = on_error, .userdata = userdata };
        int r;

        if (!ret || !n_ret || isempty(dir))
                return -EINVAL;
        *ret = NULL;
        *n_ret = 0;
        r = siov_definition_store_load(dir, load_all_cb, &a);
        if (r >= 0)
                r = a.r;
        if (r < 0) {
                siov_definitions_free(a.l, a.n);
                return r;
        }
        /* sorted by UUID, as the names were */
        if (a.n > 1)
                qsort(a.l, a.n, sizeof(*a.l), definition_ptr_cmp);
        *ret = a.l;
        *n_ret = a.n;
        return 0;
}

_public_ void siov_definitions_free(struct siov_definition **l, size_t n) {
        for (size_t i = 0; i < n; i++)
                siov_definition_unref(l[i]);
        free(l);
}
