/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The fake kernel's answers to sysfs writes (see fake-kernel.h). */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fake-kernel.h"
#include "fake-sysfs.h"

#define CONTROL_DIR "fake-kernel"

static const struct {
        const char *name;
        int e;
} errno_names[] = {
        { "EPERM", EPERM }, { "ENOENT", ENOENT }, { "EIO", EIO }, { "ENXIO", ENXIO },
        { "E2BIG", E2BIG }, { "EAGAIN", EAGAIN }, { "ENOMEM", ENOMEM }, { "EACCES", EACCES },
        { "EFAULT", EFAULT }, { "EBUSY", EBUSY }, { "EEXIST", EEXIST }, { "ENODEV", ENODEV },
        { "EINVAL", EINVAL }, { "ENOSPC", ENOSPC }, { "EROFS", EROFS }, { "ERANGE", ERANGE },
        { "ENOTSUP", ENOTSUP }, { "ETIMEDOUT", ETIMEDOUT }, { "EINTR", EINTR },
        { "EOPNOTSUPP", EOPNOTSUPP }, { "ENOTDIR", ENOTDIR }, { "EISDIR", EISDIR },
        { "EFBIG", EFBIG }, { "EDEADLK", EDEADLK }, { "ENOSYS", ENOSYS }, { "ELOOP", ELOOP },
};

int fake_kernel_errno_from_name(const char *s) {
        char buf[32];
        size_t l;

        if (!s)
                return 0;
        s += strspn(s, " \t\n");
        l = strcspn(s, " \t\n");
        if (l == 0 || l >= sizeof(buf))
                return 0;
        memcpy(buf, s, l);
        buf[l] = '\0';
        if (buf[0] >= '1' && buf[0] <= '9') {
                char *end;
                long v = strtol(buf, &end, 10);
                return *end == '\0' && v > 0 && v < 4096 ? (int) v : 0;
        }
        for (size_t i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++)
                if (strcmp(buf, errno_names[i].name) == 0)
                        return errno_names[i].e;
        return 0;
}

const char *fake_kernel_errno_name(int e) {
        static __thread char buf[16];

        for (size_t i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++)
                if (errno_names[i].e == e)
                        return errno_names[i].name;
        snprintf(buf, sizeof(buf), "E%d", e);
        return buf;
}

/* snprintf into a PATH_MAX buffer; a path that does not fit becomes ""
 * (which names no file) rather than a different, cut one. */
static void relf(char out[static PATH_MAX], const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void relf(char out[static PATH_MAX], const char *fmt, ...) {
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(out, PATH_MAX, fmt, ap);
        va_end(ap);
        if (n < 0 || n >= PATH_MAX)
                out[0] = '\0';
}

/* ---- small file helpers (root-relative paths) ------------------------- */

static int read_small(int rootfd, const char *rel, char *buf, size_t size) {
        ssize_t n;
        int fd;

        fd = openat(rootfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, size - 1);
        close(fd);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        return (int) n;
}

static int read_u32(int rootfd, const char *rel, uint32_t *ret) {
        char buf[64], *end;
        unsigned long v;
        int r;

        r = read_small(rootfd, rel, buf, sizeof(buf));
        if (r < 0)
                return r;
        errno = 0;
        v = strtoul(buf, &end, 10);
        if (errno != 0 || end == buf || (*end != '\0' && *end != '\n') || v > UINT32_MAX)
                return -EIO;
        *ret = (uint32_t) v;
        return 0;
}

static int write_u32(struct fake_sysfs *f, const char *rel, uint32_t v) {
        char buf[16];

        snprintf(buf, sizeof(buf), "%u\n", v);
        return fake_set_attr(f, rel, buf);
}

static bool exists_nofollow(int rootfd, const char *rel) {
        struct stat st;

        return fstatat(rootfd, rel, &st, AT_SYMLINK_NOFOLLOW) >= 0;
}

static bool is_dir(int rootfd, const char *rel) {
        struct stat st;

        return fstatat(rootfd, rel, &st, 0) >= 0 && S_ISDIR(st.st_mode);
}

static int count_entries(int rootfd, const char *rel) {
        struct dirent *de;
        DIR *d;
        int fd, n = 0;

        fd = openat(rootfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        n++;
        closedir(d);
        return n;
}

/* Name of the link rel's target's last component ("" when not a link). */
static void link_name(int rootfd, const char *rel, char out[static PATH_MAX]) {
        char target[PATH_MAX];
        ssize_t n;
        char *s;

        out[0] = '\0';
        n = readlinkat(rootfd, rel, target, sizeof(target) - 1);
        if (n < 0)
                return;
        target[n] = '\0';
        s = strrchr(target, '/');
        relf(out, "%s", s ? s + 1 : target);
}

static bool is_uuid(const char *s) {
        for (size_t i = 0; i < 36; i++) {
                if (i == 8 || i == 13 || i == 18 || i == 23) {
                        if (s[i] != '-')
                                return false;
                } else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
                             (s[i] >= 'A' && s[i] <= 'F')))
                        return false;
        }
        return s[36] == '\0';
}

