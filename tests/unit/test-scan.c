/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libsiov's model read from fake sysfs trees laid out like the kernel's. */

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake-sysfs.h"
#include "libsiov.h"

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

struct fixture {
        struct fake_sysfs *f;
        struct siov_ctx *ctx;
        struct siov_model *m;
        char *outside;          /* a folder next to the root, for escape tests */
};

static int setup(void **state) {
        struct fixture *x = calloc(1, sizeof(*x));
        char out[] = "/tmp/test-scan-outside.XXXXXX";

        assert_non_null(x);
        assert_int_equal(fake_sysfs_new(&x->f, NULL), 0);
        assert_non_null(mkdtemp(out));
        x->outside = realpath(out, NULL);
        assert_non_null(x->outside);
        *state = x;
        return 0;
}

static int teardown(void **state) {
        struct fixture *x = *state;

        siov_model_unref(x->m);
        siov_ctx_unref(x->ctx);
        fake_sysfs_free(x->f);
        fake_rm_rf(x->outside);
        free(x->outside);
        free(x);
        return 0;
}

/* A fresh context (so modules.alias is re-read) and a full scan. */
static struct siov_model *scan(struct fixture *x) {
        x->m = siov_model_unref(x->m);
        x->ctx = siov_ctx_unref(x->ctx);
        assert_int_equal(siov_ctx_new(&x->ctx, fake_sysfs_root(x->f)), 0);
        assert_int_equal(siov_scan(x->ctx, &x->m), 0);
        assert_non_null(x->m);
        return x->m;
}

static size_t strv_len(char * const *l) {
        size_t n = 0;

        while (l && l[n])
                n++;
        return n;
}

static bool exists(struct fixture *x, const char *rel) {
        char p[4096];
        struct stat st;

        snprintf(p, sizeof(p), "%s/%s", fake_sysfs_root(x->f), rel);
        return lstat(p, &st) >= 0;
}

#define GVT_DESCRIPTION "low_gm_size: 128MB\nhigh_gm_size: 512MB\nfence: 4\nresolution: 1920x1200\nweight: 4"

/* Intel GVT-g: a PCI parent whose types have no "name" and a description
 * over several lines; one type with nothing left. No mdev exists, and the
 * mdev bus folder is absent. */
static void test_gvtg_parent(void **state) {
        struct fixture *x = *state;
        struct siov_parent *p;
        struct siov_type *t;
        struct siov_pool pool;

        assert_int_equal(fake_add_mdev_parent(x->f, "0000:00:02.0", NULL, "i915"), 0);
        assert_int_equal(fake_add_type(x->f, "0000:00:02.0", "i915-GVTg_V5_4", 2, "vfio-pci", NULL, GVT_DESCRIPTION), 0);
        assert_int_equal(fake_add_type(x->f, "0000:00:02.0", "i915-GVTg_V5_8", 0, "vfio-pci", NULL,
                                       "low_gm_size: 64MB"), 0);
        assert_false(exists(x, "sys/bus/mdev"));

        scan(x);
        assert_int_equal(siov_model_get_n_parents(x->m), 1);
        assert_int_equal(siov_model_get_n_mdevs(x->m), 0);

        p = siov_model_get_parent(x->m, 0);
        assert_ptr_equal(siov_model_find_parent(x->m, "0000:00:02.0"), p);
        assert_null(siov_model_find_parent(x->m, "0000:00:02.1"));
        assert_string_equal(siov_parent_get_name(p), "0000:00:02.0");
        assert_int_equal(siov_parent_get_kinds(p), SIOV_KIND_MDEV);
        assert_string_equal(siov_parent_get_driver(p), "i915");
        assert_string_equal(siov_parent_get_subsystem(p), "pci");
        assert_string_equal(siov_parent_get_syspath(p), "/sys/devices/pci0000:00/0000:00:02.0");
        assert_string_equal(siov_parent_get_devpath(p), "/devices/pci0000:00/0000:00:02.0");
        assert_null(siov_parent_get_broken(p));
        assert_false(siov_parent_get_pool(p, &pool));
        for (int u = 0; u < _SIOV_HOST_USAGE_MAX; u++)
                assert_int_equal(siov_parent_get_host_usage(p, u), 0);
        assert_int_equal(strv_len(siov_parent_get_netdevs(p)), 0);
        assert_int_equal(siov_parent_get_n_vfs(p), 0);

        assert_int_equal(siov_parent_get_n_types(p), 2);
        t = siov_parent_get_type(p, 0);
        assert_string_equal(siov_type_get_id(t), "i915-GVTg_V5_4");
        assert_string_equal(siov_type_get_name(t), "");          /* absent */
        assert_string_equal(siov_type_get_description(t), GVT_DESCRIPTION);
        assert_string_equal(siov_type_get_device_api(t), "vfio-pci");
        assert_int_equal(siov_type_get_available(t), 2);
        assert_null(siov_type_get_broken(t));
        assert_int_equal(strv_len(siov_type_get_devices(t)), 0);

        t = siov_parent_get_type(p, 1);
        assert_string_equal(siov_type_get_id(t), "i915-GVTg_V5_8");
        assert_int_equal(siov_type_get_available(t), 0);
        assert_null(siov_type_get_broken(t));                    /* 0 is not broken */
        assert_ptr_equal(siov_parent_find_type(p, "i915-GVTg_V5_8"), t);
        assert_null(siov_parent_find_type(p, "i915-GVTg_V5_2"));
}

static void test_empty_root(void **state) {
        struct fixture *x = *state;

        scan(x);
        assert_int_equal(siov_model_get_n_parents(x->m), 0);
        assert_int_equal(siov_model_get_n_mdevs(x->m), 0);
        assert_null(siov_model_get_parent(x->m, 0));
        assert_null(siov_model_get_mdev(x->m, 0));
}

/* /sys/bus/mdev/devices absent while parents and types exist */
static void test_missing_mdev_devices(void **state) {
        struct fixture *x = *state;

        assert_int_equal(fake_add_mdev_parent(x->f, "siov0", "idxd", NULL), 0);
        assert_int_equal(fake_add_type(x->f, "siov0", "idxd-1dwq", 3, "vfio-pci", "1dwq", NULL), 0);
        assert_int_equal(fake_add_mdev(x->f, "siov0", "idxd-1dwq", "11111111-2222-4333-8444-555555555555", 0), 0);
        assert_int_equal(fake_remove(x->f, "sys/bus/mdev"), 0);
        assert_false(exists(x, "sys/bus/mdev/devices"));

        scan(x);
        assert_int_equal(siov_model_get_n_parents(x->m), 1);
        assert_int_equal(siov_model_get_n_mdevs(x->m), 0);
        assert_int_equal(siov_type_get_available(siov_parent_get_type(siov_model_get_parent(x->m, 0), 0)), 3);
}

