/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Attribute reading, strict parsing and path containment. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "siov-private.h"

_public_ int siov_parse_u32(const char *s, uint32_t *ret) {
        uint64_t v = 0;
        bool overflow = false;
        const char *p = s;

        if (!s || !ret)
                return -EINVAL;
        /* The first byte must be a digit: no sign, no space, not empty. */
        if (*p < '0' || *p > '9')
                return -EINVAL;
        for (; *p >= '0' && *p <= '9'; p++) {
                if (overflow)
                        continue;
                v = v * 10 + (uint64_t) (*p - '0');
                if (v > UINT32_MAX)
                        overflow = true;
        }
        /* sysfs ends every value with one newline */
        if (*p == '\n')
                p++;
        if (*p != '\0')
                return -EINVAL;
        if (overflow)
                return -ERANGE;
        *ret = (uint32_t) v;
        return 0;
}

/* Skips the slashes at *c: the length of the path component there, 0 at
 * the end. */
static size_t path_next_component(const char **c) {
        *c += strspn(*c, "/");
        return strcspn(*c, "/");
}

static bool relative_path_is_safe(const char *p) {
        size_t n;

        if (isempty(p) || p[0] == '/')
                return false;
        for (const char *c = p; (n = path_next_component(&c)) > 0; c += n)
                if (n == 2 && c[0] == '.' && c[1] == '.')
                        return false;
        return true;
}

/* Opens dirfd/name for reading, a regular file only. O_NOFOLLOW: a planted
 * symlink is never read through. O_NONBLOCK: a planted FIFO must not hang
 * us; fstat then rejects it. */
static int open_regular_at(int dirfd, const char *name, struct stat *ret_st) {
        _cleanup_close_ int fd = -1;

        fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        if (fstat(fd, ret_st) < 0)
                return -errno;
        if (S_ISDIR(ret_st->st_mode))
                return -EISDIR;
        if (!S_ISREG(ret_st->st_mode))
                return -EINVAL;
        return TAKE_FD(fd);
}

/* Reads fd to its end, NUL-terminated. The data starts in *heap when it is
 * set, else in fixed (a caller's buffer, copied to the heap once it is
 * outgrown); either holds size bytes and the NUL. A full buffer grows
 * factor times, to max + 1 bytes at most: reading that far shows that the
 * file is larger than max (-EFBIG). The data ends up in *heap ?: fixed. */
static int read_to_end(int fd, char *fixed, char **heap, size_t size, size_t factor, size_t max, size_t *ret_len) {
        char *buf = *heap ?: fixed;
        size_t n = 0;

        for (;;) {
                ssize_t k;

                if (n == size) {
                        char *m;

                        if (size > max)
                                return -EFBIG;
                        size = size * factor > max + 1 ? max + 1 : size * factor;
                        m = realloc(*heap, size + 1);
                        if (!m)
                                return -ENOMEM;
                        if (!*heap)
                                memcpy(m, fixed, n);
                        *heap = buf = m;
                }
                k = read(fd, buf + n, size - n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                n += (size_t) k;
        }
        if (n > max)
                return -EFBIG;
        buf[n] = '\0';
        *ret_len = n;
        return 0;
}

_public_ int siov_read_attr_at(int dirfd, const char *name, char **ret) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *heap = NULL;
        char stack[4096 + 1];
        char *buf;
        size_t n;
        struct stat st;
        int r;

        if (!ret || !relative_path_is_safe(name))
                return -EINVAL;

        fd = open_regular_at(dirfd, name, &st);
        if (fd < 0)
                return fd;
        r = read_to_end(fd, stack, &heap, sizeof(stack) - 1, 4, SIOV_ATTR_MAX, &n);
        if (r < 0)
                return r;
        buf = heap ?: stack;
        if (n > 0 && buf[n - 1] == '\n')
                n--;
        buf[n] = '\0';

        *ret = strndup(buf, n);
        return *ret ? 0 : -ENOMEM;
}

