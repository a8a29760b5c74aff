/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fake-sysfs-tool: builds fake sysfs trees (tests/common/fake-sysfs.h) from
 * shell scripts, and times libsiov scans of them.
 *
 * Usage: fake-sysfs-tool ROOT COMMAND [ARGS]
 *
 *   init                                   create ROOT/sys skeleton
 *   add-mdev-parent NAME [--pci | --class CLASS] [--driver DRV]
 *                                          PCI device (default) or class device
 *   add-type PARENT TYPE [--available N] [--device-api API | --no-device-api]
 *            [--name S] [--description S]  (defaults: 1, vfio-pci, no name/description)
 *   add-mdev PARENT TYPE UUID [--consume]  --consume: available_instances - 1
 *   remove-mdev UUID [--release]           --release: available_instances + 1
 *   set-attr PATH VALUE [--raw]            write ROOT/PATH (VALUE + "\n" unless --raw)
 *   set-type-attr PARENT TYPE ATTR VALUE [--raw]
 *   remove PATH                            rm -rf ROOT/PATH
 *   symlink PATH TARGET                    raw symlink ROOT/PATH -> TARGET
 *   add-pf BDF [--total-vfs N] [--driver DRV]
 *   add-vf PF INDEX VFBDF [--driver DRV] [--netdev IFNAME]
 *   set-driver DEVICE [DRV]                bind, or unbind without DRV
 *   add-netdev DEVICE IFNAME
 *   add-siov-parent NAME [--total N] [--free N] [--mdev-dwq N] [--mdev-swq N]
 *            [--host-netdev N] [--host-wq N] [--swq-slots N] [--netdev IFNAME]
 *   add-vfio-variant MODULE                modules.alias "alias vfio_pci:... MODULE"
 *   bench [--parents N] [--mdevs-per-parent N] [--pfs N] [--vfs N]
 *                                          (defaults 100, 100, 10, 64); prints
 *                                          "bench: ... ms=<build time>"
 *   scan [--repeat N] [--verbose]          siov_scan() of ROOT (may be "/"); prints one line
 *                                          "parents=P types=T mdevs=M pfs=F vfs=V
 *                                          ms_min=X ms_median=Y heap_kib=H" (ctx + scan +
 *                                          free, best and median of N runs;
 *                                          H: malloc'd KiB the model holds,
 *                                          meaningless under ASan);
 *                                          --verbose also dumps the model
 *   kernel-write PATH VALUE [--raw]        write VALUE (+ "\n" unless --raw) to ROOT/PATH
 *                                          through the fake kernel (fake-kernel.h): what
 *                                          another tool writing sysfs directly would get;
 *                                          the kernel's errno is printed and exits 1
 *   rm                                     rm -rf ROOT
 *
 * Every command but scan refuses a ROOT that resolves to "/".
 * Options may follow the arguments; "--" ends them (set-attr P --raw -- -1).
 * Exit status 0 on success, 1 on error (message on stderr).
 */

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fake-kernel.h"
#include "fake-sysfs.h"
#include "libsiov.h"

static int parse_uint(const char *s, uint32_t *ret) {
        if (siov_parse_u32(s, ret) < 0) {
                fprintf(stderr, "not a number: '%s'\n", s);
                return -EINVAL;
        }
        return 0;
}

#define NEED_ARGS(n)                                                            \
        do {                                                                    \
                if (argc - optind != (n)) {                                     \
                        fprintf(stderr, "%s: expected %d arguments\n", cmd, (n)); \
                        return -EINVAL;                                         \
                }                                                               \
        } while (0)

static double now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1000.0 + (double) ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

static size_t count_strv(char * const *l) {
        size_t n = 0;

        while (l && l[n])
                n++;
        return n;
}

