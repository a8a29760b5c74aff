/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Unit tests of siovctl's pieces that need no bus: parsing a
 * GetManagedObjects reply (built here as a message), sorting and linking,
 * the streamed JSON (byte for byte what json-c prints for the whole array),
 * tables, the exit code map, the command line of every command, modify's
 * attribute merge, import results, and monitor lines made from synthetic
 * signals. The end-to-end tests against the real
 * siovd are in tests/integration.
 */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "siov-names.h"
#include "siovctl.h"

/* The checks, on cmocka: a failure stops its test and names the line. */
#define CHECK(cond) assert_true(cond)
#define CHECK_STR(a, b)                                                         \
        do {                                                                    \
                const char *_a_ = (a), *_b_ = (b);                              \
                assert_non_null(_a_);                                           \
                assert_non_null(_b_);                                           \
                assert_string_equal(_a_, _b_);                                  \
        } while (0)

static void test_name_compare(void **state) {
        CHECK(name_compare("siov2", "siov10") < 0);
        CHECK(name_compare("siov10", "siov9") > 0);
        CHECK(name_compare("siov1", "siov1") == 0);
        /* fixed-width hex: bytewise */
        CHECK(name_compare("0000:9b:00.0", "0000:10:00.0") > 0);
        CHECK(name_compare("0000:0a:00.0", "0000:10:00.0") < 0);
        CHECK(name_compare("0000:3b:00.0", "siov0") < 0);
}

static void test_exit_codes(void **state) {
        CHECK(exit_code_from_errno(0) == 0);
        CHECK(exit_code_from_errno(-ERRNO_USAGE) == 2);
        CHECK(exit_code_from_errno(-ERRNO_UNREACHABLE) == 3);
        CHECK(exit_code_from_errno(-ERRNO_NO_SUCH_OBJECT) == 4);
        CHECK(exit_code_from_errno(-ERRNO_NOT_AUTHORIZED) == 5);
        CHECK(exit_code_from_errno(-ERRNO_NO_CAPACITY) == 6);
        CHECK(exit_code_from_errno(-EIO) == 1);
        CHECK(exit_code_from_errno(-EPROTO) == 1);
        CHECK(exit_code_from_errno(-ENOMEM) == 1);
}

/* The same table maps siovd's errors. */
static void test_exit_codes_of_errors(void **state) {
        static const struct {
                const char *name;
                int exit_code;
        } cases[] = {
                { SIOV_ERROR_INVALID_ARGUMENT, 2 },
                { SD_BUS_ERROR_INVALID_ARGS, 2 },
                { SIOV_ERROR_NO_SUCH_PARENT, 4 },
                { SIOV_ERROR_NO_SUCH_TYPE, 4 },
                { SIOV_ERROR_NO_SUCH_DEVICE, 4 },
                { SIOV_ERROR_NO_CAPACITY, 6 },
                { SIOV_ERROR_KERNEL_ERROR, 1 },
                { SIOV_ERROR_BUSY, 1 },
                { SIOV_ERROR_ALREADY_EXISTS, 1 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                sd_bus_error e = SD_BUS_ERROR_MAKE_CONST(cases[i].name, "x");

                assert_int_equal(exit_code_from_errno(errno_from_siovd_error(&e)), cases[i].exit_code);
        }
}

/* ---- building a reply --------------------------------------------------- */

static int open_object(sd_bus_message *m, const char *path) {
        int r;

        r = sd_bus_message_open_container(m, 'e', "oa{sa{sv}}");
        if (r >= 0)
                r = sd_bus_message_append_basic(m, 'o', path);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sa{sv}}");
        /* what sd-bus adds to every object */
        if (r >= 0)
                r = sd_bus_message_append(m, "{sa{sv}}", "org.freedesktop.DBus.Peer", 0);
        if (r >= 0)
                r = sd_bus_message_append(m, "{sa{sv}}", "org.freedesktop.DBus.Properties", 0);
        return r;
}

