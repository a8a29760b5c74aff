# Tests: unit (cmocka), integration (private bus, fake sysfs, umockdev).
# The VM layer (tests/vm) runs from tests/run-all, not from make check.
include $(srcdir)/tests/unit/local.mk
include $(srcdir)/tests/integration/local.mk

# One layer at a time (tests/run-all runs unit under ASan, integration plain).
# An empty list would "pass" by running nothing: refuse it.
check-unit:
	@test -n "$(strip $(UNIT_TESTS))" || { echo "check-unit: no unit tests defined" >&2; exit 1; }
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(UNIT_TESTS)'
check-integration:
	@test -n "$(strip $(INTEGRATION_TESTS))" || { echo "check-integration: no integration tests defined" >&2; exit 1; }
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(INTEGRATION_TESTS)'
.PHONY: check-unit check-integration
include $(srcdir)/tests/fuzz/local.mk
