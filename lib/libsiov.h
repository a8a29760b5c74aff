/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * libsiov: the model of SIOV (mdev) and SR-IOV parents on one host, read
 * from sysfs under a root prefix. No D-Bus here. Objects are reference
 * counted snapshots: a scan returns a new model, nothing is updated in place,
 * so a caller can diff two snapshots. All functions return a negative errno
 * on failure.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct siov_ctx;
struct siov_model;
struct siov_parent;
struct siov_type;
struct siov_vf;
struct siov_mdev;
struct siov_idxd;
struct siov_wq;

/* ---- context ---------------------------------------------------------- */

/* sysfs_root: prefix under which "sys/..." is read. NULL: $SIOV_SYSFS_ROOT,
 * else "/". The prefix must be an existing directory. */
int siov_ctx_new(struct siov_ctx **ret, const char *sysfs_root);
struct siov_ctx *siov_ctx_ref(struct siov_ctx *ctx);
struct siov_ctx *siov_ctx_unref(struct siov_ctx *ctx);
/* The root prefix, normalized, without trailing slash ("" for "/"). */
const char *siov_ctx_get_root(const struct siov_ctx *ctx);
/* Builds "<root>/<relative>" into a new string; relative must not contain
 * ".." components. Returns NULL on allocation failure or bad input. */
char *siov_ctx_path(const struct siov_ctx *ctx, const char *relative);
/* Reloads the list of VFIO variant drivers from modules.alias (lines
 * starting "alias vfio_pci:") of the running kernel under the root. */
int siov_ctx_load_vfio_variants(struct siov_ctx *ctx);
bool siov_ctx_is_vfio_driver(const struct siov_ctx *ctx, const char *driver);
/* idxd (DSA/IAA) devices are read through one libaccel-config context per
 * siov_ctx, made on first use. libaccel-config reads a device's groups,
 * engines and WQ configuration once per context and offers no refresh, so
 * after a change on the dsa bus (a uevent) call this: the next read opens a
 * new context. libaccel-config reads /sys itself, without the root prefix:
 * idxd devices are only seen when /sys/bus/dsa/devices is the one under the
 * root (the real root, or a tree bound over /sys). */
void siov_ctx_refresh_idxd(struct siov_ctx *ctx);
/* Why the idxd devices are not read now, or NULL: libaccel-config is not
 * used on a tree it would crash on (a WQ without mode, type or name, a
 * device without op_cap or errors), e.g. "wq0.1: no 'mode'". Set by the
 * read that would have made a new context. */
const char *siov_ctx_get_idxd_problem(const struct siov_ctx *ctx);

/* ---- full scan -------------------------------------------------------- */

/* Reads every mdev parent, SR-IOV PF and active mdev. Errors in one parent
 * or type never fail the scan: they are recorded on that object. */
int siov_scan(struct siov_ctx *ctx, struct siov_model **ret);
/* Like siov_scan(), without reading the mdevs (the model has none): which
 * mdevs a parent has is in its types' siov_type_get_devices(). */
int siov_scan_parents(struct siov_ctx *ctx, struct siov_model **ret);
struct siov_model *siov_model_ref(struct siov_model *m);
struct siov_model *siov_model_unref(struct siov_model *m);
/* Parents sorted by name; mdevs sorted by UUID. */
size_t siov_model_get_n_parents(const struct siov_model *m);
struct siov_parent *siov_model_get_parent(const struct siov_model *m, size_t i);
struct siov_parent *siov_model_find_parent(const struct siov_model *m, const char *name);
size_t siov_model_get_n_mdevs(const struct siov_model *m);
struct siov_mdev *siov_model_get_mdev(const struct siov_model *m, size_t i);
struct siov_mdev *siov_model_find_mdev(const struct siov_model *m, const char *uuid);

/* ---- parents ---------------------------------------------------------- */

#define SIOV_KIND_MDEV   (1u << 0)
#define SIOV_KIND_SRIOV  (1u << 1)
#define SIOV_KIND_IDXD   (1u << 2)     /* an Intel DSA/IAA device (libaccel-config) */

enum siov_host_usage {
        SIOV_HOST_NETDEV,     /* netdevs the host runs on this parent's pool or its VFs */
        SIOV_HOST_WQ_KERNEL,  /* work queues used by host kernel clients */
        SIOV_HOST_WQ_USER,    /* work queues used by host user space */
        SIOV_HOST_VF_HOST,    /* VFs bound to host (non-VFIO) drivers */
        _SIOV_HOST_USAGE_MAX,
};
const char *siov_host_usage_to_string(enum siov_host_usage u); /* "netdev", "wq-kernel", "wq-user", "vf-host" */

