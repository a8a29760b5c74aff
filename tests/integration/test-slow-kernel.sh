#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The event loop never waits on the kernel (issue 11). The fake kernel holds
# writes for as long as the test wants (fake-kernel/hold-remove,
# hold-create), as the real one holds a `remove` while QEMU has the device:
#   - destroy --force of a held device is answered anyway, the device shows
#     `removing` with the holder's PID, a second destroy is Busy, and the
#     state becomes final when the kernel lets go;
#   - while a create is held, other clients are answered and a create on
#     another parent completes; the held create finishes when released;
#   - while a PF's sriov_numvfs write is held (the kernel makes its VFs
#     inside it), reads and an mdev create are answered, a second change of
#     the same PF is Busy, and the change answers when the kernel is done.
# Every wait has a generous limit: it catches a siovd that never answers,
# it measures nothing.
. "$(dirname "$0")/lib.sh"

FAKE_KERNEL=$TOP_BUILDDIR/tests/common/.libs/fake-kernel.so
[ -f "$FAKE_KERNEL" ] || { fail "fake kernel built" "$FAKE_KERNEL missing"; it_summary; exit 1; }
CALL=$TOP_SRCDIR/tests/integration/dbus-call
DEFS=$IT_DIR/defs
export SIOV_DEFINITIONS_DIR=$DEFS
HOLDER=
trap 'kill $HOLDER 2>/dev/null; it_cleanup' EXIT

state() { siovctl --json list | jq -r ".[] | select(.uuid == \"$1\") | .state"; }
dev_path() { dbus_path /org/siov1/device "$1"; }
# wait_until SECONDS CMD...: polls CMD until it succeeds
wait_until() {
        local limit=$(( $1 * 10 )); shift
        for _ in $(seq "$limit"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
        return 1
}

fake init
fake add-siov-parent siov0 --total 8 --free 8 --swq-slots 4
fake add-siov-parent siov1 --total 8 --free 8 --swq-slots 4
PF=0000:01:00.0
fake add-pf $PF --total-vfs 4 --driver nvme

it_bus_start || { it_summary; exit 1; }
LD_PRELOAD=$FAKE_KERNEL SIOV_FAKE_KERNEL_ROOT=$ROOT it_siovd_start || { it_summary; exit 1; }

# --- a forced destroy of a device a "VM" holds -------------------------------
U1=11111111-0000-4000-8000-000000000001
check "create a persistent device" siovctl create -t idxd-1dwq -p siov0 --uuid $U1 --persistent
# Its IOMMU group, and a process holding the group's node open (QEMU's
# part): under a test root, siovd looks for ROOT/dev/vfio/<group>.
fake symlink "sys/devices/virtual/idxd/siov0/$U1/iommu_group" ../../../../kernel/iommu_groups/7
mkdir -p "$ROOT/dev/vfio" && : > "$ROOT/dev/vfio/7"
sleep 600 9<"$ROOT/dev/vfio/7" &
HOLDER=$!
echo "$U1" > "$ROOT/fake-kernel/hold-remove"

timeout 30 "$SIOVCTL" --address="$ADDR" destroy --force $U1 2>"$IT_DIR/err"; rc=$?
check_eq "destroy --force of a held device is answered (exit 0, not a timeout)" 0 $rc
check "... and says the kernel waits for the holder, by PID" grep -q "process $HOLDER" "$IT_DIR/err"
check_eq "the device is 'removing'" removing "$(state $U1)"
check_eq "HolderPID names the holder" "u $HOLDER" \
        "$(bus get-property org.siov1 "$(dev_path $U1)" org.siov1.Device HolderPID)"
out=$("$CALL" "$ADDR" "$(dev_path $U1)" org.siov1.Device Destroy 'a{sv}' '[{"force": True}]')
case $out in
ERROR\ org.siov1.Error.Busy:*"process $HOLDER"*) pass "a second destroy is Busy, naming the holder" ;;
*) fail "a second destroy is Busy, naming the holder" "$out" ;;
esac
check "reads are answered meanwhile" timeout 10 "$SIOVCTL" --address="$ADDR" list
check_eq "status counts it as removing" "1 1" \
        "$(siovctl --json status | jq -r '[.devices, .devices_by_state.removing] | join(" ")')"
U2=22222222-0000-4000-8000-000000000002
check "a create on the same parent completes meanwhile" \
        timeout 10 "$SIOVCTL" --address="$ADDR" create -t idxd-1dwq -p siov0 --uuid $U2
check "the definition stays while the kernel removes" test -f "$DEFS/$U1.json"