/* A PF with VFs in every state. */
static void add_sriov_pf(struct fixture *x) {
        assert_int_equal(fake_add_pf(x->f, "0000:3b:00.0", 8, "ice"), 0);
        assert_int_equal(fake_add_netdev(x->f, "0000:3b:00.0", "enp59s0f0"), 0);
        assert_int_equal(fake_add_vf(x->f, "0000:3b:00.0", 0, "0000:3b:01.0", NULL, NULL), 0);
        assert_int_equal(fake_add_vf(x->f, "0000:3b:00.0", 1, "0000:3b:01.1", "vfio-pci", NULL), 0);
        assert_int_equal(fake_add_vf(x->f, "0000:3b:00.0", 2, "0000:3b:01.2", "hisi-acc-vfio-pci", NULL), 0);
        assert_int_equal(fake_add_vf(x->f, "0000:3b:00.0", 3, "0000:3b:01.3", "iavf", "enp59s0f0v3"), 0);
        /* index 10 sorts after 3 (numeric, not by name) */
        assert_int_equal(fake_add_vf(x->f, "0000:3b:00.0", 10, "0000:3b:02.2", "vfio_pci", NULL), 0);
}

static void test_sriov_vf_states(void **state) {
        struct fixture *x = *state;
        static const struct {
                uint32_t index;
                const char *address, *driver;
                enum siov_vf_usage usage;
        } expect[] = {
                { 0,  "0000:3b:01.0", "",                  SIOV_VF_UNBOUND },
                { 1,  "0000:3b:01.1", "vfio-pci",          SIOV_VF_VFIO },
                { 2,  "0000:3b:01.2", "hisi-acc-vfio-pci", SIOV_VF_VFIO },   /* variant, '-' vs '_' */
                { 3,  "0000:3b:01.3", "iavf",              SIOV_VF_HOST },
                { 10, "0000:3b:02.2", "vfio_pci",          SIOV_VF_VFIO },
        };
        struct siov_parent *p;
        char * const *n;

        add_sriov_pf(x);
        /* module names use '_', the driver link '-' */
        assert_int_equal(fake_add_vfio_variant(x->f, "hisi_acc_vfio_pci"), 0);
        assert_int_equal(fake_add_vfio_variant(x->f, "mlx5_vfio_pci"), 0);

        scan(x);
        /* VFs are PCI devices but not PFs: one parent */
        assert_int_equal(siov_model_get_n_parents(x->m), 1);
        p = siov_model_get_parent(x->m, 0);
        assert_string_equal(siov_parent_get_name(p), "0000:3b:00.0");
        assert_int_equal(siov_parent_get_kinds(p), SIOV_KIND_SRIOV);
        assert_string_equal(siov_parent_get_driver(p), "ice");
        assert_string_equal(siov_parent_get_subsystem(p), "pci");
        assert_null(siov_parent_get_broken(p));
        assert_int_equal(siov_parent_get_total_vfs(p), 8);
        assert_int_equal(siov_parent_get_num_vfs(p), 5);
        assert_int_equal(siov_parent_get_n_types(p), 0);

        assert_int_equal(siov_parent_get_n_vfs(p), ELEMENTSOF(expect));
        for (size_t i = 0; i < ELEMENTSOF(expect); i++) {
                struct siov_vf *vf = siov_parent_get_vf(p, i);

                assert_int_equal(siov_vf_get_index(vf), expect[i].index);
                assert_string_equal(siov_vf_get_address(vf), expect[i].address);
                assert_string_equal(siov_vf_get_driver(vf), expect[i].driver);
                assert_int_equal(siov_vf_get_usage(vf), expect[i].usage);
                assert_true(siov_uuid_is_valid(siov_vf_get_uuid(vf)));
        }
        assert_null(siov_parent_get_vf(p, ELEMENTSOF(expect)));
        n = siov_vf_get_netdevs(siov_parent_get_vf(p, 3));
        assert_int_equal(strv_len(n), 1);
        assert_string_equal(n[0], "enp59s0f0v3");
        assert_int_equal(strv_len(siov_vf_get_netdevs(siov_parent_get_vf(p, 0))), 0);

        /* the PF's own netdev is listed, but only VF netdevs count as host usage */
        n = siov_parent_get_netdevs(p);
        assert_int_equal(strv_len(n), 2);
        assert_string_equal(n[0], "enp59s0f0");
        assert_string_equal(n[1], "enp59s0f0v3");
        assert_int_equal(siov_parent_get_host_usage(p, SIOV_HOST_NETDEV), 1);
        assert_int_equal(siov_parent_get_host_usage(p, SIOV_HOST_VF_HOST), 1);
        assert_int_equal(siov_parent_get_host_usage(p, SIOV_HOST_WQ_KERNEL), 0);
        assert_int_equal(siov_parent_get_host_usage(p, SIOV_HOST_WQ_USER), 0);

        assert_true(siov_ctx_is_vfio_driver(x->ctx, "vfio-pci"));
        assert_true(siov_ctx_is_vfio_driver(x->ctx, "vfio_pci"));
        assert_true(siov_ctx_is_vfio_driver(x->ctx, "hisi_acc_vfio_pci"));
        assert_true(siov_ctx_is_vfio_driver(x->ctx, "mlx5-vfio-pci"));
        assert_false(siov_ctx_is_vfio_driver(x->ctx, "iavf"));
        assert_false(siov_ctx_is_vfio_driver(x->ctx, ""));
        assert_false(siov_ctx_is_vfio_driver(x->ctx, NULL));

        assert_string_equal(siov_vf_usage_to_string(SIOV_VF_UNBOUND), "unbound");
        assert_string_equal(siov_vf_usage_to_string(SIOV_VF_VFIO), "vfio");
        assert_string_equal(siov_vf_usage_to_string(SIOV_VF_HOST), "host");
        assert_string_equal(siov_host_usage_to_string(SIOV_HOST_NETDEV), "netdev");
        assert_string_equal(siov_host_usage_to_string(SIOV_HOST_WQ_KERNEL), "wq-kernel");
        assert_string_equal(siov_host_usage_to_string(SIOV_HOST_WQ_USER), "wq-user");
        assert_string_equal(siov_host_usage_to_string(SIOV_HOST_VF_HOST), "vf-host");
        assert_null(siov_host_usage_to_string(_SIOV_HOST_USAGE_MAX));
}

/* Without modules.alias the variant driver is a host driver; reloading
 * the list picks the alias up. */
static void test_vfio_variants_reload(void **state) {
        struct fixture *x = *state;
        struct siov_parent *p;

        add_sriov_pf(x);
        scan(x);
        p = siov_model_get_parent(x->m, 0);
        assert_int_equal(siov_vf_get_usage(siov_parent_get_vf(p, 2)), SIOV_VF_HOST);
        assert_int_equal(siov_parent_get_host_usage(p, SIOV_HOST_VF_HOST), 2);
        assert_false(siov_ctx_is_vfio_driver(x->ctx, "hisi-acc-vfio-pci"));

        assert_int_equal(fake_add_vfio_variant(x->f, "hisi_acc_vfio_pci"), 0);
        assert_int_equal(siov_ctx_load_vfio_variants(x->ctx), 0);
        assert_true(siov_ctx_is_vfio_driver(x->ctx, "hisi-acc-vfio-pci"));
        x->m = siov_model_unref(x->m);
        assert_int_equal(siov_scan(x->ctx, &x->m), 0);
        p = siov_model_get_parent(x->m, 0);
        assert_int_equal(siov_vf_get_usage(siov_parent_get_vf(p, 2)), SIOV_VF_VFIO);
        assert_int_equal(siov_parent_get_host_usage(p, SIOV_HOST_VF_HOST), 1);
}