static void dump_model(const struct siov_model *m) {
        for (size_t i = 0; i < siov_model_get_n_parents(m); i++) {
                struct siov_parent *p = siov_model_get_parent(m, i);
                struct siov_pool pool;

                printf("parent %s kinds=%s%s driver=%s subsystem=%s syspath=%s broken=%s\n",
                       siov_parent_get_name(p),
                       siov_parent_get_kinds(p) & SIOV_KIND_MDEV ? "mdev," : "",
                       siov_parent_get_kinds(p) & SIOV_KIND_SRIOV ? "sriov," : "",
                       siov_parent_get_driver(p), siov_parent_get_subsystem(p),
                       siov_parent_get_syspath(p), siov_parent_get_broken(p) ?: "-");
                if (siov_parent_get_pool(p, &pool))
                        printf("  pool total=%u free=%u mdev_dwq=%u mdev_swq=%u host_netdev=%u host_wq=%u swq_slots=%u\n",
                               pool.total, pool.free, pool.mdev_dwq, pool.mdev_swq,
                               pool.host_netdev, pool.host_wq, pool.swq_slots);
                printf("  host");
                for (int u = 0; u < _SIOV_HOST_USAGE_MAX; u++)
                        printf(" %s=%u", siov_host_usage_to_string(u), siov_parent_get_host_usage(p, u));
                printf("\n  netdevs");
                for (char * const *n = siov_parent_get_netdevs(p); *n; n++)
                        printf(" %s", *n);
                printf("\n");
                for (size_t j = 0; j < siov_parent_get_n_types(p); j++) {
                        struct siov_type *t = siov_parent_get_type(p, j);
                        printf("  type %s available=%u api=%s name=%s devices=%zu broken=%s\n",
                               siov_type_get_id(t), siov_type_get_available(t),
                               siov_type_get_device_api(t), siov_type_get_name(t),
                               count_strv(siov_type_get_devices(t)),
                               siov_type_get_broken(t) ?: "-");
                }
                if (siov_parent_get_kinds(p) & SIOV_KIND_SRIOV)
                        printf("  sriov total=%u num=%u\n", siov_parent_get_total_vfs(p), siov_parent_get_num_vfs(p));
                for (size_t j = 0; j < siov_parent_get_n_vfs(p); j++) {
                        struct siov_vf *vf = siov_parent_get_vf(p, j);
                        printf("  vf %u %s driver=%s usage=%s uuid=%s\n",
                               siov_vf_get_index(vf), siov_vf_get_address(vf), siov_vf_get_driver(vf),
                               siov_vf_usage_to_string(siov_vf_get_usage(vf)), siov_vf_get_uuid(vf));
                }
        }
        for (size_t i = 0; i < siov_model_get_n_mdevs(m); i++) {
                struct siov_mdev *d = siov_model_get_mdev(m, i);
                printf("mdev %s parent=%s type=%s driver=%s\n", siov_mdev_get_uuid(d),
                       siov_mdev_get_parent(d), siov_mdev_get_type(d), siov_mdev_get_driver(d));
        }
}

static int do_scan(const char *root, unsigned repeat, bool verbose) {
        double *t;
        size_t types = 0, pfs = 0, vfs = 0, parents = 0, mdevs = 0, heap = 0;

        if (repeat == 0)
                repeat = 1;
        t = calloc(repeat, sizeof(double));
        if (!t)
                return -ENOMEM;
        for (unsigned k = 0; k < repeat; k++) {
                struct siov_ctx *ctx = NULL;
                struct siov_model *m = NULL;
                double start = now_ms();
                size_t heap_before = mallinfo2().uordblks;
                int r;

                r = siov_ctx_new(&ctx, root);
                if (r < 0) {
                        fprintf(stderr, "siov_ctx_new(%s): %s\n", root, strerror(-r));
                        free(t);
                        return r;
                }
                r = siov_scan(ctx, &m);
                if (r < 0) {
                        fprintf(stderr, "siov_scan: %s\n", strerror(-r));
                        siov_ctx_unref(ctx);
                        free(t);
                        return r;
                }
                if (k == repeat - 1) {
                        /* heap held by the model (plus the context) */
                        heap = mallinfo2().uordblks - heap_before;
                        parents = siov_model_get_n_parents(m);
                        mdevs = siov_model_get_n_mdevs(m);
                        for (size_t i = 0; i < parents; i++) {
                                struct siov_parent *p = siov_model_get_parent(m, i);
                                types += siov_parent_get_n_types(p);
                                vfs += siov_parent_get_n_vfs(p);
                                if (siov_parent_get_kinds(p) & SIOV_KIND_SRIOV)
                                        pfs++;
                        }
                        if (verbose)
                                dump_model(m);
                }
                siov_model_unref(m);
                siov_ctx_unref(ctx);
                t[k] = now_ms() - start;
        }
        qsort(t, repeat, sizeof(double), cmp_double);
        printf("parents=%zu types=%zu mdevs=%zu pfs=%zu vfs=%zu ms_min=%.1f ms_median=%.1f heap_kib=%zu\n",
               parents, types, mdevs, pfs, vfs, t[0], t[repeat / 2], heap / 1024);
        free(t);
        return 0;
}

