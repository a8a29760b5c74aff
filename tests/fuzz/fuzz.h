/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared by the libFuzzer targets: each checks properties of what libsiov
 * returns, not only that it does not crash. A broken property aborts, which
 * libFuzzer reports as a crash with the input saved. */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "siov-private.h"

#define fuzz_assert(expr)                                                              \
        do {                                                                           \
                if (!(expr)) {                                                         \
                        fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #expr); \
                        abort();                                                       \
                }                                                                      \
        } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* data as a C string: a copy up to the first NUL (or all of it). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size) {
        char *s = strndup((const char *) data, size);
        if (!s)
                abort();
        return s;
}

/* Every message libsiov hands out goes on D-Bus: valid UTF-8, not empty. */
static inline void fuzz_assert_message(const char *msg) {
        fuzz_assert(msg);
        fuzz_assert(*msg);
        fuzz_assert(siov_utf8_is_valid(msg, strlen(msg)));
}
