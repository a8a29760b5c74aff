/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* libsiov internals: object layouts and helpers shared by the lib/ sources only. */

#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libsiov.h"
#include "siov-macro.h"
#include "utf8.h"
#include "valid.h"

/* Largest attribute siov_read_attr_at() accepts (sysfs attributes are at
 * most one page; anything bigger is not a sysfs attribute). */
#define SIOV_ATTR_MAX (64u * 1024u)

struct siov_ctx {
        unsigned n_ref;
        char *root;             /* canonical, no trailing slash, "" for "/" */
        int root_fd;            /* O_PATH directory of root */
        char **vfio_variants;   /* sorted module names, '-' folded to '_' */
        size_t n_vfio_variants;
        struct siov_accel *accel; /* libaccel-config context, NULL until used */
        char *idxd_problem;     /* why libaccel-config was not used, NULL: none */
};

struct siov_type {
        char *id;
        char *name;             /* NULL: absent */
        char *description;      /* NULL: absent */
        char *device_api;       /* NULL: broken */
        char *migration_version; /* NULL: absent */
        char *broken;           /* NULL: fine */
        uint32_t available;
        char **devices;         /* NULL-terminated, pointers and strings in one block */
};

struct siov_vgpu_type {
        uint32_t id;
        char *name;
};

struct siov_vf {
        uint32_t index;
        enum siov_vf_usage usage;
        char *address;
        char *driver;           /* NULL: unbound */
        char **netdevs;         /* NULL-terminated or NULL */
        char uuid[SIOV_UUID_STRING_MAX];
        /* NVIDIA SR-IOV vGPU (nvidia/ folder of the VF), else false */
        bool vgpu;
        uint32_t vgpu_current;          /* 0: none */
        struct siov_vgpu_type *vgpu_types;
        size_t n_vgpu_types;
};

struct siov_wq {
        char *name;
        char *driver;           /* NULL: unbound */
        char *label;            /* "name" attribute, NULL: none */
        enum siov_wq_mode mode;
        enum siov_wq_type type;
        enum siov_wq_state state;
        uint32_t size;
        int group;
        int clients;
};

struct siov_idxd_part {         /* a group or an engine */
        char *name;
        int id;                 /* group: its id; engine: its group (-1: none) */
};

struct siov_idxd {
        char *name;
        char *model;
        char *state;
        struct siov_wq *wqs;
        size_t n_wqs;
        struct siov_idxd_part *groups;
        size_t n_groups;
        struct siov_idxd_part *engines;
        size_t n_engines;
};

struct siov_parent {
        unsigned n_ref;
        char *name;
        char *syspath;          /* "/sys/devices/..."; devpath is syspath + 4 */
        char *driver;
        char *subsystem;
        unsigned kinds;

        struct siov_type *types;
        size_t n_types;

        bool has_pool;
        struct siov_pool pool;
        uint32_t host_usage[_SIOV_HOST_USAGE_MAX];
        char **netdevs;         /* NULL-terminated or NULL */

        uint32_t total_vfs, num_vfs;
        int autoprobe;          /* sriov_drivers_autoprobe: 1, 0, -1 unreadable */
        int numa_node;          /* the device's numa_node, -1 when none or unknown */
        struct siov_vf *vfs;
        size_t n_vfs;

        struct siov_idxd *idxd; /* NULL: not an idxd device */

        char *broken;           /* "; "-joined reasons, NULL: fine */
};

struct siov_mdev {
        unsigned n_ref;
        const char *parent;     /* all point into buf[] */
        const char *type;
        const char *syspath;
        const char *driver;
        bool migratable;        /* its migratable attribute reads 1 */
        char uuid[SIOV_UUID_STRING_MAX];
        char buf[];
};

struct siov_model {
        unsigned n_ref;
        struct siov_parent **parents;
        size_t n_parents;
        struct siov_mdev **mdevs;
        size_t n_mdevs;
};

/* ---- util.c ---------------------------------------------------------- */

/* Opens <dirfd>/<path> (following symlinks) and checks that what was opened
 * lies inside the root prefix. base is the root-relative path of dirfd ("" or
 * "/sys/..."), only used when /proc is not mounted. On success returns the
 * fd and, if ret_canonical, the canonical root-relative path ("/sys/...").
 * -EXDEV when it resolves outside the root. */
int siov_open_in_root(const struct siov_ctx *ctx, int dirfd, const char *base,
                      const char *path, int flags, char **ret_canonical);

/* Resolves link text target found in the folder base (root-relative,
 * canonical) without touching the file system. Writes the root-relative
 * result into ret (PATH_MAX). -EXDEV if it climbs above the root or is
 * absolute while the root is a prefix (no real sysfs link is absolute). */
int siov_path_resolve_lexical(const struct siov_ctx *ctx, const char *base,
                              const char *target, char ret[static PATH_MAX]);
/* Cheap form of the above when only containment matters: base_depth is the
 * number of components of base. */
