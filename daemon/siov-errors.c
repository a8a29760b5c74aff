/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>

#include "siov-errors.h"

const sd_bus_error_map siov_error_map[] = {
        SD_BUS_ERROR_MAP(SIOV_ERROR_NO_SUCH_PARENT,   ENODEV),
        SD_BUS_ERROR_MAP(SIOV_ERROR_NO_SUCH_TYPE,     ENOENT),
        SD_BUS_ERROR_MAP(SIOV_ERROR_NO_SUCH_DEVICE,   ENXIO),
        SD_BUS_ERROR_MAP(SIOV_ERROR_NO_CAPACITY,      ENOSPC),
        SD_BUS_ERROR_MAP(SIOV_ERROR_ALREADY_EXISTS,   EEXIST),
        SD_BUS_ERROR_MAP(SIOV_ERROR_BUSY,             EBUSY),
        SD_BUS_ERROR_MAP(SIOV_ERROR_INVALID_ARGUMENT, EINVAL),
        SD_BUS_ERROR_MAP(SIOV_ERROR_KERNEL_ERROR,     EIO),
        SD_BUS_ERROR_MAP(SIOV_ERROR_NOT_AUTHORIZED,   EACCES),
        SD_BUS_ERROR_MAP(SIOV_ERROR_NOT_AUTHORIZED,   EPERM),
        SD_BUS_ERROR_MAP(SIOV_ERROR_LIMITS_EXCEEDED,  EMSGSIZE),
        SD_BUS_ERROR_MAP(SIOV_ERROR_DEFINITIONS_UNAVAILABLE, EROFS),
        SD_BUS_ERROR_MAP_END
};

int siov_errors_register(void) {
        return sd_bus_error_add_map(siov_error_map);
}