/* The written value without one trailing newline, NUL-terminated. */
static char *value_dup(const void *buf, size_t n) {
        char *s;

        if (n > 0 && ((const char *) buf)[n - 1] == '\n')
                n--;
        s = malloc(n + 1);
        if (!s)
                return NULL;
        memcpy(s, buf, n);
        s[n] = '\0';
        return s;
}

/* ---- control files ---------------------------------------------------- */

struct op {
        int rootfd;
        struct fake_sysfs *f;
        const char *rel;        /* path written, relative to the root */
        const char *value;      /* without the trailing newline */
};

/* The errno of a pending fail-<name> ("ERRNO" or "ERRNO SKIP": let SKIP
 * such writes pass first), consumed when it fires; 0 if none. */
static int injected_failure(const struct op *o, const char *name) {
        char rel[64], buf[64], *skip;
        unsigned long n;
        int e;

        snprintf(rel, sizeof(rel), CONTROL_DIR "/fail-%s", name);
        if (read_small(o->rootfd, rel, buf, sizeof(buf)) < 0)
                return 0;
        e = fake_kernel_errno_from_name(buf);
        skip = buf + strspn(buf, " \t\n");
        skip += strcspn(skip, " \t\n");
        n = strtoul(skip, NULL, 10);
        if (n > 0) {
                char next[64];

                skip[0] = '\0';
                snprintf(next, sizeof(next), "%s %lu\n", buf + strspn(buf, " \t\n"), n - 1);
                (void) fake_set_attr(o->f, rel, next);
                return 0;
        }
        (void) unlinkat(o->rootfd, rel, 0);
        return e > 0 ? e : EIO;
}

