# libsiov: the model, no D-Bus. Versioned symbols via lib/libsiov.sym.
lib_LTLIBRARIES += lib/libsiov.la
include_HEADERS = lib/libsiov.h lib/siov-names.h
noinst_HEADERS = lib/siov-macro.h
lib_libsiov_la_SOURCES = \
	lib/libsiov.h \
	lib/siov-names.h \
	lib/siov-private.h \
	lib/ctx.c \
	lib/scan.c \
	lib/parent.c \
	lib/mdev.c \
	lib/validate.c \
	lib/migration.c \
	lib/util.c \
	lib/sha1.c \
	lib/accel.c \
	lib/sysfs-write.c \
	lib/json-strict.c \
	lib/sriov.c \
	lib/sriov-config.c \
	lib/atomic-write.c \
	lib/definition.c \
	lib/definition-store.c \
	lib/mdevctl.c
lib_libsiov_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden $(ACCFG_CFLAGS) $(JSONC_CFLAGS)
lib_libsiov_la_LIBADD = $(ACCFG_LIBS) $(JSONC_LIBS)
lib_libsiov_la_LDFLAGS = $(AM_LDFLAGS) -version-info $(LIBSIOV_LT_VERSION) \
	-Wl,--version-script=$(top_srcdir)/lib/libsiov.sym
EXTRA_lib_libsiov_la_DEPENDENCIES = lib/libsiov.sym
pkgconfigdir = $(libdir)/pkgconfig
pkgconfig_DATA = lib/libsiov.pc
EXTRA_DIST += lib/libsiov.sym lib/libsiov.pc.in
