/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "siov-macro.h"

/*
 * A string-keyed hash map whose keys are borrowed: the value owns its key
 * (a Device owns its uuid). A map made with a value destructor owns its
 * values: hashmap_free() and hashmap_clear() free them, so that freeing
 * the map is the whole teardown (systemd's
 * DEFINE_HASH_OPS_WITH_VALUE_DESTRUCTOR). hashmap_remove() hands the value
 * back to the caller instead. Used for the daemon's object tables (10,000+
 * entries, hit on every D-Bus property read) and libsiov's scan tables.
 */
typedef struct Hashmap Hashmap;
typedef void (*free_func_t)(void *p);

/* free_value: NULL for a map of borrowed values. */
Hashmap *hashmap_new(free_func_t free_value);
/* A map whose keys are strings inside its values, key_offset bytes in
 * (offsetof(Device, uuid)): it keeps one pointer per bucket. hashmap_put()'s
 * key must be value + key_offset. */
Hashmap *hashmap_new_keyed(free_func_t free_value, size_t key_offset);
/* Frees the values (with a destructor), then the map. A destructor may
 * remove its own entry: the entry is gone already and that is a no-op. */
Hashmap *hashmap_free(Hashmap *h);
void hashmap_clear(Hashmap *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(Hashmap *, hashmap_free);
/* Makes *h on first use. */
int hashmap_ensure_allocated(Hashmap **h, free_func_t free_value);
/* Room for n entries at once (one resize instead of one per doubling). */
int hashmap_reserve(Hashmap *h, size_t n);
/* -EEXIST if the key is present, -ENOMEM */
int hashmap_put(Hashmap *h, const char *key, void *value);
void *hashmap_get(const Hashmap *h, const char *key);
/* Returns the removed value (never freed here) or NULL */
void *hashmap_remove(Hashmap *h, const char *key);
size_t hashmap_size(const Hashmap *h);

/* Iteration: *state starts at 0; returns false at the end. Do not add or
 * remove entries while iterating (removal shifts entries back). */
bool hashmap_iterate(const Hashmap *h, size_t *state, void **value);

#define HASHMAP_FOREACH(v, h, i) \
        for (size_t i = 0; hashmap_iterate((h), &i, (void **) &(v)); )

/* Fills a caller-made array of hashmap_size() + 1 pointers with the values
 * and a NULL, for loops that change the map. */
void hashmap_values(const Hashmap *h, void **ret);

/* Tests: the bucket key sits in (SIZE_MAX when absent), and the bucket
 * count, to check that collisions and wrap-around really happened. */
size_t hashmap_debug_slot(const Hashmap *h, const char *key);
size_t hashmap_debug_buckets(const Hashmap *h);
