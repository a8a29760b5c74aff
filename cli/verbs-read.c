/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The read commands: parents, types, list, status. Each fetches what it
 * shows through the compact Manager calls (model_fetch_compact,
 * device_list_fetch), filters it and prints a table or JSON
 * built by the shared *_to_json() functions.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "siov-names.h"
#include "siovctl.h"

/* ---- filters ----------------------------------------------------------- */

/* Up to this many known names are listed in an error, on one line. */
#define KNOWN_MAX 10

typedef struct Names {
        const char **names;
        size_t n;
} Names;

static void names_done(Names *l) {
        free(l->names);
}

static int names_add(Names *l, const char *s) {
        const char **p;

        if (isempty(s))
                return 0;
        p = reallocarray(l->names, l->n + 1, sizeof(char *));
        if (!p)
                return -ENOMEM;
        l->names = p;
        l->names[l->n++] = s;
        return 0;
}

static int names_compare(const void *a, const void *b) {
        return name_compare(*(const char * const *) a, *(const char * const *) b);
}

static void names_sort_unique(Names *l) {
        size_t k = 0;

        if (l->n < 2)
                return;
        qsort_safe(l->names, l->n, sizeof(char *), names_compare);
        for (size_t i = 0; i < l->n; i++)
                if (k == 0 || !streq(l->names[k - 1], l->names[i]))
                        l->names[k++] = l->names[i];
        l->n = k;
}

static bool names_contain(const Names *l, const char *s) {
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->names[i], s))
                        return true;
        return false;
}

/* Prints "no such <what> 'X'" with a case hint or the known names, one line. */
static int log_no_such(const char *what, const char *value, const char *scope, const Names *known) {
        _cleanup_free_ char *list = NULL;
        char *buf = NULL;
        size_t size = 0;
        FILE *f;

        for (size_t i = 0; i < known->n; i++)
                if (strcasecmp(known->names[i], value) == 0)
                        return log_error_errno(-ERRNO_NO_SUCH_OBJECT, "no such %s '%s'%s; did you mean '%s'?",
                                               what, value, strempty(scope), known->names[i]);

        f = open_memstream(&buf, &size);
        if (!f)
                return log_error_errno(-ENOMEM, "out of memory");
        for (size_t i = 0; i < known->n && i < KNOWN_MAX; i++)
                fprintf(f, "%s%s", i > 0 ? ", " : "", known->names[i]);
        if (known->n > KNOWN_MAX)
                fprintf(f, ", ... (%zu in all)", known->n);
        if (fclose(f) != 0) {
                free(buf);
                return log_error_errno(-ENOMEM, "out of memory");
        }
        list = buf;

        if (known->n == 0)
                return log_error_errno(-ERRNO_NO_SUCH_OBJECT, "no such %s '%s'%s (siovd knows none)",
                                       what, value, strempty(scope));
        return log_error_errno(-ERRNO_NO_SUCH_OBJECT, "no such %s '%s'%s (known: %s)",
                               what, value, strempty(scope), list);
}

/* A parent filter must name a parent siovd knows: a Parent object, or the
 * parent of a type or of a (defined) device whose parent is absent. */
static int check_parent_filter(const Model *m, const char *parent) {
        _cleanup_(names_done) Names known = {};

        if (!parent)
                return 0;
        for (size_t i = 0; i < m->n_parents; i++)
                if (names_add(&known, m->parents[i].name) < 0)
                        return log_error_errno(-ENOMEM, "out of memory");
        for (size_t i = 0; i < m->n_types; i++)
                if (names_add(&known, m->types[i].parent) < 0)
                        return log_error_errno(-ENOMEM, "out of memory");
        for (size_t i = 0; i < m->n_devices; i++)
                if (names_add(&known, m->devices[i].parent) < 0)
                        return log_error_errno(-ENOMEM, "out of memory");
        names_sort_unique(&known);

        if (names_contain(&known, parent))
                return 0;
        return log_no_such("parent", parent, NULL, &known);
}

static int print_empty(const char *what) {
        printf("No %s found.\n", what);
        return 0;
}

/* Appends o to the json-c array a, consuming o. */
static int array_add(json_object *a, json_object *o) {
        if (!o)
                return log_error_errno(-ENOMEM, "out of memory");
        if (json_object_array_add(a, o) < 0) {
                json_object_put(o);
                return log_error_errno(-ENOMEM, "out of memory");
        }
        return 0;
}

#define TABLE_ADD(t, cell)                                                      \
        do {                                                                    \
                if (table_add((t), (cell)) < 0)                                 \
                        return log_error_errno(-ENOMEM, "out of memory");       \
        } while (0)

