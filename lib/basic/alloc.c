/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdint.h>
#include <stdlib.h>

#include "alloc.h"

void *greedy_realloc(void **p, size_t *allocated, size_t need, size_t size) {
        size_t a;
        void *q;

        if (*p && need <= *allocated)
                return *p;
        a = *allocated ? *allocated : 16;
        while (a < need) {
                if (a > SIZE_MAX / 2)
                        return NULL;
                a *= 2;
        }
        if (size == 0 || a > SIZE_MAX / size)
                return NULL;
        q = realloc(*p, a * size);
        if (!q)
                return NULL;
        *p = q;
        *allocated = a;
        return q;
}
