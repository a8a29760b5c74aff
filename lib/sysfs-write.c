/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Changing sysfs: mdev create/remove, mdev attributes, VF binding. Every
 * folder is reached through a descriptor checked to lie inside the root,
 * every file is opened O_NOFOLLOW below it, and each value goes out in one
 * write() (sysfs hands the store method one buffer per write). Failures
 * name the host path, the value and the errno text, never a bare errno.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "siov-names.h"
#include "siov-private.h"

#define VFIO_PCI_DRIVER "vfio-pci"

/* Writes value to dirfd/name in one write(). shown is the host path of the
 * folder ("/sys/..."), for messages only. */
static int write_value_at(int dirfd, const char *shown, const char *name, const char *value,
                          char **error_msg) {
        _cleanup_free_ char *e = NULL;
        _cleanup_close_ int fd = -1;
        size_t len = strlen(value);
        struct stat st;
        ssize_t k;

        e = siov_escape_value(value);
        if (!e)
                return -ENOMEM;

        /* O_NONBLOCK: a planted FIFO must not hang the caller (sysfs
         * attributes ignore the flag). */
        fd = openat(dirfd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                int r = -errno;

                if (r == -ELOOP)
                        return siov_error(error_msg, r, "refusing to write '%s' to %s/%s: it is a symbolic link",
                                          e, shown, name);
                return siov_error(error_msg, r, "cannot open %s/%s to write '%s': %s",
                                  shown, name, e, strerror(-r));
        }
        if (fstat(fd, &st) < 0)
                return siov_error(error_msg, -errno, "cannot open %s/%s to write '%s': %s",
                                  shown, name, e, strerror(errno));
        if (!S_ISREG(st.st_mode))
                return siov_error(error_msg, -EINVAL, "refusing to write '%s' to %s/%s: not a regular file",
                                  e, shown, name);

        do
                k = write(fd, value, len);
        while (k < 0 && errno == EINTR);
        if (k < 0)
                return siov_error(error_msg, -errno, "writing '%s' to %s/%s failed: %s",
                                  e, shown, name, strerror(errno));
        if ((size_t) k != len)
                return siov_error(error_msg, -EIO, "writing '%s' to %s/%s failed: short write (%zd of %zu bytes)",
                                  e, shown, name, k, len);
        return 0;
}

/* Opens the device folder reached through the link dir/name (a class or
 * bus folder, root-relative without leading '/'): it must resolve inside
 * the root to a device folder of the same name. -ENODEV otherwise, with a
 * message naming what was looked for ("mdev parent", ...). */
static int open_device_link(const struct siov_ctx *ctx, const char *what, const char *dir, const char *name,
                            char **ret_canon, char **error_msg) {
        _cleanup_free_ char *path = NULL, *canon = NULL;
        const char *last;
        int fd;

        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        fd = siov_open_in_root(ctx, ctx->root_fd, "", path, O_RDONLY | O_DIRECTORY, &canon);
        if (fd == -ENOMEM)
                return fd;
        if (fd == -ENOENT)
                return siov_error(error_msg, -ENODEV, "no %s %s (/%s)", what, name, path);
        if (fd == -EXDEV)
                return siov_error(error_msg, -ENODEV, "%s %s: /%s leads outside the sysfs root", what, name, path);
        if (fd < 0)
                return siov_error(error_msg, -ENODEV, "%s %s: /%s: %s", what, name, path, strerror(-fd));
        last = strrchr(canon, '/');
        if (!siov_is_device_path(canon) || !last || !streq(last + 1, name)) {
                close(fd);
                return siov_error(error_msg, -ENODEV, "%s %s: /%s does not lead to a device folder named %s",
                                  what, name, path, name);
        }
        if (ret_canon)
                *ret_canon = TAKE_PTR(canon);
        return fd;
}

/* uuid normalized into id; a refused one is named in the message. */
static int uuid_arg(const char *uuid, char id[static SIOV_UUID_STRING_MAX], char **error_msg) {
        _cleanup_free_ char *e = NULL;

        if (siov_uuid_normalize(uuid, id) >= 0)
                return 0;
        e = siov_escape_value(strempty(uuid));
        return siov_error(error_msg, -EINVAL, "invalid UUID '%s'", strempty(e));
}

