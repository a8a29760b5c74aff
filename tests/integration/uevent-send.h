/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A uevent sender that cannot lose events: it writes the same message as
 * umockdev's umockdev_testbed_uevent() (libudev's monitor header and the
 * ACTION/DEVPATH/SUBSYSTEM/SEQNUM properties) to every listener socket of
 * the testbed (<root>/event<N>, made by umockdev's preload when a process
 * under it opens a uevent monitor), but through a blocking socket and with
 * every send checked. umockdev's own sender uses a non-blocking socket:
 * once a listener's queue is full (net.unix.max_dgram_qlen datagrams: the
 * kernel's default is 10, systemd raises it to 512) the send fails with
 * EAGAIN, which upstream umockdev ignores (the event is lost) and Debian
 * 12's umockdev 0.17 reports before aborting the sender (seen at 2,000
 * mdev adds). Here a full queue makes the sender wait until the listener
 * reads, and any other failure is counted, so "sent" means "in the
 * listener's queue".
 */

#include <arpa/inet.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define UEVENT_SEND_MAX_LISTENERS 8

typedef struct UeventSender {
        int fds[UEVENT_SEND_MAX_LISTENERS];
        size_t n_fds;
        unsigned long long seqnum;
        unsigned long long sent, failed;
} UeventSender;

/* libudev's (systemd's device-monitor.c) wire header, fields in order. */
struct uevent_send_header {
        char prefix[8];
        uint32_t magic;
        uint32_t header_size;
        uint32_t properties_off;
        uint32_t properties_len;
        uint32_t filter_subsystem_hash;
        uint32_t filter_devtype_hash;
        uint32_t filter_tag_bloom_hi;
        uint32_t filter_tag_bloom_lo;
};

/* Connects to every listener in dir (the testbed root); returns how many (0: nobody
 * listens yet), or -errno. */
static int uevent_sender_open(UeventSender *s, const char *dir) {
        char pattern[4096];
        glob_t gl;
        int r;

        memset(s, 0, sizeof(*s));
        snprintf(pattern, sizeof(pattern), "%s/event[0-9]*", dir);
        r = glob(pattern, 0, NULL, &gl);
        if (r == GLOB_NOMATCH)
                return 0;
        if (r != 0)
                return -EIO;
        for (size_t i = 0; i < gl.gl_pathc && s->n_fds < UEVENT_SEND_MAX_LISTENERS; i++) {
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                /* Blocking on purpose: a full queue waits, it does not drop. */
                int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

                if (fd < 0 || strlen(gl.gl_pathv[i]) >= sizeof(sa.sun_path)) {
                        globfree(&gl);
                        return -errno ?: -ENAMETOOLONG;
                }
                strcpy(sa.sun_path, gl.gl_pathv[i]);
                if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                        r = -errno;
                        close(fd);
                        globfree(&gl);
                        return r;
                }
                s->fds[s->n_fds++] = fd;
        }
        globfree(&gl);
        return (int) s->n_fds;
}

static void uevent_sender_close(UeventSender *s) {
        for (size_t i = 0; i < s->n_fds; i++)
                close(s->fds[i]);
        s->n_fds = 0;
}

/* devpath below /sys ("/devices/..."). Returns 0 when every listener has
 * the event queued; else -errno, and the event counts as failed. */
static int uevent_send(UeventSender *s, const char *devpath, const char *subsystem, const char *action) {
        struct uevent_send_header h = {
                .prefix = "libudev",
                .magic = htonl(0xfeedcafe),
                .header_size = sizeof(h),
                .properties_off = sizeof(h),
        };
        char props[1024];
        int n;

        n = snprintf(props, sizeof(props), "ACTION=%s%cDEVPATH=%s%cSUBSYSTEM=%s%cSEQNUM=%llu%c",
                     action, 0, devpath, 0, subsystem, 0, ++s->seqnum, 0);
        if (n < 0 || (size_t) n >= sizeof(props)) {
                s->failed++;
                return -ENAMETOOLONG;
        }
        h.properties_len = (uint32_t) n;
        for (size_t i = 0; i < s->n_fds; i++) {
                struct iovec iov[2] = { { &h, sizeof(h) }, { props, (size_t) n } };
                struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
                ssize_t w;

                do
                        w = sendmsg(s->fds[i], &msg, MSG_NOSIGNAL);
                while (w < 0 && errno == EINTR);
                if (w != (ssize_t) (sizeof(h) + (size_t) n)) {
                        int r = w < 0 ? -errno : -EIO;
                        s->failed++;
                        return r;
                }
        }
        s->sent++;
        return 0;
}
