/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Output: aligned tables for people, json-c objects for programs. The JSON
 * builders here are the one definition of each object's shape; `--json` of
 * every verb uses them, so the same object always has the same keys.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "siovctl.h"

/* ---- tables ------------------------------------------------------------ */

struct Table {
        size_t n_columns;
        char **cells;           /* headers first, then rows */
        size_t n_cells;
        size_t allocated;
        bool *right;
};

Table *table_new(const char *header, ...) {
        _cleanup_(table_freep) Table *t = NULL;
        va_list ap;
        size_t n = 0;

        t = calloc(1, sizeof(Table));
        if (!t)
                return NULL;

        va_start(ap, header);
        for (const char *h = header; h; h = va_arg(ap, const char *))
                n++;
        va_end(ap);

        t->n_columns = n;
        t->right = calloc(n, sizeof(bool));
        if (!t->right)
                return NULL;

        va_start(ap, header);
        for (const char *h = header; h; h = va_arg(ap, const char *)) {
                if (h[0] == '>') {
                        t->right[t->n_cells] = true;
                        h++;
                }
                if (table_add(t, h) < 0) {
                        va_end(ap);
                        return NULL;
                }
        }
        va_end(ap);

        return TAKE_PTR(t);
}

Table *table_free(Table *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_cells; i++)
                free(t->cells[i]);
        free(t->cells);
        free(t->right);
        free(t);
        return NULL;
}

char *strdup_printable(const char *s) {
        char *c;

        c = strdup(s);
        if (!c)
                return NULL;
        for (char *p = c; *p; p++)
                if ((unsigned char) *p < ' ' || *p == 0x7f)
                        *p = '?';
        return c;
}

/* Cells are single-line: control characters (a description's newline,
 * an escape sequence in a VM name) are shown as '?'. */
static char *cell_sanitize(const char *s) {
        return strdup_printable(isempty(s) ? "-" : s);
}

int table_add(Table *t, const char *cell) {
        char *c;

        if (!GREEDY_REALLOC(t->cells, t->allocated, t->n_cells + 1))
                return -ENOMEM;
        c = cell_sanitize(cell);
        if (!c)
                return -ENOMEM;
        t->cells[t->n_cells++] = c;
        return 0;
}

int table_addf(Table *t, const char *fmt, ...) {
        _cleanup_free_ char *s = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0) {
                s = NULL; /* undefined after a failure */
                return -ENOMEM;
        }
        return table_add(t, s);
}

size_t table_get_rows(const Table *t) {
        return t->n_cells / t->n_columns - 1;
}

/* Display width: UTF-8 code points (no wide characters expected here). */
static size_t width(const char *s) {
        size_t n = 0;

        for (; *s; s++)
                if (((unsigned char) *s & 0xc0) != 0x80)
                        n++;
        return n;
}

void table_print(const Table *t, FILE *f) {
        _cleanup_free_ size_t *widths = NULL;

        widths = calloc(t->n_columns, sizeof(size_t));
        if (!widths)
                return;

        for (size_t i = 0; i < t->n_cells; i++) {
                size_t w = width(t->cells[i]);
                if (w > widths[i % t->n_columns])
                        widths[i % t->n_columns] = w;
        }

        for (size_t i = 0; i < t->n_cells; i++) {
                size_t col = i % t->n_columns, pad = widths[col] - width(t->cells[i]);
                bool last = col == t->n_columns - 1;

                if (col > 0)
                        fputs("  ", f);
                if (t->right[col])
                        fprintf(f, "%*s", (int) pad, "");
                fputs(t->cells[i], f);
                if (!t->right[col] && !last)
                        fprintf(f, "%*s", (int) pad, "");
                if (last)
                        fputc('\n', f);
        }
}

/* ---- strings ----------------------------------------------------------- */

const char * const resource_key_order[] = {
        "total", "free", "mdev-dwq", "mdev-swq", "host-netdev", "host-wq", "swq-slots", NULL,
};

