/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SR-IOV in libsiov: PF configuration files (round trips, every malformed
 * input refused with a reason, unknown keys kept, corrupt and foreign files
 * reported and kept by the loader), autoprobe in the snapshot, and NVIDIA
 * SR-IOV vGPU VFs read from fake trees with the files' real formats.
 */

#include <errno.h>
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

#define PF "0000:41:00.0"

static char *read_all(const char *path) {
        FILE *f = fopen(path, "re");
        char *buf = NULL;
        size_t size = 0;

        if (!f)
                return NULL;
        if (getdelim(&buf, &size, '\0', f) < 0) {
                free(buf);
                buf = NULL;
        }
        fclose(f);
        return buf;
}

static void write_all(const char *path, const char *s) {
        FILE *f = fopen(path, "we");

        assert_non_null(f);
        assert_int_equal(fputs(s, f) >= 0, 1);
        assert_int_equal(fclose(f), 0);
}

static void test_config_round_trip(void **state) {
        struct siov_pf_config *c = NULL, *d = NULL;
        char *json = NULL, *msg = NULL;

        assert_int_equal(siov_pf_config_new(&c, PF), 0);
        assert_int_equal(siov_pf_config_get_numvfs(c), -1);
        assert_int_equal(siov_pf_config_get_autoprobe(c), -1);
        assert_int_equal(siov_pf_config_set_numvfs(c, 7), 0);
        assert_int_equal(siov_pf_config_set_autoprobe(c, 0), 0);
        assert_int_equal(siov_pf_config_set_numvfs(c, 65536), -EINVAL);
        assert_int_equal(siov_pf_config_to_json(c, &json), 0);
        assert_int_equal(siov_pf_config_parse(json, strlen(json), &d, &msg), 0);
        assert_null(msg);
        assert_true(siov_pf_config_equal(c, d));
        assert_string_equal(siov_pf_config_get_pf(d), PF);
        assert_int_equal(siov_pf_config_get_numvfs(d), 7);
        assert_int_equal(siov_pf_config_get_autoprobe(d), 0);
        assert_int_equal(siov_pf_config_set_numvfs(d, -1), 0);
        assert_int_equal(siov_pf_config_get_numvfs(d), -1);
        assert_false(siov_pf_config_equal(c, d));
        free(json);
        siov_pf_config_unref(c);
        siov_pf_config_unref(d);

        /* unknown keys survive a parse + save */
        {
                static const char in[] = "{\"pf\": \"" PF "\", \"numvfs\": 2, \"future\": {\"x\": [1, 2]}}";

                assert_int_equal(siov_pf_config_parse(in, strlen(in), &c, &msg), 0);
                assert_int_equal(siov_pf_config_set_autoprobe(c, 1), 0);
                assert_int_equal(siov_pf_config_to_json(c, &json), 0);
                assert_non_null(strstr(json, "\"future\""));
                assert_non_null(strstr(json, "\"autoprobe\": true"));
                free(json);
                siov_pf_config_unref(c);
        }
}

static void test_config_refusals(void **state) {
        static const struct {
                const char *json, *reason;
        } bad[] = {
                { "", "" },
                { "[]", "not a JSON object" },
                { "{}", "\"pf\" must be a string" },
                { "{\"pf\": 1}", "\"pf\" must be a string" },
                { "{\"pf\": \"eth0\"}", "not a PCI address" },
                { "{\"pf\": \"../../etc\"}", "not a PCI address" },
                { "{\"pf\": \"" PF "\", \"numvfs\": \"2\"}", "\"numvfs\" must be a number" },
                { "{\"pf\": \"" PF "\", \"numvfs\": -1}", "0..65535" },
                { "{\"pf\": \"" PF "\", \"numvfs\": 70000}", "0..65535" },
                { "{\"pf\": \"" PF "\", \"numvfs\": 1.5}", "\"numvfs\" must be a number" },
                { "{\"pf\": \"" PF "\", \"autoprobe\": 0}", "\"autoprobe\" must be true or false" },
                { "{\"pf\": \"" PF "\", \"pf\": \"" PF "\"}", "" },           /* duplicate key */
                { "{\"pf\": \"" PF "\"} x", "" },
        };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct siov_pf_config *c = NULL;
                char *msg = NULL;
                int r;

                r = siov_pf_config_parse(bad[i].json, strlen(bad[i].json), &c, &msg);
                if (r >= 0)
                        fail_msg("accepted: %s", bad[i].json);
                assert_null(c);
                assert_non_null(msg);
                if (!strstr(msg, bad[i].reason))
                        fail_msg("%s: reason '%s' lacks '%s'", bad[i].json, msg, bad[i].reason);
                free(msg);
        }
}

