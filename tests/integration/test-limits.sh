#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The bus is siovd's life (issue 11): no reply larger than the bus accepts,
# and a lost bus connection ends siovd with an error, for the service
# manager to restart it.
#   1. With the bus's max_message_size just below the size of the real
#      GetManagedObjects (resp. ListDevices) answer, and siovd told that
#      limit, the call gets org.siov1.Error.LimitsExceeded naming the way
#      to page, and siovd stays on the bus; the paged calls work.
#   2. Told a larger limit than the bus's, siovd sends the big reply, the
#      bus drops its connection, and siovd exits non-zero with a log line.
#   3. The bus going away (dbus-daemon killed) does the same.
. "$(dirname "$0")/lib.sh"

SIZE=$TOP_SRCDIR/tests/integration/dbus-size
export SIOV_DEFINITIONS_DIR=$IT_DIR/defs
fake bench --parents 4 --mdevs-per-parent 100 --pfs 1 --vfs 4 >/dev/null
P=$(ls "$ROOT/sys/class/mdev_bus" | sort | head -n 1)

# The real sizes, with the bus's default limit.
it_bus_start || { it_summary; exit 1; }
it_siovd_start || { it_summary; exit 1; }
# The devices have their own ObjectManager; the root's holds parents and
# types only.
GMO=$("$SIZE" "$ADDR" /org/siov1/device org.freedesktop.DBus.ObjectManager GetManagedObjects)
ROOT_GMO=$("$SIZE" "$ADDR" /org/siov1 org.freedesktop.DBus.ObjectManager GetManagedObjects)
LIST=$("$SIZE" "$ADDR" /org/siov1 org.siov1.Manager ListDevices '(ss)' '' '')
LIST_P=$("$SIZE" "$ADDR" /org/siov1 org.siov1.Manager ListDevices '(ss)' "$P" '')
echo "GetManagedObjects: $GMO bytes (devices), $ROOT_GMO bytes (root); ListDevices: $LIST bytes ($LIST_P for $P)"
[[ $GMO =~ ^[0-9]+$ && $GMO -gt 100000 ]] && pass "GetManagedObjects answers a 400-device tree" \
        || fail "GetManagedObjects answers a 400-device tree" "$GMO"
[[ $ROOT_GMO =~ ^[0-9]+$ && $ROOT_GMO -le $((404 * 150)) ]] && pass "the root's GetManagedObjects carries <= 150 bytes per device ($ROOT_GMO for 404)" \
        || fail "the root's GetManagedObjects carries <= 150 bytes per device" "$ROOT_GMO"
it_siovd_stop
kill "$BUS_PID"; wait "$BUS_PID" 2>/dev/null; BUS_PID=

# 1. A bus that cannot take that answer (what siovd sends lacks the sender
# field the bus adds, so a little below), and siovd told a limit 1 byte
# below it: its estimate must not be below the real size.
IT_MAX_MESSAGE_SIZE=$((GMO - 256)) it_bus_start || { it_summary; exit 1; }
it_siovd_start --max-reply-size=$((GMO - 1)) || { it_summary; exit 1; }
out=$("$SIZE" "$ADDR" /org/siov1/device org.freedesktop.DBus.ObjectManager GetManagedObjects)
case $out in
ERROR\ org.siov1.Error.LimitsExceeded:*ListDevices*--parent*) pass "an over-limit GetManagedObjects is LimitsExceeded with the way to page" ;;
*) fail "an over-limit GetManagedObjects is LimitsExceeded with the way to page" "$out" ;;
esac
check "siovd still owns org.siov1 after the refusal" bus status org.siov1
check "the root's GetManagedObjects (parents, types) still answers" \
        "$SIZE" "$ADDR" /org/siov1 org.freedesktop.DBus.ObjectManager GetManagedObjects
# types, parents and status use the compact calls: they work on a tree
# whose GetManagedObjects answer the bus cannot carry.
check "siovctl types works without GetManagedObjects" siovctl types
check "siovctl parents works without GetManagedObjects" siovctl parents
check_eq "siovctl status counts every device" "404 404 400 4" \
        "$(siovctl --json status | jq -r '[.devices, .devices_by_state.active, .devices_by_kind.mdev, .devices_by_kind.vf] | join(" ")')"
check_eq "siovctl types lists every type (4 parents x 2, 1 PF x vf)" 9 "$(siovctl --json types | jq length)"
check "siovd is still running" kill -0 "$SIOVD_PID"
out=$("$SIZE" "$ADDR" /org/siov1 org.siov1.Manager ListDevices '(ss)' "$P" '')
check_eq "the paged read (one parent) answers" "$LIST_P" "$out"
n=$(siovctl list --parent "$P" --json | jq length)
check_eq "siovctl list --parent $P shows its 100 devices" 100 "$n"
it_siovd_stop || fail "siovd exits cleanly on SIGTERM after a refusal"

# ListDevices without a filter, with a limit just below its answer.
it_siovd_start --max-reply-size=$((LIST - 1)) || { it_summary; exit 1; }
out=$("$SIZE" "$ADDR" /org/siov1 org.siov1.Manager ListDevices '(ss)' '' '')
case $out in
ERROR\ org.siov1.Error.LimitsExceeded:*ListDevices\(parent*) pass "an over-limit ListDevices is LimitsExceeded naming the per-parent call" ;;
*) fail "an over-limit ListDevices is LimitsExceeded naming the per-parent call" "$out" ;;
esac
out=$("$SIZE" "$ADDR" /org/siov1 org.siov1.Manager ListDevices '(ss)' "$P" '')
check_eq "ListDevices of one parent still answers" "$LIST_P" "$out"
check_eq "siovctl list pages by parent when one answer is too big: every device" 404 \
        "$(siovctl --json list | jq length)"
check_eq "... and filters by type there" 200 "$(siovctl --json list --type idxd-1dwq | jq length)"
it_siovd_stop

# 2. siovd told more than the bus takes: the bus drops it, siovd exits.
it_siovd_start --max-reply-size=$((GMO * 2)) || { it_summary; exit 1; }
"$SIZE" "$ADDR" /org/siov1/device org.freedesktop.DBus.ObjectManager GetManagedObjects >/dev/null 2>&1
rc=0
for _ in $(seq 100); do kill -0 "$SIOVD_PID" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$SIOVD_PID" 2>/dev/null; then
        fail "siovd exits when the bus drops its connection" "still running"
        it_siovd_stop
else
        wait "$SIOVD_PID"; rc=$?; SIOVD_PID=
        [ "$rc" -ne 0 ] && pass "siovd exits non-zero when the bus drops it (exit $rc)" \
                || fail "siovd exits non-zero when the bus drops it" "exit 0"
fi
check "siovd logs the lost connection" grep -q "Lost the connection to the bus" "$IT_DIR/siovd.log"

# 3. The bus goes away.
: > "$IT_DIR/siovd.log"
it_siovd_start || { it_summary; exit 1; }
kill -KILL "$BUS_PID"; wait "$BUS_PID" 2>/dev/null; BUS_PID=
for _ in $(seq 100); do kill -0 "$SIOVD_PID" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$SIOVD_PID" 2>/dev/null; then
        fail "siovd exits when dbus-daemon is killed" "still running"
else
        wait "$SIOVD_PID"; rc=$?; SIOVD_PID=
        [ "$rc" -ne 0 ] && pass "siovd exits non-zero when dbus-daemon is killed (exit $rc)" \
                || fail "siovd exits non-zero when dbus-daemon is killed" "exit 0"
fi
check "siovd logs the lost bus" grep -q "Lost the connection to the bus" "$IT_DIR/siovd.log"

it_summary
