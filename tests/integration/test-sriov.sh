#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# SR-IOV PFs through the real siovd and siovctl on a fake tree whose kernel
# answers (sriov_numvfs, sriov_drivers_autoprobe, driver binding) are acted
# out by tests/common/fake-kernel.so: Parent.SetNumVFs / `siovctl sriov`
# 0→N, N→0, N→M; every refusal (over sriov_totalvfs, held by siovd, host use:
# a netdev up, a mounted or held block device; --force skips only host
# use) names each VF and leaves sysfs exactly as it was; kernel errors;
# autoprobe; signals; autostart VF devices after a count change.
. "$(dirname "$0")/lib.sh"

FAKE_KERNEL=$TOP_BUILDDIR/tests/common/.libs/fake-kernel.so
[ -f "$FAKE_KERNEL" ] || { fail "fake kernel built" "$FAKE_KERNEL missing"; it_summary; exit 1; }
DEFS=$IT_DIR/defs
PARENTS=$IT_DIR/parents
export SIOV_DEFINITIONS_DIR=$DEFS SIOV_PARENTS_DIR=$PARENTS
PF=0000:01:00.0
PFDIR=$ROOT/sys/bus/pci/devices/$PF

siovd_up() {
        LD_PRELOAD=$FAKE_KERNEL SIOV_FAKE_KERNEL_ROOT=$ROOT it_siovd_start "$@"
}
pjson() {       # FIELD of the PF in `parents --json`
        siovctl --json parents | jq -r ".[] | select(.name == \"$PF\") | .$1"
}
vfdrv() { readlink "$ROOT/sys/bus/pci/devices/$1/driver" 2>/dev/null | sed 's|.*/||'; }
virtfns() { (cd "$PFDIR" && ls -d virtfn* 2>/dev/null | sort | tr '\n' ' '); }
# Everything the kernel would show of the PF and its VFs, to prove a
# refusal changed nothing.
pf_state() {
        echo "numvfs=$(cat "$PFDIR/sriov_numvfs") autoprobe=$(cat "$PFDIR/sriov_drivers_autoprobe") vfs=$(virtfns)"
        for l in "$PFDIR"/virtfn*; do
                [ -e "$l" ] || continue
                a=$(basename "$(readlink "$l")")
                echo "$a driver=$(vfdrv "$a") override=$(cat "$ROOT/sys/bus/pci/devices/$a/driver_override")"
        done
}
numvfs_writes() { grep -c '^numvfs ' "$ROOT/fake-kernel/log" 2>/dev/null || true; }
vf_devices() {  # addresses of the VF objects of the PF
        siovctl --json list --type vf | jq -r ".[] | select(.parent == \"$PF\") | select(.address != \"\") | .address" | sort | tr '\n' ' '
}

fake init
fake add-pf $PF --total-vfs 4 --driver nvme
fake add-siov-parent siov0 --total 4 --free 4 --swq-slots 4
mkdir -p "$ROOT/sys/bus/pci/drivers/vfio-pci" "$ROOT/fake-kernel"

it_bus_start || { it_summary; exit 1; }
siovd_up || { it_summary; exit 1; }
siovctl monitor >"$IT_DIR/monitor.log" 2>/dev/null &
MON=$!
sleep 0.3

# --- 0 → 2 ---------------------------------------------------------------------
check "sriov --numvfs 2" siovctl sriov $PF --numvfs 2
check_eq "sysfs: 2 VFs" "2 virtfn0 virtfn1 " "$(cat "$PFDIR/sriov_numvfs") $(virtfns)"
check_eq "parents --json: num_vfs 2 of 4" "2/4" "$(pjson num_vfs)/$(pjson total_vfs)"
check_eq "the VFs are Device objects" "0000:01:00.1 0000:01:00.2 " "$(vf_devices)"
check_eq "NumVFs on the bus" "u 2" "$(bus get-property org.siov1 "$(dbus_path /org/siov1/parent $PF)" org.siov1.Parent NumVFs)"
check_eq "the same count again writes nothing" "$(numvfs_writes)" "$(siovctl sriov $PF --numvfs 2; numvfs_writes)"

# --- refusals that change nothing --------------------------------------------------
before=$(pf_state)
out=$(siovctl sriov $PF --numvfs 5 2>&1); rc=$?
check_eq "over sriov_totalvfs: usage error (exit 2)" 2 $rc
check "over sriov_totalvfs: the message names sriov_totalvfs and the limit" \
        bash -c 'grep -q "sriov_totalvfs" <<<"$1" && grep -q "at most 4" <<<"$1"' _ "$out"