/* An mdev folder: /sys/bus/mdev/devices/<uuid> with an mdev_type link. */
static int open_mdev(const struct siov_ctx *ctx, const char *id, char **error_msg) {
        _cleanup_close_ int fd = -1;
        char target[PATH_MAX];
        int r;

        fd = open_device_link(ctx, "active mdev", SIOV_SYSFS_MDEV_DEVICES, id, NULL, error_msg);
        if (fd < 0)
                return fd;
        r = siov_readlinkat(fd, SIOV_ATTR_MDEV_TYPE, target);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return siov_error(error_msg, -ENODEV, "/%s/%s is not an mdev: no %s link",
                                  SIOV_SYSFS_MDEV_DEVICES, id, SIOV_ATTR_MDEV_TYPE);
        return TAKE_FD(fd);
}

_public_ int siov_mdev_create(struct siov_ctx *ctx, const char *parent, const char *type,
                              const char *uuid, char **error_msg) {
        _cleanup_close_ int pfd = -1, tsfd = -1, tfd = -1;
        _cleanup_free_ char *shown = NULL, *ep = NULL, *et = NULL;
        char id[SIOV_UUID_STRING_MAX];
        int r;

        if (error_msg)
                *error_msg = NULL;
        if (!ctx)
                return -EINVAL;
        if (!siov_name_is_valid(parent)) {
                ep = siov_escape_value(strempty(parent));
                return siov_error(error_msg, -EINVAL, "invalid parent name '%s'", strempty(ep));
        }
        if (!siov_name_is_valid(type)) {
                et = siov_escape_value(strempty(type));
                return siov_error(error_msg, -EINVAL, "invalid mdev type name '%s'", strempty(et));
        }
        r = uuid_arg(uuid, id, error_msg);
        if (r < 0)
                return r;

        pfd = open_device_link(ctx, "mdev parent", SIOV_SYSFS_MDEV_BUS_CLASS, parent, NULL, error_msg);
        if (pfd < 0)
                return pfd;
        tsfd = openat(pfd, SIOV_ATTR_MDEV_SUPPORTED_TYPES, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (tsfd < 0)
                return errno == ENOMEM ? -ENOMEM :
                        siov_error(error_msg, -ENODEV, "/%s/%s has no usable %s folder: %s",
                                   SIOV_SYSFS_MDEV_BUS_CLASS, parent, SIOV_ATTR_MDEV_SUPPORTED_TYPES,
                                   strerror(errno));
        tfd = openat(tsfd, type, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (tfd < 0)
                return errno == ENOMEM ? -ENOMEM :
                        siov_error(error_msg, -ENOENT, "parent %s has no mdev type %s (/%s/%s/%s/%s: %s)",
                                   parent, type, SIOV_SYSFS_MDEV_BUS_CLASS, parent,
                                   SIOV_ATTR_MDEV_SUPPORTED_TYPES, type, strerror(errno));

        if (asprintf(&shown, "/%s/%s/%s/%s", SIOV_SYSFS_MDEV_BUS_CLASS, parent,
                     SIOV_ATTR_MDEV_SUPPORTED_TYPES, type) < 0)
                return -ENOMEM;
        return write_value_at(tfd, shown, SIOV_ATTR_CREATE, id, error_msg);
}

_public_ int siov_mdev_remove(struct siov_ctx *ctx, const char *uuid, char **error_msg) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *shown = NULL;
        char id[SIOV_UUID_STRING_MAX];
        int r;

        if (error_msg)
                *error_msg = NULL;
        if (!ctx)
                return -EINVAL;
        r = uuid_arg(uuid, id, error_msg);
        if (r < 0)
                return r;
        fd = open_mdev(ctx, id, error_msg);
        if (fd < 0)
                return fd;
        if (asprintf(&shown, "/%s/%s", SIOV_SYSFS_MDEV_DEVICES, id) < 0)
                return -ENOMEM;
        return write_value_at(fd, shown, SIOV_ATTR_REMOVE, "1", error_msg);
}

_public_ int siov_mdev_write_attr(struct siov_ctx *ctx, const char *uuid, const char *name,
                                  const char *value, char **error_msg) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *shown = NULL, *e = NULL;
        char id[SIOV_UUID_STRING_MAX];
        struct stat st;
        int r;

        if (error_msg)
                *error_msg = NULL;
        if (!ctx || !value)
                return -EINVAL;
        r = uuid_arg(uuid, id, error_msg);
        if (r < 0)
                return r;
        if (!siov_mdev_attr_name_is_writable(name)) {
                e = siov_escape_value(strempty(name));
                return siov_error(error_msg, -EINVAL, "'%s' is not an mdev attribute that may be written",
                                  strempty(e));
        }
        if (strlen(value) > SIOV_ATTR_VALUE_MAX)
                return siov_error(error_msg, -EINVAL, "value for attribute %s is longer than %d bytes",
                                  name, SIOV_ATTR_VALUE_MAX);
        fd = open_mdev(ctx, id, error_msg);
        if (fd < 0)
                return fd;
        if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT)
                        return siov_error(error_msg, -ENOENT, "mdev %s has no attribute %s (/%s/%s/%s)",
                                          id, name, SIOV_SYSFS_MDEV_DEVICES, id, name);
                return siov_error(error_msg, -errno, "/%s/%s/%s: %s", SIOV_SYSFS_MDEV_DEVICES, id, name,
                                  strerror(errno));
        }
        if (!S_ISREG(st.st_mode))
                return siov_error(error_msg, -EINVAL, "/%s/%s/%s is not an attribute file",
                                  SIOV_SYSFS_MDEV_DEVICES, id, name);
        if (asprintf(&shown, "/%s/%s", SIOV_SYSFS_MDEV_DEVICES, id) < 0)
                return -ENOMEM;
        return write_value_at(fd, shown, name, value, error_msg);
}

