/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * siovctl: the command line client of siovd. main(), option parsing and the
 * command table. Each command is one verb_*() function; options are parsed
 * once for all commands and each command lists the options it accepts.
 */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "siovctl.h"

/* ---- options ----------------------------------------------------------- */

/* Options a command may accept (Verb.options). Global options (--json,
 * --address, --no-ask-password, --help, --version) apply to every command. */
enum {
        OPT_PARENT      = 1u << 0,
        OPT_TYPE        = 1u << 1,
        OPT_UUID        = 1u << 2,
        OPT_ATTR        = 1u << 3,
        OPT_PERSISTENT  = 1u << 4,
        OPT_AUTOSTART   = 1u << 5,
        OPT_MANUAL      = 1u << 6,
        OPT_VM          = 1u << 7,
        OPT_FORCE       = 1u << 8,
        OPT_CLEAR_ATTRS = 1u << 9,
        OPT_DEFINED     = 1u << 10,
        OPT_ACTIVE      = 1u << 11,
        OPT_NUMVFS      = 1u << 12,
        OPT_AUTOPROBE   = 1u << 13,
        OPT_VF_MAC      = 1u << 14,
        OPT_VF_VLAN     = 1u << 15,
        OPT_VF_SPOOFCHK = 1u << 16,
        OPT_VF_TRUST    = 1u << 17,
        OPT_VF_LINK_STATE = 1u << 18,
        OPT_VF          = 1u << 19,
};

enum {
        ARG_VERSION = 0x100,
        ARG_JSON,
        ARG_ADDRESS,
        ARG_NO_ASK_PASSWORD,
        ARG_UUID,
        ARG_ATTR,
        ARG_PERSISTENT,
        ARG_AUTOSTART,
        ARG_MANUAL,
        ARG_VM,
        ARG_FORCE,
        ARG_CLEAR_ATTRS,
        ARG_DEFINED,
        ARG_ACTIVE,
        ARG_NUMVFS,
        ARG_AUTOPROBE,
        ARG_VF_MAC,
        ARG_VF_VLAN,
        ARG_VF_SPOOFCHK,
        ARG_VF_TRUST,
        ARG_VF_LINK_STATE,
        ARG_VF,
};

static const struct option long_options[] = {
        { "help",            no_argument,       NULL, 'h'                 },
        { "version",         no_argument,       NULL, ARG_VERSION         },
        { "json",            optional_argument, NULL, ARG_JSON            },
        { "address",         required_argument, NULL, ARG_ADDRESS         },
        { "no-ask-password", no_argument,       NULL, ARG_NO_ASK_PASSWORD },
        { "parent",          required_argument, NULL, 'p'                 },
        { "type",            required_argument, NULL, 't'                 },
        { "uuid",            required_argument, NULL, ARG_UUID            },
        { "attr",            required_argument, NULL, ARG_ATTR            },
        { "persistent",      no_argument,       NULL, ARG_PERSISTENT      },
        { "autostart",       no_argument,       NULL, ARG_AUTOSTART       },
        { "manual",          no_argument,       NULL, ARG_MANUAL          },
        { "vm",              required_argument, NULL, ARG_VM              },
        { "force",           no_argument,       NULL, ARG_FORCE           },
        { "clear-attrs",     no_argument,       NULL, ARG_CLEAR_ATTRS     },
        { "defined",         no_argument,       NULL, ARG_DEFINED         },
        { "active",          no_argument,       NULL, ARG_ACTIVE          },
        { "numvfs",          required_argument, NULL, ARG_NUMVFS          },
        { "autoprobe",       required_argument, NULL, ARG_AUTOPROBE       },
        { "vf-mac",          required_argument, NULL, ARG_VF_MAC          },
        { "vf-vlan",         required_argument, NULL, ARG_VF_VLAN         },
        { "vf-spoofchk",     required_argument, NULL, ARG_VF_SPOOFCHK     },
        { "vf-trust",        required_argument, NULL, ARG_VF_TRUST        },
        { "vf-link-state",   required_argument, NULL, ARG_VF_LINK_STATE   },
        { "vf",              required_argument, NULL, ARG_VF              },
        {}
};

typedef struct OptionHelp {
        unsigned flag;
        const char *name;       /* as shown in errors */
        const char *syntax;
        const char *help;
        const char *verbs;      /* " create define ": this text for these commands; NULL: the default */
} OptionHelp;

