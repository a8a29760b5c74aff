#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Builds a tree with every fake-sysfs-tool command and checks it twice: the
# link texts must be the ones the kernel writes, and libsiov (through the
# tool's "scan --verbose") must read back what was built.
set -u

tool=${FAKE_SYSFS_TOOL:-tests/common/fake-sysfs-tool}
root=$(mktemp -d "${TMPDIR:-/tmp}/fake-sysfs-tool.XXXXXX")
trap 'rm -rf "$root"' EXIT
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "ok - $(echo "$1" | tr "\n" " ")"; }
bad() { fail=$((fail + 1)); echo "not ok - $(echo "$1" | tr "\n" " ")"; }

run() {
        if "$tool" "$root" "$@"; then ok "$*"; else bad "$*"; fi
}

# expect_link PATH TARGET
expect_link() {
        got=$(readlink "$root/$1" 2>/dev/null)
        if [ "$got" = "$2" ]; then ok "link $1"; else bad "link $1: '$got' != '$2'"; fi
}

# expect_file PATH CONTENT (compared without the trailing newline)
expect_file() {
        got=$(cat "$root/$1" 2>/dev/null)
        if [ "$got" = "$2" ]; then ok "file $1"; else bad "file $1: '$got' != '$2'"; fi
}

U1=3b4a8c32-1d2e-4f5a-9b6c-7d8e9f0a1b2c
U2=7f000000-0000-4000-8000-000000000002

run init
run add-mdev-parent 0000:00:02.0 --driver i915
run add-type 0000:00:02.0 i915-GVTg_V5_4 --available 2 --description "low_gm_size: 128MB
fence: 4"
run add-siov-parent siov0 --total 16 --free 6 --mdev-dwq 4 --mdev-swq 2 --host-netdev 3 --host-wq 1 --swq-slots 8 --netdev siovnet0
run add-mdev siov0 idxd-1dwq $U1 --consume
run add-mdev 0000:00:02.0 i915-GVTg_V5_4 $U2
run add-pf 0000:3b:00.0 --total-vfs 8 --driver ice
run add-netdev 0000:3b:00.0 enp59s0f0
run add-vf 0000:3b:00.0 0 0000:3b:01.0
run add-vf 0000:3b:00.0 1 0000:3b:01.1 --driver vfio-pci
run add-vf 0000:3b:00.0 2 0000:3b:01.2 --driver mlx5_vfio_pci
run add-vf 0000:3b:00.0 3 0000:3b:01.3 --driver iavf --netdev enp59s0f0v3
run add-vfio-variant mlx5_vfio_pci
run add-mdev-parent evil --class idxd
run add-type evil idxd-1dwq --available 1 --no-device-api
run set-type-attr evil idxd-1dwq available_instances abc

# The kernel's own link texts
expect_link sys/class/mdev_bus/0000:00:02.0 ../../devices/pci0000:00/0000:00:02.0
expect_link sys/class/mdev_bus/siov0 ../../devices/virtual/idxd/siov0
expect_link sys/class/idxd/siov0 ../../devices/virtual/idxd/siov0
expect_link sys/devices/virtual/idxd/siov0/subsystem ../../../../class/idxd
expect_link sys/devices/pci0000:00/0000:00:02.0/subsystem ../../../bus/pci
expect_link sys/bus/pci/devices/0000:00:02.0 ../../../devices/pci0000:00/0000:00:02.0
expect_link sys/bus/mdev/devices/$U1 ../../../devices/virtual/idxd/siov0/$U1
expect_link sys/devices/virtual/idxd/siov0/$U1/mdev_type ../mdev_supported_types/idxd-1dwq
expect_link sys/devices/virtual/idxd/siov0/$U1/driver ../../../../../bus/mdev/drivers/vfio_mdev
expect_link sys/devices/virtual/idxd/siov0/$U1/subsystem ../../../../../bus/mdev
expect_link sys/devices/virtual/idxd/siov0/mdev_supported_types/idxd-1dwq/devices/$U1 ../../../$U1
expect_link sys/devices/pci0000:00/0000:3b:00.0/virtfn3 ../0000:3b:01.3
expect_link sys/devices/pci0000:00/0000:3b:01.3/physfn ../0000:3b:00.0
expect_link sys/devices/pci0000:00/0000:3b:01.3/driver ../../../bus/pci/drivers/iavf
expect_link sys/class/net/enp59s0f0v3 ../../devices/pci0000:00/0000:3b:01.3/net/enp59s0f0v3
expect_file sys/devices/pci0000:00/0000:3b:00.0/sriov_numvfs 4
expect_file sys/devices/pci0000:00/0000:3b:00.0/sriov_totalvfs 8
expect_file sys/devices/virtual/idxd/siov0/pool/free 6
expect_file sys/devices/virtual/idxd/siov0/mdev_supported_types/idxd-1dwq/available_instances 5
expect_file sys/devices/virtual/idxd/siov0/mdev_supported_types/idxd-1swq/available_instances 48
[ -d "$root/sys/devices/virtual/idxd/siov0/$U1" ] && [ -f "$root/sys/devices/virtual/idxd/siov0/$U1/remove" ] \
        && ok "mdev folder" || bad "mdev folder"
