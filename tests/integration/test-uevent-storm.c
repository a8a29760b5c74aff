/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Uevent storms that cannot lose events silently (issue 11). The real siovd
 * runs under umockdev's preload on a testbed of STORM_PARENTS PCI mdev
 * parents; the test adds STORM_MDEVS mdevs (as the kernel does: the device,
 * its links, the parent's lower availability, then "add") as fast as it
 * can, then makes STORM_CHANGES availability changes ("change" on a
 * parent). Every uevent goes through uevent-send.h, which waits when
 * siovd's socket is full and checks every send, so:
 *   - the number sent is exact, and siovd's own count (GetStatus
 *     "uevents") must reach it, with no socket overflow
 *     ("uevent-overflows" 0): a lost uevent fails here, whatever the
 *     final state looks like;
 *   - once siovd has read them all and re-read what they named
 *     ("refresh-pending" 0), its answers must match the testbed exactly:
 *     ListDevices per parent holds each parent's mdevs (uuid, parent,
 *     type, active) and nothing else, GetStatus counts them, ListTypes
 *     shows each type's last written availability.
 * Waits have generous limits (a siovd that stops reading fails); nothing
 * is timed. With STORM_BENCH=1 it also prints "burst-start" and
 * "burst-end" lines (tests/bench/bench-burst measures calls in between)
 * and, after the burst, waits for the file STORM_BENCH_DONE to exist.
 *
 * Env: SIOVD, UMOCKDEV_PRELOAD; STORM_MDEVS (10000), STORM_CHANGES (1000),
 * STORM_PARENTS (4).
 */

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <umockdev.h>
#include <unistd.h>

#include "uevent-signals.h"
#include "uevent-send.h"

#define TYPE "i915-GVTg_V5_4"
#define MAX_PARENTS 128
#define WAIT_USEC (UINT64_C(300) * 1000000)

typedef struct StormParent {
        char bdf[16];
        char *syspath;          /* "/sys/devices/<bdf>" */
        unsigned avail;         /* last written available_instances */
        unsigned n_mdevs;
} StormParent;

static StormParent parents[MAX_PARENTS];
static unsigned n_parents;

static unsigned env_uint(const char *name, unsigned def) {
        const char *v = getenv(name);
        return v && *v ? (unsigned) strtoul(v, NULL, 10) : def;
}

static void make_dir(const char *rel) {
        char path[4096];

        snprintf(path, sizeof(path), "%s%s", root, rel);
        if (mkdir(path, 0755) < 0 && errno != EEXIST) {
                fprintf(stderr, "cannot mkdir %s: %m\n", path);
                exit(2);
        }
}

static void make_link(const char *target, const char *rel) {
        char path[4096];

        snprintf(path, sizeof(path), "%s%s", root, rel);
        if (symlink(target, path) < 0 && errno != EEXIST) {
                fprintf(stderr, "cannot link %s: %m\n", path);
                exit(2);
        }
}

static void write_avail(StormParent *p, unsigned v) {
        char rel[512], s[32];

        snprintf(rel, sizeof(rel), "%s/mdev_supported_types/" TYPE "/available_instances", p->syspath);
        snprintf(s, sizeof(s), "%u\n", v);
        write_file(rel, s);
        p->avail = v;
}

static void add_parent(UMockdevTestbed *tb, StormParent *p, unsigned avail) {
        static const char *const dirs[] = { "", "/" TYPE, "/" TYPE "/devices" };
        char rel[1024], link[1024];

        p->syspath = umockdev_testbed_add_device(tb, "pci", p->bdf, NULL,
                                                 "vendor", "0x8086", "device", "0x3e92", NULL,
                                                 "PCI_SLOT_NAME", p->bdf, NULL);
        for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
                snprintf(rel, sizeof(rel), "%s/mdev_supported_types%s", p->syspath, dirs[i]);
                make_dir(rel);
        }
        write_avail(p, avail);
        snprintf(rel, sizeof(rel), "%s/mdev_supported_types/" TYPE "/device_api", p->syspath);
        write_file(rel, "vfio-pci\n");
        snprintf(rel, sizeof(rel), "%s/mdev_supported_types/" TYPE "/create", p->syspath);
        write_file(rel, "");
        make_dir("/sys/class");
        make_dir("/sys/class/mdev_bus");
        snprintf(rel, sizeof(rel), "/sys/class/mdev_bus/%.15s", p->bdf);
        snprintf(link, sizeof(link), "../../devices/%.15s", p->bdf);
        make_link(link, rel);
}

