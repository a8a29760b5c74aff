/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "hashmap.h"

/*
 * Asynchronous polkit authorization for sd-bus method handlers (see the
 * top of polkit.c for the life of a query). In a handler:
 *
 *         r = siov_polkit_verify(message, SIOV_POLKIT_MANAGE, NULL, &m->polkit_registry, error);
 *         if (r < 0)
 *                 return r;        // error is set: org.siov1.Error.NotAuthorized, …
 *         if (r == 0)
 *                 return 1;        // asked polkit; the call comes back when it answers
 *         // authorized: change things, reply
 *
 * A handler needing several actions calls it once per action, in the same
 * order each time; every action is asked at most once per call. Answers
 * are matched by action and details: derive details from the call only,
 * or each run would ask polkit again. Validate the
 * arguments first (cheap refusals need no polkit round trip), and keep the
 * handler free of side effects before the last verify: it runs once more per
 * action asked. The bus must be attached to an sd-event loop, and the method
 * must carry SD_BUS_VTABLE_UNPRIVILEGED (else sd-bus itself refuses
 * non-root callers before polkit is asked).
 */

/* Marker returned by siov_polkit_action_for() for a method of an org.siov1
 * interface that the table does not know: siov_polkit_verify() refuses it
 * for every caller, root included (deny by default). Never sent to polkit. */
#define SIOV_POLKIT_ACTION_DENY "org.siov1.unlisted-method"

/* The one map from methods to polkit actions. NULL: a read, no
 * authorization (also every member of a non-org.siov1 interface except
 * org.freedesktop.DBus.Properties.Set). SIOV_POLKIT_ACTION_DENY: unknown
 * member of an org.siov1 interface. interface NULL: looked up by member. */
const char *siov_polkit_action_for(const char *interface, const char *member);

/* "create, destroy, start, stop devices" for org.siov1.manage, …; NULL for
 * an action siovd does not define. */
const char *siov_polkit_action_description(const char *action);

/* 1: authorized (root callers without asking polkit). 0: polkit was asked;
 * the handler must return 1, and the call is dispatched again when polkit
 * answers. <0: refused or failed, with error set; -EACCES with
 * org.siov1.Error.NotAuthorized naming the action when polkit says no, when
 * polkit is not on the bus, or when it cannot be asked.
 * details: NULL or key, value, …, NULL (passed to polkit's rules).
 * registry: the caller's table of queries, created on first use. */
int siov_polkit_verify(sd_bus_message *call, const char *action, const char **details,
                       Hashmap **registry, sd_bus_error *error);

/* siov_polkit_verify() with the action of the call's own interface and
 * member from the table: 1 at once for reads. */
int siov_polkit_verify_method(sd_bus_message *call, const char **details, Hashmap **registry,
                              sd_bus_error *error);

/* The caller's effective uid, from a cache by unique name (the bus driver
 * is asked once per sender). */
int siov_polkit_sender_euid(sd_bus_message *call, uid_t *ret);

/* True while the call waits for a polkit answer (its handler returned 1
 * without replying and runs again when polkit answers). */
bool siov_polkit_call_waiting(Hashmap *registry, sd_bus_message *call);

/* Cancels pending queries, drops answers and frees the registry. Returns
 * NULL. */
Hashmap *siov_polkit_registry_free(Hashmap *registry);
