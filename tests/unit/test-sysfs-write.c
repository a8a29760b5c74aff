/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libsiov's sysfs writes (mdev create/remove/attributes, VF binding) on
 * fake trees, with the fake kernel (tests/common/fake-kernel.c) linked into
 * this binary: its write() stands in front of libc's for libsiov too, so
 * every write libsiov makes below $SIOV_FAKE_KERNEL_ROOT gets the kernel's
 * answer. Checked: the tree afterwards, the counters, the exact messages
 * (host path, value, errno text), refusals of planted symlinks and bad
 * names, injected kernel errors, and that K free instances give exactly K
 * successes to concurrent threads and processes.
 */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake-kernel.h"
#include "fake-sysfs.h"
#include "libsiov.h"

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

#define U1 "3b4a8c32-1d2e-4f5a-9b6c-7d8e9f0a1b2c"
#define U2 "7f000000-0000-4000-8000-000000000002"
#define U3 "00000000-0000-4000-8000-0000000000a3"
#define GVT "0000:00:02.0"
#define GVT_TYPE "i915-GVTg_V5_4"
#define PF "0000:3b:00.0"
#define VF "0000:3b:01.0"

struct fixture {
        struct fake_sysfs *f;
        struct siov_ctx *ctx;
        char *root;             /* canonical */
        char *outside;          /* a folder next to the root */
};

static int setup(void **state) {
        struct fixture *x = calloc(1, sizeof(*x));
        struct fake_pool pool = { .total = 4, .free = 2, .host_netdev = 1, .host_wq = 1, .swq_slots = 4 };
        char out[] = "/tmp/test-sysfs-write-outside.XXXXXX";

        assert_non_null(x);
        assert_int_equal(fake_sysfs_new(&x->f, NULL), 0);
        x->root = realpath(fake_sysfs_root(x->f), NULL);
        assert_non_null(x->root);
        assert_non_null(mkdtemp(out));
        x->outside = realpath(out, NULL);
        assert_non_null(x->outside);

        assert_int_equal(fake_add_mdev_parent(x->f, GVT, NULL, "i915"), 0);
        assert_int_equal(fake_add_type(x->f, GVT, GVT_TYPE, 1, "vfio-pci", NULL, "low_gm_size: 128MB"), 0);
        assert_int_equal(fake_add_siov_parent(x->f, "siov0", &pool, NULL), 0);

        assert_int_equal(setenv("SIOV_FAKE_KERNEL_ROOT", x->root, 1), 0);
        assert_int_equal(siov_ctx_new(&x->ctx, x->root), 0);
        *state = x;
        return 0;
}

static int teardown(void **state) {
        struct fixture *x = *state;

        unsetenv("SIOV_FAKE_KERNEL_ROOT");
        siov_ctx_unref(x->ctx);
        fake_sysfs_free(x->f);
        fake_rm_rf(x->outside);
        free(x->outside);
        free(x->root);
        free(x);
        return 0;
}

static size_t strv_length_(char * const *l) {
        size_t n = 0;

        while (l && l[n])
                n++;
        return n;
}

/* A link text from anywhere inside the root to dir outside it: enough
 * "../" to reach "/" whatever the depth, then the absolute path. */
static void outside_target(const struct fixture *x, char out[static 4096]) {
        snprintf(out, 4096, "../../../../../../../../../../../../../../../..%s", x->outside);
}

static char *slurp(const char *path) {
        char buf[8192];
        ssize_t n;
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return NULL;
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n < 0)
                return NULL;
        buf[n] = '\0';
        return strdup(buf);
}

static char *rootfile(const struct fixture *x, const char *rel) {
        char p[4096];

        snprintf(p, sizeof(p), "%s/%s", x->root, rel);
        return slurp(p);
}

static void expect_file(const struct fixture *x, const char *rel, const char *want) {
        char *s = rootfile(x, rel);

        if (!s || strcmp(s, want) != 0) {
                print_error("%s: '%s', want '%s'\n", rel, s ?: "(absent)", want);
                fail();
        }
        free(s);
}

static void put(const struct fixture *x, const char *rel, const char *value) {
        assert_int_equal(fake_set_attr(x->f, rel, value), 0);
}

static uint32_t available(const struct fixture *x, const char *parent, const char *type) {
        struct siov_parent *p = NULL;
        uint32_t v;

        assert_int_equal(siov_parent_read(x->ctx, parent, &p), 0);
        assert_non_null(siov_parent_find_type(p, type));
        v = siov_type_get_available(siov_parent_find_type(p, type));
        siov_parent_unref(p);
        return v;
}

static bool mdev_exists(const struct fixture *x, const char *uuid) {
        struct siov_mdev *d = NULL;
        int r = siov_mdev_read(x->ctx, uuid, &d);

        assert_true(r == 0 || r == -ENODEV);
        siov_mdev_unref(d);
        return r == 0;
}

