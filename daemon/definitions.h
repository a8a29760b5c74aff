/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * siovd's side of the definitions store (lib/definition-store.c): which
 * files it loaded or wrote (their stamps live on the devices), which it
 * skipped and why, whether the folder is usable at all (else siovd runs
 * degraded: reads and transient devices only), the inotify watch that
 * notices changes made by hand, and the bus errors of every persistent
 * change.
 */

#include "manager.h"

typedef struct SkippedDefinition {
        char *name;             /* file name in the folder: the key */
        char *path;
        char *reason;
} SkippedDefinition;

typedef struct RefusedChange {
        uint64_t usec;          /* CLOCK_REALTIME */
        char *uuid;
        char *reason;
} RefusedChange;

#define DEFINITIONS_REFUSALS_MAX 32

/* Start-up: checks the folder (degraded when unusable: never fatal),
 * removes the temporary files a crash left, starts the watch. */
void definitions_startup(Manager *m);
void definitions_free(Manager *m);
/* Reads the whole folder again and makes the objects match; a folder that
 * cannot be read leaves what is known as it is (and siovd degraded). */
int definitions_load_all(Manager *m);
/* Reads <uuid>.json again and makes its device match. */
void definitions_reload_one(Manager *m, const char *uuid);

/* Re-checks the folder; 0 when persistent changes can be made, else sets
 * error (DefinitionsUnavailable) and notes the refusal of what for uuid. */
int definitions_check_writable(Manager *m, const char *uuid, sd_bus_error *error);
/* Writes def when its file holds what expected says (NULL: no file); the
 * new stamp in *ret. Every refusal is a named error saying why and is
 * noted for `siovctl status`. */
int definitions_save(Manager *m, const struct siov_definition *def, const siov_definition_stamp *expected,
                     siov_definition_stamp *ret, sd_bus_error *error);
/* Removes <uuid>.json while it holds expected; a file already gone is fine. */
int definitions_delete(Manager *m, const char *uuid, const siov_definition_stamp *expected, sd_bus_error *error);
/* Before a change that cannot be undone (destroying a persistent device):
 * is the folder writable and the file still what siovd wrote? */
int definitions_verify(Manager *m, const char *uuid, const siov_definition_stamp *expected, sd_bus_error *error);
/* Undoes a definition written for a change that then failed; error already
 * holds that failure and gets what could not be undone appended. */
void definitions_rollback(Manager *m, const char *uuid, const siov_definition_stamp *written, sd_bus_error *error);
/* The definition limits checked on a spec before anything is done. */
int definitions_check_limits(Manager *m, const struct siov_definition *def, sd_bus_error *error);

/* "message: more" / "more: message" for a set error, keeping its name:
 * what could not be undone, what was done before the failure. */
int bus_error_append(sd_bus_error *error, const char *fmt, ...) _printf_(2, 3);
int bus_error_prefix(sd_bus_error *error, const char *fmt, ...) _printf_(2, 3);
void definitions_note_refusal(Manager *m, const char *uuid, const char *reason);

/* manager-dbus.c getters */
int definitions_append_skipped(Manager *m, sd_bus_message *reply);
int definitions_append_refusals(Manager *m, sd_bus_message *reply);