out=$(bus call org.siov1 "$(dbus_path /org/siov1/parent siov0)" org.siov1.Parent SetNumVFs 'ua{sv}' 1 0 2>&1)
check "SetNumVFs on an mdev parent: InvalidArgument" grep -q "not an SR-IOV physical function" <<<"$out"
out=$(bus call org.siov1 "$(dbus_path /org/siov1/parent $PF)" org.siov1.Parent SetNumVFs 'ua{sv}' 1 1 bogus b true 2>&1)
check "an unknown option is refused" grep -q "unknown option 'bogus'" <<<"$out"
check_eq "refusals left the PF exactly as it was" "$before" "$(pf_state)"

# A VF held by siovd.
UV=$(siovctl create --type vf --parent $PF --persistent --autostart 2>/dev/null); rc=$?
check_eq "create --type vf --autostart" 0 $rc
check_eq "vf0 on vfio-pci" "vfio-pci" "$(vfdrv 0000:01:00.1)"
before=$(pf_state); w=$(numvfs_writes)
out=$(siovctl sriov $PF --numvfs 3 2>&1); rc=$?
check_eq "N→M while siovd holds a VF: Busy (exit 1)" 1 $rc
check "Busy names the VF, its address and the device" \
        bash -c 'grep -q "vf0 0000:01:00.1: held by siovd as device $2" <<<"$1"' _ "$out" "$UV"
out=$(siovctl sriov $PF --numvfs 0 --force 2>&1); rc=$?
check_eq "--force does not override siovd's own device" 1 $rc
check_eq "held: sysfs unchanged, no numvfs write reached the kernel" "$before|$w" "$(pf_state)|$(numvfs_writes)"

# Host use: vf1 with a netdev that is up; a mounted block device.
fake set-driver 0000:01:00.2 ixgbevf
fake add-netdev 0000:01:00.2 eth7
fake set-attr sys/bus/pci/devices/0000:01:00.2/net/eth7/flags 0x1003
check "stop the siovd device" siovctl stop "$UV"
before=$(pf_state); w=$(numvfs_writes)
out=$(siovctl sriov $PF --numvfs 0 2>&1); rc=$?
check_eq "a VF whose netdev is up: Busy" 1 $rc
check "host use named: driver, netdev, and the --force hint" \
        bash -c 'grep -q "vf1 0000:01:00.2: used by the host: driver ixgbevf, netdev eth7 is up" <<<"$1" && grep -q -- "--force ignores host use" <<<"$1"' _ "$out"
check "the stopped device is not in the way" bash -c '! grep -q "vf0" <<<"$1"' _ "$out"
fake set-attr sys/bus/pci/devices/0000:01:00.2/net/eth7/flags 0x1002
mkdir -p "$ROOT/sys/devices/pci0000:00/0000:01:00.2/nvme/nvme1/nvme1n1/holders" "$ROOT/sys/class/block"
fake set-attr sys/devices/pci0000:00/0000:01:00.2/nvme/nvme1/nvme1n1/dev 259:3
fake symlink sys/class/block/nvme1n1 ../../devices/pci0000:00/0000:01:00.2/nvme/nvme1/nvme1n1
mkdir -p "$ROOT/proc/self"
echo "36 25 259:3 / /srv rw,relatime shared:1 - ext4 /dev/nvme1n1 rw" >"$ROOT/proc/self/mountinfo"
out=$(siovctl sriov $PF --numvfs 0 2>&1); rc=$?
check "a netdev that is down is no host use; a mounted block device is" \
        bash -c '[ $2 = 1 ] && grep -q "block device nvme1n1 is mounted on /srv" <<<"$1" && ! grep -q "eth7" <<<"$1"' _ "$out" "$rc"
fake symlink sys/devices/pci0000:00/0000:01:00.2/nvme/nvme1/nvme1n1/holders/dm-0 ../../../../../../virtual/block/dm-0
: >"$ROOT/proc/self/mountinfo"
out=$(siovctl sriov $PF --numvfs 0 2>&1)
check "a block device held by dm-0 is host use" grep -q "block device nvme1n1 is held by dm-0" <<<"$out"
check_eq "host use: sysfs unchanged, no numvfs write" "$before|$w" "$(pf_state)|$(numvfs_writes)"