/* The message must be exactly want (root-less host paths). */
static void expect_msg(char *msg, const char *want) {
        if (!msg || strcmp(msg, want) != 0) {
                print_error("message '%s'\n   want '%s'\n", msg ?: "(null)", want);
                fail();
        }
        free(msg);
}

static void expect_msg_has(char *msg, const char *want) {
        if (!msg || !strstr(msg, want)) {
                print_error("message '%s'\n   does not contain '%s'\n", msg ?: "(null)", want);
                fail();
        }
        free(msg);
}

/* ---- mdevs ------------------------------------------------------------ */

static void test_create_remove(void **state) {
        struct fixture *x = *state;
        struct siov_mdev *d = NULL;
        char *msg = NULL;

        assert_int_equal(siov_mdev_create(x->ctx, GVT, GVT_TYPE, "3B4A8C32-1D2E-4F5A-9B6C-7D8E9F0A1B2C", &msg), 0);
        assert_null(msg);
        assert_int_equal(siov_mdev_read(x->ctx, U1, &d), 0);
        assert_string_equal(siov_mdev_get_parent(d), GVT);
        assert_string_equal(siov_mdev_get_type(d), GVT_TYPE);
        siov_mdev_unref(d);
        assert_int_equal(available(x, GVT, GVT_TYPE), 0);

        /* the kernel says no: its errno, with the file and the value */
        assert_int_equal(siov_mdev_create(x->ctx, GVT, GVT_TYPE, U2, &msg), -ENOSPC);
        expect_msg(msg, "writing '" U2 "' to /sys/class/mdev_bus/" GVT "/mdev_supported_types/"
                   GVT_TYPE "/create failed: No space left on device");
        assert_false(mdev_exists(x, U2));
        assert_int_equal(siov_mdev_create(x->ctx, GVT, GVT_TYPE, U1, &msg), -EEXIST);
        expect_msg(msg, "writing '" U1 "' to /sys/class/mdev_bus/" GVT "/mdev_supported_types/"
                   GVT_TYPE "/create failed: File exists");

        assert_int_equal(siov_mdev_remove(x->ctx, U1, &msg), 0);
        assert_null(msg);
        assert_false(mdev_exists(x, U1));
        assert_int_equal(available(x, GVT, GVT_TYPE), 1);
        assert_int_equal(siov_mdev_remove(x->ctx, U1, &msg), -ENODEV);
        expect_msg(msg, "no active mdev " U1 " (/sys/bus/mdev/devices/" U1 ")");

        /* what the kernel was asked, in order */
        expect_file(x, "fake-kernel/log",
                    "create sys/devices/pci0000:00/" GVT "/mdev_supported_types/" GVT_TYPE "/create '" U1 "' -> ok\n"
                    "create sys/devices/pci0000:00/" GVT "/mdev_supported_types/" GVT_TYPE "/create '" U2 "' -> ENOSPC\n"
                    "create sys/devices/pci0000:00/" GVT "/mdev_supported_types/" GVT_TYPE "/create '" U1 "' -> EEXIST\n"
                    "remove sys/devices/pci0000:00/" GVT "/" U1 "/remove '1' -> ok\n");
}

static void test_create_refused(void **state) {
        struct fixture *x = *state;
        char *msg = NULL;

        assert_int_equal(siov_mdev_create(x->ctx, "../x", GVT_TYPE, U1, &msg), -EINVAL);
        expect_msg(msg, "invalid parent name '../x'");
        assert_int_equal(siov_mdev_create(x->ctx, "", GVT_TYPE, U1, &msg), -EINVAL);
        expect_msg(msg, "invalid parent name ''");
        assert_int_equal(siov_mdev_create(x->ctx, NULL, GVT_TYPE, U1, &msg), -EINVAL);
        expect_msg(msg, "invalid parent name ''");
        assert_int_equal(siov_mdev_create(x->ctx, GVT, "a/b", U1, &msg), -EINVAL);
        expect_msg(msg, "invalid mdev type name 'a/b'");
        assert_int_equal(siov_mdev_create(x->ctx, GVT, "..", U1, &msg), -EINVAL);
        expect_msg(msg, "invalid mdev type name '..'");
        assert_int_equal(siov_mdev_create(x->ctx, GVT, GVT_TYPE, "1234\n", &msg), -EINVAL);
        expect_msg(msg, "invalid UUID '1234\\x0a'");
        assert_int_equal(siov_mdev_create(x->ctx, "siov9", "idxd-1dwq", U1, &msg), -ENODEV);
        expect_msg(msg, "no mdev parent siov9 (/sys/class/mdev_bus/siov9)");
        assert_int_equal(siov_mdev_create(x->ctx, GVT, "i915-GVTg_V5_8", U1, &msg), -ENOENT);
        expect_msg(msg, "parent " GVT " has no mdev type i915-GVTg_V5_8 (/sys/class/mdev_bus/" GVT
                   "/mdev_supported_types/i915-GVTg_V5_8: No such file or directory)");
        /* a PCI device that is no mdev parent */
        assert_int_equal(fake_add_pf(x->f, PF, 4, "ice"), 0);
        assert_int_equal(siov_mdev_create(x->ctx, PF, "vf", U1, &msg), -ENODEV);
        free(msg);
        /* error_msg may be NULL */
        assert_int_equal(siov_mdev_create(x->ctx, GVT, GVT_TYPE, "x", NULL), -EINVAL);

        /* none of it reached the kernel */
        assert_null(rootfile(x, "fake-kernel/log"));
}

