/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* siovctl's exit codes for scripts: one table says which internal errno and
 * which siovd errors select each code, and what --help says about it. */

#include <errno.h>
#include <stdio.h>

#include "siov-names.h"
#include "siovctl.h"

typedef struct ExitStatus {
        int code;
        int errno_value;                /* the internal errno that selects it, 0: none */
        const char *bus_errors[4];      /* errors of siovd's that mean it */
        const char *help;
} ExitStatus;

static const ExitStatus exit_statuses[] = {
        { EXIT_SIOVCTL_OK,             0,                    {},
          "success" },
        { EXIT_SIOVCTL_FAILED,         0,                    {},
          "siovd (or the kernel behind it) reported a failure" },
        { EXIT_SIOVCTL_USAGE,          ERRNO_USAGE,          { SIOV_ERROR_INVALID_ARGUMENT, SD_BUS_ERROR_INVALID_ARGS },
          "usage error: bad command line, or an argument siovd rejects as invalid" },
        { EXIT_SIOVCTL_UNREACHABLE,    ERRNO_UNREACHABLE,    {},
          "the bus cannot be reached, or siovd is not running or not answering" },
        { EXIT_SIOVCTL_NO_SUCH_OBJECT, ERRNO_NO_SUCH_OBJECT, { SIOV_ERROR_NO_SUCH_PARENT, SIOV_ERROR_NO_SUCH_TYPE,
                                                               SIOV_ERROR_NO_SUCH_DEVICE },
          "no such parent, type or device" },
        { EXIT_SIOVCTL_NOT_AUTHORIZED, ERRNO_NOT_AUTHORIZED, {},
          "not authorized" },
        { EXIT_SIOVCTL_NO_CAPACITY,    ERRNO_NO_CAPACITY,    { SIOV_ERROR_NO_CAPACITY },
          "no capacity left for the requested type" },
};

int exit_code_from_errno(int r) {
        if (r >= 0)
                return EXIT_SIOVCTL_OK;
        for (size_t i = 0; i < ELEMENTSOF(exit_statuses); i++)
                if (exit_statuses[i].errno_value == -r)
                        return exit_statuses[i].code;
        return EXIT_SIOVCTL_FAILED;
}

int errno_from_siovd_error(const sd_bus_error *e) {
        for (size_t i = 0; i < ELEMENTSOF(exit_statuses); i++)
                for (size_t j = 0; j < ELEMENTSOF(exit_statuses[i].bus_errors) && exit_statuses[i].bus_errors[j]; j++)
                        if (sd_bus_error_has_name(e, exit_statuses[i].bus_errors[j]))
                                return -exit_statuses[i].errno_value;
        return -EIO;
}

void exit_status_help(FILE *f) {
        fputs("Exit status:\n", f);
        for (size_t i = 0; i < ELEMENTSOF(exit_statuses); i++)
                fprintf(f, "  %d  %s\n", exit_statuses[i].code, exit_statuses[i].help);
}
