/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* NULL-terminated string arrays (strv) and string sorting. */

#include <stdbool.h>
#include <stddef.h>

#include "siov-macro.h"

char **strv_free(char **l);
static inline void strv_freep(char ***l) {
        strv_free(*l);
}
#define _cleanup_strv_free_ _cleanup_(strv_freep)

size_t strv_length(char * const *l);
bool strv_contains_const(const char * const *l, const char *s);
#define STR_IN_SET(s, ...) strv_contains_const((const char *[]) { __VA_ARGS__, NULL }, (s))
/* NULL and the empty list are equal. */
bool strv_equal(char * const *a, char * const *b);

/* qsort() callback for an array of strings. */
int strcmp_ptr(const void *a, const void *b);
/* Sorts n strings; n may be 0 with l NULL (qsort(NULL, 0) is undefined). */
void strv_sort_n(const char **l, size_t n);
#define strv_sort(l, n) strv_sort_n((const char **) (l), (n))
/* qsort() that accepts base NULL when n is 0. */
void qsort_safe(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));

/* Appends the formatted text to *buf (length *len, kept up to date);
 * -ENOMEM leaves *buf as it was. */
int strextendf(char **buf, size_t *len, const char *fmt, ...) _printf_(3, 4);

/* Packs n strings into one NULL-terminated block (sorted, de-duplicated:
 * free() it whole); *ret = NULL when n is 0. */
int strv_pack(char **items, size_t n, char ***ret);