static void test_planted_symlinks(void **state) {
        struct fixture *x = *state;
        char target[4096], *msg = NULL, *s;

        /* create replaced by a link to a file outside the root */
        snprintf(target, sizeof(target), "%s/victim", x->outside);
        {
                int fd = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                assert_true(fd >= 0);
                assert_int_equal(write(fd, "untouched\n", 10), 10);
                close(fd);
        }
        assert_int_equal(fake_symlink(x->f, "sys/devices/pci0000:00/" GVT "/mdev_supported_types/" GVT_TYPE "/create",
                                      target), 0);
        assert_int_equal(siov_mdev_create(x->ctx, GVT, GVT_TYPE, U1, &msg), -ELOOP);
        expect_msg(msg, "refusing to write '" U1 "' to /sys/class/mdev_bus/" GVT "/mdev_supported_types/"
                   GVT_TYPE "/create: it is a symbolic link");
        s = slurp(target);
        assert_string_equal(s, "untouched\n");
        free(s);

        /* a type folder that is a link (even to a real type folder) */
        assert_int_equal(fake_symlink(x->f, "sys/devices/virtual/idxd/siov0/mdev_supported_types/linked",
                                      "idxd-1dwq"), 0);
        assert_int_equal(siov_mdev_create(x->ctx, "siov0", "linked", U1, &msg), -ENOENT);
        expect_msg_has(msg, "parent siov0 has no mdev type linked");
        assert_false(mdev_exists(x, U1));

        /* a parent link that leads out of the root */
        outside_target(x, target);
        assert_int_equal(fake_symlink(x->f, "sys/class/mdev_bus/evil", target), 0);
        assert_int_equal(siov_mdev_create(x->ctx, "evil", "t", U1, &msg), -ENODEV);
        expect_msg(msg, "mdev parent evil: /sys/class/mdev_bus/evil leads outside the sysfs root");
        /* ... or to a folder of another name inside it */
        assert_int_equal(fake_symlink(x->f, "sys/class/mdev_bus/alias", "../../devices/virtual/idxd/siov0"), 0);
        assert_int_equal(siov_mdev_create(x->ctx, "alias", "idxd-1dwq", U1, &msg), -ENODEV);
        expect_msg(msg, "mdev parent alias: /sys/class/mdev_bus/alias does not lead to a device folder named alias");

        /* an mdev bus link that leads out of the root */
        assert_int_equal(fake_mkdir(x->f, "sys/bus/mdev/devices"), 0);
        assert_int_equal(fake_symlink(x->f, "sys/bus/mdev/devices/" U2, target), 0);
        assert_int_equal(siov_mdev_remove(x->ctx, U2, &msg), -ENODEV);
        expect_msg(msg, "active mdev " U2 ": /sys/bus/mdev/devices/" U2 " leads outside the sysfs root");
        assert_int_equal(siov_mdev_write_attr(x->ctx, U2, "a", "1", &msg), -ENODEV);
        free(msg);

        /* the remove file of a real mdev replaced by a link */
        assert_int_equal(fake_add_mdev(x->f, GVT, GVT_TYPE, U3, 0), 0);
        snprintf(target, sizeof(target), "%s/victim", x->outside);
        assert_int_equal(fake_symlink(x->f, "sys/devices/pci0000:00/" GVT "/" U3 "/remove", target), 0);
        assert_int_equal(siov_mdev_remove(x->ctx, U3, &msg), -ELOOP);
        expect_msg_has(msg, "/sys/bus/mdev/devices/" U3 "/remove: it is a symbolic link");
        /* ... and an attribute */
        assert_int_equal(fake_symlink(x->f, "sys/devices/pci0000:00/" GVT "/" U3 "/weight", target), 0);
        assert_int_equal(siov_mdev_write_attr(x->ctx, U3, "weight", "9", &msg), -EINVAL);
        expect_msg(msg, "/sys/bus/mdev/devices/" U3 "/weight is not an attribute file");
        s = slurp(target);
        assert_string_equal(s, "untouched\n");
        free(s);
        assert_true(mdev_exists(x, U3));
}