/* Malformed attributes break one type, never the others or other parents. */
static void test_malformed_attributes(void **state) {
        struct fixture *x = *state;
        struct siov_parent *p, *q, *pf;
        struct siov_type *t;

        assert_int_equal(fake_add_mdev_parent(x->f, "0000:00:02.0", NULL, "i915"), 0);
        assert_int_equal(fake_add_type(x->f, "0000:00:02.0", "a-good", 4, "vfio-pci", "Good", NULL), 0);
        assert_int_equal(fake_add_type(x->f, "0000:00:02.0", "b-bad-available", 4, "vfio-pci", NULL, NULL), 0);
        assert_int_equal(fake_set_type_attr(x->f, "0000:00:02.0", "b-bad-available", "available_instances", "abc\n"), 0);
        assert_int_equal(fake_add_type(x->f, "0000:00:02.0", "c-no-api", 4, NULL, NULL, NULL), 0);
        assert_int_equal(fake_add_type(x->f, "0000:00:02.0", "d-empty-api", 4, "", NULL, NULL), 0);
        assert_int_equal(fake_add_type(x->f, "0000:00:02.0", "e-overflow", 4, "vfio-pci", NULL, NULL), 0);
        assert_int_equal(fake_set_type_attr(x->f, "0000:00:02.0", "e-overflow", "available_instances", "4294967296\n"), 0);
        assert_int_equal(fake_add_type(x->f, "0000:00:02.0", "f-both", 4, NULL, NULL, NULL), 0);
        assert_int_equal(fake_set_type_attr(x->f, "0000:00:02.0", "f-both", "available_instances", "-1\n"), 0);
        assert_int_equal(fake_add_type(x->f, "0000:00:02.0", "g-no-available", 4, "vfio-pci", NULL, NULL), 0);
        assert_int_equal(fake_remove(x->f, "sys/devices/pci0000:00/0000:00:02.0/mdev_supported_types/g-no-available/available_instances"), 0);
        /* a stray file among the types is not a type */
        assert_int_equal(fake_set_attr(x->f, "sys/devices/pci0000:00/0000:00:02.0/mdev_supported_types/stray", "x\n"), 0);
        /* a value with control characters is quoted escaped */
        assert_int_equal(fake_add_type(x->f, "0000:00:02.0", "h-escape", 4, "vfio-pci", NULL, NULL), 0);
        assert_int_equal(fake_set_type_attr(x->f, "0000:00:02.0", "h-escape", "available_instances", "1\x1b[2J\n"), 0);

        assert_int_equal(fake_add_mdev_parent(x->f, "siov1", "idxd", NULL), 0);
        assert_int_equal(fake_add_type(x->f, "siov1", "idxd-1dwq", 5, "vfio-pci", "1dwq", NULL), 0);

        /* unreadable SR-IOV attribute: the PF stays, marked broken */
        add_sriov_pf(x);
        assert_int_equal(fake_set_attr(x->f, "sys/bus/pci/devices/0000:3b:00.0/sriov_numvfs", "garbage\n"), 0);

        scan(x);
        assert_int_equal(siov_model_get_n_parents(x->m), 3);

        p = siov_model_find_parent(x->m, "0000:00:02.0");
        assert_non_null(p);
        assert_null(siov_parent_get_broken(p));
        assert_int_equal(siov_parent_get_n_types(p), 8);

        t = siov_parent_find_type(p, "a-good");
        assert_null(siov_type_get_broken(t));
        assert_int_equal(siov_type_get_available(t), 4);
        assert_string_equal(siov_type_get_name(t), "Good");

        t = siov_parent_find_type(p, "b-bad-available");
        assert_string_equal(siov_type_get_broken(t), "available_instances: not a number: 'abc'");
        assert_int_equal(siov_type_get_available(t), 0);
        assert_string_equal(siov_type_get_device_api(t), "");

        t = siov_parent_find_type(p, "c-no-api");
        assert_string_equal(siov_type_get_broken(t), "device_api: missing");
        assert_int_equal(siov_type_get_available(t), 0);

        t = siov_parent_find_type(p, "d-empty-api");
        assert_string_equal(siov_type_get_broken(t), "device_api: empty");
        assert_int_equal(siov_type_get_available(t), 0);

        t = siov_parent_find_type(p, "e-overflow");
        assert_string_equal(siov_type_get_broken(t), "available_instances: out of range: '4294967296'");
        assert_int_equal(siov_type_get_available(t), 0);

        t = siov_parent_find_type(p, "f-both");
        assert_string_equal(siov_type_get_broken(t), "available_instances: not a number: '-1'; device_api: missing");

        t = siov_parent_find_type(p, "g-no-available");
        assert_string_equal(siov_type_get_broken(t), "available_instances: missing");

        t = siov_parent_find_type(p, "h-escape");
        assert_string_equal(siov_type_get_broken(t), "available_instances: not a number: '1\\x1b[2J'");
        assert_null(siov_parent_find_type(p, "stray"));

        q = siov_model_find_parent(x->m, "siov1");
        assert_non_null(q);
        assert_null(siov_parent_get_broken(q));
        assert_int_equal(siov_type_get_available(siov_parent_find_type(q, "idxd-1dwq")), 5);

        pf = siov_model_find_parent(x->m, "0000:3b:00.0");
        assert_non_null(pf);
        assert_string_equal(siov_parent_get_broken(pf), "sriov_numvfs: not a number: 'garbage'");
        assert_int_equal(siov_parent_get_num_vfs(pf), 0);
        assert_int_equal(siov_parent_get_total_vfs(pf), 8);
        assert_int_equal(siov_parent_get_n_vfs(pf), 5);          /* the links are still read */
}

/* A PF that is also an mdev parent is one parent with both kinds. */
static void test_both_kinds(void **state) {
        struct fixture *x = *state;
        struct siov_parent *p;

        assert_int_equal(fake_add_pf(x->f, "0000:6a:00.0", 4, "nvidia"), 0);
        assert_int_equal(fake_add_vf(x->f, "0000:6a:00.0", 0, "0000:6a:00.4", NULL, NULL), 0);
        assert_int_equal(fake_add_vf(x->f, "0000:6a:00.0", 1, "0000:6a:00.5", "vfio-pci", NULL), 0);
        assert_int_equal(fake_add_mdev_parent(x->f, "0000:6a:00.0", NULL, NULL), 0);
        assert_int_equal(fake_add_type(x->f, "0000:6a:00.0", "nvidia-35", 3, "vfio-pci", "GRID M60-0B",
                                       "num_heads=2, frl_config=45"), 0);

        scan(x);
        assert_int_equal(siov_model_get_n_parents(x->m), 1);
        p = siov_model_get_parent(x->m, 0);
        assert_string_equal(siov_parent_get_name(p), "0000:6a:00.0");
        assert_int_equal(siov_parent_get_kinds(p), SIOV_KIND_MDEV | SIOV_KIND_SRIOV);
        assert_string_equal(siov_parent_get_driver(p), "nvidia");
        assert_int_equal(siov_parent_get_n_types(p), 1);
        assert_string_equal(siov_type_get_name(siov_parent_get_type(p, 0)), "GRID M60-0B");
        assert_int_equal(siov_parent_get_total_vfs(p), 4);
        assert_int_equal(siov_parent_get_num_vfs(p), 2);
        assert_int_equal(siov_parent_get_n_vfs(p), 2);
        assert_int_equal(siov_parent_get_host_usage(p, SIOV_HOST_VF_HOST), 0);
}

