/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Persistent definitions and the mdevctl import: strict parsing (every
 * malformed input refused with a reason), round trips, atomic saves under
 * real failures (RLIMIT_FSIZE, a directory in the way, SIGKILL at each
 * step) and the loader's handling of corrupt and foreign files.
 *
 * lib/definition.c is compiled into this test (see tests/unit/local.mk) so
 * that the save steps can be interrupted through its hidden fault hook.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake-sysfs.h"
#include "libsiov.h"
#include "siov-private.h"

#define U1 "3b4a8c32-1d2e-4f5a-9b6c-7d8e9f0a1b2c"
#define U2 "7f000000-0000-4000-8000-000000000002"
#define U3 "00000000-0000-4000-8000-0000000000a3"

struct fixture {
        char *dir;              /* a fresh folder per test */
};

static int setup(void **state) {
        struct fixture *x = calloc(1, sizeof(*x));
        char tmpl[] = "/tmp/test-definition.XXXXXX";

        assert_non_null(x);
        assert_non_null(mkdtemp(tmpl));
        x->dir = strdup(tmpl);
        assert_non_null(x->dir);
        *state = x;
        return 0;
}

static int teardown(void **state) {
        struct fixture *x = *state;

        siov_definition_save_fault = NULL;
        assert_int_equal(fake_rm_rf(x->dir), 0);
        free(x->dir);
        free(x);
        return 0;
}

static char *path_in(const struct fixture *x, const char *name) {
        char *p;

        assert_true(asprintf(&p, "%s/%s", x->dir, name) > 0);
        return p;
}

static void write_file(const struct fixture *x, const char *name, const char *data, size_t len) {
        char *p = path_in(x, name);
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, data, len), (ssize_t) len);
        close(fd);
        free(p);
}

static void write_str(const struct fixture *x, const char *name, const char *data) {
        write_file(x, name, data, strlen(data));
}

/* mkdir -p x->dir/rel */
static void mkdirs(const struct fixture *x, const char *rel) {
        char *p = path_in(x, rel);

        for (char *s = p + strlen(x->dir) + 1; *s; s++)
                if (*s == '/') {
                        *s = '\0';
                        assert_true(mkdir(p, 0755) >= 0 || errno == EEXIST);
                        *s = '/';
                }
        assert_true(mkdir(p, 0755) >= 0 || errno == EEXIST);
        free(p);
}

static char *read_file(const struct fixture *x, const char *name) {
        char *p = path_in(x, name), *s = NULL;
        FILE *f = fopen(p, "re");
        size_t n = 0;

        free(p);
        if (!f)
                return NULL;
        assert_true(getdelim(&s, &n, '\0', f) >= 0 || feof(f));
        fclose(f);
        return s ?: strdup("");
}

static bool exists(const struct fixture *x, const char *name) {
        char *p = path_in(x, name);
        struct stat st;
        bool r = lstat(p, &st) >= 0;

        free(p);
        return r;
}