bool siov_link_stays_inside(const struct siov_ctx *ctx, size_t base_depth, const char *target);
size_t siov_path_depth(const char *path);
bool siov_is_device_path(const char *canon);

/* readlinkat into buf (PATH_MAX), NUL-terminated. */
int siov_readlinkat(int dirfd, const char *name, char buf[static PATH_MAX]);
/* Basename of the link dirfd/name if it stays inside the root and is a
 * valid name; *ret = NULL when the link is absent or unusable. */
int siov_read_link_name(const struct siov_ctx *ctx, int dirfd, size_t base_depth,
                        const char *name, char **ret);
/* Same into buf (PATH_MAX); returns the length, 0 when none. */
size_t siov_read_link_name_buf(const struct siov_ctx *ctx, int dirfd, size_t base_depth,
                               const char *name, char buf[static PATH_MAX]);

/* Entries of dirfd/subdir (no symlink followed for subdir) that pass filter
 * (NULL: siov_name_is_valid), sorted, NULL-terminated in one allocation
 * (free() it); *ret = NULL if the folder is absent or empty. */
int siov_list_names_at(int dirfd, const char *subdir, bool (*filter)(const char *), char ***ret);

/* Reasons for broken objects: "<what>: <detail>" appended to *reasons,
 * joined by "; ". -ENOMEM only. */
_printf_(2, 3) int siov_reason_add(char **reasons, const char *fmt, ...);
/* Quotes an attribute value for a reason: printable ASCII kept, anything
 * else as \xNN, cut after 64 bytes. */
char *siov_escape_value(const char *s);
/* Reads and parses a u32 attribute; on failure adds a reason for it and
 * returns a negative errno (-ENOMEM is the only one a caller must pass on). */
int siov_read_u32_reason(int dirfd, const char *attr, const char *label, uint32_t *ret, char **reasons);

/* Reads the regular file dirfd/name (never through a symlink, never
 * blocking on a FIFO) into a NUL-terminated buffer; -EFBIG when it holds
 * more than max bytes, -EINVAL when it is not a regular file. */
int siov_read_file_at(int dirfd, const char *name, size_t max, char **ret, size_t *ret_len);
/* Sets *error_msg (when not NULL) to the formatted message; returns r so
 * that callers can "return siov_error(error_msg, r, ...)". The message is
 * made valid UTF-8. */
_printf_(3, 4) int siov_error(char **error_msg, int r, const char *fmt, ...);

/* Every entry of dirfd but "." and "..", whatever the name (unlike
 * siov_list_names_at()), sorted, in a NULL-terminated strv (strv_free()). */
int siov_list_dir_sorted(int dirfd, char ***ret);

/* False for names that are not valid single components and for the
 * entries of an mdev folder that are no device attributes (remove,
 * mdev_type, driver, subsystem, uevent, power, iommu_group, ...). */
bool siov_mdev_attr_name_is_writable(const char *name);

/* ---- validate.c ------------------------------------------------------ */

bool siov_devpath_is_valid(const char *s);

/* ---- parent.c -------------------------------------------------------- */

struct siov_accel;

/* Shared by siov_scan() (fds opened once) and siov_parent_read(). */
struct siov_parent_scan {
        int mdev_bus_fd;        /* sys/class/mdev_bus, -1: absent */
        int pci_fd;             /* sys/bus/pci/devices, -1: absent */
        int dsa_fd;             /* sys/bus/dsa/devices, -1: absent or no libaccel-config */
        struct siov_accel *accel; /* borrowed from the siov_ctx */
        bool no_devices;        /* leave the types' devices/ unlisted */
};

/* -ENODEV when name is neither kind; -ENOMEM; other errors are recorded
 * on the parent. */
int siov_parent_load(struct siov_ctx *ctx, const struct siov_parent_scan *s,
                     const char *name, struct siov_parent **ret);
void siov_parent_scan_done(struct siov_parent_scan *s);
int siov_parent_scan_init(struct siov_ctx *ctx, struct siov_parent_scan *s);

/* ---- sriov.c -------------------------------------------------------- */

/* Parses the text of a VF's nvidia/creatable_vgpu_types into types (a
 * header line "ID : vGPU Name", then one "<id> : <name>" per line).
 * Malformed lines are skipped. */
int siov_vgpu_types_parse(const char *text, struct siov_vgpu_type **ret, size_t *ret_n);
void siov_vgpu_types_free(struct siov_vgpu_type *t, size_t n);

/* ---- atomic-write.c ------------------------------------------------- */

/* Writes data to <dir>/<name> atomically (temporary file, fsync, rename,
 * fsync of the folder); dir is created (0755) when missing. */
int siov_write_file_atomic(const char *dir, const char *name, const char *data, size_t len, char **error_msg);
/* The same in the open folder dfd (dir: its path, for messages). fault,
 * when not NULL, is called after each step ("created", "written",
 * "synced", "closed", "renamed"); a negative return fails the write there. */
int siov_write_file_atomic_at(int dfd, const char *dir, const char *name, const char *data, size_t len,
                              int (*fault)(const char *step), char **error_msg);