/* An option whose meaning differs between commands has one entry per
 * meaning; `siovctl --help` shows the default ones. */
static const OptionHelp option_help[] = {
        { OPT_PARENT, "--parent", "-p --parent=PARENT",
          "Create on this parent (default: the most available)", " create " },
        { OPT_PARENT, "--parent", "-p --parent=PARENT",
          "The parent of the definition (it may be absent now)", " define " },
        { OPT_PARENT, "--parent", "-p --parent=PARENT", "Only this parent (its sysfs name: siov0, 0000:3b:00.0)" },
        { OPT_TYPE, "--type", "-t --type=TYPE",
          "Type id (idxd-1dwq) or a unique short form (1dwq)", " create define " },
        { OPT_TYPE, "--type", "-t --type=TYPE", "Only this type id (idxd-1dwq, vf)" },
        { OPT_UUID, "--uuid", "   --uuid=UUID", "The new device's UUID (default: siovd makes one)" },
        { OPT_ATTR, "--attr", "   --attr=NAME=VALUE",
          "Set an attribute (repeatable; see above)", " modify " },
        { OPT_ATTR, "--attr", "   --attr=NAME=VALUE",
          "After create write VALUE to sysfs file NAME (repeatable)" },
        { OPT_PERSISTENT, "--persistent", "   --persistent", "Also keep them in the PF's configuration (reboots)", " sriov " },
        { OPT_PERSISTENT, "--persistent", "   --persistent", "Also keep a definition: the device survives a reboot" },
        { OPT_AUTOSTART, "--autostart", "   --autostart",
          "Start the device when its parent appears (at boot)", " modify " },
        { OPT_AUTOSTART, "--autostart", "   --autostart",
          "Start when its parent appears (implies --persistent)" },
        { OPT_MANUAL, "--manual", "   --manual", "Do not start the device at boot" },
        { OPT_VM, "--vm", "   --vm=NAME", "Only the devices assigned to this VM", " list " },
        { OPT_VM, "--vm", "   --vm=NAME", "Assign the device to this libvirt domain (VM)" },
        { OPT_FORCE, "--force", "   --force", "Change the VF count even if the host uses a VF (never a VM's)", " sriov " },
        { OPT_FORCE, "--force", "   --force", "Destroy even if a running VM uses the device" },
        { OPT_CLEAR_ATTRS, "--clear-attrs", "   --clear-attrs", "Drop the existing attributes first" },
        { OPT_DEFINED, "--defined", "   --defined", "Only devices with a definition (state defined, both)" },
        { OPT_ACTIVE, "--active", "   --active", "Only active devices (state active, both)" },
        { OPT_NUMVFS, "--numvfs", "   --numvfs=N", "Set the number of VFs (sriov_numvfs)" },
        { OPT_AUTOPROBE, "--autoprobe", "   --autoprobe=yes|no",
          "Whether host drivers probe new VFs (sriov_drivers_autoprobe)" },
        { OPT_VF, "--vf", "   --vf=N", "The VF (index) whose network settings --vf-* set" },
        { OPT_VF_MAC, "--vf-mac", "   --vf-mac=MAC", "A VF's MAC address, set on its PF (aa:bb:cc:dd:ee:ff)" },
        { OPT_VF_VLAN, "--vf-vlan", "   --vf-vlan=ID[,QOS]",
          "A VF's port VLAN (0-4095, 0: none) and 802.1p priority (0-7)" },
        { OPT_VF_SPOOFCHK, "--vf-spoofchk", "   --vf-spoofchk=on|off", "A VF's MAC spoof checking" },
        { OPT_VF_TRUST, "--vf-trust", "   --vf-trust=on|off", "Whether a VF is trusted (promiscuous, MAC changes)" },
        { OPT_VF_LINK_STATE, "--vf-link-state", "   --vf-link-state=auto|enable|disable",
          "A VF's link: follow the PF's, always up, always down" },
        {}
};

/* ---- commands ---------------------------------------------------------- */

struct Verb {
        const char *name;
        const char *args;       /* synopsis after the name */
        const char *summary;
        const char *details;    /* more text for `siovctl COMMAND --help`, or NULL */
        unsigned options;       /* OPT_* accepted */
        unsigned required;      /* OPT_* that must be given */
        unsigned one_of;        /* at least one of these OPT_* must be given (0: none needed) */
        int min_args, max_args; /* positional arguments after the name */
        int (*run)(Context *c, const Options *o, int argc, char **argv);
};