const char * const host_usage_key_order[] = {
        "netdev", "wq-kernel", "wq-user", "vf-host", NULL,
};

static const char * const *sort_order;

static size_t key_rank(const char *k) {
        size_t i;

        for (i = 0; sort_order[i]; i++)
                if (streq(sort_order[i], k))
                        return i;
        return i;
}

static int key_value_compare(const void *x, const void *y) {
        const KeyValue *a = x, *b = y;
        size_t ra = key_rank(a->key), rb = key_rank(b->key);

        if (ra != rb)
                return ra < rb ? -1 : 1;
        return strcmp(a->key, b->key);
}

void key_values_sort(KeyValue *kv, size_t n, const char * const *order) {
        sort_order = order;
        qsort_safe(kv, n, sizeof(KeyValue), key_value_compare);
}

char *key_values_to_string(const KeyValue *kv, size_t n) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&buf, &size);
        if (!f)
                return NULL;
        for (size_t i = 0; i < n; i++)
                fprintf(f, "%s%s=%u", i > 0 ? " " : "", kv[i].key, kv[i].value);
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

char *parent_available_to_string(const Parent *p) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&buf, &size);
        if (!f)
                return NULL;
        for (size_t i = 0; i < p->n_types; i++) {
                const Type *t = p->types[i];

                if (isempty(t->broken))
                        fprintf(f, "%s%s=%u", i > 0 ? " " : "", t->id, t->available);
                else
                        fprintf(f, "%s%s=?", i > 0 ? " " : "", t->id);
        }
        /* An idxd device: the WQs neither the host nor an mdev uses. */
        if (!isempty(p->idxd_device)) {
                uint32_t total = 0, free_wqs = 0;

                for (size_t i = 0; i < p->n_resources; i++) {
                        if (streq(p->resources[i].key, "total"))
                                total = p->resources[i].value;
                        else if (streq(p->resources[i].key, "free"))
                                free_wqs = p->resources[i].value;
                }
                fprintf(f, "%swq-free=%u/%u", p->n_types > 0 ? " " : "", free_wqs, total);
        }
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

char *work_queue_to_string(const WorkQueue *wq) {
        char *s;

        if (asprintf(&s, "%s %s, %s, %s%s%s%s", wq->name, wq->mode, wq->type, wq->state,
                     isempty(wq->driver) ? "" : " (", strempty(wq->driver), isempty(wq->driver) ? "" : ")") < 0)
                return NULL;
        return s;
}

char *strv_join_const(const char * const *l, const char *sep) {
        size_t n = 1, k = strlen(sep);
        char *s, *p;

        for (const char * const *i = l; i && *i; i++)
                n += strlen(*i) + k;
        s = p = malloc(n);
        if (!s)
                return NULL;
        *p = 0;
        for (const char * const *i = l; i && *i; i++) {
                if (i != l)
                        p = stpcpy(p, sep);
                p = stpcpy(p, *i);
        }
        return s;
}

/* ---- JSON -------------------------------------------------------------- */

static int json_flags(JsonMode mode) {
        /* json-c escapes '/' by default: sysfs paths would read "\/sys\/...". */
        if (mode == JSON_SHORT)
                return JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;
        return JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE;
}

static int check_output(FILE *f) {
        if (ferror(f))
                return log_error_errno(-EIO, "cannot write the output");
        return 0;
}

int json_print(json_object *j, FILE *f, JsonMode mode) {
        const char *s;

        if (!j)
                return log_error_errno(-ENOMEM, "out of memory");

        s = json_object_to_json_string_ext(j, json_flags(mode));
        if (!s) {
                json_object_put(j);
                return log_error_errno(-ENOMEM, "out of memory");
        }
        fputs(s, f);
        fputc('\n', f);
        json_object_put(j);
        return check_output(f);
}

void json_array_begin(JsonArray *a, FILE *f, JsonMode mode) {
        *a = (JsonArray) { .f = f, .mode = mode };
        fputc('[', f);
}

