/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "siov-macro.h"
#include "valid.h"
#include "vm.h"

/* libvirt, and libxml2 for its XML, are loaded on first use (dlopen,
 * systemd's dlopen_* style): a host that never assigns a device to a VM
 * does not map them and the libraries they pull in. Every function vm.c
 * calls of them is here. */
#define LIBVIRT_SONAME "libvirt.so.0"
#define LIBXML_SONAME "libxml2.so.2"
#define DLSYM(f) static typeof(f) *sym_##f
DLSYM(virInitialize);
DLSYM(virSetErrorFunc);
DLSYM(virGetLastErrorMessage);
DLSYM(virGetLastError);
DLSYM(virConnectIsAlive);
DLSYM(virConnectGetLibVersion);
DLSYM(virConnectClose);
DLSYM(virConnectOpen);
DLSYM(virDomainLookupByName);
DLSYM(virDomainGetXMLDesc);
DLSYM(virDomainIsActive);
DLSYM(virDomainDefineXML);
DLSYM(virDomainFree);
DLSYM(virDomainIsPersistent);
DLSYM(virDomainAttachDeviceFlags);
DLSYM(virDomainDetachDeviceFlags);
DLSYM(virConnectListAllDomains);
DLSYM(virDomainGetName);
DLSYM(xmlFreeDoc);
DLSYM(xmlFreeNode);
DLSYM(xmlInitParser);
DLSYM(xmlStrEqual);
DLSYM(xmlGetProp);
DLSYM(xmlReadMemory);
DLSYM(xmlDocGetRootElement);
DLSYM(xmlNewNode);
DLSYM(xmlNewProp);
DLSYM(xmlNewChild);
DLSYM(xmlBufferCreate);
DLSYM(xmlNodeDump);
DLSYM(xmlBufferContent);
DLSYM(xmlBufferFree);
DLSYM(xmlUnlinkNode);
DLSYM(xmlAddChild);
DLSYM(xmlDocDumpMemory);
/* A variable (the allocator's free), not a function. */
static xmlFreeFunc *sym_xmlFree;

#define VM_DEFAULT_URI "qemu:///system"
#define UUID_STRING_LEN 36

static void virDomainFreep(virDomainPtr *p) {
        if (*p)
                sym_virDomainFree(*p);
}
static void xmlFreeDocp(xmlDocPtr *p) {
        if (*p)
                sym_xmlFreeDoc(*p);
}
static void xmlFreeNodep(xmlNodePtr *p) {
        if (*p)
                sym_xmlFreeNode(*p);
}
static void xml_freep(xmlChar **p) {
        if (*p)
                (*sym_xmlFree)(*p);
}
#define _cleanup_xml_free_ _cleanup_(xml_freep)

/* A hostdev after validation: only these fields ever reach XML. */
typedef struct Hostdev {
        bool is_vf;
        bool config_only;
        char uuid[UUID_STRING_LEN + 1];         /* mdev, lower case */
        unsigned domain, bus, slot, function;   /* VF */
        char what[64];                          /* "mdev <uuid>" / "VF <address>", for messages */
} Hostdev;

/* The cached connections, one per URI (see vm.h for why). */
typedef struct VmConnection {
        char *uri;
        virConnectPtr conn;
        struct VmConnection *next;
} VmConnection;

static VmConnection *connections;

static int set_error(char **error_msg, int r, const char *format, ...) _printf_(3, 4);
static int set_error(char **error_msg, int r, const char *format, ...) {
        va_list ap;
        char *m = NULL;

        if (!error_msg)
                return r;
        va_start(ap, format);
        if (vasprintf(&m, format, ap) < 0)
                m = NULL;
        va_end(ap);
        free(*error_msg);
        *error_msg = m;
        return r;
}

static void libvirt_silent(void *userdata, virErrorPtr error) {
        /* libvirt prints every error to stderr by default; we report them
         * ourselves, with the VM's name. */
}

typedef struct DlSym {
        const char *name;
        void **sym;
} DlSym;
#define DL_SYM(f) { #f, (void **) &sym_##f }

/* Loads soname and every symbol of table, or none: -EOPNOTSUPP with a
 * message saying what to install. */
