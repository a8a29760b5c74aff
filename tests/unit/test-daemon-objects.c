/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* siovd's objects without a bus (libsiovd-core on a fake sysfs tree): the
 * property tables drive both the getters and the change diffs, so a change
 * in sysfs or in a spec signals exactly the properties that changed. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "device.h"
#include "daemon-fixture.h"
#include "fake-sysfs.h"
#include "manager.h"
#include "parent.h"

#define GPU "0000:00:02.0"
#define U1 "11111111-2222-4333-8444-555555555555"

static int setup(void **state) {
        Fixture *x = fixture_new();

        assert_int_equal(fake_add_mdev_parent(x->f, GPU, NULL, "i915"), 0);
        assert_int_equal(fake_add_type(x->f, GPU, "i915-GVTg_V5_4", 2, "vfio-pci", "GVTg_V5_4", NULL), 0);
        assert_int_equal(fake_add_mdev(x->f, GPU, "i915-GVTg_V5_4", U1, FAKE_MDEV_CONSUME), 0);
        fixture_start(x);
        *state = x;
        return 0;
}

static bool changed_is(const char **changed, size_t n, const char * const *want) {
        size_t k = 0;

        for (; want[k]; k++)
                if (k >= n || !streq(changed[k], want[k]))
                        return false;
        return k == n && !changed[n];
}
#define assert_changed(changed, n, ...) \
        assert_true(changed_is((changed), (n), (const char * const[]) { __VA_ARGS__, NULL }))

/* A new snapshot: Driver changed on the parent, AvailableInstances on the
 * type, nothing else. */
static void test_parent_update_diff(void **state) {
        Fixture *x = *state;
        Parent *p = hashmap_get(x->m->parents, GPU);
        struct siov_parent *old, *snap = NULL;
        const char *changed[MAX(PARENT_N_PROPERTIES, TYPE_N_PROPERTIES) + 1];
        ParentValues pa, pb;
        TypeValues ta, tb;
        Type *t;

        assert_non_null(p);
        t = parent_find_type(p, "i915-GVTg_V5_4");
        assert_non_null(t);
        /* The values point into the old snapshot: keep it alive. */
        old = siov_parent_ref(p->snap);
        pa = parent_values(p);
        ta = type_values(t);
        assert_int_equal(ta.AvailableInstances, 1);
        assert_string_equal(pa.Driver, "i915");

        assert_int_equal(fake_set_driver(x->f, GPU, "other"), 0);
        assert_int_equal(fake_set_type_attr(x->f, GPU, "i915-GVTg_V5_4", "available_instances", "7"), 0);
        assert_int_equal(siov_parent_read(x->m->ctx, GPU, &snap), 0);
        assert_int_equal(parent_update(p, snap), 0);
        siov_parent_unref(snap);
        assert_ptr_equal(parent_find_type(p, "i915-GVTg_V5_4"), t);

        pb = parent_values(p);
        tb = type_values(t);
        assert_changed(changed, parent_values_diff(&pa, &pb, changed), "Driver");
        assert_changed(changed, type_values_diff(&ta, &tb, changed), "AvailableInstances");
        /* Nothing changed: nothing to signal. */
        assert_int_equal(parent_values_diff(&pb, &pb, changed), 0);
        assert_null(changed[0]);
        siov_parent_unref(old);
}

/* CONST properties never appear in a diff, even when their values differ
 * (they cannot change on a live object). */
static void test_const_not_diffed(void **state) {
        Fixture *x = *state;
        Parent *p = hashmap_get(x->m->parents, GPU);
        const char *changed[TYPE_N_PROPERTIES + 1];
        TypeValues a = type_values(p->types[0]), b = a;

        b.Id = "other";
        b.Kind = "vf";
        b.Parent = "other";
        assert_int_equal(type_values_diff(&a, &b, changed), 0);
        b.Broken = "bad";
        assert_changed(changed, type_values_diff(&a, &b, changed), "Broken");
}

/* A transient device gets a persistent spec with a VM: State, Persistent
 * and VM change; its attributes (none either way) do not. */
