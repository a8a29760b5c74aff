/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* siovd's type resolution and its errors, without a bus (libsiovd-core on
 * a fake sysfs tree): full and short type names, the parent chosen, and the
 * named errors with the messages that say what to do next. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon-fixture.h"
#include "fake-sysfs.h"
#include "lifecycle.h"
#include "manager.h"
#include "siov-errors.h"

static int setup(void **state) {
        Fixture *x = fixture_new();

        /* siov1 has more free work queues than siov0; 0000:00:04.0 offers
         * a second "…-1dwq" type, so the short form is ambiguous there. */
        assert_int_equal(fake_add_siov_parent(x->f, "siov0", &(struct fake_pool) { .total = 4, .free = 2, .mdev_dwq = 1,
                                                                                    .host_netdev = 1, .swq_slots = 4 }, NULL), 0);
        assert_int_equal(fake_add_siov_parent(x->f, "siov1", &(struct fake_pool) { .total = 8, .free = 6, .host_wq = 2,
                                                                                    .swq_slots = 4 }, NULL), 0);
        assert_int_equal(fake_add_mdev_parent(x->f, "0000:00:04.0", NULL, "mtty"), 0);
        assert_int_equal(fake_add_type(x->f, "0000:00:04.0", "mtty-1dwq", 9, "vfio-pci", NULL, NULL), 0);
        assert_int_equal(fake_add_type(x->f, "0000:00:04.0", "mtty-2", 0, "vfio-pci", NULL, NULL), 0);
        fixture_start(x);
        *state = x;
        return 0;
}

/* Resolves and returns the error name ("" when it resolved). */
static const char *resolve(Manager *m, const char *parent, const char *type, Parent **ret_p, const char **ret_t,
                           char **ret_msg) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        static char name[128];
        int r;

        *ret_p = NULL;
        *ret_t = NULL;
        r = lifecycle_resolve(m, parent, type, ret_p, ret_t, &e);
        free(*ret_msg);
        *ret_msg = e.message ? strdup(e.message) : NULL;
        if (r >= 0)
                return "";
        snprintf(name, sizeof(name), "%s", strempty(e.name));
        return name;
}

static void test_resolve(void **state) {
        Fixture *x = *state;
        _cleanup_free_ char *msg = NULL;
        const char *t;
        Parent *p;

        /* Full id without a parent: the one with the most available. */
        assert_string_equal(resolve(x->m, NULL, "idxd-1dwq", &p, &t, &msg), "");
        assert_string_equal(p->name, "siov1");
        assert_string_equal(t, "idxd-1dwq");
        /* A short form that is unique in the parent's scope. */
        assert_string_equal(resolve(x->m, "siov0", "1swq", &p, &t, &msg), "");
        assert_string_equal(p->name, "siov0");
        assert_string_equal(t, "idxd-1swq");
        /* ... and one that is not. */
        assert_string_equal(resolve(x->m, NULL, "1dwq", &p, &t, &msg), SIOV_ERROR_NO_SUCH_TYPE);
        assert_non_null(strstr(msg, "ambiguous: it may be idxd-1dwq, mtty-1dwq"));
        /* Wrong case: the right name is offered. */
        assert_string_equal(resolve(x->m, "SIOV0", "idxd-1dwq", &p, &t, &msg), SIOV_ERROR_NO_SUCH_PARENT);
        assert_string_equal(msg, "no such parent 'SIOV0'; did you mean 'siov0'?");
        assert_string_equal(resolve(x->m, "siov9", "idxd-1dwq", &p, &t, &msg), SIOV_ERROR_NO_SUCH_PARENT);
        assert_string_equal(msg, "no such parent 'siov9' (known: 0000:00:04.0, siov0, siov1)");
        assert_string_equal(resolve(x->m, "siov0", "mtty-2", &p, &t, &msg), SIOV_ERROR_NO_SUCH_TYPE);
        assert_string_equal(msg, "parent siov0 has no type 'mtty-2' (its types: idxd-1dwq, idxd-1swq)");
        assert_string_equal(resolve(x->m, NULL, "9zz", &p, &t, &msg), SIOV_ERROR_NO_SUCH_TYPE);
        assert_non_null(strstr(msg, "no parent offers type '9zz' (known types: idxd-1dwq, idxd-1swq, mtty-1dwq, mtty-2)"));
        /* Names that could reach a path are refused before any lookup. */
        assert_string_equal(resolve(x->m, "../siov0", "idxd-1dwq", &p, &t, &msg), SIOV_ERROR_INVALID_ARGUMENT);
        assert_string_equal(resolve(x->m, NULL, "a/b", &p, &t, &msg), SIOV_ERROR_INVALID_ARGUMENT);
}