# --force skips host use.
check "--force removes VFs the host uses" siovctl sriov $PF --numvfs 0 --force
check_eq "sysfs: no VF left" "0 " "$(cat "$PFDIR/sriov_numvfs") $(virtfns)"
check_eq "the VF objects are gone but the defined one" "" "$(vf_devices)"
check_eq "the persistent VF device stays defined" "defined" \
        "$(siovctl --json list | jq -r ".[] | select(.uuid == \"$UV\") | .state")"
rm -f "$ROOT/sys/class/block/nvme1n1" "$ROOT/proc/self/mountinfo"

# --- autoprobe -----------------------------------------------------------------------
echo ixgbevf >"$ROOT/fake-kernel/vf-driver"
check_eq "Autoprobe starts true" "true" "$(pjson autoprobe)"
check "sriov --autoprobe=no" siovctl sriov $PF --autoprobe=no
check_eq "sysfs autoprobe 0, parents --json false" "0 false" "$(cat "$PFDIR/sriov_drivers_autoprobe") $(pjson autoprobe)"
check "parents shows AUTOPROBE no" grep -qE "^$PF +sriov +nvme +0/4 +no " <<<"$(siovctl parents)"
siovctl sriov $PF --autoprobe=maybe 2>/dev/null; rc=$?
check_eq "--autoprobe=maybe is a usage error" 2 $rc
check "0 → 2 with autoprobe off" siovctl sriov $PF --numvfs 2
check_eq "new VFs: vf1 unbound, vf0 (autostart device) on vfio-pci" "vfio-pci|" "$(vfdrv 0000:01:00.1)|$(vfdrv 0000:01:00.2)"
check_eq "the autostart VF device is active again" "both" \
        "$(siovctl --json list | jq -r ".[] | select(.uuid == \"$UV\") | .state")"
check "stop it" siovctl stop "$UV"
check "N→M: 2 → 3 with autoprobe on, in one call" siovctl sriov $PF --autoprobe=yes --numvfs 3
check_eq "3 VFs, the free ones bound by autoprobe" "3 ixgbevf ixgbevf" \
        "$(cat "$PFDIR/sriov_numvfs") $(vfdrv 0000:01:00.2) $(vfdrv 0000:01:00.3)"
check_eq "the kernel saw 0 then 3" "0 3" \
        "$(grep '^numvfs ' "$ROOT/fake-kernel/log" | tail -n 2 | sed "s/.*'\(.*\)'.*/\1/" | tr '\n' ' ' | sed 's/ $//')"

check "stop it again" siovctl stop "$UV"

# --- kernel errors ---------------------------------------------------------------------
echo EIO >"$ROOT/fake-kernel/fail-numvfs"
before=$(pf_state)
out=$(siovctl sriov $PF --numvfs 1 --force 2>&1); rc=$?
check_eq "the kernel refuses: KernelError (exit 1)" 1 $rc
check "KernelError names sriov_numvfs, the value and the errno" \
        bash -c 'grep -q "sriov_numvfs" <<<"$1" && grep -q "Input/output error" <<<"$1"' _ "$out"
check_eq "a refused removal leaves the VFs" "$before" "$(pf_state)"
echo "EIO 1" >"$ROOT/fake-kernel/fail-numvfs"
out=$(siovctl sriov $PF --numvfs 1 --force 2>&1); rc=$?
check "0 passed, 1 refused: the previous VFs are re-created" \
        bash -c '[ $2 = 1 ] && grep -q "the previous 3 VFs were re-created" <<<"$1"' _ "$out" "$rc"
check_eq "back to 3 VFs" "3" "$(cat "$PFDIR/sriov_numvfs")"
fake set-driver $PF
out=$(siovctl sriov $PF --numvfs 0 --force 2>&1)
check_eq "removal works without a PF driver? the kernel says ENOENT" "1" "$(grep -c 'no driver is bound\|No such file' <<<"$out")"
fake set-driver $PF nvme

# --- signals ------------------------------------------------------------------------
sleep 0.3
kill $MON 2>/dev/null; wait $MON 2>/dev/null
check "PropertiesChanged NumVFs" grep -q "changed parent $PF .*NumVFs=2" "$IT_DIR/monitor.log"
check "PropertiesChanged Autoprobe" grep -q "changed parent $PF .*Autoprobe=false" "$IT_DIR/monitor.log"
check "VF objects added" grep -q "^added device .*($PF vf)" "$IT_DIR/monitor.log"
check "VF objects removed" grep -q "^removed device " "$IT_DIR/monitor.log"

