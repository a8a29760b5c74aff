/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Persistent definitions: one JSON file per device, <dir>/<uuid>.json.
 * Reading is strict (a file a person edited by hand is refused with a
 * reason rather than half understood); writing is atomic (temporary file,
 * fsync, rename, fsync of the folder), so a crash leaves the old file or
 * the new one, never a mix.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "siov-private.h"

#define KEY_UUID      "uuid"
#define KEY_PARENT    "parent"
#define KEY_TYPE      "type"
#define KEY_AUTOSTART "autostart"
#define KEY_VM        "vm"
#define KEY_ATTRS     "attrs"

int (*siov_definition_save_fault)(const char *step) = NULL;

static inline void json_object_putp(struct json_object **o) {
        if (*o)
                json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_object_putp)

/* ---- strict JSON ----------------------------------------------------- */

/*
 * json-c accepts a superset of JSON and silently keeps the last of two
 * equal keys; a definition whose "uuid" appears twice must be refused, not
 * read as whichever came last. So a small validating scanner runs first
 * (syntax, UTF-8, depth, duplicate keys, with line and column), and json-c
 * only builds the tree of a document known to be clean.
 */

struct scanner {
        const char *s;
        size_t len, pos;
        unsigned depth;
        char *reason;
};

struct buf {
        char *p;
        size_t n, allocated;
};

static int buf_put(struct buf *b, const char *data, size_t n) {
        if (b->n + n + 1 > b->allocated) {
                size_t a = b->allocated ? b->allocated * 2 : 64;
                char *m;

                while (a < b->n + n + 1)
                        a *= 2;
                m = realloc(b->p, a);
                if (!m)
                        return -ENOMEM;
                b->p = m;
                b->allocated = a;
        }
        memcpy(b->p + b->n, data, n);
        b->n += n;
        b->p[b->n] = '\0';
        return 0;
}

_printf_(3, 4) static int scan_fail(struct scanner *sc, size_t at, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        size_t line = 1, col = 1;
        va_list ap;

        if (sc->reason)
                return -EINVAL;
        for (size_t i = 0; i < at && i < sc->len; i++) {
                if (sc->s[i] == '\n') {
                        line++;
                        col = 1;
                } else
                        col++;
        }
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        if (!msg || asprintf(&sc->reason, "line %zu, column %zu: %s", line, col, msg) < 0) {
                sc->reason = NULL;
                return -ENOMEM;
        }
        return -EINVAL;
}

static void scan_ws(struct scanner *sc) {
        while (sc->pos < sc->len && strchr(" \t\n\r", sc->s[sc->pos]) && sc->s[sc->pos] != '\0')
                sc->pos++;
}

static int hex4(const char *s, uint32_t *ret) {
        uint32_t v = 0;

        for (int i = 0; i < 4; i++) {
                char c = s[i];

                v <<= 4;
                if (c >= '0' && c <= '9')
                        v |= (uint32_t) (c - '0');
                else if (c >= 'a' && c <= 'f')
                        v |= (uint32_t) (c - 'a' + 10);
                else if (c >= 'A' && c <= 'F')
                        v |= (uint32_t) (c - 'A' + 10);
                else
                        return -EINVAL;
        }
        *ret = v;
        return 0;
}

