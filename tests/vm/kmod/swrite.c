/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * swrite FILE VALUE: one write(2) of VALUE plus a newline to FILE, like
 * `echo VALUE >FILE`, but on failure prints the exact errno text, e.g.
 * "swrite: /sys/...: No space left on device" (busybox's echo reports every
 * write error as "I/O error").
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
        char buf[4096];
        ssize_t n;
        int fd, len;

        if (argc != 3) {
                fprintf(stderr, "usage: %s FILE VALUE\n", argv[0]);
                return 2;
        }
        len = snprintf(buf, sizeof(buf), "%s\n", argv[2]);
        if (len < 0 || (size_t) len >= sizeof(buf)) {
                fprintf(stderr, "swrite: value too long\n");
                return 2;
        }
        fd = open(argv[1], O_WRONLY | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "swrite: %s: %s\n", argv[1], strerror(errno));
                return 1;
        }
        n = write(fd, buf, len);
        if (n != len) {
                fprintf(stderr, "swrite: %s: %s\n", argv[1], n < 0 ? strerror(errno) : "short write");
                return 1;
        }
        if (close(fd) < 0) {
                fprintf(stderr, "swrite: %s: close: %s\n", argv[1], strerror(errno));
                return 1;
        }
        return 0;
}
