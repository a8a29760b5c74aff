# Tests: unit (cmocka), integration (private bus, fake sysfs, umockdev).
# The VM layer (tests/vm) runs from tests/run-all, not from make check.
include $(srcdir)/tests/unit/local.mk
include $(srcdir)/tests/integration/local.mk

# One layer at a time (tests/run-all runs unit under ASan, integration plain).
check-unit:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(UNIT_TESTS)'
check-integration:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(INTEGRATION_TESTS)'
.PHONY: check-unit check-integration
