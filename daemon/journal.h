/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "siov-macro.h"

/*
 * State changes as structured journal records (systemd's log_struct(),
 * bolt's BOLT_DEVICE_UID=): under systemd ($JOURNAL_STREAM set) the record
 * carries fields an operator can filter on,
 *
 *     journalctl SIOV_DEVICE=<uuid>       journalctl SIOV_EVENT=refused
 *     journalctl SIOV_PARENT=siov0        journalctl SIOV_VM=vm1
 *
 * plus SIOV_TYPE, MESSAGE and PRIORITY; elsewhere it is the same line as
 * any other log line. Fields that are NULL or "" are left out.
 */
typedef struct DeviceEvent {
        const char *event;      /* created, defined, destroyed, assigned, unassigned, started, refused */
        const char *device;     /* uuid */
        const char *parent;
        const char *type;
        const char *vm;
} DeviceEvent;

void log_device_event(int level, const DeviceEvent *e, const char *format, ...) _printf_(3, 4);
/* A refused request (SIOV_EVENT=refused): what was asked, and why not. */
void log_device_refused(const DeviceEvent *e, const char *what, const char *reason);