/* Writes what json_array_add_device() gathered. */
static void json_array_flush(JsonArray *a) {
        if (a->pending > 0)
                fwrite(a->buf, 1, a->pending, a->f);
        a->pending = 0;
}

int json_array_add(JsonArray *a, json_object *o) {
        const char *s, *nl;

        json_array_flush(a);
        if (!o)
                return log_error_errno(-ENOMEM, "out of memory");

        s = json_object_to_json_string_ext(o, json_flags(a->mode));
        if (!s) {
                json_object_put(o);
                return log_error_errno(-ENOMEM, "out of memory");
        }

        if (a->mode == JSON_SHORT) {
                if (a->n > 0)
                        fputc(',', a->f);
                fputs(s, a->f);
        } else {
                /* An element one level down: every line two spaces in.
                 * Strings never hold a raw newline (json-c escapes it).
                 * Built in one buffer: one write per element, not per line. */
                size_t len = strlen(s), lines = 1, need;
                char *p;

                for (const char *q = s; (q = memchr(q, '\n', s + len - q)); q++)
                        lines++;
                need = 2 + len + 2 * lines;
                if (need > a->allocated) {
                        p = realloc(a->buf, need);
                        if (!p) {
                                json_object_put(o);
                                return log_error_errno(-ENOMEM, "out of memory");
                        }
                        a->buf = p;
                        a->allocated = need;
                }

                p = a->buf;
                if (a->n > 0)
                        *p++ = ',';
                *p++ = '\n';
                for (; (nl = memchr(s, '\n', len)); len -= nl + 1 - s, s = nl + 1) {
                        p = mempcpy(p, "  ", 2);
                        p = mempcpy(p, s, nl + 1 - s);
                }
                p = mempcpy(p, "  ", 2);
                p = mempcpy(p, s, len);
                fwrite(a->buf, 1, p - a->buf, a->f);
        }
        a->n++;
        json_object_put(o);
        return 0;
}

void json_array_done(JsonArray *a) {
        free(a->buf);
        a->buf = NULL;
        a->allocated = 0;
}

int json_array_end(JsonArray *a) {
        json_array_flush(a);
        /* json-c prints an empty pretty array as "[\n]". */
        fputs(a->mode == JSON_SHORT ? "]\n" : "\n]\n", a->f);
        return check_output(a->f);
}

/* list --json writes devices straight from the model, without a json-c
 * object per field (most of siovctl's time at 10,000 devices): the same
 * bytes json-c prints, which tests/unit/test-siovctl.c compares. */
typedef struct JsonOut {
        char *buf;
        size_t n, allocated;
        bool pretty;
        bool oom;
} JsonOut;

/* Makes room for n more bytes (the rare path of out_mem). */
static __attribute__((noinline)) bool out_grow(JsonOut *o, size_t n) {
        size_t a = MAX(o->allocated * 2, o->n + n + 4096);
        char *b;

        if (o->oom)
                return false;
        b = realloc(o->buf, a);
        if (!b) {
                o->oom = true;
                return false;
        }
        o->buf = b;
        o->allocated = a;
        return true;
}

static inline void out_mem(JsonOut *o, const char *s, size_t n) {
        if (_unlikely_(o->n + n > o->allocated) && !out_grow(o, n))
                return;
        memcpy(o->buf + o->n, s, n);
        o->n += n;
}

static void out_str(JsonOut *o, const char *s) {
        out_mem(o, s, strlen(s));
}

/* The bytes json-c escapes: control characters, '"' and '\\'; and NUL,
 * which ends the string. */
static const bool json_escaped[256] = { [0 ... 0x1f] = true, ['"'] = true, ['\\'] = true };