static int dlopen_syms(void **dl, const char *what, const char *soname, const char *package, const DlSym *table,
                       size_t n, char **error_msg) {
        void *h;

        if (*dl)
                return 0;
        h = dlopen(soname, RTLD_NOW | RTLD_NODELETE);
        if (!h)
                return set_error(error_msg, -EOPNOTSUPP, "%s cannot be loaded (%s): install %s to assign devices to VMs",
                                 what, dlerror(), package);
        for (size_t i = 0; i < n; i++) {
                *table[i].sym = dlsym(h, table[i].name);
                if (!*table[i].sym) {
                        for (size_t k = 0; k < n; k++)
                                *table[k].sym = NULL;
                        (void) dlclose(h);
                        return set_error(error_msg, -EOPNOTSUPP, "%s lacks %s (too old?): install a newer %s to assign "
                                         "devices to VMs", soname, table[i].name, package);
                }
        }
        *dl = h;
        return 0;
}

static int libvirt_load(char **error_msg) {
        static const DlSym libvirt[] = {
                DL_SYM(virInitialize), DL_SYM(virSetErrorFunc), DL_SYM(virGetLastErrorMessage),
                DL_SYM(virGetLastError), DL_SYM(virConnectIsAlive), DL_SYM(virConnectGetLibVersion),
                DL_SYM(virConnectClose), DL_SYM(virConnectOpen), DL_SYM(virDomainLookupByName),
                DL_SYM(virDomainGetXMLDesc), DL_SYM(virDomainIsActive), DL_SYM(virDomainDefineXML),
                DL_SYM(virDomainFree), DL_SYM(virDomainIsPersistent), DL_SYM(virDomainAttachDeviceFlags),
                DL_SYM(virDomainDetachDeviceFlags), DL_SYM(virConnectListAllDomains), DL_SYM(virDomainGetName),
        };
        static const DlSym libxml[] = {
                DL_SYM(xmlFreeDoc), DL_SYM(xmlFreeNode), DL_SYM(xmlInitParser), DL_SYM(xmlStrEqual),
                DL_SYM(xmlGetProp), DL_SYM(xmlReadMemory), DL_SYM(xmlDocGetRootElement), DL_SYM(xmlNewNode),
                DL_SYM(xmlNewProp), DL_SYM(xmlNewChild), DL_SYM(xmlBufferCreate), DL_SYM(xmlNodeDump),
                DL_SYM(xmlBufferContent), DL_SYM(xmlBufferFree), DL_SYM(xmlUnlinkNode), DL_SYM(xmlAddChild),
                DL_SYM(xmlDocDumpMemory), DL_SYM(xmlFree),
        };
        static void *libvirt_dl, *libxml_dl;
        int r;

        r = dlopen_syms(&libxml_dl, "libxml2", LIBXML_SONAME, "libxml2", libxml, ELEMENTSOF(libxml), error_msg);
        if (r < 0)
                return r;
        return dlopen_syms(&libvirt_dl, "libvirt", LIBVIRT_SONAME, "libvirt0", libvirt, ELEMENTSOF(libvirt), error_msg);
}

static int vm_init(char **error_msg) {
        static bool done = false;
        struct sigaction sa;
        int r;

        if (done)
                return 0;
        r = libvirt_load(error_msg);
        if (r < 0)
                return r;
        (void) sym_virInitialize();
        sym_virSetErrorFunc(NULL, libvirt_silent);
        /* libvirt's client writes to its socket without MSG_NOSIGNAL: after
         * a libvirtd restart the next call would kill us with SIGPIPE
         * (measured) instead of failing. sd-bus does not need SIGPIPE. */
        if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
                (void) signal(SIGPIPE, SIG_IGN);
        sym_xmlInitParser();
        done = true;
        return 0;
}

static const char *libvirt_message(void) {
        const char *m = sym_virGetLastErrorMessage();

        return isempty(m) ? "unknown libvirt error" : m;
}

/* The errno for libvirt's last error. */
static int libvirt_errno(void) {
        virErrorPtr e = sym_virGetLastError();

        if (!e)
                return -EIO;
        switch (e->code) {
        case VIR_ERR_NO_DOMAIN:
                return -ESRCH;
        case VIR_ERR_NO_MEMORY:
                return -ENOMEM;
        case VIR_ERR_DEVICE_MISSING:
                return -ENOENT;
        case VIR_ERR_AUTH_FAILED:
        case VIR_ERR_AUTH_CANCELLED:
        case VIR_ERR_AUTH_UNAVAILABLE:
        case VIR_ERR_ACCESS_DENIED:
        case VIR_ERR_OPERATION_DENIED:
                return -EACCES;
        case VIR_ERR_NO_CONNECT:
        case VIR_ERR_RPC:
                return -ENOTCONN;
        case VIR_ERR_SYSTEM_ERROR:
                return e->domain == VIR_FROM_RPC || e->domain == VIR_FROM_REMOTE ? -ENOTCONN : -EIO;
        default:
                return -EIO;
        }
}