static int verb_help(Context *c, const Options *o, int argc, char **argv);

static const Verb verbs[] = {
        { "parents", "", "List parents: availability, host use, VFs",
          "A parent is an mdev parent, an SR-IOV physical function, or both.\n"
          "AVAILABLE lists the instances still available per type (\"?\" when the\n"
          "type is broken), HOST-USE what the host itself uses, VFS enabled/total.\n",
          0, 0, 0, 0, 0, verb_parents },
        { "types", "[-p PARENT]", "List the device types of parents",
          "Every mdev type of every parent, and the type \"vf\" of each SR-IOV\n"
          "physical function (AVAILABLE: its VFs free for VMs).\n",
          OPT_PARENT, 0, 0, 0, 0, verb_types },
        { "list", "[-p PARENT] [-t TYPE] [--defined|--active] [--vm NAME]", "List devices (mdevs and VFs)",
          "Active and defined devices. DETAILS: a VF's PCI address, the bound\n"
          "driver, for a VF \"host\" (the host uses it) or \"free\" (free for VMs),\n"
          "netdevs, for a VF of a PF with a netdev what the PF reports (mac=,\n"
          "vlan=,qos=, link=, spoofchk=, trust=), \"autostart\", and how many\n"
          "attributes are set after create.\n",
          OPT_PARENT | OPT_TYPE | OPT_DEFINED | OPT_ACTIVE | OPT_VM, 0, 0, 0, 0, verb_list },
        { "status", "", "Show siovd's state, totals and problems",
          "Every broken parent and type is listed with the reason.\n",
          0, 0, 0, 0, 0, verb_status },
        { "create", "-t TYPE [-p PARENT] [--uuid UUID] [--attr NAME=VALUE]... [--persistent] [--autostart] [--vm NAME] "
          "[--vf-mac MAC] [--vf-vlan ID[,QOS]] [--vf-spoofchk on|off] [--vf-trust on|off] "
          "[--vf-link-state auto|enable|disable]",
          "Create a device and print its UUID",
          "Without --parent, siovd picks the parent with the most available\n"
          "instances of TYPE (ties by name) and siovctl says which on stderr.\n"
          "The attributes are written in order after create; if one fails the\n"
          "device is removed again. With --vm the device is added to that VM's\n"
          "libvirt definition; if that fails, the device is removed again.\n"
          "With --json the new device is printed as in 'list --json'.\n"
          "A VF of a network PF takes --vf-mac, --vf-vlan, --vf-spoofchk,\n"
          "--vf-trust and --vf-link-state: siovd sets them on the PF (as 'ip link\n"
          "set PF vf N ...') before the VF goes to vfio-pci, keeps them in the\n"
          "definition and sets them again at every start; if the PF refuses one,\n"
          "nothing is created.\n",
          OPT_PARENT | OPT_TYPE | OPT_UUID | OPT_ATTR | OPT_PERSISTENT | OPT_AUTOSTART | OPT_VM | OPT_VF_MAC |
          OPT_VF_VLAN | OPT_VF_SPOOFCHK | OPT_VF_TRUST | OPT_VF_LINK_STATE,
          OPT_TYPE, 0, 0, 0, verb_create },
        { "define", "-t TYPE -p PARENT [--uuid UUID] [--attr NAME=VALUE]... [--autostart] [--vm NAME]",
          "Define a persistent device (not started), print its UUID",
          "The definition is kept in siovd's definitions folder; 'start UUID'\n"
          "creates the device from it, --autostart at boot.\n",
          OPT_PARENT | OPT_TYPE | OPT_UUID | OPT_ATTR | OPT_AUTOSTART | OPT_VM,
          OPT_PARENT | OPT_TYPE, 0, 0, 0, verb_define },
        { "destroy", "UUID [--force]", "Remove a device and its definition",
          "Removes the active device (if active) and its definition (if any).\n"
          "A device a running VM uses is refused unless --force; a device\n"
          "assigned to a stopped VM is removed from the VM's definition too.\n",
          OPT_FORCE, 0, 0, 1, 1, verb_destroy },
        { "start", "UUID", "Create a defined device", NULL, 0, 0, 0, 1, 1, verb_start },
        { "stop", "UUID", "Remove an active device, keep its definition", NULL, 0, 0, 0, 1, 1, verb_stop },
        { "undefine", "UUID", "Drop a device's definition, keep the active device", NULL, 0, 0, 0, 1, 1, verb_undefine },
        { "modify", "UUID [--autostart|--manual] [--attr NAME=VALUE]... [--clear-attrs]",
          "Change a device's definition",
          "--attr NAME=VALUE sets NAME in the definition's attribute list: an\n"
          "attribute of that name keeps its place and takes the new value, a new\n"
          "name is added at the end. --clear-attrs drops the existing ones first\n"
          "(alone: no attributes at all). The change applies to the definition,\n"
          "i.e. to the next start.\n",
          OPT_AUTOSTART | OPT_MANUAL | OPT_ATTR | OPT_CLEAR_ATTRS,
          0, OPT_AUTOSTART | OPT_MANUAL | OPT_ATTR | OPT_CLEAR_ATTRS, 1, 1, verb_modify },
        { "assign", "UUID --vm NAME", "Assign a device to a VM (libvirt domain)",
          "Adds the device as a hostdev to the VM's persistent definition, and to\n"
          "the running VM when it can be hot-plugged.\n",
          OPT_VM, OPT_VM, 0, 1, 1, verb_assign },
        { "unassign", "UUID", "Remove a device from its VM", NULL, 0, 0, 0, 1, 1, verb_unassign },
        { "import-mdevctl", "[DIR]", "Define the devices of mdevctl's definitions",
          "Reads DIR/<parent>/<uuid> (default /etc/mdevctl.d) and prints for each\n"
          "file \"defined UUID on PARENT\" or \"refused UUID on PARENT: reason\".\n"
          "Exit status 1 when any was refused. With --json: an array of\n"
          "{\"uuid\", \"parent\", \"result\": \"defined\"|\"refused\", \"reason\"}.\n",
          0, 0, 0, 0, 1, verb_import_mdevctl },
        { "sriov", "PF [--numvfs N [--force]] [--autoprobe=yes|no] [--vf N --vf-mac MAC|--vf-vlan ID[,QOS]|...] [--persistent]",
          "Set a PF's VF count, autoprobe and VF network settings",
          "--numvfs N sets sriov_numvfs. The kernel removes every VF before it\n"
          "makes a new count, so a change is refused, naming each VF in the way,\n"
          "while a VF is assigned to a VM, held by siovd (a device made with\n"
          "--type vf) or used by the host (a netdev up, a block device mounted);\n"
          "--force ignores host use only. N over sriov_totalvfs is refused.\n"
          "--autoprobe=no keeps new VFs unbound, so no host driver takes a VF\n"
          "meant for a VM; it is applied before --numvfs.\n"
          "--persistent also keeps the values in the PF's configuration\n"
          "(/etc/siov/parents/PF.json): at boot the udev rule sets autoprobe, then\n"
          "the VF count, then the VFs' network settings, then starts the PF's\n"
          "autostart VF devices.\n"
          "--vf N with --vf-mac, --vf-vlan, --vf-spoofchk, --vf-trust or\n"
          "--vf-link-state sets those of VF N on a PF with a netdev (as 'ip link\n"
          "set PF vf N ...'); with --persistent they are kept for VF N too.\n",
          OPT_NUMVFS | OPT_AUTOPROBE | OPT_FORCE | OPT_PERSISTENT | OPT_VF | OPT_VF_MAC | OPT_VF_VLAN |
          OPT_VF_SPOOFCHK | OPT_VF_TRUST | OPT_VF_LINK_STATE, 0, OPT_NUMVFS | OPT_AUTOPROBE | OPT_VF, 1, 1, verb_sriov },
        { "provision", "PARENT", "Start the autostart devices of a parent",
          "Starts every autostart definition of PARENT that is not active and\n"
          "prints their UUIDs; already active ones are skipped. Run at boot and\n"
          "on hotplug by the udev rule.\n",
          0, 0, 0, 1, 1, verb_provision },
        { "monitor", "", "Print changes as they happen",
          "One line per event: added/removed devices, parents and types, and\n"
          "changed properties (\"changed type siov0/idxd-1dwq AvailableInstances=3\").\n"
          "With --json one JSON object per line: {\"event\": \"added\"|\"removed\"|\"changed\",\n"
          "\"object\": \"device\"|\"parent\"|\"type\"|\"manager\", \"path\", \"uuid\" (device) or\n"
          "\"name\" (parent, type), \"properties\": {...}; changed also \"invalidated\": [...]}.\n"
          "\"# monitoring ...\" on stderr says it is ready. Runs until SIGINT or\n"
          "SIGTERM (exit 0) or until the bus goes away (exit 3).\n",
          0, 0, 0, 0, 0, verb_monitor },
        { "migration-info", "", "Print the migration versions to copy to another host",
          "For each device type whose driver offers VFIO migration, a line\n"
          "\"TYPE VERSION\" (its migration_version: what a saved device state\n"
          "needs from the destination type), after a \"# on PARENT, ...\" line.\n"
          "Save it on the source host and give it to 'migration-check' on the\n"
          "destination. With --json: [{\"type\", \"migration_version\", \"parents\"}].\n",
          0, 0, 0, 0, 0, verb_migration_info },
        { "migration-check", "FILE", "Check a source host's migration versions here",
          "FILE (\"-\": stdin) is what 'migration-info' (or --json) printed on the\n"
          "source host. For each type prints \"compatible TYPE: on PARENT, ...\"\n"
          "(the parents here that can take its device states) or \"incompatible\n"
          "TYPE: reason\". Exit status 1 when any type is incompatible. With\n"
          "--json: [{\"type\", \"migration_version\", \"compatible\", \"reason\",\n"
          "\"parents\"}].\n",
          0, 0, 0, 1, 1, verb_migration_check },
        { "help", "[COMMAND]", "Show this help, or a command's", NULL,
          0, 0, 0, 0, 1, verb_help },
};

