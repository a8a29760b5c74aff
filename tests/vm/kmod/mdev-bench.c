/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mdev-bench: mdev create+remove cycles per second through raw sysfs
 * writes (open, write, close; nothing else), the floor every siovd
 * operation is compared against.
 *
 *   mdev-bench TYPE_DIR CYCLES
 *
 * TYPE_DIR is /sys/class/mdev_bus/<parent>/mdev_supported_types/<type>.
 * Each cycle writes a UUID to TYPE_DIR/create, then "1" to
 * /sys/bus/mdev/devices/<uuid>/remove. Any failed write aborts the run.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int write_file(const char *path, const char *s)
{
        size_t len = strlen(s);
        int fd, r = 0;

        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (write(fd, s, len) != (ssize_t) len)
                r = -errno;
        if (close(fd) < 0 && !r)
                r = -errno;
        return r;
}

int main(int argc, char **argv)
{
        char create[4096], remove[256], uuid[64];
        double t0, t1, t_create = 0, t_remove = 0, total;
        long i, cycles;
        int r;

        if (argc != 3 || (cycles = strtol(argv[2], NULL, 10)) <= 0) {
                fprintf(stderr, "usage: %s TYPE_DIR CYCLES\n", argv[0]);
                return 2;
        }
        snprintf(create, sizeof(create), "%s/create", argv[1]);

        for (i = 0; i < cycles; i++) {
                snprintf(uuid, sizeof(uuid), "5107e000-0000-4000-8000-%012lx", i);
                snprintf(remove, sizeof(remove), "/sys/bus/mdev/devices/%s/remove", uuid);
                t0 = now();
                r = write_file(create, uuid);
                t1 = now();
                if (r < 0) {
                        fprintf(stderr, "mdev-bench: cycle %ld: create %s: %s\n", i, uuid, strerror(-r));
                        return 1;
                }
                t_create += t1 - t0;
                r = write_file(remove, "1");
                t0 = now();
                if (r < 0) {
                        fprintf(stderr, "mdev-bench: cycle %ld: remove %s: %s\n", i, uuid, strerror(-r));
                        return 1;
                }
                t_remove += t0 - t1;
        }
        total = t_create + t_remove;
        printf("mdev-bench: %ld create+remove cycles in %.3f s: %.1f cycles/s "
               "(create %.2f ms, remove %.2f ms on average)\n",
               cycles, total, cycles / total, t_create / cycles * 1e3, t_remove / cycles * 1e3);
        return 0;
}
