#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The libvirt hook (daemon/libvirt-hook.in, as built) run the way libvirt
# runs it: `siovd VM OP SUBOP -` with the domain XML on stdin, against a stub
# siovctl (hook-stub-siovctl) that records its calls and can be told to fail.
. "$(dirname "$0")/lib.sh"

HOOK=${SIOV_HOOK:-$TOP_BUILDDIR/daemon/qemu.d/siovd}
STUB=$TOP_SRCDIR/tests/integration/hook-stub-siovctl
export STUB_DIR=$IT_DIR/stub
export SIOV_HOOK_SIOVCTL=$STUB
export SIOV_SYSFS_ROOT=$IT_DIR/sysroot
mkdir -p "$STUB_DIR" "$SIOV_SYSFS_ROOT/sys/bus/mdev/devices"

[ -x "$HOOK" ] || { fail "hook built" "$HOOK missing (make daemon/qemu.d/siovd)"; it_summary; exit 1; }
command -v jq >/dev/null || { fail "jq installed"; it_summary; exit 1; }
grep -q '@bindir@' "$HOOK" && fail "hook: @bindir@ substituted"
grep -q "^SIOVCTL=.*/siovctl}" "$HOOK" && pass "hook: siovctl path substituted"

A=aaaaaaaa-0000-0000-0000-00000000000a   # vm1, per-VM
B=bbbbbbbb-0000-0000-0000-00000000000b   # vm1, autostart (at boot)
C=cccccccc-0000-0000-0000-00000000000c   # vm1, per-VM, active already
D=dddddddd-0000-0000-0000-00000000000d   # vm2
E=eeeeeeee-0000-0000-0000-00000000000e   # "vm10": a name that starts like vm1
F=ffffffff-0000-0000-0000-00000000000f   # "my vm 'x'"

