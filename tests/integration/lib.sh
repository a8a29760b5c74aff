# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by the integration tests: a private system bus that loads the
# project's own bus policy, the real siovd on a fake sysfs tree, the real
# siovctl, and PASS/FAIL bookkeeping. Sourced, not run.
#
# Expects (set by tests/integration/local.mk, or by hand):
#   SIOVD SIOVCTL FAKE_SYSFS_TOOL TOP_SRCDIR

set -u
: "${SIOVD:?}" "${SIOVCTL:?}" "${FAKE_SYSFS_TOOL:?}" "${TOP_SRCDIR:?}"

it_passed=0
it_failed=0
IT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/siov-it.XXXXXX")
ROOT=$IT_DIR/root
mkdir -p "$ROOT"
SIOVD_PID=
BUS_PID=

it_cleanup() {
        [ -n "$SIOVD_PID" ] && kill -TERM "$SIOVD_PID" 2>/dev/null && wait "$SIOVD_PID" 2>/dev/null
        [ -n "$BUS_PID" ] && kill -TERM "$BUS_PID" 2>/dev/null && wait "$BUS_PID" 2>/dev/null
        if [ "$it_failed" -gt 0 ] && [ -f "$IT_DIR/siovd.log" ]; then
                echo "--- siovd log ---"; tail -n 50 "$IT_DIR/siovd.log"
        fi
        rm -rf "$IT_DIR"
}
trap it_cleanup EXIT

pass() { it_passed=$((it_passed + 1)); echo "PASS: $1"; }
fail() { it_failed=$((it_failed + 1)); echo "FAIL: $1${2:+: $2}"; }

# check NAME CMD... : CMD must succeed
check() {
        local name=$1; shift
        local out
        if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "$(echo "$out" | tail -n 3 | tr '\n' ' ')"; fi
}
# check_fails NAME CMD... : CMD must fail
check_fails() {
        local name=$1; shift
        if "$@" >/dev/null 2>&1; then fail "$name" "succeeded but should have failed"; else pass "$name"; fi
}
# check_eq NAME EXPECTED ACTUAL
check_eq() {
        if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected '$2', got '$3'"; fi
}

it_summary() {
        echo "$it_passed passed, $it_failed failed"
        [ "$it_failed" -eq 0 ] && [ "$it_passed" -gt 0 ]
}

# Starts a private system bus whose policy is the project's org.siov1.conf
# on top of the same default-deny policy as Debian's system.conf; more bus
# policy files to include may be given. IT_MAX_MESSAGE_SIZE, when set, is
# the bus's max_message_size.
it_bus_start() {
        "$TOP_SRCDIR/tests/integration/bus-conf" "$IT_DIR/system_bus_socket" "$@" > "$IT_DIR/bus.conf"
        [ -n "${IT_MAX_MESSAGE_SIZE:-}" ] && sed -i \
                "s|</busconfig>|  <limit name=\"max_message_size\">$IT_MAX_MESSAGE_SIZE</limit>\n</busconfig>|" \
                "$IT_DIR/bus.conf"
        dbus-daemon --config-file="$IT_DIR/bus.conf" --nofork --nopidfile --print-address=3 \
                3>"$IT_DIR/bus.address" 2>>"$IT_DIR/bus.log" &
        BUS_PID=$!
        for _ in $(seq 100); do
                [ -s "$IT_DIR/bus.address" ] && break
                sleep 0.05
        done
        [ -s "$IT_DIR/bus.address" ] || { fail "private bus starts"; return 1; }
        ADDR=unix:path=$IT_DIR/system_bus_socket
        export DBUS_SYSTEM_BUS_ADDRESS=$ADDR
}

# Waits until org.siov1 has an owner (or siovd died).
it_wait_siovd() {
        for _ in $(seq 200); do
                busctl --address="$ADDR" status org.siov1 >/dev/null 2>&1 && return 0
                [ -n "$SIOVD_PID" ] && ! kill -0 "$SIOVD_PID" 2>/dev/null && break
                sleep 0.05
        done
        fail "siovd owns org.siov1" "$(tail -n 5 "$IT_DIR/siovd.log" 2>/dev/null | tr '\n' ' ')"
        return 1
}

it_siovd_start() {
        "$SIOVD" --sysfs-root="$ROOT" "$@" >>"$IT_DIR/siovd.log" 2>&1 &
        SIOVD_PID=$!
        it_wait_siovd
}

# Stops siovd with SIGTERM and checks it exits cleanly.
it_siovd_stop() {
        local rc=0
        [ -n "$SIOVD_PID" ] || return 0
        kill -TERM "$SIOVD_PID"
        wait "$SIOVD_PID" || rc=$?
        SIOVD_PID=
        return $rc
}

fake() { "$FAKE_SYSFS_TOOL" "$ROOT" "$@"; }

# The object path sd_bus_path_encode() gives: every byte but [A-Za-z0-9],
# and a leading digit, as _xx.
dbus_path() {
        local prefix=$1 s=$2 out= c i
        for ((i = 0; i < ${#s}; i++)); do
                c=${s:i:1}
                if [[ $c =~ [A-Za-z0-9] ]] && ! { [ $i -eq 0 ] && [[ $c =~ [0-9] ]]; }; then
                        out+=$c
                else
                        out+=$(printf '_%02x' "'$c")
                fi
        done
        echo "$prefix/$out"
}
siovctl() { "$SIOVCTL" --address="$ADDR" "$@"; }
bus() { busctl --address="$ADDR" "$@"; }
