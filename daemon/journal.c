/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include "journal.h"
#include "log.h"

static void field(struct iovec *iov, char **bufs, size_t *n, const char *name, const char *value) {
        if (isempty(value) || asprintf(&bufs[*n], "%s=%s", name, value) < 0)
                return;
        iov[*n] = (struct iovec) { .iov_base = bufs[*n], .iov_len = strlen(bufs[*n]) };
        (*n)++;
}

void log_device_event(int level, const DeviceEvent *e, const char *format, ...) {
        _cleanup_free_ char *msg = NULL;
        char priority[2] = { (char) ('0' + (level & 7)), 0 };
        char *bufs[8] = {};
        struct iovec iov[8];
        size_t n = 0;
        va_list ap;
        int r;

        if (level > log_max_level)
                return;
        va_start(ap, format);
        r = vasprintf(&msg, format, ap);
        va_end(ap);
        if (r < 0)
                return (void) log_oom();
        if (!log_to_journal()) {
                log_full(level, "%s", msg);
                return;
        }

        field(iov, bufs, &n, "MESSAGE", msg);
        field(iov, bufs, &n, "PRIORITY", priority);
        field(iov, bufs, &n, "SYSLOG_IDENTIFIER", "siovd");
        field(iov, bufs, &n, "SIOV_EVENT", e->event);
        field(iov, bufs, &n, "SIOV_DEVICE", e->device);
        field(iov, bufs, &n, "SIOV_PARENT", e->parent);
        field(iov, bufs, &n, "SIOV_TYPE", e->type);
        field(iov, bufs, &n, "SIOV_VM", e->vm);
        r = sd_journal_sendv(iov, (int) n);
        if (r < 0)
                /* No journal after all: the line still goes out. */
                log_full(level, "%s", msg);
        for (size_t i = 0; i < n; i++)
                free(bufs[i]);
}

void log_device_refused(const DeviceEvent *e, const char *what, const char *reason) {
        DeviceEvent r = *e;

        r.event = "refused";
        log_device_event(LOG_NOTICE, &r, "Refused to %s: %s", what, strempty(reason));
}