static size_t utf8_encode(uint32_t cp, char out[static 4]) {
        if (cp < 0x80) {
                out[0] = (char) cp;
                return 1;
        }
        if (cp < 0x800) {
                out[0] = (char) (0xc0 | (cp >> 6));
                out[1] = (char) (0x80 | (cp & 0x3f));
                return 2;
        }
        if (cp < 0x10000) {
                out[0] = (char) (0xe0 | (cp >> 12));
                out[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
                out[2] = (char) (0x80 | (cp & 0x3f));
                return 3;
        }
        out[0] = (char) (0xf0 | (cp >> 18));
        out[1] = (char) (0x80 | ((cp >> 12) & 0x3f));
        out[2] = (char) (0x80 | ((cp >> 6) & 0x3f));
        out[3] = (char) (0x80 | (cp & 0x3f));
        return 4;
}

/* A string at sc->pos (on its '"'); decoded into out when not NULL. */
static int scan_string(struct scanner *sc, struct buf *out) {
        size_t start = sc->pos;

        sc->pos++;
        for (;;) {
                unsigned char c;

                if (sc->pos >= sc->len)
                        return scan_fail(sc, start, "unterminated string");
                c = (unsigned char) sc->s[sc->pos];
                if (c == '"') {
                        sc->pos++;
                        return 0;
                }
                if (c < 0x20)
                        return scan_fail(sc, sc->pos, "control character 0x%02x in a string (escape it)", c);
                if (c != '\\') {
                        /* UTF-8 was checked for the whole input already */
                        if (out && buf_put(out, sc->s + sc->pos, 1) < 0)
                                return -ENOMEM;
                        sc->pos++;
                        continue;
                }

                if (sc->pos + 1 >= sc->len)
                        return scan_fail(sc, start, "unterminated string");
                c = (unsigned char) sc->s[sc->pos + 1];
                if (c == 'u') {
                        char enc[4];
                        uint32_t cp, lo;
                        size_t at = sc->pos;

                        if (sc->pos + 6 > sc->len || hex4(sc->s + sc->pos + 2, &cp) < 0)
                                return scan_fail(sc, at, "bad \\u escape");
                        sc->pos += 6;
                        if (cp >= 0xdc00 && cp <= 0xdfff)
                                return scan_fail(sc, at, "lone low surrogate \\u%04x", cp);
                        if (cp >= 0xd800 && cp <= 0xdbff) {
                                if (sc->pos + 6 > sc->len || sc->s[sc->pos] != '\\' || sc->s[sc->pos + 1] != 'u' ||
                                    hex4(sc->s + sc->pos + 2, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
                                        return scan_fail(sc, at, "lone high surrogate \\u%04x", cp);
                                sc->pos += 6;
                                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                        }
                        if (cp == 0)
                                return scan_fail(sc, at, "\\u0000 (NUL) in a string");
                        if (out && buf_put(out, enc, utf8_encode(cp, enc)) < 0)
                                return -ENOMEM;
                        continue;
                }
                {
                        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
                        const char *k = c ? strchr(from, c) : NULL;

                        if (!k)
                                return scan_fail(sc, sc->pos, "bad escape '\\%c'", c >= 0x20 && c < 0x7f ? c : '?');
                        if (out && buf_put(out, &to[k - from], 1) < 0)
                                return -ENOMEM;
                        sc->pos += 2;
                }
        }
}

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

/* json-c keeps integers as int64/uint64 and would write back a different
 * number for one outside that range (or for "-0"); an unknown key must be
 * written back unchanged, so such integers are refused. */
static bool integer_fits(const char *digits, size_t n, bool negative) {
        const char *limit = negative ? "9223372036854775808" : "18446744073709551615";
        size_t ln = strlen(limit);

        if (negative && n == 1 && digits[0] == '0')
                return false;
        if (n != ln)
                return n < ln;
        return memcmp(digits, limit, n) <= 0;
}

static int scan_number(struct scanner *sc) {
        size_t start = sc->pos, digits;
        const char *s = sc->s;
        bool negative = false, integer = true;

        if (s[sc->pos] == '-') {
                negative = true;
                sc->pos++;
        }
        if (sc->pos >= sc->len || !is_digit(s[sc->pos]))
                return scan_fail(sc, start, "bad number");
        digits = sc->pos;
        if (s[sc->pos] == '0')
                sc->pos++;
        else
                while (sc->pos < sc->len && is_digit(s[sc->pos]))
                        sc->pos++;
        if (sc->pos < sc->len && strchr(".eE", s[sc->pos]) && s[sc->pos] != '\0')
                integer = false;
        if (integer && !integer_fits(s + digits, sc->pos - digits, negative))
                return scan_fail(sc, start, "integer %.*s cannot be kept exactly (out of range, or -0)",
                                 (int) (sc->pos - start > 40 ? 40 : sc->pos - start), s + start);
        if (sc->pos < sc->len && s[sc->pos] == '.') {
                sc->pos++;
                if (sc->pos >= sc->len || !is_digit(s[sc->pos]))
                        return scan_fail(sc, start, "bad number");
                while (sc->pos < sc->len && is_digit(s[sc->pos]))
                        sc->pos++;
        }
        if (sc->pos < sc->len && (s[sc->pos] == 'e' || s[sc->pos] == 'E')) {
                sc->pos++;
                if (sc->pos < sc->len && (s[sc->pos] == '+' || s[sc->pos] == '-'))
                        sc->pos++;
                if (sc->pos >= sc->len || !is_digit(s[sc->pos]))
                        return scan_fail(sc, start, "bad number");
                while (sc->pos < sc->len && is_digit(s[sc->pos]))
                        sc->pos++;
        }
        return 0;
}

struct key {
        char *name;
        size_t len, at;
};

static int key_cmp(const void *a, const void *b) {
        const struct key *x = a, *y = b;
        size_t n = x->len < y->len ? x->len : y->len;
        int c = memcmp(x->name, y->name, n);

        if (c != 0)
                return c;
        if (x->len != y->len)
                return x->len < y->len ? -1 : 1;
        return x->at < y->at ? -1 : x->at > y->at;
}

static int scan_value(struct scanner *sc);

/* After a member of an object or an array: 1 when ',' says another
 * follows, 0 when close ends it. what: "an object", "an array". */
static int scan_separator(struct scanner *sc, char close, const char *what) {
        scan_ws(sc);
        if (sc->pos < sc->len && sc->s[sc->pos] == ',') {
                sc->pos++;
                return 1;
        }
        if (sc->pos < sc->len && sc->s[sc->pos] == close) {
                sc->pos++;
                return 0;
        }
        if (sc->pos >= sc->len)
                return scan_fail(sc, sc->pos, "unexpected end of input in %s", what);
        return scan_fail(sc, sc->pos, "expected ',' or '%c' in %s", close, what);
}

static int scan_object(struct scanner *sc) {
        struct key *keys = NULL;
        size_t n = 0, allocated = 0;
        int r;

        sc->pos++;      /* '{' */
        scan_ws(sc);
        if (sc->pos < sc->len && sc->s[sc->pos] == '}') {
                sc->pos++;
                return 0;
        }
        for (;;) {
                struct buf k = {};

                scan_ws(sc);
                if (sc->pos >= sc->len) {
                        r = scan_fail(sc, sc->pos, "unexpected end of input in an object");
                        goto finish;
                }
                if (sc->s[sc->pos] != '"') {
                        r = scan_fail(sc, sc->pos, "expected a key (a string in double quotes)");
                        goto finish;
                }
                if (n == allocated) {
                        size_t a = allocated ? allocated * 2 : 8;
                        struct key *m = realloc(keys, a * sizeof(struct key));
                        if (!m) {
                                r = -ENOMEM;
                                goto finish;
                        }
                        keys = m;
                        allocated = a;
                }
                keys[n].at = sc->pos;
                r = scan_string(sc, &k);
                if (r >= 0 && !k.p)
                        r = buf_put(&k, "", 0);         /* "" is a key too */
                if (r < 0) {
                        free(k.p);
                        goto finish;
                }
                keys[n].name = k.p;
                keys[n].len = k.n;
                n++;

                scan_ws(sc);
                if (sc->pos >= sc->len || sc->s[sc->pos] != ':') {
                        r = scan_fail(sc, sc->pos, sc->pos >= sc->len ? "unexpected end of input in an object" :
                                      "expected ':' after a key");
                        goto finish;
                }
                sc->pos++;
                r = scan_value(sc);
                if (r < 0)
                        goto finish;
                r = scan_separator(sc, '}', "an object");
                if (r < 0)
                        goto finish;
                if (r == 0)
                        break;
        }

        r = 0;
        if (n > 1) {
                qsort(keys, n, sizeof(struct key), key_cmp);
                for (size_t i = 1; i < n; i++)
                        if (keys[i].len == keys[i - 1].len && memcmp(keys[i].name, keys[i - 1].name, keys[i].len) == 0) {
                                _cleanup_free_ char *e = siov_escape_value(keys[i].name);

                                r = e ? scan_fail(sc, keys[i].at, "duplicate key '%s'", e) : -ENOMEM;
                                break;
                        }
        }
finish:
        for (size_t i = 0; i < n; i++)
                free(keys[i].name);
        free(keys);
        return r;
}

static int scan_array(struct scanner *sc) {
        int r;

        sc->pos++;      /* '[' */
        scan_ws(sc);
        if (sc->pos < sc->len && sc->s[sc->pos] == ']') {
                sc->pos++;
                return 0;
        }
        for (;;) {
                r = scan_value(sc);
                if (r < 0)
                        return r;
                r = scan_separator(sc, ']', "an array");
                if (r <= 0)
                        return r;
        }
}

static int scan_value(struct scanner *sc) {
        static const char * const literals[] = { "true", "false", "null" };
        unsigned char c;
        int r;

        scan_ws(sc);
        if (sc->pos >= sc->len)
                return scan_fail(sc, sc->pos, "unexpected end of input");
        c = (unsigned char) sc->s[sc->pos];
        switch (c) {
        case '{':
        case '[':
                if (sc->depth >= SIOV_JSON_MAX_DEPTH)
                        return scan_fail(sc, sc->pos, "nested deeper than %d levels", SIOV_JSON_MAX_DEPTH);
                sc->depth++;
                r = c == '{' ? scan_object(sc) : scan_array(sc);
                sc->depth--;
                return r;
        case '"':
                return scan_string(sc, NULL);
        case '-':
        case '0' ... '9':
                return scan_number(sc);
        }
        for (size_t i = 0; i < ELEMENTSOF(literals); i++) {
                size_t l = strlen(literals[i]);

                if (sc->len - sc->pos >= l && memcmp(sc->s + sc->pos, literals[i], l) == 0) {
                        sc->pos += l;
                        return 0;
                }
        }
        if (c >= 0x20 && c < 0x7f)
                return scan_fail(sc, sc->pos, "unexpected character '%c'", c);
        return scan_fail(sc, sc->pos, "unexpected byte 0x%02x", c);
}

int siov_json_parse_strict(const char *json, size_t len, struct json_object **ret, char **reason) {
        struct scanner sc = { .s = json, .len = len };
        struct json_tokener *tok;
        struct json_object *o;
        size_t valid;
        int r;

        *ret = NULL;
        *reason = NULL;
        if (len > INT32_MAX)
                return -EFBIG;

        valid = siov_utf8_valid_prefix(json, len);
        if (valid < len) {
                (void) scan_fail(&sc, valid, "not valid UTF-8 (byte 0x%02x)", (unsigned char) json[valid]);
                r = -EINVAL;
                goto fail;
        }
        scan_ws(&sc);
        if (sc.pos >= len) {
                r = scan_fail(&sc, sc.pos, "empty document");
                goto fail;
        }
        if (json[sc.pos] != '{') {
                r = scan_fail(&sc, sc.pos, "the document is not a JSON object");
                goto fail;
        }
        r = scan_value(&sc);
        if (r < 0)
                goto fail;
        scan_ws(&sc);
        if (sc.pos < len) {
                r = scan_fail(&sc, sc.pos, "unexpected data after the JSON object");
                goto fail;
        }

        tok = json_tokener_new_ex(SIOV_JSON_MAX_DEPTH + 1);
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
        o = json_tokener_parse_ex(tok, json, (int) len);
        if (!o || json_tokener_get_error(tok) != json_tokener_success) {
                enum json_tokener_error e = json_tokener_get_error(tok);

                json_object_put(o);
                json_tokener_free(tok);
                if (asprintf(reason, "rejected by json-c: %s", json_tokener_error_desc(e)) < 0) {
                        *reason = NULL;
                        return -ENOMEM;
                }
                return -EINVAL;
        }
        json_tokener_free(tok);
        *ret = o;
        return 0;

fail:
        if (r == -EINVAL && sc.reason) {
                *reason = sc.reason;
                return -EINVAL;
        }
        free(sc.reason);
        return r == -EINVAL ? -ENOMEM : r;
}

/* ---- the object ------------------------------------------------------ */

static struct siov_definition *definition_free(struct siov_definition *d) {
        free(d->parent);
        free(d->type);
        free(d->vm);
        siov_definition_clear_attrs(d);
        json_object_putp(&d->extra);
        free(d);
        return NULL;
}

_public_ struct siov_definition *siov_definition_ref(struct siov_definition *d) {
        if (d)
                d->n_ref++;
        return d;
}

_public_ struct siov_definition *siov_definition_unref(struct siov_definition *d) {
        if (!d || --d->n_ref > 0)
                return NULL;
        return definition_free(d);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct siov_definition *, siov_definition_unref);

/* A libvirt domain name: 1..255 bytes of UTF-8, no '/', no control
 * characters (C0, DEL, C1): it ends up in paths and log lines. */
static bool vm_name_is_valid(const char *s) {
        size_t n;

        if (!s)
                return false;
        n = strlen(s);
        if (n == 0 || n > 255 || !siov_utf8_is_valid(s, n))
                return false;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) s[i];

                if (c < 0x20 || c == 0x7f || c == '/')
                        return false;
                /* U+0080..U+009F are C2 80..C2 9F */
                if (c == 0xc2 && i + 1 < n && (unsigned char) s[i + 1] < 0xa0)
                        return false;
        }
        return true;
}

static struct siov_definition *definition_alloc(void) {
        struct siov_definition *d = calloc(1, sizeof(*d));

        if (d)
                d->n_ref = 1;
        return d;
}

_public_ int siov_definition_new(struct siov_definition **ret, const char *uuid, const char *parent, const char *type) {
        _cleanup_(siov_definition_unrefp) struct siov_definition *d = NULL;
        char id[SIOV_UUID_STRING_MAX];

        if (!ret)
                return -EINVAL;
        if (siov_uuid_normalize(uuid, id) < 0 || !siov_name_is_valid(parent) || !siov_name_is_valid(type))
                return -EINVAL;
        d = definition_alloc();
        if (!d)
                return -ENOMEM;
        memcpy(d->uuid, id, sizeof(id));
        d->parent = strdup(parent);
        d->type = strdup(type);
        if (!d->parent || !d->type)
                return -ENOMEM;
        *ret = TAKE_PTR(d);
        return 0;
}

_public_ int siov_definition_copy(const struct siov_definition *d, struct siov_definition **ret) {
        _cleanup_(siov_definition_unrefp) struct siov_definition *c = NULL;
        int r;

        if (!d || !ret)
                return -EINVAL;
        r = siov_definition_new(&c, d->uuid, d->parent, d->type);
        if (r < 0)
                return r;
        c->autostart = d->autostart;
        if (d->vm) {
                c->vm = strdup(d->vm);
                if (!c->vm)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < d->n_attrs; i++) {
                r = siov_definition_add_attr(c, d->attrs[i].name, d->attrs[i].value);
                if (r < 0)
                        return r;
        }
        if (d->extra && json_object_deep_copy(d->extra, &c->extra, NULL) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(c);
        return 0;
}

_public_ const char *siov_definition_get_uuid(const struct siov_definition *d) {
        return d ? d->uuid : NULL;
}

_public_ const char *siov_definition_get_parent(const struct siov_definition *d) {
        return d ? d->parent : NULL;
}

_public_ const char *siov_definition_get_type(const struct siov_definition *d) {
        return d ? d->type : NULL;
}

_public_ bool siov_definition_get_autostart(const struct siov_definition *d) {
        return d ? d->autostart : false;
}

_public_ const char *siov_definition_get_vm(const struct siov_definition *d) {
        return d ? strempty(d->vm) : NULL;
}

_public_ size_t siov_definition_get_n_attrs(const struct siov_definition *d) {
        return d ? d->n_attrs : 0;
}

_public_ const char *siov_definition_get_attr_name(const struct siov_definition *d, size_t i) {
        return d && i < d->n_attrs ? d->attrs[i].name : NULL;
}

_public_ const char *siov_definition_get_attr_value(const struct siov_definition *d, size_t i) {
        return d && i < d->n_attrs ? d->attrs[i].value : NULL;
}

_public_ void siov_definition_set_autostart(struct siov_definition *d, bool b) {
        if (d)
                d->autostart = b;
}

_public_ int siov_definition_set_vm(struct siov_definition *d, const char *vm) {
        char *s = NULL;

        if (!d)
                return -EINVAL;
        if (!isempty(vm)) {
                if (!vm_name_is_valid(vm))
                        return -EINVAL;
                s = strdup(vm);
                if (!s)
                        return -ENOMEM;
        }
        free(d->vm);
        d->vm = s;
        return 0;
}

_public_ int siov_definition_add_attr(struct siov_definition *d, const char *name, const char *value) {
        struct siov_attr *m;
        size_t l;

        if (!d || !value || !siov_mdev_attr_name_is_writable(name))
                return -EINVAL;
        l = strlen(value);
        if (l > SIOV_ATTR_VALUE_MAX || !siov_utf8_is_valid(value, l))
                return -EINVAL;
        if (d->n_attrs >= SIOV_ATTRS_MAX)
                return -E2BIG;
        m = realloc(d->attrs, (d->n_attrs + 1) * sizeof(struct siov_attr));
        if (!m)
                return -ENOMEM;
        d->attrs = m;
        m[d->n_attrs].name = strdup(name);
        m[d->n_attrs].value = strdup(value);
        if (!m[d->n_attrs].name || !m[d->n_attrs].value) {
                free(m[d->n_attrs].name);
                free(m[d->n_attrs].value);
                return -ENOMEM;
        }
        d->n_attrs++;
        return 0;
}

_public_ void siov_definition_clear_attrs(struct siov_definition *d) {
        if (!d)
                return;
        for (size_t i = 0; i < d->n_attrs; i++) {
                free(d->attrs[i].name);
                free(d->attrs[i].value);
        }
        d->attrs = mfree(d->attrs);
        d->n_attrs = 0;
}

static bool extra_is_empty(struct json_object *o) {
        return !o || json_object_object_length(o) == 0;
}

_public_ bool siov_definition_equal(const struct siov_definition *a, const struct siov_definition *b) {
        if (a == b)
                return true;
        if (!a || !b)
                return false;
        if (!streq(a->uuid, b->uuid) || !streq(a->parent, b->parent) || !streq(a->type, b->type) ||
            a->autostart != b->autostart || !streq(strempty(a->vm), strempty(b->vm)) ||
            a->n_attrs != b->n_attrs)
                return false;
        for (size_t i = 0; i < a->n_attrs; i++)
                if (!streq(a->attrs[i].name, b->attrs[i].name) || !streq(a->attrs[i].value, b->attrs[i].value))
                        return false;
        if (extra_is_empty(a->extra) || extra_is_empty(b->extra))
                return extra_is_empty(a->extra) && extra_is_empty(b->extra);
        return json_object_equal(a->extra, b->extra);
}

bool siov_definition_key_is_reserved(const char *key) {
        return STR_IN_SET(key, KEY_UUID, KEY_PARENT, KEY_TYPE, KEY_AUTOSTART, KEY_VM, KEY_ATTRS);
}

void siov_definition_set_extra(struct siov_definition *d, struct json_object *extra) {
        json_object_putp(&d->extra);
        d->extra = extra ? json_object_get(extra) : NULL;
}

/* ---- parsing ------------------------------------------------------- */

static const char *json_type_label(struct json_object *v) {
        switch (json_object_get_type(v)) {
        case json_type_null:
                return "null";
        case json_type_boolean:
                return "a boolean";
        case json_type_double:
        case json_type_int:
                return "a number";
        case json_type_object:
                return "an object";
        case json_type_array:
                return "an array";
        case json_type_string:
                return "a string";
        }
        return "unknown";
}

_printf_(2, 3) static int reason_set(char **reason, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(reason, fmt, ap);
        va_end(ap);
        if (r < 0) {
                *reason = NULL;
                return -ENOMEM;
        }
        siov_utf8_sanitize(*reason);
        return -EINVAL;
}

/* The string value of key, or a reason why it is not one. */
static int get_string(struct json_object *v, const char *key, const char **ret, char **reason) {
        if (!json_object_is_type(v, json_type_string))
                return reason_set(reason, "%s: expected a string, got %s", key, json_type_label(v));
        *ret = json_object_get_string(v);
        return 0;
}

static int check_name(const char *key, const char *s, char **reason) {
        _cleanup_free_ char *e = NULL;

        if (siov_name_is_valid(s))
                return 0;
        e = siov_escape_value(s);
        if (!e)
                return -ENOMEM;
        return reason_set(reason, "%s: not a valid name (1-255 printable ASCII characters, no '/', "
                          "not '.' or '..'): '%s'", key, e);
}

int siov_definition_attrs_from_json(struct siov_definition *d, struct json_object *a, char **reason) {
        size_t n;
        int r;

        if (!json_object_is_type(a, json_type_array))
                return reason_set(reason, KEY_ATTRS ": expected an array, got %s", json_type_label(a));
        n = json_object_array_length(a);
        if (n > SIOV_ATTRS_MAX)
                return reason_set(reason, KEY_ATTRS ": %zu entries, at most %d allowed", n, SIOV_ATTRS_MAX);
        for (size_t i = 0; i < n; i++) {
                struct json_object *e = json_object_array_get_idx(a, i);
                _cleanup_free_ char *en = NULL;
                const char *value = NULL;

                if (!json_object_is_type(e, json_type_object) || json_object_object_length(e) != 1)
                        return reason_set(reason, KEY_ATTRS "[%zu]: expected an object with one "
                                          "\"name\": \"value\" pair", i);
                json_object_object_foreach(e, name, v) {
                        if (!json_object_is_type(v, json_type_string))
                                return reason_set(reason, KEY_ATTRS "[%zu]: value of '%s' is %s, expected a string",
                                                  i, siov_name_is_valid(name) ? name : "?", json_type_label(v));
                        value = json_object_get_string(v);
                        if (!siov_mdev_attr_name_is_writable(name)) {
                                en = siov_escape_value(name);
                                if (!en)
                                        return -ENOMEM;
                                return reason_set(reason, KEY_ATTRS "[%zu]: '%s' is not a valid attribute name", i, en);
                        }
                        if (strlen(value) > SIOV_ATTR_VALUE_MAX)
                                return reason_set(reason, KEY_ATTRS "[%zu]: value of %s is longer than %d bytes",
                                                  i, name, SIOV_ATTR_VALUE_MAX);
                        r = siov_definition_add_attr(d, name, value);
                        if (r == -ENOMEM)
                                return r;
                        if (r < 0)
                                return reason_set(reason, KEY_ATTRS "[%zu]: %s refused: %s", i, name, strerror(-r));
                }
        }
        return 0;
}

int siov_definition_json_parse(const char *json, size_t len, struct json_object **ret, char **error_msg) {
        _cleanup_free_ char *reason = NULL;
        int r;

        if (len > SIOV_DEFINITION_MAX_SIZE)
                return siov_error(error_msg, -EFBIG, "%zu bytes, more than the %d a definition may have",
                                  len, SIOV_DEFINITION_MAX_SIZE);
        r = siov_json_parse_strict(json, len, ret, &reason);
        if (r == -EINVAL)
                return siov_error(error_msg, r, "%s", reason);
        return r;
}

int siov_definition_extra_add(struct json_object **extra, const char *key, struct json_object *v) {
        if (!*extra) {
                *extra = json_object_new_object();
                if (!*extra)
                        return -ENOMEM;
        }
        if (json_object_object_add(*extra, key, json_object_get(v)) < 0)
                return -ENOMEM;
        return 0;
}

const char *siov_definition_read_error(int r, char buf[static 64]) {
        if (r == -EFBIG) {
                snprintf(buf, 64, "larger than %d bytes", SIOV_DEFINITION_MAX_SIZE);
                return buf;
        }
        if (r == -ELOOP)
                return "a symbolic link, not followed";
        if (r == -EINVAL || r == -EISDIR)
                return "not a regular file";
        return strerror(-r);
}

_public_ int siov_definition_parse(const char *json, size_t len, struct siov_definition **ret, char **error_msg) {
        _cleanup_(siov_definition_unrefp) struct siov_definition *d = NULL;
        _cleanup_json_ struct json_object *o = NULL, *extra = NULL;
        _cleanup_free_ char *reason = NULL;
        bool has_uuid = false;
        int r;

        if (error_msg)
                *error_msg = NULL;
        if (!json || !ret)
                return -EINVAL;
        r = siov_definition_json_parse(json, len, &o, error_msg);
        if (r < 0)
                return r;

        d = definition_alloc();
        if (!d)
                return -ENOMEM;

        json_object_object_foreach(o, key, v) {
                const char *s = NULL;

                if (streq(key, KEY_UUID)) {
                        _cleanup_free_ char *e = NULL;

                        r = get_string(v, key, &s, &reason);
                        if (r < 0)
                                goto fail;
                        if (siov_uuid_normalize(s, d->uuid) < 0) {
                                e = siov_escape_value(s);
                                r = e ? reason_set(&reason, KEY_UUID ": not a UUID: '%s'", e) : -ENOMEM;
                                goto fail;
                        }
                        has_uuid = true;
                } else if (streq(key, KEY_PARENT) || streq(key, KEY_TYPE)) {
                        r = get_string(v, key, &s, &reason);
                        if (r < 0)
                                goto fail;
                        r = check_name(key, s, &reason);
                        if (r < 0)
                                goto fail;
                        if (streq(key, KEY_PARENT))
                                d->parent = strdup(s);
                        else
                                d->type = strdup(s);
                        if (!(streq(key, KEY_PARENT) ? d->parent : d->type))
                                return -ENOMEM;
                } else if (streq(key, KEY_AUTOSTART)) {
                        if (!json_object_is_type(v, json_type_boolean)) {
                                r = reason_set(&reason, KEY_AUTOSTART ": expected true or false, got %s",
                                               json_type_label(v));
                                goto fail;
                        }
                        d->autostart = json_object_get_boolean(v);
                } else if (streq(key, KEY_VM)) {
                        _cleanup_free_ char *e = NULL;

                        r = get_string(v, key, &s, &reason);
                        if (r < 0)
                                goto fail;
                        if (!vm_name_is_valid(s)) {
                                e = siov_escape_value(s);
                                r = e ? reason_set(&reason, KEY_VM ": not a valid domain name (1-255 bytes, "
                                                   "no '/', no control characters): '%s'", e) : -ENOMEM;
                                goto fail;
                        }
                        d->vm = strdup(s);
                        if (!d->vm)
                                return -ENOMEM;
                } else if (streq(key, KEY_ATTRS)) {
                        r = siov_definition_attrs_from_json(d, v, &reason);
                        if (r < 0)
                                goto fail;
                } else {
                        /* A newer siovd's key: kept, written back as is. */
                        r = siov_definition_extra_add(&extra, key, v);
                        if (r < 0)
                                return r;
                }
        }

        if (!has_uuid || !d->parent || !d->type)
                return siov_error(error_msg, -EINVAL, "missing key '%s'",
                                  !has_uuid ? KEY_UUID : !d->parent ? KEY_PARENT : KEY_TYPE);
        d->extra = TAKE_PTR(extra);
        *ret = TAKE_PTR(d);
        return 0;

fail:
        if (r == -EINVAL)
                return siov_error(error_msg, r, "%s", reason);
        return r;
}

/* ---- writing ------------------------------------------------------- */

static int add_string(struct json_object *o, const char *key, const char *value) {
        struct json_object *s = json_object_new_string(value);

        if (!s || json_object_object_add(o, key, s) < 0) {
                json_object_put(s);
                return -ENOMEM;
        }
        return 0;
}

_public_ int siov_definition_to_json(const struct siov_definition *d, char **ret) {
        _cleanup_json_ struct json_object *o = NULL;
        struct json_object *attrs, *b;
        const char *s;
        int r;

        if (!d || !ret)
                return -EINVAL;
        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        /* Fixed key order: two saves of one definition give the same bytes. */
        r = add_string(o, KEY_UUID, d->uuid);
        if (r >= 0)
                r = add_string(o, KEY_PARENT, d->parent);
        if (r >= 0)
                r = add_string(o, KEY_TYPE, d->type);
        if (r < 0)
                return r;
        b = json_object_new_boolean(d->autostart);
        if (!b || json_object_object_add(o, KEY_AUTOSTART, b) < 0) {
                json_object_put(b);
                return -ENOMEM;
        }
        if (d->vm) {
                r = add_string(o, KEY_VM, d->vm);
                if (r < 0)
                        return r;
        }
        attrs = json_object_new_array();
        if (!attrs || json_object_object_add(o, KEY_ATTRS, attrs) < 0) {
                json_object_put(attrs);
                return -ENOMEM;
        }
        for (size_t i = 0; i < d->n_attrs; i++) {
                struct json_object *e = json_object_new_object();

                if (!e || json_object_array_add(attrs, e) < 0) {
                        json_object_put(e);
                        return -ENOMEM;
                }
                r = add_string(e, d->attrs[i].name, d->attrs[i].value);
                if (r < 0)
                        return r;
        }
        if (d->extra) {
                json_object_object_foreach(d->extra, key, v) {
                        /* An extra key never overrides a checked one, whoever
                         * put it there (an import, a newer file). */
                        if (siov_definition_key_is_reserved(key))
                                continue;
                        if (json_object_object_add(o, key, json_object_get(v)) < 0)
                                return -ENOMEM;
                }
        }

        s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                           JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!s)
                return -ENOMEM;
        if (asprintf(ret, "%s\n", s) < 0) {
                *ret = NULL;
                return -ENOMEM;
        }
        return 0;
}

static int mkdir_parents_and_dir(const char *dir, mode_t mode) {
        _cleanup_free_ char *p = strdup(dir);

        if (!p)
                return -ENOMEM;
        if (mkdir(p, mode) >= 0 || errno == EEXIST)
                return 0;
        if (errno != ENOENT)
                return -errno;
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = '\0';
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

static int fault(const char *step) {
        return siov_definition_save_fault ? siov_definition_save_fault(step) : 0;
}

/* Opens dir (creating it when asked): a folder, never a symlink's
 * replacement of one along the last component. */
static int open_dir(const char *dir, bool create, char **error_msg) {
        int fd, r;

        if (isempty(dir))
                return siov_error(error_msg, -EINVAL, "no definitions folder given");
        if (create) {
                r = mkdir_parents_and_dir(dir, 0755);
                if (r < 0)
                        return siov_error(error_msg, r, "cannot create %s: %s", dir, strerror(-r));
        }
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return siov_error(error_msg, -errno, "cannot open %s: %s", dir, strerror(errno));
        return fd;
}

_public_ int siov_definition_save(const char *dir, const struct siov_definition *d, char **error_msg) {
        _cleanup_free_ char *json = NULL;
        _cleanup_close_ int dfd = -1, fd = -1;
        char name[SIOV_UUID_STRING_MAX + 8], tmp[SIOV_UUID_STRING_MAX + 32];
        const char *step;
        size_t len, done = 0;
        int r;

        if (error_msg)
                *error_msg = NULL;
        if (!d)
                return -EINVAL;
        r = siov_definition_to_json(d, &json);
        if (r < 0)
                return r;
        len = strlen(json);

        dfd = open_dir(dir, true, error_msg);
        if (dfd < 0)
                return dfd;
        snprintf(name, sizeof(name), "%s.json", d->uuid);

        /* Hidden temporary name: the loader skips dot files, so a crash
         * before the rename leaves nothing it would report. */
        for (unsigned attempt = 0;; attempt++) {
                struct timespec ts;

                clock_gettime(CLOCK_MONOTONIC, &ts);
                snprintf(tmp, sizeof(tmp), ".%s.json.%05x%06lx", d->uuid,
                         (unsigned) getpid() & 0xfffff, ((unsigned long) ts.tv_nsec + attempt * 7919ul) & 0xffffff);
                fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0644);
                if (fd >= 0)
                        break;
                if (errno != EEXIST || attempt >= 64)
                        return siov_error(error_msg, -errno, "cannot create a temporary file in %s: %s",
                                          dir, strerror(errno));
        }

        step = "setting the mode of";
        /* 0644 whatever the umask: definitions are readable by all, like
         * the rest of /etc. */
        r = fchmod(fd, 0644) < 0 ? -errno : fault("created");
        if (r < 0)
                goto fail;

        step = "writing";
        while (done < len) {
                ssize_t k = write(fd, json + done, len - done);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        goto fail;
                }
                done += (size_t) k;
        }
        r = fault("written");
        if (r < 0)
                goto fail;

        step = "syncing";
        r = fsync(fd) < 0 ? -errno : fault("synced");
        if (r < 0)
                goto fail;

        step = "closing";
        r = close(TAKE_FD(fd)) < 0 ? -errno : fault("closed");
        if (r < 0)
                goto fail;

        step = "renaming";
        if (renameat(dfd, tmp, dfd, name) < 0) {
                r = -errno;
                goto fail;
        }

        /* The new name is in place; make the folder entry durable too. */
        r = fault("renamed");
        if (r >= 0 && fsync(dfd) < 0)
                r = -errno;
        if (r < 0)
                return siov_error(error_msg, r, "%s/%s was written but syncing %s failed: %s",
                                  dir, name, dir, strerror(-r));
        return 0;

fail:
        (void) unlinkat(dfd, tmp, 0);
        return siov_error(error_msg, r, "%s %s/%s (for %s) failed: %s; %s/%s is unchanged",
                          step, dir, tmp, name, strerror(-r), dir, name);
}

