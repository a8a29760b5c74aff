/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The validators every caller-supplied name goes through before it reaches
 * a path, each checked against a reference written from its documentation:
 * siov_uuid_normalize/siov_uuid_is_valid, siov_name_is_valid,
 * siov_pci_address_is_valid, siov_devpath_is_valid,
 * siov_mdev_attr_name_is_writable; and the helpers that make names safe for
 * messages and D-Bus: siov_utf8_sanitize, siov_utf8_is_valid/_valid_prefix,
 * siov_escape_value.
 */

#include <ctype.h>
#include <errno.h>

#include "fuzz.h"

static bool is_hex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int hexv(char c) {
        return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

static bool reference_uuid(const char *s) {
        if (strlen(s) != 36)
                return false;
        for (size_t i = 0; i < 36; i++)
                if (i == 8 || i == 13 || i == 18 || i == 23 ? s[i] != '-' : !is_hex(s[i]))
                        return false;
        return true;
}

static bool reference_name(const char *s) {
        size_t n = strlen(s);

        if (n < 1 || n > 255 || streq(s, ".") || streq(s, ".."))
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) s[i] < 0x20 || (unsigned char) s[i] > 0x7e || s[i] == '/')
                        return false;
        return true;
}

/* dddd:bb:dd.f: domain 4-8 hex digits, bus 2, device 2 (at most 0x1f),
 * function 0-7 */
static bool reference_pci(const char *s) {
        size_t d = 0;

        while (is_hex(s[d]))
                d++;
        if (d < 4 || d > 8 || s[d] != ':')
                return false;
        s += d + 1;
        if (!is_hex(s[0]) || !is_hex(s[1]) || s[2] != ':')
                return false;
        s += 3;
        if (!is_hex(s[0]) || !is_hex(s[1]) || s[2] != '.')
                return false;
        if (hexv(s[0]) * 16 + hexv(s[1]) > 0x1f)
                return false;
        return s[3] >= '0' && s[3] <= '7' && s[4] == '\0';
}

static void check_devpath(const char *s) {
        _cleanup_free_ char *c = NULL;

        if (!siov_devpath_is_valid(s))
                return;
        fuzz_assert(strncmp(s, "/devices/", 9) == 0);
        fuzz_assert(strlen(s) < PATH_MAX);
        c = strdup(s + 1);
        fuzz_assert(c);
        /* every component a valid name: no "", ".", "..", control bytes */
        for (char *save = NULL, *t = strtok_r(c, "/", &save); t; t = strtok_r(NULL, "/", &save))
                fuzz_assert(reference_name(t));
        fuzz_assert(!strstr(s, "//"));
        fuzz_assert(s[strlen(s) - 1] != '/');
}

static void check_utf8(const uint8_t *data, size_t size, const char *s) {
        _cleanup_free_ char *t = strdup(s);
        size_t p = siov_utf8_valid_prefix((const char *) data, size);

        fuzz_assert(p <= size);
        fuzz_assert(siov_utf8_is_valid((const char *) data, p));
        fuzz_assert(siov_utf8_is_valid((const char *) data, size) == (p == size));

        fuzz_assert(t);
        siov_utf8_sanitize(t);
        fuzz_assert(strlen(t) == strlen(s));
        fuzz_assert(siov_utf8_is_valid(t, strlen(t)));
        if (siov_utf8_is_valid(s, strlen(s)))
                fuzz_assert(streq(s, t));
        /* only bytes turned into '?', ASCII kept */
        for (size_t i = 0; s[i]; i++)
                fuzz_assert(t[i] == s[i] || (t[i] == '?' && (unsigned char) s[i] >= 0x80));
}

static void check_escape(const char *s) {
        _cleanup_free_ char *e = siov_escape_value(s);
        size_t n = strlen(s);

        fuzz_assert(e);
        fuzz_assert(strlen(e) <= 64 * 4 + 3);
        for (const char *c = e; *c; c++) {
                fuzz_assert(*c >= 0x20 && *c < 0x7f);
                fuzz_assert(*c != '\'');
                if (*c == '\\')
                        fuzz_assert(c[1] == 'x' && isxdigit((unsigned char) c[2]) && isxdigit((unsigned char) c[3]));
        }
        if (n > 64)
                fuzz_assert(strlen(e) >= 3 && streq(e + strlen(e) - 3, "..."));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = fuzz_strndup(data, size);
        char u[SIOV_UUID_STRING_MAX], u2[SIOV_UUID_STRING_MAX];
        int r;

        /* UUIDs: any case in, canonical lower case out, idempotent */
        memset(u, 'X', sizeof(u));
        r = siov_uuid_normalize(s, u);
        fuzz_assert((r == 0) == reference_uuid(s));
        fuzz_assert(siov_uuid_is_valid(s) == (r == 0));
        if (r == 0) {
                fuzz_assert(strlen(u) == 36);
                for (size_t i = 0; i < 36; i++)
                        fuzz_assert(u[i] == tolower((unsigned char) s[i]));
                fuzz_assert(siov_uuid_normalize(u, u2) == 0 && streq(u, u2));
        } else
                fuzz_assert(r == -EINVAL && u[0] == 'X');

        fuzz_assert(siov_name_is_valid(s) == reference_name(s));
        fuzz_assert(siov_pci_address_is_valid(s) == reference_pci(s));
        if (siov_mdev_attr_name_is_writable(s))
                fuzz_assert(reference_name(s));
        check_devpath(s);
        check_utf8(data, size, s);
        check_escape(s);
        return 0;
}