# --- NVIDIA SR-IOV vGPU VFs, read only (the files' formats: see tests/unit/test-sriov.c) ---
G=0000:41:00.0
fake add-pf $G --total-vfs 32 --driver nvidia
fake add-vf $G 0 0000:41:00.4
fake add-vf $G 1 0000:41:00.5 --driver nvidia
fake set-attr sys/bus/pci/devices/0000:41:00.4/nvidia/current_vgpu_type 0
fake set-attr --raw sys/bus/pci/devices/0000:41:00.4/nvidia/creatable_vgpu_types \
        "$(printf 'ID    : vGPU Name\n557   : NVIDIA A40-1B\n558   : NVIDIA A40-2B\n')"
fake set-attr sys/bus/pci/devices/0000:41:00.5/nvidia/current_vgpu_type 558
fake set-attr sys/bus/pci/devices/0000:41:00.5/nvidia/creatable_vgpu_types "ID    : vGPU Name"
check "Rescan finds the GPU" bus call org.siov1 /org/siov1 org.siov1.Manager Rescan
vg() { siovctl --json list --parent $G | jq -c ".[] | select(.address == \"$1\") | [.vgpu, .vgpu_type, .vgpu_creatable_types]"; }
check_eq "a vGPU VF with no type set: its creatable types" '[true,0,[{"id":557,"name":"NVIDIA A40-1B"},{"id":558,"name":"NVIDIA A40-2B"}]]' "$(vg 0000:41:00.4)"
check_eq "a vGPU VF with a type set" '[true,558,[]]' "$(vg 0000:41:00.5)"
check_eq "not a vGPU" '[false,0,[]]' "$(siovctl --json list --parent $PF | jq -c '[.[] | select(.address != "")][0] | [.vgpu, .vgpu_type, .vgpu_creatable_types]')"
check "list DETAILS shows them" bash -c 'grep -q "0000:41:00.4 .*vgpu=none(2 creatable)" <<<"$1" && grep -q "0000:41:00.5 nvidia host vgpu=558" <<<"$1"' _ "$(siovctl list --parent $G)"
VGU=$(siovctl --json list --parent $G | jq -r '.[] | select(.address == "0000:41:00.5") | .uuid')
check_eq "VgpuType on the Device object" "u 558" "$(bus get-property org.siov1 "$(dbus_path /org/siov1/device "$VGU")" org.siov1.Device VgpuType)"
fake set-attr sys/bus/pci/devices/0000:41:00.5/nvidia/current_vgpu_type 0
siovctl monitor >"$IT_DIR/monitor2.log" 2>/dev/null &
MON=$!
sleep 0.3
check "Rescan" bus call org.siov1 /org/siov1 org.siov1.Manager Rescan
sleep 0.3
kill $MON 2>/dev/null; wait $MON 2>/dev/null
check "a vGPU type change is signalled" grep -q "changed device $VGU .*VgpuType=0" "$IT_DIR/monitor2.log"

# --- persistent configuration -------------------------------------------------------
CONF=$PARENTS/$PF.json
check_eq "no configuration yet" "-1 -1 no" "$(pjson persistent_numvfs) $(pjson persistent_autoprobe) $(test -e "$CONF" && echo yes || echo no)"
check "sriov --numvfs 0 --autoprobe=no --persistent" siovctl sriov $PF --numvfs 0 --force --autoprobe=no --persistent
check_eq "the file holds numvfs 0, autoprobe false" "$PF 0 false" "$(jq -r '"\(.pf) \(.numvfs) \(.autoprobe)"' "$CONF")"
check "sriov --numvfs 2 --persistent" siovctl sriov $PF --numvfs 2 --persistent
check_eq "file and properties: 2, autoprobe kept" "2 false 2 0" \
        "$(jq -r '"\(.numvfs) \(.autoprobe)"' "$CONF") $(pjson persistent_numvfs) $(pjson persistent_autoprobe)"
check_eq "written atomically: no temporary file left" "$PF.json" "$(ls -A "$PARENTS" | tr '\n' ' ' | sed 's/ $//')"
check_eq "the count change started the autostart VF device" "both" \
        "$(siovctl --json list | jq -r ".[] | select(.uuid == \"$UV\") | .state")"