_public_ int siov_definition_delete(const char *dir, const char *uuid, char **error_msg) {
        _cleanup_close_ int dfd = -1;
        _cleanup_free_ char *e = NULL;
        char id[SIOV_UUID_STRING_MAX], name[SIOV_UUID_STRING_MAX + 8];

        if (error_msg)
                *error_msg = NULL;
        if (siov_uuid_normalize(uuid, id) < 0) {
                e = siov_escape_value(strempty(uuid));
                return siov_error(error_msg, -EINVAL, "invalid UUID '%s'", strempty(e));
        }
        dfd = open_dir(dir, false, error_msg);
        if (dfd == -ENOENT)
                return siov_error(error_msg, -ENOENT, "no definition %s: %s does not exist", id, dir);
        if (dfd < 0)
                return dfd;
        snprintf(name, sizeof(name), "%s.json", id);
        if (unlinkat(dfd, name, 0) < 0) {
                if (errno == ENOENT)
                        return siov_error(error_msg, -ENOENT, "no definition %s (%s/%s)", id, dir, name);
                return siov_error(error_msg, -errno, "removing %s/%s failed: %s", dir, name, strerror(errno));
        }
        if (fsync(dfd) < 0)
                return siov_error(error_msg, -errno, "%s/%s was removed but syncing %s failed: %s",
                                  dir, name, dir, strerror(errno));
        return 0;
}