static int close_object(sd_bus_message *m) {
        int r;

        r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

/* Object paths allow [A-Za-z0-9_] only; what siovctl reads is the Name
 * property, never the path. */
static void path_sanitize(char *p) {
        for (p = strrchr(p, '/'); p && *p; p++)
                if (*p == ':' || *p == '.' || *p == '-')
                        *p = '_';
}

static int append_parent(sd_bus_message *m, const char *name, const char *kind, const char *broken) {
        char path[256];
        int r;

        snprintf(path, sizeof(path), SIOV_DBUS_PARENT_PREFIX "/%s", name);
        path_sanitize(path);
        r = open_object(m, path);
        if (r >= 0)
                r = sd_bus_message_append(
                        m, "{sa{sv}}", SIOV_DBUS_PARENT_INTERFACE, 9,
                        "Name", "s", name,
                        "Kinds", "as", 1, kind,
                        "Driver", "s", "",
                        "Resources", "a{su}", 3, "swq-slots", 4, "total", 8, "free", 5,
                        "HostUsage", "a{su}", 2, "wq-kernel", 1, "netdev", 2,
                        "Netdevs", "as", 2, "n0", "n1",
                        "NumVFs", "u", 3,
                        "Broken", "s", broken,
                        "FutureProperty", "x", (int64_t) 7);
        if (r >= 0)
                r = close_object(m);
        return r;
}

static int append_type(sd_bus_message *m, const char *parent, const char *id, uint32_t avail) {
        char path[256];
        int r;

        snprintf(path, sizeof(path), SIOV_DBUS_PARENT_PREFIX "/p%u/type/%s", avail, id);
        path_sanitize(path);
        r = open_object(m, path);
        if (r >= 0)
                r = sd_bus_message_append(
                        m, "{sa{sv}}", SIOV_DBUS_TYPE_INTERFACE, 5,
                        "Id", "s", id,
                        "Kind", "s", "mdev",
                        "Parent", "s", parent,
                        "Description", "s", "two\nlines",
                        "AvailableInstances", "u", avail);
        if (r >= 0)
                r = close_object(m);
        return r;
}

static int append_device(sd_bus_message *m, const char *uuid, const char *parent, const char *type,
                         const char *kind, const char *address) {
        char path[256];
        int r;

        snprintf(path, sizeof(path), SIOV_DBUS_DEVICE_PREFIX "/d%.8s", uuid);
        r = open_object(m, path);
        if (r >= 0)
                r = sd_bus_message_append(
                        m, "{sa{sv}}", SIOV_DBUS_DEVICE_INTERFACE, 9,
                        "Uuid", "s", uuid,
                        "Kind", "s", kind,
                        "Parent", "s", parent,
                        "Type", "s", type,
                        "State", "s", "active",
                        "Autostart", "b", 1,
                        "Attributes", "a(ss)", 2, "a", "1", "b", "x/y",
                        "Address", "s", address,
                        "HostUsed", "b", 1);
        if (r >= 0)
                r = close_object(m);
        return r;
}

static int build_reply(sd_bus *bus, bool bad_signature, sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        /* A signal is the simplest sealed message that can be read back. */
        r = sd_bus_message_new_signal(bus, &m, "/org/siov1", "org.siov1.Test", "Reply");
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(m, 'a', "{oa{sa{sv}}}");
        if (r < 0)
                return r;

        if ((r = append_parent(m, "siov10", "mdev", "")) < 0 ||
            (r = append_parent(m, "siov2", "mdev", "")) < 0 ||
            (r = append_parent(m, "0000:3b:00.0", "sriov", "sriov_numvfs: not a number")) < 0 ||
            (r = append_type(m, "siov2", "idxd-1swq", 20)) < 0 ||
            (r = append_type(m, "siov2", "idxd-1dwq", 5)) < 0 ||
            (r = append_type(m, "siov10", "idxd-1dwq", 1)) < 0 ||
            (r = append_type(m, "siov-gone", "idxd-1dwq", 1)) < 0 ||
            (r = append_device(m, "bbbbbbbb-0000-4000-8000-000000000000", "siov2", "idxd-1dwq", "mdev", "")) < 0 ||
            (r = append_device(m, "aaaaaaaa-0000-4000-8000-000000000000", "siov2", "idxd-1dwq", "mdev", "")) < 0 ||
            (r = append_device(m, "cccccccc-0000-4000-8000-000000000000", "0000:3b:00.0", "vf", "vf", "0000:3b:02.1")) < 0 ||
            (r = append_device(m, "dddddddd-0000-4000-8000-000000000000", "0000:3b:00.0", "vf", "vf", "0000:3b:02.0")) < 0 ||
            (r = append_device(m, "eeeeeeee-0000-4000-8000-000000000000", "siov10", "idxd-1swq", "mdev", "")) < 0)
                return r;

        if (bad_signature) {
                r = open_object(m, SIOV_DBUS_DEVICE_PREFIX "/bad");
                if (r >= 0)
                        r = sd_bus_message_append(m, "{sa{sv}}", SIOV_DBUS_DEVICE_INTERFACE, 1,
                                                  "Persistent", "s", "yes");
                if (r >= 0)
                        r = close_object(m);
                if (r < 0)
                        return r;
        }

        r = sd_bus_message_close_container(m);
        if (r < 0)
                return r;
        r = sd_bus_message_seal(m, 1, 0);
        if (r < 0)
                return r;
        r = sd_bus_message_rewind(m, true);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

static void test_parse(void **state) {
        sd_bus *bus = *state;

        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(model_freep) Model *m = NULL;
        const Parent *p;
        const Device *d;

        CHECK(build_reply(bus, false, &reply) >= 0);
        if (!reply)
                return;
        m = calloc(1, sizeof(Model));
        CHECK(m);
        if (!m)
                return;
        CHECK(model_parse(m, reply) >= 0);
        CHECK(model_link(m) >= 0);

        CHECK(m->n_parents == 3);
        CHECK(m->n_types == 4);
        CHECK(m->n_devices == 5);
        if (m->n_parents != 3 || m->n_types != 4 || m->n_devices != 5)
                return;

        /* parents sorted by name, naturally */
        CHECK_STR(m->parents[0].name, "0000:3b:00.0");
        CHECK_STR(m->parents[1].name, "siov2");
        CHECK_STR(m->parents[2].name, "siov10");

        p = model_find_parent(m, "siov2");
        CHECK(p && p->n_types == 2);
        if (p && p->n_types == 2) {
                CHECK_STR(p->types[0]->id, "idxd-1dwq");
                CHECK_STR(p->types[1]->id, "idxd-1swq");
                CHECK(p->types[1]->available == 20);
                CHECK_STR(p->types[1]->description, "two\nlines");
                CHECK_STR(p->types[1]->name, "");          /* absent */
                CHECK_STR(p->types[1]->broken, "");
        }
        CHECK(p && p->num_vfs == 3 && p->total_vfs == 0);
        CHECK(p && p->kinds[0] && streq(p->kinds[0], "mdev") && !p->kinds[1]);
        CHECK(p && p->netdevs[0] && streq(p->netdevs[1], "n1") && !p->netdevs[2]);
        /* fixed key order, whatever siovd's order */
        CHECK(p && p->n_resources == 3 && streq(p->resources[0].key, "total") &&
              streq(p->resources[1].key, "free") && streq(p->resources[2].key, "swq-slots"));
        if (p) {
                _cleanup_free_ char *s = key_values_to_string(p->host_usage, p->n_host_usage);
                _cleanup_free_ char *a = parent_available_to_string(p);

                CHECK_STR(s, "netdev=2 wq-kernel=1");
                CHECK_STR(a, "idxd-1dwq=5 idxd-1swq=20");
        }
        CHECK_STR(m->parents[0].broken, "sriov_numvfs: not a number");
        CHECK(m->parents[0].n_types == 0);
        /* a type whose parent is not there is kept, linked to nothing */
        {
                size_t linked = 0, gone = 0;

                for (size_t i = 0; i < m->n_parents; i++)
                        linked += m->parents[i].n_types;
                for (size_t i = 0; i < m->n_types; i++)
                        gone += streq(m->types[i].parent, "siov-gone");
                CHECK(linked == 3 && gone == 1);
                CHECK(!model_find_parent(m, "siov-gone"));
        }

        /* devices by parent, type, then uuid (VFs by address) */
        CHECK_STR(m->devices[0].uuid, "dddddddd-0000-4000-8000-000000000000");
        CHECK_STR(m->devices[1].uuid, "cccccccc-0000-4000-8000-000000000000");
        CHECK_STR(m->devices[2].uuid, "aaaaaaaa-0000-4000-8000-000000000000");
        CHECK_STR(m->devices[3].uuid, "bbbbbbbb-0000-4000-8000-000000000000");
        CHECK_STR(m->devices[4].uuid, "eeeeeeee-0000-4000-8000-000000000000");
        d = &m->devices[2];
        CHECK(d->autostart && !d->persistent && d->host_used);
        CHECK(d->n_attributes == 2 && streq(d->attributes[1].value, "x/y"));
        CHECK_STR(d->vm, "");
        CHECK(d->netdevs && !d->netdevs[0]);
}

static void test_parse_bad_signature(void **state) {
        sd_bus *bus = *state;

        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(model_freep) Model *m = NULL;

        CHECK(build_reply(bus, true, &reply) >= 0);
        if (!reply)
                return;
        m = calloc(1, sizeof(Model));
        if (!m)
                return;
        fprintf(stderr, "(an error line about Persistent is expected next)\n");
        CHECK(model_parse(m, reply) == -EPROTO);
}

/* ---- output -------------------------------------------------------------- */

/* Streamed element by element: json-c objects, or (written) the list's
 * own writer. */
static char *capture_array(const Device *devices, size_t n, JsonMode mode, bool written) {
        _cleanup_(json_array_done) JsonArray a = {};
        char *buf = NULL;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&buf, &size);
        if (!f)
                return NULL;
        json_array_begin(&a, f, mode);
        for (size_t i = 0; i < n; i++)
                if (written)
                        json_array_add_device(&a, &devices[i]);
                else
                        json_array_add(&a, device_to_json(&devices[i]));
        json_array_end(&a);
        fclose(f);
        return buf;
}

static char *capture_whole(const Device *devices, size_t n, JsonMode mode) {
        json_object *a = json_object_new_array();
        char *buf = NULL;
        size_t size = 0;
        FILE *f;

        for (size_t i = 0; i < n; i++)
                json_object_array_add(a, device_to_json(&devices[i]));
        f = open_memstream(&buf, &size);
        if (!f) {
                json_object_put(a);
                return NULL;
        }
        json_print(a, f, mode);
        fclose(f);
        return buf;
}

static void test_json(void **state) {
        sd_bus *bus = *state;

        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(model_freep) Model *m = NULL;

        if (build_reply(bus, false, &reply) < 0)
                return;
        m = calloc(1, sizeof(Model));
        if (!m || model_parse(m, reply) < 0 || model_link(m) < 0)
                return;

        for (JsonMode mode = JSON_PRETTY; mode <= JSON_SHORT; mode++)
                for (size_t n = 0; n <= m->n_devices; n += m->n_devices) {
                        _cleanup_free_ char *streamed = capture_array(m->devices, n, mode, false);
                        _cleanup_free_ char *whole = capture_whole(m->devices, n, mode);

                        CHECK_STR(streamed, whole);
                        _cleanup_free_ char *written = capture_array(m->devices, n, mode, true);
                        CHECK_STR(written, whole);
                }

        /* What json-c escapes, and every nested array filled. */
        {
                const char *netdevs[] = { "eth\"0", "a\\b", NULL };
                Attribute attrs[] = { { "k\x01\x1f", "tab\tnl\ncr\rff\fbs\b/slash" }, { "", "ünïcode" } };
                VgpuType vgpus[] = { { 7, "GRID \"A\"" }, { 4294967295u, "" } };
                Device odd[] = { {
                        .uuid = "u", .kind = "vf", .parent = "p\x7f", .type = NULL, .state = "active",
                        .persistent = 1, .autostart = 0, .vm = "vm/1", .owner = "k8s:\"pod\"",
                        .attributes = attrs, .n_attributes = 2,
                        .address = "0000:00:01.0", .sysfs_path = "/sys/x", .driver = "vfio-pci", .host_used = 1,
                        .netdevs = netdevs, .vgpu = true, .vgpu_type = 7, .vgpu_types = vgpus, .n_vgpu_types = 2,
                        .vf_net = true, .vf_mac = "52:54:00:00:00:01", .vf_vlan = 100, .vf_qos = 3,
                        .vf_link_state = "auto", .vf_spoofchk = "on", .vf_trust = "",
                }, { .uuid = "v", .kind = "mdev" } };

                for (JsonMode mode = JSON_PRETTY; mode <= JSON_SHORT; mode++) {
                        _cleanup_free_ char *written = capture_array(odd, 2, mode, true);
                        _cleanup_free_ char *whole = capture_whole(odd, 2, mode);

                        CHECK_STR(written, whole);
                }
        }

        {
                _cleanup_free_ char *s = capture_array(m->devices + 2, 1, JSON_SHORT, false);

                CHECK_STR(s, "[{\"uuid\":\"aaaaaaaa-0000-4000-8000-000000000000\",\"kind\":\"mdev\","
                             "\"parent\":\"siov2\",\"type\":\"idxd-1dwq\",\"state\":\"active\","
                             "\"persistent\":false,\"autostart\":true,\"vm\":\"\",\"owner\":\"\","
                             "\"attributes\":[{\"name\":\"a\",\"value\":\"1\"},{\"name\":\"b\",\"value\":\"x/y\"}],"
                             "\"address\":\"\",\"sysfs_path\":\"\",\"driver\":\"\",\"host_used\":true,"
                             "\"netdevs\":[],\"vgpu\":false,\"vgpu_type\":0,\"vgpu_creatable_types\":[]}]\n");
        }
        {
                json_object *o = parent_to_json(model_find_parent(m, "siov2"));
                _cleanup_free_ char *buf = NULL;
                size_t size = 0;
                FILE *f = open_memstream(&buf, &size);

                if (f) {
                        json_print(o, f, JSON_SHORT);
                        fclose(f);
                }
                CHECK_STR(buf, "{\"name\":\"siov2\",\"kinds\":[\"mdev\"],\"driver\":\"\",\"subsystem\":\"\","
                               "\"sysfs_path\":\"\",\"types\":[{\"id\":\"idxd-1dwq\",\"available_instances\":5,"
                               "\"broken\":\"\"},{\"id\":\"idxd-1swq\",\"available_instances\":20,\"broken\":\"\"}],"
                               "\"resources\":{\"total\":8,\"free\":5,\"swq_slots\":4},"
                               "\"host_usage\":{\"netdev\":2,\"wq_kernel\":1},\"netdevs\":[\"n0\",\"n1\"],"
                               "\"total_vfs\":0,\"num_vfs\":3,\"autoprobe\":false,\"persistent_numvfs\":-1,\"persistent_autoprobe\":-1,"
                               "\"idxd_device\":\"\",\"idxd_state\":\"\",\"work_queues\":[],\"idxd_groups\":[],\"broken\":\"\"}\n");
        }
}

static void test_table(void **state) {
        _cleanup_(table_freep) Table *t = NULL;
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f;

        t = table_new("NAME", ">N", "LAST", NULL);
        CHECK(t);
        if (!t)
                return;
        CHECK(table_add(t, "siov0") >= 0);
        CHECK(table_addf(t, "%u", 12u) >= 0);
        CHECK(table_add(t, "a\nb") >= 0);
        CHECK(table_add(t, "0000:3b:00.0") >= 0);
        CHECK(table_add(t, "7") >= 0);
        CHECK(table_add(t, "") >= 0);
        CHECK(table_get_rows(t) == 2);

        f = open_memstream(&buf, &size);
        if (!f)
                return;
        table_print(t, f);
        fclose(f);
        CHECK_STR(buf,
                  "NAME           N  LAST\n"
                  "siov0         12  a?b\n"
                  "0000:3b:00.0   7  -\n");
}

/* ---- command line --------------------------------------------------------- */

/* Parses a command line given as one string (words split at spaces; "" is
 * an empty word). Returns the exit code siovctl would use for a failure. */
static int parse(Arguments *a, const char *line) {
        /* static: the parsed options point into the words until the next call */
        static char buf[512];
        char *argv[32], *p, *save = NULL;
        int argc = 0;

        *a = (Arguments) {};
        snprintf(buf, sizeof(buf), "siovctl %s", line);
        argv[argc++] = strtok_r(buf, " ", &save);
        while (argc < 31 && (p = strtok_r(NULL, " ", &save)))
                argv[argc++] = streq(p, "\"\"") ? p + 2 : p;
        argv[argc] = NULL;
        return exit_code_from_errno(siovctl_parse(argc, argv, a));
}

#define CHECK_PARSE(line, code)                                                 \
        do {                                                                    \
                Arguments _a_;                                                  \
                int _c_ = parse(&_a_, line);                                    \
                arguments_done(&_a_);                                           \
                if (_c_ != (code))                                              \
                        fail_msg("'%s' gave exit %d, expected %d", line, _c_, code); \
        } while (0)

static void test_command_line(void **state) {
        Arguments a;

        fprintf(stderr, "(usage error lines are expected next)\n");

        /* The design card's command, verbatim. */
        CHECK(parse(&a, "create --type idxd-1dwq --vm vm1") == 0);
        CHECK_STR(verb_name(a.verb), "create");
        CHECK_STR(a.options.type, "idxd-1dwq");
        CHECK_STR(a.options.vm, "vm1");
        CHECK(!a.options.parent && !a.options.uuid && a.options.n_attrs == 0);
        CHECK(!a.options.persistent && !a.options.autostart);
        CHECK(a.options.ask_password);
        arguments_done(&a);

        /* --attr: split at the first '=', order kept, empty values allowed. */
        CHECK(parse(&a, "create -t 1dwq -p siov0 --attr a=b=c --attr x= --attr mode=dedicated") == 0);
        CHECK(a.options.n_attrs == 3);
        if (a.options.n_attrs == 3) {
                CHECK_STR(a.options.attrs[0].name, "a");
                CHECK_STR(a.options.attrs[0].value, "b=c");
                CHECK_STR(a.options.attrs[1].name, "x");
                CHECK_STR(a.options.attrs[1].value, "");
                CHECK_STR(a.options.attrs[2].name, "mode");
                CHECK_STR(a.options.attrs[2].value, "dedicated");
        }
        CHECK_STR(a.options.parent, "siov0");
        arguments_done(&a);
        CHECK(a.options.attrs == NULL && a.options.n_attrs == 0);

        CHECK_PARSE("create -t t --attr =v", 2);          /* empty name */
        CHECK_PARSE("create -t t --attr novalue", 2);     /* no '=' */
        CHECK_PARSE("create -t t --attr a/b=1", 2);       /* not a file name */
        CHECK_PARSE("create -t t --attr ..=1", 2);

        /* --autostart implies --persistent. */
        CHECK(parse(&a, "create -t t --autostart") == 0);
        CHECK(a.options.autostart && a.options.persistent);
        arguments_done(&a);
        CHECK(parse(&a, "create -t t --persistent") == 0);
        CHECK(!a.options.autostart && a.options.persistent);
        arguments_done(&a);

        /* --uuid is checked and normalized here; a bad one never reaches siovd. */
        CHECK(parse(&a, "create -t t --uuid 5F2C0000-AAAA-4000-8000-00000000000B") == 0);
        CHECK_STR(a.options.uuid, "5f2c0000-aaaa-4000-8000-00000000000b");
        arguments_done(&a);
        CHECK_PARSE("create -t t --uuid 5f2c0000-aaaa-4000-8000-00000000000", 2);
        CHECK_PARSE("create -t t --uuid 5f2c0000aaaa40008000000000000000000b", 2);

        CHECK_PARSE("create", 2);                         /* --type is required */
        CHECK_PARSE("create -t t extra", 2);
        CHECK_PARSE("create -t t --force", 2);            /* not create's option */
        CHECK_PARSE("create -t t --manual", 2);
        CHECK_PARSE("define -t t", 2);                    /* --parent is required */
        CHECK_PARSE("define -p p", 2);
        CHECK_PARSE("define -t t -p p", 0);
        CHECK_PARSE("define -t t -p p --persistent", 2);  /* define is always persistent */
        CHECK_PARSE("define -t t -p p --autostart --vm vm1 --attr a=1", 0);

        /* modify */
        CHECK_PARSE("modify 5f2c0000-aaaa-4000-8000-00000000000b --autostart --manual", 2);
        CHECK_PARSE("modify 5f2c0000-aaaa-4000-8000-00000000000b", 2);   /* nothing to change */
        CHECK_PARSE("modify 5f2c0000-aaaa-4000-8000-00000000000b --manual", 0);
        CHECK_PARSE("modify 5f2c0000-aaaa-4000-8000-00000000000b --clear-attrs", 0);
        CHECK_PARSE("modify 5f2c0000-aaaa-4000-8000-00000000000b --attr a=1 --clear-attrs", 0);
        CHECK_PARSE("modify 5f2c0000-aaaa-4000-8000-00000000000b --persistent", 2);
        CHECK_PARSE("modify --autostart", 2);             /* no UUID */

        /* the device commands: one UUID (checked when they run) */
        CHECK_PARSE("destroy 5f2c0000-aaaa-4000-8000-00000000000b --force", 0);
        CHECK(parse(&a, "--no-ask-password destroy --force 5f2c0000-aaaa-4000-8000-00000000000b") == 0);
        CHECK(a.options.force && !a.options.ask_password);
        CHECK_STR(a.positional[1], "5f2c0000-aaaa-4000-8000-00000000000b");
        arguments_done(&a);
        CHECK_PARSE("start", 2);
        CHECK_PARSE("stop a b", 2);
        CHECK_PARSE("start --force x", 2);
        CHECK_PARSE("undefine x", 0);
        CHECK_PARSE("assign x", 2);                       /* --vm is required */
        CHECK_PARSE("assign x --vm vm1", 0);
        CHECK_PARSE("assign x --vm \"\"", 2);
        CHECK_PARSE("unassign x --vm vm1", 2);

        /* list filters */
        CHECK_PARSE("list --defined --active", 2);
        CHECK(parse(&a, "list --defined --vm vm1 -p siov0") == 0);
        CHECK(a.options.defined && !a.options.active);
        CHECK_STR(a.options.vm, "vm1");
        arguments_done(&a);
        CHECK_PARSE("parents --defined", 2);

        CHECK_PARSE("import-mdevctl", 0);
        CHECK_PARSE("import-mdevctl /tmp/x", 0);
        CHECK_PARSE("import-mdevctl a b", 2);
        CHECK_PARSE("provision", 2);
        CHECK_PARSE("provision siov0", 0);
        CHECK_PARSE("monitor --json", 0);
        CHECK_PARSE("monitor x", 2);
        CHECK_PARSE("frobnicate", 2);

        /* --help skips the checks (it runs nothing). */
        CHECK(parse(&a, "modify --help") == 0);
        CHECK(a.help && a.verb);
        arguments_done(&a);
}

static void test_attrs_merge(void **state) {
        const Attribute existing[] = { { "a", "1" }, { "b", "2" } };
        const AttrArg given[] = { { (char *) "b", "3" }, { (char *) "c", "4" }, { (char *) "b", "5" } };
        Attribute *l = NULL;
        size_t n = 0;

        CHECK(attrs_merge(existing, 2, false, given, 3, &l, &n) >= 0);
        CHECK(n == 3);
        if (n == 3) {
                /* b keeps its place and takes the last value given */
                CHECK_STR(l[0].name, "a");
                CHECK_STR(l[0].value, "1");
                CHECK_STR(l[1].name, "b");
                CHECK_STR(l[1].value, "5");
                CHECK_STR(l[2].name, "c");
                CHECK_STR(l[2].value, "4");
        }
        free(l);

        CHECK(attrs_merge(existing, 2, true, given, 2, &l, &n) >= 0);
        CHECK(n == 2 && streq(l[0].name, "b") && streq(l[0].value, "3") && streq(l[1].name, "c"));
        free(l);

        CHECK(attrs_merge(existing, 2, true, NULL, 0, &l, &n) >= 0);
        CHECK(n == 0);
        free(l);

        CHECK(attrs_merge(NULL, 0, false, given, 1, &l, &n) >= 0);
        CHECK(n == 1 && streq(l[0].value, "3"));
        free(l);
}

static void test_device_path(void **state) {
        _cleanup_free_ char *path = NULL, *back = NULL;
        char uuid[SIOV_UUID_STRING_MAX];

        fprintf(stderr, "(an error line about a UUID is expected next)\n");
        CHECK(exit_code_from_errno(uuid_arg_parse("not-a-uuid", uuid)) == 2);
        CHECK(uuid_arg_parse("5F2C0000-AAAA-4000-8000-00000000000B", uuid) == 0);
        CHECK(device_path_from_uuid(uuid, &path) >= 0);
        /* sd_bus_path_encode: a leading digit and '-' become _xx */
        CHECK_STR(path, "/org/siov1/device/_35f2c0000_2daaaa_2d4000_2d8000_2d00000000000b");
        CHECK(sd_bus_path_decode(path, SIOV_DBUS_DEVICE_PREFIX, &back) > 0);
        CHECK_STR(back, "5f2c0000-aaaa-4000-8000-00000000000b");
}

/* ---- import results ----------------------------------------------------- */

static char *capture_import(const ImportResult *r, size_t n, JsonMode mode, int *ret) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&buf, &size);
        if (!f)
                return NULL;
        *ret = import_results_print(r, n, f, mode);
        fclose(f);
        return buf;
}

