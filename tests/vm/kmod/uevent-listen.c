/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * uevent-listen: a tiny kernel uevent reader for the busybox test guest
 * (which has no udevadm). Prints one line per kernel uevent:
 *
 *   ACTION=change DEVPATH=/devices/virtual/idxd/siov0 SUBSYSTEM=idxd ... SEQNUM=123
 *
 * i.e. the event's KEY=VALUE pairs in kernel order, space separated, and
 * flushes after each line so that a shell can follow the file.
 *
 *   uevent-listen [-d DEVPATH] [-r READYFILE] [-t SECONDS] [-x PATH]...
 *
 *   -d DEVPATH   only events whose DEVPATH is exactly DEVPATH
 *   -x PATH      append EXISTS=<0|1 per PATH>: whether PATH existed when
 *                the event was read (up to 4)
 *   -r FILE      create FILE once the socket is bound (no event can be
 *                missed after it exists)
 *   -t SECONDS   exit after SECONDS (default 120), so it never lingers
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
        const char *devpath = NULL, *ready = NULL;
        struct sockaddr_nl sa = {
                .nl_family = AF_NETLINK,
                .nl_groups = 1,         /* kernel uevent broadcast group */
        };
        double deadline, timeout = 120;
        int fd, opt, rcvbuf = 8 << 20;
        static char buf[16384];
        const char *exists[4];
        int n_exists = 0, i;

        while ((opt = getopt(argc, argv, "d:r:t:x:")) != -1) {
                switch (opt) {
                case 'x':
                        if (n_exists == 4) {
                                fprintf(stderr, "at most 4 -x\n");
                                return 2;
                        }
                        exists[n_exists++] = optarg;
                        break;
                case 'd':
                        devpath = optarg;
                        break;
                case 'r':
                        ready = optarg;
                        break;
                case 't':
                        timeout = atof(optarg);
                        break;
                default:
                        fprintf(stderr, "usage: %s [-d DEVPATH] [-r READYFILE] [-t SECONDS] [-x PATH]...\n", argv[0]);
                        return 2;
                }
        }

        fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
        if (fd < 0) {
                perror("socket(NETLINK_KOBJECT_UEVENT)");
                return 1;
        }
        /* a burst of events (a 32-way race) must not overflow the socket */
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
                (void) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                perror("bind");
                return 1;
        }
        if (ready) {
                int r = open(ready, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

                if (r < 0) {
                        perror(ready);
                        return 1;
                }
                close(r);
        }

        deadline = now() + timeout;
        for (;;) {
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                double left = deadline - now();
                const char *dp = NULL, *sep;
                ssize_t n;
                size_t off;
                int r;

                if (left <= 0)
                        return 0;
                r = poll(&pfd, 1, (int) (left * 1000) + 1);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        perror("poll");
                        return 1;
                }
                if (r == 0)
                        continue;
                n = recv(fd, buf, sizeof(buf) - 1, 0);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == ENOBUFS) {
                                /* lost events must fail a test, not hide */
                                printf("UEVENT-LISTEN-OVERFLOW\n");
                                fflush(stdout);
                                continue;
                        }
                        perror("recv");
                        return 1;
                }
                buf[n] = '\0';
                /* udevd re-broadcasts start with "libudev": kernel only */
                if (!strchr(buf, '@'))
                        continue;
                for (off = strlen(buf) + 1; off < (size_t) n; off += strlen(buf + off) + 1)
                        if (!strncmp(buf + off, "DEVPATH=", 8))
                                dp = buf + off + 8;
                if (devpath && (!dp || strcmp(dp, devpath)))
                        continue;
                sep = "";
                for (off = strlen(buf) + 1; off < (size_t) n; off += strlen(buf + off) + 1) {
                        if (!buf[off])
                                continue;
                        printf("%s%s", sep, buf + off);
                        sep = " ";
                }
                /* -x: whether each PATH exists when the event is read */
                if (n_exists) {
                        printf("%sEXISTS=", sep);
                        for (i = 0; i < n_exists; i++)
                                putchar(access(exists[i], F_OK) ? '0' : '1');
                }
                putchar('\n');
                fflush(stdout);
        }
}
