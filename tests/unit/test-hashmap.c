/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/basic/hashmap.c: put/get/remove, growth, value destructors, and the
 * backward-shift deletion that keeps probe runs intact without tombstones. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hashmap.h"

/* The home bucket of a key: FNV-1a as in hashmap.c, masked. Used only to
 * pick keys that collide; each test then checks through
 * hashmap_debug_slot() that they really were displaced. */
static size_t home_of(const char *s, size_t n_buckets) {
        uint32_t h = 2166136261u;

        for (; *s; s++) {
                h ^= (unsigned char) *s;
                h *= 16777619u;
        }
        return h & (n_buckets - 1);
}

/* n distinct keys "k<i>" whose home bucket is home (16 buckets). */
static void keys_with_home(size_t home, char keys[][16], size_t n) {
        size_t found = 0;

        for (unsigned i = 0; found < n; i++) {
                snprintf(keys[found], 16, "k%u", i);
                if (home_of(keys[found], 16) == home)
                        found++;
        }
}

static void test_put_get_remove(void **state) {
        _cleanup_(hashmap_freep) Hashmap *h = hashmap_new(NULL);
        int a = 1, b = 2;

        assert_non_null(h);
        assert_int_equal(hashmap_put(h, "a", &a), 0);
        assert_int_equal(hashmap_put(h, "b", &b), 0);
        assert_int_equal(hashmap_put(h, "a", &b), -EEXIST);
        assert_ptr_equal(hashmap_get(h, "a"), &a);
        assert_ptr_equal(hashmap_get(h, "b"), &b);
        assert_null(hashmap_get(h, "c"));
        assert_null(hashmap_get(h, NULL));
        assert_int_equal(hashmap_size(h), 2);
        assert_ptr_equal(hashmap_remove(h, "a"), &a);
        assert_null(hashmap_remove(h, "a"));
        assert_null(hashmap_get(h, "a"));
        assert_int_equal(hashmap_size(h), 1);
        /* NULL maps are empty. */
        assert_null(hashmap_get(NULL, "a"));
        assert_int_equal(hashmap_size(NULL), 0);
}

static void test_grow_and_iterate(void **state) {
        _cleanup_(hashmap_freep) Hashmap *h = hashmap_new(free);
        size_t n = 0, sum = 0;
        char *v;

        for (unsigned i = 0; i < 10000; i++) {
                char *k;

                assert_true(asprintf(&k, "%u", i) > 0);
                assert_int_equal(hashmap_put(h, k, k), 0);
        }
        assert_int_equal(hashmap_size(h), 10000);
        assert_true(hashmap_debug_buckets(h) >= 10000 * 4 / 3);
        HASHMAP_FOREACH(v, h, i) {
                n++;
                sum += strtoul(v, NULL, 10);
        }
        assert_int_equal(n, 10000);
        assert_int_equal(sum, 9999u * 10000u / 2);
        for (unsigned i = 0; i < 10000; i++) {
                char k[16];

                snprintf(k, sizeof(k), "%u", i);
                assert_string_equal(hashmap_get(h, k), k);
        }
}

/* Reserved room: the entries already in stay findable, and filling it up
 * resizes no more. */
static void test_reserve(void **state) {
        _cleanup_(hashmap_freep) Hashmap *h = hashmap_new(free);
        size_t buckets;

        for (unsigned i = 0; i < 100; i++) {
                char *k;

                assert_true(asprintf(&k, "%u", i) > 0);
                assert_int_equal(hashmap_put(h, k, k), 0);
        }
        assert_int_equal(hashmap_reserve(h, 5000), 0);
        buckets = hashmap_debug_buckets(h);
        assert_true(buckets >= 5000 * 4 / 3);
        assert_int_equal(hashmap_reserve(h, 10), 0);
        assert_int_equal(hashmap_debug_buckets(h), buckets);
        for (unsigned i = 100; i < 5000; i++) {
                char *k;

                assert_true(asprintf(&k, "%u", i) > 0);
                assert_int_equal(hashmap_put(h, k, k), 0);
        }
        assert_int_equal(hashmap_debug_buckets(h), buckets);
        for (unsigned i = 0; i < 5000; i++) {
                char k[16];

                snprintf(k, sizeof(k), "%u", i);
                assert_string_equal(hashmap_get(h, k), k);
        }
}

