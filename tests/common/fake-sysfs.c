/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fake sysfs trees in the real kernel's layout (see fake-sysfs.h). */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "fake-kernel.h"
#include "fake-sysfs.h"

/* The builder is the test's own hand, never a write to the "kernel": its
 * writes pass the fake kernel's write() wrappers untouched. */
__thread int fake_kernel_busy;

struct fake_sysfs {
        char *root;
        int fd;
        bool owned;
};

/* ---- path helpers (all paths relative to the root, no leading '/') ---- */

static int mkdir_p_at(int dirfd, const char *rel) {
        char buf[PATH_MAX];
        size_t l = strlen(rel);

        if (l == 0)
                return 0;
        if (l >= sizeof(buf))
                return -ENAMETOOLONG;
        if (mkdirat(dirfd, rel, 0755) >= 0 || errno == EEXIST)
                return 0;
        if (errno != ENOENT)
                return -errno;
        memcpy(buf, rel, l + 1);
        for (size_t i = 1; i < l; i++) {
                if (buf[i] != '/')
                        continue;
                buf[i] = '\0';
                if (mkdirat(dirfd, buf, 0755) < 0 && errno != EEXIST)
                        return -errno;
                buf[i] = '/';
        }
        if (mkdirat(dirfd, buf, 0755) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

static int mkdir_parent_at(int dirfd, const char *rel) {
        char buf[PATH_MAX];
        char *s;

        if (strlen(rel) >= sizeof(buf))
                return -ENAMETOOLONG;
        strcpy(buf, rel);
        s = strrchr(buf, '/');
        if (!s)
                return 0;
        *s = '\0';
        return mkdir_p_at(dirfd, buf);
}

static int write_at(int dirfd, const char *rel, const char *data, int extra_flags) {
        size_t len = strlen(data);
        int fd, r = 0;

        fd = openat(dirfd, rel, O_WRONLY | O_CREAT | O_CLOEXEC | extra_flags, 0644);
        if (fd < 0 && errno == ENOENT) {
                r = mkdir_parent_at(dirfd, rel);
                if (r < 0)
                        return r;
                fd = openat(dirfd, rel, O_WRONLY | O_CREAT | O_CLOEXEC | extra_flags, 0644);
        }
        if (fd < 0)
                return -errno;
        fake_kernel_busy++;
        while (len > 0) {
                ssize_t k = write(fd, data, len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        break;
                }
                data += k;
                len -= (size_t) k;
        }
        fake_kernel_busy--;
        close(fd);
        return r;
}

static int writef_at(int dirfd, const char *rel, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int writef_at(int dirfd, const char *rel, const char *fmt, ...) {
        char buf[4096];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        return write_at(dirfd, rel, buf, O_TRUNC);
}

/* Formats a path; -ENAMETOOLONG instead of a silently cut one. */
static int pathf(char out[static PATH_MAX], const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int pathf(char out[static PATH_MAX], const char *fmt, ...) {
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(out, PATH_MAX, fmt, ap);
        va_end(ap);
        return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

#define PATHF(buf, ...)                                         \
        do {                                                    \
                int _r_ = pathf(buf, __VA_ARGS__);              \
                if (_r_ < 0)                                    \
                        return _r_;                             \
        } while (0)

/* Lexically resolves target seen from folder base into out. */
static int resolve_lexical(const char *base, const char *target, char out[static PATH_MAX]) {
        size_t len = 0;

        if (target[0] != '/') {
                len = strlen(base);
                if (len >= PATH_MAX)
                        return -ENAMETOOLONG;
                memcpy(out, base, len);
        }
        out[len] = '\0';
        for (const char *c = target; *c; ) {
                size_t n;

                c += strspn(c, "/");
                n = strcspn(c, "/");
                if (n == 0)
                        break;
                if (n == 2 && c[0] == '.' && c[1] == '.') {
                        char *s;
                        if (len == 0)
                                return -EXDEV;
                        s = memrchr(out, '/', len);
                        len = s ? (size_t) (s - out) : 0;
                        out[len] = '\0';
                } else if (!(n == 1 && c[0] == '.')) {
                        if (len + n + 2 >= PATH_MAX)
                                return -ENAMETOOLONG;
                        if (len > 0)
                                out[len++] = '/';
                        memcpy(out + len, c, n);
                        len += n;
                        out[len] = '\0';
                }
                c += n;
        }
        return 0;
}

/* Relative link text from folder from_dir to to (both root-relative). */
static int relative_target(const char *from_dir, const char *to, char out[static PATH_MAX]) {
        const char *a = from_dir, *b = to;
        size_t o = 0;

        /* skip the common leading components */
        for (;;) {
                size_t na = strcspn(a, "/"), nb = strcspn(b, "/");

                if (na == 0 || na != nb || strncmp(a, b, na) != 0)
                        break;
                a += na;
                b += nb;
                a += strspn(a, "/");
                b += strspn(b, "/");
        }
        for (const char *c = a; *c; ) {
                size_t n = strcspn(c, "/");
                if (n == 0)
                        break;
                if (o + 3 >= PATH_MAX)
                        return -ENAMETOOLONG;
                memcpy(out + o, "../", 3);
                o += 3;
                c += n;
                c += strspn(c, "/");
        }
        if (o + strlen(b) + 1 >= PATH_MAX)
                return -ENAMETOOLONG;
        strcpy(out + o, b);
        o += strlen(b);
        if (o == 0)
                strcpy(out, ".");
        else if (out[o - 1] == '/')
                out[o - 1] = '\0';
        return 0;
}

/* <root>/<link> -> <root>/<to>, written relative. */
static int link_at(int rootfd, const char *link, const char *to) {
        char dir[PATH_MAX], target[PATH_MAX];
        char *s;
        int r;

        if (strlen(link) >= sizeof(dir))
                return -ENAMETOOLONG;
        strcpy(dir, link);
        s = strrchr(dir, '/');
        if (s)
                *s = '\0';
        else
                dir[0] = '\0';
        r = relative_target(dir, to, target);
        if (r < 0)
                return r;
        if (symlinkat(target, rootfd, link) >= 0)
                return 0;
        if (errno == EEXIST) {
                if (unlinkat(rootfd, link, 0) < 0)
                        return -errno;
        } else if (errno == ENOENT) {
                r = mkdir_p_at(rootfd, dir);
                if (r < 0)
                        return r;
        } else
                return -errno;
        if (symlinkat(target, rootfd, link) < 0)
                return -errno;
        return 0;
}

static bool name_ok(const char *s) {
        if (!s || !*s || strlen(s) > 255 || strchr(s, '/'))
                return false;
        return strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

/* Finds the device folder of name through the class and bus links. */
static int device_dir(struct fake_sysfs *f, const char *name, char out[static PATH_MAX]) {
        static const char * const dirs[] = {
                "sys/class/mdev_bus", "sys/bus/pci/devices", "sys/class/idxd",
        };

        if (!name_ok(name))
                return -EINVAL;
        for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
                char link[PATH_MAX], target[PATH_MAX];
                ssize_t n;

                PATHF(link, "%s/%s", dirs[i], name);
                n = readlinkat(f->fd, link, target, sizeof(target) - 1);
                if (n < 0)
                        continue;
                target[n] = '\0';
                return resolve_lexical(dirs[i], target, out);
        }
        return -ENODEV;
}

/* ---- lifetime -------------------------------------------------------- */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) ftw;
        if (flag == FTW_DP)
                return rmdir(path) < 0 ? -1 : 0;
        return unlink(path) < 0 ? -1 : 0;
}

int fake_rm_rf(const char *path) {
        struct stat st;

        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode))
                return unlink(path) < 0 ? -errno : 0;
        if (nftw(path, rm_one, 64, FTW_DEPTH | FTW_PHYS) < 0)
                return -errno;
        return 0;
}

int fake_sysfs_new(struct fake_sysfs **ret, const char *root) {
        struct fake_sysfs *f;
        int r;

        f = calloc(1, sizeof(*f));
        if (!f)
                return -ENOMEM;
        f->fd = -1;
        if (!root) {
                const char *tmp = getenv("TMPDIR");
                if (!tmp || !*tmp)
                        tmp = "/tmp";
                if (asprintf(&f->root, "%s/fake-sysfs.XXXXXX", tmp) < 0) {
                        free(f);
                        return -ENOMEM;
                }
                if (!mkdtemp(f->root)) {
                        r = -errno;
                        goto fail;
                }
                f->owned = true;
        } else {
                f->root = strdup(root);
                if (!f->root) {
                        free(f);
                        return -ENOMEM;
                }
                if (mkdir(root, 0755) < 0 && errno != EEXIST) {
                        r = -errno;
                        goto fail;
                }
        }
        f->fd = open(f->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (f->fd < 0) {
                r = -errno;
                goto fail;
        }
        r = mkdir_p_at(f->fd, "sys/devices/virtual");
        if (r < 0)
                goto fail;
        r = mkdir_p_at(f->fd, "sys/class");
        if (r < 0)
                goto fail;
        r = mkdir_p_at(f->fd, "sys/bus");
        if (r < 0)
                goto fail;
        *ret = f;
        return 0;
fail:
        fake_sysfs_free(f);
        return r;
}

void fake_sysfs_free(struct fake_sysfs *f) {
        if (!f)
                return;
        if (f->fd >= 0)
                close(f->fd);
        if (f->owned)
                (void) fake_rm_rf(f->root);
        free(f->root);
        free(f);
}

const char *fake_sysfs_root(const struct fake_sysfs *f) {
        return f->root;
}

/* ---- generic ---------------------------------------------------------- */

int fake_set_attr(struct fake_sysfs *f, const char *relpath, const char *value) {
        return write_at(f->fd, relpath, value, O_TRUNC);
}

int fake_remove(struct fake_sysfs *f, const char *relpath) {
        char *p;
        int r;

        if (asprintf(&p, "%s/%s", f->root, relpath) < 0)
                return -ENOMEM;
        r = fake_rm_rf(p);
        free(p);
        return r;
}

int fake_symlink(struct fake_sysfs *f, const char *relpath, const char *target) {
        int r;

        (void) unlinkat(f->fd, relpath, 0);
        r = mkdir_parent_at(f->fd, relpath);
        if (r < 0)
                return r;
        return symlinkat(target, f->fd, relpath) < 0 ? -errno : 0;
}

int fake_mkdir(struct fake_sysfs *f, const char *relpath) {
        return mkdir_p_at(f->fd, relpath);
}

/* ---- devices ---------------------------------------------------------- */

static int add_pci_device(struct fake_sysfs *f, const char *bdf, char dev[static PATH_MAX]) {
        char link[PATH_MAX];
        int r;

        if (device_dir(f, bdf, dev) >= 0)
                return 0;
        PATHF(dev, "sys/devices/pci0000:00/%s", bdf);
        r = mkdir_p_at(f->fd, dev);
        if (r < 0)
                return r;
        PATHF(link, "%s/subsystem", dev);
        r = link_at(f->fd, link, "sys/bus/pci");
        if (r < 0)
                return r;
        PATHF(link, "sys/bus/pci/devices/%s", bdf);
        r = link_at(f->fd, link, dev);
        if (r < 0)
                return r;
        PATHF(link, "%s/driver_override", dev);
        r = write_at(f->fd, link, "(null)\n", O_TRUNC);
        if (r < 0)
                return r;
        return write_at(f->fd, "sys/bus/pci/drivers_probe", "", 0);
}

static int add_class_device(struct fake_sysfs *f, const char *class, const char *name, char dev[static PATH_MAX]) {
        char link[PATH_MAX], cls[PATH_MAX];
        int r;

        if (device_dir(f, name, dev) >= 0)
                return 0;
        PATHF(dev, "sys/devices/virtual/%s/%s", class, name);
        r = mkdir_p_at(f->fd, dev);
        if (r < 0)
                return r;
        PATHF(cls, "sys/class/%s", class);
        PATHF(link, "%s/subsystem", dev);
        r = link_at(f->fd, link, cls);
        if (r < 0)
                return r;
        PATHF(link, "sys/class/%s/%s", class, name);
        return link_at(f->fd, link, dev);
}

int fake_set_driver(struct fake_sysfs *f, const char *device, const char *driver) {
        char dev[PATH_MAX], link[PATH_MAX], drv[PATH_MAX];
        int r;

        r = device_dir(f, device, dev);
        if (r < 0)
                return r;
        PATHF(link, "%s/driver", dev);
        if (!driver) {
                if (unlinkat(f->fd, link, 0) < 0 && errno != ENOENT)
                        return -errno;
                return 0;
        }
        if (!name_ok(driver))
                return -EINVAL;
        PATHF(drv, "sys/bus/pci/drivers/%s", driver);
        r = mkdir_p_at(f->fd, drv);
        if (r < 0)
                return r;
        PATHF(link, "sys/bus/pci/drivers/%s/bind", driver);
        r = write_at(f->fd, link, "", 0);
        if (r < 0)
                return r;
        PATHF(link, "sys/bus/pci/drivers/%s/unbind", driver);
        r = write_at(f->fd, link, "", 0);
        if (r < 0)
                return r;
        PATHF(link, "%s/driver", dev);
        return link_at(f->fd, link, drv);
}

int fake_add_netdev(struct fake_sysfs *f, const char *device, const char *ifname) {
        char dev[PATH_MAX], p[PATH_MAX], link[PATH_MAX];
        int r;

        if (!name_ok(ifname))
                return -EINVAL;
        r = device_dir(f, device, dev);
        if (r < 0)
                return r;
        PATHF(p, "%s/net/%s", dev, ifname);
        r = mkdir_p_at(f->fd, p);
        if (r < 0)
                return r;
        PATHF(link, "%s/operstate", p);
        r = write_at(f->fd, link, "up\n", O_TRUNC);
        if (r < 0)
                return r;
        PATHF(link, "sys/class/net/%s", ifname);
        return link_at(f->fd, link, p);
}

int fake_add_mdev_parent(struct fake_sysfs *f, const char *name, const char *class, const char *driver) {
        char dev[PATH_MAX], p[PATH_MAX];
        int r;

        if (!name_ok(name) || (class && !name_ok(class)))
                return -EINVAL;
        r = class ? add_class_device(f, class, name, dev) : add_pci_device(f, name, dev);
        if (r < 0)
                return r;
        PATHF(p, "%s/mdev_supported_types", dev);
        r = mkdir_p_at(f->fd, p);
        if (r < 0)
                return r;
        PATHF(p, "sys/class/mdev_bus/%s", name);
        r = link_at(f->fd, p, dev);
        if (r < 0)
                return r;
        if (driver)
                return fake_set_driver(f, name, driver);
        return 0;
}

int fake_add_type(struct fake_sysfs *f, const char *parent, const char *type, uint32_t available,
                  const char *device_api, const char *name, const char *description) {
        char dev[PATH_MAX], t[PATH_MAX], p[PATH_MAX];
        int r;

        if (!name_ok(type))
                return -EINVAL;
        r = device_dir(f, parent, dev);
        if (r < 0)
                return r;
        PATHF(t, "%s/mdev_supported_types/%s", dev, type);
        PATHF(p, "%s/devices", t);
        r = mkdir_p_at(f->fd, p);
        if (r < 0)
                return r;
        PATHF(p, "%s/available_instances", t);
        r = writef_at(f->fd, p, "%u\n", available);
        if (r < 0)
                return r;
        PATHF(p, "%s/create", t);
        r = write_at(f->fd, p, "", O_TRUNC);
        if (r < 0)
                return r;
        if (device_api) {
                PATHF(p, "%s/device_api", t);
                r = writef_at(f->fd, p, "%s\n", device_api);
                if (r < 0)
                        return r;
        }
        if (name) {
                PATHF(p, "%s/name", t);
                r = writef_at(f->fd, p, "%s\n", name);
                if (r < 0)
                        return r;
        }
        if (description) {
                PATHF(p, "%s/description", t);
                r = writef_at(f->fd, p, "%s\n", description);
                if (r < 0)
                        return r;
        }
        return 0;
}

int fake_set_type_attr(struct fake_sysfs *f, const char *parent, const char *type,
                       const char *attr, const char *value) {
        char dev[PATH_MAX], p[PATH_MAX];
        int r;

        if (!name_ok(type) || !name_ok(attr))
                return -EINVAL;
        r = device_dir(f, parent, dev);
        if (r < 0)
                return r;
        PATHF(p, "%s/mdev_supported_types/%s/%s", dev, type, attr);
        return write_at(f->fd, p, value, O_TRUNC);
}

static int adjust_available(struct fake_sysfs *f, const char *typedir, int delta) {
        char p[PATH_MAX], buf[64];
        unsigned long v;
        ssize_t n;
        int fd;

        PATHF(p, "%s/available_instances", typedir);
        fd = openat(f->fd, p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n < 0)
                return -EIO;
        buf[n] = '\0';
        v = strtoul(buf, NULL, 10);
        if (delta < 0 && v == 0)
                return -ENOSPC;
        return writef_at(f->fd, p, "%lu\n", (unsigned long) ((long) v + delta));
}

int fake_add_mdev(struct fake_sysfs *f, const char *parent, const char *type, const char *uuid, unsigned flags) {
        char dev[PATH_MAX], m[PATH_MAX], t[PATH_MAX], p[PATH_MAX];
        int r;

        if (!name_ok(type) || !name_ok(uuid))
                return -EINVAL;
        r = device_dir(f, parent, dev);
        if (r < 0)
                return r;
        PATHF(t, "%s/mdev_supported_types/%s", dev, type);
        if (flags & FAKE_MDEV_CONSUME) {
                r = adjust_available(f, t, -1);
                if (r < 0)
                        return r;
        }
        PATHF(m, "%s/%s", dev, uuid);
        if (mkdirat(f->fd, m, 0755) < 0)
                return -errno;
        PATHF(p, "%s/mdev_type", m);
        r = link_at(f->fd, p, t);
        if (r < 0)
                return r;
        PATHF(p, "%s/remove", m);
        r = write_at(f->fd, p, "", O_TRUNC);
        if (r < 0)
                return r;
        r = mkdir_p_at(f->fd, "sys/bus/mdev/drivers/vfio_mdev");
        if (r < 0)
                return r;
        PATHF(p, "%s/driver", m);
        r = link_at(f->fd, p, "sys/bus/mdev/drivers/vfio_mdev");
        if (r < 0)
                return r;
        PATHF(p, "%s/subsystem", m);
        r = link_at(f->fd, p, "sys/bus/mdev");
        if (r < 0)
                return r;
        PATHF(p, "sys/bus/mdev/devices/%s", uuid);
        r = link_at(f->fd, p, m);
        if (r < 0)
                return r;
        PATHF(p, "%s/devices/%s", t, uuid);
        return link_at(f->fd, p, m);
}

int fake_remove_mdev(struct fake_sysfs *f, const char *uuid, unsigned flags) {
        char link[PATH_MAX], target[PATH_MAX], m[PATH_MAX], t[PATH_MAX], p[PATH_MAX];
        ssize_t n;
        int r;

        if (!name_ok(uuid))
                return -EINVAL;
        PATHF(link, "sys/bus/mdev/devices/%s", uuid);
        n = readlinkat(f->fd, link, target, sizeof(target) - 1);
        if (n < 0)
                return -errno;
        target[n] = '\0';
        r = resolve_lexical("sys/bus/mdev/devices", target, m);
        if (r < 0)
                return r;
        PATHF(p, "%s/mdev_type", m);
        n = readlinkat(f->fd, p, target, sizeof(target) - 1);
        if (n >= 0) {
                target[n] = '\0';
                r = resolve_lexical(m, target, t);
                if (r < 0)
                        return r;
                PATHF(p, "%s/devices/%s", t, uuid);
                (void) unlinkat(f->fd, p, 0);
                if (flags & FAKE_MDEV_CONSUME)
                        (void) adjust_available(f, t, +1);
        }
        if (unlinkat(f->fd, link, 0) < 0)
                return -errno;
        return fake_remove(f, m);
}

int fake_add_pf(struct fake_sysfs *f, const char *bdf, uint32_t total_vfs, const char *driver) {
        char dev[PATH_MAX], p[PATH_MAX];
        int r;

        if (!name_ok(bdf))
                return -EINVAL;
        r = add_pci_device(f, bdf, dev);
        if (r < 0)
                return r;
        PATHF(p, "%s/sriov_totalvfs", dev);
        r = writef_at(f->fd, p, "%u\n", total_vfs);
        if (r < 0)
                return r;
        PATHF(p, "%s/sriov_numvfs", dev);
        r = write_at(f->fd, p, "0\n", O_TRUNC);
        if (r < 0)
                return r;
        PATHF(p, "%s/sriov_drivers_autoprobe", dev);
        r = write_at(f->fd, p, "1\n", O_TRUNC);
        if (r < 0)
                return r;
        if (driver)
                return fake_set_driver(f, bdf, driver);
        return 0;
}

static int count_virtfn(int rootfd, const char *dev) {
        DIR *d;
        struct dirent *de;
        int fd, n = 0;

        fd = openat(rootfd, dev, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -ENOMEM;
        }
        while ((de = readdir(d)))
                if (strncmp(de->d_name, "virtfn", 6) == 0)
                        n++;
        closedir(d);
        return n;
}

int fake_add_vf(struct fake_sysfs *f, const char *pf, uint32_t index, const char *vf_bdf,
                const char *driver, const char *netdev) {
        char pdev[PATH_MAX], vdev[PATH_MAX], p[PATH_MAX];
        char *s;
        int r, n;

        if (!name_ok(vf_bdf))
                return -EINVAL;
        r = device_dir(f, pf, pdev);
        if (r < 0)
                return r;
        /* VFs are siblings of their PF */
        s = strrchr(pdev, '/');
        if (!s)
                return -EINVAL;
        PATHF(vdev, "%.*s/%s", (int) (s - pdev), pdev, vf_bdf);
        r = mkdir_p_at(f->fd, vdev);
        if (r < 0)
                return r;
        PATHF(p, "%s/subsystem", vdev);
        r = link_at(f->fd, p, "sys/bus/pci");
        if (r < 0)
                return r;
        PATHF(p, "sys/bus/pci/devices/%s", vf_bdf);
        r = link_at(f->fd, p, vdev);
        if (r < 0)
                return r;
        PATHF(p, "%s/physfn", vdev);
        r = link_at(f->fd, p, pdev);
        if (r < 0)
                return r;
        PATHF(p, "%s/driver_override", vdev);
        r = write_at(f->fd, p, "(null)\n", O_TRUNC);
        if (r < 0)
                return r;
        PATHF(p, "%s/virtfn%u", pdev, index);
        r = link_at(f->fd, p, vdev);
        if (r < 0)
                return r;
        n = count_virtfn(f->fd, pdev);
        if (n < 0)
                return n;
        PATHF(p, "%s/sriov_numvfs", pdev);
        r = writef_at(f->fd, p, "%d\n", n);
        if (r < 0)
                return r;
        if (driver) {
                r = fake_set_driver(f, vf_bdf, driver);
                if (r < 0)
                        return r;
        }
        if (netdev)
                return fake_add_netdev(f, vf_bdf, netdev);
        return 0;
}

int fake_add_siov_parent(struct fake_sysfs *f, const char *name, const struct fake_pool *pool, const char *netdev) {
        static const struct {
                const char *attr;
                size_t offset;
        } counters[] = {
                { "total",       offsetof(struct fake_pool, total) },
                { "free",        offsetof(struct fake_pool, free) },
                { "mdev_dwq",    offsetof(struct fake_pool, mdev_dwq) },
                { "mdev_swq",    offsetof(struct fake_pool, mdev_swq) },
                { "host_netdev", offsetof(struct fake_pool, host_netdev) },
                { "host_wq",     offsetof(struct fake_pool, host_wq) },
                { "swq_slots",   offsetof(struct fake_pool, swq_slots) },
        };
        char dev[PATH_MAX], p[PATH_MAX];
        int r;

        r = fake_add_mdev_parent(f, name, "idxd", NULL);
        if (r < 0)
                return r;
        r = device_dir(f, name, dev);
        if (r < 0)
                return r;
        for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
                PATHF(p, "%s/pool/%s", dev, counters[i].attr);
                r = writef_at(f->fd, p, "%u\n", *(const uint32_t *) ((const char *) pool + counters[i].offset));
                if (r < 0)
                        return r;
        }
        PATHF(p, "%s/host_netdevs", dev);
        r = writef_at(f->fd, p, "%u\n", pool->host_netdev);
        if (r < 0)
                return r;
        PATHF(p, "%s/host_wqs", dev);
        r = writef_at(f->fd, p, "%u\n", pool->host_wq);
        if (r < 0)
                return r;
        /* the bundled driver's control files */
        r = write_at(f->fd, "sys/class/idxd/add_parent", "", 0);
        if (r < 0)
                return r;
        r = write_at(f->fd, "sys/class/idxd/remove_parent", "", 0);
        if (r < 0)
                return r;
        r = fake_add_type(f, name, "idxd-1dwq", pool->free, "vfio-pci", "1dwq",
                          "one dedicated work queue");
        if (r < 0)
                return r;
        r = fake_add_type(f, name, "idxd-1swq", pool->free * pool->swq_slots, "vfio-pci", "1swq",
                          "one slot on a shared work queue");
        if (r < 0)
                return r;
        if (netdev)
                return fake_add_netdev(f, name, netdev);
        return 0;
}

int fake_add_vfio_variant(struct fake_sysfs *f, const char *module) {
        char p[PATH_MAX], line[512];
        struct utsname u;
        struct stat st;
        int r;

        if (!name_ok(module))
                return -EINVAL;
        if (uname(&u) < 0)
                return -errno;
        PATHF(p, "lib/modules/%s/modules.alias", u.release);
        if (fstatat(f->fd, p, &st, 0) < 0) {
                /* a line that is no VFIO alias, as in a real file */
                r = write_at(f->fd, p, "# Aliases extracted from modules themselves.\n"
                             "alias pci:v00008086d00001889sv*sd*bc*sc*i* iavf\n", O_TRUNC);
                if (r < 0)
                        return r;
        }
        snprintf(line, sizeof(line), "alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i* %s\n", module);
        return write_at(f->fd, p, line, O_APPEND);
}

/* ---- benchmark tree --------------------------------------------------- */

static uint64_t splitmix64(uint64_t *x) {
        uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
}

void fake_bench_uuid(unsigned parent, unsigned index, char ret[static 37]) {
        uint64_t s = ((uint64_t) parent << 32) | index;
        uint64_t a = splitmix64(&s), b = splitmix64(&s);

        a = (a & ~0xf000ull) | 0x4000ull;                       /* version 4 */
        b = (b & ~(0xc000ull << 48)) | (0x8000ull << 48);        /* RFC 4122 variant */
        snprintf(ret, 37, "%08x-%04x-%04x-%04x-%012llx",
                 (unsigned) (a >> 32), (unsigned) (a >> 16) & 0xffff, (unsigned) a & 0xffff,
                 (unsigned) (b >> 48), (unsigned long long) (b & 0xffffffffffffull));
}

/* fake_add_mdev() for many mdevs of one parent: the same tree, built with
 * folder fds and link texts computed once (10,000 mdevs in well under a
 * second on tmpfs). */
static int bench_add_mdevs(struct fake_sysfs *f, const char *parent, unsigned index, unsigned n) {
        static const char * const types[2] = { "idxd-1dwq", "idxd-1swq" };
        char dev[PATH_MAX], p[PATH_MAX], to_driver[PATH_MAX], to_subsystem[PATH_MAX], to_dev[PATH_MAX];
        int dev_fd = -1, bus_fd = -1, types_fd[2] = { -1, -1 }, r = 0;

        r = device_dir(f, parent, dev);
        if (r < 0)
                return r;
        r = mkdir_p_at(f->fd, "sys/bus/mdev/drivers/vfio_mdev");
        if (r < 0)
                return r;
        r = mkdir_p_at(f->fd, "sys/bus/mdev/devices");
        if (r < 0)
                return r;
        PATHF(p, "%s/x", dev);          /* any mdev folder of this parent */
        r = relative_target(p, "sys/bus/mdev/drivers/vfio_mdev", to_driver);
        if (r < 0)
                return r;
        r = relative_target(p, "sys/bus/mdev", to_subsystem);
        if (r < 0)
                return r;
        r = relative_target("sys/bus/mdev/devices", dev, to_dev);
        if (r < 0)
                return r;

        for (int t = 0; t < 2; t++) {
                PATHF(p, "%s/mdev_supported_types/%s/devices", dev, types[t]);
                types_fd[t] = openat(f->fd, p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        }
        dev_fd = openat(f->fd, dev, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        bus_fd = openat(f->fd, "sys/bus/mdev/devices", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dev_fd < 0 || bus_fd < 0 || types_fd[0] < 0 || types_fd[1] < 0) {
                r = -errno;
                goto finish;
        }

        for (unsigned j = 0; j < n; j++) {
                char uuid[37], target[PATH_MAX];
                int mfd, fd;

                fake_bench_uuid(index, j, uuid);
                if (mkdirat(dev_fd, uuid, 0755) < 0 ||
                    (mfd = openat(dev_fd, uuid, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
                        r = -errno;
                        goto finish;
                }
                snprintf(target, sizeof(target), "../mdev_supported_types/%s", types[j % 2]);
                if (symlinkat(target, mfd, "mdev_type") < 0 ||
                    symlinkat(to_driver, mfd, "driver") < 0 ||
                    symlinkat(to_subsystem, mfd, "subsystem") < 0 ||
                    (fd = openat(mfd, "remove", O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) < 0) {
                        r = -errno;
                        close(mfd);
                        goto finish;
                }
                close(fd);
                close(mfd);
                r = pathf(target, "%s/%s", to_dev, uuid);
                if (r < 0)
                        goto finish;
                if (symlinkat(target, bus_fd, uuid) < 0) {
                        r = -errno;
                        goto finish;
                }
                snprintf(target, sizeof(target), "../../../%s", uuid);
                if (symlinkat(target, types_fd[j % 2], uuid) < 0) {
                        r = -errno;
                        goto finish;
                }
        }
finish:
        if (dev_fd >= 0)
                close(dev_fd);
        if (bus_fd >= 0)
                close(bus_fd);
        for (int t = 0; t < 2; t++)
                if (types_fd[t] >= 0)
                        close(types_fd[t]);
        return r;
}

int fake_bench(struct fake_sysfs *f, unsigned parents, unsigned mdevs_per_parent,
               unsigned pfs, unsigned vfs_per_pf) {
        int r;

        if (pfs > 0 && vfs_per_pf > 0) {
                r = fake_add_vfio_variant(f, "mlx5_vfio_pci");
                if (r < 0)
                        return r;
        }

        for (unsigned i = 0; i < parents; i++) {
                unsigned dwq = (mdevs_per_parent + 1) / 2, swq = mdevs_per_parent / 2;
                struct fake_pool pool = {
                        .swq_slots = 8,
                        .mdev_dwq = dwq,
                        .mdev_swq = (swq + 7) / 8,
                        .host_netdev = 1,
                        .host_wq = 1,
                        .free = 8,
                };
                char name[32], ifname[32];

                pool.total = pool.mdev_dwq + pool.mdev_swq + pool.host_netdev + pool.host_wq + pool.free;
                snprintf(name, sizeof(name), "siov%u", i);
                snprintf(ifname, sizeof(ifname), "siovnet%u", i);
                r = fake_add_siov_parent(f, name, &pool, ifname);
                if (r < 0)
                        return r;
                r = bench_add_mdevs(f, name, i, mdevs_per_parent);
                if (r < 0)
                        return r;
        }

        for (unsigned i = 0; i < pfs; i++) {
                char pf[32], ifname[32];

                if (vfs_per_pf > 31 * 8)
                        return -ERANGE;
                snprintf(pf, sizeof(pf), "0000:%02x:00.0", (0x40 + i) & 0xff);
                r = fake_add_pf(f, pf, vfs_per_pf, "ice");
                if (r < 0)
                        return r;
                snprintf(ifname, sizeof(ifname), "benchpf%u", i);
                r = fake_add_netdev(f, pf, ifname);
                if (r < 0)
                        return r;
                for (unsigned j = 0; j < vfs_per_pf; j++) {
                        static const char * const drivers[] = { NULL, "vfio-pci", "iavf", "mlx5_vfio_pci" };
                        char vf[32], vfnet[32];

                        snprintf(vf, sizeof(vf), "0000:%02x:%02x.%u", (0x40 + i) & 0xff, 1 + j / 8, j % 8);
                        snprintf(vfnet, sizeof(vfnet), "bench%uv%u", i, j);
                        r = fake_add_vf(f, pf, j, vf, drivers[j % 4], j % 4 == 2 ? vfnet : NULL);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}
