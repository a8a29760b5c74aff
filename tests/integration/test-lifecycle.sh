#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Device lifecycle through the real siovd and siovctl on a fake tree whose
# kernel answers are acted out by tests/common/fake-kernel.so (preloaded into
# siovd): create/destroy, short type names and parent choice, NoCapacity
# with the pool's users, kernel errors with context, attribute rollback,
# persistent definitions on disk, start/stop/undefine/modify, races,
# SIGKILL + restart, late parents, mdevctl import, idempotence, monitor.
. "$(dirname "$0")/lib.sh"

FAKE_KERNEL=$TOP_BUILDDIR/tests/common/.libs/fake-kernel.so
[ -f "$FAKE_KERNEL" ] || { fail "fake kernel built" "$FAKE_KERNEL missing"; it_summary; exit 1; }
DEFS=$IT_DIR/defs
export SIOV_DEFINITIONS_DIR=$DEFS

siovd_up() {
        LD_PRELOAD=$FAKE_KERNEL SIOV_FAKE_KERNEL_ROOT=$ROOT it_siovd_start "$@"
}
avail() {       # PARENT TYPE
        siovctl --json types --parent "$1" | jq -r ".[] | select(.id == \"$2\") | .available_instances"
}
state() {       # UUID
        siovctl --json list | jq -r ".[] | select(.uuid == \"$1\") | .state"
}
active_mdevs() {
        ls "$ROOT/sys/bus/mdev/devices" 2>/dev/null | sort | tr '\n' ' '
}

fake init
fake add-siov-parent siov0 --total 8 --free 8 --swq-slots 4
fake add-siov-parent siov1 --total 4 --free 3 --host-netdev 1 --swq-slots 4

it_bus_start || { it_summary; exit 1; }
siovd_up || { it_summary; exit 1; }

# --- create: short names, parent choice, listing ------------------------------
U1=$(siovctl create --type 1dwq 2>"$IT_DIR/err"); rc=$?
check_eq "create --type 1dwq: exit 0" 0 $rc
check "create prints a UUID" bash -c '[[ $1 =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]]' _ "$U1"
check "create without --parent says which parent it chose" grep -q "siov0" "$IT_DIR/err"
check_eq "the most available parent was chosen" "siov0" \
        "$(siovctl --json list | jq -r ".[] | select(.uuid == \"$U1\") | .parent")"
check "the mdev exists in sysfs" test -d "$ROOT/sys/bus/mdev/devices/$U1"
check_eq "availability dropped" "7" "$(avail siov0 idxd-1dwq)"
check_eq "transient: active, not persistent" "active false" \
        "$(siovctl --json list | jq -r ".[] | select(.uuid == \"$U1\") | \"\(.state) \(.persistent)\"")"
check "no definition file for a transient device" bash -c '! ls "$1"/*.json 2>/dev/null' _ "$DEFS"

U2=22222222-0000-4000-8000-000000000002
check_eq "create --parent --uuid prints that UUID" "$U2" \
        "$(siovctl create --type idxd-1swq --parent siov1 --uuid "${U2^^}" 2>/dev/null)"
out=$(siovctl create --type idxd-1swq --parent siov1 --uuid "$U2" 2>&1); rc=$?
check_eq "same UUID again: AlreadyExists (exit 1)" 1 $rc
check "AlreadyExists names the device" grep -q "$U2" <<<"$out"
out=$(siovctl create --type 9zz 2>&1); rc=$?
check_eq "unknown type: exit 4" 4 $rc
check "unknown type: lists the known ones" grep -q "idxd-1dwq" <<<"$out"
out=$(siovctl create --type idxd-1dwq --parent SIOV0 2>&1); rc=$?
check "parent in the wrong case: exit 4 with a hint" bash -c '[ "$2" = 4 ] && grep -q "did you mean .siov0." <<<"$1"' _ "$out" "$rc"

# --- VM names: one check, one message, whatever is wrong with the name -------
for vm in a/b $'bad\x01'; do
        out=$(siovctl assign "$U1" --vm "$vm" 2>&1); rc=$?
        check_eq "assign --vm $(printf %q "$vm"): InvalidArgument (exit 2)" 2 $rc
        check "assign --vm $(printf %q "$vm"): says 'invalid VM name'" grep -q "invalid VM name: .*'/'" <<<"$out"