/* Reads one parent by sysfs name (e.g. "0000:6a:01.0", "siov0"). -ENODEV if
 * it is neither an mdev parent nor an SR-IOV PF any more. */
int siov_parent_read(struct siov_ctx *ctx, const char *name, struct siov_parent **ret);
/* Same, from a device path relative to the sysfs mount ("/devices/..."),
 * as reported in a uevent's DEVPATH. */
int siov_parent_read_devpath(struct siov_ctx *ctx, const char *devpath, struct siov_parent **ret);
/* Like siov_parent_read(), without listing each type's devices/ folder
 * (siov_type_get_devices() is empty): for a caller that tracks the mdevs
 * by their own uevents. */
int siov_parent_read_without_devices(struct siov_ctx *ctx, const char *name, struct siov_parent **ret);
/* Frees the types' devices/ listings of a snapshot once they were used
 * (siov_type_get_devices() is empty afterwards). */
void siov_parent_forget_devices(struct siov_parent *p);
/* Reads one type's available_instances again (what a create or remove
 * changes): -ENODEV when the type is gone, -ENOENT/-EINVAL/-ERANGE when
 * the file is missing or malformed. */
int siov_type_read_available(struct siov_ctx *ctx, const char *parent, const char *type, uint32_t *ret);
struct siov_parent *siov_parent_ref(struct siov_parent *p);
struct siov_parent *siov_parent_unref(struct siov_parent *p);

const char *siov_parent_get_name(const struct siov_parent *p);
unsigned siov_parent_get_kinds(const struct siov_parent *p);      /* SIOV_KIND_* */
const char *siov_parent_get_driver(const struct siov_parent *p);  /* "" when unbound */
const char *siov_parent_get_subsystem(const struct siov_parent *p); /* "pci", "idxd", ... or "" */
/* Canonical path relative to the root prefix: "/sys/devices/..." */
const char *siov_parent_get_syspath(const struct siov_parent *p);
/* "/devices/..." (what udev calls DEVPATH) */
const char *siov_parent_get_devpath(const struct siov_parent *p);

size_t siov_parent_get_n_types(const struct siov_parent *p);      /* mdev types, sorted by id */
struct siov_type *siov_parent_get_type(const struct siov_parent *p, size_t i);
struct siov_type *siov_parent_find_type(const struct siov_parent *p, const char *id);

/* Work-queue pool reported by the bundled driver (SIOV_KMOD_POOL_DIR) or,
 * for an idxd device, counted from its WQs: total = its WQs, host_wq = the
 * enabled kernel and user WQs, mdev_dwq/mdev_swq = enabled mdev-type WQs,
 * free = the rest (what remains for mdevs). False when the parent has none. */
struct siov_pool {
        uint32_t total, free, mdev_dwq, mdev_swq, host_netdev, host_wq, swq_slots;
};
bool siov_parent_get_pool(const struct siov_parent *p, struct siov_pool *ret);
uint32_t siov_parent_get_host_usage(const struct siov_parent *p, enum siov_host_usage u);
/* Host netdev names on this parent (its net/ folder and that of its VFs),
 * NULL-terminated, sorted. */
char * const *siov_parent_get_netdevs(const struct siov_parent *p);

uint32_t siov_parent_get_total_vfs(const struct siov_parent *p);
uint32_t siov_parent_get_num_vfs(const struct siov_parent *p);
size_t siov_parent_get_n_vfs(const struct siov_parent *p);        /* sorted by index */
struct siov_vf *siov_parent_get_vf(const struct siov_parent *p, size_t i);
/* sriov_drivers_autoprobe: 1 (new VFs go to host drivers), 0 (they stay
 * unbound), -1 when not an SR-IOV PF or unreadable. */
int siov_parent_get_autoprobe(const struct siov_parent *p);
/* The parent device's NUMA node (its numa_node), -1 when none or unknown. */
int siov_parent_get_numa_node(const struct siov_parent *p);
/* Reason an SR-IOV attribute could not be read, or NULL. */
const char *siov_parent_get_broken(const struct siov_parent *p);

/* ---- idxd (DSA/IAA) devices and their work queues --------------------- */

/* The idxd device of this parent ("dsa0" itself, or the one on this PCI
 * function when a vendor mdev driver made the function an mdev parent),
 * NULL when none. Read only: siovd changes no WQ configuration. */