static bool libvirt_error_is(int code) {
        virErrorPtr e = sym_virGetLastError();

        return e && e->code == code;
}

static const char *resolve_uri(const char *uri) {
        const char *e;

        if (!isempty(uri))
                return uri;
        e = getenv("SIOV_LIBVIRT_URI");
        return isempty(e) ? VM_DEFAULT_URI : e;
}

/* The cached connection for uri, checked with a cheap call: a remote
 * connection whose daemon restarted only notices on its next call, and one
 * stale failure per restart would reach the user. */
int vm_connect(const char *uri, virConnectPtr *ret, char **error_msg) {
        VmConnection **p, *c;
        unsigned long version;
        virConnectPtr conn;
        int r;

        r = vm_init(error_msg);
        if (r < 0)
                return r;
        uri = resolve_uri(uri);

        for (p = &connections; *p; p = &(*p)->next) {
                c = *p;
                if (!streq(c->uri, uri))
                        continue;
                if (sym_virConnectIsAlive(c->conn) == 1 && sym_virConnectGetLibVersion(c->conn, &version) == 0) {
                        *ret = c->conn;
                        return 0;
                }
                *p = c->next;
                (void) sym_virConnectClose(c->conn);
                free(c->uri);
                free(c);
                break;
        }

        conn = sym_virConnectOpen(uri);
        if (!conn)
                return set_error(error_msg, -ENOTCONN, "cannot connect to libvirt at %s: %s", uri, libvirt_message());

        c = calloc(1, sizeof(*c));
        if (!c || !(c->uri = strdup(uri))) {
                free(c);
                (void) sym_virConnectClose(conn);
                return set_error(error_msg, -ENOMEM, "out of memory");
        }
        c->conn = conn;
        c->next = connections;
        connections = c;
        *ret = conn;
        return 0;
}

void vm_close(void) {
        while (connections) {
                VmConnection *c = connections;

                connections = c->next;
                (void) sym_virConnectClose(c->conn);
                free(c->uri);
                free(c);
        }
}

/* ---- validation ---------------------------------------------------------- */

static int check_vm_name(const char *vm, char **error_msg) {
        if (vm_name_is_valid(vm))
                return 0;
        return set_error(error_msg, -EINVAL, VM_NAME_INVALID_MESSAGE);
}

static int parse_hex(const char **p, size_t min, size_t max, unsigned *ret) {
        const char *s = *p;
        unsigned v = 0;
        size_t n = 0;

        while (n < max && isxdigit((unsigned char) s[n])) {
                char c = (char) tolower((unsigned char) s[n]);

                v = v * 16 + (unsigned) (isdigit((unsigned char) c) ? c - '0' : c - 'a' + 10);
                n++;
        }
        if (n < min || isxdigit((unsigned char) s[n]))
                return -EINVAL;
        *p = s + n;
        *ret = v;
        return 0;
}

static int hostdev_parse(const VmHostdev *h, Hostdev *ret, char **error_msg) {
        Hostdev d = { .is_vf = h && h->is_vf, .config_only = h && h->config_only };

        if (!h)
                return set_error(error_msg, -EINVAL, "no device given");

        if (!d.is_vf) {
                const char *u = h->uuid;

                if (!u || strlen(u) != UUID_STRING_LEN)
                        goto bad_uuid;
                for (size_t i = 0; i < UUID_STRING_LEN; i++) {
                        bool dash = i == 8 || i == 13 || i == 18 || i == 23;

                        if (dash ? u[i] != '-' : !isxdigit((unsigned char) u[i]))
                                goto bad_uuid;
                        d.uuid[i] = (char) tolower((unsigned char) u[i]);
                }
                snprintf(d.what, sizeof(d.what), "mdev %s", d.uuid);
        } else {
                const char *p = h->pci_address;

                /* dddd:bb:ss.f, as in sysfs (the domain may be longer than 4). */
                if (!p ||
                    parse_hex(&p, 4, 8, &d.domain) < 0 || *p++ != ':' ||
                    parse_hex(&p, 2, 2, &d.bus) < 0 || *p++ != ':' ||
                    parse_hex(&p, 2, 2, &d.slot) < 0 || *p++ != '.' ||
                    parse_hex(&p, 1, 1, &d.function) < 0 || *p != 0 ||
                    d.slot > 0x1f || d.function > 7)
                        return set_error(error_msg, -EINVAL,
                                         "invalid PCI address for a VF: expected dddd:bb:ss.f (slot ≤ 1f, function ≤ 7)");
                snprintf(d.what, sizeof(d.what), "VF %04x:%02x:%02x.%x", d.domain, d.bus, d.slot, d.function);
        }
        *ret = d;
        return 0;

bad_uuid:
        return set_error(error_msg, -EINVAL, "invalid mdev UUID: expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx (hex)");
}

