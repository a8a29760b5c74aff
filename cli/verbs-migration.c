/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * migration-info and migration-check: what an orchestrator copies from one
 * host to another before a live migration, and the check on the other host.
 *
 * migration-info prints, for each type with a migration_version, one line
 * "TYPE VERSION" (preceded by "# on PARENT, ..." naming the parents), or
 * with --json [{"type", "migration_version", "parents": [...]}].
 * migration-check FILE reads either form back ("-": stdin) and asks siovd's
 * Manager.CheckMigration for each entry.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "libsiov.h"
#include "siov-names.h"
#include "siovctl.h"

#define MIGRATION_FILE_MAX (1024 * 1024)

typedef struct MigEntry {
        const char *type;
        const char *version;
        const char **parents;   /* NULL-terminated, borrowed */
        size_t n_parents;
} MigEntry;

static int entry_cmp(const void *a, const void *b) {
        const MigEntry *x = a, *y = b;
        int r = strcmp(x->type, y->type);

        return r ?: strcmp(x->version, y->version);
}

/* One entry per (type, version), the parents showing it; sorted. */
static int collect(const Model *m, MigEntry **ret, size_t *ret_n) {
        MigEntry *e;
        size_t n = 0;

        e = calloc(m->n_types + 1, sizeof(MigEntry));
        if (!e)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_types; i++) {
                const Type *t = &m->types[i];
                size_t j;

                if (isempty(t->migration_version))
                        continue;
                for (j = 0; j < n; j++)
                        if (streq(e[j].type, t->id) && streq(e[j].version, t->migration_version))
                                break;
                if (j == n) {
                        e[n] = (MigEntry) { .type = t->id, .version = t->migration_version };
                        e[n].parents = calloc(m->n_types + 1, sizeof(char *));
                        if (!e[n].parents)
                                goto oom;
                        n++;
                }
                e[j].parents[e[j].n_parents++] = t->parent;
        }
        qsort(e, n, sizeof(MigEntry), entry_cmp);
        *ret = e;
        *ret_n = n;
        return 0;
oom:
        for (size_t j = 0; j < n; j++)
                free(e[j].parents);
        free(e);
        return -ENOMEM;
}

static void entries_free(MigEntry *e, size_t n) {
        for (size_t j = 0; e && j < n; j++)
                free(e[j].parents);
        free(e);
}

static json_object *strv_to_json(const char * const *l) {
        json_object *a = json_object_new_array();

        for (; a && l && *l; l++)
                if (json_object_array_add(a, json_object_new_string(*l)) < 0) {
                        json_object_put(a);
                        return NULL;
                }
        return a;
}

int verb_migration_info(Context *c, const Options *o, int argc, char **argv) {
        _cleanup_(model_freep) Model *m = NULL;
        MigEntry *e = NULL;
        size_t n = 0;
        int r;

        r = model_fetch_compact(c, false, &m);
        if (r < 0)
                return r;
        r = collect(m, &e, &n);
        if (r < 0)
                return log_error_errno(r, "out of memory");

        if (c->json) {
                _cleanup_(json_array_done) JsonArray a = {};

                json_array_begin(&a, stdout, c->json);
                for (size_t i = 0; i < n && r >= 0; i++) {
                        json_object *x = json_object_new_object();

                        if (x && (json_object_object_add(x, "type", json_object_new_string(e[i].type)) < 0 ||
                                  json_object_object_add(x, "migration_version",
                                                         json_object_new_string(e[i].version)) < 0 ||
                                  json_object_object_add(x, "parents", strv_to_json(e[i].parents)) < 0)) {
                                json_object_put(x);
                                x = NULL;
                        }
                        r = json_array_add(&a, x);
                }
                if (r >= 0)
                        r = json_array_end(&a);
                entries_free(e, n);
                return r < 0 ? r : 0;
        }

        for (size_t i = 0; i < n; i++) {
                fputs("# on", stdout);
                for (size_t j = 0; j < e[i].n_parents; j++)
                        printf("%s %s", j ? "," : "", e[i].parents[j]);
                /* siovd passes on only valid versions: printable, one line */
                printf("\n%s %s\n", e[i].type, e[i].version);
        }
        entries_free(e, n);
        if (n == 0)
                log_info("no type offers migration (no migration_version)");
        if (ferror(stdout))
                return log_error_errno(-EIO, "cannot write the output");
        return 0;
}