static int n_errors;
static char last_error[512];

static void on_error(const char *path, const char *pf, const char *reason, void *userdata) {
        n_errors++;
        snprintf(last_error, sizeof(last_error), "%s|%s|%s", strrchr(path, '/') + 1, pf, reason);
}

static void test_config_store(void **state) {
        char dir[128] = "/tmp/siov-test-sriov.XXXXXX", path[256], *before, *after, *msg = NULL;
        struct siov_pf_config *c = NULL, **l = NULL;
        size_t n = 0;

        assert_non_null(mkdtemp(dir));
        strcat(dir, "/parents");                /* made by the save */
        assert_int_equal(siov_pf_config_new(&c, PF), 0);
        assert_int_equal(siov_pf_config_set_numvfs(c, 2), 0);
        assert_int_equal(siov_pf_config_save(dir, c, &msg), 0);
        siov_pf_config_unref(c);

        snprintf(path, sizeof(path), "%s/0000:02:00.0.json", dir);
        write_all(path, "{\"pf\": \"0000:02:00.0\", \"numvfs\": ");          /* cut short */
        before = read_all(path);
        snprintf(path, sizeof(path), "%s/0000:03:00.0.json", dir);
        write_all(path, "{\"pf\": \"0000:04:00.0\"}");                       /* another PF's */
        snprintf(path, sizeof(path), "%s/notes.json", dir);
        write_all(path, "{}");
        snprintf(path, sizeof(path), "%s/.0000:05:00.0.json.123", dir);     /* a save's temporary file */
        write_all(path, "garbage");

        n_errors = 0;
        assert_int_equal(siov_pf_configs_load(dir, &l, &n, on_error, NULL), 0);
        assert_int_equal(n, 1);
        assert_string_equal(siov_pf_config_get_pf(l[0]), PF);
        assert_int_equal(siov_pf_config_get_numvfs(l[0]), 2);
        assert_int_equal(n_errors, 3);
        siov_pf_configs_free(l, n);

        /* reported, never removed or changed */
        snprintf(path, sizeof(path), "%s/0000:02:00.0.json", dir);
        after = read_all(path);
        assert_non_null(after);
        assert_string_equal(before, after);
        free(before);
        free(after);

        snprintf(path, sizeof(path), "%s/0000:03:00.0.json", dir);
        assert_int_equal(access(path, F_OK), 0);
        assert_int_equal(siov_pf_config_delete(dir, PF, &msg), 0);
        assert_int_equal(siov_pf_configs_load(dir, &l, &n, NULL, NULL), 0);
        assert_int_equal(n, 0);
        free(l);
        assert_int_equal(siov_pf_configs_load("/nonexistent/siov", &l, &n, NULL, NULL), 0);
        assert_int_equal(n, 0);

        *strrchr(dir, '/') = '\0';
        assert_int_equal(fake_rm_rf(dir), 0);
}

/* The vGPU files as NVIDIA's vGPU manager writes them (NVIDIA Virtual GPU
 * Software User Guide, "Creating an NVIDIA vGPU that Supports SR-IOV on a
 * Linux with KVM Hypervisor"): creatable_vgpu_types is a header line and
 * one "ID : name" line per type, current_vgpu_type one id (0: none). */