/* One write through the fake kernel; a file it does not know is written
 * plainly, as a shell redirection would. */
static int kernel_write(const char *root, const char *path, const char *value, bool raw) {
        char *real_root = NULL, *abs = NULL, *real = NULL, *data = NULL;
        size_t rl;
        int r;

        real_root = realpath(root, NULL);
        if (!real_root)
                return -errno;
        if (asprintf(&abs, "%s/%s", real_root, path) < 0) {
                r = -ENOMEM;
                goto finish;
        }
        real = realpath(abs, NULL);
        if (!real) {
                r = -errno;
                fprintf(stderr, "%s: %s\n", abs, strerror(errno));
                goto finish;
        }
        rl = strlen(real_root);
        if (strncmp(real, real_root, rl) != 0 || real[rl] != '/') {
                fprintf(stderr, "%s resolves to %s, outside %s\n", path, real, real_root);
                r = -EXDEV;
                goto finish;
        }
        if (asprintf(&data, raw ? "%s" : "%s\n", value) < 0) {
                r = -ENOMEM;
                goto finish;
        }
        r = fake_kernel_write(real_root, real, data, strlen(data));
        if (r == 0) {
                FILE *fp = fopen(real, "we");

                if (!fp)
                        r = -errno;
                else {
                        bool ok = fputs(data, fp) >= 0;

                        if (fclose(fp) != 0)
                                ok = false;
                        r = ok ? 0 : -EIO;
                }
        } else if (r < 0)
                fprintf(stderr, "write error: %s (%s)\n", strerror(-r), fake_kernel_errno_name(-r));
        else
                r = 0;
finish:
        free(real_root);
        free(abs);
        free(real);
        free(data);
        return r;
}