/* ---- VFs ------------------------------------------------------------- */

struct vf {
        int fd;                         /* the VF's folder */
        char *canon;                    /* "/sys/devices/..." */
        char shown[128];                /* "/sys/bus/pci/devices/<addr>" */
        const char *address;
};

static void vf_done(struct vf *v) {
        v->fd = safe_close(v->fd);
        v->canon = mfree(v->canon);
}

/* The start of each public VF call: error_msg cleared, ctx checked, the
 * VF's folder opened into v. */
static int vf_open(const struct siov_ctx *ctx, const char *address, struct vf *v, char **error_msg) {
        _cleanup_free_ char *e = NULL;
        char target[PATH_MAX];
        int r;

        if (error_msg)
                *error_msg = NULL;
        if (!ctx)
                return -EINVAL;
        *v = (struct vf) { .fd = -1, .address = address };
        if (!siov_pci_address_is_valid(address)) {
                e = siov_escape_value(strempty(address));
                return siov_error(error_msg, -EINVAL, "invalid PCI address '%s'", strempty(e));
        }
        snprintf(v->shown, sizeof(v->shown), "/%s/%s", SIOV_SYSFS_PCI_DEVICES, address);
        v->fd = open_device_link(ctx, "PCI device", SIOV_SYSFS_PCI_DEVICES, address, &v->canon, error_msg);
        if (v->fd < 0) {
                r = v->fd;
                v->fd = -1;
                return r;
        }
        /* Only VFs: handing a PF to vfio-pci would take the host's own
         * device (and every VF with it) away. */
        r = siov_readlinkat(v->fd, SIOV_ATTR_PHYSFN, target);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                vf_done(v);
                return siov_error(error_msg, -ENODEV, "%s is not an SR-IOV virtual function (no %s link)",
                                  address, SIOV_ATTR_PHYSFN);
        }
        return 0;
}

/* Name of the driver the device is bound to ("" when none). */
static void vf_driver(const struct siov_ctx *ctx, const struct vf *v, char buf[static PATH_MAX]) {
        siov_read_link_name_buf(ctx, v->fd, siov_path_depth(v->canon), SIOV_ATTR_DRIVER, buf);
}

/* driver_override as the kernel prints it; "" for none ("(null)"). */
static int vf_override(const struct vf *v, char **ret) {
        int r;

        r = siov_read_attr_at(v->fd, SIOV_ATTR_DRIVER_OVERRIDE, ret);
        if (r < 0)
                return r;
        if (streq(*ret, "(null)"))
                (*ret)[0] = '\0';
        return 0;
}

