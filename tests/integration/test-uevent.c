/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Uevents reach D-Bus clients: a umockdev testbed holds a PCI mdev parent;
 * the real siovd runs under umockdev's preload (so its libudev monitor gets
 * the testbed's uevents) on a private system bus (DBUS_SYSTEM_BUS_ADDRESS,
 * set up by the calling script). Checked, each within one second:
 *   - available_instances changes + "change" uevent → PropertiesChanged
 *     with the new AvailableInstances;
 *   - an mdev appears + "add" uevent → InterfacesAdded for its Device;
 *   - the mdev goes + "remove" uevent → InterfacesRemoved;
 *   - a second parent appears + "add" → InterfacesAdded for it;
 *   - a change that changes nothing emits nothing.
 *
 * Env: SIOVD (binary or libtool wrapper), UMOCKDEV_PRELOAD (path of
 * libumockdev-preload.so.0).
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <umockdev.h>
#include <unistd.h>

#include "uevent-signals.h"

#define PARENT "0000:00:02.0"
#define PARENT2 "0000:00:03.0"
#define TYPE "i915-GVTg_V5_4"
#define UUID "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"

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

/* A PCI device with one GVT-g-like type (no `name`, as on real GVT-g). */
static char *add_parent(UMockdevTestbed *tb, const char *bdf, const char *avail) {
        char *syspath, rel[512], link[512];

        syspath = umockdev_testbed_add_device(tb, "pci", bdf, NULL,
                                              "vendor", "0x8086", "device", "0x3e92", NULL,
                                              "PCI_SLOT_NAME", bdf, NULL);
        /* umockdev names devices "/sys/devices/<bdf>" (below its root) */
        snprintf(rel, sizeof(rel), "%s/mdev_supported_types", syspath);
        make_dir(rel);
        snprintf(rel, sizeof(rel), "%s/mdev_supported_types/" TYPE, syspath);
        make_dir(rel);
        snprintf(rel, sizeof(rel), "%s/mdev_supported_types/" TYPE "/devices", syspath);
        make_dir(rel);
        snprintf(rel, sizeof(rel), "%s/mdev_supported_types/" TYPE "/available_instances", syspath);
        write_file(rel, avail);
        snprintf(rel, sizeof(rel), "%s/mdev_supported_types/" TYPE "/device_api", syspath);
        write_file(rel, "vfio-pci\n");
        snprintf(rel, sizeof(rel), "%s/mdev_supported_types/" TYPE "/description", syspath);
        write_file(rel, "low_gm_size: 128MB\nhigh_gm_size: 384MB\n");
        snprintf(rel, sizeof(rel), "%s/mdev_supported_types/" TYPE "/create", syspath);
        write_file(rel, "");
        make_dir("/sys/class");
        make_dir("/sys/class/mdev_bus");
        snprintf(rel, sizeof(rel), "/sys/class/mdev_bus/%s", bdf);
        snprintf(link, sizeof(link), "../../devices/%s", bdf);
        make_link(link, rel);
        return syspath;
}

static bool match_available(sd_bus_message *m, void *userdata) {
        uint32_t want = *(uint32_t *) userdata;
        if (!properties_changed_enter(m, "org.siov1.Type"))
                return false;
        while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
                const char *prop;
                uint32_t v;

                if (sd_bus_message_read(m, "s", &prop) < 0)
                        return false;
                if (strcmp(prop, "AvailableInstances") == 0) {
                        if (sd_bus_message_read(m, "v", "u", &v) < 0)
                                return false;
                        return v == want;
                }
                if (sd_bus_message_skip(m, "v") < 0 || sd_bus_message_exit_container(m) < 0)
                        return false;
        }
        return false;
}

static bool match_object_signal(sd_bus_message *m, const char *member, const char *path) {
        const char *p;

        if (!sd_bus_message_is_signal(m, "org.freedesktop.DBus.ObjectManager", member))
                return false;
        if (sd_bus_message_read(m, "o", &p) < 0)
                return false;
        return strcmp(p, path) == 0;
}

static bool match_added(sd_bus_message *m, void *userdata) {
        return match_object_signal(m, "InterfacesAdded", userdata);
}

static bool match_removed(sd_bus_message *m, void *userdata) {
        return match_object_signal(m, "InterfacesRemoved", userdata);
}

