# Integration tests: a private system bus with the project's policy, the real
# siovd on fake sysfs trees, the real siovctl, umockdev for uevents.
check_PROGRAMS += tests/integration/test-uevent
tests_integration_test_uevent_SOURCES = tests/integration/test-uevent.c tests/integration/uevent-signals.h
tests_integration_test_uevent_CFLAGS = $(AM_CFLAGS) $(SYSTEMD_CFLAGS) $(UMOCKDEV_CFLAGS)
tests_integration_test_uevent_LDADD = $(SYSTEMD_LIBS) $(UMOCKDEV_LIBS)

# Uevent storms (issue 11): 10,000 mdev adds and 1,000 availability
# changes through a sender that checks every send; siovd's uevent count
# and its final answers must match the testbed exactly.
check_PROGRAMS += tests/integration/test-uevent-storm
tests_integration_test_uevent_storm_SOURCES = tests/integration/test-uevent-storm.c \
	tests/integration/uevent-signals.h tests/integration/uevent-send.h
tests_integration_test_uevent_storm_CFLAGS = $(AM_CFLAGS) $(SYSTEMD_CFLAGS) $(UMOCKDEV_CFLAGS)
tests_integration_test_uevent_storm_LDADD = $(SYSTEMD_LIBS) $(UMOCKDEV_LIBS)

# One uevent from a shell test under umockdev-wrapper, through the same
# lossless sender (test-incremental.sh).
check_PROGRAMS += tests/integration/uevent-send-tool
tests_integration_uevent_send_tool_SOURCES = tests/integration/uevent-send-tool.c tests/integration/uevent-send.h

# DSA/IAA work queues (issue 14): the same, on an idxd testbed bound over
# /sys in a private mount namespace (root needed).
check_PROGRAMS += tests/integration/test-idxd-uevent
tests_integration_test_idxd_uevent_SOURCES = tests/integration/test-idxd-uevent.c tests/integration/uevent-signals.h
tests_integration_test_idxd_uevent_CFLAGS = $(AM_CFLAGS) $(SYSTEMD_CFLAGS) $(UMOCKDEV_CFLAGS)
tests_integration_test_idxd_uevent_LDADD = $(SYSTEMD_LIBS) $(UMOCKDEV_LIBS)

INTEGRATION_TESTS += \
	tests/integration/test-journal.sh \
	tests/integration/test-tree.sh \
	tests/integration/test-uevent.sh \
	tests/integration/test-uevent-storm.sh \
	tests/integration/test-incremental.sh \
	tests/integration/test-lifecycle.sh \
	tests/integration/test-definitions.sh \
	tests/integration/test-definitions-random.sh \
	tests/integration/test-sriov.sh \
	tests/integration/test-sriov-net.sh \
	tests/integration/test-hostile.sh \
	tests/integration/test-limits.sh \
	tests/integration/test-migration.sh \
	tests/integration/test-completion.sh \
	tests/integration/test-metrics.sh \
	tests/integration/test-idxd.sh \
	tests/integration/test-idxd-uevent.sh \
	tests/integration/test-slow-kernel.sh
TESTS += $(INTEGRATION_TESTS)
EXTRA_DIST += $(INTEGRATION_TESTS) \
	tests/integration/bus-conf \
	tests/integration/dbus-call \
	tests/integration/tree-reader \
	tests/integration/dbus-size \
	tests/integration/lib.sh \
	tests/integration/idxd-testbed \
	tests/integration/check-introspection.py

AM_TESTS_ENVIRONMENT = \
	export SIOVD='$(abs_top_builddir)/siovd'; \
	export SIOVCTL='$(abs_top_builddir)/siovctl'; \
	export FAKE_SYSFS_TOOL='$(abs_top_builddir)/tests/common/fake-sysfs-tool'; \
	export TOP_SRCDIR='$(abs_top_srcdir)'; \
	export TOP_BUILDDIR='$(abs_top_builddir)'; \
	export UMOCKDEV_PRELOAD='$(UMOCKDEV_PRELOAD)';

# Authorization (issue 6): daemon/polkit.c against Debian's real polkitd
# (test-polkit-helper.sh), siovd called by an unprivileged user
# (test-auth.sh). polkit-lib.sh runs them in a private mount namespace
# (root needed).
check_PROGRAMS += tests/integration/test-polkit-helper
tests_integration_test_polkit_helper_SOURCES = tests/integration/test-polkit-helper.c
tests_integration_test_polkit_helper_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/daemon
tests_integration_test_polkit_helper_CFLAGS = $(AM_CFLAGS) $(SYSTEMD_CFLAGS)
tests_integration_test_polkit_helper_LDADD = daemon/libsiovd-core.la
INTEGRATION_TESTS += \
	tests/integration/test-polkit-helper.sh \
	tests/integration/test-auth.sh
EXTRA_DIST += tests/integration/polkit-lib.sh

# libvirt (issue 5): daemon/vm.c on libvirt's test driver (test-libvirt, one
# process), against a real libvirtd with the qemu driver in a private mount
# namespace (test-libvirtd.sh, root needed), the libvirt hook run the way
# libvirt runs it against a stub siovctl (test-hook.sh), and all of it
# together: siovd + real libvirtd + the hook (test-libvirt-siovd.sh).
if HAVE_LIBVIRT
check_PROGRAMS += tests/integration/test-libvirt
tests_integration_test_libvirt_SOURCES = tests/integration/test-libvirt.c
tests_integration_test_libvirt_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/daemon
tests_integration_test_libvirt_CFLAGS = $(AM_CFLAGS) $(LIBVIRT_CFLAGS) $(LIBXML_CFLAGS)
tests_integration_test_libvirt_LDADD = daemon/libsiovd-core.la $(LIBVIRT_LIBS) $(LIBXML_LIBS)
INTEGRATION_TESTS += \
	tests/integration/test-libvirt.sh \
	tests/integration/test-libvirtd.sh \
	tests/integration/test-libvirt-siovd.sh
endif
INTEGRATION_TESTS += tests/integration/test-hook.sh
EXTRA_DIST += \
	tests/integration/libvirtd-ns.sh \
	tests/integration/hook-stub-siovctl

# siov-device-plugin (issue 17) against a fake kubelet in Python.
if ENABLE_DEVICE_PLUGIN
INTEGRATION_TESTS += tests/integration/test-device-plugin.sh
endif
EXTRA_DIST += tests/integration/test-device-plugin.py tests/common/fake_kubelet.py

# The Cockpit page (issue 15) in headless Chromium against a real cockpit-ws,
# siovd on this bus and polkitd (root needed: polkit-lib.sh).
INTEGRATION_TESTS += tests/integration/test-cockpit.sh
EXTRA_DIST += tests/integration/browser-driver.py tests/integration/fake-libvirt-dbus.py
