# lib/basic: the helpers libsiov, siovd, siovctl and the tests share
# (macros, allocation, strv, UTF-8, hash map, log, name checks). Not
# installed; linked into each of them.
noinst_LTLIBRARIES += lib/basic/libbasic.la
lib_basic_libbasic_la_SOURCES = \
	lib/basic/siov-macro.h \
	lib/basic/alloc.c \
	lib/basic/alloc.h \
	lib/basic/hashmap.c \
	lib/basic/hashmap.h \
	lib/basic/log.c \
	lib/basic/log.h \
	lib/basic/strv.c \
	lib/basic/strv.h \
	lib/basic/utf8.c \
	lib/basic/utf8.h \
	lib/basic/valid.c \
	lib/basic/valid.h
lib_basic_libbasic_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden

# libsiov: the model, no D-Bus. All of it is libsiov-internal, which the
# unit tests link to reach what the shared library hides (the save fault
# hook); libsiov.so is that with the versioned symbols of lib/libsiov.sym.
# Headers install as <siov/libsiov.h>; the pkg-config file also puts
# $(includedir)/siov on the path, so <libsiov.h> works too.
noinst_LTLIBRARIES += lib/libsiov-internal.la
lib_LTLIBRARIES += lib/libsiov.la
siovincludedir = $(includedir)/siov
siovinclude_HEADERS = lib/libsiov.h lib/siov-names.h
lib_libsiov_internal_la_SOURCES = \
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
	lib/vf-net.c \
	lib/accel.c \
	lib/sysfs-write.c \
	lib/json-strict.c \
	lib/sriov.c \
	lib/sriov-config.c \
	lib/atomic-write.c \
	lib/definition.c \
	lib/definition-store.c \
	lib/mdevctl.c
lib_libsiov_internal_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden $(ACCFG_CFLAGS) $(JSONC_CFLAGS) $(UUID_CFLAGS)
lib_libsiov_internal_la_LIBADD = lib/basic/libbasic.la $(ACCFG_LIBS) $(JSONC_LIBS) $(UUID_LIBS)
lib_libsiov_la_SOURCES =
lib_libsiov_la_LIBADD = lib/libsiov-internal.la
lib_libsiov_la_LDFLAGS = $(AM_LDFLAGS) -version-info $(LIBSIOV_LT_VERSION) \
	-Wl,--version-script=$(top_srcdir)/lib/libsiov.sym
EXTRA_lib_libsiov_la_DEPENDENCIES = lib/libsiov.sym
pkgconfigdir = $(libdir)/pkgconfig
pkgconfig_DATA = lib/libsiov.pc
EXTRA_DIST += lib/libsiov.sym lib/libsiov.pc.in