/* A run of three keys with the same home: removing the first must move the
 * other two back, so both stay findable and sit one bucket closer. */
static void test_backward_shift(void **state) {
        _cleanup_(hashmap_freep) Hashmap *h = hashmap_new(NULL);
        char keys[3][16];

        keys_with_home(5, keys, 3);
        for (size_t i = 0; i < 3; i++)
                assert_int_equal(hashmap_put(h, keys[i], keys[i]), 0);
        assert_int_equal(hashmap_debug_buckets(h), 16);
        assert_int_equal(hashmap_debug_slot(h, keys[0]), 5);
        assert_int_equal(hashmap_debug_slot(h, keys[1]), 6);
        assert_int_equal(hashmap_debug_slot(h, keys[2]), 7);

        assert_ptr_equal(hashmap_remove(h, keys[0]), keys[0]);
        assert_int_equal(hashmap_debug_slot(h, keys[1]), 5);
        assert_int_equal(hashmap_debug_slot(h, keys[2]), 6);
        assert_ptr_equal(hashmap_get(h, keys[1]), keys[1]);
        assert_ptr_equal(hashmap_get(h, keys[2]), keys[2]);
        /* Nothing left behind in the old last bucket. */
        assert_int_equal(hashmap_debug_slot(h, keys[0]), SIZE_MAX);
}

/* An entry whose home lies after the hole must not move: removing from a
 * run that an entry of another home (sitting at its own home) follows. */
static void test_backward_shift_keeps_home(void **state) {
        _cleanup_(hashmap_freep) Hashmap *h = hashmap_new(NULL);
        char a[2][16], b[1][16];

        keys_with_home(3, a, 2);        /* buckets 3, 4 */
        keys_with_home(5, b, 1);        /* bucket 5, its home */
        assert_int_equal(hashmap_put(h, a[0], a[0]), 0);
        assert_int_equal(hashmap_put(h, a[1], a[1]), 0);
        assert_int_equal(hashmap_put(h, b[0], b[0]), 0);
        assert_int_equal(hashmap_debug_slot(h, b[0]), 5);

        assert_ptr_equal(hashmap_remove(h, a[0]), a[0]);
        assert_int_equal(hashmap_debug_slot(h, a[1]), 3);
        assert_int_equal(hashmap_debug_slot(h, b[0]), 5);
        assert_ptr_equal(hashmap_get(h, b[0]), b[0]);
}

/* A run that wraps from the last bucket to the first. */
static void test_backward_shift_wraps(void **state) {
        _cleanup_(hashmap_freep) Hashmap *h = hashmap_new(NULL);
        char keys[3][16];

        keys_with_home(15, keys, 3);
        for (size_t i = 0; i < 3; i++)
                assert_int_equal(hashmap_put(h, keys[i], keys[i]), 0);
        assert_int_equal(hashmap_debug_slot(h, keys[1]), 0);
        assert_int_equal(hashmap_debug_slot(h, keys[2]), 1);

        assert_ptr_equal(hashmap_remove(h, keys[1]), keys[1]);
        assert_int_equal(hashmap_debug_slot(h, keys[0]), 15);
        assert_int_equal(hashmap_debug_slot(h, keys[2]), 0);
        assert_ptr_equal(hashmap_remove(h, keys[0]), keys[0]);
        assert_int_equal(hashmap_debug_slot(h, keys[2]), 15);
        assert_ptr_equal(hashmap_get(h, keys[2]), keys[2]);
}