static void test_attrs(void **state) {
        struct fixture *x = *state;
        char *msg = NULL;
        char *big;

        assert_int_equal(siov_mdev_create(x->ctx, GVT, GVT_TYPE, U1, NULL), 0);
        put(x, "sys/devices/pci0000:00/" GVT "/" U1 "/assign_adapter", "");

        assert_int_equal(siov_mdev_write_attr(x->ctx, U1, "assign_adapter", "5", &msg), 0);
        assert_null(msg);
        expect_file(x, "sys/devices/pci0000:00/" GVT "/" U1 "/assign_adapter", "5");
        assert_int_equal(siov_mdev_write_attr(x->ctx, "3B4A8C32-1D2E-4F5A-9B6C-7D8E9F0A1B2C", "assign_adapter",
                                              "0x1f\n", &msg), 0);
        expect_file(x, "sys/devices/pci0000:00/" GVT "/" U1 "/assign_adapter", "0x1f\n");

        /* the kernel refuses a value */
        assert_int_equal(siov_mdev_write_attr(x->ctx, U1, "assign_adapter", "fail-einval", &msg), -EINVAL);
        expect_msg(msg, "writing 'fail-einval' to /sys/bus/mdev/devices/" U1
                   "/assign_adapter failed: Invalid argument");

        /* names that are no attributes */
        static const char * const reserved[] = {
                "remove", "mdev_type", "driver", "subsystem", "uevent", "power", "iommu_group",
                "../remove", "a/b", "", ".", "..", "bad\nname",
        };
        for (size_t i = 0; i < ELEMENTSOF(reserved); i++) {
                assert_int_equal(siov_mdev_write_attr(x->ctx, U1, reserved[i], "1", &msg), -EINVAL);
                expect_msg_has(msg, "is not an mdev attribute that may be written");
        }
        assert_true(mdev_exists(x, U1));        /* "remove" was not written */

        assert_int_equal(siov_mdev_write_attr(x->ctx, U1, "nope", "1", &msg), -ENOENT);
        expect_msg(msg, "mdev " U1 " has no attribute nope (/sys/bus/mdev/devices/" U1 "/nope)");
        assert_int_equal(fake_mkdir(x->f, "sys/devices/pci0000:00/" GVT "/" U1 "/folder"), 0);
        assert_int_equal(siov_mdev_write_attr(x->ctx, U1, "folder", "1", &msg), -EINVAL);
        expect_msg(msg, "/sys/bus/mdev/devices/" U1 "/folder is not an attribute file");
        {
                char p[4096];
                snprintf(p, sizeof(p), "%s/sys/devices/pci0000:00/" GVT "/" U1 "/fifo", x->root);
                assert_int_equal(mkfifo(p, 0644), 0);
        }
        assert_int_equal(siov_mdev_write_attr(x->ctx, U1, "fifo", "1", &msg), -EINVAL);
        expect_msg_has(msg, "fifo is not an attribute file");
        assert_int_equal(siov_mdev_write_attr(x->ctx, U2, "assign_adapter", "1", &msg), -ENODEV);
        expect_msg(msg, "no active mdev " U2 " (/sys/bus/mdev/devices/" U2 ")");
        assert_int_equal(siov_mdev_write_attr(x->ctx, "x", "assign_adapter", "1", &msg), -EINVAL);
        expect_msg(msg, "invalid UUID 'x'");

        big = malloc(SIOV_ATTR_VALUE_MAX + 2);
        assert_non_null(big);
        memset(big, '1', SIOV_ATTR_VALUE_MAX + 1);
        big[SIOV_ATTR_VALUE_MAX + 1] = '\0';
        assert_int_equal(siov_mdev_write_attr(x->ctx, U1, "assign_adapter", big, &msg), -EINVAL);
        expect_msg(msg, "value for attribute assign_adapter is longer than 4096 bytes");
        free(big);
}

