/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <malloc.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "sriov.h"
#include "log.h"
#include "manager.h"
#include "metrics.h"
#include "siov-errors.h"
#include "siov-names.h"
#include "vm-job.h"

static const char *arg_sysfs_root = NULL;
static const char *arg_definitions_dir = NULL;
static const char *arg_parents_dir = NULL;
static const char *arg_libvirt_uri = NULL;
static const char *arg_metrics = NULL;
static UeventSource arg_uevent_source = UEVENT_SOURCE_AUTO;
static uint64_t arg_max_reply_size = SIOV_REPLY_SIZE_MAX;
static uint64_t arg_libvirt_timeout_usec = SIOV_LIBVIRT_TIMEOUT_USEC;

static void help(void) {
        printf("Usage: siovd [OPTIONS]\n\n"
               "Tracks SIOV (mdev) and SR-IOV parents, their types and devices, and\n"
               "publishes them as %s on the D-Bus system bus.\n\n"
               "  -h --help                 Show this help\n"
               "     --version              Show the version\n"
               "     --sysfs-root=DIR       Read sysfs under DIR (default: $%s or /)\n"
               "     --definitions-dir=DIR  Persistent definitions (default: $SIOV_DEFINITIONS_DIR\n"
               "                            or " SIOV_DEFINITIONS_DIR ")\n"
               "     --parents-dir=DIR      Persistent SR-IOV PF configurations (default:\n"
               "                            $SIOV_PARENTS_DIR or " SIOV_PARENTS_DIR ")\n"
               "     --libvirt-uri=URI      libvirt connection for VM assignment (default:\n"
               "                            $SIOV_LIBVIRT_URI or qemu:///system)\n"
               "     --libvirt-timeout=SEC  A libvirt call not answered after SEC seconds (default\n"
               "                            20) fails with LibvirtError; siovd goes on answering\n"
               "     --uevent-source=SRC    udev, kernel or auto (default: udev when\n"
               "                            systemd-udevd runs, else kernel)\n"
               "     --max-reply-size=BYTES The bus's message limit (dbus-daemon's\n"
               "                            max_message_size, default 32 MiB): larger answers\n"
               "                            are refused with LimitsExceeded\n"
               "     --metrics=FILE         Keep FILE up to date with metrics for node_exporter's\n"
               "                            textfile collector (default: $SIOV_METRICS_FILE,\n"
               "                            else none)\n"
               "     --log-level=LEVEL      err, warning, notice, info, debug\n"
               "                            (default: info, or $SIOV_LOG_LEVEL)\n\n"
               "The bus is DBUS_SYSTEM_BUS_ADDRESS when set, else the system bus.\n",
               SIOV_DBUS_NAME, SIOV_ENV_SYSFS_ROOT);
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_SYSFS_ROOT, ARG_DEFINITIONS_DIR, ARG_LIBVIRT_URI, ARG_UEVENT_SOURCE, ARG_LOG_LEVEL,
               ARG_MAX_REPLY_SIZE, ARG_METRICS, ARG_PARENTS_DIR, ARG_LIBVIRT_TIMEOUT };
        static const struct option options[] = {
                { "help",          no_argument,       NULL, 'h'               },
                { "version",       no_argument,       NULL, ARG_VERSION       },
                { "sysfs-root",    required_argument, NULL, ARG_SYSFS_ROOT    },
                { "definitions-dir", required_argument, NULL, ARG_DEFINITIONS_DIR },
                { "parents-dir",   required_argument, NULL, ARG_PARENTS_DIR   },
                { "libvirt-uri",   required_argument, NULL, ARG_LIBVIRT_URI   },
                { "libvirt-timeout", required_argument, NULL, ARG_LIBVIRT_TIMEOUT },
                { "uevent-source", required_argument, NULL, ARG_UEVENT_SOURCE },
                { "log-level",     required_argument, NULL, ARG_LOG_LEVEL     },
                { "max-reply-size", required_argument, NULL, ARG_MAX_REPLY_SIZE },
                { "metrics",       required_argument, NULL, ARG_METRICS       },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("siovd %s\n", PACKAGE_VERSION);
                        return 0;
                case ARG_SYSFS_ROOT:
                        arg_sysfs_root = optarg;
                        break;
                case ARG_DEFINITIONS_DIR:
                        arg_definitions_dir = optarg;
                        break;
                case ARG_PARENTS_DIR:
                        arg_parents_dir = optarg;
                        break;
                case ARG_LIBVIRT_URI:
                        arg_libvirt_uri = optarg;
                        break;
                case ARG_METRICS:
                        arg_metrics = optarg;
                        break;
                case ARG_LIBVIRT_TIMEOUT: {
                        unsigned long long sec;
                        char *end;

                        errno = 0;
                        sec = strtoull(optarg, &end, 10);
                        if (errno != 0 || end == optarg || *end || sec < 1 || sec > 3600) {
                                log_error("Invalid --libvirt-timeout '%s': a number of seconds, 1 to 3600.", optarg);
                                return -EINVAL;
                        }
                        arg_libvirt_timeout_usec = sec * 1000000;
                        break;
                }
                case ARG_UEVENT_SOURCE:
                        if (streq(optarg, "udev"))
                                arg_uevent_source = UEVENT_SOURCE_UDEV;
                        else if (streq(optarg, "kernel"))
                                arg_uevent_source = UEVENT_SOURCE_KERNEL;
                        else if (streq(optarg, "auto"))
                                arg_uevent_source = UEVENT_SOURCE_AUTO;
                        else {
                                log_error("Unknown uevent source '%s': use udev, kernel or auto.", optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_LOG_LEVEL: {
                        int l = log_level_from_string(optarg);
                        if (l < 0) {
                                log_error("Unknown log level '%s'.", optarg);
                                return -EINVAL;
                        }
                        log_max_level = l;
                        break;
                }
                case ARG_MAX_REPLY_SIZE: {
                        char *end;

                        errno = 0;
                        arg_max_reply_size = strtoull(optarg, &end, 10);
                        if (errno != 0 || end == optarg || *end || arg_max_reply_size < 4096) {
                                log_error("Invalid --max-reply-size '%s': a number of bytes, at least 4096.", optarg);
                                return -EINVAL;
                        }
                        break;
                }
                case '?':
                        return -EINVAL;
                default:
                        abort();
                }
        if (optind < argc) {
                log_error("siovd takes no positional arguments.");
                return -EINVAL;
        }
        return 1;
}

static int run(int argc, char *argv[]) {
        _cleanup_(manager_freep) Manager *m = NULL;
        sigset_t mask;
        int r;

        log_setup("siovd", LOG_TARGET_AUTO);
        /* A whole-tree reply (16 MiB at 50,000 devices) is built in large
         * buffers: with a fixed mmap threshold they go back to the kernel
         * once sent (glibc would raise the threshold after the first and
         * keep the next ones in the heap for good). */
        (void) mallopt(M_MMAP_THRESHOLD, 256 * 1024);
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r;

        (void) siov_errors_register();

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(errno, "Cannot block signals: %m");

        if (!arg_definitions_dir)
                arg_definitions_dir = getenv("SIOV_DEFINITIONS_DIR") ?: SIOV_DEFINITIONS_DIR;
        r = manager_new(&m, arg_sysfs_root, arg_definitions_dir, arg_uevent_source);
        if (r < 0)
                return r;
        m->max_reply_size = arg_max_reply_size;
        if (!arg_metrics)
                arg_metrics = getenv("SIOV_METRICS_FILE");
        if (!isempty(arg_metrics)) {
                r = metrics_new(m, arg_metrics, &m->metrics);
                if (r < 0)
                        return r;
        }
        m->parents_dir = strdup(arg_parents_dir ?: getenv("SIOV_PARENTS_DIR") ?: SIOV_PARENTS_DIR);
        if (!m->parents_dir)
                return log_oom();
        if (arg_libvirt_uri) {
                m->libvirt_uri = strdup(arg_libvirt_uri);
                if (!m->libvirt_uri)
                        return log_oom();
        }
        m->libvirt_timeout_usec = arg_libvirt_timeout_usec;
        r = sd_event_add_signal(m->event, NULL, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(m->event, NULL, SIGINT, NULL, NULL);
        if (r < 0)
                return log_error_errno(r, "Cannot watch signals: %m");

        r = manager_startup(m);
        if (r < 0)
                return r;
        /* VF network settings changed with `ip link` show on the Device
         * objects too; without it they show at the PF's next change. */
        sriov_vf_monitor_start(m);
        r = manager_connect_bus(m);
        if (r < 0)
                return r;
        (void) metrics_write(m);
        /* The types' devices/ listings that start-up read are freed now,
         * under the devices allocated meanwhile: give their pages back. */
        (void) malloc_trim(0);

        (void) sd_notifyf(false, "READY=1\nSTATUS=Tracking %zu parents, %zu devices.",
                          hashmap_size(m->parents), hashmap_size(m->devices));
        r = manager_start_loading(m);
        if (r < 0)
                log_warning_errno(r, "Cannot schedule the start-up reads; devices are read when asked for: %m");

        r = sd_event_loop(m->event);
        (void) sd_notify(false, "STOPPING=1\nSTATUS=Shutting down.");
        if (r == -ENOTCONN)
                return r;       /* said so already */
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        log_info("Exiting.");
        return 0;
}

int main(int argc, char *argv[]) {
        int r = run(argc, argv);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