static void uuid_of(unsigned i, char *buf, size_t size) {
        snprintf(buf, size, "83b8f4f2-509f-382f-3c1e-%012x", i);
}

/* The kernel's order: the device below its parent, its type link, the mdev
 * bus link and the type's devices/ link, the parent's lower availability;
 * then "add". The folder is made
 * by hand: umockdev_testbed_add_device() would send an "add" of its own,
 * through umockdev's sender, which may drop it. */
static void add_mdev(UeventSender *snd, unsigned i) {
        StormParent *p = &parents[i % n_parents];
        char uuid[64], sys[512], rel[1024], target[1024];

        uuid_of(i, uuid, sizeof(uuid));
        snprintf(sys, sizeof(sys), "%s/%s", p->syspath, uuid);
        make_dir(sys);
        snprintf(rel, sizeof(rel), "%s/mdev_type", sys);
        make_link("../mdev_supported_types/" TYPE, rel);
        snprintf(rel, sizeof(rel), "%s/subsystem", sys);
        make_link("../../../bus/mdev", rel);
        snprintf(rel, sizeof(rel), "%s/uevent", sys);
        write_file(rel, "MDEV_TYPE=" TYPE "\n");
        snprintf(rel, sizeof(rel), "/sys/bus/mdev/devices/%s", uuid);
        snprintf(target, sizeof(target), "../../..%s", sys + strlen("/sys"));
        make_link(target, rel);
        snprintf(rel, sizeof(rel), "%s/mdev_supported_types/" TYPE "/devices/%s", p->syspath, uuid);
        snprintf(target, sizeof(target), "../../../%s", uuid);
        make_link(target, rel);
        p->n_mdevs++;
        write_avail(p, p->avail - 1);
        (void) uevent_send(snd, sys + strlen("/sys"), "mdev", "add");
}

typedef struct Counts {
        uint32_t uevents, overflows, refresh_pending, mdev;
} Counts;

static int get_counts(sd_bus *bus, Counts *c) {
        sd_bus_message *reply = NULL;
        const char *key;
        uint32_t v;
        int r;

        memset(c, 0, sizeof(*c));
        r = sd_bus_call_method(bus, "org.siov1", "/org/siov1", "org.siov1.Manager", "GetStatus",
                               NULL, &reply, "");
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "{su}");
        while (r >= 0 && (r = sd_bus_message_read(reply, "{su}", &key, &v)) > 0) {
                if (strcmp(key, "uevents") == 0)
                        c->uevents = v;
                else if (strcmp(key, "uevent-overflows") == 0)
                        c->overflows = v;
                else if (strcmp(key, "refresh-pending") == 0)
                        c->refresh_pending = v;
                else if (strcmp(key, "mdev") == 0)
                        c->mdev = v;
        }
        sd_bus_message_unref(reply);
        return r;
}

/* Until siovd has read every uevent sent and re-read what they named. */
static void wait_caught_up(sd_bus *bus, UeventSender *snd, const char *what) {
        uint64_t deadline = now_usec() + WAIT_USEC;
        char detail[256];
        Counts c = {};
        int r;

        for (;;) {
                r = get_counts(bus, &c);
                if (r < 0 || c.overflows > 0 || (c.uevents == (uint32_t) snd->sent && c.refresh_pending == 0) ||
                    now_usec() >= deadline)
                        break;
                usleep(50000);
        }
        snprintf(detail, sizeof(detail), "%llu sent (%llu send failures), siovd read %" PRIu32
                 ", %" PRIu32 " overflows, %" PRIu32 " re-reads pending%s",
                 snd->sent, snd->failed, c.uevents, c.overflows, c.refresh_pending, r < 0 ? ", GetStatus failed" : "");
        {
                char name[256];
                snprintf(name, sizeof(name), "%s: every uevent sent, and siovd read each one", what);
                result(r >= 0 && snd->failed == 0 && c.overflows == 0 && c.uevents == (uint32_t) snd->sent &&
                       c.refresh_pending == 0, name, detail);
        }
}