const struct siov_idxd *siov_parent_get_idxd(const struct siov_parent *p);
const char *siov_idxd_get_name(const struct siov_idxd *d);        /* "dsa0", "iax1" */
const char *siov_idxd_get_model(const struct siov_idxd *d);       /* "dsa", "iax" */
const char *siov_idxd_get_state(const struct siov_idxd *d);       /* "enabled", "disabled", "unknown" */
size_t siov_idxd_get_n_wqs(const struct siov_idxd *d);             /* sorted by id */
const struct siov_wq *siov_idxd_get_wq(const struct siov_idxd *d, size_t i);
size_t siov_idxd_get_n_groups(const struct siov_idxd *d);          /* sorted by id */
const char *siov_idxd_get_group_name(const struct siov_idxd *d, size_t i);  /* "group0.1" */
int siov_idxd_get_group_id(const struct siov_idxd *d, size_t i);
size_t siov_idxd_get_n_engines(const struct siov_idxd *d);
const char *siov_idxd_get_engine_name(const struct siov_idxd *d, size_t i); /* "engine0.1" */
int siov_idxd_get_engine_group(const struct siov_idxd *d, size_t i);        /* -1: none */

enum siov_wq_mode {
        SIOV_WQ_MODE_UNKNOWN,
        SIOV_WQ_MODE_DEDICATED,
        SIOV_WQ_MODE_SHARED,
};
enum siov_wq_type {
        SIOV_WQ_TYPE_NONE,            /* not configured */
        SIOV_WQ_TYPE_KERNEL,          /* host kernel clients: dmaengine, crypto */
        SIOV_WQ_TYPE_USER,            /* host user space through /dev/dsa/wqX.Y */
        SIOV_WQ_TYPE_MDEV,            /* a vendor mdev driver's ("mdev", "vdev") */
};
enum siov_wq_state {
        SIOV_WQ_STATE_UNKNOWN,
        SIOV_WQ_STATE_DISABLED,
        SIOV_WQ_STATE_ENABLED,
        SIOV_WQ_STATE_QUIESCING,
        SIOV_WQ_STATE_LOCKED,
};
const char *siov_wq_mode_to_string(enum siov_wq_mode m);   /* "unknown", "dedicated", "shared" */
const char *siov_wq_type_to_string(enum siov_wq_type t);   /* "none", "kernel", "user", "mdev" */
const char *siov_wq_state_to_string(enum siov_wq_state s); /* "unknown", "disabled", "enabled", "quiescing", "locked" */

const char *siov_wq_get_name(const struct siov_wq *wq);           /* "wq0.3" */
enum siov_wq_mode siov_wq_get_mode(const struct siov_wq *wq);
enum siov_wq_type siov_wq_get_type(const struct siov_wq *wq);
enum siov_wq_state siov_wq_get_state(const struct siov_wq *wq);
/* The dsa bus driver it is bound to ("dmaengine", "user", "crypto"), ""
 * when none. */
const char *siov_wq_get_driver(const struct siov_wq *wq);
const char *siov_wq_get_label(const struct siov_wq *wq);          /* its "name" attribute, "" when none */
uint32_t siov_wq_get_size(const struct siov_wq *wq);
int siov_wq_get_group(const struct siov_wq *wq);                  /* -1: none */
int siov_wq_get_clients(const struct siov_wq *wq);                /* open clients, -1: unknown */
/* Enabled, of kernel or user type: the host uses it, no mdev can. */
bool siov_wq_is_host_used(const struct siov_wq *wq);

/* ---- types ------------------------------------------------------------ */

const char *siov_type_get_id(const struct siov_type *t);          /* folder name, "idxd-1dwq" */
const char *siov_type_get_name(const struct siov_type *t);        /* "" when absent */
const char *siov_type_get_description(const struct siov_type *t); /* "" when absent, may span lines */
const char *siov_type_get_device_api(const struct siov_type *t);  /* "" when broken */
/* Its migration_version line (what a saved device state needs from the
 * destination type, "key=value ..."); "" when the type has none. */
const char *siov_type_get_migration_version(const struct siov_type *t);
uint32_t siov_type_get_available(const struct siov_type *t);      /* 0 when broken */
/* NULL when valid, else why this type cannot be used ("available_instances:
 * not a number: 'abc'"). */
const char *siov_type_get_broken(const struct siov_type *t);
/* UUIDs of the active mdevs of this type (its devices/ folder), sorted. */
char * const *siov_type_get_devices(const struct siov_type *t);

/* ---- SR-IOV virtual functions ---------------------------------------- */