/* The bundled driver's parent reports its pool. */
static void test_siov_pool(void **state) {
        struct fixture *x = *state;
        const struct fake_pool fp = {
                .total = 16, .free = 6, .mdev_dwq = 4, .mdev_swq = 2,
                .host_netdev = 3, .host_wq = 1, .swq_slots = 8,
        };
        struct siov_parent *p;
        struct siov_pool pool;
        char * const *n;

        assert_int_equal(fake_add_siov_parent(x->f, "siov0", &fp, "siovnet0"), 0);
        /* a second one with a broken counter */
        assert_int_equal(fake_add_siov_parent(x->f, "siov1", &fp, NULL), 0);
        assert_int_equal(fake_set_attr(x->f, "sys/class/idxd/siov1/pool/free", "x\n"), 0);

        scan(x);
        assert_int_equal(siov_model_get_n_parents(x->m), 2);
        p = siov_model_find_parent(x->m, "siov0");
        assert_non_null(p);
        assert_int_equal(siov_parent_get_kinds(p), SIOV_KIND_MDEV);
        assert_string_equal(siov_parent_get_subsystem(p), "idxd");
        assert_string_equal(siov_parent_get_driver(p), "");
        assert_string_equal(siov_parent_get_syspath(p), "/sys/devices/virtual/idxd/siov0");
        assert_string_equal(siov_parent_get_devpath(p), "/devices/virtual/idxd/siov0");
        assert_null(siov_parent_get_broken(p));

        memset(&pool, 0xff, sizeof(pool));
        assert_true(siov_parent_get_pool(p, &pool));
        assert_int_equal(pool.total, 16);
        assert_int_equal(pool.free, 6);
        assert_int_equal(pool.mdev_dwq, 4);
        assert_int_equal(pool.mdev_swq, 2);
        assert_int_equal(pool.host_netdev, 3);
        assert_int_equal(pool.host_wq, 1);
        assert_int_equal(pool.swq_slots, 8);
        assert_true(siov_parent_get_pool(p, NULL));

        assert_int_equal(siov_parent_get_host_usage(p, SIOV_HOST_NETDEV), 3);
        assert_int_equal(siov_parent_get_host_usage(p, SIOV_HOST_WQ_KERNEL), 1);
        assert_int_equal(siov_parent_get_host_usage(p, SIOV_HOST_WQ_USER), 0);
        assert_int_equal(siov_parent_get_host_usage(p, SIOV_HOST_VF_HOST), 0);
        assert_int_equal(siov_parent_get_host_usage(p, _SIOV_HOST_USAGE_MAX), 0);
        n = siov_parent_get_netdevs(p);
        assert_int_equal(strv_len(n), 1);
        assert_string_equal(n[0], "siovnet0");

        assert_int_equal(siov_parent_get_n_types(p), 2);
        assert_string_equal(siov_type_get_id(siov_parent_get_type(p, 0)), "idxd-1dwq");
        assert_int_equal(siov_type_get_available(siov_parent_get_type(p, 0)), 6);
        assert_string_equal(siov_type_get_id(siov_parent_get_type(p, 1)), "idxd-1swq");
        assert_int_equal(siov_type_get_available(siov_parent_get_type(p, 1)), 48);

        p = siov_model_find_parent(x->m, "siov1");
        assert_non_null(p);
        assert_false(siov_parent_get_pool(p, &pool));
        assert_string_equal(siov_parent_get_broken(p), "pool/free: not a number: 'x'");
        assert_int_equal(siov_parent_get_host_usage(p, SIOV_HOST_NETDEV), 0);
        assert_int_equal(siov_parent_get_n_types(p), 2);
}

#define U1 "0a1b2c3d-0000-4000-8000-000000000001"
#define U2 "5f000000-0000-4000-8000-000000000002"
#define U3 "9e000000-0000-4000-8000-000000000003"
#define U4 "ff000000-0000-4000-8000-000000000004"
#define U5 "33000000-0000-4000-8000-000000000005"

static void add_mdevs(struct fixture *x) {
        const struct fake_pool fp = { .total = 8, .free = 4, .swq_slots = 4 };

        assert_int_equal(fake_add_siov_parent(x->f, "siov0", &fp, NULL), 0);
        assert_int_equal(fake_add_mdev(x->f, "siov0", "idxd-1dwq", U4, FAKE_MDEV_CONSUME), 0);
        assert_int_equal(fake_add_mdev(x->f, "siov0", "idxd-1dwq", U1, FAKE_MDEV_CONSUME), 0);
        assert_int_equal(fake_add_mdev(x->f, "siov0", "idxd-1swq", U3, 0), 0);
        assert_int_equal(fake_add_mdev_parent(x->f, "0000:00:02.0", NULL, "i915"), 0);
        assert_int_equal(fake_add_type(x->f, "0000:00:02.0", "i915-GVTg_V5_4", 1, "vfio-pci", NULL, NULL), 0);
        assert_int_equal(fake_add_mdev(x->f, "0000:00:02.0", "i915-GVTg_V5_4", U2, 0), 0);
}

