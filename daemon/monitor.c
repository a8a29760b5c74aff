/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* uevents: received here (libudev's monitor, created before the first
 * scan) and handled here (manager_handle_uevent: which object to re-read). */

#include <errno.h>
#include <libudev.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "device.h"
#include "log.h"
#include "manager.h"
#include "parent.h"
#include "siov-names.h"

static int on_monitor(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Manager *m = userdata;

        /* A bounded batch: in a storm the socket stays readable and the
         * rest is read at the bus's priority, between calls; once it is
         * drained uevents go first again. */
        for (unsigned n = 0;; n++) {
                struct udev_device *dev;

                if (n == SIOV_UEVENT_BATCH) {
                        (void) sd_event_source_set_priority(s, SD_EVENT_PRIORITY_NORMAL);
                        return 0;
                }
                errno = 0;
                dev = udev_monitor_receive_device(m->monitor);
                if (!dev) {
                        /* The socket overflowed: some uevents are lost, so
                         * nothing short of a full rescan is trustworthy. */
                        if (errno == ENOBUFS) {
                                m->n_uevent_overflows++;
                                log_warning("uevents were lost (receive buffer overflow); rescanning.");
                                (void) manager_request_rescan(m);
                                continue;
                        }
                        (void) sd_event_source_set_priority(s, SIOV_PRIORITY_UEVENTS);
                        break;
                }
                m->n_uevents++;
                manager_handle_uevent(m, strempty(udev_device_get_action(dev)),
                                      udev_device_get_devpath(dev),
                                      udev_device_get_subsystem(dev));
                udev_device_unref(dev);
        }
        return 0;
}

static bool udevd_running(void) {
        struct stat st;
        /* systemd's own test: udevd creates its control socket at start. */
        return stat("/run/udev/control", &st) == 0;
}

int manager_monitor_start(Manager *m) {
        const char *name;
        int r, fd;

        switch (m->uevent_source) {
        case UEVENT_SOURCE_UDEV:
                name = "udev";
                break;
        case UEVENT_SOURCE_KERNEL:
                name = "kernel";
                break;
        default:
                /* Without udevd nobody re-broadcasts on the "udev" group:
                 * listen to the kernel directly. */
                name = udevd_running() ? "udev" : "kernel";
        }

        m->udev = udev_new();
        if (!m->udev)
                return log_error_errno(errno ?: ENOMEM, "Cannot create a udev context: %m");
        m->monitor = udev_monitor_new_from_netlink(m->udev, name);
        if (!m->monitor)
                return log_error_errno(errno ?: ENOMEM, "Cannot create the %s uevent monitor: %m", name);
        /* Bursts (hundreds of creates, a parent with many VFs) must not
         * overflow the socket. */
        (void) udev_monitor_set_receive_buffer_size(m->monitor, 16 * 1024 * 1024);
        r = udev_monitor_enable_receiving(m->monitor);
        if (r < 0)
                return log_error_errno(r, "Cannot listen to %s uevents: %m", name);
        fd = udev_monitor_get_fd(m->monitor);
        r = sd_event_add_io(m->event, &m->monitor_source, fd, EPOLLIN, on_monitor, m);
        if (r < 0)
                return log_error_errno(r, "Cannot watch uevents: %m");
        r = sd_event_source_set_priority(m->monitor_source, SIOV_PRIORITY_UEVENTS);
        if (r < 0)
                return log_error_errno(r, "Cannot set the uevent priority: %m");
        log_debug("Listening to %s uevents.", name);
        return 0;
}

void manager_monitor_stop(Manager *m) {
        m->monitor_source = sd_event_source_disable_unref(m->monitor_source);
        m->monitor = udev_monitor_unref(m->monitor);
        m->udev = udev_unref(m->udev);
}

/* ---- the one handler: what a uevent means for the model ----------------- */

static bool startswith_devices(const char *devpath) {
        return strncmp(devpath, "/devices/", strlen("/devices/")) == 0 && !strstr(devpath, "/../");
}

/* Copies the last component of a devpath into buf. */
static const char *devpath_basename(const char *devpath, char *buf, size_t size) {
        const char *slash = strrchr(devpath, '/');
        const char *b = slash ? slash + 1 : devpath;
        size_t n = strlen(b);

        /* Longer than any sysfs name: cannot be one of ours. */
        if (n >= size)
                n = 0;
        memcpy(buf, b, n);
        buf[n] = 0;
        return buf;
}