enum siov_vf_usage {
        SIOV_VF_UNBOUND,      /* no driver: free for VMs */
        SIOV_VF_VFIO,         /* vfio-pci or a VFIO variant driver: free for VMs */
        SIOV_VF_HOST,         /* bound to a host driver: the host uses it */
};
const char *siov_vf_usage_to_string(enum siov_vf_usage u);        /* "unbound", "vfio", "host" */

uint32_t siov_vf_get_index(const struct siov_vf *vf);             /* N of virtfnN */
const char *siov_vf_get_address(const struct siov_vf *vf);        /* "0000:3b:02.1" */
const char *siov_vf_get_driver(const struct siov_vf *vf);         /* "" when unbound */
enum siov_vf_usage siov_vf_get_usage(const struct siov_vf *vf);
char * const *siov_vf_get_netdevs(const struct siov_vf *vf);      /* NULL-terminated, sorted */
/* Stable name-based UUID (v5) for a VF, derived from its PF and index. */
const char *siov_vf_get_uuid(const struct siov_vf *vf);
/* NVIDIA SR-IOV vGPU VFs (Ampere and later: <VF>/nvidia/current_vgpu_type
 * and creatable_vgpu_types). Read only. */
bool siov_vf_is_vgpu(const struct siov_vf *vf);
uint32_t siov_vf_get_vgpu_current(const struct siov_vf *vf);      /* type id, 0: none */
size_t siov_vf_get_n_vgpu_types(const struct siov_vf *vf);        /* creatable types, file order */
uint32_t siov_vf_get_vgpu_type_id(const struct siov_vf *vf, size_t i);
const char *siov_vf_get_vgpu_type_name(const struct siov_vf *vf, size_t i);

/* Why the host uses a VF in a way that removing it would break: bound to a
 * host driver AND a netdev of it is up, or a block device of it is mounted
 * (per /proc/self/mountinfo; <root>/proc/self/mountinfo under a test root)
 * or held (holders/: LVM, md, dm). Returns 1 and *ret_reason ("netdev eth4
 * is up, block device nvme1n1 is mounted on /srv"), 0 (and NULL) when
 * nothing of the host would notice, or a negative errno. */
int siov_vf_get_host_use(struct siov_ctx *ctx, const char *vf_address, char **ret_reason);

/* ---- active mdevs ----------------------------------------------------- */

/* Reads /sys/bus/mdev/devices/<uuid>. -ENODEV if absent, -EINVAL if uuid
 * is not a UUID. */
int siov_mdev_read(struct siov_ctx *ctx, const char *uuid, struct siov_mdev **ret);
struct siov_mdev *siov_mdev_ref(struct siov_mdev *d);
struct siov_mdev *siov_mdev_unref(struct siov_mdev *d);
const char *siov_mdev_get_uuid(const struct siov_mdev *d);        /* canonical, lower case */
const char *siov_mdev_get_parent(const struct siov_mdev *d);      /* parent name */
const char *siov_mdev_get_type(const struct siov_mdev *d);        /* type id */
const char *siov_mdev_get_syspath(const struct siov_mdev *d);     /* "/sys/devices/.../<uuid>" */
const char *siov_mdev_get_driver(const struct siov_mdev *d);      /* "vfio_mdev", ... or "" */
/* Its migratable attribute reads 1: it offers VFIO migration. */
bool siov_mdev_get_migratable(const struct siov_mdev *d);

/* ---- validation (every name that reaches a path goes through these) --- */

#define SIOV_UUID_STRING_MAX 37
/* Parses any-case 8-4-4-4-12 hex; writes the canonical lower-case form. */
int siov_uuid_normalize(const char *s, char ret[static SIOV_UUID_STRING_MAX]);
bool siov_uuid_is_valid(const char *s);
/* A single path component a caller may name: 1..255 bytes of printable
 * ASCII, no '/', not "." or "..". */
bool siov_name_is_valid(const char *s);

/* ---- migration compatibility strings (a type's migration_version) ------ */

#define SIOV_MIGRATION_VERSION_MAX 1024
/* Space-separated key=value pairs (keys [A-Za-z0-9_.-], values printable
 * ASCII without spaces), each key once, at least one, at most 1024 bytes,
 * one trailing newline allowed. */
bool siov_migration_version_is_valid(const char *s);
/* Whether a device state saved where `state` was published loads into a
 * type showing `here`: the same pairs in any order. 1 yes; 0 no, with
 * *ret_reason (malloc'ed) naming the first difference ("the state needs
 * swq_slots=4, this type has swq_slots=2"); -EINVAL when either is not
 * valid; -ENOMEM. */
