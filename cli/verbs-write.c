/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The commands that change something: create, define, destroy, start, stop,
 * undefine, modify, assign, unassign, import-mdevctl, provision. Each is one
 * method call on siovd (modify reads the device first); siovd checks,
 * serializes and reports. Calls may ask for a password through polkit when
 * stdin is a terminal (systemd's tools do the same), unless
 * --no-ask-password.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "siov-names.h"
#include "siovctl.h"

/* A call that may wait for someone typing a password gets more time than
 * sd-bus's default 25 s: giving up early would leave a change made that
 * siovctl reported as failed. */
#define INTERACTIVE_TIMEOUT_USEC (300ULL * 1000 * 1000)

/* ---- arguments ---------------------------------------------------------- */

void options_done(Options *o) {
        for (size_t i = 0; i < o->n_attrs; i++)
                free(o->attrs[i].name);
        free(o->attrs);
        o->attrs = NULL;
        o->n_attrs = 0;
}

int attr_arg_parse(const char *s, AttrArg *ret) {
        const char *eq;
        char *copy;

        /* The first '=' splits: values may contain '=' ("opts=a=1"). */
        eq = strchr(s, '=');
        if (!eq)
                return log_error_errno(-ERRNO_USAGE, "--attr needs NAME=VALUE, not '%s'", s);
        if (eq == s)
                return log_error_errno(-ERRNO_USAGE, "--attr '%s': the attribute name is empty", s);

        copy = strdup(s);
        if (!copy)
                return log_error_errno(-ENOMEM, "out of memory");
        copy[eq - s] = '\0';
        /* An attribute is a file in the device's sysfs folder. */
        if (!siov_name_is_valid(copy)) {
                log_error_errno(-ERRNO_USAGE, "--attr '%s': '%s' is not a valid attribute name (a sysfs file name)",
                                s, copy);
                free(copy);
                return -ERRNO_USAGE;
        }
        *ret = (AttrArg) { .name = copy, .value = copy + (eq - s) + 1 };
        return 0;
}

int uuid_arg_parse(const char *s, char buf[static SIOV_UUID_STRING_MAX]) {
        if (siov_uuid_normalize(s, buf) < 0)
                return log_error_errno(-ERRNO_USAGE, "'%s' is not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", s);
        return 0;
}

int device_path_from_uuid(const char *uuid, char **ret) {
        return sd_bus_path_encode(SIOV_DBUS_DEVICE_PREFIX, uuid, ret);
}

int attrs_merge(const Attribute *existing, size_t n_existing, bool clear,
                const AttrArg *given, size_t n_given, Attribute **ret, size_t *ret_n) {
        Attribute *l;
        size_t n = 0;

        if (clear)
                n_existing = 0;
        l = calloc(n_existing + n_given + 1, sizeof(Attribute));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n_existing; i++)
                l[n++] = existing[i];
        for (size_t i = 0; i < n_given; i++) {
                size_t k;

                for (k = 0; k < n; k++)
                        if (streq(l[k].name, given[i].name))
                                break;
                if (k < n)
                        l[k].value = given[i].value;
                else
                        l[n++] = (Attribute) { given[i].name, given[i].value };
        }
        *ret = l;
        *ret_n = n;
        return 0;
}

/* ---- calls -------------------------------------------------------------- */

static int method_new(Context *c, const char *path, const char *interface, const char *member,
                      sd_bus_message **ret) {
        int r;

        r = bus_connect(c);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_call(c->bus, ret, SIOV_DBUS_NAME, path, interface, member);
        if (r < 0)
                return log_error_errno(r, "cannot build a call to %s: %m", member);
        return 0;
}

/* Sends m; failures are printed (naming object, if given) and return the
 * errno that selects the exit code. */
static int method_call(Context *c, const Options *o, sd_bus_message *m, const char *what,
                       const char *object, const char *object_id, sd_bus_message **ret_reply) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        bool interactive;
        int r;

        /* Only a person at a terminal can answer a password prompt. */
        interactive = o->ask_password && isatty(STDIN_FILENO);
        r = sd_bus_message_set_allow_interactive_authorization(m, interactive);
        if (r < 0)
                return log_error_errno(r, "cannot build the call: %m");

        if (interactive)
                polkit_agent_open_if_enabled(true);
        /* root is never asked: no reason to wait longer for a stuck siovd. */
        r = sd_bus_call(c->bus, m, interactive && geteuid() != 0 ? INTERACTIVE_TIMEOUT_USEC : 0, &error, &reply);
        polkit_agent_close();
        if (r < 0)
                return bus_log_call_error_object(c, &error, r, what, object, object_id);

        if (ret_reply)
                *ret_reply = TAKE_PTR(reply);
        return 0;
}

