/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Names checked by more than one of libsiov, siovd and siovctl. */

#include <stdbool.h>

#define VM_NAME_MAX 255
/* What every refusal of a VM name says (org.siov1.Error.InvalidArgument). */
#define VM_NAME_INVALID_MESSAGE \
        "invalid VM name: it must be 1 to 255 bytes of UTF-8 without control characters or '/'"

/* A libvirt domain name as siovd accepts it: 1..VM_NAME_MAX bytes of
 * UTF-8, no control characters (C0, DEL, C1) since it ends up in log
 * lines and messages, and no '/' since it ends up in paths (libvirt keeps
 * <name>.xml files). */
bool vm_name_is_valid(const char *s);