/* Many adds and removes against a plain array: every key that is in must
 * be found, every key that is out must not. */
static void test_random_against_reference(void **state) {
        _cleanup_(hashmap_freep) Hashmap *h = hashmap_new(NULL);
        enum { N = 600 };
        static char keys[N][16];
        bool in[N] = {};
        unsigned seed = 12345;

        for (size_t i = 0; i < N; i++)
                snprintf(keys[i], sizeof(keys[i]), "key-%zu", i);
        for (int step = 0; step < 20000; step++) {
                size_t i;

                seed = seed * 1103515245u + 12345u;
                i = (seed >> 8) % N;
                if (in[i]) {
                        assert_ptr_equal(hashmap_remove(h, keys[i]), keys[i]);
                        in[i] = false;
                } else {
                        assert_int_equal(hashmap_put(h, keys[i], keys[i]), 0);
                        in[i] = true;
                }
                if (step % 97 == 0)
                        for (size_t k = 0; k < N; k++)
                                assert_ptr_equal(hashmap_get(h, keys[k]), in[k] ? keys[k] : NULL);
        }
}

/* A keyed map (the device table): the key lives in the value, at an offset
 * that is not 0. The same random walk, then a removal in a run that wraps,
 * then growth from 16 buckets to 10,000 entries (rehashing from the values). */
typedef struct Keyed {
        unsigned n;
        char key[20];
} Keyed;

static void test_keyed(void **state) {
        _cleanup_(hashmap_freep) Hashmap *h = hashmap_new_keyed(NULL, offsetof(Keyed, key));
        enum { N = 600 };
        static Keyed objs[N], wrap[3], many[10000];
        char keys[3][16];
        bool in[N] = {};
        unsigned seed = 4242;
        Keyed *v;
        size_t n = 0;

        for (size_t i = 0; i < N; i++)
                snprintf(objs[i].key, sizeof(objs[i].key), "key-%zu", i);
        for (int step = 0; step < 20000; step++) {
                size_t i;

                seed = seed * 1103515245u + 12345u;
                i = (seed >> 8) % N;
                if (in[i]) {
                        assert_ptr_equal(hashmap_remove(h, objs[i].key), &objs[i]);
                        in[i] = false;
                } else {
                        assert_int_equal(hashmap_put(h, objs[i].key, &objs[i]), 0);
                        in[i] = true;
                }
                if (step % 97 == 0)
                        for (size_t k = 0; k < N; k++) {
                                char copy[20];

                                /* Found by an equal string, not by the pointer. */
                                strcpy(copy, objs[k].key);
                                assert_ptr_equal(hashmap_get(h, copy), in[k] ? &objs[k] : NULL);
                        }
        }
        hashmap_clear(h);
        assert_int_equal(hashmap_size(h), 0);

        /* From a fresh 16-bucket map: a run wrapping from bucket 15 to 1. */
        hashmap_free(h);
        h = hashmap_new_keyed(NULL, offsetof(Keyed, key));
        keys_with_home(15, keys, 3);
        for (size_t i = 0; i < 3; i++) {
                strcpy(wrap[i].key, keys[i]);
                assert_int_equal(hashmap_put(h, wrap[i].key, &wrap[i]), 0);
        }
        assert_int_equal(hashmap_put(h, wrap[1].key, &wrap[1]), -EEXIST);
        assert_int_equal(hashmap_debug_slot(h, keys[2]), 1);
        assert_ptr_equal(hashmap_remove(h, keys[1]), &wrap[1]);
        assert_int_equal(hashmap_debug_slot(h, keys[2]), 0);
        assert_ptr_equal(hashmap_remove(h, keys[0]), &wrap[0]);
        assert_int_equal(hashmap_debug_slot(h, keys[2]), 15);

        assert_int_equal(hashmap_reserve(h, 5000), 0);
        for (unsigned i = 0; i < 10000; i++) {
                many[i].n = i;
                snprintf(many[i].key, sizeof(many[i].key), "%u", i);
                assert_int_equal(hashmap_put(h, many[i].key, &many[i]), 0);
                /* 7,000 entries fit 8,192 buckets 7/8 full (a plain map
                 * would have 16,384). */
                if (i == 6998)
                        assert_int_equal(hashmap_debug_buckets(h), 8192);
        }
        assert_int_equal(hashmap_size(h), 10001);
        assert_ptr_equal(hashmap_get(h, keys[2]), &wrap[2]);
        HASHMAP_FOREACH(v, h, i)
                n += v != &wrap[2];
        assert_int_equal(n, 10000);
        for (unsigned i = 0; i < 10000; i++) {
                char k[20];

                snprintf(k, sizeof(k), "%u", i);
                v = hashmap_get(h, k);
                assert_non_null(v);
                assert_int_equal(v->n, i);
        }
}

