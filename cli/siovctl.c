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
 * --address, --help, --version) apply to every command. */
enum {
        OPT_PARENT = 1u << 0,
        OPT_TYPE   = 1u << 1,
};

enum {
        ARG_VERSION = 0x100,
        ARG_JSON,
        ARG_ADDRESS,
};

static const struct option long_options[] = {
        { "help",    no_argument,       NULL, 'h'         },
        { "version", no_argument,       NULL, ARG_VERSION },
        { "json",    optional_argument, NULL, ARG_JSON    },
        { "address", required_argument, NULL, ARG_ADDRESS },
        { "parent",  required_argument, NULL, 'p'         },
        { "type",    required_argument, NULL, 't'         },
        {}
};

typedef struct OptionHelp {
        unsigned flag;
        const char *name;       /* as shown in errors */
        const char *syntax;
        const char *help;
} OptionHelp;

static const OptionHelp option_help[] = {
        { OPT_PARENT, "--parent", "-p --parent=PARENT", "Only this parent (its sysfs name: siov0, 0000:3b:00.0)" },
        { OPT_TYPE,   "--type",   "-t --type=TYPE",     "Only this type id (idxd-1dwq, vf)" },
        {}
};

/* ---- commands ---------------------------------------------------------- */

typedef struct Verb {
        const char *name;
        const char *args;       /* synopsis after the name */
        const char *summary;
        const char *details;    /* more text for `siovctl COMMAND --help`, or NULL */
        unsigned options;       /* OPT_* accepted */
        int min_args, max_args; /* positional arguments after the name */
        int (*run)(Context *c, const Options *o, int argc, char **argv);
} Verb;

static int verb_help(Context *c, const Options *o, int argc, char **argv);

static const Verb verbs[] = {
        { "parents", "", "List parents: availability, host use, VFs",
          "A parent is an mdev parent, an SR-IOV physical function, or both.\n"
          "AVAILABLE lists the instances still available per type (\"?\" when the\n"
          "type is broken), HOST-USE what the host itself uses, VFS enabled/total.\n",
          0, 0, 0, verb_parents },
        { "types", "[-p PARENT]", "List the device types of parents",
          "Every mdev type of every parent, and the type \"vf\" of each SR-IOV\n"
          "physical function (AVAILABLE: its VFs free for VMs).\n",
          OPT_PARENT, 0, 0, verb_types },
        { "list", "[-p PARENT] [-t TYPE]", "List devices (mdevs and VFs)",
          "Active and defined devices. DETAILS: a VF's PCI address, the bound\n"
          "driver, for a VF \"host\" (the host uses it) or \"free\" (free for VMs),\n"
          "netdevs, \"autostart\", and how many attributes are set after create.\n",
          OPT_PARENT | OPT_TYPE, 0, 0, verb_list },
        { "status", "", "Show siovd's state, totals and problems",
          "Every broken parent and type is listed with the reason.\n",
          0, 0, 0, verb_status },
        { "help", "[COMMAND]", "Show this help, or a command's", NULL,
          0, 0, 1, verb_help },
};

static const Verb *verb_find(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(verbs[i].name, name))
                        return &verbs[i];
        return NULL;
}

static const char exit_status_help[] =
        "Exit status:\n"
        "  0  success\n"
        "  1  siovd (or the kernel behind it) reported a failure\n"
        "  2  usage error: bad command line, or an argument siovd rejects as invalid\n"
        "  3  the bus cannot be reached, or siovd is not running or not answering\n"
        "  4  no such parent, type or device\n"
        "  5  not authorized\n"
        "  6  no capacity left for the requested type\n";

static const char global_options_help[] =
        "  -h --help            Show this help (after a command: the command's help)\n"
        "     --version         Show the version\n"
        "     --json[=MODE]     Print JSON instead of a table; MODE: pretty (the\n"
        "                       default) or short (one line)\n"
        "     --address=ADDRESS Connect to this D-Bus address instead of the system\n"
        "                       bus ($DBUS_SYSTEM_BUS_ADDRESS, else the default)\n";

static void print_option_help(unsigned options) {
        for (const OptionHelp *h = option_help; h->flag; h++)
                if (options & h->flag)
                        printf("  %-20s %s\n", h->syntax, h->help);
}

