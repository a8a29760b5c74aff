/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * A string-keyed hash map of borrowed keys and values: the value owns the
 * key (e.g. a Device owns its uuid). Used for the daemon's object tables,
 * which hold 10,000+ entries and are hit on every D-Bus property read.
 */
typedef struct Hashmap Hashmap;

Hashmap *hashmap_new(void);
Hashmap *hashmap_free(Hashmap *h);
/* -EEXIST if the key is present, -ENOMEM */
int hashmap_put(Hashmap *h, const char *key, void *value);
void *hashmap_get(const Hashmap *h, const char *key);
/* Returns the removed value or NULL */
void *hashmap_remove(Hashmap *h, const char *key);
size_t hashmap_size(const Hashmap *h);

/* Iteration: *state starts at 0; returns false at the end. Do not add or
 * remove entries while iterating (removal shifts entries back). */
bool hashmap_iterate(const Hashmap *h, size_t *state, void **value);

#define HASHMAP_FOREACH(v, h, i) \
        for (size_t i = 0; hashmap_iterate((h), &i, (void **) &(v)); )