/* Opens the folder dir (created with its parents, 0755, when create and
 * missing); errors name it. */
int siov_dir_open(const char *dir, bool create, char **error_msg);

/* ---- mdev.c ---------------------------------------------------------- */

/* Reads the mdev uuid (canonical) inside the verified parent folder
 * parent_fd whose canonical path is parent_syspath. -ENODEV if it is not an
 * mdev of that parent. */
int siov_mdev_load_in_parent(const struct siov_ctx *ctx, int parent_fd, const char *parent_syspath,
                             size_t parent_depth, const char *uuid, struct siov_mdev **ret);
int siov_mdev_cmp_ptr(const void *a, const void *b);

/* ---- accel.c --------------------------------------------------------- */

/* The context's libaccel-config context, made on first use; NULL unless
 * the root is "/" and the host has a dsa bus (retried on every call until
 * then). Owned by ctx. */
struct siov_accel *siov_accel_get(struct siov_ctx *ctx);
void siov_accel_free(struct siov_accel *a);
/* Names of the idxd devices libaccel-config sees, sorted (free() the
 * block); *ret = NULL when none. */
int siov_accel_list(struct siov_accel *a, char ***ret);
/* The name (borrowed from libaccel-config) of the idxd device named
 * devname, or, when devname is NULL, of the one whose folder is a direct
 * child of parent_fd; NULL when there is none. */
const char *siov_accel_find(struct siov_accel *a, int parent_fd, const char *devname);
/* Reads the model of the idxd device named devname: device, groups,
 * engines, WQs. -ENODEV when libaccel-config does not know it; -ENOMEM. */
int siov_accel_read(struct siov_ctx *ctx, struct siov_accel *a, const char *devname, struct siov_idxd **ret);
struct siov_idxd *siov_idxd_free(struct siov_idxd *d);


/* ---- json-strict.c, definition.c, definition-store.c ------------------ */

struct json_object;

struct siov_attr {
        char *name;
        char *value;
};

struct siov_definition {
        unsigned n_ref;
        char uuid[SIOV_UUID_STRING_MAX];
        char *parent;
        char *type;
        bool autostart;
        char *vm;                       /* NULL: none */
        char *owner;                    /* who asked for it (a program's name), NULL: none */
        struct siov_attr *attrs;
        size_t n_attrs;
        struct siov_vf_net vf_net;      /* a VF's network settings; all unset otherwise */
        struct json_object *extra;      /* unknown keys in file order, or NULL */
};

/* A VF's network settings from/to JSON ({"mac": …, "vlan": …}; every key
 * checked, unknown ones refused with *reason "vf_net.KEY: …"). Used by
 * definitions ("vf_net") and PF configurations ("vfs"). */
int siov_vf_net_from_json(struct json_object *o, struct siov_vf_net *ret, char **reason);
int siov_vf_net_to_json(const struct siov_vf_net *n, struct json_object **ret);

/* The value of a hex digit, or -1 (also for NUL). */
int siov_hexval(char c);

/* Nesting limit of every JSON document the library reads. */
#define SIOV_JSON_MAX_DEPTH 16

/* Strict JSON: RFC 8259 syntax only, valid UTF-8, no NUL, no lone
 * surrogate escapes, no duplicate keys in any object, at most
 * SIOV_JSON_MAX_DEPTH levels, nothing but white space after the value.
 * *reason says what is wrong and where ("line 3, column 7: ..."). */
int siov_json_parse_strict(const char *json, size_t len, struct json_object **ret, char **reason);
/* Appends the {"name": "value"} entries of array a (the "attrs" of both
 * formats) to d; reason like "attrs[2]: ...". */
int siov_definition_attrs_from_json(struct siov_definition *d, struct json_object *a, char **reason);
/* The start of reading either format: json (len bytes) within the size
 * limit, parsed strictly; *error_msg says why not. */
int siov_definition_json_parse(const char *json, size_t len, struct json_object **ret, char **error_msg);
/* Adds a reference to v as key to *extra (made on first use): an unknown
 * key, kept to be written back as it was. */
int siov_definition_extra_add(struct json_object **extra, const char *key, struct json_object *v);
/* Why siov_read_file_at() refused a definition file (r < 0), as reports
 * say it; buf holds the text when it had to be formatted. */
const char *siov_definition_read_error(int r, char buf[static 64]);
/* Takes a reference to an object holding the unknown keys (or NULL). */
/* uuid, parent, type, autostart, vm, owner, attrs: the keys siovd checks. */
bool siov_definition_key_is_reserved(const char *key);
void siov_definition_set_extra(struct siov_definition *d, struct json_object *extra);

/* Test hook: when set, siov_definition_save() calls it after each step
 * ("created", "written", "synced", "closed", "renamed"); a negative return
 * makes the save fail right there, as if that step had failed. Never set
 * outside tests (hidden; the installed library has no way to reach it). */
extern int (*siov_definition_save_fault)(const char *step);