/* ---- XML ----------------------------------------------------------------- */

static bool node_is(xmlNodePtr n, const char *name) {
        return n && n->type == XML_ELEMENT_NODE && sym_xmlStrEqual(n->name, BAD_CAST name);
}

static xmlNodePtr child_element(xmlNodePtr n, const char *name) {
        for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
                if (node_is(c, name))
                        return c;
        return NULL;
}

static bool prop_equal(xmlNodePtr n, const char *name, const char *value, bool missing_matches) {
        _cleanup_xml_free_ xmlChar *v = sym_xmlGetProp(n, BAD_CAST name);

        if (!v)
                return missing_matches;
        return strcasecmp((const char *) v, value) == 0;
}

/* libvirt writes "0x3b", but accepts decimal and octal in definitions. */
static bool prop_number_equal(xmlNodePtr n, const char *name, unsigned value, bool missing_is_zero) {
        _cleanup_xml_free_ xmlChar *v = sym_xmlGetProp(n, BAD_CAST name);
        unsigned long long x;
        char *end;

        if (!v)
                return missing_is_zero && value == 0;
        errno = 0;
        x = strtoull((const char *) v, &end, 0);
        return errno == 0 && end != (char *) v && *end == 0 && x == value;
}

static bool pci_address_matches(xmlNodePtr a, const Hostdev *h) {
        return a &&
                prop_number_equal(a, "domain", h->domain, true) &&
                prop_number_equal(a, "bus", h->bus, false) &&
                prop_number_equal(a, "slot", h->slot, false) &&
                prop_number_equal(a, "function", h->function, false);
}

/* <hostdev> for this device? */
static bool hostdev_matches(xmlNodePtr n, const Hostdev *h) {
        xmlNodePtr a;

        if (!node_is(n, "hostdev") || !prop_equal(n, "mode", "subsystem", true))
                return false;
        a = child_element(child_element(n, "source"), "address");
        if (!a)
                return false;
        if (!h->is_vf)
                return prop_equal(n, "type", "mdev", false) && prop_equal(a, "uuid", h->uuid, false);
        return prop_equal(n, "type", "pci", false) && pci_address_matches(a, h);
}

/* <interface type='hostdev'> with this VF (SR-IOV network passthrough)? */
static bool interface_matches(xmlNodePtr n, const Hostdev *h) {
        xmlNodePtr a;

        if (!h->is_vf || !node_is(n, "interface") || !prop_equal(n, "type", "hostdev", false))
                return false;
        a = child_element(child_element(n, "source"), "address");
        return a && prop_equal(a, "type", "pci", true) && pci_address_matches(a, h);
}