/* ListDevices per parent = the testbed's mdevs of that parent, exactly. */
static void check_devices(sd_bus *bus, unsigned n_mdevs, const char *what) {
        unsigned char *seen = calloc(n_mdevs ? n_mdevs : 1, 1);
        unsigned total = 0, bad = 0;
        char detail[512] = "", name[256];
        Counts c;

        for (unsigned pi = 0; pi < n_parents; pi++) {
                sd_bus_message *reply = NULL;
                int r;

                r = sd_bus_call_method(bus, "org.siov1", "/org/siov1", "org.siov1.Manager", "ListDevices",
                                       NULL, &reply, "ss", parents[pi].bdf, "");
                if (r < 0) {
                        snprintf(detail, sizeof(detail), "ListDevices(%s): %s", parents[pi].bdf, strerror(-r));
                        bad++;
                        continue;
                }
                r = sd_bus_message_enter_container(reply, 'a', "(osssssbbsa(ss)sssbas)");
                while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'r', "osssssbbsa(ss)sssbas")) > 0) {
                        const char *path, *uuid, *kind, *parent, *type, *state;
                        char want[64];
                        unsigned i;

                        r = sd_bus_message_read(reply, "osssss", &path, &uuid, &kind, &parent, &type, &state);
                        if (r < 0)
                                break;
                        i = (unsigned) strtoul(uuid + strlen("83b8f4f2-509f-382f-3c1e-"), NULL, 16);
                        uuid_of(i, want, sizeof(want));
                        total++;
                        if (i >= n_mdevs || strcmp(want, uuid) != 0 || seen[i] || i % n_parents != pi ||
                            strcmp(parent, parents[pi].bdf) != 0 || strcmp(kind, "mdev") != 0 ||
                            strcmp(type, TYPE) != 0 || strcmp(state, "active") != 0) {
                                if (bad++ == 0)
                                        snprintf(detail, sizeof(detail), "unexpected record %s %s %s %s %s",
                                                 uuid, kind, parent, type, state);
                        } else
                                seen[i] = 1;
                        r = sd_bus_message_skip(reply, "bbsa(ss)sssbas");
                        if (r >= 0)
                                r = sd_bus_message_exit_container(reply);
                }
                if (r < 0 && bad++ == 0)
                        snprintf(detail, sizeof(detail), "cannot read ListDevices(%s): %s", parents[pi].bdf,
                                 strerror(-r));
                sd_bus_message_unref(reply);
        }
        for (unsigned i = 0; i < n_mdevs; i++)
                if (!seen[i] && bad++ == 0) {
                        char u[64];
                        uuid_of(i, u, sizeof(u));
                        snprintf(detail, sizeof(detail), "%s is missing", u);
                }
        if (bad == 0)
                snprintf(detail, sizeof(detail), "%u devices", total);
        snprintf(name, sizeof(name), "%s: ListDevices per parent = the testbed's mdevs", what);
        result(bad == 0 && total == n_mdevs, name, detail);

        snprintf(name, sizeof(name), "%s: GetStatus counts %u mdevs", what, n_mdevs);
        bad = get_counts(bus, &c) < 0;
        snprintf(detail, sizeof(detail), bad ? "GetStatus failed" : "got %" PRIu32, c.mdev);
        result(!bad && c.mdev == n_mdevs, name, detail);
        free(seen);
}

/* ListTypes("") shows each parent's last written availability. */
static void check_types(sd_bus *bus, const char *what) {
        sd_bus_message *reply = NULL;
        unsigned found = 0, bad = 0;
        char detail[512] = "", name[256];
        int r;

        r = sd_bus_call_method(bus, "org.siov1", "/org/siov1", "org.siov1.Manager", "ListTypes",
                               NULL, &reply, "s", "");
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "(ossssssuss)");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'r', "ossssssuss")) > 0) {
                const char *path, *id, *kind, *parent, *tname, *desc, *api, *broken, *mig;
                uint32_t avail;
                bool known = false;

                r = sd_bus_message_read(reply, "ossssssuss", &path, &id, &kind, &parent, &tname, &desc, &api,
                                        &avail, &broken, &mig);
                if (r < 0)
                        break;
                for (unsigned pi = 0; pi < n_parents; pi++)
                        if (strcmp(parent, parents[pi].bdf) == 0 && strcmp(id, TYPE) == 0) {
                                known = true;
                                found++;
                                if (avail != parents[pi].avail && bad++ == 0)
                                        snprintf(detail, sizeof(detail), "%s: AvailableInstances %" PRIu32
                                                 ", the testbed has %u", parent, avail, parents[pi].avail);
                        }
                if (!known && bad++ == 0)
                        snprintf(detail, sizeof(detail), "unexpected type %s of %s", id, parent);
                r = sd_bus_message_exit_container(reply);
        }
        if (r < 0)
                snprintf(detail, sizeof(detail), "ListTypes: %s", strerror(-r));
        sd_bus_message_unref(reply);
        snprintf(name, sizeof(name), "%s: ListTypes = the testbed's types and availability", what);
        result(r >= 0 && bad == 0 && found == n_parents, name, detail);
}

