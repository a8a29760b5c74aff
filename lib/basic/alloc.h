/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* Makes room for at least need elements of size bytes in *p, whose
 * capacity is *allocated: grows by doubling (from 16), so appending n
 * elements one at a time costs O(n). Returns *p, or NULL (nothing
 * changed) when out of memory or when need * size overflows. */
void *greedy_realloc(void **p, size_t *allocated, size_t need, size_t size);

/* GREEDY_REALLOC(array, allocated, need): true on success. */
#define GREEDY_REALLOC(array, allocated, need) \
        (greedy_realloc((void **) &(array), &(allocated), (need), sizeof((array)[0])) != NULL)
