/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Errors for people (stderr, one line, "siovctl: " prefix) and exit codes
 * for scripts. */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "siovctl.h"

_printf_(1, 0) static void log_printv(const char *fmt, va_list ap) {
        fputs(PROGRAM ": ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
}

int log_error_errno(int r, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        log_printv(fmt, ap);
        va_end(ap);
        return r < 0 ? r : -r;
}

int exit_code_from_errno(int r) {
        if (r >= 0)
                return EXIT_SIOVCTL_OK;
        switch (-r) {
        case ERRNO_USAGE:
                return EXIT_SIOVCTL_USAGE;
        case ERRNO_UNREACHABLE:
                return EXIT_SIOVCTL_UNREACHABLE;
        case ERRNO_NO_SUCH_OBJECT:
                return EXIT_SIOVCTL_NO_SUCH_OBJECT;
        case ERRNO_NOT_AUTHORIZED:
                return EXIT_SIOVCTL_NOT_AUTHORIZED;
        case ERRNO_NO_CAPACITY:
                return EXIT_SIOVCTL_NO_CAPACITY;
        default:
                return EXIT_SIOVCTL_FAILED;
        }
}

void log_info(const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        log_printv(fmt, ap);
        va_end(ap);
}