done
check_eq "refused assigns left no VM on the device" "" \
        "$(siovctl --json list | jq -r ".[] | select(.uuid == \"$U1\") | .vm")"

# --- NoCapacity with what uses the pool ----------------------------------------
for i in 1 2; do siovctl create --type idxd-1dwq --parent siov1 >/dev/null 2>&1; done
out=$(siovctl create --type idxd-1dwq --parent siov1 2>&1); rc=$?
check_eq "pool exhausted: NoCapacity (exit 6)" 6 $rc
check "NoCapacity names parent, type and the pool's users" bash -c '
        grep -q "siov1" <<<"$1" && grep -q "idxd-1dwq" <<<"$1" && grep -q "host netdev" <<<"$1" && grep -q "idxd-1swq" <<<"$1"' _ "$out"
check_eq "nothing left behind by the refused create" "$(ls "$ROOT/sys/bus/mdev/devices" | wc -l)" \
        "$(siovctl --json list | jq '[.[] | select(.kind == "mdev")] | length')"

# --- kernel errors with context; nothing left behind ---------------------------
before=$(active_mdevs)
mkdir -p "$ROOT/fake-kernel" && echo EIO > "$ROOT/fake-kernel/fail-create"
out=$(siovctl create --type idxd-1dwq --parent siov0 --persistent 2>&1); rc=$?
check_eq "kernel error: exit 1" 1 $rc
check "KernelError names the create file, the value and the errno text" bash -c '
        grep -q "mdev_supported_types/idxd-1dwq/create" <<<"$1" && grep -qi "input/output error" <<<"$1" && grep -Eq "[0-9a-f]{8}-" <<<"$1"' _ "$out"
check_eq "kernel error: no device left" "$before" "$(active_mdevs)"
check "kernel error: no definition left" bash -c '! ls "$1"/*.json 2>/dev/null' _ "$DEFS"

out=$(siovctl create --type idxd-1dwq --parent siov0 --attr nosuch=1 2>&1); rc=$?
check_eq "failed attribute: exit 1" 1 $rc
check "failed attribute: the attribute's error, device removed again" bash -c '
        grep -q "nosuch" <<<"$1" && grep -q "removed again" <<<"$1"' _ "$out"
check_eq "failed attribute: no device left" "$before" "$(active_mdevs)"

# --- persistent definitions ------------------------------------------------------
U3=33333333-0000-4000-8000-000000000003
check_eq "create --persistent" "$U3" \
        "$(siovctl create --type idxd-1dwq --parent siov0 --uuid $U3 --persistent 2>/dev/null)"
check "definition file written" test -f "$DEFS/$U3.json"
check_eq "definition content" "$U3 siov0 idxd-1dwq false" \
        "$(jq -r '"\(.uuid) \(.parent) \(.type) \(.autostart)"' "$DEFS/$U3.json")"
check "no temporary files left in the definitions folder" bash -c '[ "$(ls -A "$1" | grep -cv "\.json$")" = 0 ]' _ "$DEFS"
check_eq "state both" "both" "$(state $U3)"
check "stop" siovctl stop $U3
check_eq "stopped: defined, sysfs gone" "defined no" "$(state $U3) $(test -d "$ROOT/sys/bus/mdev/devices/$U3" && echo yes || echo no)"
out=$(siovctl stop $U3 2>&1); rc=$?
check_eq "stop again: NoSuchDevice (exit 4), nothing changed" "4 defined" "$rc $(state $U3)"
check "start" siovctl start $U3
check_eq "started: both" "both" "$(state $U3)"
out=$(siovctl start $U3 2>&1); rc=$?
check_eq "start again: AlreadyExists (exit 1)" 1 $rc
check "modify --autostart" siovctl modify $U3 --autostart
check_eq "autostart in the file" "true" "$(jq -r .autostart "$DEFS/$U3.json")"
check "undefine" siovctl undefine $U3
check_eq "undefined: active, file gone" "active no" "$(state $U3) $(test -f "$DEFS/$U3.json" && echo yes || echo no)"
check "destroy" siovctl destroy $U3
check_eq "destroyed: gone" "" "$(state $U3)"
out=$(siovctl destroy $U3 2>&1); rc=$?
check_eq "destroy an absent device: exit 4" 4 $rc

