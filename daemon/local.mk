# siovd
sbin_PROGRAMS += siovd
siovd_SOURCES = \
	daemon/siovd.c \
	daemon/manager.c \
	daemon/manager.h \
	daemon/manager-dbus.c \
	daemon/parent.c \
	daemon/parent.h \
	daemon/parent-dbus.c \
	daemon/device.c \
	daemon/device.h \
	daemon/device-dbus.c \
	daemon/monitor.c \
	daemon/hashmap.c \
	daemon/hashmap.h \
	daemon/log.c \
	daemon/log.h \
	daemon/siov-errors.c \
	daemon/siov-errors.h
siovd_CFLAGS = $(AM_CFLAGS) $(SYSTEMD_CFLAGS) $(UDEV_CFLAGS) $(JSONC_CFLAGS)
siovd_LDADD = lib/libsiov.la $(SYSTEMD_LIBS) $(UDEV_LIBS) $(JSONC_LIBS)