static int append_attrs(sd_bus_message *m, const Attribute *a, size_t n) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "(ss)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                r = sd_bus_message_append(m, "(ss)", a[i].name, a[i].value);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(m);
}

/* {"attrs": <a(ss)>} as one dictionary entry. */
static int append_attrs_entry(sd_bus_message *m, const Attribute *a, size_t n) {
        int r;

        r = sd_bus_message_open_container(m, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append_basic(m, 's', "attrs");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "a(ss)");
        if (r >= 0)
                r = append_attrs(m, a, n);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

static int attrs_from_args(const Options *o, Attribute **ret) {
        Attribute *a;

        a = calloc(o->n_attrs + 1, sizeof(Attribute));
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < o->n_attrs; i++)
                a[i] = (Attribute) { o->attrs[i].name, o->attrs[i].value };
        *ret = a;
        return 0;
}

/* The vf_* entries of an a{sv} (open): a VF's network settings as given;
 * siovd checks the values. */
static int append_vf_net_entries(sd_bus_message *m, const Options *o) {
        int r = 0;

        if (o->vf_mac)
                r = sd_bus_message_append(m, "{sv}", "vf_mac", "s", o->vf_mac);
        if (r >= 0 && o->vf_vlan_set)
                r = sd_bus_message_append(m, "{sv}", "vf_vlan", "u", o->vf_vlan);
        if (r >= 0 && o->vf_vlan_set && o->vf_qos_set)
                r = sd_bus_message_append(m, "{sv}", "vf_qos", "u", o->vf_qos);
        if (r >= 0 && o->vf_spoofchk >= 0)
                r = sd_bus_message_append(m, "{sv}", "vf_spoofchk", "b", o->vf_spoofchk);
        if (r >= 0 && o->vf_trust >= 0)
                r = sd_bus_message_append(m, "{sv}", "vf_trust", "b", o->vf_trust);
        if (r >= 0 && o->vf_link_state)
                r = sd_bus_message_append(m, "{sv}", "vf_link_state", "s", o->vf_link_state);
        return r;
}

/* The same as a whole a{sv}. */
static int append_vf_net_settings(sd_bus_message *m, const Options *o) {
        int r = sd_bus_message_open_container(m, 'a', "{sv}");

        if (r >= 0)
                r = append_vf_net_entries(m, o);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

/* The a{sv} of CreateDevice and DefineDevice. */
static int append_create_options(sd_bus_message *m, const Options *o, bool define) {
        _cleanup_free_ Attribute *attrs = NULL;
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        if (!define && o->persistent) {
                r = sd_bus_message_append(m, "{sv}", "persistent", "b", 1);
                if (r < 0)
                        return r;
        }
        if (o->autostart) {
                r = sd_bus_message_append(m, "{sv}", "autostart", "b", 1);
                if (r < 0)
                        return r;
        }
        if (o->n_attrs > 0) {
                r = attrs_from_args(o, &attrs);
                if (r < 0)
                        return r;
                r = append_attrs_entry(m, attrs, o->n_attrs);
                if (r < 0)
                        return r;
        }
        if (o->vm) {
                r = sd_bus_message_append(m, "{sv}", "vm", "s", o->vm);
                if (r < 0)
                        return r;
        }
        r = append_vf_net_entries(m, o);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(m);
}

/* A Manager method that takes one string. */
static int manager_call_string(Context *c, const Options *o, const char *member, const char *arg,
                               const char *what, sd_bus_message **ret_reply) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = method_new(c, SIOV_DBUS_PATH, SIOV_DBUS_MANAGER_INTERFACE, member, &m);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "s", arg);
        if (r < 0)
                return log_error_errno(r, "cannot build a call to %s: %m", member);
        return method_call(c, o, m, what, NULL, NULL, ret_reply);
}

/* ---- create, define ----------------------------------------------------- */

