/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * siovctl: shared declarations. The CLI talks to siovd over D-Bus only: one
 * GetManagedObjects call fills a Model (strings borrowed from the reply
 * message, which the model keeps referenced), the verbs filter and print it.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>
#include <systemd/sd-bus.h>

#include "libsiov.h"
#include "log.h"
#include "siov-macro.h"

/* Exit codes, documented in `siovctl --help` and the README. */
enum {
        EXIT_SIOVCTL_OK              = 0,
        EXIT_SIOVCTL_FAILED          = 1, /* siovd (or the kernel behind it) reported a failure */
        EXIT_SIOVCTL_USAGE           = 2, /* bad command line, or an argument siovd rejects as invalid */
        EXIT_SIOVCTL_UNREACHABLE     = 3, /* bus unreachable, or siovd not running / not answering */
        EXIT_SIOVCTL_NO_SUCH_OBJECT  = 4, /* no such parent, type or device */
        EXIT_SIOVCTL_NOT_AUTHORIZED  = 5, /* bus policy or polkit said no */
        EXIT_SIOVCTL_NO_CAPACITY     = 6, /* no instance of that type is available */
};

/*
 * Internally every failure is a negative errno that has already been
 * printed; these are the errnos that select an exit code (exit_code_from_errno).
 * Anything else means EXIT_SIOVCTL_FAILED.
 */
#define ERRNO_USAGE             EINVAL
#define ERRNO_UNREACHABLE       EHOSTUNREACH
#define ERRNO_NO_SUCH_OBJECT    ENXIO
#define ERRNO_NOT_AUTHORIZED    EACCES
#define ERRNO_NO_CAPACITY       ENOSPC

/* exit-status.c: the one table of exit codes. */
int exit_code_from_errno(int r);
/* The errno selecting the exit code for an error siovd answered (-EIO:
 * EXIT_SIOVCTL_FAILED). */
int errno_from_siovd_error(const sd_bus_error *e);
/* "Exit status:" and a line per code, for --help. */
void exit_status_help(FILE *f);

/* ---- logging: stderr, one line, "siovctl: " prefix (log.h) ------------- */

#define PROGRAM "siovctl"

/* ---- the model --------------------------------------------------------- */

typedef struct KeyValue {
        const char *key;
        uint32_t value;
} KeyValue;

typedef struct Attribute {
        const char *name;
        const char *value;
} Attribute;

typedef struct Refusal {
        uint64_t usec;
        const char *uuid;
        const char *reason;
} Refusal;

typedef struct Type Type;

/* One work queue of an idxd (DSA/IAA) device. */
typedef struct WorkQueue {
        const char *name;
        const char *mode;
        const char *type;
        const char *state;
        const char *driver;
        const char *label;
        uint32_t size;
        int32_t group;          /* -1: none */
        int32_t clients;        /* -1: unknown */
} WorkQueue;

typedef struct IdxdGroup {
        const char *name;
        const char **work_queues;       /* owned array, borrowed strings */
        const char **engines;
} IdxdGroup;

/* All strings are borrowed from Model.reply and never NULL ("" when absent);
 * arrays are NULL-terminated and owned. */
typedef struct Parent {
        const char *path;
        const char *name;
        const char **kinds;
        const char *driver;
        const char *subsystem;
        const char *sysfs_path;
        KeyValue *resources;
        size_t n_resources;
        KeyValue *host_usage;
        size_t n_host_usage;
        const char **netdevs;
        uint32_t total_vfs;
        uint32_t num_vfs;
        const char *broken;
        int autoprobe;
        int32_t persistent_numvfs;      /* -1: no persistent configuration */
        int32_t persistent_autoprobe;
        const char *idxd_device;        /* "" when not an idxd device */
        const char *idxd_state;
        WorkQueue *work_queues;
        size_t n_work_queues;
        IdxdGroup *idxd_groups;
        size_t n_idxd_groups;

        /* Filled by model_link(): this parent's types, sorted by id. */
        Type **types;
        size_t n_types;
} Parent;