const char *verb_name(const Verb *v) {
        return v ? v->name : NULL;
}

static const Verb *verb_find(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(verbs[i].name, name))
                        return &verbs[i];
        return NULL;
}

static const char global_options_help[] =
        "  -h --help            Show this help (after a command: the command's help)\n"
        "     --version         Show the version\n"
        "     --json[=MODE]     Print JSON instead of a table; MODE: pretty (the\n"
        "                       default) or short (one line)\n"
        "     --address=ADDRESS Connect to this D-Bus address instead of the system\n"
        "                       bus ($DBUS_SYSTEM_BUS_ADDRESS, else the default)\n"
        "     --no-ask-password Never ask for a password to authorize a change\n"
        "                       (asked only when stdin is a terminal)\n";

static bool option_help_for(const OptionHelp *h, const char *verb) {
        char word[64];

        if (!verb)
                return !h->verbs;
        snprintf(word, sizeof(word), " %s ", verb);
        return h->verbs && strstr(h->verbs, word);
}

/* Each accepted option once: the text for this command if there is one,
 * else the default text. verb NULL: the default texts of all. */
static void print_option_help(unsigned options, const char *verb) {
        for (const OptionHelp *h = option_help; h->flag; h++) {
                const OptionHelp *use = NULL;

                if (!(options & h->flag))
                        continue;
                /* Only at the first entry of each flag. */
                if (h != option_help && h[-1].flag == h->flag)
                        continue;
                for (const OptionHelp *k = h; k->flag == h->flag; k++)
                        if (option_help_for(k, verb)) {
                                use = k;
                                break;
                        }
                if (!use)
                        for (const OptionHelp *k = h; k->flag == h->flag; k++)
                                if (!k->verbs) {
                                        use = k;
                                        break;
                                }
                if (use)
                        printf("  %-20s %s\n", use->syntax, use->help);
        }
}