/* Writes address to /sys/bus/pci/drivers/<driver>/unbind, reached through
 * the device's own driver link. */
static int vf_unbind(const struct siov_ctx *ctx, const struct vf *v, const char *driver, char **error_msg) {
        _cleanup_free_ char *canon = NULL, *shown = NULL;
        _cleanup_close_ int dfd = -1;

        dfd = siov_open_in_root(ctx, v->fd, v->canon, SIOV_ATTR_DRIVER, O_RDONLY | O_DIRECTORY, &canon);
        if (dfd == -ENOMEM)
                return dfd;
        if (dfd < 0)
                return siov_error(error_msg, dfd, "%s/%s: %s", v->shown, SIOV_ATTR_DRIVER,
                                  dfd == -EXDEV ? "leads outside the sysfs root" : strerror(-dfd));
        if (asprintf(&shown, "/sys/bus/pci/drivers/%s", driver) < 0)
                return -ENOMEM;
        if (!streq(canon, shown))
                return siov_error(error_msg, -EXDEV, "%s/%s leads to %s, not to a PCI driver",
                                  v->shown, SIOV_ATTR_DRIVER, canon);
        return write_value_at(dfd, shown, "unbind", v->address, error_msg);
}

static int pci_drivers_probe(const struct siov_ctx *ctx, const char *address, char **error_msg) {
        _cleanup_free_ char *canon = NULL;
        _cleanup_close_ int fd = -1;

        fd = siov_open_in_root(ctx, ctx->root_fd, "", "sys/bus/pci", O_RDONLY | O_DIRECTORY, &canon);
        if (fd == -ENOMEM)
                return fd;
        if (fd < 0 || !streq(canon, "/sys/bus/pci"))
                return siov_error(error_msg, fd < 0 ? fd : -EXDEV, "/sys/bus/pci: %s",
                                  fd < 0 ? strerror(-fd) : "not the PCI bus folder");
        return write_value_at(fd, "/sys/bus/pci", "drivers_probe", address, error_msg);
}

/* Puts back what bind changed, best effort; the caller reports its own
 * error, with what this says appended. */
static void vf_rollback(const struct siov_ctx *ctx, const struct vf *v, const char *old_override,
                        char **error_msg) {
        _cleanup_free_ char *msg = NULL;
        char driver[PATH_MAX];
        int r;

        r = write_value_at(v->fd, v->shown, SIOV_ATTR_DRIVER_OVERRIDE,
                           isempty(old_override) ? "\n" : old_override, &msg);
        if (r >= 0) {
                vf_driver(ctx, v, driver);
                if (driver[0] == 0)
                        r = pci_drivers_probe(ctx, v->address, &msg);
        }
        if (error_msg && *error_msg) {
                char *s = NULL;

                if ((r >= 0 ? asprintf(&s, "%s (rolled back)", *error_msg) :
                     asprintf(&s, "%s (rollback failed: %s)", *error_msg, msg ?: strerror(-r))) >= 0) {
                        free(*error_msg);
                        *error_msg = s;
                }
        }
}

_public_ int siov_vf_bind_vfio(struct siov_ctx *ctx, const char *vf_address, char **error_msg) {
        _cleanup_(vf_done) struct vf v = { .fd = -1 };
        _cleanup_free_ char *old_override = NULL;
        char driver[PATH_MAX];
        int r;

        r = vf_open(ctx, vf_address, &v, error_msg);
        if (r < 0)
                return r;

        vf_driver(ctx, &v, driver);
        if (streq(driver, VFIO_PCI_DRIVER) || (driver[0] != 0 && siov_ctx_is_vfio_driver(ctx, driver)))
                return 0;       /* already VFIO's: nothing to change */

        r = vf_override(&v, &old_override);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return siov_error(error_msg, r, "%s/%s: %s", v.shown, SIOV_ATTR_DRIVER_OVERRIDE, strerror(-r));

        r = write_value_at(v.fd, v.shown, SIOV_ATTR_DRIVER_OVERRIDE, VFIO_PCI_DRIVER, error_msg);
        if (r < 0)
                return r;
        if (driver[0] != 0) {
                r = vf_unbind(ctx, &v, driver, error_msg);
                if (r < 0)
                        goto fail;
        }
        r = pci_drivers_probe(ctx, vf_address, error_msg);
        if (r < 0)
                goto fail;

        /* drivers_probe succeeds even when no driver took the device. */
        vf_driver(ctx, &v, driver);
        if (driver[0] == 0) {
                r = siov_error(error_msg, -EIO,
                               "VF %s is bound to no driver after writing '%s' to /sys/bus/pci/drivers_probe "
                               "with %s/%s = %s (is the vfio-pci module loaded?)",
                               vf_address, vf_address, v.shown, SIOV_ATTR_DRIVER_OVERRIDE, VFIO_PCI_DRIVER);
                goto fail;
        }
        if (!streq(driver, VFIO_PCI_DRIVER)) {
                r = siov_error(error_msg, -EIO,
                               "VF %s is bound to %s instead of %s after writing '%s' to /sys/bus/pci/drivers_probe",
                               vf_address, driver, VFIO_PCI_DRIVER, vf_address);
                goto fail;
        }
        return 0;

fail:
        vf_rollback(ctx, &v, old_override, error_msg);
        return r;
}