static void test_import_print(void **state) {
        const ImportResult results[] = {
                { "11111111-0000-4000-8000-000000000000", "siov0", "defined", "" },
                { "22222222-0000-4000-8000-000000000000", "siov1", "refused", "type idxd-9 unknown\non siov1" },
                { "", "siov1", "refused", "file name 'foo' is not a UUID" },
        };
        _cleanup_free_ char *text = NULL, *json = NULL, *none = NULL, *empty = NULL;
        int r = -1;

        text = capture_import(results, 3, JSON_OFF, &r);
        CHECK(r == 2);
        CHECK_STR(text,
                  "defined 11111111-0000-4000-8000-000000000000 on siov0\n"
                  "refused 22222222-0000-4000-8000-000000000000 on siov1: type idxd-9 unknown?on siov1\n"
                  "refused ? on siov1: file name 'foo' is not a UUID\n");

        json = capture_import(results, 2, JSON_SHORT, &r);
        CHECK(r == 1);
        CHECK_STR(json,
                  "[{\"uuid\":\"11111111-0000-4000-8000-000000000000\",\"parent\":\"siov0\","
                  "\"result\":\"defined\",\"reason\":\"\"},"
                  "{\"uuid\":\"22222222-0000-4000-8000-000000000000\",\"parent\":\"siov1\","
                  "\"result\":\"refused\",\"reason\":\"type idxd-9 unknown\\non siov1\"}]\n");

        none = capture_import(results, 1, JSON_OFF, &r);
        CHECK(r == 0);
        empty = capture_import(NULL, 0, JSON_PRETTY, &r);
        CHECK(r == 0);
        CHECK_STR(empty, "[\n]\n");
}

