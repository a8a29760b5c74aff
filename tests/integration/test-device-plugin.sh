#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# siov-device-plugin (issue 17) against a fake kubelet
# (test-device-plugin.py, python3-grpcio) and the real siovd on a fake tree
# with the fake kernel: advertise → allocate → the mdev (and a VF) exists, UUID (address)
# in the env → siovd restarts → host netdevs take the pool → the list
# shrinks → the kubelet restarts → give-back after the idle time.
. "$(dirname "$0")/lib.sh"

PLUGIN=$TOP_BUILDDIR/siov-device-plugin
FAKE_KERNEL=$TOP_BUILDDIR/tests/common/.libs/fake-kernel.so
[ -x "$PLUGIN" ] || { fail "siov-device-plugin built" "$PLUGIN missing (configure --enable-device-plugin)"; it_summary; exit 1; }
[ -f "$FAKE_KERNEL" ] || { fail "fake kernel built" "$FAKE_KERNEL missing"; it_summary; exit 1; }
# Debian's python3-grpcio: /usr/bin/python3, not whatever python3 is first on PATH.
PY=/usr/bin/python3
"$PY" -c 'import grpc, google.protobuf' 2>/dev/null ||
        { fail "python3-grpcio and python3-protobuf installed"; it_summary; exit 1; }
command -v protoc >/dev/null && [ -x /usr/bin/grpc_python_plugin ] ||
        { fail "protoc and grpc_python_plugin installed" "apt-get install protobuf-compiler protobuf-compiler-grpc"; it_summary; exit 1; }

export SIOV_DEFINITIONS_DIR=$IT_DIR/defs
KUBELET_DIR=$IT_DIR/kubelet
mkdir -p "$KUBELET_DIR"
cat > "$IT_DIR/device-plugin.json" <<JSON
{ "kubelet_dir": "$KUBELET_DIR", "idle_seconds": 3,
  "resources": [ { "resource": "siov.io/idxd-1dwq", "type": "idxd-1dwq" },
                 { "resource": "siov.io/nvme-vf", "type": "vf", "parents": [ "0000:01:00.0" ] } ] }
JSON

# A config the plugin refuses, with the reason.
echo '{ "resources": [ { "resource": "no-slash", "type": "idxd-1dwq" } ] }' > "$IT_DIR/bad.json"
"$PLUGIN" --config="$IT_DIR/bad.json" 2>"$IT_DIR/bad.err"; rc=$?
check_eq "a bad resource name is refused (exit 1)" 1 $rc
check "... naming the key" grep -q "resources\[0\].resource" "$IT_DIR/bad.err"
echo '{ "resources": [], "color": 1 }' > "$IT_DIR/bad.json"
check_fails "an unknown key is refused" "$PLUGIN" --config="$IT_DIR/bad.json"

fake init
fake add-siov-parent siov0 --total 4 --free 4 --swq-slots 4
fake add-siov-parent siov1 --total 2 --free 2 --swq-slots 4
# Their NUMA nodes, for the kubelet's topology manager.
fake set-attr sys/devices/virtual/idxd/siov0/numa_node 1
fake set-attr sys/devices/virtual/idxd/siov1/numa_node 0
# vfio_mdev gives each mdev an IOMMU group: 10, 11, ...
mkdir -p "$ROOT/fake-kernel" && echo 10 > "$ROOT/fake-kernel/iommu-groups"

# An SR-IOV PF whose VFs siovd binds to vfio-pci.
fake add-pf 0000:01:00.0 --total-vfs 4 --driver nvme
mkdir -p "$ROOT/sys/bus/pci/drivers/vfio-pci"

it_bus_start || { it_summary; exit 1; }
export LD_PRELOAD=$FAKE_KERNEL SIOV_FAKE_KERNEL_ROOT=$ROOT
it_siovd_start || { it_summary; exit 1; }
unset LD_PRELOAD
check "2 VFs on the PF" siovctl sriov 0000:01:00.0 --numvfs 2
fake symlink sys/bus/pci/devices/0000:01:00.1/iommu_group /sys/kernel/iommu_groups/21
fake symlink sys/bus/pci/devices/0000:01:00.2/iommu_group /sys/kernel/iommu_groups/22
echo "$SIOVD_PID" > "$IT_DIR/siovd.pid"

SIOVD_CMD="LD_PRELOAD=$FAKE_KERNEL exec '$SIOVD' --sysfs-root='$ROOT' >>'$IT_DIR/siovd.log' 2>&1"
ADDR=$ADDR ROOT=$ROOT SIOVD_PID_FILE=$IT_DIR/siovd.pid SIOVD_CMD=$SIOVD_CMD \
        "$PY" "$TOP_SRCDIR/tests/integration/test-device-plugin.py" \
        "$PLUGIN" "$IT_DIR/device-plugin.json" "$KUBELET_DIR" "$TOP_SRCDIR/device-plugin" "$IT_DIR" \
        > "$IT_DIR/py.out" 2>&1
rc=$?
cat "$IT_DIR/py.out"
it_passed=$((it_passed + $(grep -c '^PASS:' "$IT_DIR/py.out")))
it_failed=$((it_failed + $(grep -c '^FAIL:' "$IT_DIR/py.out")))
[ $rc -eq 0 ] || grep -q '^FAIL:' "$IT_DIR/py.out" || fail "the fake kubelet ran to its end" "exit $rc"

# siovd was restarted by the fake kubelet: the cleanup stops that one.
SIOVD_PID=$(cat "$IT_DIR/siovd.pid")
it_summary