static int create_or_define(Context *c, const Options *o, bool define) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(model_freep) Model *model = NULL;
        _cleanup_free_ char *uuid = NULL, *object = NULL;
        const char *path, *member = define ? "DefineDevice" : "CreateDevice";
        bool fetch;
        int r;

        r = method_new(c, SIOV_DBUS_PATH, SIOV_DBUS_MANAGER_INTERFACE, member, &m);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "sss", strempty(o->parent), o->type, strempty(o->uuid));
        if (r >= 0)
                r = append_create_options(m, o, define);
        if (r < 0)
                return log_error_errno(r, "cannot build a call to %s: %m", member);

        /* siovd's errors name the parent and type themselves. */
        r = method_call(c, o, m, define ? "define the device" : "create the device", NULL, NULL, &reply);
        if (r < 0)
                return r;

        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0) {
                log_error_errno(r, "cannot parse siovd's answer to %s: %m", member);
                return -EPROTO;
        }
        r = sd_bus_path_decode(path, SIOV_DBUS_DEVICE_PREFIX, &uuid);
        if (r < 0)
                return log_error_errno(r, "out of memory");

        /* Without --parent say which one siovd picked; that, and --json,
         * need the new device's properties: one more call. */
        fetch = c->json || (!define && !o->parent) || r == 0;
        if (fetch) {
                if (asprintf(&object, "device %s", uuid ?: path) < 0) {
                        object = NULL;
                        return log_error_errno(-ENOMEM, "out of memory");
                }
                r = device_fetch(c, path, object, &model);
                if (r < 0 && (c->json || !uuid))
                        return r;
                /* The device was made: its UUID is still worth printing. */
        }

        if (c->json)
                return json_print(device_to_json(&model->devices[0]), stdout, c->json);

        if (model && !define && !o->parent) {
                _cleanup_free_ char *parent = strdup_printable(model->devices[0].parent);
                _cleanup_free_ char *type = strdup_printable(model->devices[0].type);

                if (!parent || !type)
                        return log_error_errno(-ENOMEM, "out of memory");
                log_info("created on %s (most available %s)", parent, type);
        }
        printf("%s\n", uuid ?: model->devices[0].uuid);
        return 0;
}

int verb_create(Context *c, const Options *o, int argc, char **argv) {
        return create_or_define(c, o, false);
}

int verb_define(Context *c, const Options *o, int argc, char **argv) {
        return create_or_define(c, o, true);
}

/* ---- methods of one device ---------------------------------------------- */

typedef int (*append_t)(sd_bus_message *m, const Options *o, const void *userdata);

/* Calls member on the device named by arg (a UUID). what: "start" for
 * "cannot start device <uuid>: ...". */
/* siovd answers a removal the kernel holds (a VM has the device open)
 * before it is done: say so, and who holds it. */
static void note_removing(Context *c, const char *path, const char *uuid) {
        _cleanup_free_ char *state = NULL;
        uint32_t pid = 0;

        if (sd_bus_get_property_string(c->bus, SIOV_DBUS_NAME, path, SIOV_DBUS_DEVICE_INTERFACE, "State",
                                       NULL, &state) < 0 || !streq(state, "removing"))
                return;
        (void) sd_bus_get_property_trivial(c->bus, SIOV_DBUS_NAME, path, SIOV_DBUS_DEVICE_INTERFACE,
                                           "HolderPID", NULL, 'u', &pid);
        if (pid > 0)
                fprintf(stderr, PROGRAM ": device %s is being removed: the kernel waits for process %" PRIu32
                        ", which holds it open; it goes when that process lets go\n", uuid, pid);
        else
                fprintf(stderr, PROGRAM ": device %s is being removed; the kernel is not done yet\n", uuid);
}

static int device_call(Context *c, const Options *o, const char *arg, const char *member, const char *verb,
                       append_t append, const void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *path = NULL, *object = NULL, *what = NULL;
        char uuid[SIOV_UUID_STRING_MAX];
        int r;

        r = uuid_arg_parse(arg, uuid);
        if (r < 0)
                return r;
        r = device_path_from_uuid(uuid, &path);
        if (r < 0)
                return log_error_errno(r, "out of memory");
        if (asprintf(&object, "device %s", uuid) < 0 || asprintf(&what, "%s device %s", verb, uuid) < 0) {
                object = what = NULL;
                return log_error_errno(-ENOMEM, "out of memory");
        }

        r = method_new(c, path, SIOV_DBUS_DEVICE_INTERFACE, member, &m);
        if (r < 0)
                return r;
        if (append) {
                r = append(m, o, userdata);
                if (r < 0)
                        return log_error_errno(r, "cannot build a call to %s: %m", member);
        }
        r = method_call(c, o, m, what, object, uuid, NULL);
        if (r >= 0 && (streq(member, "Destroy") || streq(member, "Stop")))
                note_removing(c, path, uuid);
        return r;
}