static void help(void) {
        printf("%s [OPTIONS...] COMMAND [ARGS...]\n\n"
               "Manage SIOV mediated devices and SR-IOV virtual functions through siovd.\n\n"
               "Commands:\n", PROGRAM);
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                printf("  %-16s %s\n", verbs[i].name, verbs[i].summary);
        printf("\nOptions:\n%s", global_options_help);
        print_option_help(~0u, NULL);
        putchar('\n');
        exit_status_help(stdout);
        printf("\nSee '%s COMMAND --help' for a command's arguments and options.\n", PROGRAM);
}

static void verb_print_help(const Verb *v) {
        printf("%s [OPTIONS...] %s %s\n\n%s.\n", PROGRAM, v->name, v->args, v->summary);
        if (v->details)
                printf("\n%s", v->details);
        printf("\nOptions:\n%s", global_options_help);
        print_option_help(v->options, v->name);
        putchar('\n');
        exit_status_help(stdout);
}

static int verb_help(Context *c, const Options *o, int argc, char **argv) {
        const Verb *v;

        if (argc < 2) {
                help();
                return 0;
        }
        v = verb_find(argv[1]);
        if (!v)
                return log_error_errno(-ERRNO_USAGE, "unknown command '%s'; see '%s --help'", argv[1], PROGRAM);
        verb_print_help(v);
        return 0;
}

