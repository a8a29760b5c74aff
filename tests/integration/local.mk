# Integration tests: a private system bus with the project's policy, the real
# siovd on fake sysfs trees, the real siovctl, umockdev for uevents.
check_PROGRAMS += tests/integration/test-uevent
tests_integration_test_uevent_SOURCES = tests/integration/test-uevent.c
tests_integration_test_uevent_CFLAGS = $(AM_CFLAGS) $(SYSTEMD_CFLAGS) $(UMOCKDEV_CFLAGS)
tests_integration_test_uevent_LDADD = $(SYSTEMD_LIBS) $(UMOCKDEV_LIBS)

INTEGRATION_TESTS += \
	tests/integration/test-tree.sh \
	tests/integration/test-uevent.sh
TESTS += $(INTEGRATION_TESTS)
EXTRA_DIST += $(INTEGRATION_TESTS) \
	tests/integration/bus-conf \
	tests/integration/lib.sh \
	tests/integration/check-introspection.py

AM_TESTS_ENVIRONMENT = \
	export SIOVD='$(abs_top_builddir)/siovd'; \
	export SIOVCTL='$(abs_top_builddir)/siovctl'; \
	export FAKE_SYSFS_TOOL='$(abs_top_builddir)/tests/common/fake-sysfs-tool'; \
	export TOP_SRCDIR='$(abs_top_srcdir)'; \
	export TOP_BUILDDIR='$(abs_top_builddir)'; \
	export UMOCKDEV_PRELOAD='$(UMOCKDEV_PRELOAD)';
