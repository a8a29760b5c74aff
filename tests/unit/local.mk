# cmocka unit tests of libsiov, and the fake sysfs builder and fake kernel
# (tests/common) that unit tests, integration tests and the benchmark share.

# Fake sysfs trees in the kernel's layout (C API: tests/common/fake-sysfs.h)
# and the fake kernel's answers to writes (tests/common/fake-kernel.h)
noinst_LTLIBRARIES += tests/common/libfakesysfs.la
tests_common_libfakesysfs_la_SOURCES = \
	tests/common/fake-sysfs.c \
	tests/common/fake-sysfs.h \
	tests/common/fake-kernel-core.c \
	tests/common/fake-kernel.h

# The fake kernel as an LD_PRELOAD object for whole processes (siovd under
# test): tests/common/.libs/fake-kernel.so. Built without sanitizers so that
# it loads into any program (see the top of tests/common/fake-kernel.c).
check_LTLIBRARIES = tests/common/fake-kernel.la
tests_common_fake_kernel_la_SOURCES = \
	tests/common/fake-kernel.c \
	tests/common/fake-kernel-core.c \
	tests/common/fake-kernel.h \
	tests/common/fake-sysfs.c \
	tests/common/fake-sysfs.h
tests_common_fake_kernel_la_CFLAGS = -std=gnu11 $(WARN_CFLAGS) -pthread
tests_common_fake_kernel_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere -pthread
tests_common_fake_kernel_la_LIBADD = -ldl

# ... and the same from shell scripts; "scan" times libsiov on a tree,
# "kernel-write" writes through the fake kernel.
check_PROGRAMS += tests/common/fake-sysfs-tool
tests_common_fake_sysfs_tool_SOURCES = tests/common/fake-sysfs-tool.c
tests_common_fake_sysfs_tool_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/common
tests_common_fake_sysfs_tool_LDADD = tests/common/libfakesysfs.la lib/libsiov.la

unit_tests = \
	tests/unit/test-basic \
	tests/unit/test-siovctl \
	tests/unit/test-daemon-objects \
	tests/unit/test-daemon-lifecycle \
	tests/unit/test-hashmap \
	tests/unit/test-validate \
	tests/unit/test-scan \
	tests/unit/test-definition \
	tests/unit/test-sysfs-write \
	tests/unit/test-sriov
if HAVE_LIBNL
unit_tests += tests/unit/test-sriov-net
endif
unit_scripts = \
	tests/unit/check-symbols.sh \
	tests/unit/check-fake-sysfs-tool.sh \
	tests/unit/check-fake-kernel.sh \
	tests/unit/check-man.sh
check_PROGRAMS += $(unit_tests)
TESTS += $(unit_tests) $(unit_scripts)
UNIT_TESTS += $(unit_tests) $(unit_scripts)

# check-fake-sysfs-tool.sh: every fake-sysfs-tool command, checked against
# the kernel's link texts and read back through libsiov.
# check-fake-kernel.sh: the fake kernel through kernel-write and through
# LD_PRELOAD into a shell, across processes.
# check-man.sh: the man pages render, and name every siovctl command and
# option, siovd option and D-Bus member, error and polkit action.
dist_check_SCRIPTS += $(unit_scripts)

# lib/basic: the helpers every component links.
tests_unit_test_basic_SOURCES = tests/unit/test-basic.c
tests_unit_test_basic_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_basic_LDADD = lib/basic/libbasic.la $(CMOCKA_LIBS)
tests_unit_test_hashmap_SOURCES = tests/unit/test-hashmap.c
tests_unit_test_hashmap_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_hashmap_LDADD = lib/basic/libbasic.la $(CMOCKA_LIBS)

# siovctl's pieces that need no bus (parsing, sorting, JSON, tables, the
# command line, exit codes, monitor lines), linked from libsiovctl-core.
tests_unit_test_siovctl_SOURCES = tests/unit/test-siovctl.c
tests_unit_test_siovctl_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cli
tests_unit_test_siovctl_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(SYSTEMD_CFLAGS) $(JSONC_CFLAGS)
tests_unit_test_siovctl_LDADD = cli/libsiovctl-core.la $(CMOCKA_LIBS)

