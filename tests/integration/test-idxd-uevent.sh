#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A DSA work-queue change (uevent on the dsa bus) reaches D-Bus clients as
# PropertiesChanged within a second. The checks are in test-idxd-uevent.c;
# this makes the private mount namespace (root needed) and the private bus.
if [ -z "${SIOV_IDXD_NS:-}" ]; then
        [ "$(id -u)" -eq 0 ] || { echo "FAIL: test-idxd-uevent.sh needs root (a private mount namespace)"; exit 1; }
        exec unshare -m --propagation private env SIOV_IDXD_NS=1 "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

it_bus_start || { it_summary; exit 1; }
IDXD_TESTBED=$TOP_SRCDIR/tests/integration/idxd-testbed \
        umockdev-wrapper "${TOP_BUILDDIR:?}/tests/integration/test-idxd-uevent"