struct Type {
        const char *path;
        const char *id;
        const char *kind;
        const char *parent;
        const char *name;
        const char *description;
        const char *device_api;
        uint32_t available;
        const char *broken;
        const char *migration_version;  /* "" when the type has none */
};

typedef struct Device {
        const char *path;
        const char *uuid;
        const char *kind;
        const char *parent;
        const char *type;
        const char *state;
        int persistent;
        int autostart;
        const char *vm;
        Attribute *attributes;
        size_t n_attributes;
        const char *address;
        const char *sysfs_path;
        const char *driver;
        int host_used;
        const char **netdevs;
        const char *owner;              /* Manager.ListOwners; NULL: none */
        /* NVIDIA SR-IOV vGPU VF (Manager.ListVgpus); vgpu false otherwise */
        bool vgpu;
        uint32_t vgpu_type;
        struct VgpuType *vgpu_types;
        size_t n_vgpu_types;
        /* A VF of a PF with a netdev (Manager.ListVfNetwork): its network
         * state as the PF's driver reports it; vf_net false otherwise. */
        bool vf_net;
        const char *vf_mac;
        uint32_t vf_vlan, vf_qos;
        const char *vf_link_state, *vf_spoofchk, *vf_trust;
} Device;

typedef struct VgpuType {
        uint32_t id;
        const char *name;
} VgpuType;

typedef struct Model {
        sd_bus_message *reply;          /* owns every borrowed string */
        sd_bus_message *manager_reply;  /* Manager properties, when fetched */
        sd_bus_message *types_reply;    /* ListTypes, in a compact fetch */
        sd_bus_message *status_reply;   /* GetStatus, in a compact fetch */
        sd_bus_message *configs_reply;  /* ListParentConfigs, with the manager */
        sd_bus_message **pages;         /* ListDevices per parent, when paged */
        size_t n_pages;
        sd_bus_message *vgpu_reply;     /* ListVgpus, when fetched */
        sd_bus_message *vf_net_reply;   /* ListVfNetwork, when fetched */
        sd_bus_message *owners_reply;   /* ListOwners, when fetched */

        bool have_manager;
        const char *version;
        const char *sysfs_root;
        const char *definitions_dir;
        const char *definitions_problem;        /* "": usable */
        Attribute *skipped_definitions;         /* path, reason */
        size_t n_skipped_definitions;
        struct Refusal *refused_changes;
        size_t n_refused_changes;

        Parent *parents;
        size_t n_parents;
        Type *types;
        size_t n_types;
        Device *devices;
        size_t n_devices;
        Device **by_uuid;               /* model_find_device()'s index */
        size_t n_by_uuid;

        /* How many devices siovd has: n_devices, or in a compact fetch
         * (which holds only those waiting for their parent) siovd's count;
         * and its counts by kind and state ("mdev", "active", ...). */
        size_t total_devices;
        KeyValue *counts;
        size_t n_counts;
} Model;

Model *model_free(Model *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Model *, model_free);

/* Sorts parents (by name), types (parent, id) and devices (parent, type,
 * uuid; VFs by address) and links each parent to its types. */
int model_link(Model *m);

Parent *model_find_parent(const Model *m, const char *name);
/* Names compare "naturally" (siov2 < siov10) but fixed-width names such as
 * PCI addresses compare bytewise, so that hex digits sort right. */
int name_compare(const char *a, const char *b);

/* ---- the bus ----------------------------------------------------------- */

typedef enum JsonMode {
        JSON_OFF,
        JSON_PRETTY,            /* --json, --json=pretty: indented, one key per line */
        JSON_SHORT,             /* --json=short: one line */
} JsonMode;

typedef struct Context {
        const char *address;    /* --address, or NULL for the system bus */
        JsonMode json;
        sd_bus *bus;
        char *bus_description;  /* address used, for messages */
} Context;