/* Turns a path from /proc/self/fd (or realpath) into a root-relative one. */
static int canonical_in_root(const struct siov_ctx *ctx, const char *abs, char **ret) {
        size_t l = strlen(ctx->root);
        const char *rel;

        if (abs[0] != '/')
                return -EXDEV;
        if (l > 0) {
                if (strncmp(abs, ctx->root, l) != 0 || (abs[l] != '/' && abs[l] != '\0'))
                        return -EXDEV;
        }
        rel = abs[l] ? abs + l : "/";
        if (ret) {
                *ret = strdup(rel);
                if (!*ret)
                        return -ENOMEM;
        }
        return 0;
}

int siov_open_in_root(const struct siov_ctx *ctx, int dirfd, const char *base,
                      const char *path, int flags, char **ret_canonical) {
        _cleanup_close_ int fd = -1;
        char proc[64], buf[PATH_MAX];
        ssize_t n;
        int r;

        fd = openat(dirfd, path, flags | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;

        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        n = readlink(proc, buf, sizeof(buf) - 1);
        if (n >= 0) {
                if ((size_t) n >= sizeof(buf) - 1)
                        return -ENAMETOOLONG;
                buf[n] = '\0';
        } else if (errno == ENOENT) {
                /* No /proc: resolve by name. Racy, but only ever used in
                 * minimal containers without /proc. */
                _cleanup_free_ char *abs = NULL, *real = NULL;

                if (asprintf(&abs, "%s%s/%s", ctx->root, strempty(base), path) < 0)
                        return -ENOMEM;
                real = realpath(abs, NULL);
                if (!real)
                        return -errno;
                r = canonical_in_root(ctx, real, NULL);
                if (r < 0)
                        return r;
                closep(&fd);
                fd = open(real, flags | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
                if (fd < 0)
                        return -errno;
                if (strlen(real) >= sizeof(buf))
                        return -ENAMETOOLONG;
                strcpy(buf, real);
        } else
                return -errno;

        r = canonical_in_root(ctx, buf, ret_canonical);
        if (r < 0)
                return r;
        return TAKE_FD(fd);
}

int siov_path_resolve_lexical(const struct siov_ctx *ctx, const char *base,
                              const char *target, char ret[static PATH_MAX]) {
        size_t len = 0, n;

        if (target[0] == '/') {
                /* The kernel writes sysfs links relative; an absolute one in
                 * a prefixed tree would lead out of it. */
                if (!isempty(ctx->root))
                        return -EXDEV;
        } else {
                len = strlen(base);
                if (len >= PATH_MAX)
                        return -ENAMETOOLONG;
                memcpy(ret, base, len);
                while (len > 0 && ret[len - 1] == '/')
                        len--;
        }
        ret[len] = '\0';

        for (const char *c = target; (n = path_next_component(&c)) > 0; c += n) {
                if (n == 1 && c[0] == '.') {
                        /* nothing */
                } else if (n == 2 && c[0] == '.' && c[1] == '.') {
                        char *s;

                        if (len == 0)
                                return -EXDEV;
                        s = memrchr(ret, '/', len);
                        len = s ? (size_t) (s - ret) : 0;
                        ret[len] = '\0';
                } else {
                        if (len + 1 + n >= PATH_MAX)
                                return -ENAMETOOLONG;
                        ret[len++] = '/';
                        memcpy(ret + len, c, n);
                        len += n;
                        ret[len] = '\0';
                }
        }
        if (len == 0)
                strcpy(ret, "/");
        return 0;
}

size_t siov_path_depth(const char *path) {
        size_t d = 0, n;

        for (const char *c = path; (n = path_next_component(&c)) > 0; c += n)
                d++;
        return d;
}

bool siov_link_stays_inside(const struct siov_ctx *ctx, size_t base_depth, const char *target) {
        size_t d = base_depth, n;

        if (target[0] == '/')
                return isempty(ctx->root);
        for (const char *c = target; (n = path_next_component(&c)) > 0; c += n) {
                if (n == 2 && c[0] == '.' && c[1] == '.') {
                        if (d == 0)
                                return false;
                        d--;
                } else if (!(n == 1 && c[0] == '.'))
                        d++;
        }
        return true;
}

int siov_readlinkat(int dirfd, const char *name, char buf[static PATH_MAX]) {
        ssize_t n;

        n = readlinkat(dirfd, name, buf, PATH_MAX - 1);
        if (n < 0)
                return -errno;
        if ((size_t) n >= PATH_MAX - 1)
                return -ENAMETOOLONG;
        buf[n] = '\0';
        return 0;
}

size_t siov_read_link_name_buf(const struct siov_ctx *ctx, int dirfd, size_t base_depth,
                               const char *name, char buf[static PATH_MAX]) {
        char *b;
        size_t l;

        buf[0] = '\0';
        /* Absent, not a link, unreadable: all mean "none" here. */
        if (siov_readlinkat(dirfd, name, buf) < 0)
                goto none;
        if (!siov_link_stays_inside(ctx, base_depth, buf))
                goto none;
        l = strlen(buf);
        while (l > 0 && buf[l - 1] == '/')
                buf[--l] = '\0';
        b = strrchr(buf, '/');
        b = b ? b + 1 : buf;
        if (!siov_name_is_valid(b))
                goto none;
        l = strlen(b);
        memmove(buf, b, l + 1);
        return l;
none:
        buf[0] = '\0';
        return 0;
}

int siov_read_link_name(const struct siov_ctx *ctx, int dirfd, size_t base_depth,
                        const char *name, char **ret) {
        char buf[PATH_MAX];

        *ret = NULL;
        if (siov_read_link_name_buf(ctx, dirfd, base_depth, name, buf) == 0)
                return 0;
        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}

int siov_list_names_at(int dirfd, const char *subdir, bool (*filter)(const char *), char ***ret) {
        _cleanup_closedir_ DIR *d = NULL;
        char **items = NULL;
        size_t n = 0, allocated = 0;
        struct dirent *de;
        int fd, r = 0;

        *ret = NULL;
        fd = openat(dirfd, subdir ?: ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOMEM ? -ENOMEM : 0;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        FOREACH_DIRENT(de, d) {
                if (!(filter ?: siov_name_is_valid)(de->d_name))
                        continue;
                if (!GREEDY_REALLOC(items, allocated, n + 1)) {
                        r = -ENOMEM;
                        goto finish;
                }
                items[n] = strdup(de->d_name);
                if (!items[n]) {
                        r = -ENOMEM;
                        goto finish;
                }
                n++;
        }
        r = strv_pack(items, n, ret);
finish:
        for (size_t i = 0; i < n; i++)
                free(items[i]);
        free(items);
        return r;
}

int siov_reason_add(char **reasons, const char *fmt, ...) {
        _cleanup_free_ char *s = NULL;
        va_list ap;
        char *j;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        siov_utf8_sanitize(s);
        if (!*reasons) {
                *reasons = TAKE_PTR(s);
                return 0;
        }
        if (asprintf(&j, "%s; %s", *reasons, s) < 0)
                return -ENOMEM;
        free(*reasons);
        *reasons = j;
        return 0;
}

char *siov_escape_value(const char *s) {
        static const size_t max = 64;
        char *ret, *o;
        size_t i;

        ret = malloc(max * 4 + 4);
        if (!ret)
                return NULL;
        o = ret;
        for (i = 0; s[i] && i < max; i++) {
                unsigned char c = (unsigned char) s[i];

                if (c < 0x20 || c >= 0x7f || c == '\\' || c == '\'')
                        o += sprintf(o, "\\x%02x", c);
                else
                        *o++ = (char) c;
        }
        if (s[i])
                o = stpcpy(o, "...");
        *o = '\0';
        return ret;
}

int siov_read_u32_reason(int dirfd, const char *attr, const char *label, uint32_t *ret, char **reasons) {
        _cleanup_free_ char *s = NULL, *e = NULL;
        int r, k;

        *ret = 0;
        r = siov_read_attr_at(dirfd, attr, &s);
        if (r == -ENOMEM)
                return r;
        if (r == -ENOENT)
                k = siov_reason_add(reasons, "%s: missing", label);
        else if (r < 0)
                k = siov_reason_add(reasons, "%s: %s", label, strerror(-r));
        else {
                r = siov_parse_u32(s, ret);
                if (r >= 0)
                        return 0;
                e = siov_escape_value(s);
                if (!e)
                        return -ENOMEM;
                k = siov_reason_add(reasons, "%s: %s: '%s'", label,
                                    r == -ERANGE ? "out of range" : "not a number", e);
        }
        return k < 0 ? k : r;
}

/* "/sys/devices/..." in printable ASCII, as the kernel names devices;
 * anything else would also be unusable on D-Bus. */
bool siov_is_device_path(const char *canon) {
        if (strncmp(canon, "/sys/devices/", 13) != 0)
                return false;
        for (const char *c = canon; *c; c++)
                if ((unsigned char) *c < 0x20 || (unsigned char) *c > 0x7e)
                        return false;
        return true;
}

int siov_read_file_at(int dirfd, const char *name, size_t max, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        size_t n = 0, size;
        struct stat st;
        int r;

        *ret = NULL;
        if (ret_len)
                *ret_len = 0;
        fd = open_regular_at(dirfd, name, &st);
        if (fd < 0)
                return fd;
        if ((uint64_t) st.st_size > max)
                return -EFBIG;

        /* The size may change under us: read until EOF, one byte past max
         * at most so that a grown file is still caught. */
        size = (size_t) st.st_size + 1;
        buf = malloc(size + 1);
        if (!buf)
                return -ENOMEM;
        r = read_to_end(fd, NULL, &buf, size, 2, max, &n);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = n;
        return 0;
}

int siov_error(char **error_msg, int r, const char *fmt, ...) {
        va_list ap;
        char *s;

        if (!error_msg)
                return r;
        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        if (s)
                siov_utf8_sanitize(s);
        free(*error_msg);
        *error_msg = s;
        return r;
}

/* Entries of an mdev folder that are not device attributes: the core's
 * own files, links, and the folders every device has. */
static const char * const mdev_reserved[] = {
        "remove", "mdev_type", "driver", "subsystem", "uevent",
        "power", "iommu_group", "driver_override", "modalias", "vfio-dev", "firmware_node",
        "consumers", "suppliers", "waiting_for_supplier",
};

bool siov_mdev_attr_name_is_writable(const char *name) {
        if (!siov_name_is_valid(name))
                return false;
        for (size_t i = 0; i < ELEMENTSOF(mdev_reserved); i++)
                if (streq(name, mdev_reserved[i]))
                        return false;
        return true;
}

int siov_list_dir_sorted(int dirfd, char ***ret) {
        _cleanup_closedir_ DIR *d = NULL;
        char **l = NULL;
        size_t n = 0, allocated = 0;
        struct dirent *de;
        int fd;

        *ret = NULL;
        fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        FOREACH_DIRENT(de, d) {
                if (!GREEDY_REALLOC(l, allocated, n + 2)) {
                        strv_free(l);
                        return -ENOMEM;
                }
                l[n] = strdup(de->d_name);
                if (!l[n]) {
                        strv_free(l);
                        return -ENOMEM;
                }
                l[++n] = NULL;
        }
        if (errno != 0) {
                int r = -errno;
                strv_free(l);
                return r;
        }
        strv_sort(l, n);
        *ret = l;
        return 0;
}