static int run(struct fake_sysfs *f, const char *root, const char *cmd, int argc, char **argv) {
        enum {
                ARG_PCI = 0x100, ARG_CLASS, ARG_DRIVER, ARG_AVAILABLE, ARG_DEVICE_API, ARG_NO_DEVICE_API,
                ARG_NAME, ARG_DESCRIPTION, ARG_CONSUME, ARG_RAW, ARG_TOTAL_VFS, ARG_NETDEV,
                ARG_TOTAL, ARG_FREE, ARG_MDEV_DWQ, ARG_MDEV_SWQ, ARG_HOST_NETDEV, ARG_HOST_WQ,
                ARG_SWQ_SLOTS, ARG_PARENTS, ARG_MDEVS, ARG_PFS, ARG_VFS, ARG_REPEAT, ARG_VERBOSE,
        };
        static const struct option options[] = {
                { "pci",               no_argument,       NULL, ARG_PCI },
                { "class",             required_argument, NULL, ARG_CLASS },
                { "driver",            required_argument, NULL, ARG_DRIVER },
                { "available",         required_argument, NULL, ARG_AVAILABLE },
                { "device-api",        required_argument, NULL, ARG_DEVICE_API },
                { "no-device-api",     no_argument,       NULL, ARG_NO_DEVICE_API },
                { "name",              required_argument, NULL, ARG_NAME },
                { "description",       required_argument, NULL, ARG_DESCRIPTION },
                { "consume",           no_argument,       NULL, ARG_CONSUME },
                { "release",           no_argument,       NULL, ARG_CONSUME },
                { "raw",               no_argument,       NULL, ARG_RAW },
                { "total-vfs",         required_argument, NULL, ARG_TOTAL_VFS },
                { "netdev",            required_argument, NULL, ARG_NETDEV },
                { "total",             required_argument, NULL, ARG_TOTAL },
                { "free",              required_argument, NULL, ARG_FREE },
                { "mdev-dwq",          required_argument, NULL, ARG_MDEV_DWQ },
                { "mdev-swq",          required_argument, NULL, ARG_MDEV_SWQ },
                { "host-netdev",       required_argument, NULL, ARG_HOST_NETDEV },
                { "host-wq",           required_argument, NULL, ARG_HOST_WQ },
                { "swq-slots",         required_argument, NULL, ARG_SWQ_SLOTS },
                { "parents",           required_argument, NULL, ARG_PARENTS },
                { "mdevs-per-parent",  required_argument, NULL, ARG_MDEVS },
                { "pfs",               required_argument, NULL, ARG_PFS },
                { "vfs",               required_argument, NULL, ARG_VFS },
                { "repeat",            required_argument, NULL, ARG_REPEAT },
                { "verbose",           no_argument,       NULL, ARG_VERBOSE },
                {}
        };
        const char *class = NULL, *driver = NULL, *device_api = "vfio-pci", *name = NULL,
                *description = NULL, *netdev = NULL;
        uint32_t available = 1, total_vfs = 0, parents = 100, mdevs = 100, pfs = 10, vfs = 64, repeat = 1;
        struct fake_pool pool = { .total = 8, .free = 8, .swq_slots = 8 };
        bool raw = false, verbose = false;
        unsigned flags = 0;
        int c, r = 0;

        optind = 1;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                switch (c) {
                case ARG_PCI:
                        class = NULL;
                        break;
                case ARG_CLASS:
                        class = optarg;
                        break;
                case ARG_DRIVER:
                        driver = optarg;
                        break;
                case ARG_AVAILABLE:
                        r = parse_uint(optarg, &available);
                        break;
                case ARG_DEVICE_API:
                        device_api = optarg;
                        break;
                case ARG_NO_DEVICE_API:
                        device_api = NULL;
                        break;
                case ARG_NAME:
                        name = optarg;
                        break;
                case ARG_DESCRIPTION:
                        description = optarg;
                        break;
                case ARG_CONSUME:
                        flags |= FAKE_MDEV_CONSUME;
                        break;
                case ARG_RAW:
                        raw = true;
                        break;
                case ARG_TOTAL_VFS:
                        r = parse_uint(optarg, &total_vfs);
                        break;
                case ARG_NETDEV:
                        netdev = optarg;
                        break;
                case ARG_TOTAL:
                        r = parse_uint(optarg, &pool.total);
                        break;
                case ARG_FREE:
                        r = parse_uint(optarg, &pool.free);
                        break;
                case ARG_MDEV_DWQ:
                        r = parse_uint(optarg, &pool.mdev_dwq);
                        break;
                case ARG_MDEV_SWQ:
                        r = parse_uint(optarg, &pool.mdev_swq);
                        break;
                case ARG_HOST_NETDEV:
                        r = parse_uint(optarg, &pool.host_netdev);
                        break;
                case ARG_HOST_WQ:
                        r = parse_uint(optarg, &pool.host_wq);
                        break;
                case ARG_SWQ_SLOTS:
                        r = parse_uint(optarg, &pool.swq_slots);
                        break;
                case ARG_PARENTS:
                        r = parse_uint(optarg, &parents);
                        break;
                case ARG_MDEVS:
                        r = parse_uint(optarg, &mdevs);
                        break;
                case ARG_PFS:
                        r = parse_uint(optarg, &pfs);
                        break;
                case ARG_VFS:
                        r = parse_uint(optarg, &vfs);
                        break;
                case ARG_REPEAT:
                        r = parse_uint(optarg, &repeat);
                        break;
                case ARG_VERBOSE:
                        verbose = true;
                        break;
                default:
                        return -EINVAL;
                }
                if (r < 0)
                        return r;
        }

        if (strcmp(cmd, "init") == 0) {
                NEED_ARGS(0);
                return 0;       /* fake_sysfs_new() made the skeleton */
        } else if (strcmp(cmd, "add-mdev-parent") == 0) {
                NEED_ARGS(1);
                return fake_add_mdev_parent(f, argv[optind], class, driver);
        } else if (strcmp(cmd, "add-type") == 0) {
                NEED_ARGS(2);
                return fake_add_type(f, argv[optind], argv[optind + 1], available, device_api, name, description);
        } else if (strcmp(cmd, "add-mdev") == 0) {
                NEED_ARGS(3);
                return fake_add_mdev(f, argv[optind], argv[optind + 1], argv[optind + 2], flags);
        } else if (strcmp(cmd, "remove-mdev") == 0) {
                NEED_ARGS(1);
                return fake_remove_mdev(f, argv[optind], flags);
        } else if (strcmp(cmd, "set-attr") == 0 || strcmp(cmd, "set-type-attr") == 0) {
                bool type = strcmp(cmd, "set-type-attr") == 0;
                const char *value;
                char *v = NULL;

                NEED_ARGS(type ? 4 : 2);
                value = argv[argc - 1];
                if (!raw) {
                        if (asprintf(&v, "%s\n", value) < 0)
                                return -ENOMEM;
                        value = v;
                }
                if (type)
                        r = fake_set_type_attr(f, argv[optind], argv[optind + 1], argv[optind + 2], value);
                else
                        r = fake_set_attr(f, argv[optind], value);
                free(v);
                return r;
        } else if (strcmp(cmd, "remove") == 0) {
                NEED_ARGS(1);
                return fake_remove(f, argv[optind]);
        } else if (strcmp(cmd, "symlink") == 0) {
                NEED_ARGS(2);
                return fake_symlink(f, argv[optind], argv[optind + 1]);
        } else if (strcmp(cmd, "add-pf") == 0) {
                NEED_ARGS(1);
                return fake_add_pf(f, argv[optind], total_vfs, driver);
        } else if (strcmp(cmd, "add-vf") == 0) {
                uint32_t index;

                NEED_ARGS(3);
                r = parse_uint(argv[optind + 1], &index);
                if (r < 0)
                        return r;
                return fake_add_vf(f, argv[optind], index, argv[optind + 2], driver, netdev);
        } else if (strcmp(cmd, "set-driver") == 0) {
                if (argc - optind == 1)
                        return fake_set_driver(f, argv[optind], NULL);
                NEED_ARGS(2);
                return fake_set_driver(f, argv[optind], argv[optind + 1]);
        } else if (strcmp(cmd, "add-netdev") == 0) {
                NEED_ARGS(2);
                return fake_add_netdev(f, argv[optind], argv[optind + 1]);
        } else if (strcmp(cmd, "add-siov-parent") == 0) {
                NEED_ARGS(1);
                return fake_add_siov_parent(f, argv[optind], &pool, netdev);
        } else if (strcmp(cmd, "add-vfio-variant") == 0) {
                NEED_ARGS(1);
                return fake_add_vfio_variant(f, argv[optind]);
        } else if (strcmp(cmd, "bench") == 0) {
                double start = now_ms();

                NEED_ARGS(0);
                r = fake_bench(f, parents, mdevs, pfs, vfs);
                if (r < 0)
                        return r;
                printf("bench: parents=%u mdevs_per_parent=%u pfs=%u vfs_per_pf=%u ms=%.0f\n",
                       parents, mdevs, pfs, vfs, now_ms() - start);
                return 0;
        } else if (strcmp(cmd, "kernel-write") == 0) {
                NEED_ARGS(2);
                return kernel_write(root, argv[optind], argv[optind + 1], raw);
        } else if (strcmp(cmd, "scan") == 0) {
                NEED_ARGS(0);
                return do_scan(root, repeat, verbose);
        }
        fprintf(stderr, "unknown command '%s'\n", cmd);
        return -EINVAL;
}

