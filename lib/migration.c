/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Migration compatibility strings. A type's migration_version (written by
 * its kernel driver, as in the vfio-mdev migration proposals) names what a
 * device state saved from an mdev of that type needs from the destination
 * type, as space-separated key=value pairs:
 *   "driver=siov_mdev type=idxd-1swq state=1 swq_slots=4"
 * A state loads where the destination type shows the same pairs, in any
 * order. The strings come from another host: everything is checked.
 */

#include <stdio.h>
#include <string.h>

#include "siov-private.h"

#define MIG_KEYS_MAX 32

typedef struct Pair {
        const char *key, *value;
        int key_len, value_len;
} Pair;

static bool key_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-' || c == '.';
}

static bool value_char(char c) {
        return c > ' ' && c < 0x7f;
}

/* Splits s into pairs pointing into s; -EINVAL when malformed. */
static int split(const char *s, Pair *pairs, size_t *ret_n) {
        size_t n = 0;

        if (!s || strlen(s) > SIOV_MIGRATION_VERSION_MAX)
                return -EINVAL;
        for (;;) {
                const char *k, *v;

                while (*s == ' ' || *s == '\t')
                        s++;
                if (!*s || *s == '\n')
                        break;
                if (n == MIG_KEYS_MAX)
                        return -EINVAL;
                for (k = s; key_char(*s); s++)
                        ;
                if (s == k || *s != '=')
                        return -EINVAL;
                for (v = ++s; value_char(*s); s++)
                        ;
                if (s == v || (*s && *s != ' ' && *s != '\t' && *s != '\n'))
                        return -EINVAL;
                for (size_t i = 0; i < n; i++)
                        if (pairs[i].key_len == v - 1 - k && strncmp(pairs[i].key, k, v - 1 - k) == 0)
                                return -EINVAL;         /* a key twice */
                pairs[n++] = (Pair) { k, v, (int) (v - 1 - k), (int) (s - v) };
        }
        /* only one trailing newline, nothing after it */
        if (*s == '\n' && s[1])
                return -EINVAL;
        *ret_n = n;
        return n ? 0 : -EINVAL;
}

_public_ bool siov_migration_version_is_valid(const char *s) {
        Pair p[MIG_KEYS_MAX];
        size_t n;

        return split(s, p, &n) >= 0;
}

static const Pair *find(const Pair *pairs, size_t n, const Pair *key) {
        for (size_t i = 0; i < n; i++)
                if (pairs[i].key_len == key->key_len && strncmp(pairs[i].key, key->key, key->key_len) == 0)
                        return &pairs[i];
        return NULL;
}

_public_ int siov_migration_version_compare(const char *here, const char *state, char **ret_reason) {
        Pair h[MIG_KEYS_MAX], s[MIG_KEYS_MAX];
        size_t nh, ns;
        char *reason = NULL;
        int r;

        if (!ret_reason)
                return -EINVAL;
        *ret_reason = NULL;
        if (split(here, h, &nh) < 0 || split(state, s, &ns) < 0)
                return -EINVAL;

        /* The first difference, in the state's order, then what only this
         * type names: one clear reason beats a list. */
        for (size_t i = 0; i < ns && !reason; i++) {
                const Pair *x = find(h, nh, &s[i]);

                if (!x)
                        r = asprintf(&reason, "the state needs %.*s=%.*s, which this type does not name",
                                     s[i].key_len, s[i].key, s[i].value_len, s[i].value);
                else if (x->value_len != s[i].value_len || strncmp(x->value, s[i].value, x->value_len) != 0)
                        r = asprintf(&reason, "the state needs %.*s=%.*s, this type has %.*s=%.*s",
                                     s[i].key_len, s[i].key, s[i].value_len, s[i].value,
                                     x->key_len, x->key, x->value_len, x->value);
                else
                        continue;
                if (r < 0)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < nh && !reason; i++) {
                if (find(s, ns, &h[i]))
                        continue;
                if (asprintf(&reason, "this type needs %.*s=%.*s, the state does not name %.*s",
                             h[i].key_len, h[i].key, h[i].value_len, h[i].value, h[i].key_len, h[i].key) < 0)
                        return -ENOMEM;
        }
        *ret_reason = reason;
        return reason ? 0 : 1;
}