static void log_op(const struct op *o, const char *name, int r) {
        char line[PATH_MAX + 256];
        size_t l = 0;
        int fd;

        fd = openat(o->rootfd, CONTROL_DIR "/log", O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
                return;
        l += (size_t) snprintf(line, sizeof(line), "%s %s '", name, o->rel);
        for (const char *c = o->value; *c && l < sizeof(line) - 32; c++)
                l += (size_t) snprintf(line + l, sizeof(line) - l, (unsigned char) *c < 0x20 || *c == '\'' ?
                                       "\\x%02x" : "%c", (unsigned char) *c);
        l += (size_t) snprintf(line + l, sizeof(line) - l, "' -> %s\n",
                               r < 0 ? fake_kernel_errno_name(-r) : "ok");
        fake_kernel_busy++;
        if (write(fd, line, l) < 0) {
                /* a log is best effort */
        }
        fake_kernel_busy--;
        close(fd);
}

static void delay(const struct op *o) {
        uint32_t ms;
        struct timespec ts;

        if (read_u32(o->rootfd, CONTROL_DIR "/delay-ms", &ms) < 0 || ms == 0)
                return;
        ts.tv_sec = ms / 1000;
        ts.tv_nsec = (long) (ms % 1000) * 1000000L;
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* A write the kernel holds: while CONTROL_DIR/hold-<name> exists (and,
 * when it names a device, the write is about that device), wait, outside
 * the lock, as a real remove waits for a VM to let go of the device. */
static void hold(int rootfd, const char *name, const char *device) {
        const struct timespec tick = { 0, 10 * 1000000L };
        char rel[64], buf[64];

        snprintf(rel, sizeof(rel), CONTROL_DIR "/hold-%s", name);
        while (read_small(rootfd, rel, buf, sizeof(buf)) >= 0) {
                buf[strcspn(buf, " \t\n")] = '\0';
                if (buf[0] && device && strcmp(buf, device) != 0)
                        return;
                nanosleep(&tick, NULL);
        }
}

/* A slow driver whose parents work in parallel: the create sleeps before
 * the lock (delay-ms sleeps inside it, for races). */
static void unlocked_delay(int rootfd) {
        struct timespec ts;
        uint32_t ms;

        if (read_u32(rootfd, CONTROL_DIR "/unlocked-delay-ms", &ms) < 0 || ms == 0)
                return;
        ts.tv_sec = ms / 1000;
        ts.tv_nsec = (long) (ms % 1000) * 1000000L;
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* ---- mdevs ------------------------------------------------------------ */

struct pool {
        uint32_t total, free, mdev_dwq, mdev_swq, swq_slots;
};

static bool pool_read(int rootfd, const char *dev, struct pool *p) {
        static const char * const names[] = { "total", "free", "mdev_dwq", "mdev_swq", "swq_slots" };
        uint32_t *v[] = { &p->total, &p->free, &p->mdev_dwq, &p->mdev_swq, &p->swq_slots };
        char rel[PATH_MAX];

        for (size_t i = 0; i < 5; i++) {
                relf(rel, "%s/pool/%s", dev, names[i]);
                if (read_u32(rootfd, rel, v[i]) < 0)
                        return false;
        }
        if (p->swq_slots == 0)
                p->swq_slots = 1;
        return true;
}

static int swq_used(int rootfd, const char *dev) {
        char rel[PATH_MAX];

        relf(rel, "%s/mdev_supported_types/idxd-1swq/devices", dev);
        return count_entries(rootfd, rel);
}

/* Writes the counters and both types' available_instances. */
static int pool_write(const struct op *o, const char *dev, const struct pool *p, uint32_t used) {
        static const char * const names[] = { "free", "mdev_dwq", "mdev_swq" };
        const uint32_t v[] = { p->free, p->mdev_dwq, p->mdev_swq };
        char rel[PATH_MAX];
        uint64_t swq;
        int r;

        for (size_t i = 0; i < 3; i++) {
                relf(rel, "%s/pool/%s", dev, names[i]);
                r = write_u32(o->f, rel, v[i]);
                if (r < 0)
                        return r;
        }
        relf(rel, "%s/pool/swq_slots_used", dev);
        if (exists_nofollow(o->rootfd, rel)) {
                r = write_u32(o->f, rel, used);
                if (r < 0)
                        return r;
        }
        relf(rel, "%s/mdev_supported_types/idxd-1dwq/available_instances", dev);
        if (exists_nofollow(o->rootfd, rel)) {
                r = write_u32(o->f, rel, p->free);
                if (r < 0)
                        return r;
        }
        swq = ((uint64_t) p->mdev_swq + p->free) * p->swq_slots;
        swq = swq > used ? swq - used : 0;
        relf(rel, "%s/mdev_supported_types/idxd-1swq/available_instances", dev);
        if (exists_nofollow(o->rootfd, rel)) {
                r = write_u32(o->f, rel, swq > UINT32_MAX ? UINT32_MAX : (uint32_t) swq);
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool is_pool_type(const char *type) {
        return strcmp(type, "idxd-1dwq") == 0 || strcmp(type, "idxd-1swq") == 0;
}

/* With fake-kernel/iommu-groups (holding the next group's number), a new
 * mdev gets an iommu_group link as vfio_mdev gives it one. */
static int give_iommu_group(const struct op *o, const char *dev, const char *uuid) {
        char rel[PATH_MAX], target[64];
        uint32_t n;

        if (read_u32(o->rootfd, "fake-kernel/iommu-groups", &n) < 0)
                return 0;
        snprintf(target, sizeof(target), "/sys/kernel/iommu_groups/%u", n);
        relf(rel, "%s/%s/iommu_group", dev, uuid);
        if (symlinkat(target, o->rootfd, rel) < 0)
                return -errno;
        return write_u32(o->f, "fake-kernel/iommu-groups", n + 1);
}

static int do_create(const struct op *o, const char *dev, const char *parent, const char *type) {
        char uuid[37], rel[PATH_MAX];
        struct pool p;
        uint32_t avail;
        bool pool;
        int r, used = 0;

        if (strlen(o->value) != 36 || !is_uuid(o->value))
                return -EINVAL;
        for (size_t i = 0; i < 37; i++)
                uuid[i] = (o->value[i] >= 'A' && o->value[i] <= 'F') ? (char) (o->value[i] - 'A' + 'a') : o->value[i];

        r = injected_failure(o, "create");
        if (r > 0)
                return -r;
        delay(o);

        relf(rel, "sys/bus/mdev/devices/%s", uuid);
        if (exists_nofollow(o->rootfd, rel))
                return -EEXIST;
        relf(rel, "%s/%s", dev, uuid);
        if (exists_nofollow(o->rootfd, rel))
                return -EEXIST;
        relf(rel, "%s/mdev_supported_types/%s/available_instances", dev, type);
        r = read_u32(o->rootfd, rel, &avail);
        if (r < 0)
                return -EIO;
        if (avail == 0)
                return -ENOSPC;

        pool = is_pool_type(type) && pool_read(o->rootfd, dev, &p);
        if (pool) {
                used = swq_used(o->rootfd, dev);
                if (used < 0)
                        return used;
                if (strcmp(type, "idxd-1dwq") == 0) {
                        if (p.free == 0)
                                return -ENOSPC;
                        p.free--;
                        p.mdev_dwq++;
                } else {
                        uint32_t need = ((uint32_t) used + 1 + p.swq_slots - 1) / p.swq_slots;

                        if (need > p.mdev_swq) {
                                if (p.free < need - p.mdev_swq)
                                        return -ENOSPC;
                                p.free -= need - p.mdev_swq;
                                p.mdev_swq = need;
                        }
                        used++;
                }
        }

        r = fake_add_mdev(o->f, parent, type, uuid, pool ? 0 : FAKE_MDEV_CONSUME);
        if (r < 0)
                return r;
        r = give_iommu_group(o, dev, uuid);
        if (r < 0)
                return r;
        if (pool)
                return pool_write(o, dev, &p, (uint32_t) used);
        return 0;
}

static int do_remove(const struct op *o, const char *dev, const char *uuid) {
        char rel[PATH_MAX], type[PATH_MAX], *end;
        unsigned long v;
        struct pool p;
        bool pool;
        int r, used;

        errno = 0;
        v = strtoul(o->value, &end, 0);
        if (errno != 0 || end == o->value || *end != '\0')
                return -EINVAL;
        if (v == 0)
                return 0;       /* the kernel ignores "0" */

        r = injected_failure(o, "remove");
        if (r > 0)
                return -r;

        relf(rel, "%s/%s/mdev_type", dev, uuid);
        link_name(o->rootfd, rel, type);
        pool = is_pool_type(type) && pool_read(o->rootfd, dev, &p);

        r = fake_remove_mdev(o->f, uuid, pool ? 0 : FAKE_MDEV_CONSUME);
        if (r < 0)
                return r == -ENOENT ? -ENODEV : r;
        if (!pool)
                return 0;

        used = swq_used(o->rootfd, dev);
        if (used < 0)
                return used;
        if (strcmp(type, "idxd-1dwq") == 0) {
                if (p.mdev_dwq > 0) {
                        p.mdev_dwq--;
                        p.free++;
                }
        } else {
                uint32_t need = ((uint32_t) used + p.swq_slots - 1) / p.swq_slots;

                if (need < p.mdev_swq) {
                        p.free += p.mdev_swq - need;
                        p.mdev_swq = need;
                }
        }
        return pool_write(o, dev, &p, (uint32_t) used);
}

static int do_attr(const struct op *o, const void *buf, size_t n) {
        char *data;
        int r;

        r = injected_failure(o, "attr");
        if (r > 0)
                return -r;
        if (strcmp(o->value, "fail-einval") == 0)
                return -EINVAL;
        data = malloc(n + 1);
        if (!data)
                return -ENOMEM;
        memcpy(data, buf, n);
        data[n] = '\0';
        r = fake_set_attr(o->f, o->rel, data);
        free(data);
        return r;
}

/* ---- PCI driver binding ----------------------------------------------- */

static bool pci_device_exists(int rootfd, const char *address) {
        char rel[PATH_MAX];

        if (!*address || strchr(address, '/') || strcmp(address, ".") == 0 || strcmp(address, "..") == 0)
                return false;
        relf(rel, "sys/bus/pci/devices/%s", address);
        return is_dir(rootfd, rel);
}

static void pci_driver(int rootfd, const char *address, char out[static PATH_MAX]) {
        char rel[PATH_MAX];

        relf(rel, "sys/bus/pci/devices/%s/driver", address);
        link_name(rootfd, rel, out);
}

/* "" when none */
static void pci_override(int rootfd, const char *address, char out[static PATH_MAX]) {
        char rel[PATH_MAX];
        size_t l;

        relf(rel, "sys/bus/pci/devices/%s/driver_override", address);
        if (read_small(rootfd, rel, out, PATH_MAX) < 0)
                out[0] = '\0';
        l = strlen(out);
        if (l > 0 && out[l - 1] == '\n')
                out[--l] = '\0';
        if (strcmp(out, "(null)") == 0)
                out[0] = '\0';
}

static int do_driver_override(const struct op *o) {
        char *data = NULL;
        int r;

        r = injected_failure(o, "driver_override");
        if (r > 0)
                return -r;
        if (strlen(o->value) >= 4096)
                return -EINVAL;
        if (asprintf(&data, "%s\n", *o->value ? o->value : "(null)") < 0)
                return -ENOMEM;
        r = fake_set_attr(o->f, o->rel, data);
        free(data);
        return r;
}

/* The host driver whose ID table matches a device: learnt when the device
 * is unbound from it, so that drivers_probe can give it back. */
static void match_path(const char *address, char out[static PATH_MAX]) {
        relf(out, CONTROL_DIR "/match-%s", address);
}

static int do_unbind(const struct op *o, const char *driver) {
        char cur[PATH_MAX], rel[PATH_MAX];
        int r;

        r = injected_failure(o, "unbind");
        if (r > 0)
                return -r;
        if (!pci_device_exists(o->rootfd, o->value))
                return -ENODEV;
        pci_driver(o->rootfd, o->value, cur);
        if (strcmp(cur, driver) != 0)
                return -ENODEV;
        r = fake_set_driver(o->f, o->value, NULL);
        if (r < 0)
                return r;
        /* vfio-pci matches no device ID by itself: only through an override */
        if (strcmp(driver, "vfio-pci") != 0) {
                char *data = NULL;

                match_path(o->value, rel);
                if (asprintf(&data, "%s\n", driver) < 0)
                        return -ENOMEM;
                r = fake_set_attr(o->f, rel, data);
                free(data);
        }
        return r;
}

static int do_bind(const struct op *o, const char *driver) {
        char cur[PATH_MAX], ovr[PATH_MAX];
        int r;

        r = injected_failure(o, "bind");
        if (r > 0)
                return -r;
        if (!pci_device_exists(o->rootfd, o->value))
                return -ENODEV;
        pci_override(o->rootfd, o->value, ovr);
        if (*ovr && strcmp(ovr, driver) != 0)
                return -ENODEV;
        pci_driver(o->rootfd, o->value, cur);
        if (*cur)
                return -EBUSY;
        return fake_set_driver(o->f, o->value, driver);
}

static int do_drivers_probe(const struct op *o) {
        char cur[PATH_MAX], ovr[PATH_MAX], rel[PATH_MAX];
        int r;

        r = injected_failure(o, "drivers_probe");
        if (r > 0)
                return -r;
        if (!pci_device_exists(o->rootfd, o->value))
                return -ENODEV;
        pci_driver(o->rootfd, o->value, cur);
        if (*cur)
                return 0;
        pci_override(o->rootfd, o->value, ovr);
        if (!*ovr) {
                /* no override: the host driver that matches it, if known */
                match_path(o->value, rel);
                if (read_small(o->rootfd, rel, ovr, PATH_MAX) < 0)
                        return 0;       /* none: stays unbound */
                ovr[strcspn(ovr, "\n")] = '\0';
        }
        if (!*ovr || strchr(ovr, '/'))
                return 0;
        relf(rel, "sys/bus/pci/drivers/%s", ovr);
        if (!is_dir(o->rootfd, rel))
                return 0;       /* that driver is not "loaded" */
        return fake_set_driver(o->f, o->value, ovr);
}

/* ---- SR-IOV: sriov_numvfs, sriov_drivers_autoprobe --------------------- */

/* VF i of a PF: routing ID = the PF's + offset 1 + i (stride 1), as QEMU's
 * NVMe and many NICs lay them out. */
static int vf_address(const char *pf, uint32_t i, char out[static 32]) {
        unsigned dom, bus, dev, fn;
        uint32_t rid;

        if (sscanf(pf, "%4x:%2x:%2x.%1x", &dom, &bus, &dev, &fn) != 4)
                return -EINVAL;
        rid = ((bus << 8) | (dev << 3) | fn) + 1 + i;
        if (rid > 0xffff)
                return -ERANGE;
        snprintf(out, 32, "%04x:%02x:%02x.%x", dom, rid >> 8, (rid >> 3) & 0x1f, rid & 7);
        return 0;
}

/* Removes every VF of the PF folder dev, as pci_iov_remove_virtfn() does:
 * the VF's netdevs and the device go, then the virtfn link. */
static int remove_vfs(const struct op *o, const char *dev) {
        char rel[PATH_MAX], target[PATH_MAX], vf[PATH_MAX];
        struct dirent *de;
        DIR *d;
        int fd, r = 0;

        fd = openat(o->rootfd, dev, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -ENOMEM;
        }
        while ((de = readdir(d))) {
                const char *name;
                ssize_t n;

                if (strncmp(de->d_name, "virtfn", 6) != 0)
                        continue;
                n = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
                if (n <= 0)
                        continue;
                target[n] = '\0';
                name = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;
                /* VFs are siblings of their PF */
                relf(vf, "%.*s/%s", (int) (strrchr(dev, '/') ? strrchr(dev, '/') - dev : 0), dev, name);
                /* its netdevs' class links */
                relf(rel, "%s/net", vf);
                {
                        DIR *nd;
                        int nfd = openat(o->rootfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        struct dirent *ne;

                        if (nfd >= 0 && (nd = fdopendir(nfd))) {
                                while ((ne = readdir(nd)))
                                        if (ne->d_name[0] != '.') {
                                                relf(rel, "sys/class/net/%s", ne->d_name);
                                                (void) unlinkat(o->rootfd, rel, 0);
                                        }
                                closedir(nd);
                        } else if (nfd >= 0)
                                close(nfd);
                }
                relf(rel, "sys/bus/pci/devices/%s", name);
                (void) unlinkat(o->rootfd, rel, 0);
                r = fake_remove(o->f, vf);
                if (r < 0)
                        break;
                relf(rel, "%s/%s", dev, de->d_name);
                (void) unlinkat(o->rootfd, rel, 0);
        }
        closedir(d);
        return r;
}

/* pci sriov_numvfs_store(): ERANGE over sriov_totalvfs, nothing for the
 * same count, ENOENT without a PF driver, 0 removes every VF, N > 0 only
 * from 0 (EBUSY otherwise). New VFs bind to fake-kernel/vf-driver (a
 * driver name) when sriov_drivers_autoprobe is 1 and that file exists. */
static int do_numvfs(const struct op *o, const char *dev, const char *pf) {
        char rel[PATH_MAX], drv[PATH_MAX], vfname[32];
        uint32_t n, total, cur, autoprobe = 1;
        char *end;
        unsigned long v;
        int r;

        r = injected_failure(o, "numvfs");
        if (r > 0)
                return -r;
        errno = 0;
        v = strtoul(o->value, &end, 10);
        if (errno != 0 || end == o->value || *end != '\0' || v > 0xffff)
                return -EINVAL;
        n = (uint32_t) v;
        relf(rel, "%s/sriov_totalvfs", dev);
        if (read_u32(o->rootfd, rel, &total) < 0)
                return -EIO;
        if (n > total)
                return -ERANGE;
        relf(rel, "%s/sriov_numvfs", dev);
        if (read_u32(o->rootfd, rel, &cur) < 0)
                return -EIO;
        if (n == cur)
                return 0;
        pci_driver(o->rootfd, pf, drv);
        if (!*drv)
                return -ENOENT;
        delay(o);
        if (n == 0) {
                r = remove_vfs(o, dev);
                if (r < 0)
                        return r;
                return write_u32(o->f, rel, 0);
        }
        if (cur != 0)
                return -EBUSY;
        relf(rel, "%s/sriov_drivers_autoprobe", dev);
        (void) read_u32(o->rootfd, rel, &autoprobe);
        drv[0] = '\0';
        if (autoprobe && read_small(o->rootfd, CONTROL_DIR "/vf-driver", drv, sizeof(drv)) > 0)
                drv[strcspn(drv, "\n")] = '\0';
        for (uint32_t i = 0; i < n; i++) {
                r = vf_address(pf, i, vfname);
                if (r < 0)
                        return r;
                r = fake_add_vf(o->f, pf, i, vfname, *drv ? drv : NULL, NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int do_autoprobe(const struct op *o) {
        int r;

        r = injected_failure(o, "autoprobe");
        if (r > 0)
                return -r;
        /* kstrtobool */
        if (strchr("1yY", o->value[0]))
                return fake_set_attr(o->f, o->rel, "1\n");
        if (strchr("0nN", o->value[0]) && o->value[0])
                return fake_set_attr(o->f, o->rel, "0\n");
        return -EINVAL;
}

/* ---- dispatch ---------------------------------------------------------- */

enum kind {
        K_NONE, K_CREATE, K_REMOVE, K_ATTR, K_OVERRIDE, K_UNBIND, K_BIND, K_PROBE, K_NUMVFS, K_AUTOPROBE,
};

static const char * const kind_names[] = {
        [K_CREATE] = "create", [K_REMOVE] = "remove", [K_ATTR] = "attr",
        [K_OVERRIDE] = "driver_override", [K_UNBIND] = "unbind", [K_BIND] = "bind",
        [K_PROBE] = "drivers_probe", [K_NUMVFS] = "numvfs", [K_AUTOPROBE] = "autoprobe",
};

struct target {
        enum kind kind;
        char dev[PATH_MAX];     /* device folder, root-relative */
        char a[NAME_MAX + 1];   /* parent name / driver */
        char b[NAME_MAX + 1];   /* type / uuid */
};

static int classify(int rootfd, const char *rel, struct target *t) {
        const char *c[64];
        size_t len[64], n = 0;
        char tmp[PATH_MAX];

        t->kind = K_NONE;
        if (strcmp(rel, "sys/bus/pci/drivers_probe") == 0) {
                t->kind = K_PROBE;
                return 0;
        }
        for (const char *s = rel; *s; ) {
                size_t l = strcspn(s, "/");

                if (n == 64 || l > NAME_MAX)
                        return 0;
                c[n] = s;
                len[n++] = l;
                s += l;
                s += strspn(s, "/");
        }
#define IS(i, str) (len[i] == strlen(str) && strncmp(c[i], str, len[i]) == 0)
#define COPY(dst, i) (memcpy(dst, c[i], len[i]), (dst)[len[i]] = '\0')
#define DEV(k) relf(t->dev, "%.*s", (int) (c[k] - rel + len[k]), rel)
        if (n == 6 && IS(0, "sys") && IS(1, "bus") && IS(2, "pci") && IS(3, "drivers") &&
            (IS(5, "bind") || IS(5, "unbind"))) {
                t->kind = IS(5, "bind") ? K_BIND : K_UNBIND;
                COPY(t->a, 4);
                return 0;
        }
        if (n >= 5 && IS(n - 1, "create") && IS(n - 3, "mdev_supported_types")) {
                t->kind = K_CREATE;
                DEV(n - 4);
                COPY(t->a, n - 4);
                COPY(t->b, n - 2);
                return 0;
        }
        if (n >= 4 && len[n - 2] == 36) {
                COPY(t->b, n - 2);
                if (is_uuid(t->b)) {
                        relf(tmp, "%.*s/mdev_type", (int) (c[n - 2] - rel + len[n - 2]), rel);
                        if (exists_nofollow(rootfd, tmp)) {
                                t->kind = IS(n - 1, "remove") ? K_REMOVE : K_ATTR;
                                DEV(n - 3);
                                COPY(t->a, n - 3);
                                return 0;
                        }
                }
        }
        if (n >= 4 && (IS(n - 1, "sriov_numvfs") || IS(n - 1, "sriov_drivers_autoprobe"))) {
                COPY(t->a, n - 2);
                if (pci_device_exists(rootfd, t->a)) {
                        t->kind = IS(n - 1, "sriov_numvfs") ? K_NUMVFS : K_AUTOPROBE;
                        DEV(n - 2);
                        return 0;
                }
        }
        if (n >= 4 && IS(n - 1, "driver_override")) {
                COPY(t->a, n - 2);
                if (pci_device_exists(rootfd, t->a)) {
                        t->kind = K_OVERRIDE;
                        DEV(n - 2);
                }
        }
#undef IS
#undef COPY
#undef DEV
        return 0;
}

int fake_kernel_write(const char *root, const char *path, const void *buf, size_t n) {
        struct target t = {};
        struct op o = {};
        size_t rl = strlen(root);
        char *value = NULL;
        int rootfd = -1, lockfd = -1, r;

        /* an empty write never reaches a store method */
        if (n == 0 || strncmp(path, root, rl) != 0 || path[rl] != '/')
                return 0;

        fake_kernel_busy++;
        rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0) {
                r = 0;
                goto finish;
        }
        o.rootfd = rootfd;
        o.rel = path + rl + 1;
        classify(rootfd, o.rel, &t);
        if (t.kind == K_NONE) {
                r = 0;
                goto finish;
        }

        if (t.kind == K_CREATE) {
                char *v = value_dup(buf, n);

                hold(rootfd, "create", v);
                free(v);
                unlocked_delay(rootfd);
        } else if (t.kind == K_REMOVE)
                hold(rootfd, "remove", t.b);
        else if (t.kind == K_NUMVFS)
                hold(rootfd, "numvfs", t.a);

        /* One operation at a time across every process sharing the tree,
         * as the kernel's own locks would have it. */
        if (mkdirat(rootfd, CONTROL_DIR, 0755) < 0 && errno != EEXIST) {
                r = -errno;
                goto finish;
        }
        lockfd = openat(rootfd, CONTROL_DIR "/lock", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (lockfd < 0) {
                r = -errno;
                goto finish;
        }
        while (flock(lockfd, LOCK_EX) < 0)
                if (errno != EINTR) {
                        r = -errno;
                        goto finish;
                }

        value = value_dup(buf, n);
        if (!value) {
                r = -ENOMEM;
                goto finish;
        }
        o.value = value;
        r = fake_sysfs_new(&o.f, root);
        if (r < 0)
                goto finish;

        switch (t.kind) {
        case K_CREATE:
                r = do_create(&o, t.dev, t.a, t.b);
                break;
        case K_REMOVE:
                r = do_remove(&o, t.dev, t.b);
                break;
        case K_ATTR:
                r = do_attr(&o, buf, n);
                break;
        case K_OVERRIDE:
                r = do_driver_override(&o);
                break;
        case K_UNBIND:
                r = do_unbind(&o, t.a);
                break;
        case K_BIND:
                r = do_bind(&o, t.a);
                break;
        case K_PROBE:
                r = do_drivers_probe(&o);
                break;
        case K_NUMVFS:
                r = do_numvfs(&o, t.dev, t.a);
                break;
        case K_AUTOPROBE:
                r = do_autoprobe(&o);
                break;
        default:
                r = 0;
        }
        log_op(&o, kind_names[t.kind], r);
        if (r >= 0) {
                uint32_t k;

                /* an injected short write: the store took fewer bytes */
                r = (int) (n > INT32_MAX ? INT32_MAX : n);
                if (read_u32(rootfd, CONTROL_DIR "/short-write", &k) >= 0) {
                        (void) unlinkat(rootfd, CONTROL_DIR "/short-write", 0);
                        if (k >= 1 && k < n)
                                r = (int) k;
                }
        }

finish:
        fake_sysfs_free(o.f);
        free(value);
        if (lockfd >= 0)
                close(lockfd);          /* releases the flock */
        if (rootfd >= 0)
                close(rootfd);
        fake_kernel_busy--;
        return r;
}
