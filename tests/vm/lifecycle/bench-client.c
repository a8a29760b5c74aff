/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-client: mdev create+destroy cycles, timed, through
 *   sysfs  raw writes: UUID to .../mdev_supported_types/TYPE/create, then
 *          "1" to /sys/bus/mdev/devices/UUID/remove (open, write, close)
 *   dbus   a D-Bus client library call (sd-bus): org.siov1.Manager.CreateDevice
 *          (PARENT, TYPE, UUID, {}), then org.siov1.Device.Destroy({}) on the
 *          returned object, on one system bus connection
 *   ping   the bus floor: two org.freedesktop.DBus.Peer.Ping calls to siovd
 *          per cycle (a round trip through dbus-daemon, no work in siovd)
 *
 *   bench-client sysfs|dbus|ping PARENT TYPE CYCLES
 *
 * Prints one line:
 *   BENCH mode=M cycles=N total_s=T per_cycle_ms=C create_ms=A destroy_ms=B
 * Any failure aborts the run (exit 1) with the reason.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

static double now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int write_file(const char *path, const char *s) {
        size_t len = strlen(s);
        int fd, r = 0;

        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (write(fd, s, len) != (ssize_t) len)
                r = -errno;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        return r;
}

static int cycle_sysfs(const char *parent, const char *type, const char *uuid, double *t_create, double *t_destroy) {
        char create[512], remove[256];
        double t0, t1, t2;
        int r;

        snprintf(create, sizeof(create), "/sys/class/mdev_bus/%s/mdev_supported_types/%s/create", parent, type);
        snprintf(remove, sizeof(remove), "/sys/bus/mdev/devices/%s/remove", uuid);
        t0 = now();
        r = write_file(create, uuid);
        t1 = now();
        if (r < 0) {
                fprintf(stderr, "bench-client: create %s: %s\n", uuid, strerror(-r));
                return r;
        }
        r = write_file(remove, "1");
        t2 = now();
        if (r < 0) {
                fprintf(stderr, "bench-client: remove %s: %s\n", uuid, strerror(-r));
                return r;
        }
        *t_create += t1 - t0;
        *t_destroy += t2 - t1;
        return 0;
}

static int cycle_ping(sd_bus *bus, double *t_create, double *t_destroy) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        double t0, t1, t2;
        int r;

        t0 = now();
        r = sd_bus_call_method(bus, "org.siov1", "/org/siov1", "org.freedesktop.DBus.Peer", "Ping", &error, NULL, NULL);
        t1 = now();
        if (r >= 0)
                r = sd_bus_call_method(bus, "org.siov1", "/org/siov1", "org.freedesktop.DBus.Peer", "Ping", &error, NULL, NULL);
        t2 = now();
        if (r < 0) {
                fprintf(stderr, "bench-client: Ping: %s\n", error.message ? error.message : strerror(-r));
                sd_bus_error_free(&error);
                return r;
        }
        *t_create += t1 - t0;
        *t_destroy += t2 - t1;
        return 0;
}

static int cycle_dbus(sd_bus *bus, const char *parent, const char *type, const char *uuid,
                      double *t_create, double *t_destroy) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        const char *path;
        char *p = NULL;
        double t0, t1, t2;
        int r;

        t0 = now();
        r = sd_bus_call_method(bus, "org.siov1", "/org/siov1", "org.siov1.Manager", "CreateDevice",
                               &error, &reply, "sssa{sv}", parent, type, uuid, 0);
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &path);
        if (r >= 0) {
                p = strdup(path);
                if (!p)
                        r = -ENOMEM;
        }
        t1 = now();
        reply = sd_bus_message_unref(reply);
        if (r < 0) {
                fprintf(stderr, "bench-client: CreateDevice %s: %s\n", uuid,
                        error.message ? error.message : strerror(-r));
                sd_bus_error_free(&error);
                return r;
        }
        r = sd_bus_call_method(bus, "org.siov1", p, "org.siov1.Device", "Destroy", &error, NULL, "a{sv}", 0);
        t2 = now();
        if (r < 0) {
                fprintf(stderr, "bench-client: Destroy %s: %s\n", p, error.message ? error.message : strerror(-r));
                sd_bus_error_free(&error);
                free(p);
                return r;
        }
        free(p);
        *t_create += t1 - t0;
        *t_destroy += t2 - t1;
        return 0;
}

int main(int argc, char **argv) {
        double t_create = 0, t_destroy = 0, total;
        sd_bus *bus = NULL;
        long cycles;
        bool dbus, ping;
        int r = 0;

        if (argc != 5 || (strcmp(argv[1], "sysfs") != 0 && strcmp(argv[1], "dbus") != 0 &&
                           strcmp(argv[1], "ping") != 0) ||
            (cycles = strtol(argv[4], NULL, 10)) <= 0) {
                fprintf(stderr, "usage: %s sysfs|dbus|ping PARENT TYPE CYCLES\n", argv[0]);
                return 2;
        }
        dbus = strcmp(argv[1], "dbus") == 0;
        ping = strcmp(argv[1], "ping") == 0;
        if (dbus || ping) {
                r = sd_bus_open_system(&bus);
                if (r < 0) {
                        fprintf(stderr, "bench-client: cannot connect to the system bus: %s\n", strerror(-r));
                        return 1;
                }
        }

        for (long i = 0; i < cycles; i++) {
                char uuid[37];

                /* A fresh UUID per cycle, as a client would use. */
                snprintf(uuid, sizeof(uuid), "b3c10000-0000-4000-8000-%012lx", (long) getpid() * 100000 + i);
                if (ping)
                        r = cycle_ping(bus, &t_create, &t_destroy);
                else if (dbus)
                        r = cycle_dbus(bus, argv[2], argv[3], uuid, &t_create, &t_destroy);
                else
                        r = cycle_sysfs(argv[2], argv[3], uuid, &t_create, &t_destroy);
                if (r < 0) {
                        fprintf(stderr, "bench-client: cycle %ld failed\n", i);
                        break;
                }
        }
        sd_bus_flush_close_unref(bus);
        if (r < 0)
                return 1;

        total = t_create + t_destroy;
        printf("BENCH mode=%s cycles=%ld total_s=%.3f per_cycle_ms=%.3f create_ms=%.3f destroy_ms=%.3f\n",
               argv[1], cycles, total, total / cycles * 1e3, t_create / cycles * 1e3, t_destroy / cycles * 1e3);
        return 0;
}