# define for a parent that is not there yet; it appears later
U4=44444444-0000-4000-8000-000000000004
check_eq "define for an absent parent" "$U4" \
        "$(siovctl define --type idxd-1dwq --parent siov2 --uuid $U4 --autostart 2>/dev/null)"
check_eq "defined, waiting for its parent" "defined" "$(state $U4)"
check "status reports the device waiting for its parent" bash -c '"$1" --address="$2" status | grep "$3" | grep -q siov2' _ "$SIOVCTL" "$ADDR" "$U4"
fake add-siov-parent siov2 --total 2 --free 2
bus call org.siov1 /org/siov1 org.siov1.Manager Rescan
check_eq "late parent: its autostart device was started" "both" "$(state $U4)"
check "... and exists in sysfs" test -d "$ROOT/sys/bus/mdev/devices/$U4"
check_eq "provision again starts nothing" "ao 0" \
        "$(bus call org.siov1 /org/siov1 org.siov1.Manager ProvisionParent s siov2)"

# --- corrupt and foreign definitions are reported, skipped, kept ----------------
echo '{"uuid": 12' > "$DEFS/55555555-0000-4000-8000-000000000005.json"
echo '{}' > "$DEFS/notes.json"
bus call org.siov1 /org/siov1 org.siov1.Manager Rescan
check "corrupt definition kept on disk" test -f "$DEFS/55555555-0000-4000-8000-000000000005.json"
check "foreign file kept on disk" test -f "$DEFS/notes.json"
check "corrupt definition reported in the log" grep -q "55555555-0000-4000-8000-000000000005" "$IT_DIR/siovd.log"
check_eq "and not listed" "" "$(state 55555555-0000-4000-8000-000000000005)"
rm -f "$DEFS/55555555-0000-4000-8000-000000000005.json" "$DEFS/notes.json"

# --- race: 16 concurrent creates for 5 free ------------------------------------
fake add-siov-parent siov3 --total 5 --free 5
bus call org.siov1 /org/siov1 org.siov1.Manager Rescan
echo 20 > "$ROOT/fake-kernel/delay-ms"
pids=()
for i in $(seq 16); do
        ( "$SIOVCTL" --address="$ADDR" create --type idxd-1dwq --parent siov3 >/dev/null 2>"$IT_DIR/race.$i"; echo $? > "$IT_DIR/race.$i.rc" ) &
        pids+=($!)
done
wait "${pids[@]}"
rm -f "$ROOT/fake-kernel/delay-ms"
ok=$(cat "$IT_DIR"/race.*.rc | grep -cx 0)
nocap=$(cat "$IT_DIR"/race.*.rc | grep -cx 6)
check_eq "16 concurrent creates for 5 free: 5 succeed, 11 NoCapacity" "5 11" "$ok $nocap"
check_eq "the pool adds up" "5 0" \
        "$(cat "$ROOT"/sys/devices/virtual/idxd/siov3/pool/{mdev_dwq,free} | tr '\n' ' ' | sed 's/ $//')"

# --- mdevctl import --------------------------------------------------------------
M=$IT_DIR/mdevctl.d
mkdir -p "$M/siov0" "$M/scripts.d/callouts"
echo '{"mdev_type": "idxd-1dwq", "start": "auto", "attrs": []}' > "$M/siov0/66666666-0000-4000-8000-000000000006"
echo '{"mdev_type": 7}' > "$M/siov0/77777777-0000-4000-8000-000000000007"
echo '{"mdev_type": "idxd-1dwq", "start": "manual"}' > "$M/siov0/not-a-uuid"
out=$(siovctl import-mdevctl "$M" 2>&1); rc=$?
check_eq "import with a refusal: exit 1" 1 $rc
check "import: the good one defined" grep -q "defined 66666666-0000-4000-8000-000000000006" <<<"$out"
check "import: the bad ones refused with a reason" bash -c '
        [ "$(grep -c "^refused" <<<"$1")" = 2 ] && grep "77777777" <<<"$1" | grep -q "mdev_type"' _ "$out"
