/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hashmap.h"

/* Open addressing with linear probing and backward-shift deletion: no
 * tombstones, so lookups stay short after many adds and removes. */
struct entry {
        const char *key;
        void *value;
        uint32_t hash;
};

struct Hashmap {
        free_func_t free_value;
        struct entry *entries;
        size_t n_buckets;       /* power of two */
        size_t n_entries;
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

Hashmap *hashmap_new(free_func_t free_value) {
        Hashmap *h = calloc(1, sizeof(Hashmap));
        if (!h)
                return NULL;
        h->free_value = free_value;
        h->n_buckets = 16;
        h->entries = calloc(h->n_buckets, sizeof(struct entry));
        if (!h->entries) {
                free(h);
                return NULL;
        }
        return h;
}

void hashmap_clear(Hashmap *h) {
        if (!h)
                return;
        for (size_t i = 0; i < h->n_buckets; i++) {
                void *v = h->entries[i].value;

                if (!h->entries[i].key)
                        continue;
                /* Out of the map before the destructor runs: if it removes
                 * its own entry, that finds nothing. */
                h->entries[i] = (struct entry) {};
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
                const struct entry *e = &h->entries[i];
                if (!e->key) {
                        *found = false;
                        return i;
                }
                if (e->hash == hash && strcmp(e->key, key) == 0) {
                        *found = true;
                        return i;
                }
        }
}

static int resize(Hashmap *h, size_t n_buckets) {
        struct entry *old = h->entries;
        size_t old_n = h->n_buckets;

        h->entries = calloc(n_buckets, sizeof(struct entry));
        if (!h->entries) {
                h->entries = old;
                return -ENOMEM;
        }
        h->n_buckets = n_buckets;
        for (size_t i = 0; i < old_n; i++) {
                bool found;
                if (!old[i].key)
                        continue;
                h->entries[find_slot(h, old[i].key, old[i].hash, &found)] = old[i];
        }
        free(old);
        return 0;
}

int hashmap_reserve(Hashmap *h, size_t n) {
        size_t b = h->n_buckets;

        while (n * 4 > b * 3)
                b *= 2;
        return b == h->n_buckets ? 0 : resize(h, b);
}

int hashmap_put(Hashmap *h, const char *key, void *value) {
        uint32_t hash = hash_string(key);
        bool found;
        size_t i;

        if ((h->n_entries + 1) * 4 > h->n_buckets * 3) {
                int r = resize(h, h->n_buckets * 2);
                if (r < 0)
                        return r;
        }
        i = find_slot(h, key, hash, &found);
        if (found)
                return -EEXIST;
        h->entries[i] = (struct entry) { .key = key, .value = value, .hash = hash };
        h->n_entries++;
        return 0;
}

void *hashmap_get(const Hashmap *h, const char *key) {
        bool found;
        size_t i;

        if (!h || !key)
                return NULL;
        i = find_slot(h, key, hash_string(key), &found);
        return found ? h->entries[i].value : NULL;
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
        value = h->entries[i].value;
        h->entries[i] = (struct entry) {};
        h->n_entries--;

        /* Backward shift: move later members of the probe run into the hole
         * when their home bucket does not lie cyclically in (i, j]. */
        for (j = (i + 1) & mask; h->entries[j].key; j = (j + 1) & mask) {
                size_t home = h->entries[j].hash & mask;
                if ((j > i && (home <= i || home > j)) ||
                    (j < i && (home <= i && home > j))) {
                        h->entries[i] = h->entries[j];
                        h->entries[j] = (struct entry) {};
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
                if (h->entries[*state].key) {
                        *value = h->entries[*state].value;
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