static int xml_parse(const char *xml, const char *vm, xmlDocPtr *ret, char **error_msg) {
        xmlDocPtr doc;

        doc = sym_xmlReadMemory(xml, (int) strlen(xml), "domain.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        if (!doc)
                return set_error(error_msg, -EIO, "cannot parse the definition of VM '%s' that libvirt returned", vm);
        if (!node_is(sym_xmlDocGetRootElement(doc), "domain")) {
                sym_xmlFreeDoc(doc);
                return set_error(error_msg, -EIO, "the definition of VM '%s' that libvirt returned has no <domain>", vm);
        }
        *ret = doc;
        return 0;
}

typedef enum Found {
        FOUND_NONE,
        FOUND_HOSTDEV,
        FOUND_INTERFACE,        /* only as <interface type='hostdev'> */
} Found;

static Found doc_find(xmlDocPtr doc, const Hostdev *h, xmlNodePtr *ret) {
        xmlNodePtr devices = child_element(sym_xmlDocGetRootElement(doc), "devices");
        Found found = FOUND_NONE;

        for (xmlNodePtr c = devices ? devices->children : NULL; c; c = c->next) {
                if (hostdev_matches(c, h)) {
                        if (ret)
                                *ret = c;
                        return FOUND_HOSTDEV;
                }
                if (interface_matches(c, h))
                        found = FOUND_INTERFACE;
        }
        return found;
}

static xmlNodePtr hostdev_new_node(const Hostdev *h) {
        xmlNodePtr hostdev, source, address;
        char b[4][16];

        hostdev = sym_xmlNewNode(NULL, BAD_CAST "hostdev");
        if (!hostdev)
                return NULL;
        /* sym_xmlNewProp() escapes values; they are validated hex anyway. */
        if (!sym_xmlNewProp(hostdev, BAD_CAST "mode", BAD_CAST "subsystem") ||
            !(source = sym_xmlNewChild(hostdev, NULL, BAD_CAST "source", NULL)) ||
            !(address = sym_xmlNewChild(source, NULL, BAD_CAST "address", NULL)))
                goto fail;

        if (!h->is_vf) {
                if (!sym_xmlNewProp(hostdev, BAD_CAST "type", BAD_CAST "mdev") ||
                    !sym_xmlNewProp(hostdev, BAD_CAST "model", BAD_CAST "vfio-pci") ||
                    !sym_xmlNewProp(address, BAD_CAST "uuid", BAD_CAST h->uuid))
                        goto fail;
        } else {
                snprintf(b[0], sizeof(b[0]), "0x%04x", h->domain);
                snprintf(b[1], sizeof(b[1]), "0x%02x", h->bus);
                snprintf(b[2], sizeof(b[2]), "0x%02x", h->slot);
                snprintf(b[3], sizeof(b[3]), "0x%x", h->function);
                /* managed='no': siovd binds the VF to vfio-pci itself. */
                if (!sym_xmlNewProp(hostdev, BAD_CAST "type", BAD_CAST "pci") ||
                    !sym_xmlNewProp(hostdev, BAD_CAST "managed", BAD_CAST "no") ||
                    !sym_xmlNewProp(address, BAD_CAST "domain", BAD_CAST b[0]) ||
                    !sym_xmlNewProp(address, BAD_CAST "bus", BAD_CAST b[1]) ||
                    !sym_xmlNewProp(address, BAD_CAST "slot", BAD_CAST b[2]) ||
                    !sym_xmlNewProp(address, BAD_CAST "function", BAD_CAST b[3]))
                        goto fail;
        }
        return hostdev;
fail:
        sym_xmlFreeNode(hostdev);
        return NULL;
}

static char *node_to_string(xmlNodePtr n) {
        xmlBufferPtr buf = sym_xmlBufferCreate();
        char *s = NULL;

        if (!buf)
                return NULL;
        if (sym_xmlNodeDump(buf, NULL, n, 0, 0) >= 0)
                s = strdup((const char *) sym_xmlBufferContent(buf));
        sym_xmlBufferFree(buf);
        return s;
}

static int hostdev_to_string(const Hostdev *h, char **ret) {
        _cleanup_(xmlFreeNodep) xmlNodePtr n = hostdev_new_node(h);

        if (!n || !(*ret = node_to_string(n)))
                return -ENOMEM;
        return 0;
}

/* ---- domains ------------------------------------------------------------- */

static int vm_lookup(virConnectPtr conn, const char *vm, virDomainPtr *ret, char **error_msg) {
        virDomainPtr dom;
        int r;

        dom = sym_virDomainLookupByName(conn, vm);
        if (!dom) {
                r = libvirt_errno();
                if (r == -ESRCH)
                        return set_error(error_msg, r, "no VM '%s' (libvirt: %s)", vm, libvirt_message());
                return set_error(error_msg, r, "cannot look up VM '%s': %s", vm, libvirt_message());
        }
        *ret = dom;
        return 0;
}

static int vm_open(const char *uri, const char *vm, virConnectPtr *ret_conn, virDomainPtr *ret_dom, char **error_msg) {
        int r;

        r = check_vm_name(vm, error_msg);
        if (r < 0)
                return r;
        r = vm_connect(uri, ret_conn, error_msg);
        if (r < 0)
                return r;
        return vm_lookup(*ret_conn, vm, ret_dom, error_msg);
}

static int domain_xml(virDomainPtr dom, const char *vm, unsigned flags, xmlDocPtr *ret, char **error_msg) {
        _cleanup_free_ char *xml = NULL;

        xml = sym_virDomainGetXMLDesc(dom, flags);
        if (!xml)
                return set_error(error_msg, libvirt_errno(), "cannot read the definition of VM '%s': %s",
                                 vm, libvirt_message());
        return xml_parse(xml, vm, ret, error_msg);
}

static int domain_is_active(virDomainPtr dom, const char *vm, char **error_msg) {
        int r = sym_virDomainIsActive(dom);

        if (r < 0)
                return set_error(error_msg, libvirt_errno(), "cannot read the state of VM '%s': %s", vm, libvirt_message());
        return r;
}

static void clear_error(char **error_msg) {
        if (error_msg) {
                free(*error_msg);
                *error_msg = NULL;
        }
}

int vm_exists(const char *uri, const char *vm, char **error_msg) {
        _cleanup_(virDomainFreep) virDomainPtr dom = NULL;
        virConnectPtr conn;
        int r;

        clear_error(error_msg);
        r = vm_open(uri, vm, &conn, &dom, error_msg);
        if (r == -ESRCH)
                return 0;       /* error_msg says "no VM '…' (libvirt: …)" */
        if (r < 0)
                return r;
        return 1;
}

int vm_is_running(const char *uri, const char *vm, char **error_msg) {
        _cleanup_(virDomainFreep) virDomainPtr dom = NULL;
        virConnectPtr conn;
        int r;

        clear_error(error_msg);
        r = vm_open(uri, vm, &conn, &dom, error_msg);
        if (r < 0)
                return r;
        return domain_is_active(dom, vm, error_msg);
}

/* The fallback for drivers that cannot attach/detach (the test driver):
 * define the edited persistent definition. */
static int domain_redefine(virConnectPtr conn, const char *vm, xmlDocPtr doc, const char *action, char **error_msg) {
        _cleanup_xml_free_ xmlChar *buf = NULL;
        virDomainPtr dom;
        int len = 0;

        sym_xmlDocDumpMemory(doc, &buf, &len);
        if (!buf)
                return set_error(error_msg, -ENOMEM, "out of memory");
        dom = sym_virDomainDefineXML(conn, (const char *) buf);
        if (!dom)
                return set_error(error_msg, libvirt_errno(), "cannot %s VM '%s': libvirt refused the new definition: %s",
                                 action, vm, libvirt_message());
        sym_virDomainFree(dom);
        return 0;
}

static int check_persistent(virDomainPtr dom, const char *vm, char **error_msg) {
        int r = sym_virDomainIsPersistent(dom);

        if (r < 0)
                return set_error(error_msg, libvirt_errno(), "cannot read VM '%s': %s", vm, libvirt_message());
        if (r == 0)
                return set_error(error_msg, -EINVAL, "VM '%s' is transient: it has no persistent definition to assign devices in", vm);
        return 0;
}

/* VIR_DOMAIN_XML_SECURE: the definition may be written back whole, and
 * without it libvirt leaves out passwords (e.g. VNC's). */
#define DEFINITION_FLAGS (VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE)

/* What attach and detach start with: the device checked, the VM opened
 * (persistent ones only) and its definition read. */
static int edit_begin(const char *uri, const char *vm, const VmHostdev *h, Hostdev *ret_d, virConnectPtr *ret_conn,
                      virDomainPtr *ret_dom, xmlDocPtr *ret_def, char **error_msg) {
        int r;

        clear_error(error_msg);
        r = hostdev_parse(h, ret_d, error_msg);
        if (r < 0)
                return r;
        r = vm_open(uri, vm, ret_conn, ret_dom, error_msg);
        if (r < 0)
                return r;
        r = check_persistent(*ret_dom, vm, error_msg);
        if (r < 0)
                return r;
        return domain_xml(*ret_dom, vm, DEFINITION_FLAGS, ret_def, error_msg);
}

/* libvirt's flags for the change, and the device as XML. The running VM
 * is changed too (LIVE) when its live definition has the device as
 * live_when says; never for a config-only change. */
static int edit_prepare(virDomainPtr dom, const char *vm, const Hostdev *d, Found live_when,
                        unsigned *ret_flags, char **ret_devxml, char **error_msg) {
        _cleanup_(xmlFreeDocp) xmlDocPtr live = NULL;
        unsigned flags = VIR_DOMAIN_AFFECT_CONFIG;
        int r;

        r = d->config_only ? 0 : domain_is_active(dom, vm, error_msg);
        if (r < 0)
                return r;
        if (r > 0) {
                r = domain_xml(dom, vm, 0, &live, error_msg);
                if (r < 0)
                        return r;
                if (doc_find(live, d, NULL) == live_when)
                        flags |= VIR_DOMAIN_AFFECT_LIVE;
        }
        if (hostdev_to_string(d, ret_devxml) < 0)
                return set_error(error_msg, -ENOMEM, "out of memory");
        *ret_flags = flags;
        return 0;
}

/* The driver cannot change the running VM; its definition alone would
 * then differ from what runs. action: "hot-plug", "hot-unplug". */
static int refuse_running(const char *vm, const Hostdev *d, const char *action, char **error_msg) {
        return set_error(error_msg, -EBUSY,
                         "VM '%s' is running and this libvirt driver cannot %s %s (libvirt: %s); "
                         "stop the VM first", vm, action, d->what, libvirt_message());
}

int vm_attach(const char *uri, const char *vm, const VmHostdev *h, char **error_msg) {
        _cleanup_(virDomainFreep) virDomainPtr dom = NULL;
        _cleanup_(xmlFreeDocp) xmlDocPtr def = NULL;
        _cleanup_free_ char *devxml = NULL;
        virConnectPtr conn;
        unsigned flags;
        xmlNodePtr n;
        Hostdev d;
        int r;

        r = edit_begin(uri, vm, h, &d, &conn, &dom, &def, error_msg);
        if (r < 0)
                return r;
        switch (doc_find(def, &d, NULL)) {
        case FOUND_HOSTDEV:
                return set_error(error_msg, -EEXIST, "VM '%s' already has %s in its definition", vm, d.what);
        case FOUND_INTERFACE:
                return set_error(error_msg, -EEXIST, "VM '%s' already has %s in its definition, as <interface type='hostdev'>",
                                 vm, d.what);
        case FOUND_NONE:
                break;
        }

        /* Already hot-plugged (by hand): only the definition is missing it. */
        r = edit_prepare(dom, vm, &d, FOUND_NONE, &flags, &devxml, error_msg);
        if (r < 0)
                return r;

        if (sym_virDomainAttachDeviceFlags(dom, devxml, flags) == 0)
                return 0;

        if (libvirt_error_is(VIR_ERR_NO_SUPPORT)) {
                if (flags & VIR_DOMAIN_AFFECT_LIVE)
                        return refuse_running(vm, &d, "hot-plug", error_msg);
                n = hostdev_new_node(&d);
                if (!n)
                        return set_error(error_msg, -ENOMEM, "out of memory");
                xmlNodePtr devices = child_element(sym_xmlDocGetRootElement(def), "devices");
                if (!devices)
                        devices = sym_xmlNewChild(sym_xmlDocGetRootElement(def), NULL, BAD_CAST "devices", NULL);
                if (!devices || !sym_xmlAddChild(devices, n)) {
                        sym_xmlFreeNode(n);
                        return set_error(error_msg, -ENOMEM, "out of memory");
                }
                return domain_redefine(conn, vm, def, "add the device to", error_msg);
        }

        r = set_error(error_msg, libvirt_errno(), "cannot add %s to VM '%s': %s", d.what, vm, libvirt_message());
        if (r == -ENOENT)       /* VIR_ERR_DEVICE_MISSING means something else here */
                r = -EIO;

        /* libvirt's own drivers commit the definition only after a
         * successful hot-plug; make sure of it for any driver. */
        if (flags & VIR_DOMAIN_AFFECT_LIVE) {
                _cleanup_(xmlFreeDocp) xmlDocPtr after = NULL;

                if (domain_xml(dom, vm, VIR_DOMAIN_XML_INACTIVE, &after, NULL) == 0 &&
                    doc_find(after, &d, NULL) == FOUND_HOSTDEV)
                        (void) sym_virDomainDetachDeviceFlags(dom, devxml, VIR_DOMAIN_AFFECT_CONFIG);
        }
        return r;
}

int vm_detach(const char *uri, const char *vm, const VmHostdev *h, char **error_msg) {
        _cleanup_(virDomainFreep) virDomainPtr dom = NULL;
        _cleanup_(xmlFreeDocp) xmlDocPtr def = NULL;
        _cleanup_free_ char *devxml = NULL;
        xmlNodePtr n = NULL;
        virConnectPtr conn;
        unsigned flags;
        Hostdev d;
        int r;

        r = edit_begin(uri, vm, h, &d, &conn, &dom, &def, error_msg);
        if (r < 0)
                return r;
        switch (doc_find(def, &d, &n)) {
        case FOUND_NONE:
                return set_error(error_msg, -ENOENT, "VM '%s' has no %s in its definition", vm, d.what);
        case FOUND_INTERFACE:
                return set_error(error_msg, -ENOENT,
                                 "VM '%s' has %s only as <interface type='hostdev'>, which siovd does not manage", vm, d.what);
        case FOUND_HOSTDEV:
                break;
        }

        r = edit_prepare(dom, vm, &d, FOUND_HOSTDEV, &flags, &devxml, error_msg);
        if (r < 0)
                return r;

        /* With LIVE, libvirt asks the guest to release the device and waits a
         * few seconds; the definition is changed only if that worked. */
        if (sym_virDomainDetachDeviceFlags(dom, devxml, flags) == 0)
                return 0;

        if (libvirt_error_is(VIR_ERR_NO_SUPPORT)) {
                if (flags & VIR_DOMAIN_AFFECT_LIVE)
                        return refuse_running(vm, &d, "hot-unplug", error_msg);
                sym_xmlUnlinkNode(n);
                sym_xmlFreeNode(n);
                return domain_redefine(conn, vm, def, "remove the device from", error_msg);
        }

        return set_error(error_msg, libvirt_errno(), "cannot remove %s from VM '%s': %s", d.what, vm, libvirt_message());
}

static int find_users(const char *uri, const VmHostdev *h, bool running, char ***ret, char **error_msg) {
        _cleanup_strv_free_ char **names = NULL;
        virDomainPtr *doms = NULL;
        virConnectPtr conn;
        size_t n_names = 0;
        Hostdev d;
        int r, n;

        clear_error(error_msg);
        r = hostdev_parse(h, &d, error_msg);
        if (r < 0)
                return r;
        r = vm_connect(uri, &conn, error_msg);
        if (r < 0)
                return r;

        n = sym_virConnectListAllDomains(conn, &doms,
                                     running ? VIR_CONNECT_LIST_DOMAINS_ACTIVE : VIR_CONNECT_LIST_DOMAINS_PERSISTENT);
        if (n < 0)
                return set_error(error_msg, libvirt_errno(), "cannot list the VMs: %s", libvirt_message());

        names = calloc((size_t) n + 1, sizeof(char *));
        if (!names) {
                r = set_error(error_msg, -ENOMEM, "out of memory");
                goto finish;
        }

        for (int i = 0; i < n; i++) {
                _cleanup_(xmlFreeDocp) xmlDocPtr doc = NULL;
                const char *name = sym_virDomainGetName(doms[i]);
                _cleanup_free_ char *xml = NULL;

                xml = sym_virDomainGetXMLDesc(doms[i], running ? 0 : VIR_DOMAIN_XML_INACTIVE);
                if (!xml) {
                        /* Undefined or stopped since the listing. */
                        if (libvirt_error_is(VIR_ERR_NO_DOMAIN) || libvirt_error_is(VIR_ERR_OPERATION_INVALID))
                                continue;
                        r = set_error(error_msg, libvirt_errno(), "cannot read the definition of VM '%s': %s",
                                      strempty(name), libvirt_message());
                        goto finish;
                }
                r = xml_parse(xml, strempty(name), &doc, error_msg);
                if (r < 0)
                        goto finish;
                if (doc_find(doc, &d, NULL) == FOUND_NONE)
                        continue;
                if (!name || !(names[n_names] = strdup(name))) {
                        r = set_error(error_msg, -ENOMEM, "out of memory");
                        goto finish;
                }
                n_names++;
        }
        strv_sort(names, n_names);
        *ret = TAKE_PTR(names);
        r = 0;

finish:
        for (int i = 0; i < n; i++)
                sym_virDomainFree(doms[i]);
        free(doms);
        return r;
}

int vm_find_users(const char *uri, const VmHostdev *h, char ***ret, char **error_msg) {
        return find_users(uri, h, false, ret, error_msg);
}

int vm_find_running_users(const char *uri, const VmHostdev *h, char ***ret, char **error_msg) {
        return find_users(uri, h, true, ret, error_msg);
}
