/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Every name siovd, siovctl and libsiov agree on: bus names, object paths,
 * interfaces, error names, polkit actions and sysfs attribute names. One
 * header so that a rename is one edit (bolt's bolt-names.h pattern).
 */

/* D-Bus */
#define SIOV_DBUS_NAME                  "org.siov1"
#define SIOV_DBUS_PATH                  "/org/siov1"
#define SIOV_DBUS_PARENT_PREFIX         "/org/siov1/parent"
#define SIOV_DBUS_DEVICE_PREFIX         "/org/siov1/device"
#define SIOV_DBUS_TYPE_INFIX            "type"

#define SIOV_DBUS_MANAGER_INTERFACE     "org.siov1.Manager"
#define SIOV_DBUS_PARENT_INTERFACE      "org.siov1.Parent"
#define SIOV_DBUS_TYPE_INTERFACE        "org.siov1.Type"
#define SIOV_DBUS_DEVICE_INTERFACE      "org.siov1.Device"

/* Named errors (the errno map lives in daemon/siov-errors.c) */
#define SIOV_ERROR_NO_SUCH_PARENT       "org.siov1.Error.NoSuchParent"
#define SIOV_ERROR_NO_SUCH_TYPE         "org.siov1.Error.NoSuchType"
#define SIOV_ERROR_NO_SUCH_DEVICE       "org.siov1.Error.NoSuchDevice"
#define SIOV_ERROR_NO_CAPACITY          "org.siov1.Error.NoCapacity"
#define SIOV_ERROR_ALREADY_EXISTS       "org.siov1.Error.AlreadyExists"
#define SIOV_ERROR_BUSY                 "org.siov1.Error.Busy"
#define SIOV_ERROR_INVALID_ARGUMENT     "org.siov1.Error.InvalidArgument"
#define SIOV_ERROR_KERNEL_ERROR         "org.siov1.Error.KernelError"
#define SIOV_ERROR_NOT_AUTHORIZED       "org.siov1.Error.NotAuthorized"
#define SIOV_ERROR_LIMITS_EXCEEDED      "org.siov1.Error.LimitsExceeded"
/* The definitions folder cannot be written (degraded mode, a full disk…);
 * a partial operation says what was done before it. */
#define SIOV_ERROR_DEFINITIONS_UNAVAILABLE "org.siov1.Error.DefinitionsUnavailable"
/* libvirt failed in a way that is none of the above. */
#define SIOV_ERROR_LIBVIRT_ERROR        "org.siov1.Error.LibvirtError"

/* polkit actions */
#define SIOV_POLKIT_MANAGE              "org.siov1.manage"
#define SIOV_POLKIT_DEFINE              "org.siov1.define"
#define SIOV_POLKIT_ASSIGN              "org.siov1.assign"

/* Environment */
#define SIOV_ENV_SYSFS_ROOT             "SIOV_SYSFS_ROOT"

/* Kernel interfaces, relative to the sysfs root prefix */
#define SIOV_SYSFS_MDEV_BUS_CLASS       "sys/class/mdev_bus"
#define SIOV_SYSFS_MDEV_DEVICES         "sys/bus/mdev/devices"
#define SIOV_SYSFS_PCI_DEVICES          "sys/bus/pci/devices"
#define SIOV_SYSFS_DSA_DEVICES          "sys/bus/dsa/devices"
#define SIOV_SYSFS_PCI_DRIVERS_PROBE    "sys/bus/pci/drivers_probe"

#define SIOV_ATTR_MDEV_SUPPORTED_TYPES  "mdev_supported_types"
#define SIOV_ATTR_AVAILABLE_INSTANCES   "available_instances"
#define SIOV_ATTR_DEVICE_API            "device_api"
#define SIOV_ATTR_NAME                  "name"
#define SIOV_ATTR_DESCRIPTION           "description"
/* Optional, read-only: what a saved device state needs from the destination
 * type ("driver=siov_mdev type=idxd-1swq state=1 swq_slots=4"), as in the
 * vfio-mdev migration proposals; and whether an mdev offers VFIO migration. */
#define SIOV_ATTR_MIGRATION_VERSION     "migration_version"
#define SIOV_ATTR_MIGRATABLE            "migratable"
#define SIOV_ATTR_CREATE                "create"
#define SIOV_ATTR_REMOVE                "remove"
#define SIOV_ATTR_MDEV_TYPE             "mdev_type"
#define SIOV_ATTR_SRIOV_TOTALVFS        "sriov_totalvfs"
#define SIOV_ATTR_SRIOV_NUMVFS          "sriov_numvfs"
#define SIOV_ATTR_SRIOV_AUTOPROBE       "sriov_drivers_autoprobe"
#define SIOV_ATTR_VIRTFN_PREFIX         "virtfn"
#define SIOV_ATTR_PHYSFN                "physfn"
#define SIOV_ATTR_DRIVER                "driver"
#define SIOV_ATTR_DRIVER_OVERRIDE       "driver_override"
#define SIOV_ATTR_NET                   "net"
/* NVIDIA SR-IOV vGPU: <VF>/nvidia/{current_vgpu_type,creatable_vgpu_types} */
#define SIOV_ATTR_NVIDIA_DIR            "nvidia"
#define SIOV_ATTR_NVIDIA_CURRENT_VGPU   "current_vgpu_type"
#define SIOV_ATTR_NVIDIA_CREATABLE_VGPUS "creatable_vgpu_types"

/*
 * The bundled kernel driver (kernel-module/siov_mdev.c). Parents are class
 * devices of class "idxd" (so mdev type folders read "idxd-1dwq"), each with
 * a pool of work queues shared by mdevs and host use.
 */
#define SIOV_KMOD_NAME                  "siov_mdev"
#define SIOV_KMOD_CLASS                 "idxd"
#define SIOV_KMOD_TYPE_DWQ              "idxd-1dwq"
#define SIOV_KMOD_TYPE_SWQ              "idxd-1swq"
#define SIOV_KMOD_POOL_DIR              "pool"          /* read-only counters */
#define SIOV_KMOD_POOL_TOTAL            "total"
#define SIOV_KMOD_POOL_FREE             "free"
#define SIOV_KMOD_POOL_MDEV_DWQ         "mdev_dwq"      /* WQs held whole by mdevs */
#define SIOV_KMOD_POOL_MDEV_SWQ         "mdev_swq"      /* WQs shared by mdevs */
#define SIOV_KMOD_POOL_HOST_NETDEV      "host_netdev"   /* WQs held by host netdevs */
#define SIOV_KMOD_POOL_HOST_WQ          "host_wq"       /* WQs held by host kernel users */
#define SIOV_KMOD_POOL_SWQ_SLOTS        "swq_slots"     /* slots per shared WQ */
#define SIOV_KMOD_HOST_NETDEVS          "host_netdevs"  /* rw: number of host netdevs */
#define SIOV_KMOD_HOST_WQS              "host_wqs"      /* rw: number of host kernel WQs */
#define SIOV_KMOD_CTL_ADD               "sys/class/idxd/add_parent"    /* write: WQ count */
#define SIOV_KMOD_CTL_REMOVE            "sys/class/idxd/remove_parent" /* write: parent name */
#define SIOV_KMOD_UEVENT_KEY            "SIOV_POOL_FREE"  /* KOBJ_CHANGE key, value: free WQs */

/* Synthetic type published for every SR-IOV physical function */
#define SIOV_VF_TYPE_ID                 "vf"