/* ---- migration-check ----------------------------------------------------- */

typedef struct CheckInput {
        char *type, *version;
} CheckInput;

static int read_file(const char *path, char **ret) {
        _cleanup_fclose_ FILE *owned = NULL;
        FILE *f = stdin;
        char *buf;
        size_t n;

        if (!streq(path, "-")) {
                owned = f = fopen(path, "re");
                if (!f)
                        return log_error_errno(-ERRNO_USAGE, "cannot open %s: %m", path);
        }
        buf = malloc(MIGRATION_FILE_MAX + 1);
        if (!buf)
                return log_error_errno(-ENOMEM, "out of memory");
        n = fread(buf, 1, MIGRATION_FILE_MAX + 1, f);
        if (ferror(f) || n > MIGRATION_FILE_MAX) {
                free(buf);
                return log_error_errno(-ERRNO_USAGE, "cannot read %s%s", path,
                                       n > MIGRATION_FILE_MAX ? ": larger than 1 MiB" : "");
        }
        buf[n] = '\0';
        *ret = buf;
        return 0;
}

static int add_input(CheckInput **l, size_t *n, const char *type, size_t type_len, const char *version) {
        CheckInput *p = reallocarray(*l, *n + 1, sizeof(CheckInput));

        if (!p)
                return -ENOMEM;
        *l = p;
        p[*n].type = strndup(type, type_len);
        p[*n].version = strdup(version);
        if (!p[*n].type || !p[*n].version) {
                free(p[*n].type);
                free(p[*n].version);
                return -ENOMEM;
        }
        (*n)++;
        return 0;
}

/* migration-info's JSON: [{"type": "...", "migration_version": "...", ...}] */
static int parse_json(const char *text, const char *path, CheckInput **l, size_t *n) {
        json_object *a = json_tokener_parse(text), *t, *v;
        int r = 0;

        if (!a || !json_object_is_type(a, json_type_array)) {
                json_object_put(a);
                return log_error_errno(-ERRNO_USAGE, "%s: not a JSON array as 'migration-info --json' prints",
                                       path);
        }
        for (size_t i = 0; i < json_object_array_length(a) && r >= 0; i++) {
                json_object *x = json_object_array_get_idx(a, i);

                if (!json_object_object_get_ex(x, "type", &t) || !json_object_is_type(t, json_type_string) ||
                    !json_object_object_get_ex(x, "migration_version", &v) ||
                    !json_object_is_type(v, json_type_string)) {
                        r = log_error_errno(-ERRNO_USAGE, "%s: entry %zu has no \"type\" and "
                                            "\"migration_version\" strings", path, i + 1);
                        break;
                }
                r = add_input(l, n, json_object_get_string(t), strlen(json_object_get_string(t)),
                              json_object_get_string(v));
                if (r < 0)
                        r = log_error_errno(r, "out of memory");
        }
        json_object_put(a);
        return r;
}

/* migration-info's text: "TYPE VERSION" lines; blank and '#' lines skipped */
static int parse_text(char *text, const char *path, CheckInput **l, size_t *n) {
        unsigned line = 0;
        char *save = NULL;

        for (char *s = strtok_r(text, "\n", &save); s; s = strtok_r(NULL, "\n", &save)) {
                size_t k;

                line++;
                s += strspn(s, " \t");
                if (!*s || *s == '#')
                        continue;
                k = strcspn(s, " \t");
                if (!s[k] || !siov_name_is_valid(strndupa(s, k)))
                        return log_error_errno(-ERRNO_USAGE, "%s: line %u: not 'TYPE MIGRATION-VERSION'",
                                               path, line);
                if (add_input(l, n, s, k, s + k + strspn(s + k, " \t")) < 0)
                        return log_error_errno(-ENOMEM, "out of memory");
        }
        return 0;
}