int siov_migration_version_compare(const char *here, const char *state, char **ret_reason);
/* PCI address "dddd:bb:dd.f" */
bool siov_pci_address_is_valid(const char *s);

/* ---- sysfs attribute parsing (strict) ------------------------------- */

/* "12\n" → 12. Rejects empty, signs, garbage, overflow past UINT32_MAX. */
int siov_parse_u32(const char *s, uint32_t *ret);
/* Reads <dirfd>/<name> into a NUL-terminated buffer, at most 64 KiB; strips
 * one trailing newline. */
int siov_read_attr_at(int dirfd, const char *name, char **ret);

/* ---- changing sysfs (every name validated; errors carry context) ------ */

/* On failure these return a negative errno and, when error_msg is not NULL,
 * a message naming the sysfs file, the value written and the errno text,
 * e.g. "writing '5f2c…' to /sys/class/mdev_bus/siov0/mdev_supported_types/
 * idxd-1dwq/create failed: No space left on device". Paths in messages are
 * the host paths ("/sys/…"), without the root prefix. */

/* Writes uuid to <parent>/mdev_supported_types/<type>/create. -EINVAL for
 * an invalid name or UUID, -ENODEV no such parent, -ENOENT no such type. */
int siov_mdev_create(struct siov_ctx *ctx, const char *parent, const char *type,
                     const char *uuid, char **error_msg);
/* Writes "1" to /sys/bus/mdev/devices/<uuid>/remove; -ENODEV if absent. */
int siov_mdev_remove(struct siov_ctx *ctx, const char *uuid, char **error_msg);
/* Writes value to /sys/bus/mdev/devices/<uuid>/<name>; name must be a valid
 * single component (no '/'), and must already exist as a regular file. */
int siov_mdev_write_attr(struct siov_ctx *ctx, const char *uuid, const char *name,
                         const char *value, char **error_msg);
/* Gives a VF to VFIO: driver_override=vfio-pci, unbind from its current
 * driver, drivers_probe. Undone by siov_vf_release (driver_override cleared,
 * unbound from vfio, drivers_probe so a host driver may take it back). */
int siov_vf_bind_vfio(struct siov_ctx *ctx, const char *vf_address, char **error_msg);
int siov_vf_release(struct siov_ctx *ctx, const char *vf_address, char **error_msg);
/* Writes n to <pf>/sriov_numvfs: -ENODEV not an SR-IOV PF, -ERANGE over
 * sriov_totalvfs; the kernel refuses N→M with both non-zero (EBUSY). */
int siov_pf_set_numvfs(struct siov_ctx *ctx, const char *pf, uint32_t n, char **error_msg);
/* The PF's netdev (its net/ folder; the first name when there are more):
 * -ENOENT none, -ENODEV no such PCI device. */
int siov_pf_get_netdev(struct siov_ctx *ctx, const char *pf, char **ret);
/* Writes 0/1 to <pf>/sriov_drivers_autoprobe. */
int siov_pf_set_autoprobe(struct siov_ctx *ctx, const char *pf, bool on, char **error_msg);

/* ---- network settings of an SR-IOV VF ----------------------------------- */

/* What `ip link set PF vf N mac … vlan … qos … spoofchk … trust … state …`
 * sets. siovd applies them on the PF through rtnetlink before the VF goes
 * to VFIO; an unset field is left as the PF's driver has it. */
enum siov_vf_link_state {
        SIOV_VF_LINK_STATE_UNSET = -1,
        SIOV_VF_LINK_STATE_AUTO = 0,    /* the values of IFLA_VF_LINK_STATE_* */
        SIOV_VF_LINK_STATE_ENABLE = 1,
        SIOV_VF_LINK_STATE_DISABLE = 2,
};
#define SIOV_VF_VLAN_MAX 4095
#define SIOV_VF_QOS_MAX 7
#define SIOV_VF_MAC_STRING_MAX 18
struct siov_vf_net {
        bool has_mac;
        uint8_t mac[6];         /* unicast; all zeros lets the VF choose */
        bool has_vlan;
        uint16_t vlan;          /* 0 removes the port VLAN */
        uint8_t qos;            /* 802.1p priority of the VLAN, 0-7 */
        int8_t spoofchk;        /* -1 unset, 0 off, 1 on */
        int8_t trust;           /* -1 unset, 0 off, 1 on */
        int8_t link_state;      /* enum siov_vf_link_state */
};
void siov_vf_net_init(struct siov_vf_net *n);                   /* all unset */
bool siov_vf_net_is_set(const struct siov_vf_net *n);           /* any field set */
bool siov_vf_net_equal(const struct siov_vf_net *a, const struct siov_vf_net *b);
/* -EINVAL with the reason: VLAN over 4095, qos over 7 or without a VLAN,
 * a multicast MAC. */