cp "$CONF" "$IT_DIR/conf.before"
out=$(siovctl sriov $PF --numvfs 1 --persistent 2>&1); rc=$?
check_eq "held: a persistent change is refused too" 1 $rc
check "a refused persistent change leaves the file as it was" cmp -s "$CONF" "$IT_DIR/conf.before"
check_eq "and the property" "2" "$(pjson persistent_numvfs)"
# Unknown keys are kept.
jq '. + {"future": [1, 2]}' "$CONF" >"$IT_DIR/c" && mv "$IT_DIR/c" "$CONF"
check "Rescan reads the configurations again" bus call org.siov1 /org/siov1 org.siov1.Manager Rescan
check "stop" siovctl stop "$UV"
check "sriov --autoprobe=yes --persistent" siovctl sriov $PF --autoprobe=yes --persistent
check_eq "an unknown key survives a save" "[1,2] true" "$(jq -c '.future' "$CONF") $(jq -r '.autoprobe' "$CONF")"
check "sriov --autoprobe=no --persistent" siovctl sriov $PF --autoprobe=no --persistent

# A corrupt configuration, and one for an absent PF.
fake add-pf 0000:02:00.0 --total-vfs 2 --driver nvme
printf '{"pf": "0000:02:00.0", "numvfs": "two"' >"$PARENTS/0000:02:00.0.json"
cp "$PARENTS/0000:02:00.0.json" "$IT_DIR/corrupt.before"
printf '{"pf": "0000:09:00.0", "numvfs": 4}\n' >"$PARENTS/0000:09:00.0.json"
check "Rescan" bus call org.siov1 /org/siov1 org.siov1.Manager Rescan
out=$(siovctl status)
check "status: the absent PF's configuration is waiting" \
        bash -c 'grep -q "PF configurations waiting for their PF" <<<"$1" && grep -qE "^0000:09:00.0 +4" <<<"$1"' _ "$out"
check "status: the corrupt configuration is reported with its path" \
        grep -q "PF configuration 0000:02:00.0: $PARENTS/0000:02:00.0.json: " <<<"$out"
check_eq "status --json: states" "0000:01:00.0=present 0000:02:00.0=unreadable 0000:09:00.0=absent" \
        "$(siovctl --json status | jq -r '[.parent_configs[] | "\(.pf)=\(.state)"] | join(" ")')"
out=$(siovctl sriov 0000:02:00.0 --numvfs 1 --persistent 2>&1); rc=$?
check "--persistent over a corrupt file: refused naming the file, which is kept" \
        bash -c '[ $2 = 1 ] && grep -q "0000:02:00.0.json" <<<"$1"' _ "$out" "$rc"
check "the corrupt file is byte-identical" cmp -s "$PARENTS/0000:02:00.0.json" "$IT_DIR/corrupt.before"
check_eq "and its PF untouched" "0" "$(cat "$ROOT/sys/bus/pci/devices/0000:02:00.0/sriov_numvfs")"

# --- boot: provisioning applies autoprobe, the count, then the autostart VF devices --
it_siovd_stop
# the "reboot": every VF gone, autoprobe back to the kernel's default
fake kernel-write sys/bus/pci/devices/$PF/sriov_numvfs 0
fake set-attr sys/bus/pci/devices/$PF/sriov_drivers_autoprobe 1
w=$(numvfs_writes)
siovd_up || { it_summary; exit 1; }
check_eq "a restart alone provisions nothing" "0 $w" "$(cat "$PFDIR/sriov_numvfs") $(numvfs_writes)"
check_eq "the autostart VF device waits, defined" "defined" \
        "$(siovctl --json list | jq -r ".[] | select(.uuid == \"$UV\") | .state")"
out=$(siovctl provision $PF); rc=$?
check_eq "provision PF" 0 $rc
check_eq "autoprobe 0, 2 VFs, the autostart device on vfio-pci, vf1 unbound" "0 2 vfio-pci|" \
        "$(cat "$PFDIR/sriov_drivers_autoprobe") $(cat "$PFDIR/sriov_numvfs") $(vfdrv 0000:01:00.1)|$(vfdrv 0000:01:00.2)"
check_eq "provision prints the device it started" "$UV" "$out"
check_eq "the same identity: the device is both, on vf0" "both 0000:01:00.1" \
        "$(siovctl --json list | jq -r ".[] | select(.uuid == \"$UV\") | \"\(.state) \(.address)\"")"
w=$(numvfs_writes)
out=$(siovctl provision $PF)
check_eq "a second provision (udev add + change) starts nothing and writes nothing" "|$w" "$out|$(numvfs_writes)"
check_eq "parents --json: the persisted count" "2 2" "$(pjson num_vfs) $(pjson persistent_numvfs)"

it_summary