# siovd's core without a bus (libsiovd-core): property tables and diffs,
# type resolution, the error map and the messages built from state.
DAEMON_TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(SYSTEMD_CFLAGS) $(JSONC_CFLAGS)
DAEMON_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/daemon -I$(top_srcdir)/tests/common
DAEMON_TEST_LDADD = daemon/libsiovd-core.la tests/common/libfakesysfs.la $(CMOCKA_LIBS)
tests_unit_test_daemon_objects_SOURCES = tests/unit/test-daemon-objects.c tests/unit/daemon-fixture.h
tests_unit_test_daemon_objects_CPPFLAGS = $(DAEMON_TEST_CPPFLAGS)
tests_unit_test_daemon_objects_CFLAGS = $(DAEMON_TEST_CFLAGS)
tests_unit_test_daemon_objects_LDADD = $(DAEMON_TEST_LDADD)
tests_unit_test_daemon_lifecycle_SOURCES = tests/unit/test-daemon-lifecycle.c tests/unit/daemon-fixture.h
tests_unit_test_daemon_lifecycle_CPPFLAGS = $(DAEMON_TEST_CPPFLAGS)
tests_unit_test_daemon_lifecycle_CFLAGS = $(DAEMON_TEST_CFLAGS)
tests_unit_test_daemon_lifecycle_LDADD = $(DAEMON_TEST_LDADD)

tests_unit_test_validate_SOURCES = tests/unit/test-validate.c
tests_unit_test_validate_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/common
tests_unit_test_validate_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_validate_LDADD = tests/common/libfakesysfs.la lib/libsiov.la $(CMOCKA_LIBS)

tests_unit_test_scan_SOURCES = tests/unit/test-scan.c
tests_unit_test_scan_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/common
tests_unit_test_scan_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_scan_LDADD = tests/common/libfakesysfs.la lib/libsiov.la $(CMOCKA_LIBS)

# Definitions and mdevctl import, linked from libsiov-internal (not
# libsiov.so) so that the test reaches the hidden fault hook of
# siov_definition_save().
tests_unit_test_definition_SOURCES = tests/unit/test-definition.c
tests_unit_test_definition_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/common
tests_unit_test_definition_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JSONC_CFLAGS)
tests_unit_test_definition_LDADD = tests/common/libfakesysfs.la lib/libsiov-internal.la $(CMOCKA_LIBS)

# sysfs writes through libsiov.so, answered by the fake kernel whose write()
# wrappers are linked into the test binary (they interpose libc's for the
# library too).
tests_unit_test_sysfs_write_SOURCES = \
	tests/unit/test-sysfs-write.c \
	tests/common/fake-kernel.c
tests_unit_test_sysfs_write_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/common
tests_unit_test_sysfs_write_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) -pthread
tests_unit_test_sysfs_write_LDADD = tests/common/libfakesysfs.la lib/libsiov.la $(CMOCKA_LIBS) -ldl
tests_unit_test_sysfs_write_LDFLAGS = $(AM_LDFLAGS) -pthread

# SR-IOV: PF configuration files, autoprobe, NVIDIA vGPU VFs.
tests_unit_test_sriov_SOURCES = tests/unit/test-sriov.c
tests_unit_test_sriov_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/common
tests_unit_test_sriov_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_sriov_LDADD = tests/common/libfakesysfs.la lib/libsiov.la $(CMOCKA_LIBS)

# Network VFs: the settings, "vf_net" in definitions, the rtnetlink
# messages libnl builds and parses, a fake transport, and the kernel's
# answers in a private network namespace (unshare).
tests_unit_test_sriov_net_SOURCES = tests/unit/test-sriov-net.c
tests_unit_test_sriov_net_CPPFLAGS = $(DAEMON_TEST_CPPFLAGS)
tests_unit_test_sriov_net_CFLAGS = $(DAEMON_TEST_CFLAGS) $(LIBNL_CFLAGS)
tests_unit_test_sriov_net_LDADD = $(DAEMON_TEST_LDADD) $(LIBNL_LIBS)