/* ---- loading ------------------------------------------------------- */

static int definition_ptr_cmp(const void *a, const void *b) {
        const struct siov_definition *x = *(struct siov_definition * const *) a,
                *y = *(struct siov_definition * const *) b;

        return strcmp(x->uuid, y->uuid);
}

_printf_(5, 6) static int report(siov_definition_error_t on_error, void *userdata, const char *dir,
                                 const char *name, const char *fmt, ...) {
        _cleanup_free_ char *path = NULL, *reason = NULL;
        va_list ap;
        int r;

        if (!on_error)
                return 0;
        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        siov_utf8_sanitize(path);
        va_start(ap, fmt);
        r = vasprintf(&reason, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        siov_utf8_sanitize(reason);
        on_error(path, reason, userdata);
        return 0;
}

/* "<lower-case uuid>.json": true, and the uuid in id. */
static bool definition_file_name(const char *name, char id[static SIOV_UUID_STRING_MAX]) {
        char buf[SIOV_UUID_STRING_MAX];

        if (strlen(name) != 36 + 5 || !streq(name + 36, ".json"))
                return false;
        memcpy(buf, name, 36);
        buf[36] = '\0';
        if (siov_uuid_normalize(buf, id) < 0)
                return false;
        return streq(buf, id);
}

_public_ int siov_definitions_load(const char *dir, struct siov_definition ***ret, size_t *n_ret,
                                   siov_definition_error_t on_error, void *userdata) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_close_ int fd = -1;
        struct siov_definition **l = NULL;
        size_t n = 0, allocated = 0;
        int r = 0;

        if (!ret || !n_ret || isempty(dir))
                return -EINVAL;
        *ret = NULL;
        *n_ret = 0;

        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        /* sorted: the result is in UUID order, and reports come in a
         * stable order too */
        r = siov_list_dir_sorted(fd, &names);
        if (r < 0)
                return r;

        for (char **name = names; name && *name; name++) {
                _cleanup_(siov_definition_unrefp) struct siov_definition *def = NULL;
                _cleanup_free_ char *text = NULL, *msg = NULL;
                char id[SIOV_UUID_STRING_MAX], why[64];
                size_t len;

                /* our own temporary files (and editors' backups) */
                if ((*name)[0] == '.')
                        continue;
                if (!definition_file_name(*name, id)) {
                        r = report(on_error, userdata, dir, *name,
                                   "not a definition: the name is not <uuid>.json with a lower-case UUID");
                        if (r < 0)
                                goto fail;
                        continue;
                }
                r = siov_read_file_at(fd, *name, SIOV_DEFINITION_MAX_SIZE, &text, &len);
                if (r == -ENOMEM)
                        goto fail;
                if (r < 0) {
                        r = report(on_error, userdata, dir, *name, "%s", siov_definition_read_error(r, why));
                        if (r < 0)
                                goto fail;
                        continue;
                }
                r = siov_definition_parse(text, len, &def, &msg);
                if (r == -ENOMEM)
                        goto fail;
                if (r < 0) {
                        r = report(on_error, userdata, dir, *name, "%s", msg ?: strerror(-r));
                        if (r < 0)
                                goto fail;
                        continue;
                }
                if (!streq(def->uuid, id)) {
                        r = report(on_error, userdata, dir, *name,
                                   "its uuid key (%s) differs from its file name", def->uuid);
                        if (r < 0)
                                goto fail;
                        continue;
                }

                if (n == allocated) {
                        size_t a = allocated ? allocated * 2 : 16;
                        struct siov_definition **m = realloc(l, a * sizeof(*l));
                        if (!m) {
                                r = -ENOMEM;
                                goto fail;
                        }
                        l = m;
                        allocated = a;
                }
                l[n++] = TAKE_PTR(def);
        }

        if (n > 1)
                qsort(l, n, sizeof(*l), definition_ptr_cmp);
        *ret = l;
        *n_ret = n;
        return 0;

fail:
        siov_definitions_free(l, n);
        return r;
}

_public_ void siov_definitions_free(struct siov_definition **l, size_t n) {
        for (size_t i = 0; i < n; i++)
                siov_definition_unref(l[i]);
        free(l);
}
