/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "valid.h"

/* Assigning devices to libvirt domains ("VMs") through the libvirt C API.
 *
 * A device is a <hostdev> in the domain's persistent definition:
 *   mdev: <hostdev mode='subsystem' type='mdev' model='vfio-pci'>
 *           <source><address uuid='…'/></source></hostdev>
 *   VF:   <hostdev mode='subsystem' type='pci' managed='no'>
 *           <source><address domain='0x0000' bus='0x3b' slot='0x02' function='0x1'/></source></hostdev>
 * (managed='no': siovd binds the VF to vfio-pci itself.)
 *
 * uri: NULL or "" → $SIOV_LIBVIRT_URI if set, else "qemu:///system".
 *
 * Not thread-safe (one connection cache, libvirt's thread-local last error
 * read right after each call): call from one thread at a time (siovd: its
 * libvirt lane, vm-job.h). The first
 * call sets SIGPIPE to ignored if it was at its default (see vm.c).
 *
 * Connections are opened on first use and CACHED per URI for the life of the
 * process (re-opened when libvirt reports the connection dead). Besides
 * saving a round trip, this is what makes libvirt's test driver usable: its
 * state lives in the connection and is re-read from the file at every open.
 * vm_close() drops them all (at exit, and in tests).
 *
 * libvirt (libvirt.so.0) and libxml2 are loaded with dlopen() at the first
 * call that needs libvirt: a siovd that never assigns a device does not map
 * them and their dependencies. When they cannot be loaded every such call
 * fails with -EOPNOTSUPP and a message saying what to install.
 *
 * Every call blocks until libvirt answers: siovd makes them off its event
 * loop (vm-job.h). While a VM's libvirt hook runs,
 * libvirt holds that VM locked: vm_exists/vm_is_running/vm_attach/vm_detach
 * on that VM and vm_find_users/vm_find_running_users (they list all VMs)
 * wait until the hook has finished (measured with libvirt 9.0; other VMs
 * answer at once). So what siovd's libvirt hook calls (Device.Start at
 * prepare, Device.Stop at release) must not call these, or the hook waits
 * for siovd waiting for libvirt waiting for the hook, until the hook's
 * timeout.
 *
 * Errors: negative errno, and *error_msg (if error_msg is not NULL) gets a
 * malloc'ed message naming the VM and quoting libvirt's own text:
 *   -EINVAL     bad VM name, mdev UUID or PCI address (nothing sent to libvirt),
 *               or a transient VM (no persistent definition to edit)
 *   -ESRCH      no such VM
 *   -EEXIST     vm_attach: the hostdev is already in the definition
 *   -ENOENT     vm_detach: the hostdev is not in the definition
 *   -EBUSY      the VM is running and the driver cannot hot-(un)plug the
 *               device (the definition is left unchanged)
 *   -ENOTCONN   cannot connect to libvirt at that URI
 *   -EACCES     libvirt denied the operation
 *   -EIO        any other libvirt failure
 *   -EOPNOTSUPP libvirt.so.0 or libxml2.so.2 cannot be loaded
 *   -ENOMEM
 * On success *error_msg is set to NULL (or, for vm_exists() == 0 only, to the
 * reason). */

typedef struct VmHostdev {
        bool is_vf;
        const char *uuid;               /* mdev: required; VF: only used in messages (may be NULL) */
        const char *pci_address;        /* VF: required, "dddd:bb:ss.f"; mdev: ignored */
        bool config_only;               /* attach/detach: the persistent definition only, even
                                         * if the VM runs (e.g. the device is not active) */
} VmHostdev;

/* 1 yes, 0 no (error_msg says "no VM 'x' (libvirt: …)"), <0 error. */
int vm_exists(const char *uri, const char *vm, char **error_msg);
/* 1 running (or paused: anything but shut off), 0 not, <0 error (-ESRCH: no such VM). */
int vm_is_running(const char *uri, const char *vm, char **error_msg);
/* Adds the hostdev to the persistent definition, and to the live domain if it
 * runs (unless config_only), atomically: if the hot-plug fails the definition
 * is left unchanged.
 * Drivers without attach support (the test driver) get the definition
 * rewritten with virDomainDefineXML() instead; a running VM on such a driver
 * is refused with -EBUSY. */
int vm_attach(const char *uri, const char *vm, const VmHostdev *h, char **error_msg);
/* Removes the hostdev from the persistent definition, and from the live
 * domain if it runs and has it there (unless config_only). With the live
 * domain, libvirt asks the guest to release the device and waits up to a few
 * seconds; the guest may still hold it when this returns. */
int vm_detach(const char *uri, const char *vm, const VmHostdev *h, char **error_msg);
/* The names of the VMs whose persistent definitions contain this device,
 * sorted, as a NULL-terminated strv (empty when none; free with strv_free). */
int vm_find_users(const char *uri, const VmHostdev *h, char ***ret, char **error_msg);

/* The names of the running (or paused) VMs whose LIVE definitions contain
 * this device (also catches transient VMs and live-only hot-plugs), sorted. */
int vm_find_running_users(const char *uri, const VmHostdev *h, char ***ret, char **error_msg);

/* Every function above checks vm_name_is_valid() (valid.h) first: -EINVAL
 * with VM_NAME_INVALID_MESSAGE. */

/* The cached connection to uri (NULL: $SIOV_LIBVIRT_URI, else
 * qemu:///system), opened on first use and re-opened when it died. The
 * tests read domain XML through it: the test driver's state lives in the
 * connection. */
struct _virConnect;
int vm_connect(const char *uri, struct _virConnect **ret, char **error_msg);

/* Closes every cached connection. */
void vm_close(void);