static unsigned n_freed;
static Hashmap *self_removing_map;

typedef struct Obj {
        char key[16];
} Obj;

/* Like query_free() in daemon/polkit.c: the destructor removes its own entry. */
static void obj_free(void *p) {
        Obj *o = p;

        assert_null(hashmap_remove(self_removing_map, o->key));
        n_freed++;
        free(o);
}

static void test_value_destructor(void **state) {
        Hashmap *h = hashmap_new(obj_free);

        self_removing_map = h;
        n_freed = 0;
        for (unsigned i = 0; i < 100; i++) {
                Obj *o = calloc(1, sizeof(Obj));

                assert_non_null(o);
                snprintf(o->key, sizeof(o->key), "o%u", i);
                assert_int_equal(hashmap_put(h, o->key, o), 0);
        }
        /* remove() hands the value back: not freed. */
        Obj *o = hashmap_remove(h, "o7");
        assert_non_null(o);
        assert_int_equal(n_freed, 0);
        free(o);

        hashmap_clear(h);
        assert_int_equal(n_freed, 99);
        assert_int_equal(hashmap_size(h), 0);
        assert_null(hashmap_get(h, "o1"));
        /* Usable again after clearing. */
        o = calloc(1, sizeof(Obj));
        strcpy(o->key, "again");
        assert_int_equal(hashmap_put(h, o->key, o), 0);
        assert_null(hashmap_free(h));
        assert_int_equal(n_freed, 100);
}

static void test_ensure_allocated_and_values(void **state) {
        _cleanup_(hashmap_freep) Hashmap *h = NULL;
        void *values[4];
        int a, b, c;

        assert_int_equal(hashmap_ensure_allocated(&h, NULL), 0);
        assert_non_null(h);
        Hashmap *same = h;
        assert_int_equal(hashmap_ensure_allocated(&h, NULL), 0);
        assert_ptr_equal(h, same);
        assert_int_equal(hashmap_put(h, "a", &a), 0);
        assert_int_equal(hashmap_put(h, "b", &b), 0);
        assert_int_equal(hashmap_put(h, "c", &c), 0);
        hashmap_values(h, values);
        assert_null(values[3]);
        for (size_t i = 0; i < 3; i++)
                assert_true(values[i] == &a || values[i] == &b || values[i] == &c);
        assert_true(values[0] != values[1] && values[1] != values[2] && values[0] != values[2]);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_put_get_remove),
                cmocka_unit_test(test_grow_and_iterate),
                cmocka_unit_test(test_reserve),
                cmocka_unit_test(test_backward_shift),
                cmocka_unit_test(test_backward_shift_keeps_home),
                cmocka_unit_test(test_backward_shift_wraps),
                cmocka_unit_test(test_random_against_reference),
                cmocka_unit_test(test_keyed),
                cmocka_unit_test(test_value_destructor),
                cmocka_unit_test(test_ensure_allocated_and_values),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