static int parse_argv(int argc, char *argv[], Arguments *a) {
        int c, r;

        a->options.ask_password = true;
        a->options.autoprobe = -1;
        a->options.vf_spoofchk = a->options.vf_trust = -1;
        a->positional = calloc(argc + 1, sizeof(char *));
        if (!a->positional)
                return log_error_errno(-ENOMEM, "out of memory");

        /* "-": operands come back as 1 in order, so options may precede or
         * follow the command; ":": we print errors ourselves, on one line. */
        opterr = 0;
        optind = 0;     /* full reset: the tests parse many command lines */
        while ((c = getopt_long(argc, argv, "-:hp:t:", long_options, NULL)) >= 0) {
                switch (c) {
                case 1:
                        a->positional[a->n_positional++] = optarg;
                        break;
                case 'h':
                        a->help = true;
                        break;
                case ARG_VERSION:
                        a->version = true;
                        break;
                case ARG_JSON:
                        if (!optarg || streq(optarg, "pretty"))
                                a->json = JSON_PRETTY;
                        else if (streq(optarg, "short"))
                                a->json = JSON_SHORT;
                        else
                                return log_error_errno(-ERRNO_USAGE, "--json takes 'pretty' or 'short', not '%s'", optarg);
                        break;
                case ARG_ADDRESS:
                        if (isempty(optarg))
                                return log_error_errno(-ERRNO_USAGE, "--address needs a D-Bus address");
                        a->address = optarg;
                        break;
                case 'p':
                        if (isempty(optarg))
                                return log_error_errno(-ERRNO_USAGE, "--parent needs a parent name");
                        a->options.parent = optarg;
                        a->options_used |= OPT_PARENT;
                        break;
                case 't':
                        if (isempty(optarg))
                                return log_error_errno(-ERRNO_USAGE, "--type needs a type id");
                        a->options.type = optarg;
                        a->options_used |= OPT_TYPE;
                        break;
                case ARG_NO_ASK_PASSWORD:
                        a->options.ask_password = false;
                        break;
                case ARG_UUID:
                        r = uuid_arg_parse(optarg, a->options.uuid_buf);
                        if (r < 0)
                                return r;
                        a->options.uuid = a->options.uuid_buf;
                        a->options_used |= OPT_UUID;
                        break;
                case ARG_ATTR: {
                        AttrArg *p;

                        p = reallocarray(a->options.attrs, a->options.n_attrs + 1, sizeof(AttrArg));
                        if (!p)
                                return log_error_errno(-ENOMEM, "out of memory");
                        a->options.attrs = p;
                        r = attr_arg_parse(optarg, &a->options.attrs[a->options.n_attrs]);
                        if (r < 0)
                                return r;
                        a->options.n_attrs++;
                        a->options_used |= OPT_ATTR;
                        break;
                }
                case ARG_PERSISTENT:
                        a->options.persistent = true;
                        a->options_used |= OPT_PERSISTENT;
                        break;
                case ARG_AUTOSTART:
                        a->options.autostart = true;
                        a->options_used |= OPT_AUTOSTART;
                        break;
                case ARG_MANUAL:
                        a->options.manual = true;
                        a->options_used |= OPT_MANUAL;
                        break;
                case ARG_VM:
                        if (isempty(optarg))
                                return log_error_errno(-ERRNO_USAGE, "--vm needs a VM name");
                        a->options.vm = optarg;
                        a->options_used |= OPT_VM;
                        break;
                case ARG_FORCE:
                        a->options.force = true;
                        a->options_used |= OPT_FORCE;
                        break;
                case ARG_CLEAR_ATTRS:
                        a->options.clear_attrs = true;
                        a->options_used |= OPT_CLEAR_ATTRS;
                        break;
                case ARG_DEFINED:
                        a->options.defined = true;
                        a->options_used |= OPT_DEFINED;
                        break;
                case ARG_ACTIVE:
                        a->options.active = true;
                        a->options_used |= OPT_ACTIVE;
                        break;
                case ARG_NUMVFS: {
                        uint32_t n;

                        if (siov_parse_u32(optarg, &n) < 0 || strchr(optarg, '\n') || n > 65535)
                                return log_error_errno(-ERRNO_USAGE, "--numvfs takes a number of VFs (0-65535), not '%s'",
                                                       optarg);
                        a->options.numvfs = n;
                        a->options.numvfs_set = true;
                        a->options_used |= OPT_NUMVFS;
                        break;
                }
                case ARG_AUTOPROBE:
                        if (STR_IN_SET(optarg, "yes", "1", "true", "on"))
                                a->options.autoprobe = 1;
                        else if (STR_IN_SET(optarg, "no", "0", "false", "off"))
                                a->options.autoprobe = 0;
                        else
                                return log_error_errno(-ERRNO_USAGE, "--autoprobe takes 'yes' or 'no', not '%s'", optarg);
                        a->options_used |= OPT_AUTOPROBE;
                        break;
                case ARG_VF_MAC:
                        a->options.vf_mac = optarg;
                        a->options_used |= OPT_VF_MAC;
                        break;
                case ARG_VF_VLAN: {
                        _cleanup_free_ char *id = strndup(optarg, strcspn(optarg, ","));
                        const char *comma = strchr(optarg, ',');

                        if (!id)
                                return log_error_errno(-ENOMEM, "out of memory");
                        if (siov_parse_u32(id, &a->options.vf_vlan) < 0 ||
                            (comma && siov_parse_u32(comma + 1, &a->options.vf_qos) < 0))
                                return log_error_errno(-ERRNO_USAGE, "--vf-vlan takes ID or ID,QOS (numbers), not '%s'",
                                                       optarg);
                        a->options.vf_vlan_set = true;
                        a->options.vf_qos_set = comma;
                        a->options_used |= OPT_VF_VLAN;
                        break;
                }
                case ARG_VF_SPOOFCHK:
                case ARG_VF_TRUST: {
                        int *v = c == ARG_VF_TRUST ? &a->options.vf_trust : &a->options.vf_spoofchk;

                        if (STR_IN_SET(optarg, "on", "yes", "1", "true"))
                                *v = 1;
                        else if (STR_IN_SET(optarg, "off", "no", "0", "false"))
                                *v = 0;
                        else
                                return log_error_errno(-ERRNO_USAGE, "%s takes 'on' or 'off', not '%s'",
                                                       c == ARG_VF_TRUST ? "--vf-trust" : "--vf-spoofchk", optarg);
                        a->options_used |= c == ARG_VF_TRUST ? OPT_VF_TRUST : OPT_VF_SPOOFCHK;
                        break;
                }
                case ARG_VF_LINK_STATE:
                        a->options.vf_link_state = optarg;
                        a->options_used |= OPT_VF_LINK_STATE;
                        break;
                case ARG_VF: {
                        uint32_t n;

                        if (siov_parse_u32(optarg, &n) < 0 || n > 65535)
                                return log_error_errno(-ERRNO_USAGE, "--vf takes a VF index (0-65535), not '%s'", optarg);
                        a->options.vf = n;
                        a->options.vf_set = true;
                        a->options_used |= OPT_VF;
                        break;
                }
                case ':':
                case '?': {
                        /* A long option is named as typed (up to '='), a
                         * short one by its letter (it may be in a group). */
                        const char *arg = argv[optind - 1];
                        char name[64];

                        if (strncmp(arg, "--", 2) == 0)
                                snprintf(name, sizeof(name), "%.*s", (int) strcspn(arg, "="), arg);
                        else
                                snprintf(name, sizeof(name), "-%c", optopt > 0 && optopt < 0x100 ? optopt : '?');

                        if (c == ':')
                                return log_error_errno(-ERRNO_USAGE, "option '%s' needs an argument; see '%s --help'",
                                                       name, PROGRAM);
                        if (optopt != 0 && strchr(arg, '='))
                                return log_error_errno(-ERRNO_USAGE, "option '%s' takes no argument; see '%s --help'",
                                                       name, PROGRAM);
                        return log_error_errno(-ERRNO_USAGE, "unknown option '%s'; see '%s --help'", name, PROGRAM);
                }
                default:
                        return log_error_errno(-ERRNO_USAGE, "unexpected option; see '%s --help'", PROGRAM);
                }
        }

        /* After "--" everything is an operand. */
        for (; optind < argc; optind++)
                a->positional[a->n_positional++] = argv[optind];

        return 0;
}

