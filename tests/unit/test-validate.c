/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Validators, strict parsing, attribute reading, context, SHA-1 / UUID v5. */

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake-sysfs.h"
#include "libsiov.h"
#include "siov-private.h"

static void test_uuid(void **state) {
        char out[SIOV_UUID_STRING_MAX];
        char long_name[300];

        assert_int_equal(siov_uuid_normalize("3b4a8c32-1d2e-4f5a-9b6c-7d8e9f0a1b2c", out), 0);
        assert_string_equal(out, "3b4a8c32-1d2e-4f5a-9b6c-7d8e9f0a1b2c");
        /* mixed case is normalized to lower case */
        assert_int_equal(siov_uuid_normalize("3B4A8C32-1d2E-4F5a-9B6C-7D8E9F0A1B2C", out), 0);
        assert_string_equal(out, "3b4a8c32-1d2e-4f5a-9b6c-7d8e9f0a1b2c");
        assert_true(siov_uuid_is_valid("3B4A8C32-1D2E-4F5A-9B6C-7D8E9F0A1B2C"));
        assert_true(siov_uuid_is_valid("00000000-0000-0000-0000-000000000000"));

        static const char * const bad[] = {
                "",
                "3b4a8c32-1d2e-4f5a-9b6c-7d8e9f0a1b2",          /* 35 chars */
                "3b4a8c32-1d2e-4f5a-9b6c-7d8e9f0a1b2cd",        /* 37 chars */
                "3b4a8c321d2e-4f5a-9b6c-7d8e9f0a1b2c0",         /* hyphen missing */
                "3b4a8c3-21d2e-4f5a-9b6c-7d8e9f0a1b2c",         /* hyphen moved */
                "3b4a8c32-1d2e-4f5a-9b6c-7d8e9f0a1b2g",         /* not hex */
                "{3b4a8c32-1d2e-4f5a-9b6c-7d8e9f0a1b2c}",
                "3b4a8c32-1d2e-4f5a-9b6c-7d8e9f0a1b2c\n",
                " 3b4a8c32-1d2e-4f5a-9b6c-7d8e9f0a1b2c",
                "3b4a8c32-1d2e-4f5a-9b6c-7d8e9f0a1b\x01c",
                "../../../../../../../../../etc/passwd",
                "3b4a8c32_1d2e_4f5a_9b6c_7d8e9f0a1b2c",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                strcpy(out, "untouched");
                assert_int_equal(siov_uuid_normalize(bad[i], out), -EINVAL);
                assert_false(siov_uuid_is_valid(bad[i]));
                assert_string_equal(out, "untouched");
        }
        assert_int_equal(siov_uuid_normalize(NULL, out), -EINVAL);
        assert_false(siov_uuid_is_valid(NULL));
        memset(long_name, 'a', sizeof(long_name) - 1);
        long_name[sizeof(long_name) - 1] = '\0';
        assert_false(siov_uuid_is_valid(long_name));
}