static void test_active_mdevs(void **state) {
        struct fixture *x = *state;
        static const struct {
                const char *uuid, *parent, *type, *syspath;
        } expect[] = {
                { U1, "siov0", "idxd-1dwq", "/sys/devices/virtual/idxd/siov0/" U1 },
                { U2, "0000:00:02.0", "i915-GVTg_V5_4", "/sys/devices/pci0000:00/0000:00:02.0/" U2 },
                { U3, "siov0", "idxd-1swq", "/sys/devices/virtual/idxd/siov0/" U3 },
                { U4, "siov0", "idxd-1dwq", "/sys/devices/virtual/idxd/siov0/" U4 },
        };
        struct siov_parent *p;
        char * const *devs;

        add_mdevs(x);
        /* an mdev whose mdev_type link is gone is no mdev of any type */
        assert_int_equal(fake_add_mdev(x->f, "siov0", "idxd-1swq", U5, 0), 0);
        assert_int_equal(fake_remove(x->f, "sys/devices/virtual/idxd/siov0/" U5 "/mdev_type"), 0);
        /* found through its bus link alone when the type's devices/ entry
         * is missing */
        assert_int_equal(fake_remove(x->f, "sys/devices/pci0000:00/0000:00:02.0/mdev_supported_types/i915-GVTg_V5_4/devices/" U2), 0);
        /* a bus entry that is no UUID is ignored */
        assert_int_equal(fake_symlink(x->f, "sys/bus/mdev/devices/not-a-uuid",
                                      "../../../devices/virtual/idxd/siov0/" U1), 0);

        scan(x);
        assert_int_equal(siov_model_get_n_mdevs(x->m), ELEMENTSOF(expect));
        for (size_t i = 0; i < ELEMENTSOF(expect); i++) {
                struct siov_mdev *d = siov_model_get_mdev(x->m, i);

                assert_string_equal(siov_mdev_get_uuid(d), expect[i].uuid);
                assert_string_equal(siov_mdev_get_parent(d), expect[i].parent);
                assert_string_equal(siov_mdev_get_type(d), expect[i].type);
                assert_string_equal(siov_mdev_get_syspath(d), expect[i].syspath);
                assert_string_equal(siov_mdev_get_driver(d), "vfio_mdev");
        }
        /* lookup normalizes the case */
        assert_ptr_equal(siov_model_find_mdev(x->m, "FF000000-0000-4000-8000-000000000004"),
                         siov_model_get_mdev(x->m, 3));
        assert_null(siov_model_find_mdev(x->m, U5));
        assert_null(siov_model_find_mdev(x->m, "nope"));

        p = siov_model_find_parent(x->m, "siov0");
        devs = siov_type_get_devices(siov_parent_find_type(p, "idxd-1dwq"));
        assert_int_equal(strv_len(devs), 2);
        assert_string_equal(devs[0], U1);
        assert_string_equal(devs[1], U4);
        assert_int_equal(siov_type_get_available(siov_parent_find_type(p, "idxd-1dwq")), 2);
        devs = siov_type_get_devices(siov_parent_find_type(p, "idxd-1swq"));
        assert_int_equal(strv_len(devs), 2);        /* the devices/ folder still lists U5 */
        assert_string_equal(devs[0], U5);
        assert_string_equal(devs[1], U3);
}

static void test_parent_read(void **state) {
        struct fixture *x = *state;
        struct siov_parent *p = NULL;

        add_mdevs(x);
        add_sriov_pf(x);
        assert_int_equal(siov_ctx_new(&x->ctx, fake_sysfs_root(x->f)), 0);

        assert_int_equal(siov_parent_read(x->ctx, "siov0", &p), 0);
        assert_string_equal(siov_parent_get_name(p), "siov0");
        assert_int_equal(siov_parent_get_n_types(p), 2);
        assert_true(siov_parent_get_pool(p, NULL));
        assert_ptr_equal(siov_parent_ref(p), p);
        assert_null(siov_parent_unref(p));
        assert_string_equal(siov_parent_get_name(p), "siov0");
        p = siov_parent_unref(p);

        assert_int_equal(siov_parent_read(x->ctx, "0000:3b:00.0", &p), 0);
        assert_int_equal(siov_parent_get_kinds(p), SIOV_KIND_SRIOV);
        assert_int_equal(siov_parent_get_n_vfs(p), 5);
        p = siov_parent_unref(p);

        /* hostile or unknown names */
        assert_int_equal(siov_parent_read(x->ctx, "../siov0", &p), -EINVAL);
        assert_int_equal(siov_parent_read(x->ctx, "a/b", &p), -EINVAL);
        assert_int_equal(siov_parent_read(x->ctx, "..", &p), -EINVAL);
        assert_int_equal(siov_parent_read(x->ctx, "", &p), -EINVAL);
        assert_int_equal(siov_parent_read(x->ctx, NULL, &p), -EINVAL);
        assert_int_equal(siov_parent_read(x->ctx, "siov9", &p), -ENODEV);
        /* a VF is a PCI device, but no parent */
        assert_int_equal(siov_parent_read(x->ctx, "0000:3b:01.0", &p), -ENODEV);
        assert_null(p);

        /* by DEVPATH */
        assert_int_equal(siov_parent_read_devpath(x->ctx, "/devices/virtual/idxd/siov0", &p), 0);
        assert_string_equal(siov_parent_get_name(p), "siov0");
        p = siov_parent_unref(p);
        assert_int_equal(siov_parent_read_devpath(x->ctx, "/devices/pci0000:00/0000:3b:00.0", &p), 0);
        assert_string_equal(siov_parent_get_name(p), "0000:3b:00.0");
        p = siov_parent_unref(p);
        assert_int_equal(siov_parent_read_devpath(x->ctx, "/devices/pci0000:00/0000:3b:01.0", &p), -ENODEV);
        assert_int_equal(siov_parent_read_devpath(x->ctx, "/devices/virtual/idxd/nope", &p), -ENODEV);
        assert_int_equal(siov_parent_read_devpath(x->ctx, "/devices/virtual/idxd/../idxd/siov0", &p), -EINVAL);
        assert_int_equal(siov_parent_read_devpath(x->ctx, "/devices//virtual/idxd/siov0", &p), -EINVAL);
        assert_int_equal(siov_parent_read_devpath(x->ctx, "/devices/virtual/idxd/siov0/", &p), -EINVAL);
        assert_int_equal(siov_parent_read_devpath(x->ctx, "devices/virtual/idxd/siov0", &p), -EINVAL);
        assert_int_equal(siov_parent_read_devpath(x->ctx, "/sys/devices/virtual/idxd/siov0", &p), -EINVAL);
        assert_int_equal(siov_parent_read_devpath(x->ctx, "/devices/./virtual/idxd/siov0", &p), -EINVAL);
        assert_int_equal(siov_parent_read_devpath(x->ctx, "/devices/virtual/idxd/si\nov0", &p), -EINVAL);
        assert_int_equal(siov_parent_read_devpath(x->ctx, NULL, &p), -EINVAL);
        assert_null(p);

        /* the parent unregisters: its class link goes */
        assert_int_equal(fake_remove(x->f, "sys/class/mdev_bus/siov0"), 0);
        assert_int_equal(siov_parent_read(x->ctx, "siov0", &p), -ENODEV);
        assert_int_equal(siov_parent_read_devpath(x->ctx, "/devices/virtual/idxd/siov0", &p), -ENODEV);
        /* SR-IOV capability gone */
        assert_int_equal(fake_remove(x->f, "sys/bus/pci/devices/0000:3b:00.0/sriov_totalvfs"), 0);
        assert_int_equal(siov_parent_read(x->ctx, "0000:3b:00.0", &p), -ENODEV);
        assert_null(p);
}

