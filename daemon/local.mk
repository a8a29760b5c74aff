# siovd
sbin_PROGRAMS += siovd
siovd_SOURCES = \
	daemon/siovd.c \
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
	daemon/bus-util.c \
	daemon/bus-util.h \
	daemon/hashmap.c \
	daemon/hashmap.h \
	daemon/log.c \
	daemon/log.h \
	daemon/siov-errors.c \
	daemon/siov-errors.h \
	daemon/polkit.c \
	daemon/polkit.h \
	daemon/metrics.c \
	daemon/metrics.h \
	daemon/sysfs-queue.c \
	daemon/sysfs-queue.h
siovd_CFLAGS = $(AM_CFLAGS) -pthread $(SYSTEMD_CFLAGS) $(UDEV_CFLAGS) $(JSONC_CFLAGS)
siovd_LDADD = lib/libsiov.la -lpthread $(SYSTEMD_LIBS) $(UDEV_LIBS) $(JSONC_LIBS)

# libvirt glue (issue 5): assigning devices to VMs, and the libvirt hook.
siovd_SOURCES += daemon/vm.c daemon/vm.h
siovd_CFLAGS += $(LIBVIRT_CFLAGS) $(LIBXML_CFLAGS)
siovd_LDADD += $(LIBVIRT_LIBS) $(LIBXML_LIBS)

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