static void test_no_capacity_message(void **state) {
        Fixture *x = *state;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL, e2 = SD_BUS_ERROR_NULL;
        Parent *p = hashmap_get(x->m->parents, "siov0");

        assert_non_null(p);
        assert_int_equal(siov_error_no_capacity(x->m, p, "idxd-1dwq", &e), -ENOSPC);
        assert_string_equal(e.name, SIOV_ERROR_NO_CAPACITY);
        assert_string_equal(e.message, "parent siov0 has 2 available idxd-1dwq instances: its 4 work queues are "
                                       "used by no mdevs, 1 host netdev, 0 host work queues; 2 free");
        p = hashmap_get(x->m->parents, "0000:00:04.0");
        assert_int_equal(siov_error_no_capacity(x->m, p, "mtty-2", &e2), -ENOSPC);
        assert_string_equal(e2.message, "parent 0000:00:04.0 has 0 available mtty-2 instances: in use: no mdevs");
}

static void test_names_join(void **state) {
        const char *names[20];
        char buf[20][8];
        _cleanup_free_ char *none = siov_names_join(NULL, 0), *some = NULL, *many = NULL;

        assert_string_equal(none, "none");
        for (size_t i = 0; i < 20; i++) {
                snprintf(buf[i], sizeof(buf[i]), "n%02zu", 19 - i);
                names[i] = buf[i];
        }
        names[1] = names[0];    /* a repeat */
        some = siov_names_join(names, 3);
        assert_string_equal(some, "n17, n19");
        many = siov_names_join(names, 20);
        assert_string_equal(many, "n00, n01, n02, n03, n04, n05, n06, n07, n08, n09, n10, n11, ...");
}

/* Every named error has its errno: sd_bus_error_setf() returns it, so a
 * handler's return value and a client's sd_bus_error_get_errno() say the
 * same. (sd-bus maps errnos back only to its own names, never to ours:
 * every handler sets a named error itself.) */
static void test_error_map(void **state) {
        static const struct {
                const char *name;
                int error;
        } map[] = {
                { SIOV_ERROR_NO_SUCH_PARENT, ENODEV },
                { SIOV_ERROR_NO_SUCH_TYPE, ENOENT },
                { SIOV_ERROR_NO_SUCH_DEVICE, ENXIO },
                { SIOV_ERROR_NO_CAPACITY, ENOSPC },
                { SIOV_ERROR_ALREADY_EXISTS, EEXIST },
                { SIOV_ERROR_BUSY, EBUSY },
                { SIOV_ERROR_INVALID_ARGUMENT, EINVAL },
                { SIOV_ERROR_KERNEL_ERROR, EIO },
                { SIOV_ERROR_NOT_AUTHORIZED, EACCES },
                { SIOV_ERROR_DEFINITIONS_UNAVAILABLE, EROFS },
                { SIOV_ERROR_LIMITS_EXCEEDED, EMSGSIZE },
                { SIOV_ERROR_LIBVIRT_ERROR, ENOTCONN },
        };

        for (size_t i = 0; i < ELEMENTSOF(map); i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error a = SD_BUS_ERROR_NULL;

                assert_int_equal(sd_bus_error_set(&a, map[i].name, "x"), -map[i].error);
                assert_int_equal(sd_bus_error_get_errno(&a), map[i].error);
        }
}

int main(void) {
        /* As siovd does at start: the messages' errnos come from the map. */
        if (siov_errors_register() < 0)
                return EXIT_FAILURE;
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_resolve, setup, fixture_free),
                cmocka_unit_test_setup_teardown(test_no_capacity_message, setup, fixture_free),
                cmocka_unit_test(test_names_join),
                cmocka_unit_test(test_error_map),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
