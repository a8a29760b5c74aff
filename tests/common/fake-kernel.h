/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The fake kernel: what the kernel does when user space writes to sysfs,
 * acted out on a fake tree (fake-sysfs.h), so that siovd's create, remove,
 * attribute and VF-binding paths can be tested without a kernel, with the
 * kernel's answers (EEXIST, ENOSPC, EINVAL, injected errors) under the
 * test's control. Three ways in:
 *
 *   - tests/common/fake-kernel.so, an LD_PRELOAD object wrapping write(),
 *     pwrite() and pwrite64() of whole processes (see fake-kernel.c):
 *         LD_PRELOAD=$BUILD/tests/common/.libs/fake-kernel.so \
 *         SIOV_FAKE_KERNEL_ROOT=$ROOT siovd --sysfs-root=$ROOT
 *   - `fake-sysfs-tool ROOT kernel-write PATH VALUE`: one write through the
 *     same logic from a shell ("another tool" writing create directly);
 *   - fake_kernel_write() below, from C (unit tests link fake-kernel.c's
 *     wrappers into the test binary instead, see tests/unit/local.mk).
 *
 * Files it acts on (paths as resolved, i.e. the device folders):
 *   <parent>/mdev_supported_types/<type>/create   value: a UUID (newline optional)
 *       EINVAL not a UUID; EEXIST an mdev with that UUID exists; ENOSPC
 *       available_instances is 0 (or, for a bundled-driver parent with
 *       pool/, the pool has no room); else the mdev is made exactly as
 *       fake_add_mdev() makes it and the counters are updated.
 *   <parent>/<uuid>/remove                        value: a number ("1")
 *       EINVAL not a number; 0 does nothing; else the mdev goes away
 *       (fake_remove_mdev()) and the counters go back.
 *   <parent>/<uuid>/<attr> (any other regular file of an mdev)
 *       stored as written, except the value "fail-einval" → EINVAL.
 *   <pci device>/driver_override                  stored; "" or "\n" clears it ("(null)")
 *   sys/bus/pci/drivers/<drv>/unbind              ENODEV unless bound to <drv>
 *   sys/bus/pci/drivers/<drv>/bind                ENODEV no device or other override, EBUSY bound
 *   sys/bus/pci/drivers_probe                     ENODEV no device; binds an unbound
 *       device to its driver_override when sys/bus/pci/drivers/<override>
 *       exists (the "module" is loaded); without an override, to the host
 *       driver it was last unbound from (that driver's ID table matches
 *       it; remembered in fake-kernel/match-<address>); else it stays unbound.
 *   <pf>/sriov_numvfs                             value: a number
 *       EINVAL not a number; ERANGE over sriov_totalvfs; the same count does
 *       nothing; ENOENT when no driver is bound to the PF; 0 removes every VF
 *       (its netdevs, its folder, the virtfn link); N > 0 from 0 adds VFs
 *       0..N-1 at the PF's routing ID + 1 + i (0000:01:00.0 → 0000:01:00.1,
 *       .2, ...), bound to the driver named in fake-kernel/vf-driver when
 *       sriov_drivers_autoprobe is 1 and that file exists; N > 0 from M > 0
 *       is EBUSY, as the kernel says.
 *   <pf>/sriov_drivers_autoprobe                  kstrtobool: 1/y/Y, 0/n/N, else EINVAL
 * Any other file is written as a normal file. Only the write is faked, not
 * the open: a shell's ">" (O_TRUNC) empties a fake tree's file before the
 * kernel sees the write, where real sysfs ignores O_TRUNC; shell tests use
 * ">>". libsiov opens O_WRONLY without O_TRUNC.
 *
 * Pool accounting for bundled-driver parents (pool/ folder, types
 * idxd-1dwq/idxd-1swq), as kernel-module/siov_mdev.c counts:
 *   idxd-1dwq takes one free WQ (free-1, mdev_dwq+1);
 *   idxd-1swq slots used = number of idxd-1swq mdevs; shared WQs in use
 *   (mdev_swq) = ceil(slots used / swq_slots), each new one taken from free;
 *   afterwards available_instances: idxd-1dwq = free,
 *   idxd-1swq = (mdev_swq + free) * swq_slots - slots used.
 * Other parents: available_instances of the type - 1 on create, + 1 on remove.
 *
 * Control files under <root>/fake-kernel/ (the folder is made on first use):
 *   lock              flock()ed around every operation: processes and
 *                     threads sharing a tree never see half an operation
 *   fail-<op>         op = create, remove, attr, driver_override, unbind,
 *                     bind, drivers_probe, numvfs, autoprobe: the next such write fails with
 *                     the errno named in the file ("EIO", "ENOSPC", or a
 *                     number); "EIO 2" lets two such writes pass first (to
 *                     fail a rollback); the file is removed when it fires
 *   delay-ms          each create (and numvfs change) sleeps this long
 *                     inside the lock (races)
 *   unlocked-delay-ms each create sleeps this long before taking the lock:
 *                     a slow driver whose parents work in parallel
 *   hold-create, hold-remove, hold-numvfs
 *                     while the file exists, such writes wait (outside the
 *                     lock) as a remove waits for a VM that holds the
 *                     device; a UUID (a PF address for numvfs) in the file
 *                     holds only that device's writes
 *   iommu-groups      a number N: each new mdev gets an iommu_group link
 *                     to group N (N is then raised by one), as vfio_mdev
 *                     gives each mdev a group of its own
 *   short-write       the next write the kernel takes reports only this
 *                     many bytes written (the file is removed when used)
 *   log               one line appended per operation:
 *                     "<op> <path relative to root> <value> -> ok|<ERRNO>"
 */

#include <stddef.h>

/* Set while the fake kernel (or the fake-sysfs builder) writes files
 * itself, so that the LD_PRELOAD wrappers pass those writes through. */
extern __thread int fake_kernel_busy;

/* Acts out the write of buf[0..n) to path (absolute, canonical, as
 * /proc/self/fd shows it) below root (canonical, no trailing slash).
 * Returns the number of bytes the kernel took (n, unless short-write is
 * injected), 0 when path is no file the fake kernel knows or n is 0 (write
 * it as a plain file), or the negative errno the kernel would fail the
 * write with. */
int fake_kernel_write(const char *root, const char *path, const void *buf, size_t n);

/* "EIO", "ENOSPC", ... or a decimal number → positive errno; 0 if unknown. */
int fake_kernel_errno_from_name(const char *s);
const char *fake_kernel_errno_name(int e);
