/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "manager.h"
#include "siov-names.h"

/* Every org.siov1.Error.* with its errno: sd_bus_error_setf() returns it
 * and clients read it back with sd_bus_error_get_errno(). sd-bus never
 * turns a bare -errno into one of these names, so every handler sets a
 * named error with a message that says what to do next. */
extern const sd_bus_error_map siov_error_map[];

int siov_errors_register(void);

/* The messages built from siovd's state, each in one place. */

/* "a, b, c" of up to 12 names, sorted (names is sorted in place), without
 * repeats, ", ..." after the 12th; "none" when there are none. NULL: out
 * of memory. */
char *siov_names_join(const char **names, size_t n);

/* error_name (NoSuchParent, NoSuchType) "no such <what> '<wanted>'", with
 * the name in the right case when only the case is wrong, else the known
 * names. */
int siov_error_no_such(sd_bus_error *error, const char *error_name, const char *what, const char *wanted,
                       const char **known, size_t n_known);

/* NoCapacity: "parent P has N available T instances: " and what holds the
 * pool (mdevs by type, host netdevs and work queues, free), so that the
 * caller knows what to free. */
/* siov_error_no_such() for a parent, the known ones being siovd's. */
int siov_error_no_such_parent(Manager *m, const char *parent, sd_bus_error *error);

int siov_error_no_capacity(Manager *m, Parent *p, const char *type, sd_bus_error *error);
