/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Shared by the umockdev uevent tests (test-uevent.c, test-idxd-uevent.c):
 * PASS/FAIL bookkeeping, files in the testbed, the real siovd under
 * umockdev's preload, and waiting for siovd's signals. Included once per
 * test program; the tests set root (the testbed's root) and t_sent.
 */

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

static int n_passed, n_failed;
static char *root;
static pid_t siovd_pid;
static uint64_t t_sent;         /* when the last uevent was sent */

static void result(bool ok, const char *name, const char *detail) {
        if (ok)
                n_passed++;
        else
                n_failed++;
        printf("%s: %s%s%s\n", ok ? "PASS" : "FAIL", name, detail && *detail ? ": " : "", detail ? detail : "");
        fflush(stdout);
}

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void write_file(const char *rel, const char *content) {
        char path[4096];
        FILE *f;

        snprintf(path, sizeof(path), "%s%s", root, rel);
        f = fopen(path, "we");
        if (!f) {
                fprintf(stderr, "cannot write %s: %m\n", path);
                exit(2);
        }
        fputs(content, f);
        fclose(f);
}

/* True when m is a PropertiesChanged of iface; its {sv} array is entered. */
static __attribute__((unused)) bool properties_changed_enter(sd_bus_message *m, const char *iface) {
        const char *i;

        return sd_bus_message_is_signal(m, "org.freedesktop.DBus.Properties", "PropertiesChanged") &&
               sd_bus_message_read(m, "s", &i) >= 0 && strcmp(i, iface) == 0 &&
               sd_bus_message_enter_container(m, 'a', "{sv}") >= 0;
}

/* Waits up to timeout_usec for a signal for which match() returns true. */
static bool wait_signal(sd_bus *bus, uint64_t timeout_usec,
                        bool (*match)(sd_bus_message *m, void *userdata), void *userdata,
                        uint64_t *latency) {
        uint64_t start = now_usec(), deadline = start + timeout_usec;

        for (;;) {
                sd_bus_message *m = NULL;
                int r = sd_bus_process(bus, &m);

                if (r < 0)
                        return false;
                if (m) {
                        uint8_t type = 0;
                        bool ok = sd_bus_message_get_type(m, &type) >= 0 && type == SD_BUS_MESSAGE_SIGNAL &&
                                  match(m, userdata);
                        sd_bus_message_unref(m);
                        if (ok) {
                                *latency = now_usec() - (t_sent ?: start);
                                return true;
                        }
                        continue;
                }
                if (r > 0)
                        continue;
                if (now_usec() >= deadline)
                        return false;
                (void) sd_bus_wait(bus, deadline - now_usec());
        }
}

static __attribute__((unused)) bool match_any_siov(sd_bus_message *m, void *userdata) {
        const char *path = sd_bus_message_get_path(m);
        return path && strncmp(path, "/org/siov1", strlen("/org/siov1")) == 0;
}

static __attribute__((unused)) void check_signal(sd_bus *bus, const char *name, bool (*match)(sd_bus_message *, void *), void *userdata) {
        uint64_t latency = 0;
        char detail[128];
        bool ok = wait_signal(bus, 1000000, match, userdata, &latency);

        snprintf(detail, sizeof(detail), ok ? "%.2f ms after the uevent" : "no signal within 1 s",
                 latency / 1000.0);
        result(ok, name, detail);
}

/* siovd on the testbed's root, under the preload so that its monitor gets
 * the testbed's uevents. */
static void start_siovd(void) {
        const char *siovd = getenv("SIOVD"), *preload = getenv("UMOCKDEV_PRELOAD");

        if (!siovd || !preload) {
                fprintf(stderr, "SIOVD and UMOCKDEV_PRELOAD must be set\n");
                exit(2);
        }
        siovd_pid = fork();
        if (siovd_pid == 0) {
                char arg[4096];

                setenv("LD_PRELOAD", preload, 1);
                snprintf(arg, sizeof(arg), "--sysfs-root=%s", root);
                execl(siovd, siovd, arg, "--uevent-source=udev", (char *) NULL);
                _exit(127);
        }
}

/* NameHasOwner, not the owner's credentials: those are read below /sys,
 * which may be a testbed. */
static bool wait_name(sd_bus *bus) {
        for (int i = 0; i < 200; i++) {
                sd_bus_message *reply = NULL;
                int has = 0;

                if (sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "NameHasOwner", NULL, &reply,
                                       "s", "org.siov1") >= 0)
                        (void) sd_bus_message_read(reply, "b", &has);
                sd_bus_message_unref(reply);
                if (has)
                        return true;
                if (waitpid(siovd_pid, NULL, WNOHANG) == siovd_pid)
                        return false;
                usleep(50000);
        }
        return false;
}