check_eq "imported definition: autostart" "true" \
        "$(jq -r .autostart "$DEFS/66666666-0000-4000-8000-000000000006.json")"

# --- SIGKILL and restart: nothing lost, nothing doubled ----------------------------
siovctl create --type idxd-1dwq --parent siov0 --persistent >/dev/null 2>&1
snapshot() {
        siovctl --json list | jq -c '[.[] | select(.kind == "mdev") | {uuid, parent, type, state, persistent, autostart}] | sort_by(.uuid)'
}
S1=$(snapshot); A1=$(active_mdevs); D1=$(ls "$DEFS")
kill -KILL "$SIOVD_PID"; wait "$SIOVD_PID" 2>/dev/null; SIOVD_PID=
siovd_up
check_eq "after SIGKILL + restart: same devices, states and definitions" "$S1" "$(snapshot)"
check_eq "after restart: sysfs unchanged (nothing re-created)" "$A1" "$(active_mdevs)"
check_eq "after restart: definition files unchanged" "$D1" "$(ls "$DEFS")"

# --- VFs: a free VF is given to vfio-pci and taken back -----------------------------
fake add-pf 0000:3b:00.0 --total-vfs 4 --driver mlx5_core
fake add-vf 0000:3b:00.0 0 0000:3b:00.2 --driver mlx5_core --netdev eth5
fake add-vf 0000:3b:00.0 1 0000:3b:00.3
mkdir -p "$ROOT/sys/bus/pci/drivers/vfio-pci"
bus call org.siov1 /org/siov1 org.siov1.Manager Rescan
vfdrv() { readlink "$ROOT/sys/bus/pci/devices/$1/driver" | sed 's|.*/||'; }
check_eq "vf type: the one VF no host driver holds" "1" "$(avail 0000:3b:00.0 vf)"
UV=$(siovctl create --type vf --persistent 2>/dev/null); rc=$?
check_eq "create --type vf" 0 $rc
check_eq "the free VF is bound to vfio-pci, the host's VF untouched" "vfio-pci mlx5_core" "$(vfdrv 0000:3b:00.3) $(vfdrv 0000:3b:00.2)"
check_eq "the VF is no longer available" "0" "$(avail 0000:3b:00.0 vf)"
out=$(siovctl create --type vf 2>&1); rc=$?
check_eq "no free VF left: NoCapacity (exit 6)" 6 $rc
check "stop gives the VF back" siovctl stop "$UV"
check_eq "stopped VF: defined, unbound" "defined " "$(state "$UV") $(vfdrv 0000:3b:00.3)"
check "start binds it again" siovctl start "$UV"
check_eq "started VF: both, vfio-pci" "both vfio-pci" "$(state "$UV") $(vfdrv 0000:3b:00.3)"
check "destroy" siovctl destroy "$UV"
check_eq "destroyed VF: no definition, unbound, available again" "no  1" \
        "$(test -f "$DEFS/$UV.json" && echo yes || echo no) $(vfdrv 0000:3b:00.3) $(avail 0000:3b:00.0 vf)"
out=$(siovctl stop "$(siovctl --json list | jq -r '.[] | select(.address == "0000:3b:00.2") | .uuid')" 2>&1); rc=$?
check "a host VF siovd did not make cannot be stopped" bash -c '[ "$2" = 2 ] && grep -q "not made by siovd" <<<"$1"' _ "$out" "$rc"

# --- monitor ---------------------------------------------------------------------
"$SIOVCTL" --address="$ADDR" monitor >"$IT_DIR/monitor" 2>"$IT_DIR/monitor.err" &
MON=$!
for _ in $(seq 50); do grep -q "monitoring" "$IT_DIR/monitor.err" && break; sleep 0.1; done
U8=$(siovctl create --type idxd-1dwq --parent siov0 2>/dev/null)
siovctl destroy "$U8"
sleep 0.5
kill -INT $MON; wait $MON
check "monitor shows the device added" grep -q "added device $U8" "$IT_DIR/monitor"
check "monitor shows the device removed" grep -q "removed device $U8" "$IT_DIR/monitor"
check "monitor shows availability changes" grep -q "AvailableInstances" "$IT_DIR/monitor"

it_siovd_stop; check_eq "siovd exits 0 on SIGTERM" 0 $?
it_summary
