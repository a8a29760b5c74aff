/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <string.h>

#include "utf8.h"
#include "valid.h"

bool vm_name_is_valid(const char *s) {
        size_t n;

        if (!s)
                return false;
        n = strlen(s);
        if (n == 0 || n > VM_NAME_MAX || !siov_utf8_is_valid(s, n))
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
