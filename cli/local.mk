# siovctl: the CLI; talks to siovd over D-Bus only (sd-bus), JSON via json-c.
bin_PROGRAMS += siovctl
siovctl_SOURCES = \
	cli/siovctl.h \
	cli/siovctl.c \
	cli/log.c \
	cli/bus.c \
	cli/model.c \
	cli/output.c \
	cli/verbs-read.c
siovctl_CFLAGS = $(AM_CFLAGS) $(SYSTEMD_CFLAGS) $(JSONC_CFLAGS)
siovctl_LDADD = $(SYSTEMD_LIBS) $(JSONC_LIBS)

# Unit tests of parsing, sorting, JSON and tables (no bus needed).
check_PROGRAMS += cli/test-siovctl
TESTS += cli/test-siovctl
UNIT_TESTS += cli/test-siovctl
cli_test_siovctl_SOURCES = \
	cli/test-siovctl.c \
	cli/siovctl.h \
	cli/log.c \
	cli/bus.c \
	cli/model.c \
	cli/output.c
cli_test_siovctl_CFLAGS = $(AM_CFLAGS) $(SYSTEMD_CFLAGS) $(JSONC_CFLAGS)
cli_test_siovctl_LDADD = $(SYSTEMD_LIBS) $(JSONC_LIBS)