int main(int argc, char **argv) {
        struct fake_sysfs *f = NULL;
        const char *root, *cmd;
        int r;

        if (argc < 3) {
                fprintf(stderr, "usage: %s ROOT COMMAND [ARGS] (see the comment at the top of fake-sysfs-tool.c)\n",
                        argv[0]);
                return 1;
        }
        root = argv[1];
        cmd = argv[2];

        /* scan only reads, and may look at the real root */
        if (strcmp(cmd, "scan") == 0) {
                r = run(NULL, root, cmd, argc - 2, argv + 2);
                return r < 0;
        }

        /* Everything else writes: never into the host's own root. */
        {
                char *real = realpath(root, NULL);
                bool is_root = real && strcmp(real, "/") == 0;

                free(real);
                if (is_root) {
                        fprintf(stderr, "refusing to build a fake tree in /\n");
                        return 1;
                }
        }

        if (strcmp(cmd, "rm") == 0) {
                r = fake_rm_rf(root);
                if (r < 0)
                        fprintf(stderr, "rm %s: %s\n", root, strerror(-r));
                return r < 0;
        }

        r = fake_sysfs_new(&f, root);
        if (r < 0) {
                fprintf(stderr, "%s: %s\n", root, strerror(-r));
                return 1;
        }
        /* getopt sees "COMMAND ARGS..." */
        r = run(f, root, cmd, argc - 2, argv + 2);
        fake_sysfs_free(f);
        if (r < 0) {
                fprintf(stderr, "%s %s: %s\n", root, cmd, strerror(-r));
                return 1;
        }
        return 0;
}
