/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SR-IOV beyond the snapshot: what the host does with a VF right now (a
 * netdev that is up, a mounted block device), asked before siovd changes
 * sriov_numvfs, and the NVIDIA vGPU type list of a VF.
 */

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "siov-names.h"
#include "siov-private.h"

#define MOUNTINFO_MAX (4u * 1024u * 1024u)

void siov_vgpu_types_free(struct siov_vgpu_type *t, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(t[i].name);
        free(t);
}

/*
 * The format NVIDIA's vGPU manager prints (NVIDIA Virtual GPU Software User
 * Guide, "Creating an NVIDIA vGPU that Supports SR-IOV on a Linux with KVM
 * Hypervisor", docs.nvidia.com/vgpu/latest/grid-vgpu-user-guide):
 *
 *   # cat /sys/bus/pci/devices/0000:41:00.4/nvidia/creatable_vgpu_types
 *   ID    : vGPU Name
 *   557   : NVIDIA A40-1B
 *   558   : NVIDIA A40-2B
 *
 * and current_vgpu_type holds one id ("557"), or 0 when no vGPU is set.
 */
int siov_vgpu_types_parse(const char *text, struct siov_vgpu_type **ret, size_t *ret_n) {
        struct siov_vgpu_type *t = NULL;
        size_t n = 0;

        *ret = NULL;
        *ret_n = 0;
        for (const char *line = text; line && *line;) {
                const char *end = strchrnul(line, '\n'), *colon, *name;
                char idbuf[16];
                size_t idlen, namelen;
                uint32_t id;

                colon = memchr(line, ':', (size_t) (end - line));
                if (colon) {
                        idlen = (size_t) (colon - line);
                        while (idlen > 0 && (line[idlen - 1] == ' ' || line[idlen - 1] == '\t'))
                                idlen--;
                        name = colon + 1;
                        while (name < end && (*name == ' ' || *name == '\t'))
                                name++;
                        namelen = (size_t) (end - name);
                        while (namelen > 0 && (name[namelen - 1] == ' ' || name[namelen - 1] == '\r'))
                                namelen--;
                        /* The header ("ID : vGPU Name") and junk are no number. */
                        if (idlen > 0 && idlen < sizeof(idbuf)) {
                                memcpy(idbuf, line, idlen);
                                idbuf[idlen] = '\0';
                                if (siov_parse_u32(idbuf, &id) >= 0 && id > 0 && namelen > 0) {
                                        struct siov_vgpu_type *m = realloc(t, (n + 1) * sizeof(*t));

                                        if (!m) {
                                                siov_vgpu_types_free(t, n);
                                                return -ENOMEM;
                                        }
                                        t = m;
                                        t[n].id = id;
                                        t[n].name = strndup(name, namelen);
                                        if (!t[n].name) {
                                                siov_vgpu_types_free(t, n);
                                                return -ENOMEM;
                                        }
                                        siov_utf8_sanitize(t[n].name);
                                        n++;
                                }
                        }
                }
                line = *end ? end + 1 : end;
        }
        *ret = t;
        *ret_n = n;
        return 0;
}

/* Mount points of the block device major:minor, from mountinfo (field 3
 * is major:minor, field 5 the mount point). */
static int find_mounts(const char *mountinfo, const char *devnum, const char *blk, char **reasons) {
        for (const char *line = mountinfo; line && *line;) {
                const char *end = strchrnul(line, '\n'), *f = line;
                char field[PATH_MAX];
                int k;

                for (k = 1; k <= 5 && f < end; k++) {
                        const char *sp = memchr(f, ' ', (size_t) (end - f));
                        size_t len = (size_t) ((sp ? sp : end) - f);

                        if (len >= sizeof(field))
                                break;
                        memcpy(field, f, len);
                        field[len] = '\0';
                        if (k == 3 && !streq(field, devnum))
                                break;
                        if (k == 5) {
                                int r = siov_reason_add(reasons, "block device %s is mounted on %s", blk, field);
                                if (r < 0)
                                        return r;
                        }
                        f = sp ? sp + 1 : end;
                }
                line = *end ? end + 1 : end;
        }
        return 0;
}

/* Block devices whose device folder lies below the VF's (nvme/nvme1/nvme1n1,
 * and partitions below those): mounted or held by another block device. */