/* json-c's escaping, '/' left alone (JSON_C_TO_STRING_NOSLASHESCAPE). */
static void out_quoted(JsonOut *o, const char *s) {
        out_mem(o, "\"", 1);
        for (;;) {
                const char *run = s, *e;
                unsigned char c;
                char u[7];

                while (!json_escaped[(unsigned char) *s])
                        s++;
                out_mem(o, run, s - run);
                c = (unsigned char) *s;
                if (c == '\0')
                        break;
                switch (c) {
                case '\b': e = "\\b"; break;
                case '\n': e = "\\n"; break;
                case '\r': e = "\\r"; break;
                case '\t': e = "\\t"; break;
                case '\f': e = "\\f"; break;
                case '"': e = "\\\""; break;
                case '\\': e = "\\\\"; break;
                default:
                        snprintf(u, sizeof(u), "\\u00%c%c", "0123456789abcdef"[c >> 4], "0123456789abcdef"[c & 0xf]);
                        e = u;
                }
                out_str(o, e);
                s++;
        }
        out_mem(o, "\"", 1);
}

static void out_indent(JsonOut *o, unsigned level) {
        static const char spaces[] = "                ";

        if (o->pretty)
                out_mem(o, spaces, MIN(2 * level, sizeof(spaces) - 1));
}

/* Before an object's or array's member: the comma, the line, the indent. */
static void out_member(JsonOut *o, size_t i, unsigned level) {
        if (i > 0)
                out_mem(o, ",", 1);
        if (o->pretty)
                out_mem(o, "\n", 1);
        out_indent(o, level);
}

static void out_key(JsonOut *o, size_t i, unsigned level, const char *key) {
        out_member(o, i, level);
        out_quoted(o, key);
        out_str(o, o->pretty ? ": " : ":");
}

/* (json-c: "[\n" when opened, so an empty one is "[\n<indent>]" too) */
static void out_close(JsonOut *o, unsigned level, const char *bracket) {
        if (o->pretty) {
                out_mem(o, "\n", 1);
                out_indent(o, level);
        }
        out_str(o, bracket);
}

static void out_u32(JsonOut *o, uint32_t u) {
        char b[16];

        snprintf(b, sizeof(b), "%" PRIu32, u);
        out_str(o, b);
}

/* One {"k1": v1, "k2": "s2"} element of an array at level; v1 is a
 * string, or with s1 NULL the number u1. */
static void out_pair(JsonOut *o, size_t i, unsigned level, const char *k1, const char *s1, uint32_t u1,
                     const char *k2, const char *s2) {
        out_member(o, i, level);
        out_mem(o, "{", 1);
        out_key(o, 0, level + 1, k1);
        if (s1)
                out_quoted(o, s1);
        else
                out_u32(o, u1);
        out_key(o, 1, level + 1, k2);
        out_quoted(o, strempty(s2));
        out_close(o, level, "}");
}

/* A device object at level (its members one deeper). */
static void out_device(JsonOut *o, const Device *d, unsigned level) {
        size_t k = 0;

        out_mem(o, "{", 1);
#define STR_MEMBER(key, v) do { out_key(o, k++, level + 1, key); out_quoted(o, strempty(v)); } while (0)
#define BOOL_MEMBER(key, v) do { out_key(o, k++, level + 1, key); out_str(o, (v) ? "true" : "false"); } while (0)
        STR_MEMBER("uuid", d->uuid);
        STR_MEMBER("kind", d->kind);
        STR_MEMBER("parent", d->parent);
        STR_MEMBER("type", d->type);
        STR_MEMBER("state", d->state);
        BOOL_MEMBER("persistent", d->persistent);
        BOOL_MEMBER("autostart", d->autostart);
        STR_MEMBER("vm", d->vm);
        STR_MEMBER("owner", d->owner);
        out_key(o, k++, level + 1, "attributes");
        out_mem(o, "[", 1);
        for (size_t i = 0; i < d->n_attributes; i++)
                out_pair(o, i, level + 2, "name", strempty(d->attributes[i].name), 0, "value",
                         d->attributes[i].value);
        out_close(o, level + 1, "]");
        STR_MEMBER("address", d->address);
        STR_MEMBER("sysfs_path", d->sysfs_path);
        STR_MEMBER("driver", d->driver);
        BOOL_MEMBER("host_used", d->host_used);
        out_key(o, k++, level + 1, "netdevs");
        out_mem(o, "[", 1);
        {
                size_t i = 0;

                for (const char * const *l = d->netdevs; l && *l; l++, i++) {
                        out_member(o, i, level + 2);
                        out_quoted(o, *l);
                }
                out_close(o, level + 1, "]");
        }
        BOOL_MEMBER("vgpu", d->vgpu);
        out_key(o, k++, level + 1, "vgpu_type");
        out_u32(o, d->vgpu_type);
        out_key(o, k++, level + 1, "vgpu_creatable_types");
        out_mem(o, "[", 1);
        for (size_t i = 0; i < d->n_vgpu_types; i++)
                out_pair(o, i, level + 2, "id", NULL, d->vgpu_types[i].id, "name", d->vgpu_types[i].name);
        out_close(o, level + 1, "]");
        /* A VF of a network PF: its state as the PF reports it. */
        if (d->vf_net) {
                STR_MEMBER("vf_mac", d->vf_mac);
                out_key(o, k++, level + 1, "vf_vlan");
                out_u32(o, d->vf_vlan);
                out_key(o, k++, level + 1, "vf_qos");
                out_u32(o, d->vf_qos);
                STR_MEMBER("vf_link_state", d->vf_link_state);
                STR_MEMBER("vf_spoofchk", d->vf_spoofchk);
                STR_MEMBER("vf_trust", d->vf_trust);
        }
#undef STR_MEMBER
#undef BOOL_MEMBER
        out_close(o, level, "}");
}