static void help(void) {
        printf("%s [OPTIONS...] COMMAND [ARGS...]\n\n"
               "Show SIOV mediated devices and SR-IOV virtual functions managed by siovd.\n\n"
               "Commands:\n", PROGRAM);
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                char syn[64];

                snprintf(syn, sizeof(syn), "%s %s", verbs[i].name, verbs[i].args);
                printf("  %-28s %s\n", syn, verbs[i].summary);
        }
        printf("\nOptions:\n%s", global_options_help);
        print_option_help(~0u);
        printf("\n%s\nSee '%s COMMAND --help' for a command's options.\n", exit_status_help, PROGRAM);
}

static void verb_print_help(const Verb *v) {
        printf("%s [OPTIONS...] %s %s\n\n%s.\n", PROGRAM, v->name, v->args, v->summary);
        if (v->details)
                printf("\n%s", v->details);
        printf("\nOptions:\n%s", global_options_help);
        print_option_help(v->options);
        printf("\n%s", exit_status_help);
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

typedef struct Arguments {
        bool help;
        bool version;
        unsigned options_used;
        Options options;
        const char *address;
        JsonMode json;
        char **positional;      /* borrowed from argv */
        int n_positional;
} Arguments;

static int parse_argv(int argc, char *argv[], Arguments *a) {
        int c;

        a->positional = calloc(argc + 1, sizeof(char *));
        if (!a->positional)
                return log_error_errno(-ENOMEM, "out of memory");

        /* "-": operands come back as 1 in order, so options may precede or
         * follow the command; ":": we print errors ourselves, on one line. */
        opterr = 0;
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

static int run(int argc, char *argv[], Context *ctx) {
        Arguments a = {};
        const Verb *v;
        int r;

        r = parse_argv(argc, argv, &a);
        if (r < 0)
                goto finish;

        if (a.version) {
                printf("%s %s\n", PROGRAM, PACKAGE_VERSION);
                goto finish;
        }

        if (a.n_positional == 0) {
                if (a.help)
                        help();
                else
                        r = log_error_errno(-ERRNO_USAGE, "missing command; see '%s --help'", PROGRAM);
                goto finish;
        }

        v = verb_find(a.positional[0]);
        if (!v) {
                r = log_error_errno(-ERRNO_USAGE, "unknown command '%s'; see '%s --help'",
                                    a.positional[0], PROGRAM);
                goto finish;
        }

        if (a.help) {
                verb_print_help(v);
                goto finish;
        }

        if (a.options_used & ~v->options) {
                for (const OptionHelp *h = option_help; h->flag; h++)
                        if (a.options_used & ~v->options & h->flag) {
                                r = log_error_errno(-ERRNO_USAGE, "option '%s' does not apply to '%s'; see '%s %s --help'",
                                                    h->name, v->name, PROGRAM, v->name);
                                goto finish;
                        }
        }

        if (a.n_positional - 1 < v->min_args) {
                r = log_error_errno(-ERRNO_USAGE, "'%s' needs more arguments; see '%s %s --help'",
                                    v->name, PROGRAM, v->name);
                goto finish;
        }
        if (a.n_positional - 1 > v->max_args) {
                r = log_error_errno(-ERRNO_USAGE, "unexpected argument '%s' for '%s'; see '%s %s --help'",
                                    a.positional[v->max_args + 1], v->name, PROGRAM, v->name);
                goto finish;
        }

        ctx->address = a.address;
        ctx->json = a.json;
        r = v->run(ctx, &a.options, a.n_positional, a.positional);

finish:
        free(a.positional);
        return r;
}

int main(int argc, char *argv[]) {
        Context ctx = {};
        int r;

        r = run(argc, argv, &ctx);

        sd_bus_flush_close_unref(ctx.bus);
        free(ctx.bus_description);

        if (fflush(stdout) != 0 || ferror(stdout)) {
                log_error_errno(-EIO, "cannot write the output: %s", strerror(errno ?: EIO));
                if (r >= 0)
                        r = -EIO;
        }

        return exit_code_from_errno(r);
}