static void test_mdev_read(void **state) {
        struct fixture *x = *state;
        struct siov_mdev *d = NULL;

        add_mdevs(x);
        assert_int_equal(siov_ctx_new(&x->ctx, fake_sysfs_root(x->f)), 0);

        assert_int_equal(siov_mdev_read(x->ctx, "9E000000-0000-4000-8000-000000000003", &d), 0);
        assert_string_equal(siov_mdev_get_uuid(d), U3);
        assert_string_equal(siov_mdev_get_parent(d), "siov0");
        assert_string_equal(siov_mdev_get_type(d), "idxd-1swq");
        assert_string_equal(siov_mdev_get_syspath(d), "/sys/devices/virtual/idxd/siov0/" U3);
        assert_string_equal(siov_mdev_get_driver(d), "vfio_mdev");
        assert_ptr_equal(siov_mdev_ref(d), d);
        assert_null(siov_mdev_unref(d));
        d = siov_mdev_unref(d);

        assert_int_equal(siov_mdev_read(x->ctx, U2, &d), 0);
        assert_string_equal(siov_mdev_get_parent(d), "0000:00:02.0");
        d = siov_mdev_unref(d);

        assert_int_equal(siov_mdev_read(x->ctx, "not-a-uuid", &d), -EINVAL);
        assert_int_equal(siov_mdev_read(x->ctx, "../../../etc", &d), -EINVAL);
        assert_int_equal(siov_mdev_read(x->ctx, NULL, &d), -EINVAL);
        assert_int_equal(siov_mdev_read(x->ctx, U5, &d), -ENODEV);
        assert_null(d);

        assert_int_equal(fake_remove_mdev(x->f, U3, 0), 0);
        assert_false(exists(x, "sys/bus/mdev/devices/" U3));
        assert_false(exists(x, "sys/devices/virtual/idxd/siov0/" U3));
        assert_int_equal(siov_mdev_read(x->ctx, U3, &d), -ENODEV);
        assert_null(d);

        /* without the mdev bus at all */
        assert_int_equal(fake_remove(x->f, "sys/bus/mdev"), 0);
        assert_int_equal(siov_mdev_read(x->ctx, U1, &d), -ENODEV);
}

/* Links planted in the fake tree that lead out of the root are never
 * followed: the outside holds believable devices with telltale values. */
static void test_symlinks_outside_root(void **state) {
        struct fixture *x = *state;
        const char *root = fake_sysfs_root(x->f);
        struct fake_sysfs *out = NULL;
        struct siov_parent *p = NULL;
        struct siov_mdev *d = NULL;
        struct siov_type *t;
        char target[8192], path[8192];
        const char *escape;
        size_t depth = 0;

        /* Outside: mdev parents with a type offering 7, a PF, an mdev. */
        assert_int_equal(fake_sysfs_new(&out, x->outside), 0);
        for (int i = 0; i < 3; i++) {
                char name[16];

                snprintf(name, sizeof(name), "evil%d", i);
                assert_int_equal(fake_add_mdev_parent(out, name, "idxd", NULL), 0);
                assert_int_equal(fake_add_type(out, name, "idxd-1dwq", 7, "vfio-pci", "EVIL", NULL), 0);
        }
        assert_int_equal(fake_add_mdev(out, "evil0", "idxd-1dwq", U5, 0), 0);
        assert_int_equal(fake_add_pf(out, "0000:66:00.0", 7, "evil"), 0);
        assert_int_equal(fake_set_attr(out, "secret", "secret\n"), 0);
        assert_int_equal(fake_set_attr(out, "nine", "9\n"), 0);
        fake_sysfs_free(out);

        /* Inside: one honest parent of each kind. */
        assert_int_equal(fake_add_mdev_parent(x->f, "good0", "idxd", NULL), 0);
        assert_int_equal(fake_add_type(x->f, "good0", "idxd-1dwq", 2, "vfio-pci", "1dwq", NULL), 0);
        assert_int_equal(fake_add_type(x->f, "good0", "idxd-1swq", 3, "vfio-pci", "1swq", NULL), 0);
        assert_int_equal(fake_add_mdev(x->f, "good0", "idxd-1dwq", U1, 0), 0);
        assert_int_equal(fake_add_mdev(x->f, "good0", "idxd-1dwq", U2, 0), 0);
        assert_int_equal(fake_add_pf(x->f, "0000:3b:00.0", 4, NULL), 0);
        assert_int_equal(fake_add_vf(x->f, "0000:3b:00.0", 0, "0000:3b:01.0", NULL, NULL), 0);

        /* 1. absolute class link to the outside parent */
        snprintf(target, sizeof(target), "%s/sys/devices/virtual/idxd/evil0", x->outside);
        assert_int_equal(fake_symlink(x->f, "sys/class/mdev_bus/evil0", target), 0);
        /* 2. relative link climbing out of the root: as many ".." as needed */
        for (const char *c = root; *c; c++)
                depth += *c == '/';
        escape = x->outside + 1;
        path[0] = '\0';
        for (size_t i = 0; i < depth + 3 + 2; i++)   /* up from <root>/sys/class/mdev_bus, and spare */
                strcat(path, "../");
        snprintf(target, sizeof(target), "%s%s/sys/devices/virtual/idxd/evil1", path, escape);
        assert_int_equal(fake_symlink(x->f, "sys/class/mdev_bus/evil1", target), 0);
        /* 3. a PF on the PCI bus that lives outside */
        snprintf(target, sizeof(target), "%s/sys/devices/pci0000:00/0000:66:00.0", x->outside);
        assert_int_equal(fake_symlink(x->f, "sys/bus/pci/devices/0000:66:00.0", target), 0);
        /* 4. an intermediate folder planted as a link: lexically inside,
         *    really outside */
        snprintf(target, sizeof(target), "%s/sys/devices/virtual", x->outside);
        assert_int_equal(fake_symlink(x->f, "sys/devices/sneaky", target), 0);
        assert_int_equal(fake_symlink(x->f, "sys/class/mdev_bus/evil2", "../../devices/sneaky/idxd/evil2"), 0);
        /* 5. attributes of an honest type replaced by links */
        snprintf(target, sizeof(target), "%s/nine", x->outside);
        assert_int_equal(fake_remove(x->f, "sys/devices/virtual/idxd/good0/mdev_supported_types/idxd-1swq/available_instances"), 0);
        assert_int_equal(fake_symlink(x->f, "sys/devices/virtual/idxd/good0/mdev_supported_types/idxd-1swq/available_instances", target), 0);
        snprintf(target, sizeof(target), "%s/secret", x->outside);
        assert_int_equal(fake_symlink(x->f, "sys/devices/virtual/idxd/good0/mdev_supported_types/idxd-1dwq/description", target), 0);
        /* 6. a type folder that is a link out */
        snprintf(target, sizeof(target), "%s/sys/devices/virtual/idxd/evil0/mdev_supported_types/idxd-1dwq", x->outside);
        assert_int_equal(fake_symlink(x->f, "sys/devices/virtual/idxd/good0/mdev_supported_types/idxd-evil", target), 0);
        /* 7. driver and subsystem links pointing out */
        assert_int_equal(fake_symlink(x->f, "sys/devices/pci0000:00/0000:3b:00.0/driver", "/sys/bus/pci/drivers/evil"), 0);
        snprintf(target, sizeof(target), "%s../evil", path);
        assert_int_equal(fake_symlink(x->f, "sys/devices/virtual/idxd/good0/subsystem", target), 0);
        /* 8. a VF link pointing out */
        snprintf(target, sizeof(target), "%s/sys/devices/pci0000:00/0000:66:00.0", x->outside);
        assert_int_equal(fake_symlink(x->f, "sys/devices/pci0000:00/0000:3b:00.0/virtfn1", target), 0);
        /* 9. an mdev bus entry leading to the outside mdev, and an mdev whose
         *    mdev_type leads out */
        snprintf(target, sizeof(target), "%s/sys/devices/virtual/idxd/evil0/" U5, x->outside);
        assert_int_equal(fake_symlink(x->f, "sys/bus/mdev/devices/" U5, target), 0);
        snprintf(target, sizeof(target), "%s/sys/devices/virtual/idxd/evil0/mdev_supported_types/idxd-1dwq", x->outside);
        assert_int_equal(fake_symlink(x->f, "sys/devices/virtual/idxd/good0/" U2 "/mdev_type", target), 0);
        /* 10. the mdev folder itself replaced by a link out */
        assert_int_equal(fake_add_mdev(x->f, "good0", "idxd-1dwq", U3, 0), 0);
        assert_int_equal(fake_remove(x->f, "sys/devices/virtual/idxd/good0/" U3), 0);
        snprintf(target, sizeof(target), "%s/sys/devices/virtual/idxd/evil0/" U5, x->outside);
        assert_int_equal(fake_symlink(x->f, "sys/devices/virtual/idxd/good0/" U3, target), 0);

        /* 11. a link into the host's real sysfs, the likeliest accident:
         *     it looks like a device path once there */
        if (access("/sys/devices/virtual/net/lo", F_OK) >= 0) {
                assert_int_equal(fake_symlink(x->f, "sys/class/mdev_bus/lo", "/sys/devices/virtual/net/lo"), 0);
                assert_int_equal(fake_symlink(x->f, "sys/bus/pci/devices/lo", "/sys/devices/virtual/net/lo"), 0);
        } else
                print_message("/sys/devices/virtual/net/lo absent: host-sysfs link case not exercised\n");

        scan(x);
        assert_int_equal(siov_model_get_n_parents(x->m), 2);
        assert_non_null(siov_model_find_parent(x->m, "good0"));
        assert_non_null(siov_model_find_parent(x->m, "0000:3b:00.0"));
        assert_null(siov_model_find_parent(x->m, "evil0"));
        assert_null(siov_model_find_parent(x->m, "evil1"));
        assert_null(siov_model_find_parent(x->m, "evil2"));
        assert_null(siov_model_find_parent(x->m, "0000:66:00.0"));

        p = siov_model_find_parent(x->m, "good0");
        assert_string_equal(siov_parent_get_subsystem(p), "");
        assert_int_equal(siov_parent_get_n_types(p), 2);         /* idxd-evil is not followed */
        assert_null(siov_parent_find_type(p, "idxd-evil"));
        t = siov_parent_find_type(p, "idxd-1dwq");
        assert_null(siov_type_get_broken(t));
        assert_string_equal(siov_type_get_description(t), "");   /* not "secret" */
        t = siov_parent_find_type(p, "idxd-1swq");
        assert_int_equal(siov_type_get_available(t), 0);          /* not 9 */
        assert_non_null(siov_type_get_broken(t));
        assert_true(strncmp(siov_type_get_broken(t), "available_instances: ", 21) == 0);

        p = siov_model_find_parent(x->m, "0000:3b:00.0");
        assert_string_equal(siov_parent_get_driver(p), "");
        assert_int_equal(siov_parent_get_n_vfs(p), 1);
        assert_string_equal(siov_parent_get_broken(p), "virtfn1: points outside the root");

        /* only U1 is an honest mdev */
        assert_int_equal(siov_model_get_n_mdevs(x->m), 1);
        assert_string_equal(siov_mdev_get_uuid(siov_model_get_mdev(x->m, 0)), U1);

        p = NULL;
        assert_int_equal(siov_parent_read(x->ctx, "evil0", &p), -ENODEV);
        assert_int_equal(siov_parent_read(x->ctx, "evil1", &p), -ENODEV);
        assert_int_equal(siov_parent_read(x->ctx, "evil2", &p), -ENODEV);
        assert_int_equal(siov_parent_read(x->ctx, "0000:66:00.0", &p), -ENODEV);
        assert_int_equal(siov_parent_read(x->ctx, "lo", &p), -ENODEV);
        assert_int_equal(siov_parent_read_devpath(x->ctx, "/devices/sneaky/idxd/evil2", &p), -ENODEV);
        assert_null(p);
        assert_int_equal(siov_mdev_read(x->ctx, U5, &d), -ENODEV);
        assert_int_equal(siov_mdev_read(x->ctx, U2, &d), -ENODEV);
        assert_int_equal(siov_mdev_read(x->ctx, U3, &d), -ENODEV);
        assert_null(d);
        assert_int_equal(siov_mdev_read(x->ctx, U1, &d), 0);
        d = siov_mdev_unref(d);
}