static void test_device_spec_diff(void **state) {
        Fixture *x = *state;
        Device *d = hashmap_get(x->m->devices, U1);
        struct siov_definition *spec = NULL;
        const char *changed[DEVICE_N_PROPERTIES + 1];
        DeviceValues a, b, c;

        assert_non_null(d);
        assert_int_equal(siov_definition_new(&spec, U1, GPU, "i915-GVTg_V5_4"), 0);
        assert_int_equal(siov_definition_set_vm(spec, "vm1"), 0);
        a = device_values(d);
        assert_string_equal(a.State, "active");
        assert_true(device_set_spec(d, spec, true));
        b = device_values(d);
        assert_changed(changed, device_values_diff(&a, &b, changed), "State", "Persistent", "VM");

        /* An attribute: only Attributes. The old spec stays alive for the diff. */
        struct siov_definition *spec2 = NULL;
        assert_int_equal(siov_definition_copy(spec, &spec2), 0);
        assert_int_equal(siov_definition_add_attr(spec2, "foo", "1"), 0);
        siov_definition_ref(spec);
        assert_true(device_set_spec(d, spec2, true));
        c = device_values(d);
        assert_changed(changed, device_values_diff(&b, &c, changed), "Attributes");
        siov_definition_unref(spec);
        siov_definition_unref(spec2);
        siov_definition_unref(spec);
        assert_memory_equal(c.SysfsPath.s, d->mdev->home, strlen(d->mdev->home));
        assert_string_equal(c.SysfsPath.s + strlen(d->mdev->home), "/" U1);
}

/* Start-up takes the mdevs from the types' devices/ listings: parent,
 * type and path at once, the driver when asked for or in idle batches;
 * each parent's devices are in its own list. */
#define U2 "22222222-2222-4333-8444-555555555555"
#define U3 "33333333-2222-4333-8444-555555555555"
#define DSA "siov0"
static void test_listed_startup(void **state) {
        Fixture *x = fixture_new();
        const DeviceList *l;
        DeviceValues v;
        Device *d;

        *state = x;
        assert_int_equal(fake_add_mdev_parent(x->f, GPU, NULL, "i915"), 0);
        assert_int_equal(fake_add_type(x->f, GPU, "i915-GVTg_V5_4", 4, "vfio-pci", "GVTg_V5_4", NULL), 0);
        assert_int_equal(fake_add_mdev(x->f, GPU, "i915-GVTg_V5_4", U1, FAKE_MDEV_CONSUME), 0);
        assert_int_equal(fake_add_mdev(x->f, GPU, "i915-GVTg_V5_4", U2, FAKE_MDEV_CONSUME), 0);
        assert_int_equal(fake_add_mdev_parent(x->f, DSA, "idxd", "idxd"), 0);
        assert_int_equal(fake_add_type(x->f, DSA, "idxd-1dwq", 4, "vfio-pci", "1dwq", NULL), 0);
        assert_int_equal(fake_add_mdev(x->f, DSA, "idxd-1dwq", U3, FAKE_MDEV_CONSUME), 0);
        assert_int_equal(manager_new(&x->m, fake_sysfs_root(x->f), x->defs, UEVENT_SOURCE_KERNEL), 0);
        assert_int_equal(manager_startup(x->m), 0);

        assert_int_equal(hashmap_size(x->m->devices), 3);
        assert_int_equal(x->m->n_unloaded, 3);
        d = hashmap_get(x->m->devices, U1);
        assert_non_null(d);
        assert_true(device_is_active_mdev(d));
        assert_null(d->mdev->driver);
        v = device_values(d);
        assert_string_equal(v.Parent, GPU);
        assert_string_equal(v.Type, "i915-GVTg_V5_4");
        assert_string_equal(v.State, "active");
        assert_string_equal(v.SysfsPath.s + strlen(v.SysfsPath.s) - strlen(GPU "/" U1), GPU "/" U1);

        l = manager_parent_devices(x->m, GPU);
        assert_non_null(l);
        assert_int_equal(l->n, 2);
        l = manager_parent_devices(x->m, DSA);
        assert_non_null(l);
        assert_int_equal(l->n, 1);
        assert_ptr_equal(l->items[0], hashmap_get(x->m->devices, U3));
        assert_null(manager_parent_devices(x->m, "nope"));

        /* On demand: read once. */
        assert_true(device_load(d));
        assert_string_equal(device_get_driver(d), "vfio_mdev");
        assert_int_equal(x->m->n_unloaded, 2);
        assert_false(device_load(d));

        /* After READY: idle batches read the rest. */
        assert_int_equal(manager_start_loading(x->m), 0);
        for (int i = 0; i < 10 && x->m->n_unloaded > 0; i++)
                assert_true(sd_event_run(x->m->event, 0) >= 0);
        assert_int_equal(x->m->n_unloaded, 0);
        assert_string_equal(device_get_driver(hashmap_get(x->m->devices, U3)), "vfio_mdev");

        /* A transient mdev that goes leaves its parent's list; the strings
         * the devices share are counted, not copied. */
        device_update_mdev(hashmap_get(x->m->devices, U2), NULL);
        assert_null(hashmap_get(x->m->devices, U2));
        assert_int_equal(manager_parent_devices(x->m, GPU)->n, 1);
        assert_ptr_equal(manager_parent_devices(x->m, GPU)->items[0], d);
        device_update_mdev(hashmap_get(x->m->devices, U3), NULL);
        assert_null(manager_parent_devices(x->m, DSA));
        /* GPU, its type, its sysfs path, vfio_mdev; one shared record */
        assert_int_equal(hashmap_size(x->m->strings), 4);
        assert_int_equal(hashmap_size(x->m->mdev_shapes), 1);
}