static void test_name(void **state) {
        char n255[256], n256[257];

        memset(n255, 'x', 255);
        n255[255] = '\0';
        memset(n256, 'x', 256);
        n256[256] = '\0';

        static const char * const good[] = {
                "siov0", "0000:3b:00.0", "idxd-1dwq", "i915-GVTg_V5_4", "nvidia-35", "...", ".x", "a b",
        };
        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                assert_true(siov_name_is_valid(good[i]));
        assert_true(siov_name_is_valid(n255));

        static const char * const bad[] = {
                "", ".", "..", "../x", "a/b", "/", "/etc", "x/", "x\n", "\x01", "a\tb", "del\x7f",
                "caf\xc3\xa9", "\x1b[31m",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_false(siov_name_is_valid(bad[i]));
        assert_false(siov_name_is_valid(n256));
        assert_false(siov_name_is_valid(NULL));
}

static void test_pci_address(void **state) {
        static const char * const good[] = {
                "0000:3b:02.1", "0000:00:1f.7", "0000:ff:00.0", "0000:6A:01.0", "10000:00:00.0",
        };
        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                assert_true(siov_pci_address_is_valid(good[i]));

        static const char * const bad[] = {
                "", "0000:3b:02.8", "0000:3b:20.0", "000:3b:02.1", "0000:3b:2.1", "0000:3:02.1",
                "0000-3b:02.1", "0000:3b:02.1 ", "0000:3b:02.1\n", "0000:3b:02", "0000:3b:02.",
                "0000:3g:02.1", "../0000:3b:02.1", "0000:3b:02.1/..", "siov0", "123456789:00:00.0",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_false(siov_pci_address_is_valid(bad[i]));
        assert_false(siov_pci_address_is_valid(NULL));
}

static void test_parse_u32(void **state) {
        uint32_t v;

        assert_int_equal(siov_parse_u32("12\n", &v), 0);
        assert_int_equal(v, 12);
        assert_int_equal(siov_parse_u32("0", &v), 0);
        assert_int_equal(v, 0);
        assert_int_equal(siov_parse_u32("007", &v), 0);
        assert_int_equal(v, 7);
        assert_int_equal(siov_parse_u32("4294967295\n", &v), 0);
        assert_int_equal(v, UINT32_MAX);
        assert_int_equal(siov_parse_u32("4294967295", &v), 0);
        assert_int_equal(v, UINT32_MAX);

        v = 42;
        assert_int_equal(siov_parse_u32("", &v), -EINVAL);
        assert_int_equal(siov_parse_u32("\n", &v), -EINVAL);
        assert_int_equal(siov_parse_u32("-1", &v), -EINVAL);
        assert_int_equal(siov_parse_u32("+1", &v), -EINVAL);
        assert_int_equal(siov_parse_u32(" 1", &v), -EINVAL);
        assert_int_equal(siov_parse_u32("1 ", &v), -EINVAL);
        assert_int_equal(siov_parse_u32("1x", &v), -EINVAL);
        assert_int_equal(siov_parse_u32("0x10", &v), -EINVAL);
        assert_int_equal(siov_parse_u32("1\n\n", &v), -EINVAL);
        assert_int_equal(siov_parse_u32("1\n2", &v), -EINVAL);
        assert_int_equal(siov_parse_u32("abc", &v), -EINVAL);
        assert_int_equal(siov_parse_u32("4294967296", &v), -ERANGE);
        assert_int_equal(siov_parse_u32("99999999999999999999999999", &v), -ERANGE);
        assert_int_equal(siov_parse_u32("4294967296x", &v), -EINVAL);
        assert_int_equal(siov_parse_u32(NULL, &v), -EINVAL);
        /* failures leave the output alone */
        assert_int_equal(v, 42);
}

/* A scratch folder per test, removed by the teardown even when an
 * assertion failed half-way. */
static int tmpdir_setup(void **state) {
        char d[] = "/tmp/test-validate.XXXXXX";

        if (!mkdtemp(d))
                return -1;
        /* canonical, as siov_ctx_get_root() reports it */
        *state = realpath(d, NULL);
        return *state ? 0 : -1;
}

static int tmpdir_teardown(void **state) {
        int r = fake_rm_rf(*state);

        free(*state);
        return r < 0 ? -1 : 0;
}

static void write_file(int dirfd, const char *name, const char *data, size_t len) {
        int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, data, len), (ssize_t) len);
        close(fd);
}

