/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* siovctl's main(): everything else is in libsiovctl-core, which the unit
 * tests link too. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "siovctl.h"

int main(int argc, char *argv[]) {
        Context ctx = {};
        int r;

        log_setup(PROGRAM, LOG_TARGET_CONSOLE);
        r = siovctl_run(argc, argv, &ctx);

        sd_bus_flush_close_unref(ctx.bus);
        free(ctx.bus_description);

        if (fflush(stdout) != 0 || ferror(stdout)) {
                log_error_errno(errno ?: EIO, "cannot write the output: %m");
                if (r >= 0)
                        r = -EIO;
        }

        return exit_code_from_errno(r);
}