/* Connects (once). Failure is printed and returns -ERRNO_UNREACHABLE. */
int bus_connect(Context *c);

/* Prints a failed call as one line and returns the errno that selects the
 * exit code. what: what was being done ("read siovd's objects"). */
int bus_log_call_error(Context *c, const sd_bus_error *error, int r, const char *what);

/* One method call on org.siov1; failures are printed (bus_log_call_error). */
int bus_call(Context *c, const char *path, const char *interface, const char *member,
             const char *what, sd_bus_message **ret_reply, const char *types, ...);

/* Calls on siovd's Manager object (interface NULL: org.siov1.Manager), with
 * at most one string argument, all sent before any answer is awaited: one
 * round trip for the batch. Failures are printed as bus_call() does, the
 * first in the order given. */
typedef struct BusBatchCall {
        const char *interface, *member, *arg, *arg2, *what;
        sd_bus_message **reply;
        /* Its failure is left in r and error for the caller, not printed. */
        bool optional;
        /* set by bus_call_batch() */
        sd_bus_slot *slot;
        sd_bus_error error;
        int r;
        bool done;
} BusBatchCall;
int bus_call_batch(Context *c, BusBatchCall *calls, size_t n);

/* Walks an array of dictionary entries with a string or object path key:
 * entry is the entry's signature ("sv", "sa{sv}", "oa{sa{sv}}"). cb gets
 * each key with the value next in m, and must read or skip that value. */
typedef int (*bus_dict_cb_t)(sd_bus_message *m, const char *key, void *userdata);
int bus_message_read_dict(sd_bus_message *m, const char *entry, bus_dict_cb_t cb, void *userdata);

/* Parents, types and the status counts through Manager.ListParents,
 * ListTypes and GetStatus, never the devices (only the few defined for an
 * absent parent): what types, parents and status need, at any size. */
int model_fetch_compact(Context *c, bool manager, Model **ret);
/* One Manager.ListDevices call: only m->devices is filled, sorted. The
 * filters (NULL: all) are checked by siovd. With details, ListVgpus,
 * ListVfNetwork and ListOwners go in the same round trip and fill the
 * devices' vGPU, VF network and owner fields. */
int device_list_fetch(Context *c, const char *parent, const char *type, bool details, Model **ret);
/* The device with that UUID in m->devices (sorted, or not), or NULL. */
Device *model_find_device(Model *m, const char *uuid);
int model_parse_device_list(Model *m, sd_bus_message *reply);
/* Reads a GetManagedObjects reply into m (which keeps no reference: the
 * caller keeps reply alive as long as m). -EPROTO (printed) when a known
 * property has the wrong type. */
int model_parse(Model *m, sd_bus_message *reply);

/* ---- tables ------------------------------------------------------------ */

typedef struct Table Table;

/* NULL-terminated header list; a header starting with '>' is right-aligned
 * (the '>' is not printed). */