int main(void) {
        UMockdevTestbed *tb;
        sd_bus *bus = NULL;
        char *p1, *type_path = NULL, *dev_path = NULL, *parent2_path = NULL;
        char rel[1024], mdev_sys[512];
        uint32_t want;
        int status = 0;

        tb = umockdev_testbed_new();
        root = umockdev_testbed_get_root_dir(tb);
        p1 = add_parent(tb, PARENT, "4\n");

        if (sd_bus_open_system(&bus) < 0) {
                fprintf(stderr, "cannot connect to the bus in DBUS_SYSTEM_BUS_ADDRESS\n");
                return 2;
        }
        if (sd_bus_add_match(bus, NULL, "type='signal',sender='org.siov1'", NULL, NULL) < 0)
                return 2;

        start_siovd();
        result(wait_name(bus), "siovd under umockdev owns org.siov1", NULL);

        sd_bus_path_encode_many(&type_path, "/org/siov1/parent/%/type/%", PARENT, TYPE);
        sd_bus_path_encode("/org/siov1/device", UUID, &dev_path);
        sd_bus_path_encode("/org/siov1/parent", PARENT2, &parent2_path);

        /* 1. availability change */
        snprintf(rel, sizeof(rel), "%s/mdev_supported_types/" TYPE "/available_instances", p1);
        write_file(rel, "3\n");
        snprintf(rel, sizeof(rel), "%s", p1);
        t_sent = now_usec(), umockdev_testbed_uevent(tb, rel, "change");
        want = 3;
        check_signal(bus, "change uevent → PropertiesChanged AvailableInstances=3", match_available, &want);

        /* 2. a change uevent with nothing changed: no signal at all */
        t_sent = now_usec(), umockdev_testbed_uevent(tb, rel, "change");
        {
                uint64_t latency;
                result(!wait_signal(bus, 300000, match_any_siov, NULL, &latency),
                       "change uevent without a change emits nothing", NULL);
        }

        /* 3. mdev add: the kernel creates the device below its parent, links
         *    it on the mdev bus and into its type's devices/, lowers the
         *    availability, then sends "add". */
        {
                char *sys = umockdev_testbed_add_device(tb, "mdev", UUID, p1, NULL, NULL);
                snprintf(mdev_sys, sizeof(mdev_sys), "%s", sys);
                g_free(sys);
        }
        snprintf(rel, sizeof(rel), "%s/mdev_type", mdev_sys);
        unlink(g_strdup_printf("%s%s", root, rel));
        make_link("../mdev_supported_types/" TYPE, rel);
        make_dir("/sys/bus");
        make_dir("/sys/bus/mdev");
        make_dir("/sys/bus/mdev/devices");
        snprintf(rel, sizeof(rel), "/sys/bus/mdev/devices/%s", UUID);
        make_link(g_strdup_printf("../../..%s", mdev_sys), rel);
        snprintf(rel, sizeof(rel), "%s/mdev_supported_types/" TYPE "/available_instances", p1);
        write_file(rel, "2\n");
        t_sent = now_usec(), umockdev_testbed_uevent(tb, mdev_sys, "add");
        check_signal(bus, "mdev add uevent → InterfacesAdded for the device", match_added, dev_path);
        want = 2;
        check_signal(bus, "mdev add → AvailableInstances=2", match_available, &want);

        /* 4. mdev remove */
        t_sent = now_usec(), umockdev_testbed_uevent(tb, mdev_sys, "remove");
        umockdev_testbed_remove_device(tb, mdev_sys);
        unlink(g_strdup_printf("%s/sys/bus/mdev/devices/%s", root, UUID));
        check_signal(bus, "mdev remove uevent → InterfacesRemoved for the device", match_removed, dev_path);

        /* 5. a new parent appears */
        {
                char *p2 = add_parent(tb, PARENT2, "8\n");
                t_sent = now_usec(), umockdev_testbed_uevent(tb, p2, "add");
                check_signal(bus, "parent add uevent → InterfacesAdded for the parent", match_added, parent2_path);
        }

        kill(siovd_pid, SIGTERM);
        waitpid(siovd_pid, &status, 0);
        result(WIFEXITED(status) && WEXITSTATUS(status) == 0, "siovd exits cleanly on SIGTERM", NULL);

        sd_bus_flush_close_unref(bus);
        g_object_unref(tb);
        printf("%d passed, %d failed\n", n_passed, n_failed);
        return n_failed > 0 ? 1 : 0;
}