static void test_read_attr(void **state) {
        const char *dir = *state;
        _cleanup_free_ char *big = NULL;
        char *s = NULL;
        int dfd;

        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(dfd >= 0);

        write_file(dfd, "num", "12\n", 3);
        assert_int_equal(siov_read_attr_at(dfd, "num", &s), 0);
        assert_string_equal(s, "12");
        s = mfree(s);

        /* internal newlines stay, one trailing newline goes */
        write_file(dfd, "desc", "line one\nline two\n\n", 19);
        assert_int_equal(siov_read_attr_at(dfd, "desc", &s), 0);
        assert_string_equal(s, "line one\nline two\n");
        s = mfree(s);

        write_file(dfd, "empty", "", 0);
        assert_int_equal(siov_read_attr_at(dfd, "empty", &s), 0);
        assert_string_equal(s, "");
        s = mfree(s);

        /* exactly 64 KiB is fine, one byte more is not */
        big = malloc(64 * 1024 + 1);
        assert_non_null(big);
        memset(big, 'b', 64 * 1024 + 1);
        write_file(dfd, "max", big, 64 * 1024);
        assert_int_equal(siov_read_attr_at(dfd, "max", &s), 0);
        assert_int_equal(strlen(s), 64 * 1024);
        s = mfree(s);
        write_file(dfd, "toobig", big, 64 * 1024 + 1);
        assert_int_equal(siov_read_attr_at(dfd, "toobig", &s), -EFBIG);
        assert_null(s);

        /* a symlink is never read through */
        assert_int_equal(symlinkat("num", dfd, "link"), 0);
        assert_int_equal(siov_read_attr_at(dfd, "link", &s), -ELOOP);
        assert_null(s);

        assert_int_equal(mkdirat(dfd, "sub", 0755), 0);
        assert_int_equal(siov_read_attr_at(dfd, "sub", &s), -EISDIR);

        /* a FIFO must neither hang nor be read */
        assert_int_equal(mkfifoat(dfd, "fifo", 0644), 0);
        assert_true(siov_read_attr_at(dfd, "fifo", &s) < 0);
        assert_null(s);

        assert_int_equal(siov_read_attr_at(dfd, "missing", &s), -ENOENT);
        assert_int_equal(siov_read_attr_at(dfd, "../num", &s), -EINVAL);
        assert_int_equal(siov_read_attr_at(dfd, "sub/../num", &s), -EINVAL);
        assert_int_equal(siov_read_attr_at(dfd, "/etc/passwd", &s), -EINVAL);
        assert_int_equal(siov_read_attr_at(dfd, "", &s), -EINVAL);
        assert_null(s);

        close(dfd);
}

static void test_ctx(void **state) {
        const char *dir = *state;
        _cleanup_free_ char *slashed = NULL, *file = NULL, *p = NULL;
        struct siov_ctx *ctx = NULL;

        assert_int_equal(siov_ctx_new(&ctx, "/nonexistent/siov-test"), -ENOENT);
        assert_null(ctx);

        assert_true(asprintf(&file, "%s/file", dir) > 0);
        write_file(AT_FDCWD, file, "x", 1);
        assert_int_equal(siov_ctx_new(&ctx, file), -ENOTDIR);

        /* trailing slashes and "." are normalized away */
        assert_true(asprintf(&slashed, "%s/./", dir) > 0);
        assert_int_equal(siov_ctx_new(&ctx, slashed), 0);
        assert_string_equal(siov_ctx_get_root(ctx), dir);

        p = siov_ctx_path(ctx, "sys/class/mdev_bus");
        assert_non_null(p);
        assert_true(strncmp(p, dir, strlen(dir)) == 0);
        assert_string_equal(p + strlen(dir), "/sys/class/mdev_bus");
        p = mfree(p);
        p = siov_ctx_path(ctx, "/sys/bus");
        assert_non_null(p);
        assert_string_equal(p + strlen(dir), "/sys/bus");
        p = mfree(p);
        assert_null(siov_ctx_path(ctx, "../etc"));
        assert_null(siov_ctx_path(ctx, "sys/../../etc"));
        assert_null(siov_ctx_path(ctx, "sys/.."));
        assert_null(siov_ctx_path(ctx, NULL));

        assert_ptr_equal(siov_ctx_ref(ctx), ctx);
        assert_null(siov_ctx_unref(ctx));
        assert_string_equal(siov_ctx_get_root(ctx), dir);   /* still referenced once */
        ctx = siov_ctx_unref(ctx);

        /* "/" is "" */
        assert_int_equal(siov_ctx_new(&ctx, "/"), 0);
        assert_string_equal(siov_ctx_get_root(ctx), "");
        p = siov_ctx_path(ctx, "sys/bus");
        assert_string_equal(p, "/sys/bus");
        p = mfree(p);
        ctx = siov_ctx_unref(ctx);

        /* NULL takes $SIOV_SYSFS_ROOT */
        assert_int_equal(setenv("SIOV_SYSFS_ROOT", dir, 1), 0);
        assert_int_equal(siov_ctx_new(&ctx, NULL), 0);
        assert_string_equal(siov_ctx_get_root(ctx), dir);
        ctx = siov_ctx_unref(ctx);
        assert_int_equal(unsetenv("SIOV_SYSFS_ROOT"), 0);
}