Table *table_new(const char *header, ...) _sentinel_;
Table *table_free(Table *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(Table *, table_free);
/* Adds the next cell, row by row; "" and NULL print as "-". */
int table_add(Table *t, const char *cell);
int table_addf(Table *t, const char *fmt, ...) _printf_(2, 3);
size_t table_get_rows(const Table *t);
void table_print(const Table *t, FILE *f);

/* ---- output helpers ---------------------------------------------------- */

/* A copy with control characters shown as '?', for the terminal. */
char *strdup_printable(const char *s);

/* Prints j and a newline, consuming j; failures are printed. */
int json_print(json_object *j, FILE *f, JsonMode mode);

/* Streams a JSON array element by element, so that 10,000 devices never
 * sit in one json-c tree and one string: the output is byte for byte what
 * json_print() of the whole array would give. */
typedef struct JsonArray {
        FILE *f;
        JsonMode mode;
        size_t n;
        char *buf;              /* devices not written yet (json_array_add_device) */
        size_t allocated, pending;
} JsonArray;
void json_array_begin(JsonArray *a, FILE *f, JsonMode mode);
/* Consumes o; NULL (allocation failure) is -ENOMEM, printed. */
int json_array_add(JsonArray *a, json_object *o);
/* Adds a device as json_array_add(a, device_to_json(d)) would, faster. */
int json_array_add_device(JsonArray *a, const Device *d);
int json_array_end(JsonArray *a);
/* Frees a's buffer: use as _cleanup_(json_array_done). */
void json_array_done(JsonArray *a);

json_object *parent_to_json(const Parent *p);
json_object *type_to_json(const Type *t);
json_object *device_to_json(const Device *d);

/* "netdev=2 wq-kernel=1", in a fixed key order; "" when empty. */
char *key_values_to_string(const KeyValue *kv, size_t n);
/* "idxd-1dwq=4 idxd-1swq=20" ("?" for a broken type); "" when none. */
char *parent_available_to_string(const Parent *p);
/* "wq0.0 dedicated, kernel, enabled (dmaengine)" */
char *work_queue_to_string(const WorkQueue *wq);
/* "mdev,sriov" */
char *strv_join_const(const char * const *l, const char *sep);
/* Fixed display order of Resources / HostUsage keys: known keys first. */
void key_values_sort(KeyValue *kv, size_t n, const char * const *order);
extern const char * const resource_key_order[];
extern const char * const host_usage_key_order[];

/* ---- verbs ------------------------------------------------------------- */

/* One --attr NAME=VALUE: name and value share one allocation (name). */
typedef struct AttrArg {
        char *name;             /* owned; "name\0value" */
        const char *value;      /* points into name */
} AttrArg;

typedef struct Options {
        const char *parent;     /* --parent */
        const char *type;       /* --type */
        const char *uuid;       /* --uuid, normalized (points to uuid_buf) */
        const char *vm;         /* --vm */
        AttrArg *attrs;         /* --attr, in command line order */
        size_t n_attrs;
        bool persistent;        /* --persistent (also set by --autostart) */
        bool autostart;         /* --autostart */
        bool manual;            /* --manual */
        bool force;             /* --force */
        bool clear_attrs;       /* --clear-attrs */
        bool defined;           /* --defined */
        bool active;            /* --active */
        bool ask_password;      /* false with --no-ask-password */
        uint32_t numvfs;        /* --numvfs */
        bool numvfs_set;
        int autoprobe;          /* --autoprobe: 1, 0; -1 not given */
        const char *vf_mac;     /* --vf-mac, checked by siovd */
        uint32_t vf_vlan, vf_qos; /* --vf-vlan ID[,QOS], when OPT_VF_VLAN */
        bool vf_vlan_set, vf_qos_set;
        int vf_spoofchk, vf_trust; /* --vf-spoofchk, --vf-trust: 1, 0; -1 not given */
        const char *vf_link_state; /* --vf-link-state, checked by siovd */
        uint32_t vf;            /* sriov --vf */
        bool vf_set;
        char uuid_buf[SIOV_UUID_STRING_MAX];
} Options;

void options_done(Options *o);

/* "name=value" → *ret (split at the first '=', so values may hold '=');
 * -ERRNO_USAGE (printed) without '=' or with an empty name. */
int attr_arg_parse(const char *s, AttrArg *ret);

/* A UUID from the command line, normalized into buf (lower case);
 * -ERRNO_USAGE (printed) when it is not a UUID. */
int uuid_arg_parse(const char *s, char buf[static SIOV_UUID_STRING_MAX]);

typedef struct Verb Verb;

typedef struct Arguments {
        bool help;
        bool version;
        unsigned options_used;
        Options options;
        const char *address;
        JsonMode json;
        char **positional;      /* borrowed from argv */
        int n_positional;
        const Verb *verb;       /* set when a command was found */
} Arguments;

void arguments_done(Arguments *a);
/* Parses argv into a and checks it against the command: options that do not
 * apply, missing or conflicting options, argument counts. Errors are printed
 * and return -ERRNO_USAGE. With --help or --version the checks are skipped. */
int siovctl_parse(int argc, char *argv[], Arguments *a);
/* Parses argv and runs the command; returns what exit_code_from_errno()
 * turns into the exit code. */
int siovctl_run(int argc, char *argv[], Context *ctx);
const char *verb_name(const Verb *v);

int verb_parents(Context *c, const Options *o, int argc, char **argv);
int verb_types(Context *c, const Options *o, int argc, char **argv);
int verb_list(Context *c, const Options *o, int argc, char **argv);
int verb_status(Context *c, const Options *o, int argc, char **argv);

int verb_create(Context *c, const Options *o, int argc, char **argv);
int verb_define(Context *c, const Options *o, int argc, char **argv);
int verb_destroy(Context *c, const Options *o, int argc, char **argv);
int verb_start(Context *c, const Options *o, int argc, char **argv);
int verb_stop(Context *c, const Options *o, int argc, char **argv);
int verb_undefine(Context *c, const Options *o, int argc, char **argv);
int verb_modify(Context *c, const Options *o, int argc, char **argv);
int verb_assign(Context *c, const Options *o, int argc, char **argv);
int verb_unassign(Context *c, const Options *o, int argc, char **argv);
int verb_import_mdevctl(Context *c, const Options *o, int argc, char **argv);
int verb_provision(Context *c, const Options *o, int argc, char **argv);
int verb_sriov(Context *c, const Options *o, int argc, char **argv);
int verb_monitor(Context *c, const Options *o, int argc, char **argv);
int verb_migration_info(Context *c, const Options *o, int argc, char **argv);
int verb_migration_check(Context *c, const Options *o, int argc, char **argv);

/* ---- write helpers, exposed for the unit tests ------------------------- */

/* The object path of a device: sd_bus_path_encode(SIOV_DBUS_DEVICE_PREFIX, uuid). */
int device_path_from_uuid(const char *uuid, char **ret);

/* modify: the attribute list to send. existing (may be NULL) unless
 * clear; then each given attr replaces the value of the first existing one
 * of that name in place, or is appended. Strings are borrowed. */
int attrs_merge(const Attribute *existing, size_t n_existing, bool clear,
                const AttrArg *given, size_t n_given, Attribute **ret, size_t *ret_n);

/* One ImportMdevctl result. */
typedef struct ImportResult {
        const char *uuid;
        const char *parent;
        const char *result;     /* "defined" or "refused" */
        const char *reason;
} ImportResult;

/* Prints the results as lines or a JSON array; returns the number refused
 * (>= 0) or a negative errno (printed). */
int import_results_print(const ImportResult *results, size_t n, FILE *f, JsonMode json);

/* monitor: one line for a signal (InterfacesAdded, InterfacesRemoved,
 * PropertiesChanged of an org.siov1 interface), without the newline. 0 and
 * *ret NULL when the signal is none of these; -EBADMSG when it is malformed. */
int monitor_format(sd_bus_message *m, bool json, char **ret);

/* Fetches the org.siov1.Device properties of path into a model holding
 * that one device. what: for messages. */
int device_fetch(Context *c, const char *path, const char *object, Model **ret);

/* bus_log_call_error() for a call on one object (e.g. "device 5f2c…"):
 * siovd's message is prefixed with the object unless it names it already,
 * and UnknownObject means "no such <object>" (exit 4). */
int bus_log_call_error_object(Context *c, const sd_bus_error *error, int r, const char *what,
                              const char *object, const char *object_id);

/* ---- polkit agent ------------------------------------------------------ */

/* Starts pkttyagent as a fallback agent when asking is allowed, stdin is a
 * terminal and we are not root; failures are ignored (no agent, no prompt). */
void polkit_agent_open_if_enabled(bool ask_password);
void polkit_agent_close(void);
