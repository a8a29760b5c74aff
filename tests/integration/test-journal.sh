#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# State changes as structured journal records: siovd runs as under systemd
# ($JOURNAL_STREAM set) with a journal socket of our own at
# /run/systemd/journal/socket (a tmpfs in a private mount namespace; root
# needed), and each create, destroy and refusal must arrive there with the
# fields an operator filters on: SIOV_EVENT, SIOV_DEVICE, SIOV_PARENT,
# SIOV_TYPE, plus MESSAGE and PRIORITY.
if [ -z "${SIOV_JOURNAL_NS:-}" ]; then
        command -v unshare >/dev/null || { echo "FAIL: unshare(1) missing (apt-get install util-linux)"; exit 1; }
        [ "$(id -u)" -eq 0 ] || { echo "FAIL: needs root for a private mount namespace"; exit 1; }
        exec env SIOV_JOURNAL_NS=1 unshare --mount --propagation private -- "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

FAKE_KERNEL=$TOP_BUILDDIR/tests/common/.libs/fake-kernel.so
[ -f "$FAKE_KERNEL" ] || { fail "fake kernel built" "$FAKE_KERNEL missing"; it_summary; exit 1; }
export SIOV_DEFINITIONS_DIR=$IT_DIR/defs

# Our own journal: every datagram siovd sends, one record after another.
mkdir -p /run/systemd && mount -t tmpfs tmpfs /run/systemd && mkdir /run/systemd/journal ||
        { fail "private /run/systemd/journal"; it_summary; exit 1; }
python3 - "$IT_DIR/journal" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/run/systemd/journal/socket")
with open(sys.argv[1], "ab", buffering=0) as f:
    while True:
        f.write(s.recv(1 << 20) + b"\n--\n")
PY
JOURNAL_PID=$!
trap 'kill $JOURNAL_PID 2>/dev/null; it_cleanup' EXIT
for _ in $(seq 50); do [ -S /run/systemd/journal/socket ] && break; sleep 0.1; done

# record FIELD=VALUE...: the first record holding all of them
record() {
        python3 - "$IT_DIR/journal" "$@" <<'PY'
import sys
want = sys.argv[2:]
for rec in open(sys.argv[1], "rb").read().decode(errors="replace").split("\n--\n"):
    fields = rec.split("\n")
    if all(w in fields for w in want):
        print(rec)
        sys.exit(0)
sys.exit(1)
PY
}

fake init
fake add-siov-parent siov0 --total 1 --free 1 --swq-slots 4

it_bus_start || { it_summary; exit 1; }
JOURNAL_STREAM=8:12345 LD_PRELOAD=$FAKE_KERNEL SIOV_FAKE_KERNEL_ROOT=$ROOT it_siovd_start || { it_summary; exit 1; }

U=$(siovctl create --type idxd-1dwq --parent siov0 2>/dev/null)
check "create" test -n "$U"
check "created: a record with the device's fields" \
        record SIOV_EVENT=created "SIOV_DEVICE=$U" SIOV_PARENT=siov0 SIOV_TYPE=idxd-1dwq PRIORITY=6
check "created: MESSAGE says it" bash -c 'grep -q "^MESSAGE=Created idxd-1dwq $1 on siov0" <<<"$2"' _ "$U" \
        "$(record SIOV_EVENT=created "SIOV_DEVICE=$U")"

out=$(siovctl create --type idxd-1dwq --parent siov0 2>&1); rc=$?
check_eq "second create: NoCapacity" 6 $rc
check "refused: a record with the reason" \
        record SIOV_EVENT=refused SIOV_PARENT=siov0 SIOV_TYPE=idxd-1dwq PRIORITY=5
check "refused: MESSAGE names siovd's reason" bash -c 'grep -q "^MESSAGE=Refused to create a device: parent siov0 has 0 available" <<<"$1"' _ \
        "$(record SIOV_EVENT=refused SIOV_PARENT=siov0)"

check "destroy" siovctl destroy "$U"
check "destroyed: a record with the device's fields" \
        record SIOV_EVENT=destroyed "SIOV_DEVICE=$U" SIOV_PARENT=siov0 SIOV_TYPE=idxd-1dwq
check_fails "no record for a device that never existed" record SIOV_DEVICE=00000000-0000-4000-8000-000000000000

# The records went to the journal, not (also) to stderr.
check_fails "no 'Created' line on stderr" grep -q "Created idxd-1dwq" "$IT_DIR/siovd.log"
check "other lines carry their priority for the journal" grep -q "^<6>" "$IT_DIR/siovd.log"

it_summary
