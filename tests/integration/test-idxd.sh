#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Intel DSA/IAA hosts: siovd reads the idxd devices through libaccel-config.
# libaccel-config reads /sys itself (no prefix), so the test runs in a
# private mount namespace with a fake sysfs bound over /sys (root needed).
# Each testbed (idxd-testbed, from the kernel's sysfs-driver-dma-idxd) is
# first read by Debian's `accel-config list`, so it is a tree the real
# library accepts; then siovd must show exactly that configuration.
if [ -z "${SIOV_IDXD_NS:-}" ]; then
        [ "$(id -u)" -eq 0 ] || { echo "FAIL: test-idxd.sh needs root (a private mount namespace)"; exit 1; }
        exec unshare -m --propagation private env SIOV_IDXD_NS=1 "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

command -v accel-config >/dev/null || { fail "accel-config is installed (tests/install-deps)"; it_summary; exit 1; }

TB=$IT_DIR/testbed
TESTBED=$TOP_SRCDIR/tests/integration/idxd-testbed
OFF=dedicated,none,disabled,0,-1
# dsa0: 8 WQs, 2 kernel-dedicated enabled, 1 user-shared enabled, 5 disabled
"$TESTBED" "$TB" dsa 0 0000:6a:01.0 \
        dedicated,kernel,enabled,16,0,dmaengine dedicated,kernel,enabled,16,0,dmaengine \
        shared,user,enabled,32,1,app $OFF $OFF $OFF $OFF $OFF
# iax1 on a PCI function a vendor mdev driver registered: one parent, both kinds
"$TESTBED" "$TB" iax 1 0000:6a:02.0 \
        dedicated,kernel,enabled,32,0,crypto shared,user,enabled,64,0,app $OFF $OFF
IAX_PCI=$TB/sys/devices/pci0000:6a/0000:6a:02.0
mkdir -p "$IAX_PCI/mdev_supported_types/idxd-1dwq/devices" "$TB/sys/class/mdev_bus"
echo 0 > "$IAX_PCI/mdev_supported_types/idxd-1dwq/available_instances"
echo vfio-pci > "$IAX_PCI/mdev_supported_types/idxd-1dwq/device_api"
: > "$IAX_PCI/mdev_supported_types/idxd-1dwq/create"
ln -s ../../devices/pci0000:6a/0000:6a:02.0 "$TB/sys/class/mdev_bus/0000:6a:02.0"
# dsa2, which a driver registered itself as the mdev parent
"$TESTBED" "$TB" dsa 2 0000:6a:03.0 dedicated,mdev,enabled,16,0 $OFF
DSA2=$TB/sys/devices/pci0000:6a/0000:6a:03.0/dsa2
mkdir -p "$DSA2/mdev_supported_types/idxd-1dwq/devices"
echo 1 > "$DSA2/mdev_supported_types/idxd-1dwq/available_instances"
echo vfio-pci > "$DSA2/mdev_supported_types/idxd-1dwq/device_api"
ln -s ../../devices/pci0000:6a/0000:6a:03.0/dsa2 "$TB/sys/class/mdev_bus/dsa2"

mount --bind "$TB/sys" /sys || { fail "bind the testbed over /sys"; it_summary; exit 1; }

# 1. The real library accepts the testbeds.
if accel-config list -i > "$IT_DIR/accel.json" 2> "$IT_DIR/accel.err"; then
        pass "accel-config list reads the testbed"
else
        fail "accel-config list reads the testbed" "$(cat "$IT_DIR/accel.err")"
fi
ac() { jq -r "$1" "$IT_DIR/accel.json"; }
check_eq "accel-config: devices" "dsa0 dsa2 iax1" "$(ac '[.[].dev] | join(" ")')"
wq_sel='[.[] | select(.dev == $d) | (.groups[]?.grouped_workqueues[]?), (."ungrouped workqueues"[]?)]'
acwq() { jq -r --arg d "$1" "$wq_sel | $2" "$IT_DIR/accel.json"; }
check_eq "accel-config: dsa0 has 8 WQs" 8 "$(acwq dsa0 length)"
check_eq "accel-config: dsa0 enabled WQs" "wq0.0:dedicated:kernel wq0.1:dedicated:kernel wq0.2:shared:user" \
        "$(acwq dsa0 '[.[] | select(.state == "enabled") | "\(.dev):\(.mode):\(.type)"] | sort | join(" ")')"
