# Tests: unit (cmocka), integration (private bus, fake sysfs, umockdev).
# The VM layer (tests/vm) runs from tests/run-all, not from make check.
# Both need the test-only dependencies (configure --enable-tests).
if ENABLE_TESTS
include $(srcdir)/tests/unit/local.mk
include $(srcdir)/tests/integration/local.mk
endif

# One layer at a time (tests/run-all runs unit under ASan, integration plain).
# An empty list would "pass" by running nothing: refuse it.
check-unit:
	@test -n "$(strip $(UNIT_TESTS))" || { echo "check-unit: no unit tests defined" >&2; exit 1; }
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(UNIT_TESTS)'
check-integration:
	@test -n "$(strip $(INTEGRATION_TESTS))" || { echo "check-integration: no integration tests defined" >&2; exit 1; }
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(INTEGRATION_TESTS)'
# The integration layer once more with siovd, siovctl and libsiov built
# with ASan + UBSan (configure --enable-sanitizers): every test but
# the umockdev tests (UMOCKDEV_TESTS), whose preload cannot share a process
# with ASan.
# The fake kernel (an LD_PRELOAD object built without sanitizers) loads
# after the ASan runtime, hence verify_asan_link_order=0.
UMOCKDEV_TESTS = tests/integration/test-uevent.sh tests/integration/test-uevent-storm.sh \
	tests/integration/test-incremental.sh \
	tests/integration/test-idxd-uevent.sh
INTEGRATION_ASAN_TESTS = $(filter-out $(UMOCKDEV_TESTS),$(INTEGRATION_TESTS))
check-integration-asan:
	@test -n "$(SANITIZER_CFLAGS)" || { echo "check-integration-asan: configure with --enable-sanitizers" >&2; exit 1; }
	@test -n "$(strip $(INTEGRATION_ASAN_TESTS))" || { echo "check-integration-asan: no tests defined" >&2; exit 1; }
	ASAN_OPTIONS=verify_asan_link_order=0:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		LSAN_OPTIONS=suppressions=$(abs_top_srcdir)/tests/lsan.supp:print_suppressions=0 \
		$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(INTEGRATION_ASAN_TESTS)'
EXTRA_DIST += tests/lsan.supp
.PHONY: check-unit check-integration check-integration-asan
include $(srcdir)/tests/fuzz/local.mk
