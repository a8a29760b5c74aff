/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "siov-names.h"

/* Every org.siov1.Error.* with its errno, in both directions: a handler may
 * return -ENOSPC and the caller sees org.siov1.Error.NoCapacity. Prefer
 * sd_bus_error_setf() with a message that says what to do next. */
extern const sd_bus_error_map siov_error_map[];

int siov_errors_register(void);
