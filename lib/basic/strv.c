/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strv.h"

char **strv_free(char **l) {
        if (l) {
                for (char **i = l; *i; i++)
                        free(*i);
                free(l);
        }
        return NULL;
}

size_t strv_length(char * const *l) {
        size_t n = 0;

        for (; l && *l; l++)
                n++;
        return n;
}

bool strv_contains_const(const char * const *l, const char *s) {
        if (!s)
                return false;
        for (; l && *l; l++)
                if (streq(*l, s))
                        return true;
        return false;
}

bool strv_equal(char * const *a, char * const *b) {
        for (; a && *a && b && *b; a++, b++)
                if (!streq(*a, *b))
                        return false;
        return (!a || !*a) && (!b || !*b);
}

int strcmp_ptr(const void *a, const void *b) {
        return strcmp(*(char * const *) a, *(char * const *) b);
}

void qsort_safe(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *)) {
        if (n <= 1)
                return;
        qsort(base, n, size, cmp);
}

void strv_sort_n(const char **l, size_t n) {
        qsort_safe(l, n, sizeof(char *), strcmp_ptr);
}

int strv_pack(char **items, size_t n, char ***ret) {
        size_t k = 0, total = 0;
        char **l, *s;

        *ret = NULL;
        if (n == 0)
                return 0;
        strv_sort(items, n);
        for (size_t i = 0; i < n; i++) {
                if (i > 0 && streq(items[i], items[i - 1]))
                        continue;
                k++;
                total += strlen(items[i]) + 1;
        }
        l = malloc((k + 1) * sizeof(char *) + total);
        if (!l)
                return -ENOMEM;
        s = (char *) (l + k + 1);
        k = 0;
        for (size_t i = 0; i < n; i++) {
                size_t len;

                if (i > 0 && streq(items[i], items[i - 1]))
                        continue;
                len = strlen(items[i]) + 1;
                memcpy(s, items[i], len);
                l[k++] = s;
                s += len;
        }
        l[k] = NULL;
        *ret = l;
        return 0;
}

int strextendf(char **buf, size_t *len, const char *fmt, ...) {
        _cleanup_free_ char *s = NULL;
        va_list ap;
        char *b;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (n < 0) {
                s = NULL;
                return -ENOMEM;
        }
        b = realloc(*buf, *len + (size_t) n + 1);
        if (!b)
                return -ENOMEM;
        memcpy(b + *len, s, (size_t) n + 1);
        *len += (size_t) n;
        *buf = b;
        return 0;
}
