/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The strict JSON reader under every document libsiov reads (definitions,
 * mdevctl files).
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "siov-private.h"

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