check_eq "accel-config: iax1 has 4 WQs" 4 "$(acwq iax1 length)"

# 2. siovd on the same tree shows exactly that.
it_bus_start || { it_summary; exit 1; }
"$SIOVD" --sysfs-root=/ --uevent-source=kernel --definitions-dir="$IT_DIR/defs" >>"$IT_DIR/siovd.log" 2>&1 &
SIOVD_PID=$!
# busctl status reads cgroup credentials below /sys, which is fake here.
for _ in $(seq 200); do
        [ "$(bus call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus NameHasOwner s org.siov1 2>/dev/null)" = "b true" ] && break
        kill -0 "$SIOVD_PID" 2>/dev/null || break
        sleep 0.05
done
check "siovd owns org.siov1" kill -0 "$SIOVD_PID"
check "siovd answers" siovctl status

siovctl parents --json > "$IT_DIR/parents.json" || fail "siovctl parents --json"
pj() { jq -c --arg n "$1" ".[] | select(.name == \$n) | $2" "$IT_DIR/parents.json"; }
check_eq "parents: dsa0, dsa2 and the IAA function, no separate iax1" '["0000:6a:02.0","dsa0","dsa2"]' \
        "$(jq -c '[.[].name]' "$IT_DIR/parents.json")"
check_eq "dsa0: kinds" '["idxd"]' "$(pj dsa0 .kinds)"
check_eq "dsa0: idxd device and state" '["dsa0","enabled"]' "$(pj dsa0 '[.idxd_device, .idxd_state]')"
check_eq "dsa0: host usage 2 kernel, 1 user" '{"wq_kernel":2,"wq_user":1}' "$(pj dsa0 '.host_usage')"
check_eq "dsa0: 8 WQs, 3 host, 5 left for mdevs" '{"total":8,"free":5,"host_wq":3,"mdev_dwq":0,"mdev_swq":0}' \
        "$(pj dsa0 '.resources | {total, free, host_wq, mdev_dwq, mdev_swq}')"
check_eq "dsa0: every WQ as configured" \
        '["wq0.0 dedicated kernel enabled dmaengine 16 0","wq0.1 dedicated kernel enabled dmaengine 16 0","wq0.2 shared user enabled user 32 1","wq0.3 dedicated none disabled  0 -1","wq0.4 dedicated none disabled  0 -1","wq0.5 dedicated none disabled  0 -1","wq0.6 dedicated none disabled  0 -1","wq0.7 dedicated none disabled  0 -1"]' \
        "$(pj dsa0 '[.work_queues[] | "\(.name) \(.mode) \(.type) \(.state) \(.driver) \(.size) \(.group)"]')"
check_eq "dsa0: groups with their WQs and engines" \
        '[["group0.0",["wq0.0","wq0.1"],["engine0.0"]],["group0.1",["wq0.2"],["engine0.1"]],["group0.2",[],[]],["group0.3",[],[]]]' \
        "$(pj dsa0 '[.idxd_groups[] | [.name, .work_queues, .engines]]')"
check_eq "IAA function: mdev and idxd in one parent" '["mdev","idxd"]' "$(pj 0000:6a:02.0 .kinds)"
check_eq "IAA function: its idxd device" '"iax1"' "$(pj 0000:6a:02.0 .idxd_device)"
check_eq "IAA function: host usage" '{"wq_kernel":1,"wq_user":1}' "$(pj 0000:6a:02.0 .host_usage)"
check_eq "dsa2, an mdev parent itself: mdev and idxd" '["mdev","idxd"]' "$(pj dsa2 .kinds)"
check_eq "dsa2: its mdev-type WQ counts for mdevs, not the host" '{"total":2,"free":1,"host_wq":0,"mdev_dwq":1}' \
        "$(pj dsa2 '.resources | {total, free, host_wq, mdev_dwq}')"
check_eq "dsa2: wq2.0 is of type mdev" '"mdev"' "$(pj dsa2 '.work_queues[0].type')"

table=$(siovctl parents)
check "parents table: dsa0 row with host use and free WQs" \
        grep -Eq '^dsa0 +idxd +idxd +- +(- +)?wq-kernel=2 wq-user=1 +wq-free=5/8' <<< "$table"
