# siovd. Everything but main() is libsiovd-core, which the unit tests link.
noinst_LTLIBRARIES += daemon/libsiovd-core.la
daemon_libsiovd_core_la_SOURCES = \
	daemon/manager.c \
	daemon/manager.h \
	daemon/manager-dbus.c \
	daemon/definitions.c \
	daemon/definitions.h \
	daemon/parent.c \
	daemon/parent.h \
	daemon/parent-dbus.c \
	daemon/device.c \
	daemon/device.h \
	daemon/device-dbus.c \
	daemon/monitor.c \
	daemon/lifecycle.c \
	daemon/lifecycle.h \
	daemon/sriov.c \
	daemon/sriov.h \
	daemon/sriov-vf.c \
	daemon/sriov-net.h \
	daemon/bus-util.c \
	daemon/bus-util.h \
	daemon/bus-object.c \
	daemon/bus-object.h \
	daemon/bus-property.c \
	daemon/bus-property.h \
	daemon/journal.c \
	daemon/journal.h \
	daemon/siov-errors.c \
	daemon/siov-errors.h \
	daemon/polkit.c \
	daemon/polkit.h \
	daemon/metrics.c \
	daemon/metrics.h \
	daemon/sysfs-queue.c \
	daemon/sysfs-queue.h \
	daemon/vm-job.c \
	daemon/vm-job.h
daemon_libsiovd_core_la_CFLAGS = $(AM_CFLAGS) -pthread $(SYSTEMD_CFLAGS) $(UDEV_CFLAGS) $(JSONC_CFLAGS)
daemon_libsiovd_core_la_LIBADD = lib/libsiov.la lib/basic/libbasic.la -lpthread $(SYSTEMD_LIBS) $(UDEV_LIBS) $(JSONC_LIBS)

# Network VF settings through libnl-route (configure --without-libnl: refused).
if HAVE_LIBNL
daemon_libsiovd_core_la_SOURCES += daemon/sriov-net.c
daemon_libsiovd_core_la_CFLAGS += $(LIBNL_CFLAGS)
daemon_libsiovd_core_la_LIBADD += $(LIBNL_LIBS)
else
daemon_libsiovd_core_la_SOURCES += daemon/sriov-net-none.c
endif

# libvirt glue (issue 5): assigning devices to VMs, and the libvirt hook.
# Without libvirt (configure --without-libvirt) vm-none.c refuses every VM
# call, saying why.
daemon_libsiovd_core_la_SOURCES += daemon/vm.h
if HAVE_LIBVIRT
daemon_libsiovd_core_la_SOURCES += daemon/vm.c
daemon_libsiovd_core_la_CFLAGS += $(LIBVIRT_CFLAGS) $(LIBXML_CFLAGS)
# libvirt and libxml2 are dlopen()ed on first use (vm.c): only their headers here.
daemon_libsiovd_core_la_LIBADD += -ldl
else
daemon_libsiovd_core_la_SOURCES += daemon/vm-none.c
endif

sbin_PROGRAMS += siovd
siovd_SOURCES = daemon/siovd.c
siovd_CFLAGS = $(AM_CFLAGS) -pthread $(SYSTEMD_CFLAGS)
siovd_LDADD = daemon/libsiovd-core.la -lpthread
siovd_LDADD += $(VM_SANITIZER_LIBS)

# Installed as qemu.d/siovd: libvirt runs every executable in that folder.
libvirthookdir = $(sysconfdir)/libvirt/hooks/qemu.d
libvirthook_SCRIPTS = daemon/qemu.d/siovd
EXTRA_DIST += daemon/libvirt-hook.in
CLEANFILES += daemon/qemu.d/siovd
daemon/qemu.d/siovd: $(srcdir)/daemon/libvirt-hook.in Makefile
	$(AM_V_GEN)$(MKDIR_P) daemon/qemu.d && $(siov_subst) $< > $@.tmp && chmod +x $@.tmp && mv $@.tmp $@

man8_MANS += daemon/siovd.8
EXTRA_DIST += daemon/siovd.8.scd
CLEANFILES += daemon/siovd.8