static void test_injected_errors(void **state) {
        struct fixture *x = *state;
        char *msg = NULL;

        assert_int_equal(fake_mkdir(x->f, "fake-kernel"), 0);
        put(x, "fake-kernel/fail-create", "EIO\n");
        assert_int_equal(siov_mdev_create(x->ctx, GVT, GVT_TYPE, U1, &msg), -EIO);
        expect_msg(msg, "writing '" U1 "' to /sys/class/mdev_bus/" GVT "/mdev_supported_types/"
                   GVT_TYPE "/create failed: Input/output error");
        assert_null(rootfile(x, "fake-kernel/fail-create"));    /* used up */
        assert_false(mdev_exists(x, U1));
        assert_int_equal(available(x, GVT, GVT_TYPE), 1);
        assert_int_equal(siov_mdev_create(x->ctx, GVT, GVT_TYPE, U1, &msg), 0);

        put(x, "fake-kernel/fail-remove", "EBUSY");
        assert_int_equal(siov_mdev_remove(x->ctx, U1, &msg), -EBUSY);
        expect_msg(msg, "writing '1' to /sys/bus/mdev/devices/" U1 "/remove failed: Device or resource busy");
        assert_true(mdev_exists(x, U1));

        put(x, "sys/devices/pci0000:00/" GVT "/" U1 "/weight", "");
        put(x, "fake-kernel/fail-attr", "28\n");
        assert_int_equal(siov_mdev_write_attr(x->ctx, U1, "weight", "4", &msg), -ENOSPC);
        expect_msg(msg, "writing '4' to /sys/bus/mdev/devices/" U1 "/weight failed: No space left on device");

        /* a store that takes fewer bytes than written */
        put(x, "fake-kernel/short-write", "10");
        assert_int_equal(siov_mdev_write_attr(x->ctx, U1, "weight", "12345678901234", &msg), -EIO);
        expect_msg(msg, "writing '12345678901234' to /sys/bus/mdev/devices/" U1
                   "/weight failed: short write (10 of 14 bytes)");
}

/* A pool shared by both types of a bundled-driver parent (4 WQs: 2 free,
 * 1 host netdev, 1 host WQ; 4 slots per shared WQ). */
static void test_pool(void **state) {
        struct fixture *x = *state;
        struct siov_parent *p = NULL;
        struct siov_pool pool;
        char uuids[8][37], *msg = NULL;

        for (int i = 0; i < 8; i++)
                snprintf(uuids[i], sizeof(uuids[i]), "00000000-0000-4000-8000-%012d", i + 1);

        assert_int_equal(available(x, "siov0", "idxd-1dwq"), 2);
        assert_int_equal(siov_mdev_create(x->ctx, "siov0", "idxd-1dwq", uuids[0], NULL), 0);
        assert_int_equal(available(x, "siov0", "idxd-1dwq"), 1);
        assert_int_equal(available(x, "siov0", "idxd-1swq"), 4);

        /* the first shared slot takes the last free WQ whole */
        assert_int_equal(siov_mdev_create(x->ctx, "siov0", "idxd-1swq", uuids[1], NULL), 0);
        assert_int_equal(available(x, "siov0", "idxd-1dwq"), 0);
        assert_int_equal(available(x, "siov0", "idxd-1swq"), 3);
        assert_int_equal(siov_mdev_create(x->ctx, "siov0", "idxd-1dwq", uuids[2], &msg), -ENOSPC);
        expect_msg_has(msg, "idxd-1dwq/create failed: No space left on device");
        for (int i = 2; i < 5; i++)
                assert_int_equal(siov_mdev_create(x->ctx, "siov0", "idxd-1swq", uuids[i], NULL), 0);
        assert_int_equal(siov_mdev_create(x->ctx, "siov0", "idxd-1swq", uuids[5], &msg), -ENOSPC);
        free(msg);

        assert_int_equal(siov_parent_read(x->ctx, "siov0", &p), 0);
        assert_true(siov_parent_get_pool(p, &pool));
        assert_int_equal(pool.total, 4);
        assert_int_equal(pool.free, 0);
        assert_int_equal(pool.mdev_dwq, 1);
        assert_int_equal(pool.mdev_swq, 1);
        assert_int_equal(strv_length_(siov_type_get_devices(siov_parent_find_type(p, "idxd-1swq"))), 4);
        siov_parent_unref(p);

        /* giving slots back returns the WQ with the last one */
        for (int i = 1; i < 4; i++)
                assert_int_equal(siov_mdev_remove(x->ctx, uuids[i], NULL), 0);
        assert_int_equal(available(x, "siov0", "idxd-1dwq"), 0);
        assert_int_equal(available(x, "siov0", "idxd-1swq"), 3);
        assert_int_equal(siov_mdev_remove(x->ctx, uuids[4], NULL), 0);
        assert_int_equal(available(x, "siov0", "idxd-1dwq"), 1);
        assert_int_equal(available(x, "siov0", "idxd-1swq"), 4);
        assert_int_equal(siov_mdev_remove(x->ctx, uuids[0], NULL), 0);
        assert_int_equal(siov_parent_read(x->ctx, "siov0", &p), 0);
        assert_true(siov_parent_get_pool(p, &pool));
        assert_int_equal(pool.free, 2);
        assert_int_equal(pool.mdev_dwq, 0);
        assert_int_equal(pool.mdev_swq, 0);
        siov_parent_unref(p);
        assert_int_equal(available(x, "siov0", "idxd-1swq"), 8);
}

/* ---- races -------------------------------------------------------- */