_public_ int siov_vf_release(struct siov_ctx *ctx, const char *vf_address, char **error_msg) {
        _cleanup_(vf_done) struct vf v = { .fd = -1 };
        char driver[PATH_MAX];
        int r;

        r = vf_open(ctx, vf_address, &v, error_msg);
        if (r < 0)
                return r;

        /* "\n" clears the override (the kernel strips the newline and
         * takes an empty name as none). */
        r = write_value_at(v.fd, v.shown, SIOV_ATTR_DRIVER_OVERRIDE, "\n", error_msg);
        if (r < 0)
                return r;
        vf_driver(ctx, &v, driver);
        if (driver[0] != 0 && siov_ctx_is_vfio_driver(ctx, driver)) {
                r = vf_unbind(ctx, &v, driver, error_msg);
                if (r < 0)
                        return r;
        } else if (driver[0] != 0)
                return 0;       /* a host driver has it already */
        return pci_drivers_probe(ctx, vf_address, error_msg);
}

/* ---- SR-IOV physical functions --------------------------------------- */

/* The PF's folder, checked to be one (sriov_totalvfs is a regular file). */
static int pf_open(const struct siov_ctx *ctx, const char *pf, char shown[static 128], char **error_msg) {
        _cleanup_free_ char *e = NULL;
        _cleanup_close_ int fd = -1;
        struct stat st;

        if (error_msg)
                *error_msg = NULL;
        if (!ctx)
                return -EINVAL;
        if (!siov_pci_address_is_valid(pf)) {
                e = siov_escape_value(strempty(pf));
                return siov_error(error_msg, -EINVAL, "invalid PCI address '%s'", strempty(e));
        }
        snprintf(shown, 128, "/%s/%s", SIOV_SYSFS_PCI_DEVICES, pf);
        fd = open_device_link(ctx, "PCI device", SIOV_SYSFS_PCI_DEVICES, pf, NULL, error_msg);
        if (fd < 0)
                return fd;
        if (fstatat(fd, SIOV_ATTR_SRIOV_TOTALVFS, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                return siov_error(error_msg, -ENODEV, "%s is not an SR-IOV physical function (no %s/%s)",
                                  pf, shown, SIOV_ATTR_SRIOV_TOTALVFS);
        return TAKE_FD(fd);
}

_public_ int siov_pf_set_numvfs(struct siov_ctx *ctx, const char *pf, uint32_t n, char **error_msg) {
        _cleanup_close_ int fd = -1;
        char shown[128], value[16];

        fd = pf_open(ctx, pf, shown, error_msg);
        if (fd < 0)
                return fd;
        snprintf(value, sizeof(value), "%" PRIu32, n);
        return write_value_at(fd, shown, SIOV_ATTR_SRIOV_NUMVFS, value, error_msg);
}

_public_ int siov_pf_set_autoprobe(struct siov_ctx *ctx, const char *pf, bool on, char **error_msg) {
        _cleanup_close_ int fd = -1;
        char shown[128];

        fd = pf_open(ctx, pf, shown, error_msg);
        if (fd < 0)
                return fd;
        return write_value_at(fd, shown, SIOV_ATTR_SRIOV_AUTOPROBE, on ? "1" : "0", error_msg);
}