static int append_destroy(sd_bus_message *m, const Options *o, const void *userdata) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && o->force)
                r = sd_bus_message_append(m, "{sv}", "force", "b", 1);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

int verb_destroy(Context *c, const Options *o, int argc, char **argv) {
        return device_call(c, o, argv[1], "Destroy", "destroy", append_destroy, NULL);
}

int verb_start(Context *c, const Options *o, int argc, char **argv) {
        return device_call(c, o, argv[1], "Start", "start", NULL, NULL);
}

int verb_stop(Context *c, const Options *o, int argc, char **argv) {
        return device_call(c, o, argv[1], "Stop", "stop", NULL, NULL);
}

int verb_undefine(Context *c, const Options *o, int argc, char **argv) {
        return device_call(c, o, argv[1], "Undefine", "undefine", NULL, NULL);
}

typedef struct ModifyChanges {
        const Attribute *attrs; /* NULL: attributes unchanged */
        size_t n_attrs;
} ModifyChanges;

static int append_modify(sd_bus_message *m, const Options *o, const void *userdata) {
        const ModifyChanges *ch = userdata;
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        if (o->autostart || o->manual) {
                r = sd_bus_message_append(m, "{sv}", "autostart", "b", o->autostart);
                if (r < 0)
                        return r;
        }
        if (ch->attrs) {
                r = append_attrs_entry(m, ch->attrs, ch->n_attrs);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(m);
}

int verb_modify(Context *c, const Options *o, int argc, char **argv) {
        _cleanup_(model_freep) Model *model = NULL;
        _cleanup_free_ Attribute *attrs = NULL;
        ModifyChanges ch = {};
        int r;

        if (o->n_attrs > 0 || o->clear_attrs) {
                const Attribute *existing = NULL;
                size_t n_existing = 0;

                /* Modify replaces the whole list: start from the current one
                 * (read now; a concurrent modify of the same device may be lost). */
                if (!o->clear_attrs) {
                        _cleanup_free_ char *path = NULL, *object = NULL;
                        char uuid[SIOV_UUID_STRING_MAX];

                        r = uuid_arg_parse(argv[1], uuid);
                        if (r < 0)
                                return r;
                        r = device_path_from_uuid(uuid, &path);
                        if (r < 0 || asprintf(&object, "device %s", uuid) < 0) {
                                object = NULL;
                                return log_error_errno(-ENOMEM, "out of memory");
                        }
                        r = device_fetch(c, path, object, &model);
                        if (r < 0)
                                return r;
                        existing = model->devices[0].attributes;
                        n_existing = model->devices[0].n_attributes;
                }
                r = attrs_merge(existing, n_existing, o->clear_attrs, o->attrs, o->n_attrs, &attrs, &ch.n_attrs);
                if (r < 0)
                        return log_error_errno(r, "out of memory");
                ch.attrs = attrs;
        }

        return device_call(c, o, argv[1], "Modify", "modify", append_modify, &ch);
}

static int append_assign(sd_bus_message *m, const Options *o, const void *userdata) {
        return sd_bus_message_append(m, "sa{sv}", o->vm, 0);
}

int verb_assign(Context *c, const Options *o, int argc, char **argv) {
        return device_call(c, o, argv[1], "Assign", "assign", append_assign, NULL);
}

static int append_no_options(sd_bus_message *m, const Options *o, const void *userdata) {
        return sd_bus_message_append(m, "a{sv}", 0);
}

int verb_unassign(Context *c, const Options *o, int argc, char **argv) {
        return device_call(c, o, argv[1], "Unassign", "unassign", append_no_options, NULL);
}

/* ---- import-mdevctl ----------------------------------------------------- */

static json_object *import_result_to_json(const ImportResult *r) {
        json_object *o;

        o = json_object_new_object();
        if (!o)
                return NULL;
        if (json_object_object_add(o, "uuid", json_object_new_string(strempty(r->uuid))) < 0 ||
            json_object_object_add(o, "parent", json_object_new_string(strempty(r->parent))) < 0 ||
            json_object_object_add(o, "result", json_object_new_string(strempty(r->result))) < 0 ||
            json_object_object_add(o, "reason", json_object_new_string(strempty(r->reason))) < 0) {
                json_object_put(o);
                return NULL;
        }
        return o;
}

int import_results_print(const ImportResult *results, size_t n, FILE *f, JsonMode json) {
        size_t refused = 0;
        int r;

        for (size_t i = 0; i < n; i++)
                if (!streq(strempty(results[i].result), "defined"))
                        refused++;

        if (json) {
                _cleanup_(json_array_done) JsonArray a = {};

                json_array_begin(&a, f, json);
                for (size_t i = 0; i < n; i++) {
                        r = json_array_add(&a, import_result_to_json(&results[i]));
                        if (r < 0)
                                return r;
                }
                r = json_array_end(&a);
                return r < 0 ? r : (int) refused;
        }

        for (size_t i = 0; i < n; i++) {
                /* The reason may quote a file's contents: one line each. */
                _cleanup_free_ char *uuid = strdup_printable(isempty(results[i].uuid) ? "?" : results[i].uuid);
                _cleanup_free_ char *parent = strdup_printable(isempty(results[i].parent) ? "?" : results[i].parent);
                _cleanup_free_ char *result = strdup_printable(isempty(results[i].result) ? "?" : results[i].result);
                _cleanup_free_ char *reason = strdup_printable(strempty(results[i].reason));

                if (!uuid || !parent || !result || !reason)
                        return log_error_errno(-ENOMEM, "out of memory");
                if (isempty(reason))
                        fprintf(f, "%s %s on %s\n", result, uuid, parent);
                else
                        fprintf(f, "%s %s on %s: %s\n", result, uuid, parent, reason);
        }
        if (ferror(f))
                return log_error_errno(-EIO, "cannot write the output");
        return (int) refused;
}

int verb_import_mdevctl(Context *c, const Options *o, int argc, char **argv) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ ImportResult *results = NULL;
        _cleanup_free_ char *dir = NULL;
        size_t n = 0, allocated = 0;
        int r;

        if (argc > 1) {
                if (isempty(argv[1]))
                        return log_error_errno(-ERRNO_USAGE, "the folder must not be empty");
                /* siovd has its own working directory: send an absolute path. */
                if (argv[1][0] == '/')
                        dir = strdup(argv[1]);
                else {
                        _cleanup_free_ char *cwd = getcwd(NULL, 0);

                        if (!cwd)
                                return log_error_errno(-errno, "cannot get the current folder: %m");
                        if (asprintf(&dir, "%s/%s", cwd, argv[1]) < 0)
                                dir = NULL;
                }
                if (!dir)
                        return log_error_errno(-ENOMEM, "out of memory");
        }

        r = manager_call_string(c, o, "ImportMdevctl", strempty(dir), "import mdevctl's definitions", &reply);
        if (r < 0)
                return r;

        r = sd_bus_message_enter_container(reply, 'a', "(ssss)");
        while (r >= 0) {
                ImportResult x;

                r = sd_bus_message_read(reply, "(ssss)", &x.uuid, &x.parent, &x.result, &x.reason);
                if (r <= 0)
                        break;
                if (!GREEDY_REALLOC(results, allocated, n + 1))
                        return log_error_errno(-ENOMEM, "out of memory");
                results[n++] = x;
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        if (r < 0) {
                log_error_errno(r, "cannot parse siovd's answer to ImportMdevctl: %m");
                return -EPROTO;
        }

        r = import_results_print(results, n, stdout, c->json);
        if (r < 0)
                return r;
        if (n == 0 && !c->json)
                log_info("no mdevctl definitions in %s", dir ?: "/etc/mdevctl.d");
        if (r > 0) {
                /* After the lines it sums up, also when stdout is a pipe. */
                fflush(stdout);
                return log_error_errno(-EIO, "%d of %zu mdevctl definition%s refused",
                                       r, n, n == 1 ? " was" : "s were");
        }
        return 0;
}

/* ---- provision ---------------------------------------------------------- */

int verb_provision(Context *c, const Options *o, int argc, char **argv) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(json_array_done) JsonArray a = {};
        const char *path;
        int r;

        r = manager_call_string(c, o, "ProvisionParent", argv[1], "provision the parent", &reply);
        if (r < 0)
                return r;

        r = sd_bus_message_enter_container(reply, 'a', "o");
        if (r < 0)
                goto bad;
        if (c->json)
                json_array_begin(&a, stdout, c->json);
        while ((r = sd_bus_message_read_basic(reply, 'o', &path)) > 0) {
                _cleanup_free_ char *uuid = NULL;

                r = sd_bus_path_decode(path, SIOV_DBUS_DEVICE_PREFIX, &uuid);
                if (r < 0)
                        return log_error_errno(r, "out of memory");
                if (r == 0) {
                        log_error_errno(-EBADMSG, "siovd returned '%s', which is not a device path", path);
                        return -EPROTO;
                }
                if (c->json) {
                        r = json_array_add(&a, json_object_new_string(uuid));
                        if (r < 0)
                                return r;
                } else
                        printf("%s\n", uuid);
        }
        if (r < 0)
                goto bad;
        if (c->json)
                return json_array_end(&a);
        return 0;
bad:
        log_error_errno(r, "cannot parse siovd's answer to ProvisionParent: %m");
        return -EPROTO;
}

