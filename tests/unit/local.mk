# cmocka unit tests of libsiov, and the fake sysfs builder (tests/common)
# that unit tests, integration tests and the benchmark share.

# Fake sysfs trees in the kernel's layout (C API: tests/common/fake-sysfs.h)
noinst_LTLIBRARIES += tests/common/libfakesysfs.la
tests_common_libfakesysfs_la_SOURCES = \
	tests/common/fake-sysfs.c \
	tests/common/fake-sysfs.h

# ... and the same from shell scripts; "scan" times libsiov on a tree.
check_PROGRAMS += tests/common/fake-sysfs-tool
tests_common_fake_sysfs_tool_SOURCES = tests/common/fake-sysfs-tool.c
tests_common_fake_sysfs_tool_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/common
tests_common_fake_sysfs_tool_LDADD = tests/common/libfakesysfs.la lib/libsiov.la

unit_tests = \
	tests/unit/test-validate \
	tests/unit/test-scan
check_PROGRAMS += $(unit_tests)
TESTS += $(unit_tests)
UNIT_TESTS += $(unit_tests) tests/unit/check-fake-sysfs-tool.sh

# every fake-sysfs-tool command, checked against the kernel's link texts
# and read back through libsiov
dist_check_SCRIPTS += tests/unit/check-fake-sysfs-tool.sh
TESTS += tests/unit/check-fake-sysfs-tool.sh

# test-validate also checks the internal SHA-1, compiled in directly.
tests_unit_test_validate_SOURCES = tests/unit/test-validate.c lib/sha1.c
tests_unit_test_validate_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/common
tests_unit_test_validate_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_validate_LDADD = tests/common/libfakesysfs.la lib/libsiov.la $(CMOCKA_LIBS)

tests_unit_test_scan_SOURCES = tests/unit/test-scan.c
tests_unit_test_scan_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/common
tests_unit_test_scan_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_scan_LDADD = tests/common/libfakesysfs.la lib/libsiov.la $(CMOCKA_LIBS)
