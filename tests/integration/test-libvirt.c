/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* daemon/vm.c against libvirt.
 *
 *   test-libvirt                 the suite on libvirt's test driver: a node
 *                                file written here; one process, because the
 *                                test driver's state lives in the connection
 *   test-libvirt URI VERB ARGS…  one call, for the shell tests against a real
 *                                libvirtd (test-libvirtd.sh); URI "-": vm.c's
 *                                default ($SIOV_LIBVIRT_URI, qemu:///system)
 *     exists VM | running VM | attach VM mdev UUID | attach VM vf ADDRESS
 *     detach VM mdev UUID | detach VM vf ADDRESS | users mdev UUID | users vf ADDRESS
 *     attach-config …, detach-config …: the same with config_only
 *     running-users mdev UUID | running-users vf ADDRESS | reconnect VM FILE
 *   prints "rc=N ERRNO-NAME" then the message (or the VM names, one a line).
 *
 * The suite reads the domain XML through the very connection vm.c caches
 * (vm_connect()). */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "siov-macro.h"
#include "vm.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(virDomainPtr, virDomainFree);
DEFINE_TRIVIAL_CLEANUP_FUNC(xmlDocPtr, xmlFreeDoc);

static unsigned n_passed, n_failed;
static const char *uri;

#define CHECK(name, cond)                                                       \
        do {                                                                    \
                if (cond) {                                                     \
                        n_passed++;                                             \
                        printf("PASS: %s\n", name);                             \
                } else {                                                        \
                        n_failed++;                                             \
                        printf("FAIL: %s (%s:%d: %s)\n", name, __FILE__, __LINE__, #cond); \
                }                                                               \
        } while (0)

#define CHECK_RC(name, expr, expected)                                          \
        do {                                                                    \
                int _r = (expr);                                                \
                if (_r == (expected)) {                                         \
                        n_passed++;                                             \
                        printf("PASS: %s\n", name);                             \
                } else {                                                        \
                        n_failed++;                                             \
                        printf("FAIL: %s: expected %d (%s), got %d (%s); message: %s\n", \
                               name, (expected), strerror(-(expected)), _r,     \
                               strerror(-_r), strempty(msg));                   \
                }                                                               \
        } while (0)

static bool contains(const char *haystack, const char *needle) {
        return haystack && strstr(haystack, needle);
}

/* The domain's XML (persistent definition with secrets, or live) through
 * vm.c's cached connection. */
static char *get_xml(const char *vm, bool inactive) {
        _cleanup_(virDomainFreep) virDomainPtr dom = NULL;
        virConnectPtr conn;

        if (vm_connect(uri, &conn, NULL) < 0)
                return NULL;
        dom = virDomainLookupByName(conn, vm);
        if (!dom)
                return NULL;
        return virDomainGetXMLDesc(dom, inactive ? VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE : 0);
}

/* count(expr) over the VM's XML, or -1. */
static int xpath_count(const char *vm, bool inactive, const char *expr) {
        _cleanup_free_ char *xml = get_xml(vm, inactive);
        _cleanup_(xmlFreeDocp) xmlDocPtr doc = NULL;
        xmlXPathContextPtr ctx;
        xmlXPathObjectPtr o;
        int n = -1;

        if (!xml)
                return -1;
        doc = xmlReadMemory(xml, (int) strlen(xml), "domain.xml", NULL, XML_PARSE_NONET);
        if (!doc || !(ctx = xmlXPathNewContext(doc)))
                return -1;
        o = xmlXPathEvalExpression(BAD_CAST expr, ctx);
        if (o && o->type == XPATH_NUMBER)
                n = (int) o->floatval;
        xmlXPathFreeObject(o);
        xmlXPathFreeContext(ctx);
        return n;
}

static int count_hostdevs(const char *vm) {
        return xpath_count(vm, true, "count(/domain/devices/hostdev)");
}

static bool strv_equal_to(char **l, const char *joined) {
        char buf[512] = "";

        for (char **i = l; i && *i; i++) {
                if (i != l)
                        strncat(buf, " ", sizeof(buf) - strlen(buf) - 1);
                strncat(buf, *i, sizeof(buf) - strlen(buf) - 1);
        }
        if (!streq(buf, joined))
                printf("       users: '%s', expected '%s'\n", buf, joined);
        return streq(buf, joined);
}

#define U1 "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeee01"
#define U2 "11111111-2222-3333-4444-555555555502"
#define U3 "11111111-2222-3333-4444-555555555503"
#define U4 "44444444-2222-3333-4444-555555555555"

static const char node_xml[] =
        "<node>\n"
        "  <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>\n"
        "    <name>vm1</name><memory>65536</memory><os><type>hvm</type></os>\n"
        "    <devices>\n"
        "      <interface type='hostdev' managed='no'>\n"
        "        <source><address type='pci' domain='0x0000' bus='0x5e' slot='0x00' function='0x1'/></source>\n"
        "      </interface>\n"
        "      <graphics type='vnc' passwd='s3cret'/>\n"
        "    </devices>\n"
        "    <test:runstate>5</test:runstate>\n"
        "  </domain>\n"
        "  <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>\n"
        "    <name>vm2</name><memory>65536</memory><os><type>hvm</type></os>\n"
        "    <devices/>\n"
        "    <test:runstate>5</test:runstate>\n"
        "  </domain>\n"
        /* Running (the test driver starts file domains), with U4 plugged. */
        "  <domain type='test'>\n"
        "    <name>vmrun</name><memory>65536</memory><os><type>hvm</type></os>\n"
        "    <devices>\n"
        "      <hostdev mode='subsystem' type='mdev' model='vfio-pci'><source><address uuid='" U4 "'/></source></hostdev>\n"
        "    </devices>\n"
        "  </domain>\n"
        "  <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>\n"
        "    <name>vmtrans</name><memory>65536</memory><os><type>hvm</type></os>\n"
        "    <devices/>\n"
        "    <test:transient/>\n"
        "  </domain>\n"
        "</node>\n";

static void suite_testdriver(void) {
        _cleanup_free_ char *msg = NULL, *path = NULL, *u = NULL;
        _cleanup_free_ char *tmpl = NULL;
        char name[300];
        FILE *f;

        if (asprintf(&tmpl, "%s/siov-test-libvirt.XXXXXX", getenv("TMPDIR") ?: "/tmp") < 0 || !mkdtemp(tmpl) || asprintf(&path, "%s/node.xml", tmpl) < 0 || !(f = fopen(path, "we"))) {
                CHECK("write the node file", false);
                return;
        }
        fputs(node_xml, f);
        fclose(f);
        if (asprintf(&u, "test://%s", path) < 0)
                return;
        uri = u;

        VmHostdev m1 = { .uuid = U1 }, m2 = { .uuid = U2 }, m3 = { .uuid = U3 }, m4 = { .uuid = U4 };
        VmHostdev m1_upper = { .uuid = "AAAAAAAA-BBBB-cccc-DDDD-eeeeeeeeee01" };
        VmHostdev vf = { .is_vf = true, .uuid = U3, .pci_address = "0000:3b:02.1" };
        VmHostdev vf_iface = { .is_vf = true, .pci_address = "0000:5e:00.1" };
        char **users = NULL;

        VmHostdev mab = { .uuid = "11111111-2222-3333-4444-5555555555AB" };

        /* --- names and existence --- */
        CHECK_RC("exists: vm1", vm_exists(uri, "vm1", &msg), 1);
        CHECK("exists: vm1 leaves no message", msg == NULL);
        CHECK_RC("exists: missing VM → 0", vm_exists(uri, "ghost", &msg), 0);
        CHECK("exists: message names the VM and quotes libvirt",
              contains(msg, "no VM 'ghost' (libvirt: ") && contains(msg, "ghost"));
        CHECK_RC("exists: control character → -EINVAL", vm_exists(uri, "vm\n1", &msg), -EINVAL);
        CHECK_RC("exists: DEL → -EINVAL", vm_exists(uri, "vm\x7f", &msg), -EINVAL);
        CHECK_RC("exists: empty → -EINVAL", vm_exists(uri, "", &msg), -EINVAL);
        CHECK_RC("exists: NULL → -EINVAL", vm_exists(uri, NULL, &msg), -EINVAL);
        CHECK_RC("exists: bad UTF-8 → -EINVAL", vm_exists(uri, "vm\xc3", &msg), -EINVAL);
        CHECK_RC("exists: overlong UTF-8 → -EINVAL", vm_exists(uri, "vm\xc0\xaf", &msg), -EINVAL);
        CHECK_RC("exists: C1 control → -EINVAL", vm_exists(uri, "vm\xc2\x85", &msg), -EINVAL);
        memset(name, 'a', 256);
        name[256] = 0;
        CHECK_RC("exists: 256 bytes → -EINVAL", vm_exists(uri, name, &msg), -EINVAL);
        name[255] = 0;
        CHECK_RC("exists: 255 bytes is a valid name (no such VM)", vm_exists(uri, name, &msg), 0);
        CHECK("names: UTF-8 and punctuation are fine", vm_name_is_valid("vm-é 'x' <y>"));
        CHECK_RC("exists: quotes and brackets in a name reach libvirt as they are",
                 vm_exists(uri, "vm1' or '1", &msg), 0);

        CHECK_RC("running: vm1 is shut off", vm_is_running(uri, "vm1", &msg), 0);
        CHECK_RC("running: vmrun runs", vm_is_running(uri, "vmrun", &msg), 1);
        CHECK_RC("running: missing VM → -ESRCH", vm_is_running(uri, "ghost", &msg), -ESRCH);
        CHECK("running: message names the VM", contains(msg, "'ghost'"));

        /* --- attach/detach: the test driver has no attach, so this is the
         * redefine path --- */
        CHECK_RC("attach mdev U1 to vm1", vm_attach(uri, "vm1", &m1, &msg), 0);
        CHECK("attach: the definition has the mdev hostdev",
              xpath_count("vm1", true,
                          "count(/domain/devices/hostdev[@mode='subsystem'][@type='mdev'][@model='vfio-pci']"
                          "/source/address[@uuid='" U1 "'])") == 1);
        CHECK("attach: one hostdev in all", count_hostdevs("vm1") == 1);
        CHECK("attach: the rest of the definition is kept (interface, VNC password)",
              xpath_count("vm1", true, "count(/domain/devices/interface[@type='hostdev'])") == 1 &&
              xpath_count("vm1", true, "count(/domain/devices/graphics[@passwd='s3cret'])") == 1);
        CHECK_RC("attach U1 again → -EEXIST", vm_attach(uri, "vm1", &m1, &msg), -EEXIST);
        CHECK("attach again: message names VM and device",
              contains(msg, "VM 'vm1' already has mdev " U1 " in its definition"));
        CHECK("attach again: nothing changed", count_hostdevs("vm1") == 1);
        CHECK_RC("attach U1 in another case → -EEXIST", vm_attach(uri, "vm1", &m1_upper, &msg), -EEXIST);

        CHECK_RC("attach mdev U2 to vm1", vm_attach(uri, "vm1", &m2, &msg), 0);
        CHECK("two hostdevs", count_hostdevs("vm1") == 2);
        CHECK_RC("attach an upper-case UUID", vm_attach(uri, "vm1", &mab, &msg), 0);
        CHECK("upper-case UUID written in lower case",
              xpath_count("vm1", true, "count(//hostdev/source/address[@uuid='11111111-2222-3333-4444-5555555555ab'])") == 1);
        CHECK_RC("detach it by the upper-case UUID", vm_detach(uri, "vm1", &mab, &msg), 0);

        CHECK_RC("users of U1", vm_find_users(uri, &m1, &users, &msg), 0);
        CHECK("users of U1: vm1", strv_equal_to(users, "vm1"));
        users = strv_free(users);
        CHECK_RC("attach U1 to vm2 too", vm_attach(uri, "vm2", &m1, &msg), 0);
        CHECK_RC("users of U1 (two VMs)", vm_find_users(uri, &m1, &users, &msg), 0);
        CHECK("users of U1: vm1 vm2, sorted", strv_equal_to(users, "vm1 vm2"));
        users = strv_free(users);
        CHECK_RC("detach U1 from vm2", vm_detach(uri, "vm2", &m1, &msg), 0);
        CHECK_RC("users of U3", vm_find_users(uri, &m3, &users, &msg), 0);
        CHECK("users of U3: none", users && !users[0]);
        users = strv_free(users);
        CHECK_RC("running users of U1", vm_find_running_users(uri, &m1, &users, &msg), 0);
        CHECK("running users of U1: none (vm1 is shut off)", users && !users[0]);
        users = strv_free(users);

        CHECK_RC("detach U1 from vm1", vm_detach(uri, "vm1", &m1, &msg), 0);
        CHECK("detach: U1 gone, U2 kept",
              xpath_count("vm1", true, "count(//hostdev/source/address[@uuid='" U1 "'])") == 0 &&
              xpath_count("vm1", true, "count(//hostdev/source/address[@uuid='" U2 "'])") == 1 &&
              count_hostdevs("vm1") == 1);
        CHECK_RC("detach U1 again → -ENOENT", vm_detach(uri, "vm1", &m1, &msg), -ENOENT);
        CHECK("detach again: message", contains(msg, "VM 'vm1' has no mdev " U1 " in its definition"));
        CHECK_RC("detach U2", vm_detach(uri, "vm1", &m2, &msg), 0);
        CHECK("no hostdev left", count_hostdevs("vm1") == 0);

        /* --- VF form --- */
        CHECK_RC("attach VF 0000:3b:02.1", vm_attach(uri, "vm1", &vf, &msg), 0);
        CHECK("VF: PCI hostdev, managed='no', the address",
              xpath_count("vm1", true,
                          "count(/domain/devices/hostdev[@mode='subsystem'][@type='pci'][@managed='no']"
                          "/source/address[@domain='0x0000'][@bus='0x3b'][@slot='0x02'][@function='0x1'])") == 1);
        CHECK_RC("attach VF again → -EEXIST", vm_attach(uri, "vm1", &vf, &msg), -EEXIST);
        CHECK("VF again: message", contains(msg, "VM 'vm1' already has VF 0000:3b:02.1"));
        CHECK_RC("users of the VF", vm_find_users(uri, &vf, &users, &msg), 0);
        CHECK("users of the VF: vm1", strv_equal_to(users, "vm1"));
        users = strv_free(users);
        CHECK_RC("detach VF", vm_detach(uri, "vm1", &vf, &msg), 0);
        CHECK("VF gone", count_hostdevs("vm1") == 0);
        CHECK_RC("detach VF again → -ENOENT", vm_detach(uri, "vm1", &vf, &msg), -ENOENT);

        /* A VF the VM has as <interface type='hostdev'> counts as used. */
        CHECK_RC("VF present as <interface type='hostdev'> → -EEXIST", vm_attach(uri, "vm1", &vf_iface, &msg), -EEXIST);
        CHECK("interface: message says so", contains(msg, "<interface type='hostdev'>"));
        CHECK_RC("users of the interface VF", vm_find_users(uri, &vf_iface, &users, &msg), 0);
        CHECK("users of the interface VF: vm1", strv_equal_to(users, "vm1"));
        users = strv_free(users);
        CHECK_RC("detach of an <interface> VF → -ENOENT", vm_detach(uri, "vm1", &vf_iface, &msg), -ENOENT);
        CHECK("interface kept", xpath_count("vm1", true, "count(/domain/devices/interface[@type='hostdev'])") == 1);

        /* --- refused input: nothing reaches libvirt --- */
        static const char *const bad_uuids[] = {
                "11111111-2222-3333-4444-55555555550'",
                "11111111-2222-3333-4444-5555555555'/><x",
                "<hostdev/>",
                "11111111-2222-3333-4444-5555555555010",
                "11111111-2222-3333-4444-55555555550",
                "11111111+2222-3333-4444-555555555501",
                "1111111g-2222-3333-4444-555555555501",
                "11111111-2222-3333-4444-55555555550\n",
                "",
                NULL,
        };
        for (size_t i = 0; i < ELEMENTSOF(bad_uuids); i++) {
                VmHostdev b = { .uuid = bad_uuids[i] };
                char t[160];

                snprintf(t, sizeof(t), "bad UUID #%zu refused by attach", i);
                CHECK_RC(t, vm_attach(uri, "vm1", &b, &msg), -EINVAL);
                snprintf(t, sizeof(t), "bad UUID #%zu refused by detach and users", i);
                CHECK(t, vm_detach(uri, "vm1", &b, &msg) == -EINVAL && vm_find_users(uri, &b, &users, &msg) == -EINVAL);
        }
        CHECK("bad UUID: message says what is expected", contains(msg, "invalid mdev UUID"));
        static const char *const bad_addresses[] = {
                "0000:3b:02.8", "0000:3b:20.1", "3b:02.1", "0000:3b:02.1'", "0000:3b:2.1",
                "0000:3b:02.1 ", "0000:3b:02", "000:3b:02.1", "0000:3bb:02.1", "", NULL,
        };
        for (size_t i = 0; i < ELEMENTSOF(bad_addresses); i++) {
                VmHostdev b = { .is_vf = true, .pci_address = bad_addresses[i] };
                char t[160];

                snprintf(t, sizeof(t), "bad PCI address #%zu refused", i);
                CHECK_RC(t, vm_attach(uri, "vm1", &b, &msg), -EINVAL);
        }
        CHECK("nothing was added by refused input", count_hostdevs("vm1") == 0);
        CHECK_RC("NULL device refused", vm_attach(uri, "vm1", NULL, &msg), -EINVAL);

        /* --- VMs that can't take it --- */
        CHECK_RC("attach to a missing VM → -ESRCH", vm_attach(uri, "ghost", &m1, &msg), -ESRCH);
        CHECK("missing VM: message names it and quotes libvirt", contains(msg, "no VM 'ghost' (libvirt: "));
        CHECK_RC("detach from a missing VM → -ESRCH", vm_detach(uri, "ghost", &m1, &msg), -ESRCH);
        CHECK_RC("attach with a bad VM name → -EINVAL", vm_attach(uri, "a\tb", &m1, &msg), -EINVAL);

        CHECK_RC("attach to a running VM whose driver cannot hot-plug → -EBUSY",
                 vm_attach(uri, "vmrun", &m1, &msg), -EBUSY);
        CHECK("running: message names the VM and says why",
              contains(msg, "VM 'vmrun' is running") && contains(msg, "cannot hot-plug"));
        CHECK("running: definition and live domain unchanged",
              xpath_count("vmrun", true, "count(//hostdev)") == 1 && xpath_count("vmrun", false, "count(//hostdev)") == 1);
        CHECK_RC("detach from a running VM whose driver cannot hot-unplug → -EBUSY",
                 vm_detach(uri, "vmrun", &m4, &msg), -EBUSY);
        CHECK("running: still there", xpath_count("vmrun", true, "count(//hostdev)") == 1);
        VmHostdev m1_config = { .uuid = U1, .config_only = true };
        CHECK_RC("config_only: attach to the running VM's definition", vm_attach(uri, "vmrun", &m1_config, &msg), 0);
        CHECK("config_only: in the definition, not in the live domain",
              xpath_count("vmrun", true, "count(//hostdev/source/address[@uuid='" U1 "'])") == 1 &&
              xpath_count("vmrun", false, "count(//hostdev/source/address[@uuid='" U1 "'])") == 0);
        CHECK_RC("config_only: detach from the running VM's definition", vm_detach(uri, "vmrun", &m1_config, &msg), 0);
        CHECK("config_only: gone from the definition, U4 kept",
              xpath_count("vmrun", true, "count(//hostdev/source/address[@uuid='" U1 "'])") == 0 &&
              xpath_count("vmrun", true, "count(//hostdev)") == 1 && xpath_count("vmrun", false, "count(//hostdev)") == 1);
        CHECK_RC("running users of U4", vm_find_running_users(uri, &m4, &users, &msg), 0);
        CHECK("running users of U4: vmrun", strv_equal_to(users, "vmrun"));
        users = strv_free(users);

        CHECK_RC("attach to a transient VM → -EINVAL", vm_attach(uri, "vmtrans", &m1, &msg), -EINVAL);
        CHECK("transient: message", contains(msg, "VM 'vmtrans' is transient"));

        /* --- URI handling and the connection cache --- */
        setenv("SIOV_LIBVIRT_URI", uri, 1);
        CHECK_RC("attach with uri NULL uses $SIOV_LIBVIRT_URI", vm_attach(NULL, "vm1", &m3, &msg), 0);
        CHECK("… on the same cached connection", count_hostdevs("vm1") == 1);
        unsetenv("SIOV_LIBVIRT_URI");
        CHECK_RC("unreachable URI → -ENOTCONN", vm_exists("test:///nonexistent/node.xml", "vm1", &msg), -ENOTCONN);
        CHECK("unreachable: message names the URI", contains(msg, "cannot connect to libvirt at test:///nonexistent/node.xml"));
        vm_close();
        CHECK("vm_close drops the test driver's state (a new connection re-reads the file)", count_hostdevs("vm1") == 0);

        (void) unlink(path);
        (void) rmdir(tmpl);
}

static bool endswith(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);

        return a >= b && streq(s + a - b, suffix);
}

static int run_verb(int argc, char **argv) {
        _cleanup_free_ char *msg = NULL;
        _cleanup_strv_free_ char **users = NULL;
        const char *verb = argv[2];
        VmHostdev h = {};
        int r, i = 3;

        uri = streq(argv[1], "-") ? NULL : argv[1];

        if (STR_IN_SET(verb, "exists", "running")) {
                if (argc != 4)
                        goto usage;
                r = streq(verb, "exists") ? vm_exists(uri, argv[3], &msg) : vm_is_running(uri, argv[3], &msg);
        } else if (streq(verb, "reconnect")) {
                /* reconnect VM FILE: vm_exists; then, after creating
                 * FILE.ready, wait for FILE while the test restarts
                 * libvirtd; then vm_exists again (the cached connection is
                 * dead by then). */
                _cleanup_free_ char *ready = NULL;
                FILE *f;

                if (argc != 5 || asprintf(&ready, "%s.ready", argv[4]) < 0)
                        goto usage;
                r = vm_exists(uri, argv[3], &msg);
                printf("rc=%d %s\n", r, r < 0 ? strerrorname_np(-r) : "OK");
                fflush(stdout);
                if (!(f = fopen(ready, "we")))
                        return 1;
                fclose(f);
                for (int k = 0; k < 1200 && access(argv[4], F_OK) < 0; k++)
                        usleep(100 * 1000);
                r = vm_exists(uri, argv[3], &msg);
        } else if (STR_IN_SET(verb, "attach", "detach", "attach-config", "detach-config", "users", "running-users")) {
                const char *vm = NULL;

                h.config_only = endswith(verb, "-config");
                if (STR_IN_SET(verb, "attach", "detach", "attach-config", "detach-config"))
                        vm = argv[i++];
                if (argc != i + 2)
                        goto usage;
                h.is_vf = streq(argv[i], "vf");
                if (h.is_vf)
                        h.pci_address = argv[i + 1];
                else if (streq(argv[i], "mdev"))
                        h.uuid = argv[i + 1];
                else
                        goto usage;
                if (STR_IN_SET(verb, "attach", "attach-config"))
                        r = vm_attach(uri, vm, &h, &msg);
                else if (STR_IN_SET(verb, "detach", "detach-config"))
                        r = vm_detach(uri, vm, &h, &msg);
                else if (streq(verb, "users"))
                        r = vm_find_users(uri, &h, &users, &msg);
                else
                        r = vm_find_running_users(uri, &h, &users, &msg);
        } else
                goto usage;

        printf("rc=%d %s\n", r, r < 0 ? strerrorname_np(-r) : "OK");
        if (msg)
                printf("%s\n", msg);
        for (char **u = users; u && *u; u++)
                printf("%s\n", *u);
        vm_close();
        return 0;

usage:
        fprintf(stderr, "usage: test-libvirt URI|- exists|running VM\n"
                        "       test-libvirt URI|- reconnect VM FILE\n"
                        "       test-libvirt URI|- attach|detach|attach-config|detach-config VM mdev UUID|vf ADDRESS\n"
                        "       test-libvirt URI|- users|running-users mdev UUID|vf ADDRESS\n");
        return 2;
}

int main(int argc, char **argv) {
        /* Whole lines: libvirt's parser may warn on stderr in between. */
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (argc >= 3)
                return run_verb(argc, argv);
        if (argc != 1) {
                fprintf(stderr, "usage: test-libvirt [URI VERB ARGS…]\n");
                return 2;
        }
        suite_testdriver();
        printf("%u passed, %u failed\n", n_passed, n_failed);
        return n_failed == 0 && n_passed > 0 ? 0 : 1;
}