static void test_vgpu(void **state) {
        struct fake_sysfs *f = NULL;
        struct siov_ctx *ctx = NULL;
        struct siov_parent *p = NULL;
        const struct siov_vf *vf;

        assert_int_equal(fake_sysfs_new(&f, NULL), 0);
        assert_int_equal(fake_add_pf(f, PF, 32, "nvidia"), 0);
        assert_int_equal(fake_add_vf(f, PF, 0, "0000:41:00.4", NULL, NULL), 0);
        assert_int_equal(fake_add_vf(f, PF, 1, "0000:41:00.5", "nvidia", NULL), 0);
        assert_int_equal(fake_add_vf(f, PF, 2, "0000:41:00.6", NULL, NULL), 0);
        assert_int_equal(fake_add_vf(f, PF, 3, "0000:41:00.7", NULL, NULL), 0);
        /* vf0: no vGPU set, three creatable types */
        assert_int_equal(fake_set_attr(f, "sys/bus/pci/devices/0000:41:00.4/nvidia/current_vgpu_type", "0\n"), 0);
        assert_int_equal(fake_set_attr(f, "sys/bus/pci/devices/0000:41:00.4/nvidia/creatable_vgpu_types",
                                       "ID    : vGPU Name\n"
                                       "557   : NVIDIA A40-1B\n"
                                       "558   : NVIDIA A40-2B\n"
                                       "566   : NVIDIA A40-48Q\n"), 0);
        /* vf1: a vGPU set: no more creatable types on it */
        assert_int_equal(fake_set_attr(f, "sys/bus/pci/devices/0000:41:00.5/nvidia/current_vgpu_type", "558\n"), 0);
        assert_int_equal(fake_set_attr(f, "sys/bus/pci/devices/0000:41:00.5/nvidia/creatable_vgpu_types",
                                       "ID    : vGPU Name\n"), 0);
        /* vf2: garbage lines are skipped, not fatal */
        assert_int_equal(fake_set_attr(f, "sys/bus/pci/devices/0000:41:00.6/nvidia/current_vgpu_type", "0\n"), 0);
        assert_int_equal(fake_set_attr(f, "sys/bus/pci/devices/0000:41:00.6/nvidia/creatable_vgpu_types",
                                       "ID    : vGPU Name\nnonsense\n: no id\n12x : bad id\n600 : \n601 : NVIDIA L40-1Q\n"), 0);
        /* vf3: current_vgpu_type unreadable as a number: no vGPU */
        assert_int_equal(fake_set_attr(f, "sys/bus/pci/devices/0000:41:00.7/nvidia/current_vgpu_type", "x\n"), 0);

        assert_int_equal(siov_ctx_new(&ctx, fake_sysfs_root(f)), 0);
        assert_int_equal(siov_parent_read(ctx, PF, &p), 0);
        assert_null(siov_parent_get_broken(p));
        assert_int_equal(siov_parent_get_autoprobe(p), 1);
        assert_int_equal(siov_parent_get_n_vfs(p), 4);

        vf = siov_parent_get_vf(p, 0);
        assert_true(siov_vf_is_vgpu(vf));
        assert_int_equal(siov_vf_get_vgpu_current(vf), 0);
        assert_int_equal(siov_vf_get_n_vgpu_types(vf), 3);
        assert_int_equal(siov_vf_get_vgpu_type_id(vf, 0), 557);
        assert_string_equal(siov_vf_get_vgpu_type_name(vf, 0), "NVIDIA A40-1B");
        assert_int_equal(siov_vf_get_vgpu_type_id(vf, 2), 566);
        assert_string_equal(siov_vf_get_vgpu_type_name(vf, 2), "NVIDIA A40-48Q");
        assert_null(siov_vf_get_vgpu_type_name(vf, 3));

        vf = siov_parent_get_vf(p, 1);
        assert_true(siov_vf_is_vgpu(vf));
        assert_int_equal(siov_vf_get_vgpu_current(vf), 558);
        assert_int_equal(siov_vf_get_n_vgpu_types(vf), 0);

        vf = siov_parent_get_vf(p, 2);
        assert_int_equal(siov_vf_get_n_vgpu_types(vf), 1);
        assert_int_equal(siov_vf_get_vgpu_type_id(vf, 0), 601);

        assert_false(siov_vf_is_vgpu(siov_parent_get_vf(p, 3)));

        siov_parent_unref(p);
        siov_ctx_unref(ctx);
        fake_sysfs_free(f);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_config_round_trip),
                cmocka_unit_test(test_config_refusals),
                cmocka_unit_test(test_config_store),
                cmocka_unit_test(test_vgpu),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