static const OptionHelp *option_find(unsigned flag) {
        for (const OptionHelp *h = option_help; h->flag; h++)
                if (h->flag == flag)
                        return h;
        return NULL;
}

/* "--autostart/--manual": the names of the options in mask. */
static void option_names(unsigned mask, char *buf, size_t size) {
        size_t n = 0;

        buf[0] = 0;
        for (unsigned f = 1; f && f <= mask; f <<= 1) {
                const OptionHelp *h;

                if (!(mask & f) || !(h = option_find(f)))
                        continue;
                n += snprintf(buf + n, n < size ? size - n : 0, "%s%s", n > 0 ? ", " : "", h->name);
        }
}

static int check_arguments(const Verb *v, Arguments *a) {
        unsigned missing;

        if (a->options_used & ~v->options) {
                for (const OptionHelp *h = option_help; h->flag; h++)
                        if (a->options_used & ~v->options & h->flag)
                                return log_error_errno(-ERRNO_USAGE, "option '%s' does not apply to '%s'; see '%s %s --help'",
                                                       h->name, v->name, PROGRAM, v->name);
        }

        missing = v->required & ~a->options_used;
        if (missing) {
                const OptionHelp *h;

                for (h = option_help; h->flag && !(missing & h->flag); h++)
                        ;
                return log_error_errno(-ERRNO_USAGE, "'%s' needs %s; see '%s %s --help'",
                                       v->name, h->name, PROGRAM, v->name);
        }
        if (v->one_of && !(a->options_used & v->one_of)) {
                char names[128];

                option_names(v->one_of, names, sizeof(names));
                return log_error_errno(-ERRNO_USAGE, "nothing to %s: give at least one of %s; see '%s %s --help'",
                                       v->name, names, PROGRAM, v->name);
        }

        if (a->options.autostart && a->options.manual)
                return log_error_errno(-ERRNO_USAGE, "--autostart and --manual contradict each other");
        if (a->options.defined && a->options.active)
                return log_error_errno(-ERRNO_USAGE, "--defined and --active exclude each other; "
                                       "without either, '%s' shows both", v->name);
        /* An autostart device needs a definition to start from. */
        if (a->options.autostart)
                a->options.persistent = true;

        if (a->n_positional - 1 < v->min_args)
                return log_error_errno(-ERRNO_USAGE, "'%s' needs more arguments: %s %s %s; see '%s %s --help'",
                                       v->name, PROGRAM, v->name, v->args, PROGRAM, v->name);
        if (a->n_positional - 1 > v->max_args)
                return log_error_errno(-ERRNO_USAGE, "unexpected argument '%s' for '%s'; see '%s %s --help'",
                                       a->positional[v->max_args + 1], v->name, PROGRAM, v->name);
        return 0;
}

