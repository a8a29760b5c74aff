# siovctl: the CLI; talks to siovd over D-Bus only (sd-bus), JSON via json-c.
# libsiov for the UUID and name checks made before calling siovd.
SIOVCTL_SOURCES = \
	cli/siovctl.h \
	cli/siovctl.c \
	cli/log.c \
	cli/bus.c \
	cli/model.c \
	cli/output.c \
	cli/verbs-read.c \
	cli/verbs-write.c \
	cli/verbs-migration.c \
	cli/verb-monitor.c \
	cli/polkit-agent.c

bin_PROGRAMS += siovctl
siovctl_SOURCES = $(SIOVCTL_SOURCES)
siovctl_CFLAGS = $(AM_CFLAGS) $(SYSTEMD_CFLAGS) $(JSONC_CFLAGS)
siovctl_LDADD = lib/libsiov.la $(SYSTEMD_LIBS) $(JSONC_LIBS)

# Unit tests of parsing, sorting, JSON, tables, the command line, monitor
# lines and import results (no bus needed). All of siovctl but its main().
check_PROGRAMS += cli/test-siovctl
TESTS += cli/test-siovctl
UNIT_TESTS += cli/test-siovctl
cli_test_siovctl_SOURCES = \
	cli/test-siovctl.c \
	$(SIOVCTL_SOURCES)
cli_test_siovctl_CPPFLAGS = $(AM_CPPFLAGS) -DSIOVCTL_NO_MAIN
cli_test_siovctl_CFLAGS = $(AM_CFLAGS) $(SYSTEMD_CFLAGS) $(JSONC_CFLAGS)
cli_test_siovctl_LDADD = lib/libsiov.la $(SYSTEMD_LIBS) $(JSONC_LIBS)

# siovctl(1) and bash completion (commands, options, live names from siovd).
man1_MANS += cli/siovctl.1
EXTRA_DIST += cli/siovctl.1.scd
CLEANFILES += cli/siovctl.1
dist_bashcompletion_DATA = cli/completion/siovctl
