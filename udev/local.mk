# udev rules: boot-time and hotplug provisioning (paths from configure).
udevrules_DATA = udev/70-siov.rules
EXTRA_DIST += udev/70-siov.rules.in
CLEANFILES += udev/70-siov.rules

udev/70-siov.rules: $(srcdir)/udev/70-siov.rules.in Makefile
	$(AM_V_GEN)$(MKDIR_P) udev && $(siov_subst) $< > $@.tmp && mv $@.tmp $@
