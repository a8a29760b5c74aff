/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * A work-queue change on a DSA device reaches D-Bus clients. The testbed
 * (tests/integration/idxd-testbed: one DSA device, 8 WQs) is written into a
 * umockdev testbed, which is then bound over /sys: siovd reads it through
 * its root prefix, libaccel-config (which reads /sys itself) through the
 * bind mount, and umockdev's preload hands siovd the testbed's uevents.
 * Run by test-idxd-uevent.sh in a private mount namespace, under
 * umockdev-wrapper, with a private system bus. Checked, each within a
 * second of the uevent:
 *   - wq0.3 enabled as a user WQ + "bind" on the dsa bus → PropertiesChanged
 *     on the parent with WorkQueues and HostUsage wq-user=2;
 *   - wq0.0 disabled + "unbind" → HostUsage wq-kernel=1 (libaccel-config's
 *     cached view is replaced: a stale context would still say enabled);
 *   - a "change" on the WQ with nothing changed emits nothing.
 *
 * Env: SIOVD, UMOCKDEV_PRELOAD, IDXD_TESTBED (the generator script).
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <umockdev.h>
#include <unistd.h>

#include "uevent-signals.h"

#define DSA "/sys/devices/pci0000:6a/0000:6a:01.0/dsa0"
#define _cleanup_(f) __attribute__((cleanup(f)))


static void set_driver(const char *wq, const char *driver) {
        char link[4096], target[512];

        snprintf(link, sizeof(link), "%s" DSA "/%s/driver", root, wq);
        (void) unlink(link);
        if (!driver)
                return;
        snprintf(target, sizeof(target), "../../../../../bus/dsa/drivers/%s", driver);
        if (symlink(target, link) < 0) {
                fprintf(stderr, "cannot link %s: %m\n", link);
                exit(2);
        }
}

/* HostUsage in a PropertiesChanged of org.siov1.Parent holding key = want
 * (and, when need_wqs, WorkQueues among the changed properties). */
struct want {
        const char *key;
        uint32_t value;
        bool need_wqs;
};

static bool match_host_usage(sd_bus_message *m, void *userdata) {
        const struct want *w = userdata;
        bool seen_wqs = false, seen_value = false;
        if (!properties_changed_enter(m, "org.siov1.Parent"))
                return false;
        while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
                const char *prop, *k;
                uint32_t v;

                if (sd_bus_message_read(m, "s", &prop) < 0)
                        return false;
                if (strcmp(prop, "WorkQueues") == 0)
                        seen_wqs = true;
                if (strcmp(prop, "HostUsage") == 0) {
                        if (sd_bus_message_enter_container(m, 'v', "a{su}") < 0 ||
                            sd_bus_message_enter_container(m, 'a', "{su}") < 0)
                                return false;
                        while (sd_bus_message_read(m, "{su}", &k, &v) > 0)
                                if (strcmp(k, w->key) == 0 && v == w->value)
                                        seen_value = true;
                        if (sd_bus_message_exit_container(m) < 0 || sd_bus_message_exit_container(m) < 0)
                                return false;
                } else if (sd_bus_message_skip(m, "v") < 0)
                        return false;
                if (sd_bus_message_exit_container(m) < 0)
                        return false;
        }
        return seen_value && (seen_wqs || !w->need_wqs);
}