static void test_migration_version(void **state) {
        char big[SIOV_MIGRATION_VERSION_MAX + 8], *reason;

        assert_true(siov_migration_version_is_valid("driver=siov_mdev type=idxd-1dwq state=1"));
        assert_true(siov_migration_version_is_valid("driver=siov_mdev type=idxd-1swq state=1 swq_slots=4\n"));
        assert_true(siov_migration_version_is_valid("  a=b\tc=d  "));
        assert_false(siov_migration_version_is_valid(NULL));
        assert_false(siov_migration_version_is_valid(""));
        assert_false(siov_migration_version_is_valid(" \n"));
        assert_false(siov_migration_version_is_valid("driver"));
        assert_false(siov_migration_version_is_valid("=x"));
        assert_false(siov_migration_version_is_valid("a="));
        assert_false(siov_migration_version_is_valid("a=b a=c"));             /* a key twice */
        assert_false(siov_migration_version_is_valid("a=b\nc=d"));            /* one line */
        assert_false(siov_migration_version_is_valid("a=b\x01"));
        assert_false(siov_migration_version_is_valid("a b=c"));
        assert_false(siov_migration_version_is_valid("k/x=1"));
        assert_false(siov_migration_version_is_valid("a=\xc3\xa9"));         /* ASCII only */
        memset(big, 'x', sizeof(big) - 1);
        big[0] = 'a';
        big[1] = '=';
        big[sizeof(big) - 1] = '\0';
        assert_false(siov_migration_version_is_valid(big));

        /* same pairs, any order, spacing and trailing newline */
        assert_int_equal(siov_migration_version_compare("driver=siov_mdev type=idxd-1swq state=1 swq_slots=4",
                                                        "swq_slots=4 state=1  type=idxd-1swq driver=siov_mdev\n",
                                                        &reason), 1);
        assert_null(reason);
        assert_int_equal(siov_migration_version_compare("driver=siov_mdev type=idxd-1swq state=1 swq_slots=2",
                                                        "driver=siov_mdev type=idxd-1swq state=1 swq_slots=4",
                                                        &reason), 0);
        assert_string_equal(reason, "the state needs swq_slots=4, this type has swq_slots=2");
        free(reason);
        assert_int_equal(siov_migration_version_compare("driver=siov_mdev type=idxd-1dwq state=1",
                                                        "driver=siov_mdev type=idxd-1dwq state=2", &reason), 0);
        assert_string_equal(reason, "the state needs state=2, this type has state=1");
        free(reason);
        assert_int_equal(siov_migration_version_compare("driver=siov_mdev type=idxd-1dwq state=1",
                                                        "driver=siov_mdev type=idxd-1dwq state=1 extra=1",
                                                        &reason), 0);
        assert_string_equal(reason, "the state needs extra=1, which this type does not name");
        free(reason);
        assert_int_equal(siov_migration_version_compare("driver=siov_mdev type=idxd-1swq state=1 swq_slots=4",
                                                        "driver=siov_mdev type=idxd-1swq state=1", &reason), 0);
        assert_string_equal(reason, "this type needs swq_slots=4, the state does not name swq_slots");
        free(reason);
        assert_int_equal(siov_migration_version_compare("a=1", "a=1 a=1", &reason), -EINVAL);
        assert_null(reason);
        assert_int_equal(siov_migration_version_compare("", "a=1", &reason), -EINVAL);
        assert_int_equal(siov_migration_version_compare("a=1", "a=1", NULL), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_migration_version),
                cmocka_unit_test(test_uuid),
                cmocka_unit_test(test_name),
                cmocka_unit_test(test_pci_address),
                cmocka_unit_test(test_parse_u32),
                cmocka_unit_test_setup_teardown(test_read_attr, tmpdir_setup, tmpdir_teardown),
                cmocka_unit_test_setup_teardown(test_ctx, tmpdir_setup, tmpdir_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