/* Links inside the root that do not name a device as the kernel would. */
static void test_odd_links(void **state) {
        struct fixture *x = *state;
        const struct fake_pool fp = { .total = 4, .free = 4, .swq_slots = 2 };
        struct siov_parent *p;

        assert_int_equal(fake_add_siov_parent(x->f, "siov0", &fp, NULL), 0);
        /* a class entry whose name is not the device's */
        assert_int_equal(fake_symlink(x->f, "sys/class/mdev_bus/alias0", "../../devices/virtual/idxd/siov0"), 0);
        /* class entries that are no device folder */
        assert_int_equal(fake_mkdir(x->f, "sys/bus/pci/drivers/ice"), 0);
        assert_int_equal(fake_symlink(x->f, "sys/class/mdev_bus/ice", "../../bus/pci/drivers/ice"), 0);
        assert_int_equal(fake_mkdir(x->f, "sys/class/mdev_bus/plain"), 0);
        assert_int_equal(fake_mkdir(x->f, "sys/class/mdev_bus/plain/mdev_supported_types"), 0);
        /* a device path with a control character in it */
        assert_int_equal(fake_mkdir(x->f, "sys/devices/bad\x01bus/weird0/mdev_supported_types"), 0);
        assert_int_equal(fake_symlink(x->f, "sys/class/mdev_bus/weird0", "../../devices/bad\x01bus/weird0"), 0);
        /* one name, two different devices: the mdev parent wins, the PF
         * behind the other link is not merged into it */
        assert_int_equal(fake_add_pf(x->f, "twin0", 4, NULL), 0);
        assert_int_equal(fake_mkdir(x->f, "sys/devices/virtual/idxd/twin0/mdev_supported_types"), 0);
        assert_int_equal(fake_symlink(x->f, "sys/class/mdev_bus/twin0", "../../devices/virtual/idxd/twin0"), 0);

        scan(x);
        assert_int_equal(siov_model_get_n_parents(x->m), 2);
        assert_non_null(siov_model_find_parent(x->m, "siov0"));
        assert_null(siov_model_find_parent(x->m, "alias0"));
        assert_null(siov_model_find_parent(x->m, "ice"));
        assert_null(siov_model_find_parent(x->m, "plain"));
        assert_null(siov_model_find_parent(x->m, "weird0"));
        p = siov_model_find_parent(x->m, "twin0");
        assert_non_null(p);
        assert_int_equal(siov_parent_get_kinds(p), SIOV_KIND_MDEV);
        assert_string_equal(siov_parent_get_syspath(p), "/sys/devices/virtual/idxd/twin0");
        assert_int_equal(siov_parent_get_total_vfs(p), 0);
}