void arguments_done(Arguments *a) {
        free(a->positional);
        a->positional = NULL;
        options_done(&a->options);
}

int siovctl_parse(int argc, char *argv[], Arguments *a) {
        int r;

        r = parse_argv(argc, argv, a);
        if (r < 0)
                return r;
        if (a->version)
                return 0;
        if (a->n_positional == 0) {
                if (a->help)
                        return 0;
                return log_error_errno(-ERRNO_USAGE, "missing command; see '%s --help'", PROGRAM);
        }

        a->verb = verb_find(a->positional[0]);
        if (!a->verb)
                return log_error_errno(-ERRNO_USAGE, "unknown command '%s'; see '%s --help'",
                                       a->positional[0], PROGRAM);
        if (a->help)
                return 0;
        return check_arguments(a->verb, a);
}

int siovctl_run(int argc, char *argv[], Context *ctx) {
        _cleanup_(arguments_done) Arguments a = {};
        int r;

        r = siovctl_parse(argc, argv, &a);
        if (r < 0)
                return r;

        if (a.version) {
                printf("%s %s\n", PROGRAM, PACKAGE_VERSION);
                return 0;
        }
        if (!a.verb) {
                help();
                return 0;
        }
        if (a.help) {
                verb_print_help(a.verb);
                return 0;
        }

        ctx->address = a.address;
        ctx->json = a.json;
        return a.verb->run(ctx, &a.options, a.n_positional, a.positional);
}
