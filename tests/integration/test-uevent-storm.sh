#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Uevent storms end in the exact state, and no uevent is lost unseen: the
# checks are in test-uevent-storm.c; this sets up the private bus.
. "$(dirname "$0")/lib.sh"

it_bus_start || { it_summary; exit 1; }
# The test runs under the preload too: it builds the testbed umockdev's
# preload shows siovd.
umockdev-wrapper "${TOP_BUILDDIR:?}/tests/integration/test-uevent-storm"