int json_array_add_device(JsonArray *a, const Device *d) {
        JsonOut o = { .buf = a->buf, .n = a->pending, .allocated = a->allocated, .pretty = a->mode != JSON_SHORT };

        out_member(&o, a->n, 1);
        out_device(&o, d, 1);
        a->buf = o.buf;
        a->allocated = o.allocated;
        if (o.oom)
                return log_error_errno(-ENOMEM, "out of memory");
        a->pending = o.n;
        a->n++;
        /* Written in large pieces: 6 MB for 10,000 devices. */
        if (a->pending >= 256 * 1024)
                json_array_flush(a);
        return 0;
}

/* Adds v under a constant key (a string literal: not copied); consumes v.
 * Keys are new in each object, which spares json-c a lookup. */
static int add(json_object *o, const char *key, json_object *v) {
        if (!v)
                return -ENOMEM;
        if (json_object_object_add_ex(o, key, v,
                                      JSON_C_OBJECT_ADD_KEY_IS_NEW | JSON_C_OBJECT_ADD_CONSTANT_KEY) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

static json_object *string(const char *s) {
        return json_object_new_string(strempty(s));
}

static json_object *u32(uint32_t u) {
        return json_object_new_int64(u);
}

static json_object *boolean(int b) {
        return json_object_new_boolean(!!b);
}

static json_object *strv(const char * const *l) {
        json_object *a;

        a = json_object_new_array();
        if (!a)
                return NULL;
        for (; l && *l; l++) {
                json_object *s = json_object_new_string(*l);
                if (!s || json_object_array_add(a, s) < 0) {
                        json_object_put(s);
                        json_object_put(a);
                        return NULL;
                }
        }
        return a;
}

/* {"total": 8, "mdev_dwq": 2}: D-Bus keys with '-' turned into '_', so all
 * JSON keys are snake_case. */
static json_object *key_values(const KeyValue *kv, size_t n) {
        json_object *o;

        o = json_object_new_object();
        if (!o)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *k = strdup(kv[i].key);
                json_object *v;

                if (!k)
                        goto fail;
                for (char *p = k; *p; p++)
                        if (*p == '-')
                                *p = '_';
                v = u32(kv[i].value);
                if (!v)
                        goto fail;
                if (json_object_object_add(o, k, v) < 0) {
                        json_object_put(v);
                        goto fail;
                }
        }
        return o;
fail:
        json_object_put(o);
        return NULL;
}

/* A new object appended to the array a; NULL when out of memory. */
static json_object *array_add_object(json_object *a) {
        json_object *o = json_object_new_object();

        if (!o || json_object_array_add(a, o) < 0) {
                json_object_put(o);
                return NULL;
        }
        return o;
}

static json_object *i32(int32_t i) {
        return json_object_new_int64(i);
}

static json_object *work_queues_to_json(const Parent *p) {
        json_object *a = json_object_new_array_ext(p->n_work_queues);

        if (!a)
                return NULL;
        for (size_t i = 0; i < p->n_work_queues; i++) {
                const WorkQueue *wq = &p->work_queues[i];
                json_object *o = array_add_object(a);

                if (!o ||
                    add(o, "name", string(wq->name)) < 0 ||
                    add(o, "mode", string(wq->mode)) < 0 ||
                    add(o, "type", string(wq->type)) < 0 ||
                    add(o, "state", string(wq->state)) < 0 ||
                    add(o, "driver", string(wq->driver)) < 0 ||
                    add(o, "label", string(wq->label)) < 0 ||
                    add(o, "size", u32(wq->size)) < 0 ||
                    add(o, "group", i32(wq->group)) < 0 ||
                    add(o, "clients", i32(wq->clients)) < 0) {
                        json_object_put(a);
                        return NULL;
                }
        }
        return a;
}

static json_object *idxd_groups_to_json(const Parent *p) {
        json_object *a = json_object_new_array_ext(p->n_idxd_groups);

        if (!a)
                return NULL;
        for (size_t i = 0; i < p->n_idxd_groups; i++) {
                const IdxdGroup *g = &p->idxd_groups[i];
                json_object *o = array_add_object(a);

                if (!o ||
                    add(o, "name", string(g->name)) < 0 ||
                    add(o, "work_queues", strv(g->work_queues)) < 0 ||
                    add(o, "engines", strv(g->engines)) < 0) {
                        json_object_put(a);
                        return NULL;
                }
        }
        return a;
}

json_object *parent_to_json(const Parent *p) {
        json_object *o, *types = NULL;

        o = json_object_new_object();
        if (!o)
                return NULL;

        types = json_object_new_array_ext(p->n_types);
        if (!types)
                goto fail;
        for (size_t i = 0; i < p->n_types; i++) {
                json_object *t = array_add_object(types);

                if (!t)
                        goto fail;
                if (add(t, "id", string(p->types[i]->id)) < 0 ||
                    add(t, "available_instances", u32(p->types[i]->available)) < 0 ||
                    add(t, "broken", string(p->types[i]->broken)) < 0)
                        goto fail;
        }

        if (add(o, "name", string(p->name)) < 0 ||
            add(o, "kinds", strv(p->kinds)) < 0 ||
            add(o, "driver", string(p->driver)) < 0 ||
            add(o, "subsystem", string(p->subsystem)) < 0 ||
            add(o, "sysfs_path", string(p->sysfs_path)) < 0 ||
            add(o, "types", TAKE_PTR(types)) < 0 ||
            add(o, "resources", key_values(p->resources, p->n_resources)) < 0 ||
            add(o, "host_usage", key_values(p->host_usage, p->n_host_usage)) < 0 ||
            add(o, "netdevs", strv(p->netdevs)) < 0 ||
            add(o, "total_vfs", u32(p->total_vfs)) < 0 ||
            add(o, "num_vfs", u32(p->num_vfs)) < 0 ||
            add(o, "autoprobe", json_object_new_boolean(p->autoprobe)) < 0 ||
            add(o, "persistent_numvfs", json_object_new_int(p->persistent_numvfs)) < 0 ||
            add(o, "persistent_autoprobe", json_object_new_int(p->persistent_autoprobe)) < 0 ||
            add(o, "idxd_device", string(p->idxd_device)) < 0 ||
            add(o, "idxd_state", string(p->idxd_state)) < 0 ||
            add(o, "work_queues", work_queues_to_json(p)) < 0 ||
            add(o, "idxd_groups", idxd_groups_to_json(p)) < 0 ||
            add(o, "broken", string(p->broken)) < 0)
                goto fail;
        return o;
fail:
        json_object_put(types);
        json_object_put(o);
        return NULL;
}

json_object *type_to_json(const Type *t) {
        json_object *o;

        o = json_object_new_object();
        if (!o)
                return NULL;
        if (add(o, "parent", string(t->parent)) < 0 ||
            add(o, "id", string(t->id)) < 0 ||
            add(o, "kind", string(t->kind)) < 0 ||
            add(o, "name", string(t->name)) < 0 ||
            add(o, "description", string(t->description)) < 0 ||
            add(o, "device_api", string(t->device_api)) < 0 ||
            add(o, "available_instances", u32(t->available)) < 0 ||
            add(o, "broken", string(t->broken)) < 0 ||
            add(o, "migration_version", string(t->migration_version)) < 0) {
                json_object_put(o);
                return NULL;
        }
        return o;
}

json_object *device_to_json(const Device *d) {
        json_object *o, *attrs = NULL, *vgpu_types = NULL;

        o = json_object_new_object();
        if (!o)
                return NULL;

        attrs = json_object_new_array_ext(d->n_attributes);
        if (!attrs)
                goto fail;
        for (size_t i = 0; i < d->n_attributes; i++) {
                json_object *a = array_add_object(attrs);

                if (!a)
                        goto fail;
                if (add(a, "name", string(d->attributes[i].name)) < 0 ||
                    add(a, "value", string(d->attributes[i].value)) < 0)
                        goto fail;
        }

        vgpu_types = json_object_new_array_ext(d->n_vgpu_types);
        if (!vgpu_types)
                goto fail;
        for (size_t i = 0; i < d->n_vgpu_types; i++) {
                json_object *a = array_add_object(vgpu_types);

                if (!a)
                        goto fail;
                if (add(a, "id", u32(d->vgpu_types[i].id)) < 0 ||
                    add(a, "name", string(d->vgpu_types[i].name)) < 0)
                        goto fail;
        }

        if (add(o, "uuid", string(d->uuid)) < 0 ||
            add(o, "kind", string(d->kind)) < 0 ||
            add(o, "parent", string(d->parent)) < 0 ||
            add(o, "type", string(d->type)) < 0 ||
            add(o, "state", string(d->state)) < 0 ||
            add(o, "persistent", boolean(d->persistent)) < 0 ||
            add(o, "autostart", boolean(d->autostart)) < 0 ||
            add(o, "vm", string(d->vm)) < 0 ||
            add(o, "owner", string(d->owner)) < 0 ||
            add(o, "attributes", TAKE_PTR(attrs)) < 0 ||
            add(o, "address", string(d->address)) < 0 ||
            add(o, "sysfs_path", string(d->sysfs_path)) < 0 ||
            add(o, "driver", string(d->driver)) < 0 ||
            add(o, "host_used", boolean(d->host_used)) < 0 ||
            add(o, "netdevs", strv(d->netdevs)) < 0 ||
            add(o, "vgpu", boolean(d->vgpu)) < 0 ||
            add(o, "vgpu_type", u32(d->vgpu_type)) < 0 ||
            add(o, "vgpu_creatable_types", TAKE_PTR(vgpu_types)) < 0)
                goto fail;
        /* A VF of a network PF: its state as the PF reports it. */
        if (d->vf_net &&
            (add(o, "vf_mac", string(d->vf_mac)) < 0 ||
             add(o, "vf_vlan", u32(d->vf_vlan)) < 0 ||
             add(o, "vf_qos", u32(d->vf_qos)) < 0 ||
             add(o, "vf_link_state", string(d->vf_link_state)) < 0 ||
             add(o, "vf_spoofchk", string(d->vf_spoofchk)) < 0 ||
             add(o, "vf_trust", string(d->vf_trust)) < 0))
                goto fail;
        return o;
fail:
        json_object_put(vgpu_types);
        json_object_put(attrs);
        json_object_put(o);
        return NULL;
}