/* ---- monitor lines ------------------------------------------------------- */

static int seal(sd_bus_message *m) {
        int r;

        r = sd_bus_message_seal(m, 1, 0);
        if (r >= 0)
                r = sd_bus_message_rewind(m, true);
        return r;
}

#define DEV_UUID "5f2c0000-aaaa-4000-8000-00000000000b"
#define DEV_PATH "/org/siov1/device/_35f2c0000_2daaaa_2d4000_2d8000_2d00000000000b"

static char *format(sd_bus_message *m, bool json, int *ret) {
        char *line = NULL;

        *ret = seal(m);
        if (*ret >= 0)
                *ret = monitor_format(m, json, &line);
        return line;
}

static void test_monitor(void **state) {
        sd_bus *bus = *state;

        int r;

        /* a device appears */
        for (int json = 0; json <= 1; json++) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
                _cleanup_free_ char *line = NULL;

                CHECK(sd_bus_message_new_signal(bus, &m, "/org/siov1", "org.freedesktop.DBus.ObjectManager",
                                                "InterfacesAdded") >= 0);
                CHECK(sd_bus_message_append(m, "o", DEV_PATH) >= 0);
                CHECK(sd_bus_message_open_container(m, 'a', "{sa{sv}}") >= 0);
                CHECK(sd_bus_message_append(m, "{sa{sv}}", "org.freedesktop.DBus.Peer", 0) >= 0);
                CHECK(sd_bus_message_append(m, "{sa{sv}}", SIOV_DBUS_DEVICE_INTERFACE, 7,
                                            "Uuid", "s", DEV_UUID,
                                            "Parent", "s", "siov0",
                                            "Type", "s", "idxd-1dwq",
                                            "State", "s", "active",
                                            "VM", "s", "",
                                            "Attributes", "a(ss)", 1, "mode", "a=b",
                                            "HostUsed", "b", 0) >= 0);
                CHECK(sd_bus_message_close_container(m) >= 0);
                line = format(m, json, &r);
                CHECK(r >= 0);
                if (!json)
                        CHECK_STR(line, "added device " DEV_UUID " (siov0 idxd-1dwq) State=active");
                else
                        CHECK_STR(line, "{\"event\":\"added\",\"object\":\"device\",\"path\":\"" DEV_PATH "\","
                                        "\"uuid\":\"" DEV_UUID "\",\"properties\":{\"uuid\":\"" DEV_UUID "\","
                                        "\"parent\":\"siov0\",\"type\":\"idxd-1dwq\",\"state\":\"active\","
                                        "\"vm\":\"\",\"attributes\":[{\"name\":\"mode\",\"value\":\"a=b\"}],"
                                        "\"host_used\":false}}");
        }

        /* a parent appears; its name is read from the path */
        {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
                _cleanup_free_ char *line = NULL, *path = NULL;

                CHECK(sd_bus_path_encode(SIOV_DBUS_PARENT_PREFIX, "0000:3b:00.0", &path) >= 0);
                CHECK(sd_bus_message_new_signal(bus, &m, "/org/siov1", "org.freedesktop.DBus.ObjectManager",
                                                "InterfacesAdded") >= 0);
                CHECK(sd_bus_message_append(m, "oa{sa{sv}}", path, 1, SIOV_DBUS_PARENT_INTERFACE, 2,
                                            "Kinds", "as", 2, "mdev", "sriov",
                                            "Netdevs", "as", 0) >= 0);
                line = format(m, false, &r);
                CHECK_STR(line, "added parent 0000:3b:00.0 Kinds=[mdev,sriov]");
        }

        /* a device goes */
        for (int json = 0; json <= 1; json++) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
                _cleanup_free_ char *line = NULL;

                CHECK(sd_bus_message_new_signal(bus, &m, "/org/siov1", "org.freedesktop.DBus.ObjectManager",
                                                "InterfacesRemoved") >= 0);
                CHECK(sd_bus_message_append(m, "oas", DEV_PATH, 3, "org.freedesktop.DBus.Peer",
                                            "org.freedesktop.DBus.Properties", SIOV_DBUS_DEVICE_INTERFACE) >= 0);
                line = format(m, json, &r);
                if (!json)
                        CHECK_STR(line, "removed device " DEV_UUID);
                else
                        CHECK_STR(line, "{\"event\":\"removed\",\"object\":\"device\",\"path\":\"" DEV_PATH "\","
                                        "\"uuid\":\"" DEV_UUID "\",\"properties\":{}}");
        }

        /* availability moves */
        for (int json = 0; json <= 1; json++) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
                _cleanup_free_ char *line = NULL, *path = NULL;

                CHECK(sd_bus_path_encode_many(&path, SIOV_DBUS_PARENT_PREFIX "/%/type/%", "siov0", "idxd-1dwq") >= 0);
                CHECK(sd_bus_message_new_signal(bus, &m, path, "org.freedesktop.DBus.Properties",
                                                "PropertiesChanged") >= 0);
                CHECK(sd_bus_message_append(m, "sa{sv}as", SIOV_DBUS_TYPE_INTERFACE, 1,
                                            "AvailableInstances", "u", 3, 0) >= 0);
                line = format(m, json, &r);
                if (!json)
                        CHECK_STR(line, "changed type siov0/idxd-1dwq AvailableInstances=3");
                else
                        CHECK_STR(line, "{\"event\":\"changed\",\"object\":\"type\",\"path\":\"/org/siov1/parent/siov0/type/idxd_2d1dwq\","
                                        "\"name\":\"siov0/idxd-1dwq\",\"parent\":\"siov0\",\"id\":\"idxd-1dwq\","
                                        "\"properties\":{\"available_instances\":3},\"invalidated\":[]}");
        }

        /* a parent's host usage: dictionaries, keys as in `parents --json` */
        for (int json = 0; json <= 1; json++) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
                _cleanup_free_ char *line = NULL;

                CHECK(sd_bus_message_new_signal(bus, &m, "/org/siov1/parent/siov0", "org.freedesktop.DBus.Properties",
                                                "PropertiesChanged") >= 0);
                CHECK(sd_bus_message_append(m, "sa{sv}as", SIOV_DBUS_PARENT_INTERFACE, 2,
                                            "HostUsage", "a{su}", 2, "netdev", 2, "wq-kernel", 1,
                                            "TotalVFs", "u", 8, 0) >= 0);
                line = format(m, json, &r);
                if (!json)
                        CHECK_STR(line, "changed parent siov0 HostUsage={netdev=2,wq-kernel=1} TotalVFs=8");
                else
                        CHECK_STR(line, "{\"event\":\"changed\",\"object\":\"parent\",\"path\":\"/org/siov1/parent/siov0\","
                                        "\"name\":\"siov0\",\"properties\":{\"host_usage\":{\"netdev\":2,\"wq_kernel\":1},"
                                        "\"total_vfs\":8},\"invalidated\":[]}");
        }

        /* a device's state, a VM name that needs quoting, an invalidated property */
        {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
                _cleanup_free_ char *line = NULL;

                CHECK(sd_bus_message_new_signal(bus, &m, DEV_PATH, "org.freedesktop.DBus.Properties",
                                                "PropertiesChanged") >= 0);
                CHECK(sd_bus_message_append(m, "sa{sv}as", SIOV_DBUS_DEVICE_INTERFACE, 3,
                                            "State", "s", "both",
                                            "VM", "s", "my \"vm\"\n",
                                            "Autostart", "b", 1,
                                            1, "Attributes") >= 0);
                line = format(m, false, &r);
                CHECK_STR(line, "changed device " DEV_UUID " State=both VM=\"my \\\"vm\\\"\\n\" Autostart=true "
                                "Attributes=<invalidated>");
        }

        /* not siovd's: nothing to print */
        {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *m2 = NULL;
                _cleanup_free_ char *line = NULL, *line2 = NULL;

                CHECK(sd_bus_message_new_signal(bus, &m, "/org/siov1/x", "org.freedesktop.DBus.Properties",
                                                "PropertiesChanged") >= 0);
                CHECK(sd_bus_message_append(m, "sa{sv}as", "org.example.Other", 1, "X", "u", 1, 0) >= 0);
                line = format(m, false, &r);
                CHECK(r == 0 && !line);

                CHECK(sd_bus_message_new_signal(bus, &m2, "/org/siov1", "org.siov1.Manager", "Something") >= 0);
                line2 = format(m2, true, &r);
                CHECK(r == 0 && !line2);
        }

        /* a path of an unexpected shape is shown as it is */
        {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
                _cleanup_free_ char *line = NULL;

                CHECK(sd_bus_message_new_signal(bus, &m, "/org/siov1/device/a/b", "org.freedesktop.DBus.Properties",
                                                "PropertiesChanged") >= 0);
                CHECK(sd_bus_message_append(m, "sa{sv}as", SIOV_DBUS_DEVICE_INTERFACE, 1, "State", "s", "", 0) >= 0);
                line = format(m, false, &r);
                CHECK_STR(line, "changed device /org/siov1/device/a/b State=\"\"");
        }

        /* malformed */
        {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
                _cleanup_free_ char *line = NULL;

                CHECK(sd_bus_message_new_signal(bus, &m, "/org/siov1", "org.freedesktop.DBus.ObjectManager",
                                                "InterfacesAdded") >= 0);
                CHECK(sd_bus_message_append(m, "s", "garbage") >= 0);
                line = format(m, false, &r);
                CHECK(r == -EBADMSG && !line);
        }
}