int siov_vf_net_check(const struct siov_vf_net *n, char **error_msg);
/* "aa:bb:cc:dd:ee:ff" only; -EINVAL malformed, -EDOM multicast. */
int siov_vf_mac_parse(const char *s, uint8_t ret[static 6]);
void siov_vf_mac_format(const uint8_t mac[static 6], char buf[static SIOV_VF_MAC_STRING_MAX]);
const char *siov_vf_link_state_to_string(int s);               /* "auto", "enable", "disable"; NULL */
int siov_vf_link_state_from_string(const char *s);              /* -EINVAL */

/* ---- persistent definitions -------------------------------------------- */

/* One file per device, <dir>/<uuid>.json:
 *   {"uuid": "…", "parent": "siov0", "type": "idxd-1dwq",
 *    "autostart": true, "vm": "vm1", "owner": "siov-device-plugin",
 *    "attrs": [{"name": "value"}, …]}
 * "vm", "owner" and "attrs" are optional; a VF's may have "vf_net": {"mac": "…",
 * "vlan": 100, "qos": 3, "spoofchk": true, "trust": false, "link_state":
 * "auto"} (each key optional, no other key). Unknown keys are kept and written back
 * unchanged (a newer siovd may add some). */
struct siov_definition;

#define SIOV_DEFINITION_MAX_SIZE (64 * 1024)
#define SIOV_ATTR_VALUE_MAX 4096
#define SIOV_ATTRS_MAX 64

int siov_definition_new(struct siov_definition **ret, const char *uuid, const char *parent, const char *type);
struct siov_definition *siov_definition_ref(struct siov_definition *d);
struct siov_definition *siov_definition_unref(struct siov_definition *d);
int siov_definition_copy(const struct siov_definition *d, struct siov_definition **ret);
const char *siov_definition_get_uuid(const struct siov_definition *d);
const char *siov_definition_get_parent(const struct siov_definition *d);
const char *siov_definition_get_type(const struct siov_definition *d);
bool siov_definition_get_autostart(const struct siov_definition *d);
const char *siov_definition_get_vm(const struct siov_definition *d);      /* "" when none */
/* The program that asked for the device (e.g. siov-device-plugin), "" when none. */
const char *siov_definition_get_owner(const struct siov_definition *d);
size_t siov_definition_get_n_attrs(const struct siov_definition *d);
const char *siov_definition_get_attr_name(const struct siov_definition *d, size_t i);
const char *siov_definition_get_attr_value(const struct siov_definition *d, size_t i);
void siov_definition_set_autostart(struct siov_definition *d, bool b);
int siov_definition_set_vm(struct siov_definition *d, const char *vm);    /* "" or NULL clears */
/* A name (siov_name_is_valid), "" or NULL clears; -EINVAL otherwise. */
int siov_definition_set_owner(struct siov_definition *d, const char *owner);
/* Appends; -EINVAL for a bad name or a value over SIOV_ATTR_VALUE_MAX,
 * -E2BIG past SIOV_ATTRS_MAX. */
int siov_definition_add_attr(struct siov_definition *d, const char *name, const char *value);
void siov_definition_clear_attrs(struct siov_definition *d);
bool siov_definition_equal(const struct siov_definition *a, const struct siov_definition *b);
/* A VF definition's network settings ("vf_net"): false (and all unset in
 * ret) when it has none. Setting them on a definition that is not of type
 * "vf", or invalid ones, is -EINVAL; NULL clears them. */
bool siov_definition_get_vf_net(const struct siov_definition *d, struct siov_vf_net *ret);
int siov_definition_set_vf_net(struct siov_definition *d, const struct siov_vf_net *n);

/* Strict parser: size-bounded, types checked, names validated. -EINVAL
 * (or -EFBIG over SIOV_DEFINITION_MAX_SIZE) with a reason in error_msg. */
int siov_definition_parse(const char *json, size_t len, struct siov_definition **ret, char **error_msg);
int siov_definition_to_json(const struct siov_definition *d, char **ret);

/* Writes <dir>/<uuid>.json atomically: temporary file, fsync, rename,
 * fsync of the folder. Creates dir (0755) if missing. */