/* ---- sriov -------------------------------------------------------------- */

/* Autoprobe first: VFs made by the count change then stay unbound. */
int verb_sriov(Context *c, const Options *o, int argc, char **argv) {
        const char *pf = argv[1];
        _cleanup_free_ char *path = NULL, *object = NULL;
        int r;

        if (!siov_pci_address_is_valid(pf))
                return log_error_errno(-ERRNO_USAGE, "'%s' is not a PCI address (dddd:bb:dd.f)", pf);
        r = sd_bus_path_encode(SIOV_DBUS_PARENT_PREFIX, pf, &path);
        if (r < 0 || asprintf(&object, "parent %s", pf) < 0)
                return log_error_errno(-ENOMEM, "out of memory");

        /* Usage first: nothing is changed by a command line that is wrong. */
        if (!o->vf_set && (o->vf_mac || o->vf_vlan_set || o->vf_spoofchk >= 0 || o->vf_trust >= 0 || o->vf_link_state))
                return log_error_errno(-ERRNO_USAGE, "sriov: the --vf-* options need --vf N (the VF to set)");
        if (o->vf_set && !(o->vf_mac || o->vf_vlan_set || o->vf_spoofchk >= 0 || o->vf_trust >= 0 || o->vf_link_state))
                return log_error_errno(-ERRNO_USAGE, "sriov: --vf N needs a setting (--vf-mac, --vf-vlan, --vf-spoofchk, "
                                       "--vf-trust, --vf-link-state)");
        if (o->autoprobe >= 0) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;

                r = method_new(c, path, SIOV_DBUS_PARENT_INTERFACE, "SetAutoprobe", &m);
                if (r < 0)
                        return r;
                r = sd_bus_message_append(m, "ba{sv}", o->autoprobe, o->persistent ? 1 : 0, "persistent", "b", 1);
                if (r < 0)
                        return log_error_errno(r, "cannot build a call to SetAutoprobe: %s", strerror(-r));
                r = method_call(c, o, m, "set autoprobe", object, pf, NULL);
                if (r < 0)
                        return r;
        }
        if (o->numvfs_set) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;

                r = method_new(c, path, SIOV_DBUS_PARENT_INTERFACE, "SetNumVFs", &m);
                if (r < 0)
                        return r;
                r = sd_bus_message_append(m, "u", o->numvfs);
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'a', "{sv}");
                if (r >= 0 && o->force)
                        r = sd_bus_message_append(m, "{sv}", "force", "b", 1);
                if (r >= 0 && o->persistent)
                        r = sd_bus_message_append(m, "{sv}", "persistent", "b", 1);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r < 0)
                        return log_error_errno(r, "cannot build a call to SetNumVFs: %s", strerror(-r));
                r = method_call(c, o, m, "set the VF count", object, pf, NULL);
                if (r < 0)
                        return r;
        }
        /* After the count: the VF must exist. */
        if (o->vf_set) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;

                r = method_new(c, path, SIOV_DBUS_PARENT_INTERFACE, "SetVfNetwork", &m);
                if (r < 0)
                        return r;
                r = sd_bus_message_append(m, "u", o->vf);
                if (r >= 0)
                        r = append_vf_net_settings(m, o);
                if (r >= 0)
                        r = sd_bus_message_append(m, "a{sv}", o->persistent ? 1 : 0, "persistent", "b", 1);
                if (r < 0)
                        return log_error_errno(r, "cannot build a call to SetVfNetwork: %s", strerror(-r));
                r = method_call(c, o, m, "set the VF's network settings", object, pf, NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}
