/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/basic: allocation, strv, the log contract and the name checks that
 * libsiov, siovd and siovctl share. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "siov-macro.h"
#include "utf8.h"
#include "valid.h"

static void test_greedy_realloc(void **state) {
        _cleanup_free_ int *a = NULL;
        size_t allocated = 0;

        for (size_t i = 0; i < 1000; i++) {
                assert_true(GREEDY_REALLOC(a, allocated, i + 1));
                a[i] = (int) i;
        }
        assert_true(allocated >= 1000 && allocated < 2048);
        for (size_t i = 0; i < 1000; i++)
                assert_int_equal(a[i], (int) i);
        /* Already large enough: nothing moves. */
        int *before = a;
        assert_true(GREEDY_REALLOC(a, allocated, 10));
        assert_ptr_equal(a, before);
        /* Overflow is refused, and the array is kept. */
        assert_false(GREEDY_REALLOC(a, allocated, SIZE_MAX / 2));
        assert_ptr_equal(a, before);
}

static void test_strv(void **state) {
        const char *names[] = { "siov10", "b", "a", "b" };
        char *l[] = { (char *) "x", (char *) "y", NULL };
        char *m[] = { (char *) "x", NULL };
        char *empty[] = { NULL };
        _cleanup_free_ char **packed = NULL;

        strv_sort(names, ELEMENTSOF(names));
        assert_string_equal(names[0], "a");
        assert_string_equal(names[1], "b");
        assert_string_equal(names[3], "siov10");
        /* qsort(NULL, 0) is undefined; these must be no-ops. */
        strv_sort(NULL, 0);
        qsort_safe(NULL, 0, sizeof(int), strcmp_ptr);

        assert_int_equal(strv_length(l), 2);
        assert_int_equal(strv_length(NULL), 0);
        assert_true(strv_equal(l, l));
        assert_false(strv_equal(l, m));
        assert_false(strv_equal(m, l));
        assert_true(strv_equal(NULL, empty));
        assert_true(STR_IN_SET("y", "x", "y"));
        assert_false(STR_IN_SET("z", "x", "y"));
        assert_false(STR_IN_SET(NULL, "x"));

        assert_int_equal(strv_pack((char **) names, ELEMENTSOF(names), &packed), 0);
        assert_int_equal(strv_length(packed), 3);
        assert_string_equal(packed[0], "a");
        assert_string_equal(packed[1], "b");
        assert_string_equal(packed[2], "siov10");
        packed = mfree(packed);
        assert_int_equal(strv_pack(NULL, 0, &packed), 0);
        assert_null(packed);
}

/* Runs f with stderr going to a file; returns what it printed. */
static char *capture_stderr(int (*f)(void), int *ret) {
        FILE *tmp = tmpfile();
        char *buf = calloc(1, 8192);
        int saved = dup(STDERR_FILENO);

        assert_non_null(tmp);
        assert_true(saved >= 0);
        fflush(stderr);
        assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
        *ret = f();
        fflush(stderr);
        assert_true(dup2(saved, STDERR_FILENO) >= 0);
        close(saved);
        rewind(tmp);
        (void) !fread(buf, 1, 8191, tmp);
        fclose(tmp);
        return buf;
}

static int log_negative(void) {
        return log_error_errno(-ENOENT, "cannot open %s: %m", "x");
}

static int log_positive(void) {
        errno = EBUSY;  /* %m must not pick this up */
        return log_error_errno(EACCES, "no: %m");
}

static int log_filtered(void) {
        return log_debug_errno(EIO, "not shown");
}

static int log_long(void) {
        char s[5000];

        memset(s, 'x', sizeof(s) - 1);
        s[sizeof(s) - 1] = 0;
        log_error("%s", s);
        return 0;
}

static void test_log_contract(void **state) {
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL;
        int r;

        log_setup("siovctl", LOG_TARGET_CONSOLE);
        a = capture_stderr(log_negative, &r);
        assert_int_equal(r, -ENOENT);
        assert_string_equal(a, "siovctl: cannot open x: No such file or directory\n");
        b = capture_stderr(log_positive, &r);
        assert_int_equal(r, -EACCES);
        assert_string_equal(b, "siovctl: no: Permission denied\n");
        c = capture_stderr(log_filtered, &r);
        assert_int_equal(r, -EIO);
        assert_string_equal(c, "");
        /* Long lines are not cut. */
        d = capture_stderr(log_long, &r);
        assert_int_equal(strlen(d), strlen("siovctl: ") + 4999 + 1);
}

static void test_vm_name(void **state) {
        char name[VM_NAME_MAX + 2];

        assert_true(vm_name_is_valid("vm1"));
        assert_true(vm_name_is_valid("vm-é 'x' <y>"));
        assert_false(vm_name_is_valid(NULL));
        assert_false(vm_name_is_valid(""));
        /* '/' ends up in libvirt's <name>.xml path. */
        assert_false(vm_name_is_valid("a/b"));
        assert_false(vm_name_is_valid("/"));
        assert_false(vm_name_is_valid("bad\x01"));
        assert_false(vm_name_is_valid("vm\x7f"));
        assert_false(vm_name_is_valid("vm\xc2\x85"));      /* C1 */
        assert_false(vm_name_is_valid("vm\xc3"));          /* truncated */
        assert_false(vm_name_is_valid("vm\xc0\xaf"));      /* overlong '/' */
        memset(name, 'a', VM_NAME_MAX);
        name[VM_NAME_MAX] = 0;
        assert_true(vm_name_is_valid(name));
        name[VM_NAME_MAX] = 'a';
        name[VM_NAME_MAX + 1] = 0;
        assert_false(vm_name_is_valid(name));
        assert_non_null(strstr(VM_NAME_INVALID_MESSAGE, "'/'"));
}

static void test_utf8(void **state) {
        char s[] = "ok\xff\xc3\xa9!";

        assert_true(siov_utf8_is_valid("é", strlen("é")));
        assert_false(siov_utf8_is_valid("\xed\xa0\x80", 3));      /* surrogate */
        assert_int_equal(siov_utf8_valid_prefix(s, strlen(s)), 2);
        siov_utf8_sanitize(s);
        assert_string_equal(s, "ok?\xc3\xa9!");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_greedy_realloc),
                cmocka_unit_test(test_strv),
                cmocka_unit_test(test_log_contract),
                cmocka_unit_test(test_vm_name),
                cmocka_unit_test(test_utf8),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