/* VF UUIDs: version 5, stable across scans and contexts, distinct. */
static void test_vf_uuids(void **state) {
        struct fixture *x = *state;
        char first[12][SIOV_UUID_STRING_MAX];
        size_t n = 0;

        assert_int_equal(fake_add_pf(x->f, "0000:3b:00.0", 8, NULL), 0);
        assert_int_equal(fake_add_pf(x->f, "0000:5e:00.0", 8, NULL), 0);
        for (unsigned i = 0; i < 6; i++) {
                char a[32], b[32];

                snprintf(a, sizeof(a), "0000:3b:01.%u", i);
                snprintf(b, sizeof(b), "0000:5e:01.%u", i);
                assert_int_equal(fake_add_vf(x->f, "0000:3b:00.0", i, a, NULL, NULL), 0);
                assert_int_equal(fake_add_vf(x->f, "0000:5e:00.0", i, b, NULL, NULL), 0);
        }

        scan(x);
        for (size_t i = 0; i < siov_model_get_n_parents(x->m); i++) {
                struct siov_parent *p = siov_model_get_parent(x->m, i);

                for (size_t j = 0; j < siov_parent_get_n_vfs(p); j++) {
                        const char *u = siov_vf_get_uuid(siov_parent_get_vf(p, j));

                        assert_true(siov_uuid_is_valid(u));
                        assert_int_equal(u[14], '5');                    /* version */
                        assert_non_null(strchr("89ab", u[19]));         /* RFC 4122 variant */
                        assert_true(n < ELEMENTSOF(first));
                        strcpy(first[n++], u);
                }
        }
        assert_int_equal(n, 12);
        for (size_t i = 0; i < n; i++)
                for (size_t j = i + 1; j < n; j++)
                        assert_string_not_equal(first[i], first[j]);

        /* uuid5(5dd04659-0f21-4a82-a253-810929093cc5, "<pf>/vf<N>"), computed
         * with Python's uuid module: the UUIDs libsiov's own SHA-1 gave
         * before libuuid's uuid_generate_sha1() replaced it, so a VF keeps
         * its UUID (and its definition) across the upgrade. */
        assert_string_equal(first[0], "aeeed402-6f9e-5a5c-8e35-11e36731a781");
        assert_string_equal(first[1], "a89d2fe5-c57f-543f-ae6f-54e4036216a0");
        assert_string_equal(first[5], "ee3317d1-bc08-539c-a64c-c656ebd1e03b");
        assert_string_equal(first[11], "d0910a57-75ae-5aa5-a124-4917c9e1df4d");

        /* same answers from a new context and scan */
        scan(x);
        n = 0;
        for (size_t i = 0; i < siov_model_get_n_parents(x->m); i++) {
                struct siov_parent *p = siov_model_get_parent(x->m, i);

                for (size_t j = 0; j < siov_parent_get_n_vfs(p); j++)
                        assert_string_equal(siov_vf_get_uuid(siov_parent_get_vf(p, j)), first[n++]);
        }
}

/* The model is a snapshot: changes need a new scan, old models stay valid. */
static void test_snapshot(void **state) {
        struct fixture *x = *state;
        struct siov_model *old;
        struct siov_parent *p;

        add_mdevs(x);
        scan(x);
        old = siov_model_ref(x->m);
        p = siov_parent_ref(siov_model_find_parent(old, "siov0"));
        assert_int_equal(fake_remove_mdev(x->f, U1, FAKE_MDEV_CONSUME), 0);
        scan(x);
        assert_int_equal(siov_model_get_n_mdevs(x->m), 3);
        assert_int_equal(siov_model_get_n_mdevs(old), 4);
        assert_int_equal(siov_type_get_available(siov_parent_find_type(
                siov_model_find_parent(x->m, "siov0"), "idxd-1dwq")), 3);
        siov_model_unref(old);
        /* the parent outlives its model */
        assert_int_equal(siov_type_get_available(siov_parent_find_type(p, "idxd-1dwq")), 2);
        siov_parent_unref(p);
}

/* A bench-sized tree, to catch anything quadratic or leaky in CI. */
static void test_bench_tree(void **state) {
        struct fixture *x = *state;
        size_t vfs = 0, host = 0;

        assert_int_equal(fake_bench(x->f, 10, 20, 2, 16), 0);
        scan(x);
        assert_int_equal(siov_model_get_n_parents(x->m), 12);
        assert_int_equal(siov_model_get_n_mdevs(x->m), 200);
        for (size_t i = 0; i < siov_model_get_n_parents(x->m); i++) {
                struct siov_parent *p = siov_model_get_parent(x->m, i);

                assert_null(siov_parent_get_broken(p));
                vfs += siov_parent_get_n_vfs(p);
                host += siov_parent_get_host_usage(p, SIOV_HOST_VF_HOST);
        }
        assert_int_equal(vfs, 32);
        assert_int_equal(host, 8);      /* one in four VFs runs a host driver */
        for (size_t i = 1; i < siov_model_get_n_mdevs(x->m); i++)
                assert_true(strcmp(siov_mdev_get_uuid(siov_model_get_mdev(x->m, i - 1)),
                                   siov_mdev_get_uuid(siov_model_get_mdev(x->m, i))) < 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_gvtg_parent, setup, teardown),
                cmocka_unit_test_setup_teardown(test_empty_root, setup, teardown),
                cmocka_unit_test_setup_teardown(test_missing_mdev_devices, setup, teardown),
                cmocka_unit_test_setup_teardown(test_sriov_vf_states, setup, teardown),
                cmocka_unit_test_setup_teardown(test_vfio_variants_reload, setup, teardown),
                cmocka_unit_test_setup_teardown(test_malformed_attributes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_both_kinds, setup, teardown),
                cmocka_unit_test_setup_teardown(test_siov_pool, setup, teardown),
                cmocka_unit_test_setup_teardown(test_active_mdevs, setup, teardown),
                cmocka_unit_test_setup_teardown(test_parent_read, setup, teardown),
                cmocka_unit_test_setup_teardown(test_mdev_read, setup, teardown),
                cmocka_unit_test_setup_teardown(test_symlinks_outside_root, setup, teardown),
                cmocka_unit_test_setup_teardown(test_odd_links, setup, teardown),
                cmocka_unit_test_setup_teardown(test_vf_uuids, setup, teardown),
                cmocka_unit_test_setup_teardown(test_snapshot, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bench_tree, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