struct racer {
        struct fixture *x;
        char uuid[37];
        int r;
};

static void *race_create(void *userdata) {
        struct racer *r = userdata;
        char *msg = NULL;

        r->r = siov_mdev_create(r->x->ctx, GVT, GVT_TYPE, r->uuid, &msg);
        free(msg);
        return NULL;
}

static void count_results(const struct racer *rs, size_t n, int *ok, int *nospc, int *exist) {
        *ok = *nospc = *exist = 0;
        for (size_t i = 0; i < n; i++) {
                if (rs[i].r == 0)
                        (*ok)++;
                else if (rs[i].r == -ENOSPC)
                        (*nospc)++;
                else if (rs[i].r == -EEXIST)
                        (*exist)++;
                else
                        fail_msg("unexpected result %d", rs[i].r);
        }
}

static void test_race_threads(void **state) {
        struct fixture *x = *state;
        struct racer rs[8];
        pthread_t t[8];
        int ok, nospc, exist;

        assert_int_equal(fake_set_type_attr(x->f, GVT, GVT_TYPE, "available_instances", "3\n"), 0);
        assert_int_equal(fake_mkdir(x->f, "fake-kernel"), 0);
        put(x, "fake-kernel/delay-ms", "20");

        /* 8 creates for 3 instances */
        for (int i = 0; i < 8; i++) {
                rs[i] = (struct racer) { .x = x };
                snprintf(rs[i].uuid, sizeof(rs[i].uuid), "00000000-0000-4000-8000-%012d", i + 1);
                assert_int_equal(pthread_create(&t[i], NULL, race_create, &rs[i]), 0);
        }
        for (int i = 0; i < 8; i++)
                assert_int_equal(pthread_join(t[i], NULL), 0);
        count_results(rs, 8, &ok, &nospc, &exist);
        assert_int_equal(ok, 3);
        assert_int_equal(nospc, 5);
        assert_int_equal(available(x, GVT, GVT_TYPE), 0);

        /* 4 creates of one UUID with room for all: one wins */
        for (int i = 0; i < 8; i++)
                if (rs[i].r == 0)
                        assert_int_equal(siov_mdev_remove(x->ctx, rs[i].uuid, NULL), 0);
        assert_int_equal(available(x, GVT, GVT_TYPE), 3);
        for (int i = 0; i < 4; i++) {
                rs[i] = (struct racer) { .x = x };
                strcpy(rs[i].uuid, U1);
                assert_int_equal(pthread_create(&t[i], NULL, race_create, &rs[i]), 0);
        }
        for (int i = 0; i < 4; i++)
                assert_int_equal(pthread_join(t[i], NULL), 0);
        count_results(rs, 4, &ok, &nospc, &exist);
        assert_int_equal(ok, 1);
        assert_int_equal(exist, 3);
        assert_int_equal(available(x, GVT, GVT_TYPE), 2);
}

static void test_race_processes(void **state) {
        struct fixture *x = *state;
        pid_t pids[6];
        int ok = 0, nospc = 0;

        assert_int_equal(fake_set_type_attr(x->f, GVT, GVT_TYPE, "available_instances", "2\n"), 0);
        assert_int_equal(fake_mkdir(x->f, "fake-kernel"), 0);
        put(x, "fake-kernel/delay-ms", "30");

        for (int i = 0; i < 6; i++) {
                pids[i] = fork();
                assert_true(pids[i] >= 0);
                if (pids[i] == 0) {
                        struct siov_ctx *ctx = NULL;
                        char uuid[37];
                        int r;

                        snprintf(uuid, sizeof(uuid), "00000000-0000-4000-8000-%012d", i + 1);
                        if (siov_ctx_new(&ctx, x->root) < 0)
                                _exit(3);
                        r = siov_mdev_create(ctx, GVT, GVT_TYPE, uuid, NULL);
                        siov_ctx_unref(ctx);
                        _exit(r == 0 ? 0 : r == -ENOSPC ? 1 : 2);
                }
        }
        for (int i = 0; i < 6; i++) {
                int status;

                assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
                assert_true(WIFEXITED(status));
                if (WEXITSTATUS(status) == 0)
                        ok++;
                else if (WEXITSTATUS(status) == 1)
                        nospc++;
                else
                        fail_msg("child %d exited %d", i, WEXITSTATUS(status));
        }
        assert_int_equal(ok, 2);
        assert_int_equal(nospc, 4);
        assert_int_equal(available(x, GVT, GVT_TYPE), 0);
        {
                struct siov_model *m = NULL;
                assert_int_equal(siov_scan(x->ctx, &m), 0);
                assert_int_equal(siov_model_get_n_mdevs(m), 2);
                siov_model_unref(m);
        }
}

/* ---- VFs ---------------------------------------------------------- */

