# siovctl: the CLI; talks to siovd over D-Bus only (sd-bus), JSON via json-c.
# libsiov for the UUID and name checks made before calling siovd.
# Everything but main() is libsiovctl-core, which the unit tests link.
noinst_LTLIBRARIES += cli/libsiovctl-core.la
cli_libsiovctl_core_la_SOURCES = \
	cli/siovctl.h \
	cli/siovctl.c \
	cli/exit-status.c \
	cli/bus.c \
	cli/model.c \
	cli/output.c \
	cli/verbs-read.c \
	cli/verbs-write.c \
	cli/verbs-migration.c \
	cli/verb-monitor.c \
	cli/polkit-agent.c
cli_libsiovctl_core_la_CFLAGS = $(AM_CFLAGS) $(SYSTEMD_CFLAGS) $(JSONC_CFLAGS)
cli_libsiovctl_core_la_LIBADD = lib/libsiov.la lib/basic/libbasic.la $(SYSTEMD_LIBS) $(JSONC_LIBS)

bin_PROGRAMS += siovctl
siovctl_SOURCES = cli/main.c
siovctl_CFLAGS = $(AM_CFLAGS) $(SYSTEMD_CFLAGS) $(JSONC_CFLAGS)
siovctl_LDADD = cli/libsiovctl-core.la

# siovctl(1) and bash completion (commands, options, live names from siovd).
man1_MANS += cli/siovctl.1
EXTRA_DIST += cli/siovctl.1.scd
CLEANFILES += cli/siovctl.1
dist_bashcompletion_DATA = cli/completion/siovctl
