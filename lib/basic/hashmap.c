/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hashmap.h"

/* Open addressing with linear probing and backward-shift deletion: no
 * tombstones, so lookups stay short after many adds and removes.
 *
 * A map made with hashmap_new_keyed() keeps one pointer per bucket (the
 * value; its key sits inside it) instead of key, value and hash: 8 bytes a
 * bucket instead of 24, for the device table's 100,000+ entries. Its
 * hashes are computed again when needed (a resize, a removal). */
struct entry {
        const char *key;
        void *value;
        uint32_t hash;
};

struct Hashmap {
        free_func_t free_value;
        union {
                struct entry *entries;
                void **values;          /* keyed */
        };
        size_t n_buckets;       /* power of two */
        size_t n_entries;
        size_t key_offset;
        bool keyed;
};

static uint32_t hash_string(const char *s) {
        /* FNV-1a: keys are sysfs names and UUIDs chosen by the kernel or
         * an authorized caller, so no need for a keyed hash. */
        uint32_t h = 2166136261u;
        for (; *s; s++) {
                h ^= (unsigned char) *s;
                h *= 16777619u;
        }
        return h;
}

static size_t bucket_size(const Hashmap *h) {
        return h->keyed ? sizeof(void *) : sizeof(struct entry);
}

static const char *bucket_key(const Hashmap *h, size_t i) {
        if (!h->keyed)
                return h->entries[i].key;
        return h->values[i] ? (const char *) h->values[i] + h->key_offset : NULL;
}

static void *bucket_value(const Hashmap *h, size_t i) {
        return h->keyed ? h->values[i] : h->entries[i].value;
}

static uint32_t bucket_hash(const Hashmap *h, size_t i) {
        return h->keyed ? hash_string(bucket_key(h, i)) : h->entries[i].hash;
}

static void bucket_set(Hashmap *h, size_t i, const char *key, void *value, uint32_t hash) {
        if (h->keyed)
                h->values[i] = value;
        else
                h->entries[i] = (struct entry) { .key = key, .value = value, .hash = hash };
}

static void bucket_move(Hashmap *h, size_t to, size_t from) {
        if (h->keyed) {
                h->values[to] = h->values[from];
                h->values[from] = NULL;
        } else {
                h->entries[to] = h->entries[from];
                h->entries[from] = (struct entry) {};
        }
}

static void bucket_clear(Hashmap *h, size_t i) {
        bucket_set(h, i, NULL, NULL, 0);
}

static Hashmap *map_new(free_func_t free_value, bool keyed, size_t key_offset) {
        Hashmap *h = calloc(1, sizeof(Hashmap));
        if (!h)
                return NULL;
        h->free_value = free_value;
        h->keyed = keyed;
        h->key_offset = key_offset;
        h->n_buckets = 16;
        h->entries = calloc(h->n_buckets, bucket_size(h));
        if (!h->entries) {
                free(h);
                return NULL;
        }
        return h;
}

Hashmap *hashmap_new(free_func_t free_value) {
        return map_new(free_value, false, 0);
}

Hashmap *hashmap_new_keyed(free_func_t free_value, size_t key_offset) {
        return map_new(free_value, true, key_offset);
}

void hashmap_clear(Hashmap *h) {
        if (!h)
                return;
        for (size_t i = 0; i < h->n_buckets; i++) {
                void *v = bucket_value(h, i);

                if (!bucket_key(h, i))
                        continue;
                /* Out of the map before the destructor runs: if it removes
                 * its own entry, that finds nothing. */
                bucket_clear(h, i);
                h->n_entries--;
                if (h->free_value)
                        h->free_value(v);
        }
}

Hashmap *hashmap_free(Hashmap *h) {
        if (h) {
                hashmap_clear(h);
                free(h->entries);
                free(h);
        }
        return NULL;
}

int hashmap_ensure_allocated(Hashmap **h, free_func_t free_value) {
        if (*h)
                return 0;
        *h = hashmap_new(free_value);
        return *h ? 0 : -ENOMEM;
}