#define TABLE_ADD_FREE(t, s)                                                    \
        do {                                                                    \
                _cleanup_free_ char *_s_ = (s);                                 \
                if (!_s_)                                                       \
                        return log_error_errno(-ENOMEM, "out of memory");       \
                TABLE_ADD(t, _s_);                                              \
        } while (0)

#define TABLE_ADDF(t, ...)                                                      \
        do {                                                                    \
                if (table_addf((t), __VA_ARGS__) < 0)                           \
                        return log_error_errno(-ENOMEM, "out of memory");       \
        } while (0)

static char *vfs_to_string(const Parent *p) {
        char *s;

        if (!strv_contains_const(p->kinds, "sriov"))
                return strdup("");
        if (asprintf(&s, "%u/%u", p->num_vfs, p->total_vfs) < 0)
                return NULL;
        return s;
}

static void print_broken_line(const char *what, const char *parent, const char *type, const char *reason) {
        /* Reasons quote sysfs contents: keep the terminal safe. */
        _cleanup_free_ char *r = strdup_printable(reason);

        printf("  %s %s%s%s: %s\n", what, parent, type ? "/" : "", strempty(type), r ?: "(out of memory)");
}

/* Broken parents and types, one line each, under a title; returns how many. */
static size_t print_broken(const Model *m, const char *title) {
        size_t n = 0;

        for (size_t i = 0; i < m->n_parents; i++) {
                const Parent *p = &m->parents[i];

                if (isempty(p->broken))
                        continue;
                if (n++ == 0)
                        printf("\n%s\n", title);
                print_broken_line("parent", p->name, NULL, p->broken);
        }
        for (size_t i = 0; i < m->n_types; i++) {
                const Type *t = &m->types[i];

                if (isempty(t->broken))
                        continue;
                if (n++ == 0)
                        printf("\n%s\n", title);
                print_broken_line("type", t->parent, t->id, t->broken);
        }
        return n;
}

/* ---- parents ----------------------------------------------------------- */

/* The WQs of every idxd parent (or of the one named only), one table each. */
static int print_work_queues(const Model *m, const char *only) {
        for (size_t i = 0; i < m->n_parents; i++) {
                const Parent *p = &m->parents[i];
                _cleanup_(table_freep) Table *t = NULL;

                if (isempty(p->idxd_device) || (only && !streq(p->name, only)))
                        continue;
                if (streq(p->name, p->idxd_device))
                        printf("\nWork queues of %s (%s):\n", p->name, p->idxd_state);
                else
                        printf("\nWork queues of %s on %s (%s):\n", p->idxd_device, p->name, p->idxd_state);
                t = table_new("WQ", "MODE", "TYPE", "STATE", "DRIVER", ">SIZE", ">GROUP", ">CLIENTS", "NAME", NULL);
                if (!t)
                        return log_error_errno(-ENOMEM, "out of memory");
                for (size_t j = 0; j < p->n_work_queues; j++) {
                        const WorkQueue *wq = &p->work_queues[j];

                        TABLE_ADD(t, wq->name);
                        TABLE_ADD(t, wq->mode);
                        TABLE_ADD(t, wq->type);
                        TABLE_ADD(t, wq->state);
                        TABLE_ADD(t, wq->driver);
                        TABLE_ADDF(t, "%u", wq->size);
                        if (wq->group >= 0)
                                TABLE_ADDF(t, "%d", wq->group);
                        else
                                TABLE_ADD(t, "");
                        if (wq->clients >= 0)
                                TABLE_ADDF(t, "%d", wq->clients);
                        else
                                TABLE_ADD(t, "");
                        TABLE_ADD(t, wq->label);
                }
                table_print(t, stdout);
        }
        return 0;
}

/* Under `types`: what the WQs of each idxd parent leave for mdevs, and
 * which WQs the host holds. */
