/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

int log_max_level = LOG_INFO;
static const char *log_program = "siovd";
static LogTarget log_target = LOG_TARGET_AUTO;
static int log_journal = -1;

void log_setup(const char *program, LogTarget target) {
        const char *e = getenv("SIOV_LOG_LEVEL");

        log_program = program;
        log_target = target;
        log_journal = target == LOG_TARGET_AUTO && getenv("JOURNAL_STREAM");
        if (target == LOG_TARGET_AUTO && e && log_level_from_string(e) >= 0)
                log_max_level = log_level_from_string(e);
}

bool log_to_journal(void) {
        if (log_journal < 0)
                log_setup(log_program, log_target);
        return log_journal;
}

int log_level_from_string(const char *s) {
        static const char *const names[] = {
                [LOG_EMERG] = "emerg", [LOG_ALERT] = "alert", [LOG_CRIT] = "crit",
                [LOG_ERR] = "err", [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
                [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
        };
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(s, names[i]))
                        return (int) i;
        if (streq(s, "error"))
                return LOG_ERR;
        if (s[0] >= '0' && s[0] <= '7' && s[1] == 0)
                return s[0] - '0';
        return -EINVAL;
}

int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *format, ...) {
        _cleanup_free_ char *heap = NULL;
        char buf[2048];
        const char *msg = buf;
        va_list ap;
        int saved = errno;

        /* %m in the format refers to `error`, as in systemd. */
        errno = abs(error);
        va_start(ap, format);
        if (vasprintf(&heap, format, ap) >= 0)
                msg = heap;
        else {
                heap = NULL;
                va_end(ap);
                va_start(ap, format);
                errno = abs(error);
                vsnprintf(buf, sizeof(buf), format, ap);
        }
        va_end(ap);

        if (log_to_journal())
                fprintf(stderr, "<%d>%s\n", level, msg);
        else if (log_target == LOG_TARGET_AUTO && log_max_level >= LOG_DEBUG)
                fprintf(stderr, "%s[%s:%d]: %s\n", log_program, file, line, msg);
        else
                fprintf(stderr, "%s: %s\n", log_program, msg);
        errno = saved;
        return -abs(error);
}