int main(void) {
        const char *testbed = getenv("IDXD_TESTBED");
        const char *off = "dedicated,none,disabled,0,-1";
        UMockdevTestbed *tb;
        sd_bus *bus = NULL;
        char cmd[8192], sys[4096], *parent_path = NULL;
        struct want w;
        int status = 0;

        if (!testbed) {
                fprintf(stderr, "IDXD_TESTBED must be set\n");
                return 2;
        }

        tb = umockdev_testbed_new();
        root = umockdev_testbed_get_root_dir(tb);
        snprintf(cmd, sizeof(cmd), "env -u LD_PRELOAD '%s' '%s' dsa 0 0000:6a:01.0 "
                 "dedicated,kernel,enabled,16,0,dmaengine dedicated,kernel,enabled,16,0,dmaengine "
                 "shared,user,enabled,32,1,app %s %s %s %s %s", testbed, root, off, off, off, off, off);
        if (system(cmd) != 0) {
                fprintf(stderr, "idxd-testbed failed\n");
                return 2;
        }
        /* libaccel-config's view: the same tree at /sys. */
        snprintf(sys, sizeof(sys), "%s/sys", root);
        if (mount(sys, "/sys", NULL, MS_BIND, NULL) < 0) {
                fprintf(stderr, "cannot bind %s over /sys (private mount namespace, root?): %m\n", sys);
                return 2;
        }

        if (sd_bus_open_system(&bus) < 0) {
                fprintf(stderr, "cannot connect to the bus in DBUS_SYSTEM_BUS_ADDRESS\n");
                return 2;
        }
        if (sd_bus_add_match(bus, NULL, "type='signal',sender='org.siov1'", NULL, NULL) < 0)
                return 2;

        start_siovd();
        result(wait_name(bus), "siovd on the DSA testbed owns org.siov1", NULL);
        sd_bus_path_encode("/org/siov1/parent", "dsa0", &parent_path);
        {
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                const char *dev = NULL;

                result(sd_bus_get_property(bus, "org.siov1", parent_path, "org.siov1.Parent", "IdxdDevice",
                                           &e, &reply, "s") >= 0 &&
                       sd_bus_message_read(reply, "s", &dev) >= 0 && dev && strcmp(dev, "dsa0") == 0,
                       "dsa0 is a parent with its idxd device", e.message);
        }

        /* 1. accel-config enables wq0.3 as a dedicated user WQ: its type
         *    and size are written while disabled, then the WQ is bound to
         *    the "user" driver, which sends "bind" on the dsa bus. */
        write_file(DSA "/wq0.3/type", "user\n");
        write_file(DSA "/wq0.3/size", "16\n");
        write_file(DSA "/wq0.3/group_id", "1\n");
        write_file(DSA "/wq0.3/name", "app2\n");
        write_file(DSA "/wq0.3/state", "enabled\n");
        set_driver("wq0.3", "user");
        t_sent = now_usec(), umockdev_testbed_uevent(tb, DSA "/wq0.3", "bind");
        w = (struct want) { "wq-user", 2, true };
        check_signal(bus, "WQ bind uevent → PropertiesChanged WorkQueues, HostUsage wq-user=2", match_host_usage, &w);

        /* 2. wq0.0 disabled: "unbind". */
        write_file(DSA "/wq0.0/state", "disabled\n");
        set_driver("wq0.0", NULL);
        t_sent = now_usec(), umockdev_testbed_uevent(tb, DSA "/wq0.0", "unbind");
        w = (struct want) { "wq-kernel", 1, true };
        check_signal(bus, "WQ unbind uevent → PropertiesChanged HostUsage wq-kernel=1", match_host_usage, &w);

        /* 3. nothing changed: nothing emitted */
        t_sent = now_usec(), umockdev_testbed_uevent(tb, DSA "/wq0.0", "change");
        {
                uint64_t latency;
                result(!wait_signal(bus, 300000, match_any_siov, NULL, &latency),
                       "WQ change uevent without a change emits nothing", NULL);
        }

        kill(siovd_pid, SIGTERM);
        waitpid(siovd_pid, &status, 0);
        result(WIFEXITED(status) && WEXITSTATUS(status) == 0, "siovd exits cleanly on SIGTERM", NULL);

        free(parent_path);
        sd_bus_flush_close_unref(bus);
        (void) umount("/sys");
        g_object_unref(tb);
        printf("%d passed, %d failed\n", n_passed, n_failed);
        return n_failed > 0 ? 1 : 0;
}
