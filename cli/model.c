/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Sorting and linking the objects read from siovd. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "siovctl.h"

int name_compare(const char *a, const char *b) {
        int r;

        /* Equal lengths compare bytewise: PCI addresses are fixed-width hex,
         * where strverscmp() would order "9b" before "10". Different lengths
         * compare as versions, so siov2 comes before siov10. Equal names
         * (the common case when sorting devices) return early. */
        r = strcmp(a, b);
        if (r == 0 || strlen(a) == strlen(b))
                return r;
        return strverscmp(a, b);
}

static int parent_compare(const void *x, const void *y) {
        const Parent *a = x, *b = y;

        return name_compare(a->name, b->name);
}

static int type_compare(const void *x, const void *y) {
        const Type *a = x, *b = y;
        int r;

        r = name_compare(a->parent, b->parent);
        if (r != 0)
                return r;
        return strcmp(a->id, b->id);
}

static int device_compare(const void *x, const void *y) {
        const Device *a = x, *b = y;
        int r;

        r = name_compare(a->parent, b->parent);
        if (r != 0)
                return r;
        r = strcmp(a->type, b->type);
        if (r != 0)
                return r;
        /* A VF's UUID is a hash: its PCI address gives the natural order. */
        if (streq(a->kind, "vf") && streq(b->kind, "vf")) {
                r = name_compare(a->address, b->address);
                if (r != 0)
                        return r;
        }
        return strcmp(a->uuid, b->uuid);
}

Parent *model_find_parent(const Model *m, const char *name) {
        for (size_t i = 0; i < m->n_parents; i++)
                if (streq(m->parents[i].name, name))
                        return &m->parents[i];
        return NULL;
}

int model_link(Model *m) {
        qsort_safe(m->parents, m->n_parents, sizeof(Parent), parent_compare);
        qsort_safe(m->types, m->n_types, sizeof(Type), type_compare);
        qsort_safe(m->devices, m->n_devices, sizeof(Device), device_compare);

        for (size_t i = 0; i < m->n_parents; i++) {
                key_values_sort(m->parents[i].resources, m->parents[i].n_resources, resource_key_order);
                key_values_sort(m->parents[i].host_usage, m->parents[i].n_host_usage, host_usage_key_order);
        }

        /* Two passes (count, then fill) by exact name: types are few, and
         * this does not depend on the sort order being transitive. Types stay
         * sorted by id within each parent. */
        for (size_t k = 0; k < m->n_types; k++) {
                Parent *p = model_find_parent(m, m->types[k].parent);
                if (p)
                        p->n_types++;
        }
        for (size_t i = 0; i < m->n_parents; i++) {
                Parent *p = &m->parents[i];

                if (p->n_types == 0)
                        continue;
                p->types = calloc(p->n_types, sizeof(Type *));
                if (!p->types)
                        return -ENOMEM;
                p->n_types = 0;
        }
        for (size_t k = 0; k < m->n_types; k++) {
                Parent *p = model_find_parent(m, m->types[k].parent);
                if (p)
                        p->types[p->n_types++] = &m->types[k];
        }
        return 0;
}