/* An idxd parent: WorkQueues and IdxdGroups read from the reply, shown in
 * JSON and as the NoCapacity-style one-liner. */
static void test_idxd(void **state) {
        sd_bus *bus = *state;

        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(model_freep) Model *m = NULL;
        _cleanup_free_ char *buf = NULL, *one = NULL, *two = NULL;
        const Parent *p;
        size_t size = 0;
        FILE *f;

        CHECK(sd_bus_message_new_signal(bus, &reply, "/org/siov1", "org.siov1.Test", "Reply") >= 0);
        CHECK(sd_bus_message_open_container(reply, 'a', "{oa{sa{sv}}}") >= 0);
        CHECK(open_object(reply, SIOV_DBUS_PARENT_PREFIX "/dsa0") >= 0);
        CHECK(sd_bus_message_append(reply, "{sa{sv}}", SIOV_DBUS_PARENT_INTERFACE, 5,
                                    "Name", "s", "dsa0",
                                    "IdxdDevice", "s", "dsa0",
                                    "IdxdState", "s", "enabled",
                                    "WorkQueues", "a(ssssssuii)", 2,
                                    "wq0.0", "dedicated", "kernel", "enabled", "dmaengine", "dma", 16, 0, 1,
                                    "wq0.1", "shared", "none", "disabled", "", "", 0, -1, -1,
                                    "IdxdGroups", "a(sasas)", 1, "group0.0", 1, "wq0.0", 1, "engine0.0") >= 0);
        CHECK(close_object(reply) >= 0);
        CHECK(sd_bus_message_close_container(reply) >= 0);
        CHECK(sd_bus_message_seal(reply, 1, 0) >= 0);
        CHECK(sd_bus_message_rewind(reply, true) >= 0);

        m = calloc(1, sizeof(Model));
        if (!m || model_parse(m, reply) < 0 || model_link(m) < 0) {
                CHECK(false);
                return;
        }
        p = model_find_parent(m, "dsa0");
        CHECK(p && p->n_work_queues == 2 && p->n_idxd_groups == 1);
        if (!p || p->n_work_queues != 2)
                return;
        f = open_memstream(&buf, &size);
        if (f) {
                json_print(parent_to_json(p), f, JSON_SHORT);
                fclose(f);
        }
        CHECK(buf && strstr(buf, "\"idxd_device\":\"dsa0\",\"idxd_state\":\"enabled\",\"work_queues\":["
                                 "{\"name\":\"wq0.0\",\"mode\":\"dedicated\",\"type\":\"kernel\","
                                 "\"state\":\"enabled\",\"driver\":\"dmaengine\",\"label\":\"dma\","
                                 "\"size\":16,\"group\":0,\"clients\":1},"
                                 "{\"name\":\"wq0.1\",\"mode\":\"shared\",\"type\":\"none\","
                                 "\"state\":\"disabled\",\"driver\":\"\",\"label\":\"\","
                                 "\"size\":0,\"group\":-1,\"clients\":-1}],"
                                 "\"idxd_groups\":[{\"name\":\"group0.0\",\"work_queues\":[\"wq0.0\"],"
                                 "\"engines\":[\"engine0.0\"]}]"));
        one = work_queue_to_string(&p->work_queues[0]);
        two = work_queue_to_string(&p->work_queues[1]);
        CHECK_STR(one, "wq0.0 dedicated, kernel, enabled (dmaengine)");
        CHECK_STR(two, "wq0.1 shared, none, disabled");
}