check "parents table: the WQs of dsa0" grep -Eq '^wq0\.0 +dedicated +kernel +enabled +dmaengine +16 +0 +0 +dmaengine' <<< "$table"
check "parents table: the WQs of iax1 on its function" grep -q '^Work queues of iax1 on 0000:6a:02.0 (enabled):' <<< "$table"
types=$(siovctl types)
check "types: the IAA function names its idxd device" grep -qF \
        '0000:6a:02.0 (iax1): 2 of 4 work queues free for mdevs; the host uses 1 kernel, 1 user: wq1.0 dedicated, kernel, enabled (crypto)' <<< "$types"
check "types: what dsa0 leaves for mdevs, naming the host's WQs" grep -qF \
        'dsa0: 5 of 8 work queues free for mdevs; the host uses 2 kernel, 1 user: wq0.0 dedicated, kernel, enabled (dmaengine); wq0.1 dedicated, kernel, enabled (dmaengine); wq0.2 shared, user, enabled (user)' <<< "$types"

# 3. NoCapacity names the WQs in the way. Refusing re-reads the parent
#    (mdevctl's check): through the same libaccel-config context, which
#    writes cmd_status only when it scans a device anew.
echo 0 > /sys/bus/dsa/devices/iax1/cmd_status
err=$(siovctl create --parent 0000:6a:02.0 --type idxd-1dwq 2>&1); rc=$?
check_eq "a re-read makes no new libaccel-config context (no scan wrote cmd_status)" 0 \
        "$(cat /sys/bus/dsa/devices/iax1/cmd_status)"
check_eq "create on a full IAA function: NoCapacity exit code" 6 "$rc"
check "NoCapacity names the WQs in the way" grep -qF \
        'in the way: wq1.0 dedicated, kernel, enabled (crypto); wq1.1 shared, user, enabled (user); disabled (not configured for mdevs): wq1.2, wq1.3' <<< "$err"

# 4. A change made with accel-config, then Rescan(): seen, with a signal.
echo enabled > /sys/bus/dsa/devices/wq0.3/state
echo user > /sys/bus/dsa/devices/wq0.3/type
bus call org.siov1 /org/siov1 org.siov1.Manager Rescan >/dev/null 2>&1 || fail "Rescan"
check_eq "Rescan makes a new libaccel-config context (its scan wrote cmd_status)" 1 \
        "$(cat /sys/bus/dsa/devices/iax1/cmd_status)"
check_eq "after Rescan: wq0.3 enabled, user; 2 user WQs" '["enabled","user",{"wq_kernel":2,"wq_user":2}]' \
        "$(siovctl parents --json | jq -c '.[] | select(.name == "dsa0") | [(.work_queues[] | select(.name == "wq0.3") | .state, .type), .host_usage]')"

# 5. A tree libaccel-config would crash on (3.5.3 dies of SIGSEGV on a WQ
#    without mode): siovd leaves the library alone, says why, lives on.
cp -a "$TB/sys/devices/pci0000:6a/0000:6a:01.0/dsa0/wq0.7/mode" "$IT_DIR/wq0.7-mode"
rm /sys/bus/dsa/devices/wq0.7/mode
bus call org.siov1 /org/siov1 org.siov1.Manager Rescan >/dev/null 2>&1 || fail "Rescan on a tree without wq0.7/mode"
check "siovd lives on a tree that crashes libaccel-config" kill -0 "$SIOVD_PID"
check_eq "no idxd parents then, the mdev parent stays" '[["0000:6a:02.0",["mdev"]],["dsa2",["mdev"]]]' \
        "$(siovctl parents --json | jq -c '[.[] | [.name, .kinds]]')"
check "siovd says why" grep -qF "libaccel-config would crash on /sys/bus/dsa/devices (wq0.7: no 'mode')" "$IT_DIR/siovd.log"
cp -a "$IT_DIR/wq0.7-mode" /sys/bus/dsa/devices/wq0.7/mode
bus call org.siov1 /org/siov1 org.siov1.Manager Rescan >/dev/null 2>&1 || fail "Rescan with wq0.7/mode back"
check_eq "mode back: the idxd parents are back" '["0000:6a:02.0","dsa0","dsa2"]' \
        "$(siovctl parents --json | jq -c '[.[].name]')"

it_siovd_stop; check_eq "siovd exits cleanly" 0 "$?"
it_summary