int siov_definition_save(const char *dir, const struct siov_definition *d, char **error_msg);
/* -ENOENT if there is no such file. */
int siov_definition_delete(const char *dir, const char *uuid, char **error_msg);
/* The checked store (what siovd uses). The folder is the operator's: a
 * file is replaced or removed only while it still holds the bytes siovd
 * last loaded or wrote there, recorded as a stamp; that is compared under
 * the store's lock (flock on the folder) right before the change. */
typedef struct siov_definition_stamp {
        uint64_t size;          /* 0: no file */
        uint64_t hash;          /* FNV-1a 64 of the bytes */
} siov_definition_stamp;

/* 0 when definitions can be read and written in dir (or dir does not exist
 * yet and will be made); else why not: -ENOTDIR (not a folder), -EACCES,
 * -EROFS (cannot be read, or written), with a reason. */
int siov_definition_store_check(const char *dir, char **reason);
/* Serialises d and reads it back with the loader's parser: 0 when what
 * would be written can be loaded (the JSON in *ret_json when not NULL);
 * -EFBIG (over SIOV_DEFINITION_MAX_SIZE) or -EINVAL with a reason naming
 * the limit. */
int siov_definition_check(const struct siov_definition *d, char **ret_json, char **error_msg);
/* Writes <dir>/<uuid>.json as siov_definition_save() does, only when the
 * file holds what expected says: nothing (expected NULL), or the stamp's
 * bytes; else -EEXIST (there, not siovd's, or changed) or -ENOENT
 * (removed), and the file is untouched. The new stamp in *ret. */
int siov_definition_store_save(const char *dir, const struct siov_definition *d,
                               const siov_definition_stamp *expected, siov_definition_stamp *ret,
                               char **error_msg);
/* Removes <dir>/<uuid>.json only while it holds expected's bytes. */
int siov_definition_store_delete(const char *dir, const char *uuid, const siov_definition_stamp *expected,
                                 char **error_msg);
/* 0 when <dir>/<uuid>.json holds what expected says (NULL: no file), else
 * -EEXIST/-ENOENT as above: asked before a change that cannot be undone. */
int siov_definition_store_verify(const char *dir, const char *uuid, const siov_definition_stamp *expected,
                                 char **error_msg);
/* "<lower-case uuid>.json": true, and the uuid in id. */
bool siov_definition_file_name(const char *name, char id[static SIOV_UUID_STRING_MAX]);
/* One file: 1 with the definition and its stamp, 0 when there is none, a
 * negative errno with the reason it is skipped. */
int siov_definition_store_load_one(const char *dir, const char *uuid, struct siov_definition **ret,
                                   siov_definition_stamp *ret_stamp, char **reason);
/* Every entry of dir but dot files: cb gets the path and either the
 * definition and its stamp, or the reason it was skipped (uuid is NULL when
 * the name is not <uuid>.json). Returns the number of entries seen, 0 for
 * a missing dir, a negative errno when dir cannot be read. */
typedef void (*siov_definition_store_cb_t)(const char *path, const char *uuid, struct siov_definition *def,
                                           const siov_definition_stamp *stamp, const char *reason,
                                           void *userdata);
int siov_definition_store_load(const char *dir, siov_definition_store_cb_t cb, void *userdata);
/* Removes the temporary files a crash left (".<uuid>.json.<11 hex>",
 * regular files only); cb is told each (r < 0 when it could not be
 * removed). Returns the number removed. */
typedef void (*siov_definition_clean_cb_t)(const char *path, int r, void *userdata);
int siov_definition_store_clean(const char *dir, siov_definition_clean_cb_t cb, void *userdata);

/* Loads every <uuid>.json of dir (a missing dir is empty). A file that is
 * corrupt, foreign (not <uuid>.json, or its uuid key differs from its name)
 * or unreadable is reported through on_error and skipped, never deleted.
 * Returns the definitions sorted by UUID. */
typedef void (*siov_definition_error_t)(const char *path, const char *reason, void *userdata);
int siov_definitions_load(const char *dir, struct siov_definition ***ret, size_t *n_ret,
                          siov_definition_error_t on_error, void *userdata);
void siov_definitions_free(struct siov_definition **l, size_t n);

/* ---- persistent SR-IOV PF configuration --------------------------------- */

/* One file per PF, <dir>/<pf>.json (siovd's dir: /etc/siov/parents):
 *   {"pf": "0000:01:00.0", "numvfs": 2, "autoprobe": false}
 * Keys other than "pf" are optional; unknown keys are kept and written
 * back. Strict parser, atomic save, like the definitions. */
struct siov_pf_config;

