/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Validation of every name that reaches a path. */

#include <string.h>

#include "siov-private.h"

int siov_hexval(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

_public_ int siov_uuid_normalize(const char *s, char ret[static SIOV_UUID_STRING_MAX]) {
        char out[SIOV_UUID_STRING_MAX];

        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < 36; i++) {
                if (i == 8 || i == 13 || i == 18 || i == 23) {
                        if (s[i] != '-')
                                return -EINVAL;
                        out[i] = '-';
                        continue;
                }
                int v = siov_hexval(s[i]);   /* also stops at a NUL */
                if (v < 0)
                        return -EINVAL;
                out[i] = "0123456789abcdef"[v];
        }
        if (s[36] != '\0')
                return -EINVAL;
        out[36] = '\0';
        memcpy(ret, out, sizeof(out));
        return 0;
}

_public_ bool siov_uuid_is_valid(const char *s) {
        char buf[SIOV_UUID_STRING_MAX];

        return siov_uuid_normalize(s, buf) >= 0;
}

_public_ bool siov_name_is_valid(const char *s) {
        size_t n;

        if (!s)
                return false;
        for (n = 0; s[n]; n++) {
                unsigned char c = (unsigned char) s[n];

                if (n >= 255)
                        return false;
                /* printable ASCII, space included, never '/' */
                if (c < 0x20 || c > 0x7e || c == '/')
                        return false;
        }
        if (n == 0)
                return false;
        if (streq(s, ".") || streq(s, ".."))
                return false;
        return true;
}

static bool hex_run(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (siov_hexval(s[i]) < 0)
                        return false;
        return true;
}

/* "dddd:bb:dd.f" as the kernel prints it ("%04x:%02x:%02x.%d"). The domain
 * has at least four digits and may have more (VMD domains are 0x10000+). */
_public_ bool siov_pci_address_is_valid(const char *s) {
        size_t dl;

        if (!s)
                return false;
        dl = strspn(s, "0123456789abcdefABCDEF");
        if (dl < 4 || dl > 8 || s[dl] != ':')
                return false;
        s += dl + 1;
        if (!hex_run(s, 2) || s[2] != ':')
                return false;
        s += 3;
        if (!hex_run(s, 2) || s[2] != '.')
                return false;
        if (siov_hexval(s[0]) * 16 + siov_hexval(s[1]) > 0x1f)
                return false;
        s += 3;
        return s[0] >= '0' && s[0] <= '7' && s[1] == '\0';
}

/* A uevent DEVPATH: "/devices/...", no "." / ".." components, no "//",
 * no trailing "/", each component a valid name. */
bool siov_devpath_is_valid(const char *s) {
        if (!s || strncmp(s, "/devices/", 9) != 0)
                return false;
        if (strlen(s) >= PATH_MAX - 16)
                return false;
        for (const char *c = s + 1; ; ) {
                char comp[256];
                size_t n = strcspn(c, "/");

                if (n == 0 || n > 255)
                        return false;
                memcpy(comp, c, n);
                comp[n] = '\0';
                if (!siov_name_is_valid(comp))
                        return false;
                c += n;
                if (*c == '\0')
                        return true;
                c++;
        }
}