static const char *vf_driver(struct fixture *x, const char *address) {
        static char name[4096];
        char p[4096], t[4096];
        ssize_t n;
        char *s;

        snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/%s/driver", x->root, address);
        n = readlink(p, t, sizeof(t) - 1);
        if (n < 0)
                return "";
        t[n] = '\0';
        s = strrchr(t, '/');
        snprintf(name, sizeof(name), "%s", s ? s + 1 : t);
        return name;
}

static size_t log_lines(struct fixture *x) {
        char *log = rootfile(x, "fake-kernel/log");
        size_t n = 0;

        for (char *c = log; c && *c; c++)
                if (*c == '\n')
                        n++;
        free(log);
        return n;
}

static void add_vfs(struct fixture *x) {
        assert_int_equal(fake_add_pf(x->f, PF, 8, "ice"), 0);
        assert_int_equal(fake_add_vf(x->f, PF, 0, VF, "iavf", "enp59s0f0v0"), 0);
        assert_int_equal(fake_add_vf(x->f, PF, 1, "0000:3b:01.1", NULL, NULL), 0);
        assert_int_equal(fake_add_vf(x->f, PF, 2, "0000:3b:01.2", "mlx5_vfio_pci", NULL), 0);
        assert_int_equal(fake_add_vfio_variant(x->f, "mlx5_vfio_pci"), 0);
        assert_int_equal(siov_ctx_load_vfio_variants(x->ctx), 0);
}

static void test_vf_bind_release(void **state) {
        struct fixture *x = *state;
        char *msg = NULL;

        add_vfs(x);
        assert_int_equal(fake_mkdir(x->f, "sys/bus/pci/drivers/vfio-pci"), 0);     /* module loaded */

        assert_int_equal(siov_vf_bind_vfio(x->ctx, VF, &msg), 0);
        assert_null(msg);
        assert_string_equal(vf_driver(x, VF), "vfio-pci");
        expect_file(x, "sys/devices/pci0000:00/" VF "/driver_override", "vfio-pci\n");
        expect_file(x, "fake-kernel/log",
                    "driver_override sys/devices/pci0000:00/" VF "/driver_override 'vfio-pci' -> ok\n"
                    "unbind sys/bus/pci/drivers/iavf/unbind '" VF "' -> ok\n"
                    "drivers_probe sys/bus/pci/drivers_probe '" VF "' -> ok\n");

        /* again: nothing to do, nothing written */
        assert_int_equal(siov_vf_bind_vfio(x->ctx, VF, &msg), 0);
        assert_string_equal(vf_driver(x, VF), "vfio-pci");
        assert_int_equal(log_lines(x), 3);

        /* release: the override goes, the host driver takes it back */
        assert_int_equal(siov_vf_release(x->ctx, VF, &msg), 0);
        assert_null(msg);
        expect_file(x, "sys/devices/pci0000:00/" VF "/driver_override", "(null)\n");
        assert_string_equal(vf_driver(x, VF), "iavf");

        /* an unbound VF */
        assert_int_equal(siov_vf_bind_vfio(x->ctx, "0000:3b:01.1", &msg), 0);
        assert_string_equal(vf_driver(x, "0000:3b:01.1"), "vfio-pci");
        assert_int_equal(siov_vf_release(x->ctx, "0000:3b:01.1", &msg), 0);
        assert_string_equal(vf_driver(x, "0000:3b:01.1"), "");         /* no host driver matches it */

        /* a VFIO variant driver already serves VMs: left alone */
        assert_int_equal(siov_vf_bind_vfio(x->ctx, "0000:3b:01.2", &msg), 0);
        assert_string_equal(vf_driver(x, "0000:3b:01.2"), "mlx5_vfio_pci");
        expect_file(x, "sys/devices/pci0000:00/0000:3b:01.2/driver_override", "(null)\n");

        /* refused before any write */
        assert_int_equal(siov_vf_bind_vfio(x->ctx, PF, &msg), -ENODEV);
        expect_msg(msg, PF " is not an SR-IOV virtual function (no physfn link)");
        assert_int_equal(siov_vf_bind_vfio(x->ctx, "../../../etc", &msg), -EINVAL);
        expect_msg(msg, "invalid PCI address '../../../etc'");
        assert_int_equal(siov_vf_bind_vfio(x->ctx, "0000:3b:07.7", &msg), -ENODEV);
        expect_msg(msg, "no PCI device 0000:3b:07.7 (/sys/bus/pci/devices/0000:3b:07.7)");
        assert_int_equal(siov_vf_release(x->ctx, PF, &msg), -ENODEV);
        free(msg);
}