int siov_pf_config_new(struct siov_pf_config **ret, const char *pf);
struct siov_pf_config *siov_pf_config_ref(struct siov_pf_config *c);
struct siov_pf_config *siov_pf_config_unref(struct siov_pf_config *c);
int siov_pf_config_copy(const struct siov_pf_config *c, struct siov_pf_config **ret);
const char *siov_pf_config_get_pf(const struct siov_pf_config *c);
int siov_pf_config_get_numvfs(const struct siov_pf_config *c);     /* -1: not set */
int siov_pf_config_get_autoprobe(const struct siov_pf_config *c);  /* -1: not set, 0, 1 */
int siov_pf_config_set_numvfs(struct siov_pf_config *c, int n);   /* n < 0 unsets; -EINVAL over 65535 */
int siov_pf_config_set_autoprobe(struct siov_pf_config *c, int on); /* on < 0 unsets */
/* Per-VF network settings ("vfs": {"N": {…}}): false (all unset in ret)
 * when VF vf has none; NULL or all-unset n removes them, -EINVAL when
 * invalid. */
bool siov_pf_config_get_vf_net(const struct siov_pf_config *c, uint32_t vf, struct siov_vf_net *ret);
int siov_pf_config_set_vf_net(struct siov_pf_config *c, uint32_t vf, const struct siov_vf_net *n);
bool siov_pf_config_equal(const struct siov_pf_config *a, const struct siov_pf_config *b);
int siov_pf_config_parse(const char *json, size_t len, struct siov_pf_config **ret, char **error_msg);
int siov_pf_config_to_json(const struct siov_pf_config *c, char **ret);
int siov_pf_config_save(const char *dir, const struct siov_pf_config *c, char **error_msg);
int siov_pf_config_delete(const char *dir, const char *pf, char **error_msg);
/* Loads every <pf>.json of dir (missing dir: none), sorted by PF. A file
 * that is corrupt, foreign or unreadable is reported through on_error
 * (pf: the name's PF part) and skipped, never deleted. */
typedef void (*siov_pf_config_error_t)(const char *path, const char *pf, const char *reason, void *userdata);
int siov_pf_configs_load(const char *dir, struct siov_pf_config ***ret, size_t *n_ret,
                         siov_pf_config_error_t on_error, void *userdata);
void siov_pf_configs_free(struct siov_pf_config **l, size_t n);

/* ---- mdevctl import ---------------------------------------------------- */

/* Parses one mdevctl definition (/etc/mdevctl.d/<parent>/<uuid>):
 *   {"mdev_type": "T", "start": "auto"|"manual", "attrs": [{"name": "value"}, …]}
 * into a definition (autostart = start == "auto"). Strict like
 * siov_definition_parse; unknown keys are kept. */
int siov_mdevctl_parse(const char *parent, const char *uuid, const char *json, size_t len,
                       struct siov_definition **ret, char **error_msg);
/* Walks dir/<parent>/<uuid> (dir is usually /etc/mdevctl.d; scripts.d and
 * other non-definition entries are skipped silently) and calls cb for
 * every candidate file: with a definition, or with NULL and the reason it
 * was refused. Returns the number of files seen, or a negative errno when
 * dir cannot be read. */
typedef void (*siov_mdevctl_cb_t)(const char *path, const char *parent, const char *uuid,
                                  struct siov_definition *def, const char *reason, void *userdata);
int siov_mdevctl_import_dir(const char *dir, siov_mdevctl_cb_t cb, void *userdata);

/* ---- cleanup helpers -------------------------------------------------- */

/* siov_<type>_unrefp() for _cleanup_/__attribute__((cleanup)), as
 * sd-bus.h offers sd_bus_unrefp(): no caller unrefs by hand on every exit
 * path. */
#define _SIOV_DEFINE_POINTER_CLEANUP_FUNC(type, func)   \
        static inline void func##p(type **p) {          \
                if (*p)                                 \
                        func(*p);                       \
        }
_SIOV_DEFINE_POINTER_CLEANUP_FUNC(struct siov_ctx, siov_ctx_unref)
_SIOV_DEFINE_POINTER_CLEANUP_FUNC(struct siov_model, siov_model_unref)
_SIOV_DEFINE_POINTER_CLEANUP_FUNC(struct siov_parent, siov_parent_unref)
_SIOV_DEFINE_POINTER_CLEANUP_FUNC(struct siov_mdev, siov_mdev_unref)
_SIOV_DEFINE_POINTER_CLEANUP_FUNC(struct siov_definition, siov_definition_unref)

#ifdef __cplusplus
}
#endif
