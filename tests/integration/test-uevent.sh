#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Uevents under umockdev reach D-Bus clients as signals within a second.
# The checks are in test-uevent.c; this sets up the private bus.
. "$(dirname "$0")/lib.sh"

it_bus_start || { it_summary; exit 1; }
# The test itself runs under the preload too: umockdev resolves the devices
# it sends uevents for through its fake /sys.
umockdev-wrapper "${TOP_BUILDDIR:?}/tests/integration/test-uevent"