/* Devices come from blocks: thousands of them added, half removed and as
 * many added again reuse the free slots; each is found with its own
 * values; the blocks go when their last device does. */
static void test_device_blocks(void **state) {
        Fixture *x = *state;
        enum { N = 3000 };
        char uuid[SIOV_UUID_STRING_MAX];
        size_t blocks;
        Device *d;

        assert_int_equal(device_debug_blocks(x->m), 1);        /* U1 */
        for (unsigned i = 0; i < N; i++) {
                snprintf(uuid, sizeof(uuid), "%08x-0000-4000-8000-000000000000", i);
                assert_int_equal(device_new_mdev_listed(x->m, uuid, GPU, i % 2 ? "t-odd" : "t-even", "/sys/x", &d), 0);
                assert_string_equal(d->uuid, uuid);
        }
        blocks = device_debug_blocks(x->m);
        assert_true(blocks > 2);
        assert_int_equal(hashmap_size(x->m->mdev_shapes), 3);
        for (unsigned i = 0; i < N; i += 2) {
                snprintf(uuid, sizeof(uuid), "%08x-0000-4000-8000-000000000000", i);
                device_remove(hashmap_get(x->m->devices, uuid));
        }
        assert_int_equal(hashmap_size(x->m->mdev_shapes), 2);
        for (unsigned i = 0; i < N; i += 2) {
                snprintf(uuid, sizeof(uuid), "%08x-1111-4000-8000-000000000000", i);
                assert_int_equal(device_new_mdev_listed(x->m, uuid, GPU, "t-new", "/sys/x", &d), 0);
        }
        assert_int_equal(device_debug_blocks(x->m), blocks);
        for (unsigned i = 0; i < N; i++) {
                snprintf(uuid, sizeof(uuid), "%08x-%s-4000-8000-000000000000", i, i % 2 ? "0000" : "1111");
                d = hashmap_get(x->m->devices, uuid);
                assert_non_null(d);
                assert_string_equal(d->uuid, uuid);
                assert_string_equal(device_get_type(d), i % 2 ? "t-odd" : "t-new");
                assert_string_equal(device_get_parent(d), GPU);
                assert_string_equal(device_get_syspath(d).s + strlen("/sys/x/"), uuid);
                assert_memory_equal(device_get_syspath(d).s, "/sys/x/", strlen("/sys/x/"));
                device_remove(d);
        }
        assert_int_equal(hashmap_size(x->m->devices), 1);
        assert_int_equal(device_debug_blocks(x->m), 1);
        assert_int_equal(manager_parent_devices(x->m, GPU)->n, 1);
}

/* Device paths are made when needed, escaped as sd_bus_path_encode()
 * does (a leading digit too). */
static void test_device_object_path(void **state) {
        static const char *const uuids[] = {
                "0123abcd-0000-4000-8000-000000000000", "abcdef01-2345-4678-9abc-def012345678",
                "ffffffff-ffff-4fff-bfff-ffffffffffff", "9a-Z_.", "x",
        };

        for (size_t i = 0; i < ELEMENTSOF(uuids); i++) {
                _cleanup_free_ char *want = NULL;

                assert_int_equal(sd_bus_path_encode(SIOV_DBUS_DEVICE_PREFIX, uuids[i], &want), 0);
                assert_string_equal(device_object_path(uuids[i]).s, want);
        }
}

/* Manager.ListDevices' record is the path and the first DEVICE_RECORD_N
 * rows of the Device table: its signature is API and must match. */
static void test_device_record_signature(void **state) {
        char sig[256] = "o";

        assert_true(DEVICE_N_PROPERTIES >= DEVICE_RECORD_N);
        for (size_t i = 0; i < DEVICE_RECORD_N; i++) {
                assert_non_null(device_property_signatures[i]);
                strcat(sig, device_property_signatures[i]);
        }
        assert_string_equal(sig, DEVICE_RECORD_SIGNATURE);
        assert_null(device_property_signatures[DEVICE_N_PROPERTIES]);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_parent_update_diff, setup, fixture_free),
                cmocka_unit_test_setup_teardown(test_const_not_diffed, setup, fixture_free),
                cmocka_unit_test_setup_teardown(test_device_spec_diff, setup, fixture_free),
                cmocka_unit_test(test_device_object_path),
                cmocka_unit_test_teardown(test_listed_startup, fixture_free),
                cmocka_unit_test_setup_teardown(test_device_blocks, setup, fixture_free),
                cmocka_unit_test(test_device_record_signature),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
