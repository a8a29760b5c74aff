# D-Bus interface XML (the contract), activation file and systemd unit.
dist_dbusinterface_DATA = \
	dbus/org.siov1.Manager.xml \
	dbus/org.siov1.Parent.xml \
	dbus/org.siov1.Type.xml \
	dbus/org.siov1.Device.xml
dbussystemservice_DATA = dbus/org.siov1.service
systemdsystemunit_DATA = dbus/siovd.service dbus/siovd-provision@.service
EXTRA_DIST += dbus/org.siov1.service.in dbus/siovd.service.in dbus/siovd-provision@.service.in
CLEANFILES += $(dbussystemservice_DATA) $(systemdsystemunit_DATA)

siov_subst = $(SED) \
	-e 's|@sbindir[@]|$(sbindir)|g' \
	-e 's|@bindir[@]|$(bindir)|g' \
	-e 's|@libexecdir[@]|$(libexecdir)|g' \
	-e 's|@definitionsdir[@]|$(definitionsdir)|g' \
	-e 's|@parentsdir[@]|$(parentsdir)|g' \
	-e 's|@systemctl[@]|$(SYSTEMCTL)|g'

dbus/%.service: $(srcdir)/dbus/%.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) dbus && $(siov_subst) $< > $@.tmp && mv $@.tmp $@

# org.siov1(5): the D-Bus API.
man5_MANS += dbus/org.siov1.5
EXTRA_DIST += dbus/org.siov1.5.scd
CLEANFILES += dbus/org.siov1.5

# The definitions and PF configuration folders exist once installed:
# siovd.service opens them with ReadWritePaths= (under ProtectSystem=strict
# siovd cannot create them).
install-data-local: install-definitionsdir
install-definitionsdir:
	$(MKDIR_P) '$(DESTDIR)$(definitionsdir)' '$(DESTDIR)$(parentsdir)'
.PHONY: install-definitionsdir