int main(void) {
        unsigned n_mdevs = env_uint("STORM_MDEVS", 10000), n_changes = env_uint("STORM_CHANGES", 1000);
        bool bench = env_uint("STORM_BENCH", 0) != 0;
        UMockdevTestbed *tb;
        UeventSender snd;
        sd_bus *bus = NULL;
        uint64_t t0;
        int status = 0, r;

        n_parents = env_uint("STORM_PARENTS", 4);
        if (n_parents == 0 || n_parents > MAX_PARENTS) {
                fprintf(stderr, "STORM_PARENTS must be 1..%d\n", MAX_PARENTS);
                return 2;
        }

        tb = umockdev_testbed_new();
        root = umockdev_testbed_get_root_dir(tb);
        for (unsigned pi = 0; pi < n_parents; pi++) {
                snprintf(parents[pi].bdf, sizeof(parents[pi].bdf), "0000:00:%02x.0", pi + 2);
                add_parent(tb, &parents[pi], n_mdevs / n_parents + 100);
        }
        make_dir("/sys/bus");
        make_dir("/sys/bus/mdev");
        make_dir("/sys/bus/mdev/devices");

        if (sd_bus_open_system(&bus) < 0) {
                fprintf(stderr, "cannot connect to the bus in DBUS_SYSTEM_BUS_ADDRESS\n");
                return 2;
        }
        start_siovd();
        result(wait_name(bus), "siovd under umockdev owns org.siov1", NULL);
        /* siovd opens its monitor before its first scan, so it listens now. */
        r = uevent_sender_open(&snd, root);
        {
                char detail[64];
                snprintf(detail, sizeof(detail), "%d listener(s)", r);
                result(r == 1, "siovd's uevent socket is the one listener", detail);
        }
        check_devices(bus, 0, "before the storm");

        /* 1. mdev adds, as fast as siovd takes them */
        if (bench)
                printf("burst-start\n"), fflush(stdout);
        t0 = now_usec();
        for (unsigned i = 0; i < n_mdevs; i++)
                add_mdev(&snd, i);
        printf("# %u mdev adds sent in %.1f s\n", n_mdevs, (now_usec() - t0) / 1e6);
        {
                char what[64];
                snprintf(what, sizeof(what), "%u mdev adds", n_mdevs);
                wait_caught_up(bus, &snd, what);
                if (bench) {
                        /* The benchmark's calls after the burst, for
                         * comparison: siovd stays until it says so. */
                        const char *done = getenv("STORM_BENCH_DONE");
                        uint64_t until = now_usec() + WAIT_USEC;

                        printf("burst-end\n"), fflush(stdout);
                        while (done && access(done, F_OK) < 0 && now_usec() < until)
                                usleep(50000);
                }
                printf("# caught up %.1f s after the first add\n", (now_usec() - t0) / 1e6);
                check_devices(bus, n_mdevs, what);
                check_types(bus, what);
        }

        /* 2. availability changes on the parents, in turn; the last one of
         *    each parent is what siovd must show. */
        t0 = now_usec();
        for (unsigned i = 0; i < n_changes; i++) {
                StormParent *p = &parents[i % n_parents];

                write_avail(p, (i * 7919u) % 1000u);
                (void) uevent_send(&snd, p->syspath + strlen("/sys"), "pci", "change");
        }
        printf("# %u availability changes sent in %.1f s\n", n_changes, (now_usec() - t0) / 1e6);
        {
                char what[64];
                snprintf(what, sizeof(what), "%u availability changes", n_changes);
                wait_caught_up(bus, &snd, what);
                check_types(bus, what);
                check_devices(bus, n_mdevs, what);
        }

        uevent_sender_close(&snd);
        kill(siovd_pid, SIGTERM);
        waitpid(siovd_pid, &status, 0);
        result(WIFEXITED(status) && WEXITSTATUS(status) == 0, "siovd exits cleanly on SIGTERM", NULL);

        sd_bus_flush_close_unref(bus);
        g_object_unref(tb);
        printf("%d passed, %d failed\n", n_passed, n_failed);
        return n_failed > 0 ? 1 : 0;
}
