/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* siovd's manager on a fake sysfs tree, without a bus, for the daemon unit
 * tests: fixture_new() makes the tree, the test adds to it, fixture_start()
 * scans it; fixture_free() removes everything. */

#include <stdlib.h>
#include <string.h>

#include "fake-sysfs.h"
#include "manager.h"

typedef struct Fixture {
        struct fake_sysfs *f;
        char *defs;
        Manager *m;
} Fixture;

static inline Fixture *fixture_new(void) {
        Fixture *x = calloc(1, sizeof(Fixture));
        char defs[] = "/tmp/test-daemon.XXXXXX";

        assert_non_null(x);
        assert_int_equal(fake_sysfs_new(&x->f, NULL), 0);
        assert_non_null(mkdtemp(defs));
        x->defs = strdup(defs);
        assert_non_null(x->defs);
        return x;
}

static inline void fixture_start(Fixture *x) {
        assert_int_equal(manager_new(&x->m, fake_sysfs_root(x->f), x->defs, UEVENT_SOURCE_KERNEL), 0);
        assert_int_equal(manager_rescan(x->m), 0);
}

static inline int fixture_free(void **state) {
        Fixture *x = *state;

        manager_free(x->m);
        fake_sysfs_free(x->f);
        fake_rm_rf(x->defs);
        free(x->defs);
        free(x);
        return 0;
}