static int print_idxd_summary(const Model *m, const char *only) {
        for (size_t i = 0; i < m->n_parents; i++) {
                const Parent *p = &m->parents[i];
                uint32_t kernel = 0, user = 0, free_wqs = 0;
                const char *sep = ": ";

                if (isempty(p->idxd_device) || (only && !streq(p->name, only)))
                        continue;
                for (size_t j = 0; j < p->n_host_usage; j++) {
                        if (streq(p->host_usage[j].key, "wq-kernel"))
                                kernel = p->host_usage[j].value;
                        else if (streq(p->host_usage[j].key, "wq-user"))
                                user = p->host_usage[j].value;
                }
                for (size_t j = 0; j < p->n_resources; j++)
                        if (streq(p->resources[j].key, "free"))
                                free_wqs = p->resources[j].value;
                if (streq(p->name, p->idxd_device))
                        printf("\n%s:", p->name);
                else
                        printf("\n%s (%s):", p->name, p->idxd_device);
                printf(" %u of %zu work queues free for mdevs; the host uses %u kernel, %u user",
                       free_wqs, p->n_work_queues, kernel, user);
                for (size_t j = 0; j < p->n_work_queues; j++) {
                        const WorkQueue *wq = &p->work_queues[j];
                        _cleanup_free_ char *d = NULL;

                        if (!streq(wq->state, "enabled"))
                                continue;
                        d = work_queue_to_string(wq);
                        if (!d)
                                return log_error_errno(-ENOMEM, "out of memory");
                        printf("%s%s", sep, d);
                        sep = "; ";
                }
                printf("\n");
        }
        return 0;
}

int verb_parents(Context *c, const Options *o, int argc, char **argv) {
        _cleanup_(model_freep) Model *m = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        int r;

        r = model_fetch_compact(c, false, &m);
        if (r < 0)
                return r;

        if (c->json) {
                _cleanup_(json_array_done) JsonArray a = {};

                json_array_begin(&a, stdout, c->json);
                for (size_t i = 0; i < m->n_parents; i++) {
                        r = json_array_add(&a, parent_to_json(&m->parents[i]));
                        if (r < 0)
                                return r;
                }
                return json_array_end(&a);
        }

        if (m->n_parents == 0)
                return print_empty("parents");

        /* The long, variable columns last, so the others stay aligned. */
        t = table_new("NAME", "KINDS", "DRIVER", ">VFS", "AUTOPROBE", "HOST-USE", "AVAILABLE", NULL);
        if (!t)
                return log_error_errno(-ENOMEM, "out of memory");
        for (size_t i = 0; i < m->n_parents; i++) {
                const Parent *p = &m->parents[i];

                TABLE_ADD(t, p->name);
                TABLE_ADD_FREE(t, strv_join_const(p->kinds, ","));
                TABLE_ADD(t, p->driver);
                TABLE_ADD_FREE(t, vfs_to_string(p));
                TABLE_ADD(t, !strv_contains_const(p->kinds, "sriov") ? "" : p->autoprobe ? "yes" : "no");
                TABLE_ADD_FREE(t, key_values_to_string(p->host_usage, p->n_host_usage));
                TABLE_ADD_FREE(t, parent_available_to_string(p));
        }
        table_print(t, stdout);
        r = print_work_queues(m, NULL);
        if (r < 0)
                return r;
        print_broken(m, "Broken:");
        return 0;
}

/* ---- types ------------------------------------------------------------- */

int verb_types(Context *c, const Options *o, int argc, char **argv) {
        _cleanup_(model_freep) Model *m = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        int r;

        r = model_fetch_compact(c, false, &m);
        if (r < 0)
                return r;

        r = check_parent_filter(m, o->parent);
        if (r < 0)
                return r;

        if (c->json) {
                _cleanup_(json_array_done) JsonArray a = {};

                json_array_begin(&a, stdout, c->json);
                for (size_t i = 0; i < m->n_types; i++) {
                        if (o->parent && !streq(m->types[i].parent, o->parent))
                                continue;
                        r = json_array_add(&a, type_to_json(&m->types[i]));
                        if (r < 0)
                                return r;
                }
                return json_array_end(&a);
        }

        t = table_new("PARENT", "TYPE", "KIND", ">AVAILABLE", "DEVICE-API", "NAME", NULL);
        if (!t)
                return log_error_errno(-ENOMEM, "out of memory");
        for (size_t i = 0; i < m->n_types; i++) {
                const Type *ty = &m->types[i];

                if (o->parent && !streq(ty->parent, o->parent))
                        continue;

                TABLE_ADD(t, ty->parent);
                TABLE_ADD(t, ty->id);
                TABLE_ADD(t, ty->kind);
                if (isempty(ty->broken)) {
                        TABLE_ADDF(t, "%u", ty->available);
                        TABLE_ADD(t, ty->device_api);
                        TABLE_ADD(t, ty->name);
                } else {
                        TABLE_ADD(t, "?");
                        TABLE_ADD(t, ty->device_api);
                        TABLE_ADDF(t, "BROKEN: %s", ty->broken);
                }
        }
        if (table_get_rows(t) == 0)
                r = print_empty("types");
        else
                table_print(t, stdout);
        if (r < 0)
                return r;
        return print_idxd_summary(m, o->parent);
}

