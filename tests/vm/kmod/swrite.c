/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * swrite [-g GATE -r READYFILE] FILE VALUE
 *
 * One write(2) of VALUE plus a newline to FILE, like `echo VALUE >FILE`, but
 * on failure prints the exact errno text, e.g. "swrite: /sys/...: No space
 * left on device" (busybox's echo reports every write error as "I/O error").
 *
 * With -g, FILE is opened first, then GATE (a FIFO that the caller holds
 * open for writing), READYFILE is created, and the write happens when GATE
 * reaches end-of-file: many swrite processes released by one close race on
 * the write(2) itself, not on fork and exec.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
        const char *gate = NULL, *ready = NULL;
        char buf[4096];
        int fd, len, opt;
        ssize_t n;

        while ((opt = getopt(argc, argv, "g:r:")) != -1) {
                switch (opt) {
                case 'g':
                        gate = optarg;
                        break;
                case 'r':
                        ready = optarg;
                        break;
                default:
                        return 2;
                }
        }
        if (argc - optind != 2 || !gate != !ready) {
                fprintf(stderr, "usage: %s [-g GATE -r READYFILE] FILE VALUE\n", argv[0]);
                return 2;
        }
        len = snprintf(buf, sizeof(buf), "%s\n", argv[optind + 1]);
        if (len < 0 || (size_t) len >= sizeof(buf)) {
                fprintf(stderr, "swrite: value too long\n");
                return 2;
        }
        fd = open(argv[optind], O_WRONLY | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "swrite: %s: %s\n", argv[optind], strerror(errno));
                return 1;
        }
        if (gate) {
                char c;
                int g, r;

                g = open(gate, O_RDONLY | O_CLOEXEC);
                if (g < 0) {
                        fprintf(stderr, "swrite: %s: %s\n", gate, strerror(errno));
                        return 1;
                }
                r = open(ready, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (r < 0) {
                        fprintf(stderr, "swrite: %s: %s\n", ready, strerror(errno));
                        return 1;
                }
                close(r);
                while ((n = read(g, &c, 1)) != 0)
                        if (n < 0 && errno != EINTR) {
                                fprintf(stderr, "swrite: %s: %s\n", gate, strerror(errno));
                                return 1;
                        }
                close(g);
        }
        n = write(fd, buf, len);
        if (n != len) {
                fprintf(stderr, "swrite: %s: %s\n", argv[optind], n < 0 ? strerror(errno) : "short write");
                return 1;
        }
        if (close(fd) < 0) {
                fprintf(stderr, "swrite: %s: close: %s\n", argv[optind], strerror(errno));
                return 1;
        }
        return 0;
}