static size_t count_hidden(const struct fixture *x) {
        DIR *d = opendir(x->dir);
        struct dirent *de;
        size_t n = 0;

        assert_non_null(d);
        while ((de = readdir(d)))
                if (de->d_name[0] == '.' && strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        n++;
        closedir(d);
        return n;
}

/* Parses text, which must be refused with -expected_errno and a message
 * containing want. */
static void refused(const char *text, size_t len, int expected, const char *want) {
        struct siov_definition *d = (struct siov_definition *) 0x1;
        char *msg = NULL;
        int r;

        r = siov_definition_parse(text, len, &d, &msg);
        if (r != expected || !msg || !strstr(msg, want)) {
                print_error("input: %.*s\n  r=%d (want %d) msg=%s (want '%s')\n",
                            (int) (len > 200 ? 200 : len), text, r, expected, msg ?: "(null)", want);
                fail();
        }
        /* the message is always valid UTF-8 (it goes to D-Bus) */
        assert_true(siov_utf8_is_valid(msg, strlen(msg)));
        assert_ptr_equal(d, (struct siov_definition *) 0x1);   /* untouched on failure */
        free(msg);
}

#define REFUSED(text, want) refused(text, sizeof(text) - 1, -EINVAL, want)

static struct siov_definition *parse_ok(const char *text) {
        struct siov_definition *d = NULL;
        char *msg = NULL;
        int r;

        r = siov_definition_parse(text, strlen(text), &d, &msg);
        if (r < 0) {
                print_error("unexpected refusal: %s\n", msg ?: strerror(-r));
                fail();
        }
        assert_null(msg);
        return d;
}

static struct siov_definition *sample(void) {
        struct siov_definition *d = NULL;

        assert_int_equal(siov_definition_new(&d, "3B4A8C32-1D2E-4F5A-9B6C-7D8E9F0A1B2C", "siov0", "idxd-1dwq"), 0);
        siov_definition_set_autostart(d, true);
        assert_int_equal(siov_definition_set_vm(d, "vm1"), 0);
        assert_int_equal(siov_definition_add_attr(d, "assign_adapter", "5"), 0);
        assert_int_equal(siov_definition_add_attr(d, "assign_domain", "0xab"), 0);
        assert_int_equal(siov_definition_add_attr(d, "assign_adapter", "6"), 0);       /* repeats are fine */
        return d;
}

/* ---- the object and its JSON ------------------------------------------ */

static void test_round_trip(void **state) {
        static const char expected[] =
                "{\n"
                "  \"uuid\": \"3b4a8c32-1d2e-4f5a-9b6c-7d8e9f0a1b2c\",\n"
                "  \"parent\": \"siov0\",\n"
                "  \"type\": \"idxd-1dwq\",\n"
                "  \"autostart\": true,\n"
                "  \"vm\": \"vm1\",\n"
                "  \"attrs\": [\n"
                "    {\n"
                "      \"assign_adapter\": \"5\"\n"
                "    },\n"
                "    {\n"
                "      \"assign_domain\": \"0xab\"\n"
                "    },\n"
                "    {\n"
                "      \"assign_adapter\": \"6\"\n"
                "    }\n"
                "  ]\n"
                "}\n";
        struct siov_definition *d = sample(), *p, *c = NULL;
        char *json = NULL, *again = NULL;

        (void) state;
        assert_string_equal(siov_definition_get_uuid(d), U1);          /* normalized */
        assert_int_equal(siov_definition_get_n_attrs(d), 3);
        assert_string_equal(siov_definition_get_attr_name(d, 2), "assign_adapter");
        assert_string_equal(siov_definition_get_attr_value(d, 2), "6");
        assert_null(siov_definition_get_attr_name(d, 3));

        assert_int_equal(siov_definition_to_json(d, &json), 0);
        assert_string_equal(json, expected);
        p = parse_ok(json);
        assert_true(siov_definition_equal(d, p));
        assert_int_equal(siov_definition_to_json(p, &again), 0);
        assert_string_equal(json, again);                               /* stable bytes */

        /* copy: equal, and independent */
        assert_int_equal(siov_definition_copy(d, &c), 0);
        assert_true(siov_definition_equal(d, c));
        siov_definition_clear_attrs(c);
        assert_int_equal(siov_definition_get_n_attrs(c), 0);
        assert_int_equal(siov_definition_get_n_attrs(d), 3);
        assert_false(siov_definition_equal(d, c));

        /* each field counts for equality */
        siov_definition_unref(c);
        assert_int_equal(siov_definition_copy(d, &c), 0);
        siov_definition_set_autostart(c, false);
        assert_false(siov_definition_equal(d, c));
        siov_definition_set_autostart(c, true);
        assert_int_equal(siov_definition_set_vm(c, NULL), 0);
        assert_string_equal(siov_definition_get_vm(c), "");
        assert_false(siov_definition_equal(d, c));
        assert_int_equal(siov_definition_set_vm(c, "vm1"), 0);
        assert_true(siov_definition_equal(d, c));

        /* owner: written, read back, counted for equality, kept by copy */
        assert_string_equal(siov_definition_get_owner(c), "");
        assert_int_equal(siov_definition_set_owner(c, "siov-device-plugin"), 0);
        assert_false(siov_definition_equal(d, c));
        free(json);
        json = NULL;
        assert_int_equal(siov_definition_to_json(c, &json), 0);
        assert_non_null(strstr(json, "\"owner\": \"siov-device-plugin\""));
        siov_definition_unref(p);
        p = parse_ok(json);
        assert_string_equal(siov_definition_get_owner(p), "siov-device-plugin");
        assert_true(siov_definition_equal(c, p));
        assert_int_equal(siov_definition_set_owner(c, "a/b"), -EINVAL);
        assert_string_equal(siov_definition_get_owner(c), "siov-device-plugin");     /* unchanged */
        assert_int_equal(siov_definition_set_owner(c, NULL), 0);
        assert_true(siov_definition_equal(d, c));

        /* minimal: no vm key, empty attrs, autostart false */
        siov_definition_unref(c);
        c = parse_ok("{\"uuid\":\"" U2 "\",\"parent\":\"0000:3b:00.0\",\"type\":\"vf\"}");
        assert_false(siov_definition_get_autostart(c));
        assert_string_equal(siov_definition_get_vm(c), "");
        assert_int_equal(siov_definition_get_n_attrs(c), 0);
        free(json);
        assert_int_equal(siov_definition_to_json(c, &json), 0);
        assert_null(strstr(json, "\"vm\""));
        assert_non_null(strstr(json, "\"attrs\": ["));

        free(json);
        free(again);
        siov_definition_unref(c);
        siov_definition_unref(p);
        siov_definition_unref(d);
}

static void test_unknown_keys_kept(void **state) {
        static const char text[] =
                "{\"zeta\": 1, \"uuid\": \"" U1 "\", \"future\": {\"x\": [1, 2.50, \"s\"], \"y\": null},"
                " \"parent\": \"siov0\", \"type\": \"idxd-1swq\", \"alpha\": \"caf\xc3\xa9\", \"autostart\": false}";
        struct siov_definition *d, *again, *c = NULL;
        char *json = NULL;
        const char *z, *f, *a;

        (void) state;
        d = parse_ok(text);
        assert_int_equal(siov_definition_to_json(d, &json), 0);
        /* after the known keys, in file order */
        z = strstr(json, "\"zeta\": 1");
        f = strstr(json, "\"future\"");
        a = strstr(json, "\"alpha\": \"caf\xc3\xa9\"");
        assert_non_null(z);
        assert_non_null(f);
        assert_non_null(a);
        assert_true(strstr(json, "\"attrs\"") < z);
        assert_true(z < f && f < a);
        assert_non_null(strstr(json, "2.50"));          /* the number as written */
        free(json);
        siov_definition_unref(d);
        d = parse_ok("{\"uuid\":\"" U1 "\",\"parent\":\"p\",\"type\":\"t\",\"a\":18446744073709551615,"
                     "\"b\":-9223372036854775808,\"c\":1e400,\"d\":-0.0,\"e\":1.0E2}");
        assert_int_equal(siov_definition_to_json(d, &json), 0);
        assert_non_null(strstr(json, "\"a\": 18446744073709551615"));
        assert_non_null(strstr(json, "\"b\": -9223372036854775808"));
        assert_non_null(strstr(json, "\"c\": 1e400"));
        assert_non_null(strstr(json, "\"d\": -0.0"));
        assert_non_null(strstr(json, "\"e\": 1.0E2"));
        free(json);
        siov_definition_unref(d);
        d = parse_ok(text);
        assert_int_equal(siov_definition_to_json(d, &json), 0);

        again = parse_ok(json);
        assert_true(siov_definition_equal(d, again));
        assert_int_equal(siov_definition_copy(again, &c), 0);
        assert_true(siov_definition_equal(d, c));
        free(json);
        assert_int_equal(siov_definition_to_json(c, &json), 0);
        assert_non_null(strstr(json, "\"future\""));

        siov_definition_unref(c);
        siov_definition_unref(again);
        siov_definition_unref(d);
        free(json);

        /* an unknown key makes a difference for equality */
        d = parse_ok("{\"uuid\":\"" U1 "\",\"parent\":\"p\",\"type\":\"t\",\"x\":1}");
        again = parse_ok("{\"uuid\":\"" U1 "\",\"parent\":\"p\",\"type\":\"t\",\"x\":2}");
        c = parse_ok("{\"uuid\":\"" U1 "\",\"parent\":\"p\",\"type\":\"t\"}");
        assert_false(siov_definition_equal(d, again));
        assert_false(siov_definition_equal(d, c));
        siov_definition_unref(c);
        siov_definition_unref(again);
        siov_definition_unref(d);
}

#define HEAD "\"uuid\": \"" U1 "\", \"parent\": \"siov0\", \"type\": \"idxd-1dwq\""

static void test_malformed(void **state) {
        (void) state;

        /* not JSON, or not the JSON we read */
        REFUSED("", "empty document");
        REFUSED("   \n", "empty document");
        REFUSED("garbage", "line 1, column 1: the document is not a JSON object");
        REFUSED("[1, 2]", "not a JSON object");
        REFUSED("{" HEAD, "unexpected end of input");
        REFUSED("{" HEAD "} {}", "unexpected data after the JSON object");
        REFUSED("{" HEAD ",}", "expected a key");
        REFUSED("{'uuid': 1}", "expected a key");
        REFUSED("{" HEAD " /* comment */}", "expected ',' or '}'");
        REFUSED("{" HEAD ", \"x\": NaN}", "unexpected character 'N'");
        REFUSED("{" HEAD ", \"x\": 01}", "expected ',' or '}'");
        REFUSED("{" HEAD ", \"x\": 1.}", "bad number");
        REFUSED("{" HEAD ", \"x\": [1,]}", "unexpected character ']'");
        REFUSED("{" HEAD ", \"x\": [1, 2", "unexpected end of input in an array");
        /* numbers json-c could not write back unchanged */
        REFUSED("{" HEAD ", \"x\": 123456789012345678901234567890}", "integer 123456789012345678901234567890 cannot be kept");
        REFUSED("{" HEAD ", \"x\": 18446744073709551616}", "cannot be kept exactly");
        REFUSED("{" HEAD ", \"x\": -9223372036854775809}", "cannot be kept exactly");
        REFUSED("{" HEAD ", \"x\": -0}", "cannot be kept exactly");
        REFUSED("{" HEAD ", \"x\": \"a\\qb\"}", "bad escape");
        REFUSED("{" HEAD ", \"x\": \"tab\there\"}", "control character 0x09");
        REFUSED("{\n  \"uuid\": \"" U1 "\",\n  \"parent\" \"siov0\"\n}", "line 3, column 12: expected ':'");

        /* missing keys */
        REFUSED("{\"parent\": \"siov0\", \"type\": \"t\"}", "missing key 'uuid'");
        REFUSED("{\"uuid\": \"" U1 "\", \"type\": \"t\"}", "missing key 'parent'");
        REFUSED("{\"uuid\": \"" U1 "\", \"parent\": \"p\"}", "missing key 'type'");

        /* wrong types */
        REFUSED("{\"uuid\": 5, \"parent\": \"p\", \"type\": \"t\"}", "uuid: expected a string, got a number");
        REFUSED("{\"uuid\": \"" U1 "\", \"parent\": [\"p\"], \"type\": \"t\"}", "parent: expected a string, got an array");
        REFUSED("{\"uuid\": \"" U1 "\", \"parent\": \"p\", \"type\": null}", "type: expected a string, got null");
        REFUSED("{" HEAD ", \"autostart\": \"yes\"}", "autostart: expected true or false, got a string");
        REFUSED("{" HEAD ", \"autostart\": 1}", "autostart: expected true or false, got a number");
        REFUSED("{" HEAD ", \"vm\": 5}", "vm: expected a string, got a number");
        REFUSED("{" HEAD ", \"vm\": null}", "vm: expected a string, got null");
        REFUSED("{" HEAD ", \"owner\": 5}", "owner: expected a string, got a number");
        REFUSED("{" HEAD ", \"owner\": \"a/b\"}", "owner: not a valid name");
        REFUSED("{" HEAD ", \"attrs\": {\"a\": \"b\"}}", "attrs: expected an array, got an object");
        REFUSED("{" HEAD ", \"attrs\": [\"a\"]}", "attrs[0]: expected an object with one");
        REFUSED("{" HEAD ", \"attrs\": [{\"a\": \"1\"}, {\"a\": \"1\", \"b\": \"2\"}]}", "attrs[1]: expected an object with one");
        REFUSED("{" HEAD ", \"attrs\": [{}]}", "attrs[0]: expected an object with one");
        REFUSED("{" HEAD ", \"attrs\": [{\"a\": 5}]}", "attrs[0]: value of 'a' is a number");
        REFUSED("{" HEAD ", \"attrs\": [{\"a\": true}]}", "attrs[0]: value of 'a' is a boolean");

        /* bad UUIDs */
        REFUSED("{\"uuid\": \"1234\", \"parent\": \"p\", \"type\": \"t\"}", "uuid: not a UUID: '1234'");
        REFUSED("{\"uuid\": \"" U1 " \", \"parent\": \"p\", \"type\": \"t\"}", "uuid: not a UUID");
        REFUSED("{\"uuid\": \"3b4a8c32-1d2e-4f5a-9b6c-7d8e9f0a1b2g\", \"parent\": \"p\", \"type\": \"t\"}",
                "uuid: not a UUID");
        REFUSED("{\"uuid\": \"\", \"parent\": \"p\", \"type\": \"t\"}", "uuid: not a UUID: ''");

        /* names that would walk out of a folder, or are no names */
        REFUSED("{\"uuid\": \"" U1 "\", \"parent\": \"../x\", \"type\": \"t\"}", "parent: not a valid name");
        REFUSED("{\"uuid\": \"" U1 "\", \"parent\": \"..\", \"type\": \"t\"}", "parent: not a valid name");
        REFUSED("{\"uuid\": \"" U1 "\", \"parent\": \".\", \"type\": \"t\"}", "parent: not a valid name");
        REFUSED("{\"uuid\": \"" U1 "\", \"parent\": \"\", \"type\": \"t\"}", "parent: not a valid name");
        REFUSED("{\"uuid\": \"" U1 "\", \"parent\": \"p\", \"type\": \"a/b\"}", "type: not a valid name");
        REFUSED("{\"uuid\": \"" U1 "\", \"parent\": \"p\", \"type\": \"/etc/passwd\"}", "type: not a valid name");
        REFUSED("{\"uuid\": \"" U1 "\", \"parent\": \"p\\n\", \"type\": \"t\"}", "parent: not a valid name");
        REFUSED("{\"uuid\": \"" U1 "\", \"parent\": \"caf\xc3\xa9\", \"type\": \"t\"}", "parent: not a valid name");
        REFUSED("{" HEAD ", \"attrs\": [{\"../remove\": \"1\"}]}", "attrs[0]: '../remove' is not a valid attribute name");
        REFUSED("{" HEAD ", \"attrs\": [{\"remove\": \"1\"}]}", "attrs[0]: 'remove' is not a valid attribute name");
        REFUSED("{" HEAD ", \"attrs\": [{\"uevent\": \"add\"}]}", "'uevent' is not a valid attribute name");
        REFUSED("{" HEAD ", \"attrs\": [{\"\": \"1\"}]}", "attrs[0]: '' is not a valid attribute name");
        REFUSED("{" HEAD ", \"vm\": \"a/b\"}", "vm: not a valid domain name");
        REFUSED("{" HEAD ", \"vm\": \"\"}", "vm: not a valid domain name");
        REFUSED("{" HEAD ", \"vm\": \"a\\u0001b\"}", "vm: not a valid domain name");
        REFUSED("{" HEAD ", \"vm\": \"a\\u007fb\"}", "vm: not a valid domain name");
        REFUSED("{" HEAD ", \"vm\": \"a\\u0085b\"}", "vm: not a valid domain name");   /* C1 NEL */

        /* duplicate keys, also spelled differently, also deep down */
        REFUSED("{" HEAD ", \"uuid\": \"" U2 "\"}", "duplicate key 'uuid'");
        REFUSED("{" HEAD ", \"\\u0075uid\": \"" U2 "\"}", "duplicate key 'uuid'");
        REFUSED("{" HEAD ", \"autostart\": true, \"autostart\": false}", "duplicate key 'autostart'");
        REFUSED("{" HEAD ", \"x\": {\"y\": [{\"z\": 1, \"z\": 2}]}}", "duplicate key 'z'");
        REFUSED("{" HEAD ", \"attrs\": [{\"a\": \"1\", \"a\": \"2\"}]}", "duplicate key 'a'");

        /* not UTF-8, NUL, surrogates */
        REFUSED("{" HEAD ", \"vm\": \"\xff\"}", "not valid UTF-8 (byte 0xff)");
        REFUSED("{" HEAD ", \"vm\": \"\xc0\xaf\"}", "not valid UTF-8");                /* overlong '/' */
        REFUSED("{" HEAD ", \"vm\": \"\xed\xa0\x80\"}", "not valid UTF-8");            /* UTF-8 surrogate */
        REFUSED("{" HEAD ", \"vm\": \"\xf4\x90\x80\x80\"}", "not valid UTF-8");        /* past U+10FFFF */
        REFUSED("{" HEAD ", \"vm\": \"abc\xe2\x82\"}", "not valid UTF-8");             /* truncated */
        REFUSED("{" HEAD ", \"vm\": \"\\ud800\"}", "lone high surrogate");
        REFUSED("{" HEAD ", \"vm\": \"\\udc00x\"}", "lone low surrogate");
        REFUSED("{" HEAD ", \"vm\": \"\\ud800\\u0041\"}", "lone high surrogate");
        REFUSED("{" HEAD ", \"vm\": \"a\\u0000b\"}", "\\u0000 (NUL)");
        refused("{" HEAD ", \"vm\": \"a\0b\"}", sizeof("{" HEAD ", \"vm\": \"a\0b\"}") - 1, -EINVAL,
                "control character 0x00");
        refused("{" HEAD "}\0", sizeof("{" HEAD "}\0") - 1, -EINVAL, "unexpected data after");
}

static void test_limits(void **state) {
        char *text, *big, name[300], *json = NULL;
        struct siov_definition *d;
        size_t n;

        (void) state;

        /* over-long names and values */
        memset(name, 'a', 256);
        name[256] = '\0';
        assert_true(asprintf(&text, "{\"uuid\": \"" U1 "\", \"parent\": \"%s\", \"type\": \"t\"}", name) > 0);
        refused(text, strlen(text), -EINVAL, "parent: not a valid name");
        free(text);
        assert_true(asprintf(&text, "{" HEAD ", \"vm\": \"%s\"}", name) > 0);
        refused(text, strlen(text), -EINVAL, "vm: not a valid domain name");
        free(text);
        name[255] = '\0';       /* 255 is the limit, and fine */
        assert_true(asprintf(&text, "{\"uuid\": \"" U1 "\", \"parent\": \"%s\", \"type\": \"t\", \"vm\": \"%s\"}",
                             name, name) > 0);
        d = parse_ok(text);
        siov_definition_unref(d);
        free(text);

        big = malloc(SIOV_ATTR_VALUE_MAX + 2);
        assert_non_null(big);
        memset(big, 'v', SIOV_ATTR_VALUE_MAX + 1);
        big[SIOV_ATTR_VALUE_MAX + 1] = '\0';
        assert_true(asprintf(&text, "{" HEAD ", \"attrs\": [{\"a\": \"%s\"}]}", big) > 0);
        refused(text, strlen(text), -EINVAL, "attrs[0]: value of a is longer than 4096 bytes");
        free(text);
        big[SIOV_ATTR_VALUE_MAX] = '\0';
        assert_true(asprintf(&text, "{" HEAD ", \"attrs\": [{\"a\": \"%s\"}]}", big) > 0);
        d = parse_ok(text);
        assert_int_equal(strlen(siov_definition_get_attr_value(d, 0)), SIOV_ATTR_VALUE_MAX);
        siov_definition_unref(d);
        free(text);
        free(big);

        /* too many attributes */
        {
                char *p;
                size_t size = 64 * (SIOV_ATTRS_MAX + 1) + 256;

                text = malloc(size);
                assert_non_null(text);
                p = text + sprintf(text, "{" HEAD ", \"attrs\": [");
                for (int i = 0; i <= SIOV_ATTRS_MAX; i++)
                        p += sprintf(p, "%s{\"a%d\": \"%d\"}", i ? "," : "", i, i);
                strcpy(p, "]}");
                refused(text, strlen(text), -EINVAL, "attrs: 65 entries, at most 64 allowed");
                free(text);
        }

        /* huge file: refused by size before it is even looked at */
        n = SIOV_DEFINITION_MAX_SIZE + 1;
        text = malloc(n + 1);
        assert_non_null(text);
        memset(text, ' ', n);
        memcpy(text, "{" HEAD "}", strlen("{" HEAD "}"));
        text[n] = '\0';
        refused(text, n, -EFBIG, "65537 bytes, more than the 65536");
        /* one byte less is fine (white space) */
        d = NULL;
        assert_int_equal(siov_definition_parse(text, n - 1, &d, NULL), 0);
        siov_definition_unref(d);
        free(text);

        /* deep nesting: the limit, just past it, and far past it (no stack
         * overflow, no time spent) */
        for (int depth = 15; depth <= 100000; depth = depth == 15 ? 16 : depth == 16 ? 1000 : 100000 + 1) {
                char *p;

                text = malloc((size_t) depth * 2 + 256);
                assert_non_null(text);
                p = text + sprintf(text, "{" HEAD ", \"x\": ");
                for (int i = 0; i < depth; i++)
                        *p++ = '[';
                for (int i = 0; i < depth; i++)
                        *p++ = ']';
                strcpy(p, "}");
                if (depth == 15) {
                        /* 15 arrays inside the top object: 16 levels */
                        d = parse_ok(text);
                        assert_int_equal(siov_definition_to_json(d, &json), 0);
                        free(json);
                        siov_definition_unref(d);
                } else
                        refused(text, strlen(text), -EINVAL, "nested deeper than 16 levels");
                free(text);
        }

        /* the setters check what the parser checks */
        d = NULL;
        assert_int_equal(siov_definition_new(&d, "nope", "p", "t"), -EINVAL);
        assert_int_equal(siov_definition_new(&d, U1, "../p", "t"), -EINVAL);
        assert_int_equal(siov_definition_new(&d, U1, "p", ""), -EINVAL);
        assert_null(d);
        assert_int_equal(siov_definition_new(&d, U1, "p", "t"), 0);
        assert_int_equal(siov_definition_add_attr(d, "a/b", "1"), -EINVAL);
        assert_int_equal(siov_definition_add_attr(d, "remove", "1"), -EINVAL);
        assert_int_equal(siov_definition_add_attr(d, "mdev_type", "1"), -EINVAL);
        assert_int_equal(siov_definition_add_attr(d, "a", NULL), -EINVAL);
        assert_int_equal(siov_definition_add_attr(d, "a", "\xff"), -EINVAL);
        assert_int_equal(siov_definition_set_vm(d, "a/b"), -EINVAL);
        assert_int_equal(siov_definition_set_vm(d, "ok\n"), -EINVAL);
        assert_int_equal(siov_definition_set_vm(d, "d\xc3\xa9j\xc3\xa0-vu"), 0);      /* UTF-8 is fine */
        assert_string_equal(siov_definition_get_vm(d), "d\xc3\xa9j\xc3\xa0-vu");
        assert_int_equal(siov_definition_set_vm(d, ""), 0);
        assert_string_equal(siov_definition_get_vm(d), "");
        for (int i = 0; i < SIOV_ATTRS_MAX; i++)
                assert_int_equal(siov_definition_add_attr(d, "a", "1"), 0);
        assert_int_equal(siov_definition_add_attr(d, "a", "1"), -E2BIG);
        siov_definition_unref(d);
}

/* ---- save ------------------------------------------------------------ */

static void test_save_load_delete(void **state) {
        struct fixture *x = *state;
        struct siov_definition *a = sample(), *b = NULL, *c = NULL, **l = NULL;
        char *dir, *json = NULL, *content, *msg = NULL;
        struct stat st;
        mode_t old_umask;
        size_t n = 99;

        assert_int_equal(siov_definition_new(&b, U2, "0000:3b:00.0", "vf"), 0);
        assert_int_equal(siov_definition_new(&c, U3, "siov1", "idxd-1swq"), 0);

        /* a folder that does not exist yet, two levels deep */
        dir = path_in(x, "etc/siov/devices");
        old_umask = umask(077);
        assert_int_equal(siov_definition_save(dir, c, &msg), 0);
        assert_null(msg);
        assert_int_equal(siov_definition_save(dir, a, NULL), 0);
        assert_int_equal(siov_definition_save(dir, b, NULL), 0);
        umask(old_umask);

        assert_int_equal(stat(dir, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        content = read_file(x, "etc/siov/devices/" U1 ".json");
        assert_non_null(content);
        assert_int_equal(siov_definition_to_json(a, &json), 0);
        assert_string_equal(content, json);
        free(content);
        {
                char *p = path_in(x, "etc/siov/devices/" U1 ".json");
                assert_int_equal(stat(p, &st), 0);
                assert_int_equal(st.st_mode & 07777, 0644);     /* whatever the umask */
                free(p);
        }

        /* loaded sorted by UUID, equal to what was saved */
        assert_int_equal(siov_definitions_load(dir, &l, &n, NULL, NULL), 0);
        assert_int_equal(n, 3);
        assert_string_equal(siov_definition_get_uuid(l[0]), U3);
        assert_string_equal(siov_definition_get_uuid(l[1]), U1);
        assert_string_equal(siov_definition_get_uuid(l[2]), U2);
        assert_true(siov_definition_equal(l[1], a));
        assert_true(siov_definition_equal(l[2], b));
        siov_definitions_free(l, n);

        /* overwrite */
        siov_definition_set_autostart(b, true);
        assert_int_equal(siov_definition_save(dir, b, NULL), 0);
        assert_int_equal(siov_definitions_load(dir, &l, &n, NULL, NULL), 0);
        assert_int_equal(n, 3);
        assert_true(siov_definition_get_autostart(l[2]));
        siov_definitions_free(l, n);

        /* delete */
        assert_int_equal(siov_definition_delete(dir, U1, &msg), 0);
        assert_null(msg);
        assert_false(exists(x, "etc/siov/devices/" U1 ".json"));
        assert_int_equal(siov_definition_delete(dir, U1, &msg), -ENOENT);
        assert_non_null(strstr(msg, "no definition " U1));
        free(msg);
        assert_int_equal(siov_definition_delete(dir, "../../etc/passwd", &msg), -EINVAL);
        assert_non_null(strstr(msg, "invalid UUID"));
        free(msg);
        /* upper case names the same file */
        assert_int_equal(siov_definition_delete(dir, "7F000000-0000-4000-8000-000000000002", NULL), 0);
        assert_int_equal(siov_definitions_load(dir, &l, &n, NULL, NULL), 0);
        assert_int_equal(n, 1);
        siov_definitions_free(l, n);
        assert_int_equal(count_hidden(x), 0);

        /* a missing folder is an empty one */
        free(dir);
        dir = path_in(x, "nothing/here");
        l = (struct siov_definition **) 0x1;
        assert_int_equal(siov_definitions_load(dir, &l, &n, NULL, NULL), 0);
        assert_int_equal(n, 0);
        assert_null(l);
        assert_int_equal(siov_definition_delete(dir, U1, NULL), -ENOENT);

        free(dir);
        free(json);
        siov_definition_unref(a);
        siov_definition_unref(b);
        siov_definition_unref(c);
}

struct report {
        char *paths[32];
        char *reasons[32];
        size_t n;
};

static void on_error(const char *path, const char *reason, void *userdata) {
        struct report *r = userdata;

        assert_true(r->n < 32);
        r->paths[r->n] = strdup(path);
        r->reasons[r->n] = strdup(reason);
        r->n++;
}

static void report_done(struct report *r) {
        for (size_t i = 0; i < r->n; i++) {
                free(r->paths[i]);
                free(r->reasons[i]);
        }
        r->n = 0;
}

/* The reason reported for file name (the last component of its path). */
static const char *reason_for(const struct report *r, const char *name) {
        for (size_t i = 0; i < r->n; i++) {
                const char *s = strrchr(r->paths[i], '/');
                if (s && strcmp(s + 1, name) == 0)
                        return r->reasons[i];
        }
        return NULL;
}

static void test_load_skips_bad_files(void **state) {
        struct fixture *x = *state;
        struct siov_definition *good = sample(), **l = NULL;
        struct report rep = {};
        char *json = NULL, *big, *p;
        size_t n = 0;

        assert_int_equal(siov_definition_save(x->dir, good, NULL), 0);
        assert_int_equal(siov_definition_to_json(good, &json), 0);

        write_str(x, "notes.txt", "hello\n");
        write_file(x, "3B4A8C32-1D2E-4F5A-9B6C-7D8E9F0A1B2C.json", json, strlen(json));
        write_str(x, U2 ".json", "{\"uuid\": \"" U2 "\", \"parent\": ");           /* truncated */
        write_file(x, U3 ".json", json, strlen(json));                                   /* names U1 */
        write_str(x, "00000000-0000-4000-8000-0000000000b1.json", "");               /* empty */
        write_str(x, "00000000-0000-4000-8000-0000000000b2.json",
                  "{\"uuid\": \"00000000-0000-4000-8000-0000000000b2\", \"parent\": \"../../x\", \"type\": \"t\"}");
        p = path_in(x, "00000000-0000-4000-8000-0000000000b3.json");
        assert_int_equal(mkdir(p, 0755), 0);
        free(p);
        p = path_in(x, "00000000-0000-4000-8000-0000000000b4.json");
        assert_int_equal(symlink(U1 ".json", p), 0);
        free(p);
        p = path_in(x, "00000000-0000-4000-8000-0000000000b5.json");
        assert_int_equal(mkfifo(p, 0644), 0);
        free(p);
        big = malloc(SIOV_DEFINITION_MAX_SIZE + 10);
        assert_non_null(big);
        memset(big, ' ', SIOV_DEFINITION_MAX_SIZE + 10);
        write_file(x, "00000000-0000-4000-8000-0000000000b6.json", big, SIOV_DEFINITION_MAX_SIZE + 10);
        free(big);
        write_str(x, "bad\xff" "name.json", "{}");
        write_str(x, ".hidden", "whatever");
        write_str(x, "." U1 ".json.12345abcdef", "{\"partial");                     /* a crashed save */

        assert_int_equal(siov_definitions_load(x->dir, &l, &n, on_error, &rep), 0);
        assert_int_equal(n, 1);
        assert_true(siov_definition_equal(l[0], good));
        siov_definitions_free(l, n);

        for (size_t i = 0; i < rep.n; i++)
                print_message("reported %s: %s\n", rep.paths[i], rep.reasons[i]);
        assert_int_equal(rep.n, 11);
        assert_non_null(strstr(reason_for(&rep, "notes.txt"), "not <uuid>.json"));
        assert_non_null(strstr(reason_for(&rep, "3B4A8C32-1D2E-4F5A-9B6C-7D8E9F0A1B2C.json"), "lower-case UUID"));
        assert_non_null(strstr(reason_for(&rep, U2 ".json"), "unexpected end of input"));
        assert_non_null(strstr(reason_for(&rep, U3 ".json"), "differs from its file name"));
        assert_non_null(strstr(reason_for(&rep, "00000000-0000-4000-8000-0000000000b1.json"), "empty document"));
        assert_non_null(strstr(reason_for(&rep, "00000000-0000-4000-8000-0000000000b2.json"), "parent: not a valid name"));
        assert_non_null(strstr(reason_for(&rep, "00000000-0000-4000-8000-0000000000b3.json"), "not a regular file"));
        assert_non_null(strstr(reason_for(&rep, "00000000-0000-4000-8000-0000000000b4.json"), "symbolic link"));
        assert_non_null(strstr(reason_for(&rep, "00000000-0000-4000-8000-0000000000b5.json"), "not a regular file"));
        assert_non_null(strstr(reason_for(&rep, "00000000-0000-4000-8000-0000000000b6.json"), "larger than 65536"));
        /* the undecodable name arrives as valid UTF-8 */
        assert_non_null(reason_for(&rep, "bad?name.json"));
        for (size_t i = 0; i < rep.n; i++) {
                assert_true(siov_utf8_is_valid(rep.paths[i], strlen(rep.paths[i])));
                assert_true(strncmp(rep.paths[i], x->dir, strlen(x->dir)) == 0);
        }
        report_done(&rep);

        /* nothing was deleted or renamed */
        assert_true(exists(x, "notes.txt"));
        assert_true(exists(x, U2 ".json"));
        assert_true(exists(x, U3 ".json"));
        assert_true(exists(x, "00000000-0000-4000-8000-0000000000b4.json"));
        assert_true(exists(x, "00000000-0000-4000-8000-0000000000b6.json"));
        assert_true(exists(x, "." U1 ".json.12345abcdef"));

        /* without a callback it still skips them */
        assert_int_equal(siov_definitions_load(x->dir, &l, &n, NULL, NULL), 0);
        assert_int_equal(n, 1);
        siov_definitions_free(l, n);

        free(json);
        siov_definition_unref(good);
}

/* A definition whose JSON is much bigger than sample()'s. */
static struct siov_definition *big_sample(void) {
        struct siov_definition *d = sample();
        char value[1000];

        memset(value, 'x', sizeof(value) - 1);
        value[sizeof(value) - 1] = '\0';
        for (int i = 0; i < 20; i++)
                assert_int_equal(siov_definition_add_attr(d, "blob", value), 0);
        return d;
}

static void test_save_write_failure(void **state) {
        struct fixture *x = *state;
        struct siov_definition *old = sample(), *new = big_sample(), **l = NULL;
        char *before, *after, *msg = NULL;
        struct rlimit saved, lim;
        size_t n = 0;

        assert_int_equal(siov_definition_save(x->dir, old, NULL), 0);
        before = read_file(x, U1 ".json");
        assert_non_null(before);

        /* A real write failure half-way through the temporary file: the
         * kernel refuses to grow any file past 4 KiB (EFBIG), as a full
         * disk would refuse with ENOSPC. */
        assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
        lim = saved;
        lim.rlim_cur = 4096;
        signal(SIGXFSZ, SIG_IGN);
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
        assert_int_equal(siov_definition_save(x->dir, new, &msg), -EFBIG);
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
        signal(SIGXFSZ, SIG_DFL);

        print_message("message: %s\n", msg);
        assert_non_null(strstr(msg, "writing "));
        assert_non_null(strstr(msg, "File too large"));
        assert_non_null(strstr(msg, U1 ".json is unchanged"));
        free(msg);

        after = read_file(x, U1 ".json");
        assert_string_equal(before, after);
        assert_int_equal(count_hidden(x), 0);           /* the partial temp file is gone */
        assert_int_equal(siov_definitions_load(x->dir, &l, &n, NULL, NULL), 0);
        assert_int_equal(n, 1);
        assert_true(siov_definition_equal(l[0], old));
        siov_definitions_free(l, n);

        /* rename fails: a folder sits where the file goes */
        {
                struct siov_definition *other = NULL;
                char *p = path_in(x, U2 ".json");

                assert_int_equal(mkdir(p, 0755), 0);
                assert_int_equal(siov_definition_new(&other, U2, "p", "t"), 0);
                assert_int_equal(siov_definition_save(x->dir, other, &msg), -EISDIR);
                assert_non_null(strstr(msg, "renaming"));
                assert_int_equal(count_hidden(x), 0);
                free(msg);
                free(p);
                siov_definition_unref(other);
        }

        /* the folder cannot be made: a file is in the way */
        {
                char *dir = path_in(x, U1 ".json/sub");

                assert_int_equal(siov_definition_save(dir, old, &msg), -ENOTDIR);
                assert_non_null(strstr(msg, "cannot create"));
                free(msg);
                free(dir);
        }

        free(before);
        free(after);
        siov_definition_unref(old);
        siov_definition_unref(new);
}

static const char *fault_step;
static int fault_mode;          /* 0: fail with EIO, 1: SIGKILL the process */

static int fault_hook(const char *step) {
        if (!fault_step || strcmp(step, fault_step) != 0)
                return 0;
        if (fault_mode == 1)
                raise(SIGKILL);
        return -EIO;
}

static void test_save_faults(void **state) {
        static const char * const steps[] = { "created", "written", "synced", "closed", "renamed" };
        struct fixture *x = *state;
        struct siov_definition *old = sample(), *new = big_sample(), **l = NULL;
        char *before, *newjson = NULL, *msg = NULL, *now;
        size_t n = 0;

        assert_int_equal(siov_definition_to_json(new, &newjson), 0);

        for (size_t i = 0; i < ELEMENTSOF(steps); i++) {
                /* an error at each step */
                assert_int_equal(siov_definition_save(x->dir, old, NULL), 0);
                before = read_file(x, U1 ".json");
                fault_step = steps[i];
                fault_mode = 0;
                siov_definition_save_fault = fault_hook;
                assert_int_equal(siov_definition_save(x->dir, new, &msg), -EIO);
                siov_definition_save_fault = NULL;
                print_message("error at %s: %s\n", steps[i], msg);
                now = read_file(x, U1 ".json");
                if (strcmp(steps[i], "renamed") == 0) {
                        /* the rename happened; only the folder sync "failed" */
                        assert_string_equal(now, newjson);
                        assert_non_null(strstr(msg, "was written but syncing"));
                } else {
                        assert_string_equal(now, before);
                        assert_non_null(strstr(msg, "is unchanged"));
                }
                assert_int_equal(count_hidden(x), 0);
                free(msg);
                free(now);

                /* a crash (SIGKILL) at each step: the old file or the new
                 * one, whole; the loader is not disturbed by the temp file a
                 * crash leaves behind */
                assert_int_equal(siov_definition_save(x->dir, old, NULL), 0);
                {
                        pid_t pid = fork();
                        int status;

                        assert_true(pid >= 0);
                        if (pid == 0) {
                                fault_step = steps[i];
                                fault_mode = 1;
                                siov_definition_save_fault = fault_hook;
                                (void) siov_definition_save(x->dir, new, NULL);
                                _exit(0);       /* not reached */
                        }
                        assert_int_equal(waitpid(pid, &status, 0), pid);
                        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
                }
                now = read_file(x, U1 ".json");
                assert_string_equal(now, strcmp(steps[i], "renamed") == 0 ? newjson : before);
                assert_int_equal(count_hidden(x), strcmp(steps[i], "renamed") == 0 ? 0 : 1);
                {
                        struct report rep = {};

                        assert_int_equal(siov_definitions_load(x->dir, &l, &n, on_error, &rep), 0);
                        assert_int_equal(rep.n, 0);
                        assert_int_equal(n, 1);
                        siov_definitions_free(l, n);
                }
                free(now);
                free(before);
                /* clean up the crash's leftover for the next round */
                {
                        DIR *d = opendir(x->dir);
                        struct dirent *de;

                        while ((de = readdir(d)))
                                if (de->d_name[0] == '.' && de->d_name[1] != '\0' && strcmp(de->d_name, ".."))
                                        assert_int_equal(unlinkat(dirfd(d), de->d_name, 0), 0);
                        closedir(d);
                }
        }

        free(newjson);
        siov_definition_unref(old);
        siov_definition_unref(new);
}

/* ---- mdevctl -------------------------------------------------------- */

/* Byte for byte what mdevctl 1.2.0 (Debian 12) writes: captured from
 * `mdevctl define` / `modify --addattr` in a private mount namespace. */
static const char mdevctl_gvt[] =
        "{\n  \"mdev_type\": \"i915-GVTg_V4_8\",\n  \"start\": \"auto\",\n  \"attrs\": []\n}";
static const char mdevctl_ap[] =
        "{\n  \"mdev_type\": \"vfio_ap-passthrough\",\n  \"start\": \"manual\",\n  \"attrs\": [\n"
        "    {\n      \"assign_adapter\": \"5\"\n    },\n    {\n      \"assign_domain\": \"0xab\"\n    }\n  ]\n}";

/* The checked store: a file is replaced or removed only while it holds what
 * siovd last loaded or wrote; what cannot be loaded back is never written. */
static void test_store_checked(void **state) {
        struct fixture *x = *state;
        struct siov_definition *a = sample(), *big = NULL, *l1 = NULL;
        siov_definition_stamp s1 = {}, s2 = {}, sl = {};
        char *msg = NULL, *content, value[SIOV_ATTR_VALUE_MAX + 1], name[16];
        int r;

        /* nothing there: saved; the stamp is what is on disk */
        assert_int_equal(siov_definition_store_save(x->dir, a, NULL, &s1, &msg), 0);
        assert_null(msg);
        assert_true(s1.size > 0);
        assert_int_equal(siov_definition_store_verify(x->dir, U1, &s1, NULL), 0);
        /* a second "new" definition of the same UUID: the file is there */
        assert_int_equal(siov_definition_store_save(x->dir, a, NULL, &s2, &msg), -EEXIST);
        assert_non_null(strstr(msg, "siovd did not write it"));
        free(msg);

        /* replaced while it holds the stamp's bytes */
        siov_definition_set_autostart(a, false);
        assert_int_equal(siov_definition_store_save(x->dir, a, &s1, &s2, NULL), 0);
        assert_false(s1.hash == s2.hash && s1.size == s2.size);
        /* the old stamp no longer matches: refused, file unchanged */
        content = read_file(x, U1 ".json");
        assert_int_equal(siov_definition_store_save(x->dir, a, &s1, NULL, &msg), -EEXIST);
        assert_non_null(strstr(msg, "changed on disk"));
        free(msg);
        assert_int_equal(siov_definition_store_delete(x->dir, U1, &s1, &msg), -EEXIST);
        free(msg);
        {
                char *now = read_file(x, U1 ".json");
                assert_string_equal(now, content);
                free(now);
        }
        free(content);

        /* edited by hand (same size): neither replaced nor removed */
        content = read_file(x, U1 ".json");
        content[strlen(content) - 3] ^= 1;
        write_str(x, U1 ".json", content);
        assert_int_equal(siov_definition_store_verify(x->dir, U1, &s2, NULL), -EEXIST);
        assert_int_equal(siov_definition_store_delete(x->dir, U1, &s2, NULL), -EEXIST);
        assert_int_equal(siov_definition_store_save(x->dir, a, &s2, NULL, NULL), -EEXIST);
        assert_true(exists(x, U1 ".json"));
        free(content);

        /* load_one gives the bytes' stamp: then it is siovd's to change */
        write_str(x, U1 ".json", "{ \"uuid\": \"" U1 "\", \"parent\": \"siov0\", \"type\": \"idxd-1dwq\" }\n");
        assert_int_equal(siov_definition_store_load_one(x->dir, U1, &l1, &sl, NULL), 1);
        assert_int_equal(siov_definition_store_delete(x->dir, U1, &sl, NULL), 0);
        assert_false(exists(x, U1 ".json"));
        siov_definition_unref(l1);
        /* removed by hand: -ENOENT, nothing re-created */
        assert_int_equal(siov_definition_store_save(x->dir, a, &sl, NULL, NULL), -ENOENT);
        assert_false(exists(x, U1 ".json"));
        assert_int_equal(siov_definition_store_load_one(x->dir, U1, &l1, &sl, NULL), 0);

        /* a skipped file: load_one says why; never replaced */
        write_str(x, U1 ".json", "{ \"uuid\": ");
        r = siov_definition_store_load_one(x->dir, U1, &l1, &sl, &msg);
        assert_true(r < 0);
        assert_non_null(strstr(msg, "unexpected end of input"));
        free(msg);
        assert_int_equal(siov_definition_store_save(x->dir, a, NULL, NULL, NULL), -EEXIST);

        /* what the loader would refuse is never written: 20 × 4,000 bytes */
        assert_int_equal(siov_definition_new(&big, U2, "siov0", "idxd-1dwq"), 0);
        memset(value, 'x', 4000);
        value[4000] = '\0';
        for (int i = 0; i < 20; i++) {
                snprintf(name, sizeof(name), "a%d", i);
                assert_int_equal(siov_definition_add_attr(big, name, value), 0);
        }
        assert_int_equal(siov_definition_check(big, NULL, &msg), -EFBIG);
        assert_non_null(strstr(msg, "65536"));
        free(msg);
        assert_int_equal(siov_definition_store_save(x->dir, big, NULL, NULL, NULL), -EFBIG);
        assert_int_equal(siov_definition_save(x->dir, big, NULL), -EFBIG);
        assert_false(exists(x, U2 ".json"));
        /* escapes count: 3 values of control characters, 24 KB each */
        siov_definition_clear_attrs(big);
        memset(value, 1, SIOV_ATTR_VALUE_MAX);
        value[SIOV_ATTR_VALUE_MAX] = '\0';
        for (int i = 0; i < 3; i++) {
                snprintf(name, sizeof(name), "c%d", i);
                assert_int_equal(siov_definition_add_attr(big, name, value), 0);
        }
        assert_int_equal(siov_definition_check(big, NULL, NULL), -EFBIG);
        /* just under the limit: written, and loads back equal */
        siov_definition_clear_attrs(big);
        memset(value, 'y', 4000);
        value[4000] = '\0';
        for (int i = 0; i < 16; i++) {
                snprintf(name, sizeof(name), "b%d", i);
                assert_int_equal(siov_definition_add_attr(big, name, value), 0);
        }
        assert_int_equal(siov_definition_check(big, NULL, NULL), 0);
        assert_int_equal(siov_definition_store_save(x->dir, big, NULL, &s1, NULL), 0);
        assert_int_equal(siov_definition_store_load_one(x->dir, U2, &l1, &sl, NULL), 1);
        assert_true(siov_definition_equal(l1, big));
        assert_true(sl.size == s1.size && sl.hash == s1.hash);
        siov_definition_unref(l1);

        siov_definition_unref(big);
        siov_definition_unref(a);
}

static void on_clean(const char *path, int r, void *userdata) {
        (*(int *) userdata)++;
        assert_int_equal(r, 0);
        assert_non_null(strstr(path, "/." U1 ".json."));
}

/* Start-up removes siovd's own stale temporary files and nothing else. */
static void test_store_clean(void **state) {
        struct fixture *x = *state;
        int seen = 0;
        char *p, *link;

        write_str(x, "." U1 ".json.0123456789a", "{ \"half");
        write_str(x, "." U1 ".json.fedcba98765", "");
        write_str(x, "." U1 ".json.swp", "editor");                  /* not ours */
        write_str(x, "." U1 ".json.0123456789A", "upper case");      /* not ours */
        write_str(x, ".3B4A8C32-1D2E-4F5A-9B6C-7D8E9F0A1B2C.json.0123456789a", "x");   /* not ours */
        write_str(x, U1 ".json.0123456789a", "no dot");               /* not ours */
        write_str(x, ".notes", "keep");
        p = path_in(x, "." U1 ".json.00000000000");
        link = path_in(x, "target");
        write_str(x, "target", "keep");
        assert_int_equal(symlink(link, p), 0);                        /* not a regular file */
        mkdirs(x, "." U1 ".json.11111111111");                         /* not a regular file */

        assert_int_equal(siov_definition_store_clean(x->dir, on_clean, &seen), 2);
        assert_int_equal(seen, 2);
        assert_false(exists(x, "." U1 ".json.0123456789a"));
        assert_false(exists(x, "." U1 ".json.fedcba98765"));
        assert_true(exists(x, "." U1 ".json.swp"));
        assert_true(exists(x, "." U1 ".json.0123456789A"));
        assert_true(exists(x, ".3B4A8C32-1D2E-4F5A-9B6C-7D8E9F0A1B2C.json.0123456789a"));
        assert_true(exists(x, U1 ".json.0123456789a"));
        assert_true(exists(x, ".notes"));
        assert_true(exists(x, "target"));
        assert_true(exists(x, "." U1 ".json.00000000000"));
        assert_true(exists(x, "." U1 ".json.11111111111"));
        assert_int_equal(siov_definition_store_clean(x->dir, NULL, NULL), 0);
        free(p);
        free(link);
}

/* An unusable folder is said, with the reason. */
static void test_store_check(void **state) {
        struct fixture *x = *state;
        char *msg = NULL, *p;

        assert_int_equal(siov_definition_store_check(x->dir, &msg), 0);
        assert_null(msg);
        p = path_in(x, "missing/devices");
        assert_int_equal(siov_definition_store_check(p, NULL), 0);   /* made by the first save */
        free(p);
        write_str(x, "file", "not a folder");
        p = path_in(x, "file");
        assert_int_equal(siov_definition_store_check(p, &msg), -ENOTDIR);
        assert_non_null(strstr(msg, "not a folder"));
        free(msg);
        free(p);
}

static void test_mdevctl_parse(void **state) {
        struct siov_definition *d = NULL;
        char *msg = NULL, *json = NULL;

        (void) state;
        assert_int_equal(siov_mdevctl_parse("0000:00:02.0", "83C32DF7-D52E-4EC1-9668-1F3C7E4DF107",
                                            mdevctl_gvt, strlen(mdevctl_gvt), &d, &msg), 0);
        assert_string_equal(siov_definition_get_uuid(d), "83c32df7-d52e-4ec1-9668-1f3c7e4df107");
        assert_string_equal(siov_definition_get_parent(d), "0000:00:02.0");
        assert_string_equal(siov_definition_get_type(d), "i915-GVTg_V4_8");
        assert_true(siov_definition_get_autostart(d));
        assert_int_equal(siov_definition_get_n_attrs(d), 0);
        siov_definition_unref(d);

        assert_int_equal(siov_mdevctl_parse("matrix", "783e6dbb-ea0e-411f-94e2-717eaad438bf",
                                            mdevctl_ap, strlen(mdevctl_ap), &d, NULL), 0);
        assert_false(siov_definition_get_autostart(d));
        assert_int_equal(siov_definition_get_n_attrs(d), 2);
        assert_string_equal(siov_definition_get_attr_name(d, 0), "assign_adapter");
        assert_string_equal(siov_definition_get_attr_value(d, 0), "5");
        assert_string_equal(siov_definition_get_attr_name(d, 1), "assign_domain");
        assert_string_equal(siov_definition_get_attr_value(d, 1), "0xab");
        siov_definition_unref(d);

        /* unknown keys are kept and end up in our definition */
        {
                static const char t[] = "{\"mdev_type\":\"t\",\"start\":\"manual\",\"newkey\":[1]}";
                assert_int_equal(siov_mdevctl_parse("p", U1, t, strlen(t), &d, NULL), 0);
        }
        assert_int_equal(siov_definition_to_json(d, &json), 0);
        assert_non_null(strstr(json, "\"newkey\""));
        free(json);
        siov_definition_unref(d);

        static const struct {
                const char *parent, *uuid, *json, *want;
        } bad[] = {
                { "p", U1, "{\"start\": \"auto\"}", "missing key 'mdev_type'" },
                { "p", U1, "{\"mdev_type\": \"t\"}", "missing key 'start'" },
                { "p", U1, "{\"mdev_type\": \"t\", \"start\": \"always\"}", "start: expected \"auto\" or \"manual\"" },
                { "p", U1, "{\"mdev_type\": \"t\", \"start\": true}", "start: expected a string" },
                { "p", U1, "{\"mdev_type\": 3, \"start\": \"auto\"}", "mdev_type: expected a string" },
                { "p", U1, "{\"mdev_type\": \"../../t\", \"start\": \"auto\"}", "mdev_type: not a valid type name" },
                { "p", U1, "{\"mdev_type\": \"t\", \"start\": \"auto\", \"attrs\": [{\"remove\": \"1\"}]}",
                  "attrs[0]: 'remove' is not a valid attribute name" },
                { "p", U1, "{\"mdev_type\": \"t\", \"start\": \"auto\", \"start\": \"manual\"}", "duplicate key 'start'" },
                { "p", U1, "{\"mdev_type\": \"t\", \"start\": \"auto\", \"attrs\": [{\"a\": 1}]}", "value of 'a' is a number" },
                { "p", "not-a-uuid", "{\"mdev_type\": \"t\", \"start\": \"auto\"}", "not a UUID" },
                { "..", U1, "{\"mdev_type\": \"t\", \"start\": \"auto\"}", "parent: not a valid device name" },
                { "p", U1, "{\"mdev_type\": \"t\", \"start\": \"auto\"", "unexpected end of input" },
                /* found by fuzz-mdevctl: siovd's own keys must not ride along
                 * as "unknown" keys and override the checked values */
                { "p", U1, "{\"mdev_type\": \"i\", \"start\": \"auto\", \"parent\": []}", "'parent' is not an mdevctl key" },
                { "p", U1, "{\"mdev_type\": \"i\", \"start\": \"auto\", \"vm\": \"x\"}", "'vm' is not an mdevctl key" },
                { "p", U1, "{\"mdev_type\": \"i\", \"start\": \"auto\", \"uuid\": \"x\"}", "'uuid' is not an mdevctl key" },
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                d = NULL;
                assert_int_equal(siov_mdevctl_parse(bad[i].parent, bad[i].uuid, bad[i].json,
                                                    strlen(bad[i].json), &d, &msg), -EINVAL);
                if (!msg || !strstr(msg, bad[i].want)) {
                        print_error("%s: got '%s', want '%s'\n", bad[i].json, msg ?: "(null)", bad[i].want);
                        fail();
                }
                assert_null(d);
                free(msg);
        }
}

struct imported {
        char *path, *parent, *uuid, *reason;
        struct siov_definition *def;
};

struct import_log {
        struct imported items[32];
        size_t n;
};

static void on_import(const char *path, const char *parent, const char *uuid,
                      struct siov_definition *def, const char *reason, void *userdata) {
        struct import_log *log = userdata;
        struct imported *i = &log->items[log->n++];

        assert_true(log->n <= 32);
        assert_true((def == NULL) != (reason == NULL));
        i->path = strdup(path);
        i->parent = strdup(parent);
        i->uuid = strdup(uuid);
        i->reason = reason ? strdup(reason) : NULL;
        i->def = siov_definition_ref(def);
        print_message("import %s [%s %s]: %s\n", path, parent, uuid, reason ?: "defined");
}

static const struct imported *find_import(const struct import_log *log, const char *tail) {
        for (size_t i = 0; i < log->n; i++) {
                size_t l = strlen(log->items[i].path), t = strlen(tail);
                if (l >= t && strcmp(log->items[i].path + l - t, tail) == 0)
                        return &log->items[i];
        }
        return NULL;
}

static void test_mdevctl_import(void **state) {
        struct fixture *x = *state;
        struct import_log log = {};
        const struct imported *i;
        char *root, *p, *json = NULL;
        int n;

        /* /etc/mdevctl.d as mdevctl leaves it, plus what a host collects */
        root = path_in(x, "mdevctl.d");
        assert_int_equal(mkdir(root, 0755), 0);
        free(root);
        mkdirs(x, "mdevctl.d/scripts.d/callouts");
        mkdirs(x, "mdevctl.d/scripts.d/notifiers");
        write_str(x, "mdevctl.d/scripts.d/callouts/hook", "#!/bin/sh\n");
        mkdirs(x, "mdevctl.d/0000:00:02.0");
        mkdirs(x, "mdevctl.d/matrix");
        mkdirs(x, "mdevctl.d/siov0");
        mkdirs(x, "mdevctl.d/0000:00:02.0/subfolder");
        write_file(x, "mdevctl.d/0000:00:02.0/83c32df7-d52e-4ec1-9668-1f3c7e4df107", mdevctl_gvt, strlen(mdevctl_gvt));
        write_str(x, "mdevctl.d/0000:00:02.0/6EBA5B41-176E-40DB-B93E-7F18E04E0B93",
                  "{\"mdev_type\": \"i915-GVTg_V4_1\", \"start\": \"manual\", \"attrs\": []}");
        write_file(x, "mdevctl.d/matrix/783e6dbb-ea0e-411f-94e2-717eaad438bf", mdevctl_ap, strlen(mdevctl_ap));
        write_str(x, "mdevctl.d/matrix/README", "notes\n");
        write_str(x, "mdevctl.d/matrix/.783e6dbb-ea0e-411f-94e2-717eaad438bf.swp", "x");
        write_str(x, "mdevctl.d/siov0/" U1, "{\"mdev_type\": \"idxd-1dwq\", \"start\": \"sometimes\"}");
        write_str(x, "mdevctl.d/siov0/" U2, "{\"mdev_type\": \"idxd-1dwq\", \"start\": \"auto\"");
        write_str(x, "mdevctl.d/README.md", "not a parent\n");
        p = path_in(x, "mdevctl.d/siov0/" U3);
        assert_int_equal(symlink("/etc/passwd", p), 0);
        free(p);
        p = path_in(x, "mdevctl.d/evil");
        assert_int_equal(symlink("/etc", p), 0);
        free(p);
        mkdirs(x, "mdevctl.d/bad\x01name");

        root = path_in(x, "mdevctl.d");
        n = siov_mdevctl_import_dir(root, on_import, &log);
        assert_int_equal(n, (int) log.n);
        assert_int_equal(n, 10);

        i = find_import(&log, "/0000:00:02.0/83c32df7-d52e-4ec1-9668-1f3c7e4df107");
        assert_non_null(i);
        assert_non_null(i->def);
        assert_string_equal(i->parent, "0000:00:02.0");
        assert_string_equal(i->uuid, "83c32df7-d52e-4ec1-9668-1f3c7e4df107");
        assert_true(siov_definition_get_autostart(i->def));

        i = find_import(&log, "/0000:00:02.0/6EBA5B41-176E-40DB-B93E-7F18E04E0B93");
        assert_non_null(i);
        assert_non_null(i->def);
        assert_string_equal(i->uuid, "6eba5b41-176e-40db-b93e-7f18e04e0b93");        /* normalized */
        assert_string_equal(siov_definition_get_uuid(i->def), "6eba5b41-176e-40db-b93e-7f18e04e0b93");

        i = find_import(&log, "/0000:00:02.0/subfolder");
        assert_non_null(i);
        assert_null(i->def);
        assert_non_null(strstr(i->reason, "not a UUID"));

        i = find_import(&log, "/matrix/783e6dbb-ea0e-411f-94e2-717eaad438bf");
        assert_non_null(i);
        assert_non_null(i->def);
        assert_int_equal(siov_definition_get_n_attrs(i->def), 2);
        /* what would be saved for it */
        assert_int_equal(siov_definition_to_json(i->def, &json), 0);
        assert_non_null(strstr(json, "\"parent\": \"matrix\""));
        assert_non_null(strstr(json, "\"type\": \"vfio_ap-passthrough\""));
        free(json);

        i = find_import(&log, "/matrix/README");
        assert_non_null(i);
        assert_string_equal(i->uuid, "README");
        assert_non_null(strstr(i->reason, "not a UUID"));

        i = find_import(&log, "/siov0/" U1);
        assert_non_null(strstr(i->reason, "start: expected \"auto\" or \"manual\", got 'sometimes'"));
        i = find_import(&log, "/siov0/" U2);
        assert_non_null(strstr(i->reason, "unexpected end of input"));
        i = find_import(&log, "/siov0/" U3);
        assert_non_null(strstr(i->reason, "symbolic link"));
        i = find_import(&log, "/mdevctl.d/evil");
        assert_non_null(i);
        assert_non_null(strstr(i->reason, "symbolic link"));
        i = find_import(&log, "/mdevctl.d/bad\x01name");
        assert_non_null(i);
        assert_string_equal(i->parent, "bad\\x01name");
        assert_non_null(strstr(i->reason, "not a valid device name"));

        /* nothing from scripts.d, the README file or the swap file */
        for (size_t k = 0; k < log.n; k++) {
                assert_null(strstr(log.items[k].path, "scripts.d"));
                assert_null(strstr(log.items[k].path, "README.md"));
                assert_null(strstr(log.items[k].path, ".swp"));
        }

        for (size_t k = 0; k < log.n; k++) {
                free(log.items[k].path);
                free(log.items[k].parent);
                free(log.items[k].uuid);
                free(log.items[k].reason);
                siov_definition_unref(log.items[k].def);
        }

        /* without a callback: still counts; a missing folder is an error */
        assert_int_equal(siov_mdevctl_import_dir(root, NULL, NULL), 10);
        free(root);
        root = path_in(x, "no-such-dir");
        assert_int_equal(siov_mdevctl_import_dir(root, on_import, &log), -ENOENT);
        free(root);
        /* an empty one (mdevctl's own state on a fresh host) */
        mkdirs(x, "fresh/mdevctl.d/scripts.d/callouts");
        root = path_in(x, "fresh/mdevctl.d");
        assert_int_equal(siov_mdevctl_import_dir(root, NULL, NULL), 0);
        free(root);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unknown_keys_kept, setup, teardown),
                cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
                cmocka_unit_test_setup_teardown(test_save_load_delete, setup, teardown),
                cmocka_unit_test_setup_teardown(test_load_skips_bad_files, setup, teardown),
                cmocka_unit_test_setup_teardown(test_save_write_failure, setup, teardown),
                cmocka_unit_test_setup_teardown(test_save_faults, setup, teardown),
                cmocka_unit_test_setup_teardown(test_store_checked, setup, teardown),
                cmocka_unit_test_setup_teardown(test_store_clean, setup, teardown),
                cmocka_unit_test_setup_teardown(test_store_check, setup, teardown),
                cmocka_unit_test_setup_teardown(test_mdevctl_parse, setup, teardown),
                cmocka_unit_test_setup_teardown(test_mdevctl_import, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