/* ---- list -------------------------------------------------------------- */

static char *device_details(const Device *d) {
        char *buf = NULL;
        size_t size = 0;
        const char *sep = "";
        FILE *f;

        f = open_memstream(&buf, &size);
        if (!f)
                return NULL;

        if (streq(d->kind, "vf") && !isempty(d->address)) {
                fprintf(f, "%s%s", sep, d->address);
                sep = " ";
        }
        if (!isempty(d->driver)) {
                fprintf(f, "%s%s", sep, d->driver);
                sep = " ";
        }
        if (streq(d->kind, "vf")) {
                fprintf(f, "%s%s", sep, d->host_used ? "host" : "free");
                sep = " ";
        }
        for (const char **n = d->netdevs; n && *n; n++) {
                fprintf(f, "%s%s", sep, *n);
                sep = n[1] ? "," : " ";
        }
        if (d->vgpu) {
                if (d->vgpu_type > 0)
                        fprintf(f, "%svgpu=%u", sep, d->vgpu_type);
                else
                        fprintf(f, "%svgpu=none(%zu creatable)", sep, d->n_vgpu_types);
                sep = " ";
        }
        if (d->vf_net) {
                if (!isempty(d->vf_mac))
                        fprintf(f, "%smac=%s", sep, d->vf_mac);
                if (d->vf_vlan > 0)
                        fprintf(f, " vlan=%u", d->vf_vlan);
                if (d->vf_vlan > 0 && d->vf_qos > 0)
                        fprintf(f, ",qos=%u", d->vf_qos);
                if (!isempty(d->vf_link_state))
                        fprintf(f, " link=%s", d->vf_link_state);
                if (!isempty(d->vf_spoofchk))
                        fprintf(f, " spoofchk=%s", d->vf_spoofchk);
                if (!isempty(d->vf_trust))
                        fprintf(f, " trust=%s", d->vf_trust);
                sep = " ";
        }
        if (!isempty(d->owner)) {
                fprintf(f, "%sowner=%s", sep, d->owner);
                sep = " ";
        }
        if (d->autostart) {
                fprintf(f, "%sautostart", sep);
                sep = " ";
        }
        if (d->n_attributes > 0)
                fprintf(f, "%s%zu attr%s", sep, d->n_attributes, d->n_attributes == 1 ? "" : "s");

        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

/* Also the filters siovd does not apply: --defined, --active, --vm. */
static bool device_selected(const Device *d, const Options *o) {
        if ((o->parent && !streq(d->parent, o->parent)) ||
            (o->type && !streq(d->type, o->type)))
                return false;
        if (o->defined && !streq(d->state, "defined") && !streq(d->state, "both"))
                return false;
        if (o->active && !streq(d->state, "active") && !streq(d->state, "both"))
                return false;
        if (o->vm && !streq(d->vm, o->vm))
                return false;
        return true;
}

int verb_list(Context *c, const Options *o, int argc, char **argv) {
        _cleanup_(model_freep) Model *m = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        int r;

        /* Not GetManagedObjects: with 10,000 devices the compact list is a
         * third of the bytes to marshal, route and parse. */
        r = device_list_fetch(c, o->parent, o->type, true, &m);
        if (r < 0)
                return r;

        if (c->json) {
                _cleanup_(json_array_done) JsonArray a = {};

                json_array_begin(&a, stdout, c->json);
                for (size_t i = 0; i < m->n_devices; i++) {
                        const Device *d = &m->devices[i];

                        if (!device_selected(d, o))
                                continue;
                        r = json_array_add_device(&a, d);
                        if (r < 0)
                                return r;
                }
                return json_array_end(&a);
        }

        t = table_new("UUID", "KIND", "PARENT", "TYPE", "STATE", "VM", "DETAILS", NULL);
        if (!t)
                return log_error_errno(-ENOMEM, "out of memory");
        for (size_t i = 0; i < m->n_devices; i++) {
                const Device *d = &m->devices[i];

                if (!device_selected(d, o))
                        continue;

                TABLE_ADD(t, d->uuid);
                TABLE_ADD(t, d->kind);
                TABLE_ADD(t, d->parent);
                TABLE_ADD(t, d->type);
                TABLE_ADD(t, d->state);
                TABLE_ADD(t, d->vm);
                TABLE_ADD_FREE(t, device_details(d));
        }
        if (table_get_rows(t) == 0)
                return print_empty("devices");
        table_print(t, stdout);
        return 0;
}

/* ---- status ------------------------------------------------------------ */

/* Counts by name: fixed keys first (always present, even at 0), then any
 * other value seen, in order of appearance. */
typedef struct Counter {
        KeyValue *kv;
        size_t n;
} Counter;

static void counter_done(Counter *c) {
        free(c->kv);
}

static int counter_add(Counter *c, const char *key, uint32_t inc) {
        KeyValue *p;

        for (size_t i = 0; i < c->n; i++)
                if (streq(c->kv[i].key, key)) {
                        c->kv[i].value += inc;
                        return 0;
                }
        p = reallocarray(c->kv, c->n + 1, sizeof(KeyValue));
        if (!p)
                return -ENOMEM;
        c->kv = p;
        c->kv[c->n++] = (KeyValue) { key, inc };
        return 0;
}

static json_object *counter_to_json(const Counter *c) {
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        for (size_t i = 0; i < c->n; i++) {
                json_object *v = json_object_new_int64(c->kv[i].value);

                /* Keys here are fixed words or siovd's kind/state values. */
                if (!v || json_object_object_add(o, c->kv[i].key, v) < 0) {
                        json_object_put(v);
                        json_object_put(o);
                        return NULL;
                }
        }
        return o;
}

static json_object *broken_to_json(const char *object, const char *object_type, const char *reason) {
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        if (json_object_object_add(o, "object", json_object_new_string(object)) < 0 ||
            json_object_object_add(o, "object_type", json_object_new_string(object_type)) < 0 ||
            json_object_object_add(o, "reason", json_object_new_string(reason)) < 0) {
                json_object_put(o);
                return NULL;
        }
        return o;
}

/* Adds to o under key (copied), consuming v; -ENOMEM when v is NULL. */
static int object_add(json_object *o, const char *key, json_object *v) {
        if (!v)
                return -ENOMEM;
        if (json_object_object_add(o, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

/* A definition whose parent is absent (not present now, or never seen):
 * it is started when the parent appears. */
static bool device_waits_for_parent(const Model *m, const Device *d) {
        return streq(d->state, "defined") && !model_find_parent(m, d->parent);
}

static json_object *waiting_to_json(const Device *d) {
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        if (object_add(o, "uuid", json_object_new_string(d->uuid)) < 0 ||
            object_add(o, "parent", json_object_new_string(d->parent)) < 0 ||
            object_add(o, "type", json_object_new_string(d->type)) < 0 ||
            object_add(o, "autostart", json_object_new_boolean(d->autostart)) < 0 ||
            object_add(o, "vm", json_object_new_string(d->vm)) < 0) {
                json_object_put(o);
                return NULL;
        }
        return o;
}

static json_object *definitions_to_json(const Model *m) {
        json_object *o = json_object_new_object(), *skipped = json_object_new_array(),
                *refused = json_object_new_array();

        if (!o || !skipped || !refused)
                goto fail;
        for (size_t i = 0; i < m->n_skipped_definitions; i++) {
                json_object *e = json_object_new_object();

                if (array_add(skipped, e) < 0 ||
                    object_add(e, "path", json_object_new_string(m->skipped_definitions[i].name)) < 0 ||
                    object_add(e, "reason", json_object_new_string(m->skipped_definitions[i].value)) < 0)
                        goto fail;
        }
        for (size_t i = 0; i < m->n_refused_changes; i++) {
                json_object *e = json_object_new_object();

                if (array_add(refused, e) < 0 ||
                    object_add(e, "time_usec", json_object_new_uint64(m->refused_changes[i].usec)) < 0 ||
                    object_add(e, "uuid", json_object_new_string(m->refused_changes[i].uuid)) < 0 ||
                    object_add(e, "reason", json_object_new_string(m->refused_changes[i].reason)) < 0)
                        goto fail;
        }
        if (object_add(o, "dir", json_object_new_string(m->definitions_dir)) < 0 ||
            object_add(o, "problem", json_object_new_string(m->definitions_problem)) < 0 ||
            object_add(o, "skipped", TAKE_PTR(skipped)) < 0 ||
            object_add(o, "refused", TAKE_PTR(refused)) < 0)
                goto fail;
        return o;
fail:
        json_object_put(skipped);
        json_object_put(refused);
        json_object_put(o);
        return NULL;
}

static void print_definitions(const Model *m) {
        if (isempty(m->definitions_dir))
                return;
        if (isempty(m->definitions_problem))
                printf("Definitions: %s\n", m->definitions_dir);
        else {
                _cleanup_free_ char *p = strdup_printable(m->definitions_problem);

                printf("Definitions: %s: DEGRADED: %s; persistent changes are refused\n",
                       m->definitions_dir, p ?: "(out of memory)");
        }
}

static void print_definition_problems(const Model *m) {
        if (m->n_skipped_definitions > 0) {
                printf("\nWarning: definition files siovd skipped (never changed by siovd):\n");
                for (size_t i = 0; i < m->n_skipped_definitions; i++) {
                        _cleanup_free_ char *p = strdup_printable(m->skipped_definitions[i].name),
                                *r = strdup_printable(m->skipped_definitions[i].value);

                        printf("  %s: %s\n", p ?: "?", r ?: "(out of memory)");
                }
        }
        if (m->n_refused_changes > 0) {
                printf("\nRefused changes of definitions (latest %zu):\n", m->n_refused_changes);
                for (size_t i = 0; i < m->n_refused_changes; i++) {
                        _cleanup_free_ char *r = strdup_printable(m->refused_changes[i].reason);
                        char when[64] = "";
                        time_t t = (time_t) (m->refused_changes[i].usec / 1000000u);
                        struct tm tm;

                        if (localtime_r(&t, &tm))
                                strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
                        printf("  %s %s: %s\n", when, m->refused_changes[i].uuid, r ?: "(out of memory)");
                }
        }
}

/* Manager.ListParentConfigs: the persistent PF configurations. */
typedef struct ParentConfig {
        const char *pf, *state, *reason;
        int32_t numvfs, autoprobe;
} ParentConfig;

typedef struct ParentConfigs {
        sd_bus_message *reply;
        ParentConfig *l;
        size_t n;
} ParentConfigs;

static void parent_configs_done(ParentConfigs *pc) {
        sd_bus_message_unref(pc->reply);
        free(pc->l);
}

/* From the reply model_fetch_compact() fetched with the manager. */
static int parent_configs_read(Model *m, ParentConfigs *pc) {
        int r;

        pc->reply = sd_bus_message_ref(m->configs_reply);
        r = sd_bus_message_enter_container(pc->reply, 'a', "(siiss)");
        while (r >= 0) {
                ParentConfig x, *l;

                r = sd_bus_message_read(pc->reply, "(siiss)", &x.pf, &x.numvfs, &x.autoprobe, &x.state, &x.reason);
                if (r <= 0)
                        break;
                l = reallocarray(pc->l, pc->n + 1, sizeof(ParentConfig));
                if (!l)
                        return log_error_errno(-ENOMEM, "out of memory");
                pc->l = l;
                pc->l[pc->n++] = x;
        }
        if (r < 0)
                return log_error_errno(r, "cannot parse siovd's answer to ListParentConfigs: %s", strerror(-r));
        for (size_t i = 1; i < pc->n; i++)      /* by PF, stable output */
                for (size_t j = i; j > 0 && strcmp(pc->l[j - 1].pf, pc->l[j].pf) > 0; j--) {
                        ParentConfig t = pc->l[j];
                        pc->l[j] = pc->l[j - 1];
                        pc->l[j - 1] = t;
                }
        return 0;
}

static int status_json(Context *c, const Model *m, const Counter *parent_kinds,
                       const Counter *kinds, const Counter *states, const ParentConfigs *pc) {
        json_object *o = NULL, *broken = NULL, *details = NULL, *waiting = NULL, *configs = NULL;

        configs = json_object_new_array();
        if (!configs)
                goto oom;
        for (size_t i = 0; i < pc->n; i++) {
                json_object *x = json_object_new_object();

                if (!x || json_object_array_add(configs, x) < 0) {
                        json_object_put(x);
                        goto oom;
                }
                if (object_add(x, "pf", json_object_new_string(pc->l[i].pf)) < 0 ||
                    object_add(x, "state", json_object_new_string(pc->l[i].state)) < 0 ||
                    object_add(x, "numvfs", json_object_new_int(pc->l[i].numvfs)) < 0 ||
                    object_add(x, "autoprobe", json_object_new_int(pc->l[i].autoprobe)) < 0 ||
                    object_add(x, "reason", json_object_new_string(pc->l[i].reason)) < 0)
                        goto oom;
        }
        o = json_object_new_object();
        broken = json_object_new_array();
        details = json_object_new_array_ext(m->n_parents);
        waiting = json_object_new_array();
        if (!o || !broken || !details || !waiting)
                goto oom;

        for (size_t i = 0; i < m->n_devices; i++)
                if (device_waits_for_parent(m, &m->devices[i]) &&
                    array_add(waiting, waiting_to_json(&m->devices[i])) < 0)
                        goto fail;

        for (size_t i = 0; i < m->n_parents; i++) {
                const Parent *p = &m->parents[i];

                if (!isempty(p->broken) &&
                    array_add(broken, broken_to_json(p->name, "parent", p->broken)) < 0)
                        goto fail;
                if (array_add(details, parent_to_json(p)) < 0)
                        goto fail;
        }
        for (size_t i = 0; i < m->n_types; i++) {
                const Type *t = &m->types[i];
                _cleanup_free_ char *name = NULL;

                if (isempty(t->broken))
                        continue;
                if (asprintf(&name, "%s/%s", t->parent, t->id) < 0) {
                        name = NULL; /* undefined after a failure */
                        goto oom;
                }
                if (array_add(broken, broken_to_json(name, "type", t->broken)) < 0)
                        goto fail;
        }

        if (object_add(o, "version", json_object_new_string(m->version)) < 0 ||
            object_add(o, "sysfs_root", json_object_new_string(m->sysfs_root)) < 0 ||
            object_add(o, "bus", json_object_new_string(strempty(c->bus_description))) < 0 ||
            object_add(o, "parents", json_object_new_int64(m->n_parents)) < 0 ||
            object_add(o, "parents_by_kind", counter_to_json(parent_kinds)) < 0 ||
            object_add(o, "types", json_object_new_int64(m->n_types)) < 0 ||
            object_add(o, "devices", json_object_new_int64(m->total_devices)) < 0 ||
            object_add(o, "devices_by_kind", counter_to_json(kinds)) < 0 ||
            object_add(o, "devices_by_state", counter_to_json(states)) < 0 ||
            object_add(o, "broken", TAKE_PTR(broken)) < 0 ||
            object_add(o, "waiting_for_parent", TAKE_PTR(waiting)) < 0 ||
            object_add(o, "parent_configs", TAKE_PTR(configs)) < 0 ||
            object_add(o, "parents_detail", TAKE_PTR(details)) < 0 ||
            object_add(o, "definitions", definitions_to_json(m)) < 0)
                goto oom;

        return json_print(o, stdout, c->json);

oom:
        log_error_errno(-ENOMEM, "out of memory");
fail:
        json_object_put(o);
        json_object_put(broken);
        json_object_put(details);
        json_object_put(waiting);
        json_object_put(configs);
        return -ENOMEM;
}

/* At most a few names, so that a PF with 64 VF netdevs keeps one short line:
 * "eth0,eth1,eth2,... (64)". The full list is in `parents --json`. */
#define NETDEVS_MAX 3

static char *netdevs_to_string(const char **l) {
        size_t n = 0;
        char *buf = NULL;
        size_t size = 0;
        FILE *f;

        for (; l && l[n]; n++)
                ;
        f = open_memstream(&buf, &size);
        if (!f)
                return NULL;
        for (size_t i = 0; i < n && i < NETDEVS_MAX; i++)
                fprintf(f, "%s%s", i > 0 ? "," : "", l[i]);
        if (n > NETDEVS_MAX)
                fprintf(f, ",... (%zu)", n);
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

static void print_counter(const Counter *c) {
        for (size_t i = 0; i < c->n; i++)
                printf("%s%u %s", i > 0 ? ", " : "", c->kv[i].value, c->kv[i].key);
}

static int status_table(Context *c, const Model *m, const Counter *parent_kinds,
                        const Counter *kinds, const Counter *states, const ParentConfigs *pc) {
        _cleanup_(table_freep) Table *t = NULL;

        printf("siovd:       %s\n"
               "Bus:         %s\n"
               "Sysfs root:  %s\n",
               isempty(m->version) ? "(unknown version)" : m->version,
               strempty(c->bus_description),
               isempty(m->sysfs_root) ? "/" : m->sysfs_root);

        print_definitions(m);
        printf("Parents:     %zu (", m->n_parents);
        print_counter(parent_kinds);
        printf(")\nTypes:       %zu\nDevices:     %zu (", m->n_types, m->total_devices);
        print_counter(kinds);
        printf("; ");
        print_counter(states);
        printf(")\n");

        if (m->n_parents > 0) {
                t = table_new("PARENT", "KINDS", ">VFS", "HOST-USE", "NETDEVS", "AVAILABLE", NULL);
                if (!t)
                        return log_error_errno(-ENOMEM, "out of memory");
                for (size_t i = 0; i < m->n_parents; i++) {
                        const Parent *p = &m->parents[i];

                        TABLE_ADD(t, p->name);
                        TABLE_ADD_FREE(t, strv_join_const(p->kinds, ","));
                        TABLE_ADD_FREE(t, vfs_to_string(p));
                        TABLE_ADD_FREE(t, key_values_to_string(p->host_usage, p->n_host_usage));
                        TABLE_ADD_FREE(t, netdevs_to_string(p->netdevs));
                        TABLE_ADD_FREE(t, parent_available_to_string(p));
                }
                printf("\n");
                table_print(t, stdout);
        }

        if (print_broken(m, "Warning: broken parents and types:") == 0)
                printf("\nNo broken parents or types.\n");

        t = table_free(t);
        for (size_t i = 0; i < m->n_devices; i++) {
                const Device *d = &m->devices[i];

                if (!device_waits_for_parent(m, d))
                        continue;
                if (!t) {
                        t = table_new("UUID", "PARENT", "TYPE", "VM", "DETAILS", NULL);
                        if (!t)
                                return log_error_errno(-ENOMEM, "out of memory");
                }
                TABLE_ADD(t, d->uuid);
                TABLE_ADD(t, d->parent);
                TABLE_ADD(t, d->type);
                TABLE_ADD(t, d->vm);
                TABLE_ADD(t, d->autostart ? "autostart" : "");
        }
        if (t) {
                printf("\nDefined devices waiting for their parent:\n");
                table_print(t, stdout);
        }

        t = table_free(t);
        for (size_t i = 0; i < pc->n; i++) {
                if (!streq(pc->l[i].state, "absent"))
                        continue;
                if (!t) {
                        t = table_new("PF", ">NUMVFS", "AUTOPROBE", NULL);
                        if (!t)
                                return log_error_errno(-ENOMEM, "out of memory");
                }
                TABLE_ADD(t, pc->l[i].pf);
                if (pc->l[i].numvfs >= 0)
                        TABLE_ADDF(t, "%d", (int) pc->l[i].numvfs);
                else
                        TABLE_ADD(t, "");
                TABLE_ADD(t, pc->l[i].autoprobe < 0 ? "" : pc->l[i].autoprobe ? "yes" : "no");
        }
        if (t) {
                printf("\nPF configurations waiting for their PF:\n");
                table_print(t, stdout);
        }
        for (size_t i = 0, n = 0; i < pc->n; i++)
                if (streq(pc->l[i].state, "unreadable")) {
                        if (n++ == 0)
                                printf("\nWarning: unreadable PF configurations (kept as they are):\n");
                        print_broken_line("PF configuration", pc->l[i].pf, NULL, pc->l[i].reason);
                }
        print_definition_problems(m);
        return 0;
}

int verb_status(Context *c, const Options *o, int argc, char **argv) {
        _cleanup_(model_freep) Model *m = NULL;
        _cleanup_(counter_done) Counter parent_kinds = {}, kinds = {}, states = {};
        _cleanup_(parent_configs_done) ParentConfigs pc = {};
        int r;

        r = model_fetch_compact(c, true, &m);
        if (r < 0)
                return r;
        r = parent_configs_read(m, &pc);
        if (r < 0)
                return r;

        if (counter_add(&parent_kinds, "mdev", 0) < 0 || counter_add(&parent_kinds, "sriov", 0) < 0 ||
            counter_add(&kinds, "mdev", 0) < 0 || counter_add(&kinds, "vf", 0) < 0 ||
            counter_add(&states, "active", 0) < 0 || counter_add(&states, "defined", 0) < 0 ||
            counter_add(&states, "both", 0) < 0)
                return log_error_errno(-ENOMEM, "out of memory");

        for (size_t i = 0; i < m->n_parents; i++)
                for (const char **k = m->parents[i].kinds; *k; k++)
                        if (counter_add(&parent_kinds, *k, 1) < 0)
                                return log_error_errno(-ENOMEM, "out of memory");
        /* siovd's counts, not the devices: those are not fetched. */
        for (size_t i = 0; i < m->n_counts; i++) {
                const KeyValue *kv = &m->counts[i];
                Counter *to = STR_IN_SET(kv->key, "mdev", "vf") ? &kinds :
                              STR_IN_SET(kv->key, "active", "defined", "both") ||
                              (streq(kv->key, "removing") && kv->value > 0) ? &states : NULL;

                if (to && counter_add(to, kv->key, kv->value) < 0)
                        return log_error_errno(-ENOMEM, "out of memory");
        }

        if (c->json)
                return status_json(c, m, &parent_kinds, &kinds, &states, &pc);
        return status_table(c, m, &parent_kinds, &kinds, &states, &pc);
}
