/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Fake sysfs trees for tests and the benchmark, laid out like the real
 * kernel's (so code tested on them works on a host):
 *
 *   <root>/sys/devices/pci0000:00/<bdf>/            PCI devices (PFs, VFs, PCI mdev parents)
 *   <root>/sys/devices/virtual/<class>/<name>/      class devices (bundled driver: class "idxd")
 *   <root>/sys/bus/pci/devices/<bdf>             -> ../../../devices/pci0000:00/<bdf>
 *   <root>/sys/class/mdev_bus/<parent>           -> the parent's device folder
 *   <parent>/mdev_supported_types/<type>/{available_instances,device_api,name?,description?,create,devices/}
 *   <parent>/<uuid>/{mdev_type -> ../mdev_supported_types/<type>, remove, driver, subsystem}
 *   <root>/sys/bus/mdev/devices/<uuid>           -> <parent>/<uuid>
 *   <type>/devices/<uuid>                        -> ../../../<uuid>
 *   PF: sriov_totalvfs, sriov_numvfs, sriov_drivers_autoprobe, driver_override, virtfnN -> ../<vf>
 *   VF: physfn -> ../<pf>, driver -> ../../../bus/pci/drivers/<drv>, net/<ifname>/
 *   bundled driver parent: pool/{total,free,...}, host_netdevs, host_wqs
 *   <root>/lib/modules/<uname -r>/modules.alias  ("alias vfio_pci:... <module>" lines)
 *
 * Every link is relative, as the kernel writes them. Only plain POSIX file
 * operations: works as any user and inside a mount namespace. All functions
 * return 0 or a negative errno. Device names are looked up through
 * sys/class/mdev_bus, sys/bus/pci/devices and sys/class/idxd.
 */

#include <stdbool.h>
#include <stdint.h>

struct fake_sysfs;

/* root NULL: a new folder under $TMPDIR (or /tmp), removed again by
 * fake_sysfs_free(). Else that folder, created if missing, kept. */
int fake_sysfs_new(struct fake_sysfs **ret, const char *root);
/* Frees; removes the tree if fake_sysfs_new() made it. NULL is fine. */
void fake_sysfs_free(struct fake_sysfs *f);
const char *fake_sysfs_root(const struct fake_sysfs *f);
/* rm -rf, never crossing symlinks. */
int fake_rm_rf(const char *path);

/* A new (or existing) device becomes an mdev parent. class NULL: a PCI
 * device named by its address; else a class device under
 * sys/devices/virtual/<class>/. driver may be NULL. */
int fake_add_mdev_parent(struct fake_sysfs *f, const char *name, const char *class, const char *driver);
/* device_api, name, description: NULL leaves the attribute out. Values get
 * the trailing newline sysfs adds. */
int fake_add_type(struct fake_sysfs *f, const char *parent, const char *type, uint32_t available,
                  const char *device_api, const char *name, const char *description);

#define FAKE_MDEV_CONSUME (1u << 0)     /* also lower/raise available_instances by one */
int fake_add_mdev(struct fake_sysfs *f, const char *parent, const char *type, const char *uuid, unsigned flags);
int fake_remove_mdev(struct fake_sysfs *f, const char *uuid, unsigned flags);

/* Writes value verbatim to <root>/<relpath> (created if missing; follows
 * links like a shell redirection would). */
int fake_set_attr(struct fake_sysfs *f, const char *relpath, const char *value);
/* <parent>/mdev_supported_types/<type>/<attr> = value verbatim. */
int fake_set_type_attr(struct fake_sysfs *f, const char *parent, const char *type,
                       const char *attr, const char *value);
/* rm -rf <root>/<relpath> */
int fake_remove(struct fake_sysfs *f, const char *relpath);
/* A raw symlink <root>/<relpath> -> target, target written as given (for
 * planting hostile links). */
int fake_symlink(struct fake_sysfs *f, const char *relpath, const char *target);
int fake_mkdir(struct fake_sysfs *f, const char *relpath);

/* SR-IOV PF with sriov_totalvfs = total_vfs, sriov_numvfs = 0. */
int fake_add_pf(struct fake_sysfs *f, const char *bdf, uint32_t total_vfs, const char *driver);
/* VF virtfn<index> of pf at vf_bdf; driver and netdev may be NULL. Sets the
 * PF's sriov_numvfs to its number of virtfn links. */
int fake_add_vf(struct fake_sysfs *f, const char *pf, uint32_t index, const char *vf_bdf,
                const char *driver, const char *netdev);
/* Binds (driver) or unbinds (NULL) a PCI device. */
int fake_set_driver(struct fake_sysfs *f, const char *device, const char *driver);
/* <device>/net/<ifname>/ and sys/class/net/<ifname> */
int fake_add_netdev(struct fake_sysfs *f, const char *device, const char *ifname);

/* The bundled driver's parent: class "idxd" device with pool/ counters,
 * host_netdevs/host_wqs, types idxd-1dwq (available = free) and idxd-1swq
 * (available = free * swq_slots). netdev may be NULL. */
struct fake_pool {
        uint32_t total, free, mdev_dwq, mdev_swq, host_netdev, host_wq, swq_slots;
};
int fake_add_siov_parent(struct fake_sysfs *f, const char *name, const struct fake_pool *pool, const char *netdev);

/* Appends "alias vfio_pci:... <module>" to modules.alias of the running
 * kernel (uname -r) under the root. */
int fake_add_vfio_variant(struct fake_sysfs *f, const char *module);

/* Benchmark tree: `parents` bundled-driver parents siov0.. with
 * mdevs_per_parent mdevs each (alternating idxd-1dwq/idxd-1swq), `pfs` PFs
 * 0000:<40+i>:00.0 with vfs_per_pf VFs each cycling through unbound,
 * vfio-pci, a host driver with a netdev and a VFIO variant driver. UUIDs
 * are deterministic. */
int fake_bench(struct fake_sysfs *f, unsigned parents, unsigned mdevs_per_parent,
               unsigned pfs, unsigned vfs_per_pf);
/* The deterministic UUID fake_bench() gives mdev j of parent i. */
void fake_bench_uuid(unsigned parent, unsigned index, char ret[static 37]);