grep -q "^alias vfio_pci:.* mlx5_vfio_pci\$" "$root/lib/modules/$(uname -r)/modules.alias" \
        && ok "modules.alias" || bad "modules.alias"

# What libsiov makes of it
out=$("$tool" "$root" scan --verbose)
echo "$out" | sed 's/^/# /'
expect_line() {
        if echo "$out" | grep -qxF -- "$1"; then ok "scan: $1"; else bad "scan: $1"; fi
}
expect_line "parent 0000:00:02.0 kinds=mdev, driver=i915 subsystem=pci syspath=/sys/devices/pci0000:00/0000:00:02.0 broken=-"
expect_line "  type i915-GVTg_V5_4 available=2 api=vfio-pci name= devices=1 broken=-"
expect_line "parent siov0 kinds=mdev, driver= subsystem=idxd syspath=/sys/devices/virtual/idxd/siov0 broken=-"
expect_line "  pool total=16 free=6 mdev_dwq=4 mdev_swq=2 host_netdev=3 host_wq=1 swq_slots=8"
expect_line "  host netdev=3 wq-kernel=1 wq-user=0 vf-host=0"
expect_line "  netdevs siovnet0"
expect_line "  type idxd-1dwq available=5 api=vfio-pci name=1dwq devices=1 broken=-"
expect_line "parent 0000:3b:00.0 kinds=sriov, driver=ice subsystem=pci syspath=/sys/devices/pci0000:00/0000:3b:00.0 broken=-"
expect_line "  host netdev=1 wq-kernel=0 wq-user=0 vf-host=1"
expect_line "  netdevs enp59s0f0 enp59s0f0v3"
expect_line "  sriov total=8 num=4"
expect_line "  type idxd-1dwq available=0 api= name= devices=0 broken=available_instances: not a number: 'abc'; device_api: missing"
expect_line "mdev $U1 parent=siov0 type=idxd-1dwq driver=vfio_mdev"
expect_line "mdev $U2 parent=0000:00:02.0 type=i915-GVTg_V5_4 driver=vfio_mdev"
for v in "0 0000:3b:01.0 driver= usage=unbound" "1 0000:3b:01.1 driver=vfio-pci usage=vfio" \
         "2 0000:3b:01.2 driver=mlx5_vfio_pci usage=vfio" "3 0000:3b:01.3 driver=iavf usage=host"; do
        echo "$out" | grep -q "^  vf $v uuid=" && ok "vf $v" || bad "vf $v"
done
echo "$out" | grep -q "^parents=4 types=4 mdevs=2 pfs=1 vfs=4 " && ok "counts" || bad "counts"

# Removal, release, unbind, raw attributes, symlinks, remove
run remove-mdev $U1 --release
expect_file sys/devices/virtual/idxd/siov0/mdev_supported_types/idxd-1dwq/available_instances 6
[ ! -e "$root/sys/bus/mdev/devices/$U1" ] && [ ! -e "$root/sys/devices/virtual/idxd/siov0/$U1" ] \
        && [ ! -L "$root/sys/devices/virtual/idxd/siov0/mdev_supported_types/idxd-1dwq/devices/$U1" ] \
        && ok "mdev removed" || bad "mdev removed"
run set-driver 0000:3b:01.3
[ ! -e "$root/sys/devices/pci0000:00/0000:3b:01.3/driver" ] && ok "unbound" || bad "unbound"
run set-attr sys/devices/pci0000:00/0000:3b:00.0/sriov_numvfs --raw -- -1
expect_file sys/devices/pci0000:00/0000:3b:00.0/sriov_numvfs -1
run symlink sys/class/mdev_bus/outside /etc
expect_link sys/class/mdev_bus/outside /etc
run remove sys/class/mdev_bus/outside
[ ! -L "$root/sys/class/mdev_bus/outside" ] && ok "removed" || bad "removed"
out=$("$tool" "$root" scan --verbose)
expect_line "parent 0000:3b:00.0 kinds=sriov, driver=ice subsystem=pci syspath=/sys/devices/pci0000:00/0000:3b:00.0 broken=sriov_numvfs: not a number: '-1'"
echo "$out" | grep -q "^parents=4 types=4 mdevs=1 pfs=1 vfs=4 " && ok "counts after" || bad "counts after"

# Errors are errors
"$tool" "$root" add-type nosuchparent t 2>/dev/null && bad "unknown parent accepted" || ok "unknown parent refused"
"$tool" "$root" frobnicate 2>/dev/null && bad "unknown command accepted" || ok "unknown command refused"
"$tool" / add-pf 0000:00:00.0 2>/dev/null && bad "building in / accepted" || ok "building in / refused"

# The benchmark generator, small
small="$root/bench"
"$tool" "$small" bench --parents 3 --mdevs-per-parent 5 --pfs 2 --vfs 9 >/dev/null && ok "bench" || bad "bench"
"$tool" "$small" scan | grep -q "^parents=5 types=6 mdevs=15 pfs=2 vfs=18 " && ok "bench scan" || bad "bench scan"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