reset_stub() {
        rm -f "$STUB_DIR"/*
        cat >"$STUB_DIR/devices.json" <<-EOF
	[
	 {"uuid": "$A", "vm": "vm1", "state": "defined", "autostart": false},
	 {"uuid": "$B", "vm": "vm1", "state": "defined", "autostart": true},
	 {"uuid": "$C", "vm": "vm1", "state": "both", "autostart": false},
	 {"uuid": "$D", "vm": "vm2", "state": "defined", "autostart": false},
	 {"uuid": "$E", "vm": "vm10", "state": "defined", "autostart": false},
	 {"uuid": "$F", "vm": "my vm 'x'", "state": "defined", "autostart": false}
	]
	EOF
}
domain_xml() {
        local name=$1
        shift
        printf "<domain type='kvm'>\n  <name>%s</name>\n  <devices>\n" "$name"
        for u in "$@"; do
                printf "    <hostdev mode='subsystem' type='mdev' managed='no' model='vfio-pci'>\n"
                printf "      <source>\n        <address uuid='%s'/>\n      </source>\n    </hostdev>\n" "$u"
        done
        printf "  </devices>\n</domain>\n"
}
# run VM OP SUBOP [UUIDS in the XML…]: runs the hook; sets rc, err, calls, ms
run() {
        local vm=$1 op=$2 sub=$3 t0 t1
        shift 3
        domain_xml "$vm" "$@" >"$IT_DIR/xml"
        t0=$(date +%s%N)
        timeout -k 1 30 "$HOOK" "$vm" "$op" "$sub" - <"$IT_DIR/xml" >"$IT_DIR/out" 2>"$IT_DIR/err"
        rc=$?
        t1=$(date +%s%N)
        ms=$(((t1 - t0) / 1000000))
        err=$(cat "$IT_DIR/err")
        calls=$(cat "$STUB_DIR/calls" 2>/dev/null)
}
state() { jq -r --arg u "$1" '.[] | select(.uuid == $u) | .state' "$STUB_DIR/devices.json"; }
states() { echo "$(state $A) $(state $B) $(state $C) $(state $D) $(state $E) $(state $F)"; }

# --- other operations: nothing, fast ------------------------------------------
reset_stub
for opsub in "start begin" "started begin" "stopped end" "release begin" "prepare end" \
             "migrate begin" "restore begin" "reconnect begin" "attach begin"; do
        run vm1 $opsub "$A"
        check_eq "$opsub: exit 0, no siovctl call, no output" "0||" "$rc|$calls|$err"
done
check "other ops: fast (${ms} ms for the last)" test "$ms" -lt 500
run vm1 "" "" "$A"
check_eq "no arguments at all: exit 0, nothing" "0|" "$rc|$calls"

# --- prepare begin ---------------------------------------------------------------
reset_stub
run vm1 prepare begin
check_eq "prepare, VM without hostdevs: exit 0 without asking siovd" "0|" "$rc|$calls"

reset_stub
run vm1 prepare begin "$A" "$B"
check_eq "prepare: exit 0" "0" "$rc"
check_eq "prepare: lists vm1's defined devices, starts the inactive ones (A, B), nothing else" \
        "--no-ask-password --json=short list --defined --vm vm1
--no-ask-password start $A
--no-ask-password start $B" "$calls"
check_eq "prepare: states (A B C both, other VMs untouched)" "both both both defined defined defined" "$(states)"
check_eq "prepare: silent on success" "" "$err"

: >"$STUB_DIR/calls"
run vm1 prepare begin "$A" "$B"
check_eq "prepare again: all active, only the listing" "0|--no-ask-password --json=short list --defined --vm vm1" "$rc|$calls"

# --- release end -----------------------------------------------------------------
: >"$STUB_DIR/calls"
run vm1 release end "$A" "$B"
check_eq "release: exit 0" "0" "$rc"
check_eq "release: stops the per-VM ones (A, C), keeps the autostart one (B)" \
        "--no-ask-password --json=short list --defined --vm vm1
--no-ask-password stop $A
--no-ask-password stop $C" "$calls"
check_eq "release: states" "defined both defined defined defined defined" "$(states)"

: >"$STUB_DIR/calls"
run vm1 release end "$A"
check_eq "release again: nothing active to stop" "0|--no-ask-password --json=short list --defined --vm vm1" "$rc|$calls"

reset_stub
run vm1 release end
check_eq "release, VM without hostdevs: nothing" "0|" "$rc|$calls"

# --- failures at prepare ------------------------------------------------------------
reset_stub
echo "$B" >"$STUB_DIR/fail-start"
run vm1 prepare begin "$A" "$B"
check_eq "prepare, a start fails: non-zero exit" "1" "$rc"
check "prepare failure: message names device, VM and siovd's reason" \
        grep -q "siovd hook: cannot start device $B for VM 'vm1': siovctl exit status 6: Failed to start $B: parent siov0 has 0 available" "$IT_DIR/err"
check_eq "prepare failure: checks whether B got active meanwhile, stops A (started before) again" \
        "--no-ask-password --json=short list --defined --vm vm1
--no-ask-password start $A
--no-ask-password start $B
--no-ask-password --json=short list --defined --vm vm1
--no-ask-password stop $A" "$calls"
check_eq "prepare failure: states back as before" "defined defined both defined defined defined" "$(states)"

reset_stub
echo "$A" >"$STUB_DIR/already-start"
run vm1 prepare begin "$A" "$B"
check_eq "prepare: a device started meanwhile by someone else is fine" "0|both both" "$rc|$(state $A) $(state $B)"

reset_stub
echo "$A" >"$STUB_DIR/hang-start"
SIOV_HOOK_TIMEOUT=1 run vm1 prepare begin "$A"
check_eq "prepare, siovd does not answer: non-zero exit" "1" "$rc"
check "prepare timeout: says so" grep -q "cannot start device $A for VM 'vm1': no answer from siovd within 1s" "$IT_DIR/err"
check "prepare timeout: gives up instead of waiting for the 300 s stub (${ms} ms)" test "$ms" -lt 60000

reset_stub
touch "$STUB_DIR/unreachable"
run vm1 prepare begin "$A"
check_eq "prepare, siovd unreachable and the VM's mdev missing: non-zero exit" "1" "$rc"
check "unreachable: message" grep -q "cannot start the devices of VM 'vm1' (mdev $A): siovd is not reachable on the system bus" "$IT_DIR/err"
mkdir "$SIOV_SYSFS_ROOT/sys/bus/mdev/devices/$A"
run vm1 prepare begin "$A"
check_eq "prepare, siovd unreachable but the mdev exists: goes on with a warning" "0" "$rc"
check "unreachable, mdev exists: warning" grep -q "warning: cannot ask siovd about VM 'vm1'" "$IT_DIR/err"
rmdir "$SIOV_SYSFS_ROOT/sys/bus/mdev/devices/$A"
run vm1 release end "$A"
check_eq "release, siovd unreachable: non-zero exit (libvirt logs it)" "1" "$rc"
check "release unreachable: message" grep -q "cannot stop the devices of VM 'vm1'" "$IT_DIR/err"

# --- failures at release -------------------------------------------------------------
reset_stub
run vm1 prepare begin "$A"
echo "$A" >"$STUB_DIR/fail-stop"
: >"$STUB_DIR/calls"
run vm1 release end "$A"
check_eq "release, a stop fails: non-zero exit" "1" "$rc"
check "release failure: message" grep -q "cannot stop device $A of VM 'vm1': siovctl exit status 1: Failed to stop $A: device $A is busy" "$IT_DIR/err"
check_eq "release failure: the others are still stopped" "both both defined" "$(state $A) $(state $B) $(state $C)"

reset_stub
run vm1 prepare begin "$A"
echo "$A" >"$STUB_DIR/hang-stop"
: >"$STUB_DIR/calls"
SIOV_HOOK_TIMEOUT=1 run vm1 release end "$A"
check_eq "release, siovd does not answer a stop: non-zero exit" "1" "$rc"
check "release timeout: says so and gives up on the rest" \
        grep -q "cannot stop device $A of VM 'vm1': no answer from siovd within 1s" "$IT_DIR/err"
check_eq "release timeout: only one stop tried" \
        "--no-ask-password --json=short list --defined --vm vm1
--no-ask-password stop $A" "$calls"
check "release timeout: gives up instead of waiting for the 300 s stub (${ms} ms)" test "$ms" -lt 60000

# --- names ---------------------------------------------------------------------------
reset_stub
run "my vm 'x'" prepare begin "$F"
check_eq "a VM name with spaces and quotes reaches siovctl as one argument" \
        "0|--no-ask-password --json=short list --defined --vm my vm 'x'
--no-ask-password start $F|both" "$rc|$calls|$(state $F)"

# --- jq missing ------------------------------------------------------------------------
reset_stub
mkdir -p "$IT_DIR/bin"
for t in bash cat mktemp rm timeout head grep cut date sleep; do ln -sf "$(command -v $t)" "$IT_DIR/bin/$t"; done
domain_xml vm1 "$A" | PATH=$IT_DIR/bin "$HOOK" vm1 prepare begin - >/dev/null 2>"$IT_DIR/err"
rc=$?
check_eq "jq missing: non-zero exit at prepare" "1" "$rc"
check "jq missing: says so" grep -q "jq not found" "$IT_DIR/err"

it_summary
