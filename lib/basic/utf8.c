/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* UTF-8 checks: everything siovd puts on D-Bus must be valid UTF-8. */

#include <stdint.h>
#include <string.h>

#include "utf8.h"

/* Length of the valid UTF-8 sequence at p (at most left bytes), 0 if it
 * is not one: truncated, overlong, surrogate or past U+10FFFF. */
static size_t utf8_sequence_length(const unsigned char *p, size_t left) {
        unsigned c = p[0];
        uint32_t cp;
        size_t n;

        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf) {
                n = 1;
                cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
                n = 2;
                cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
                n = 3;
                cp = c & 0x07;
        } else
                return 0;
        if (n >= left)
                return 0;
        for (size_t i = 1; i <= n; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (p[i] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) ||
            (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return n + 1;
}

void siov_utf8_sanitize(char *s) {
        size_t len = strlen(s);

        for (size_t i = 0; i < len; ) {
                size_t n = utf8_sequence_length((const unsigned char *) s + i, len - i);

                if (n == 0)
                        s[i++] = '?';
                else
                        i += n;
        }
}

size_t siov_utf8_valid_prefix(const char *s, size_t len) {
        const unsigned char *p = (const unsigned char *) s;
        size_t i = 0;

        while (i < len) {
                size_t n = utf8_sequence_length(p + i, len - i);

                if (n == 0)
                        break;
                i += n;
        }
        return i;
}

bool siov_utf8_is_valid(const char *s, size_t len) {
        return siov_utf8_valid_prefix(s, len) == len;
}
