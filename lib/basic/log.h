/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <syslog.h>

#include "siov-macro.h"

/*
 * One log contract for siovd, siovctl and the tests, as systemd's log.h:
 * every log_*_errno(error, ...) returns -abs(error), so that a caller can
 * `return log_error_errno(r, "Cannot frob: %m");`, and %m in the format
 * means `error`, not whatever errno happens to hold.
 *
 * Lines go to stderr as "<program>: <message>". With LOG_TARGET_AUTO
 * (siovd) and $JOURNAL_STREAM set, each line is "<N><message>" instead so
 * the journal records its priority, and $SIOV_LOG_LEVEL sets the level;
 * LOG_TARGET_CONSOLE (siovctl) always prints the plain form.
 */
typedef enum LogTarget {
        LOG_TARGET_AUTO,
        LOG_TARGET_CONSOLE,
} LogTarget;

extern int log_max_level;

void log_setup(const char *program, LogTarget target);
/* True when stderr is the journal (siovd under systemd). */
bool log_to_journal(void);
int log_level_from_string(const char *s);
int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *format, ...) _printf_(6, 7);

#define log_full_errno(level, error, ...)                                           \
        ({                                                                          \
                int _l = (level), _e = (error);                                     \
                (_l <= log_max_level)                                               \
                        ? log_internal(_l, _e, __FILE__, __LINE__, __func__, __VA_ARGS__) \
                        : -abs(_e);                                                 \
        })
#define log_full(level, ...) (void) log_full_errno((level), 0, __VA_ARGS__)

#define log_debug(...)   log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)    log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...)  log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...)   log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(e, ...)   log_full_errno(LOG_DEBUG, e, __VA_ARGS__)
#define log_info_errno(e, ...)    log_full_errno(LOG_INFO, e, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, e, __VA_ARGS__)
#define log_error_errno(e, ...)   log_full_errno(LOG_ERR, e, __VA_ARGS__)
#define log_oom() log_error_errno(ENOMEM, "Out of memory.")