# The VM lets go.
kill $HOLDER; HOLDER=
rm -f "$ROOT/fake-kernel/hold-remove"
check "the kernel finishes: the device is gone" wait_until 20 bash -c "! \"\$1\" --address=\"\$2\" --json list | grep -q $U1" _ "$SIOVCTL" "$ADDR"
check "... from sysfs" test ! -e "$ROOT/sys/bus/mdev/devices/$U1"
check "... and its definition with it" test ! -e "$DEFS/$U1.json"
check_eq "status: 1 device (U2), none removing" "1 0" \
        "$(siovctl --json status | jq -r '[.devices, (.devices_by_state.removing // 0)] | join(" ")')"
check_eq "the kernel was asked to remove it once" 1 \
        "$(grep -c "remove .*$U1/remove" "$ROOT/fake-kernel/log")"

# --- a create the kernel holds ------------------------------------------------
U3=33333333-0000-4000-8000-000000000003
U4=44444444-0000-4000-8000-000000000004
echo "$U3" > "$ROOT/fake-kernel/hold-create"
timeout 60 "$SIOVCTL" --address="$ADDR" create -t idxd-1dwq -p siov0 --uuid $U3 >"$IT_DIR/create3" 2>&1 &
CREATE=$!
check "reads are answered while a create is held" timeout 10 "$SIOVCTL" --address="$ADDR" list
check "a create on another parent completes while one is held" \
        timeout 10 "$SIOVCTL" --address="$ADDR" create -t idxd-1dwq -p siov1 --uuid $U4
check_eq "... and is active" active "$(state $U4)"
out=$("$CALL" "$ADDR" /org/siov1 org.siov1.Manager CreateDevice 'sssa{sv}' "['siov0', 'idxd-1dwq', '$U3', {}]")
case $out in
ERROR\ org.siov1.Error.Busy:*) pass "the same UUID again while its create is held: Busy" ;;
*) fail "the same UUID again while its create is held: Busy" "$out" ;;
esac
check "the held create has not answered yet" kill -0 $CREATE
rm -f "$ROOT/fake-kernel/hold-create"
wait $CREATE; rc=$?
check_eq "released: the held create succeeds" 0 $rc
check_eq "... and the device is active" active "$(state $U3)"

# --- a VF count change the kernel holds ---------------------------------------
U5=55555555-0000-4000-8000-000000000005
echo "$PF" > "$ROOT/fake-kernel/hold-numvfs"
timeout 60 "$SIOVCTL" --address="$ADDR" sriov $PF --numvfs 2 >"$IT_DIR/numvfs" 2>&1 &
NUMVFS=$!
check "the change is under way (GetStatus: 1 write pending)" wait_until 20 bash -c \
        "busctl --address='$ADDR' call org.siov1 /org/siov1 org.siov1.Manager GetStatus | grep -q '\"writes-pending\" 1 '"
check "reads are answered while a VF count change is held" timeout 10 "$SIOVCTL" --address="$ADDR" parents
check "a create on an mdev parent completes meanwhile" \
        timeout 10 "$SIOVCTL" --address="$ADDR" create -t idxd-1dwq -p siov1 --uuid $U5
out=$("$CALL" "$ADDR" "$(dbus_path /org/siov1/parent $PF)" org.siov1.Parent SetNumVFs 'ua{sv}' '[3, {}]')
case $out in
ERROR\ org.siov1.Error.Busy:*) pass "a second change of the same PF meanwhile: Busy" ;;
*) fail "a second change of the same PF meanwhile: Busy" "$out" ;;
esac
out=$("$CALL" "$ADDR" "$(dbus_path /org/siov1/parent $PF)" org.siov1.Parent SetAutoprobe 'ba{sv}' '[False, {}]')
case $out in
ERROR\ org.siov1.Error.Busy:*) pass "an autoprobe change of the same PF meanwhile: Busy" ;;
*) fail "an autoprobe change of the same PF meanwhile: Busy" "$out" ;;
esac
check "the held change has not answered yet" kill -0 $NUMVFS
check_eq "... and its PF still shows no VFs" 0 \
        "$(siovctl --json parents | jq -r ".[] | select(.name == \"$PF\") | .num_vfs")"
rm -f "$ROOT/fake-kernel/hold-numvfs"
wait $NUMVFS; rc=$?
check_eq "released: the change succeeds" 0 $rc
check_eq "... and the PF shows 2 VFs" 2 \
        "$(siovctl --json parents | jq -r ".[] | select(.name == \"$PF\") | .num_vfs")"

it_siovd_stop && pass "siovd exits cleanly" || fail "siovd exits cleanly"
it_summary