void manager_handle_uevent(Manager *m, const char *action, const char *devpath, const char *subsystem) {
        char path[4096], name[256];
        bool removed = streq(action, "remove");

        if (!devpath || !startswith_devices(devpath))
                return;
        log_debug("uevent %s %s (%s)", action, devpath, strempty(subsystem));

        /* Something changed on the dsa bus (a WQ or an idxd device enabled,
         * disabled, added): libaccel-config's cached view is stale. The new
         * context is made once, on the next read. */
        if (streq(strempty(subsystem), "dsa"))
                siov_ctx_refresh_idxd(m->ctx);

        if (streq(strempty(subsystem), "mdev")) {
                /* An mdev sits directly below its parent's device. */
                devpath_basename(devpath, name, sizeof(name));
                if (siov_uuid_is_valid(name)) {
                        char uuid[SIOV_UUID_STRING_MAX];

                        if (siov_uuid_normalize(name, uuid) < 0)
                                return;
                        Device *d = hashmap_get(m->devices, uuid);

                        /* A known mdev: it alone changes, and its parent's
                         * available_instances if it came or went
                         * (manager_refresh_mdev()). */
                        if (removed && d && device_is_active_mdev(d)) {
                                /* The kernel says it is gone: trust the
                                 * event, the folder may linger a moment. */
                                manager_forget_mdev(m, uuid);
                                return;
                        }
                        snprintf(path, sizeof(path), "%s", devpath);
                        *strrchr(path, '/') = 0;
                        devpath_basename(path, name, sizeof(name));
                        if (!removed)
                                manager_mark_mdev(m, uuid);
                        /* The kernel counted it before saying "add", even for
                         * an mdev siovd knows already (its own create); an
                         * mdev gone that siovd does not show (its own
                         * destroy) leaves only the counters to read. */
                        if ((removed || streq(action, "add")) && hashmap_get(m->parents, name))
                                manager_mark_counters(m, name);
                        return;
                }
                /* Not an mdev siovd knew: read its parent whole. */
                snprintf(path, sizeof(path), "%s", devpath);
                *strrchr(path, '/') = 0;
                devpath_basename(path, name, sizeof(name));
                if (hashmap_get(m->parents, name))
                        manager_mark_parent(m, name);
                return;
        }

        /* A known parent, or something below one (its netdevs, its VFs and
         * their netdevs): refresh that parent. Walk up a few levels only. */
        snprintf(path, sizeof(path), "%s", devpath);
        for (int level = 0; level < 4; level++) {
                Parent *owner;
                char *slash;

                devpath_basename(path, name, sizeof(name));
                if (hashmap_get(m->parents, name)) {
                        manager_mark_parent(m, name);
                        return;
                }
                owner = hashmap_get(m->vf_owners, name);
                if (owner) {
                        manager_mark_parent(m, owner->name);
                        return;
                }
                slash = strrchr(path, '/');
                if (!slash || slash == path)
                        break;
                *slash = 0;
                if (streq(path, "/devices"))
                        break;
        }
        if (removed)
                return;

        /* Unknown device: a new parent (mdev parent registered, PF added), or
         * a new VF whose PF we must refresh. */
        {
                struct siov_parent *snap = NULL;
                int r = siov_parent_read_devpath(m->ctx, devpath, &snap);

                if (r >= 0) {
                        manager_set_parent(m, snap);
                        /* Its mdevs come with their own uevents. */
                        siov_parent_forget_devices(snap);
                        siov_parent_unref(snap);
                        return;
                }
                if (r != -ENODEV)
                        log_debug_errno(r, "Cannot read %s: %m", devpath);
        }
        if (streq(strempty(subsystem), "pci")) {
                char link[4096];
                _cleanup_free_ char *physfn = NULL;
                ssize_t n;

                snprintf(path, sizeof(path), "sys%s/" SIOV_ATTR_PHYSFN, devpath);
                physfn = siov_ctx_path(m->ctx, path);
                if (!physfn)
                        return;
                n = readlink(physfn, link, sizeof(link) - 1);
                if (n <= 0)
                        return;
                link[n] = 0;
                devpath_basename(link, name, sizeof(name));
                if (siov_pci_address_is_valid(name))
                        manager_mark_parent(m, name);
        }
}