static size_t find_slot(const Hashmap *h, const char *key, uint32_t hash, bool *found) {
        size_t mask = h->n_buckets - 1;
        for (size_t i = hash & mask;; i = (i + 1) & mask) {
                const char *k = bucket_key(h, i);
                if (!k) {
                        *found = false;
                        return i;
                }
                if ((h->keyed || h->entries[i].hash == hash) && strcmp(k, key) == 0) {
                        *found = true;
                        return i;
                }
        }
}

static int resize(Hashmap *h, size_t n_buckets) {
        Hashmap old = *h;

        h->entries = calloc(n_buckets, bucket_size(h));
        if (!h->entries) {
                h->entries = old.entries;
                return -ENOMEM;
        }
        h->n_buckets = n_buckets;
        for (size_t i = 0; i < old.n_buckets; i++) {
                const char *key = bucket_key(&old, i);
                uint32_t hash;
                bool found;

                if (!key)
                        continue;
                hash = bucket_hash(&old, i);
                bucket_set(h, find_slot(h, key, hash, &found), key, bucket_value(&old, i), hash);
        }
        free(old.entries);
        return 0;
}

/* Whether n entries fit in b buckets: at most 3/4 full, 7/8 for a keyed
 * map (its buckets are small; longer probe runs cost a few more compares). */
static bool fits(const Hashmap *h, size_t n, size_t b) {
        return h->keyed ? n * 8 <= b * 7 : n * 4 <= b * 3;
}

int hashmap_reserve(Hashmap *h, size_t n) {
        size_t b = h->n_buckets;

        while (!fits(h, n, b))
                b *= 2;
        return b == h->n_buckets ? 0 : resize(h, b);
}

int hashmap_put(Hashmap *h, const char *key, void *value) {
        uint32_t hash = hash_string(key);
        bool found;
        size_t i;

        if (!fits(h, h->n_entries + 1, h->n_buckets)) {
                int r = resize(h, h->n_buckets * 2);
                if (r < 0)
                        return r;
        }
        /* A keyed map finds the key in the value. */
        assert(!h->keyed || key == (const char *) value + h->key_offset);
        i = find_slot(h, key, hash, &found);
        if (found)
                return -EEXIST;
        bucket_set(h, i, key, value, hash);
        h->n_entries++;
        return 0;
}

void *hashmap_get(const Hashmap *h, const char *key) {
        bool found;
        size_t i;

        if (!h || !key)
                return NULL;
        i = find_slot(h, key, hash_string(key), &found);
        return found ? bucket_value(h, i) : NULL;
}

void *hashmap_remove(Hashmap *h, const char *key) {
        size_t mask, i, j;
        bool found;
        void *value;

        if (!h || !key)
                return NULL;
        mask = h->n_buckets - 1;
        i = find_slot(h, key, hash_string(key), &found);
        if (!found)
                return NULL;
        value = bucket_value(h, i);
        bucket_clear(h, i);
        h->n_entries--;

        /* Backward shift: move later members of the probe run into the hole
         * when their home bucket does not lie cyclically in (i, j]. */
        for (j = (i + 1) & mask; bucket_key(h, j); j = (j + 1) & mask) {
                size_t home = bucket_hash(h, j) & mask;
                if ((j > i && (home <= i || home > j)) ||
                    (j < i && (home <= i && home > j))) {
                        bucket_move(h, i, j);
                        i = j;
                }
        }
        return value;
}

size_t hashmap_size(const Hashmap *h) {
        return h ? h->n_entries : 0;
}

bool hashmap_iterate(const Hashmap *h, size_t *state, void **value) {
        if (!h)
                return false;
        for (; *state < h->n_buckets; (*state)++) {
                if (bucket_key(h, *state)) {
                        *value = bucket_value(h, *state);
                        (*state)++;
                        return true;
                }
        }
        return false;
}

void hashmap_values(const Hashmap *h, void **ret) {
        size_t n = 0;
        void *v;

        HASHMAP_FOREACH(v, h, i)
                ret[n++] = v;
        ret[n] = NULL;
}

size_t hashmap_debug_slot(const Hashmap *h, const char *key) {
        bool found;
        size_t i;

        if (!h || !key)
                return SIZE_MAX;
        i = find_slot(h, key, hash_string(key), &found);
        return found ? i : SIZE_MAX;
}

size_t hashmap_debug_buckets(const Hashmap *h) {
        return h ? h->n_buckets : 0;
}