/* sd-bus builds messages only on a started bus: one end of a socketpair
 * is enough, nothing is ever sent. */
static int bus_fds[2] = { -1, -1 };

static int bus_setup(void **state) {
        sd_bus *bus = NULL;

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, bus_fds) < 0)
                return -1;
        if (sd_bus_new(&bus) < 0 || sd_bus_set_fd(bus, bus_fds[0], bus_fds[0]) < 0 || sd_bus_start(bus) < 0) {
                sd_bus_unref(bus);
                return -1;
        }
        *state = bus;
        return 0;
}

static int bus_teardown(void **state) {
        sd_bus_unref(*state);
        if (bus_fds[1] >= 0)
                close(bus_fds[1]);
        return 0;
}

int main(void) {
        const struct CMUnitTest plain[] = {
                cmocka_unit_test(test_name_compare),
                cmocka_unit_test(test_exit_codes),
                cmocka_unit_test(test_exit_codes_of_errors),
                cmocka_unit_test(test_table),
                cmocka_unit_test(test_command_line),
                cmocka_unit_test(test_attrs_merge),
                cmocka_unit_test(test_device_path),
                cmocka_unit_test(test_import_print),
        };
        const struct CMUnitTest on_bus[] = {
                cmocka_unit_test(test_parse),
                cmocka_unit_test(test_parse_bad_signature),
                cmocka_unit_test(test_json),
                cmocka_unit_test(test_idxd),
                cmocka_unit_test(test_monitor),
        };
        int r;

        log_setup(PROGRAM, LOG_TARGET_CONSOLE);
        r = cmocka_run_group_tests_name("siovctl", plain, NULL, NULL);
        r += cmocka_run_group_tests_name("siovctl-bus", on_bus, bus_setup, bus_teardown);
        return r == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
