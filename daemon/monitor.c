/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <libudev.h>
#include <sys/stat.h>

#include "log.h"
#include "manager.h"

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
                                log_warning("uevents were lost (receive buffer overflow); rescanning.");
                                (void) manager_request_rescan(m);
                                continue;
                        }
                        (void) sd_event_source_set_priority(s, SIOV_PRIORITY_UEVENTS);
                        break;
                }
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