static void test_vf_bind_failures(void **state) {
        struct fixture *x = *state;
        char *msg = NULL;

        add_vfs(x);

        /* vfio-pci is not loaded: nothing takes the VF; rolled back */
        assert_int_equal(siov_vf_bind_vfio(x->ctx, VF, &msg), -EIO);
        expect_msg(msg, "VF " VF " is bound to no driver after writing '" VF "' to /sys/bus/pci/drivers_probe "
                   "with /sys/bus/pci/devices/" VF "/driver_override = vfio-pci (is the vfio-pci module loaded?) "
                   "(rolled back)");
        expect_file(x, "sys/devices/pci0000:00/" VF "/driver_override", "(null)\n");
        assert_string_equal(vf_driver(x, VF), "iavf");

        /* the kernel refuses the unbind: the original error is the one reported */
        assert_int_equal(fake_mkdir(x->f, "sys/bus/pci/drivers/vfio-pci"), 0);
        put(x, "fake-kernel/fail-unbind", "EBUSY");
        assert_int_equal(siov_vf_bind_vfio(x->ctx, VF, &msg), -EBUSY);
        expect_msg(msg, "writing '" VF "' to /sys/bus/pci/drivers/iavf/unbind failed: Device or resource busy "
                   "(rolled back)");
        expect_file(x, "sys/devices/pci0000:00/" VF "/driver_override", "(null)\n");
        assert_string_equal(vf_driver(x, VF), "iavf");

        /* the override cannot be set */
        put(x, "fake-kernel/fail-driver_override", "EACCES");
        assert_int_equal(siov_vf_bind_vfio(x->ctx, VF, &msg), -EACCES);
        expect_msg(msg, "writing 'vfio-pci' to /sys/bus/pci/devices/" VF "/driver_override failed: Permission denied");
        assert_string_equal(vf_driver(x, VF), "iavf");

        /* probe fails, and so does the rollback's probe: both told */
        put(x, "fake-kernel/fail-drivers_probe", "ENOMEM");
        assert_int_equal(siov_vf_bind_vfio(x->ctx, VF, &msg), -ENOMEM);
        expect_msg_has(msg, "writing '" VF "' to /sys/bus/pci/drivers_probe failed: Cannot allocate memory");
        /* (the rollback's own probe succeeded: the fail file is used up) */
        assert_string_equal(vf_driver(x, VF), "iavf");

        /* probe fails, then the rollback cannot clear the override: the
         * original error first, the rollback's after it */
        put(x, "fake-kernel/fail-drivers_probe", "ENOMEM");
        put(x, "fake-kernel/fail-driver_override", "EROFS 1");
        assert_int_equal(siov_vf_bind_vfio(x->ctx, VF, &msg), -ENOMEM);
        expect_msg(msg, "writing '" VF "' to /sys/bus/pci/drivers_probe failed: Cannot allocate memory "
                   "(rollback failed: writing '\\x0a' to /sys/bus/pci/devices/" VF
                   "/driver_override failed: Read-only file system)");
        expect_file(x, "sys/devices/pci0000:00/" VF "/driver_override", "vfio-pci\n");
        assert_string_equal(vf_driver(x, VF), "");
        assert_null(rootfile(x, "fake-kernel/fail-driver_override"));
        /* from that state, a new bind completes and a release undoes it */
        assert_int_equal(siov_vf_bind_vfio(x->ctx, VF, NULL), 0);
        assert_string_equal(vf_driver(x, VF), "vfio-pci");
        assert_int_equal(siov_vf_release(x->ctx, VF, &msg), 0);
        assert_string_equal(vf_driver(x, VF), "iavf");

        /* a driver link planted to lead out of the root: not followed,
         * nothing written there, the VF counts as unbound */
        {
                char target[4096], unbind[4096], *s;
                int fd;

                snprintf(unbind, sizeof(unbind), "%s/unbind", x->outside);
                fd = open(unbind, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                assert_true(fd >= 0);
                close(fd);
                outside_target(x, target);
                assert_int_equal(fake_symlink(x->f, "sys/devices/pci0000:00/" VF "/driver", target), 0);
                assert_int_equal(siov_vf_bind_vfio(x->ctx, VF, &msg), -EIO);
                expect_msg_has(msg, "is bound to no driver after writing");
                s = slurp(unbind);
                assert_string_equal(s, "");
                free(s);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_create_remove, setup, teardown),
                cmocka_unit_test_setup_teardown(test_create_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_planted_symlinks, setup, teardown),
                cmocka_unit_test_setup_teardown(test_attrs, setup, teardown),
                cmocka_unit_test_setup_teardown(test_injected_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_pool, setup, teardown),
                cmocka_unit_test_setup_teardown(test_race_threads, setup, teardown),
                cmocka_unit_test_setup_teardown(test_race_processes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_vf_bind_release, setup, teardown),
                cmocka_unit_test_setup_teardown(test_vf_bind_failures, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
