#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# daemon/vm.c on libvirt's test driver (no daemon; in 9.0 it cannot
# attach/detach, so this is the redefine-with-XML path): the suite is the C
# program test-libvirt, run in one process (see test-libvirt.c).
set -u
: "${TOP_BUILDDIR:?}"
exec "${TEST_LIBVIRT:-$TOP_BUILDDIR/tests/integration/test-libvirt}"