static int block_use(struct siov_ctx *ctx, const char *vf_canon, char **reasons) {
        _cleanup_free_ char *mountinfo = NULL, *mi_path = NULL, **names = NULL;
        _cleanup_close_ int cfd = -1;
        size_t plen = strlen(vf_canon);
        int r;

        cfd = siov_open_in_root(ctx, ctx->root_fd, "", "sys/class/block", O_RDONLY | O_DIRECTORY, NULL);
        if (cfd == -ENOMEM)
                return cfd;
        if (cfd < 0)
                return 0;
        r = siov_list_names_at(cfd, NULL, NULL, &names);
        if (r < 0)
                return r;

        /* Under a test root the mount table is the tree's, not ours. */
        mi_path = siov_ctx_path(ctx, "proc/self/mountinfo");
        if (!mi_path)
                return -ENOMEM;
        r = siov_read_file_at(AT_FDCWD, mi_path, MOUNTINFO_MAX, &mountinfo, NULL);
        if (r == -ENOMEM)
                return r;

        for (char **b = names; b && *b; b++) {
                _cleanup_free_ char **holders = NULL, *dev = NULL;
                _cleanup_close_ int bfd = -1;
                char target[PATH_MAX], resolved[PATH_MAX];

                if (siov_readlinkat(cfd, *b, target) < 0)
                        continue;
                if (siov_path_resolve_lexical(ctx, "/sys/class/block", target, resolved) < 0)
                        continue;
                if (strncmp(resolved, vf_canon, plen) != 0 || resolved[plen] != '/')
                        continue;
                bfd = siov_open_in_root(ctx, ctx->root_fd, "", resolved + 1, O_RDONLY | O_DIRECTORY, NULL);
                if (bfd == -ENOMEM)
                        return bfd;
                if (bfd < 0)
                        continue;
                r = siov_list_names_at(bfd, "holders", NULL, &holders);
                if (r < 0)
                        return r;
                for (char **h = holders; h && *h; h++) {
                        r = siov_reason_add(reasons, "block device %s is held by %s", *b, *h);
                        if (r < 0)
                                return r;
                }
                r = siov_read_attr_at(bfd, "dev", &dev);
                if (r == -ENOMEM)
                        return r;
                if (r >= 0 && mountinfo) {
                        r = find_mounts(mountinfo, dev, *b, reasons);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

_public_ int siov_vf_get_host_use(struct siov_ctx *ctx, const char *vf_address, char **ret_reason) {
        _cleanup_free_ char *canon = NULL, **netdevs = NULL, *reasons = NULL;
        _cleanup_close_ int fd = -1, nfd = -1;
        char rel[128], driver[PATH_MAX];
        int r;

        if (!ctx || !ret_reason)
                return -EINVAL;
        *ret_reason = NULL;
        if (!siov_pci_address_is_valid(vf_address))
                return -EINVAL;
        snprintf(rel, sizeof(rel), "%s/%s", SIOV_SYSFS_PCI_DEVICES, vf_address);
        fd = siov_open_in_root(ctx, ctx->root_fd, "", rel, O_RDONLY | O_DIRECTORY, &canon);
        if (fd == -ENOMEM)
                return fd;
        if (fd < 0)
                return 0;       /* gone: nothing uses it */

        /* Unbound or VFIO's: no host use (a VFIO user is asked elsewhere). */
        if (siov_read_link_name_buf(ctx, fd, siov_path_depth(canon), SIOV_ATTR_DRIVER, driver) == 0 ||
            siov_ctx_is_vfio_driver(ctx, driver))
                return 0;

        r = siov_list_names_at(fd, SIOV_ATTR_NET, NULL, &netdevs);
        if (r < 0)
                return r;
        if (netdevs) {
                nfd = openat(fd, SIOV_ATTR_NET, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                for (char **n = netdevs; nfd >= 0 && *n; n++) {
                        _cleanup_close_ int ifd = -1;
                        _cleanup_free_ char *flags = NULL;
                        unsigned long f;
                        char *end;

                        ifd = openat(nfd, *n, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        if (ifd < 0 || siov_read_attr_at(ifd, "flags", &flags) < 0)
                                continue;
                        errno = 0;
                        f = strtoul(flags, &end, 16);
                        if (errno != 0 || end == flags || !(f & IFF_UP))
                                continue;
                        r = siov_reason_add(&reasons, "netdev %s is up", *n);
                        if (r < 0)
                                return r;
                }
        }
        r = block_use(ctx, canon, &reasons);
        if (r < 0)
                return r;
        if (!reasons)
                return 0;
        *ret_reason = TAKE_PTR(reasons);
        return 1;
}

_public_ int siov_pf_get_netdev(struct siov_ctx *ctx, const char *pf, char **ret) {
        _cleanup_free_ char **names = NULL;
        _cleanup_close_ int fd = -1;
        char rel[128];
        int r;

        if (!ctx || !ret || !siov_pci_address_is_valid(pf))
                return -EINVAL;
        *ret = NULL;
        snprintf(rel, sizeof(rel), "%s/%s", SIOV_SYSFS_PCI_DEVICES, pf);
        fd = siov_open_in_root(ctx, ctx->root_fd, "", rel, O_RDONLY | O_DIRECTORY, NULL);
        if (fd < 0)
                return fd == -ENOMEM ? fd : -ENODEV;
        r = siov_list_names_at(fd, SIOV_ATTR_NET, NULL, &names);
        if (r < 0)
                return r;
        /* One netdev per PF (a multi-port NIC has one PF per port); the
         * first by name when a driver makes more. */
        if (!names || !names[0])
                return -ENOENT;
        *ret = strdup(names[0]);
        return *ret ? 0 : -ENOMEM;
}