static json_object *check_to_json(const CheckInput *in, int compatible, const char *reason, char **parents) {
        json_object *o = json_object_new_object();

        if (o && (json_object_object_add(o, "type", json_object_new_string(in->type)) < 0 ||
                  json_object_object_add(o, "migration_version", json_object_new_string(in->version)) < 0 ||
                  json_object_object_add(o, "compatible", json_object_new_boolean(compatible)) < 0 ||
                  json_object_object_add(o, "reason", json_object_new_string(strempty(reason))) < 0 ||
                  json_object_object_add(o, "parents", strv_to_json((const char * const *) parents)) < 0)) {
                json_object_put(o);
                return NULL;
        }
        return o;
}

int verb_migration_check(Context *c, const Options *o, int argc, char **argv) {
        _cleanup_(json_array_done) JsonArray a = {};
        _cleanup_free_ char *text = NULL;
        CheckInput *in = NULL;
        size_t n = 0, bad = 0;
        const char *s;
        int r;

        r = read_file(argv[1], &text);
        if (r < 0)
                return r;
        s = text + strspn(text, " \t\r\n");
        r = *s == '[' ? parse_json(text, argv[1], &in, &n) : parse_text(text, argv[1], &in, &n);
        if (r >= 0 && n == 0)
                r = log_error_errno(-ERRNO_USAGE, "%s: no type in it (what 'siovctl migration-info' prints)",
                                    argv[1]);
        if (r >= 0)
                r = bus_connect(c);
        if (c->json)
                json_array_begin(&a, stdout, c->json);

        for (size_t i = 0; i < n && r >= 0; i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                _cleanup_strv_free_ char **parents = NULL;
                _cleanup_free_ char *type = strdup_printable(in[i].type);
                const char *reason = NULL;
                int compatible = 0;

                if (!type) {
                        r = log_error_errno(-ENOMEM, "out of memory");
                        break;
                }
                r = sd_bus_call_method(c->bus, SIOV_DBUS_NAME, SIOV_DBUS_PATH, SIOV_DBUS_MANAGER_INTERFACE,
                                       "CheckMigration", &error, &reply, "ss", in[i].type, in[i].version);
                if (r < 0 && sd_bus_error_has_names(&error, SIOV_ERROR_NO_SUCH_TYPE,
                                                    SIOV_ERROR_INVALID_ARGUMENT)) {
                        /* this entry cannot come here: say why, go on */
                        reason = error.message;
                        r = 0;
                } else if (r < 0) {
                        r = bus_log_call_error(c, &error, r, "check a migration");
                        break;
                } else {
                        r = sd_bus_message_read(reply, "bs", &compatible, &reason);
                        if (r >= 0)
                                r = sd_bus_message_read_strv(reply, &parents);
                        if (r < 0) {
                                r = log_error_errno(-EPROTO, "cannot parse siovd's answer to CheckMigration");
                                break;
                        }
                }
                if (!compatible)
                        bad++;
                if (c->json) {
                        r = json_array_add(&a, check_to_json(&in[i], compatible, reason, parents));
                        continue;
                }
                if (compatible) {
                        printf("compatible %s: on", type);
                        for (char **p = parents; p && *p; p++)
                                printf("%s %s", p == parents ? "" : ",", *p);
                        putchar('\n');
                } else {
                        _cleanup_free_ char *why = strdup_printable(strempty(reason));

                        printf("incompatible %s: %s\n", type, why ?: "?");
                }
        }
        if (r >= 0 && c->json)
                r = json_array_end(&a);
        for (size_t i = 0; i < n; i++) {
                free(in[i].type);
                free(in[i].version);
        }
        free(in);
        if (r < 0)
                return r;
        if (bad > 0) {
                fflush(stdout);
                return log_error_errno(-EIO, "%zu of %zu type%s cannot take a device state from there",
                                       bad, n, n == 1 ? "" : "s");
        }
        return 0;
}
