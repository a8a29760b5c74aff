#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The real siovd on a fake sysfs tree, on a private system bus that loads the
# project's bus policy, read through the real siovctl and through busctl:
# what they show must match the tree exactly.
. "$(dirname "$0")/lib.sh"

U1=11111111-2222-3333-4444-555555555501
U2=11111111-2222-3333-4444-555555555502
U3=aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeee03

# --- the tree ---------------------------------------------------------------
fake init
# Bundled-driver parent: 8 WQs, 1 held by an mdev, 2 by host netdevs, 1 by a
# host kernel WQ → 4 free.
fake add-siov-parent siov0 --total 8 --free 4 --mdev-dwq 1 --host-netdev 2 --host-wq 1 --swq-slots 4 --netdev siovnet0
fake add-type siov0 idxd-1dwq --available 4 --name "1 dedicated WQ" --description "Takes one whole work queue."
fake add-type siov0 idxd-1swq --available 16 --name "1 shared WQ slot" --description "Takes one of 4 slots on a shared work queue."
fake add-mdev siov0 idxd-1dwq "$U3"
# GVT-g-like PCI parent: types without `name`, description over two lines,
# one type with 0 available.
fake add-mdev-parent 0000:00:02.0 --pci --driver i915
fake add-type 0000:00:02.0 i915-GVTg_V5_4 --available 2 --description $'low_gm_size: 128MB\nhigh_gm_size: 512MB'
fake add-type 0000:00:02.0 i915-GVTg_V5_8 --available 0 --description $'low_gm_size: 64MB\nhigh_gm_size: 384MB'
fake add-mdev 0000:00:02.0 i915-GVTg_V5_4 "$U1"
fake add-mdev 0000:00:02.0 i915-GVTg_V5_4 "$U2"
# A parent with malformed types next to a good one.
fake add-mdev-parent 0000:00:04.0 --pci --driver mtty
fake add-type 0000:00:04.0 mtty-1 --available 3
fake add-type 0000:00:04.0 mtty-2 --available 1
fake set-type-attr 0000:00:04.0 mtty-2 available_instances abc
fake add-type 0000:00:04.0 mtty-3 --no-device-api
# SR-IOV PF with a VF in every state.
fake add-vfio-variant mlx5_vfio_pci
fake add-pf 0000:3b:00.0 --total-vfs 8 --driver mlx5_core
fake add-vf 0000:3b:00.0 0 0000:3b:00.2
fake add-vf 0000:3b:00.0 1 0000:3b:00.3 --driver vfio-pci
fake add-vf 0000:3b:00.0 2 0000:3b:00.4 --driver mlx5_vfio_pci
fake add-vf 0000:3b:00.0 3 0000:3b:00.5 --driver mlx5_core --netdev ens1f0v3
# A device that is both an SR-IOV PF and an mdev parent.
fake add-pf 0000:5e:00.0 --total-vfs 2 --driver ice
fake add-vf 0000:5e:00.0 0 0000:5e:00.1 --driver iavf --netdev ens2f0v0
fake symlink sys/class/mdev_bus/0000:5e:00.0 ../../devices/pci0000:00/0000:5e:00.0
fake add-type 0000:5e:00.0 ice-siov-1 --available 7 --name "SIOV queue pair"

it_bus_start || { it_summary; exit 1; }
it_siovd_start || { it_summary; exit 1; }

# --- parents ----------------------------------------------------------------
P=$(siovctl --json parents)
check_eq "parents: 5, sorted by name" \
        "0000:00:02.0 0000:00:04.0 0000:3b:00.0 0000:5e:00.0 siov0" \
        "$(jq -r '[.[].name] | join(" ")' <<<"$P")"
check_eq "parents: kinds" \
        "0000:00:02.0=mdev 0000:00:04.0=mdev 0000:3b:00.0=sriov 0000:5e:00.0=mdev,sriov siov0=mdev" \
        "$(jq -r '[.[] | "\(.name)=\(.kinds | join(","))"] | join(" ")' <<<"$P")"
check_eq "parents: drivers" "i915 mtty mlx5_core ice " \
        "$(jq -r '[.[].driver] | join(" ")' <<<"$P")"
check_eq "parents: siov0 pool" '{"total":8,"free":4,"mdev_dwq":1,"mdev_swq":0,"host_netdev":2,"host_wq":1,"swq_slots":4}' \
        "$(jq -c '.[] | select(.name == "siov0") | .resources' <<<"$P")"
check_eq "parents: siov0 host usage" '{"netdev":2,"wq_kernel":1,"wq_user":0}' \
        "$(jq -c '.[] | select(.name == "siov0") | .host_usage' <<<"$P")"
check_eq "parents: siov0 netdevs" '["siovnet0"]' "$(jq -c '.[] | select(.name == "siov0") | .netdevs' <<<"$P")"
check_eq "parents: PF VFs num/total" "4/8" \
        "$(jq -r '.[] | select(.name == "0000:3b:00.0") | "\(.num_vfs)/\(.total_vfs)"' <<<"$P")"
check_eq "parents: PF host usage (1 VF on a host driver, its netdev)" '{"netdev":1,"vf_host":1}' \
        "$(jq -c '.[] | select(.name == "0000:3b:00.0") | .host_usage' <<<"$P")"
check_eq "parents: sysfs path" "/sys/devices/virtual/idxd/siov0" \
        "$(jq -r '.[] | select(.name == "siov0") | .sysfs_path' <<<"$P")"

# --- types ------------------------------------------------------------------
TY=$(siovctl --json types)
check_eq "types: 10 (8 mdev types + vf on each PF)" "10" "$(jq length <<<"$TY")"
check_eq "types: availability" \
        "0000:00:02.0/i915-GVTg_V5_4=2 0000:00:02.0/i915-GVTg_V5_8=0 0000:00:04.0/mtty-1=3 0000:00:04.0/mtty-2=0 0000:00:04.0/mtty-3=0 0000:3b:00.0/vf=3 0000:5e:00.0/ice-siov-1=7 0000:5e:00.0/vf=0 siov0/idxd-1dwq=4 siov0/idxd-1swq=16" \
        "$(jq -r '[.[] | "\(.parent)/\(.id)=\(.available_instances)"] | join(" ")' <<<"$TY")"
check_eq "types: GVT-g type has no name" "" \
        "$(jq -r '.[] | select(.id == "i915-GVTg_V5_4") | .name' <<<"$TY")"
check_eq "types: multi-line description kept" $'low_gm_size: 128MB\nhigh_gm_size: 512MB' \
        "$(jq -r '.[] | select(.id == "i915-GVTg_V5_4") | .description' <<<"$TY")"
check "types: non-number available_instances is broken with a reason" \
        jq -e '.[] | select(.id == "mtty-2") | .broken | test("available_instances")' <<<"$TY"
check "types: missing device_api is broken with a reason" \
        jq -e '.[] | select(.id == "mtty-3") | .broken | test("device_api")' <<<"$TY"
check_eq "types: the good type beside them is intact" "3 vfio-pci" \
        "$(jq -r '.[] | select(.id == "mtty-1") | "\(.available_instances) \(.device_api) \(.broken)"' <<<"$TY" | sed 's/ $//')"
check_eq "types --parent filters" "idxd-1dwq idxd-1swq" \
        "$(siovctl --json types --parent siov0 | jq -r '[.[].id] | join(" ")')"

# --- devices ----------------------------------------------------------------
L=$(siovctl --json list)
check_eq "list: 3 mdevs + 5 VFs" "3 5" \
        "$(jq -r '"\([.[] | select(.kind == "mdev")] | length) \([.[] | select(.kind == "vf")] | length)"' <<<"$L")"
check_eq "list: mdevs with parent and type" \
        "$U1=0000:00:02.0/i915-GVTg_V5_4 $U2=0000:00:02.0/i915-GVTg_V5_4 $U3=siov0/idxd-1dwq" \
        "$(jq -r '[.[] | select(.kind == "mdev") | "\(.uuid)=\(.parent)/\(.type)"] | sort | join(" ")' <<<"$L")"
check_eq "list: host usage of each VF" \
        "0000:3b:00.2=free: 0000:3b:00.3=free:vfio-pci 0000:3b:00.4=free:mlx5_vfio_pci 0000:3b:00.5=host:mlx5_core 0000:5e:00.1=host:iavf" \
        "$(jq -r '[.[] | select(.kind == "vf") | "\(.address)=\(if .host_used then "host" else "free" end):\(.driver)"] | sort | join(" ")' <<<"$L")"
check_eq "list: VF netdevs" '["ens1f0v3"]' \
        "$(jq -c '.[] | select(.address == "0000:3b:00.5") | .netdevs' <<<"$L")"
check_eq "list: state active" "active" "$(jq -r '[.[].state] | unique | join(",")' <<<"$L")"
check_eq "list --parent --type filters" "$U1 $U2" \
        "$(siovctl --json list --parent 0000:00:02.0 --type i915-GVTg_V5_4 | jq -r '[.[].uuid] | sort | join(" ")')"

# --- human output, status -----------------------------------------------------
check "parents table names every parent" \
        bash -c 'out=$("$1" --address="$2" parents) && for p in 0000:00:02.0 0000:00:04.0 0000:3b:00.0 0000:5e:00.0 siov0; do grep -q "$p" <<<"$out" || exit 1; done' _ "$SIOVCTL" "$ADDR"
S=$(siovctl --json status)
check_eq "status: counts" "5 10 8" "$(jq -r '"\(.parents) \(.types) \(.devices)"' <<<"$S")"
check "status: reports broken types" jq -e '[.broken[] | select(.reason | test("available_instances"))] | length == 1' <<<"$S"

# --- the bus: tree, GetManagedObjects, introspection ---------------------------
TREE=$(bus tree org.siov1)
DEV1=$(dbus_path /org/siov1/device "$U1")
check "busctl tree shows the parent, type and device objects" bash -c '
        grep -q "/org/siov1/parent/siov0$" <<<"$1" &&
        grep -q "/org/siov1/parent/siov0/type/idxd_2d1dwq$" <<<"$1" &&
        grep -q "$2$" <<<"$1"' _ "$TREE" "$DEV1"
# Two managers: the root's carries the Manager, parents and types, the
# devices' (/org/siov1/device) the devices.
N=$(bus call org.siov1 /org/siov1 org.freedesktop.DBus.ObjectManager GetManagedObjects | awk '{print $2}')
check_eq "GetManagedObjects on the root: 5 parents + 10 types" "15" "$N"
N=$(bus call org.siov1 /org/siov1/device org.freedesktop.DBus.ObjectManager GetManagedObjects | awk '{print $2}')
check_eq "GetManagedObjects on /org/siov1/device: 8 devices" "8" "$N"
check_eq "Type property over the bus" "u 16" \
        "$(bus get-property org.siov1 /org/siov1/parent/siov0/type/idxd_2d1swq org.siov1.Type AvailableInstances)"
check "introspection matches dbus/*.xml member for member" \
        python3 "$TOP_SRCDIR/tests/integration/check-introspection.py" "$ADDR" "$TOP_SRCDIR/dbus" \
        /org/siov1 /org/siov1/parent/siov0 /org/siov1/parent/siov0/type/idxd_2d1dwq "$DEV1"

# --- Rescan picks up what no uevent announced ----------------------------------
fake add-mdev 0000:00:02.0 i915-GVTg_V5_8 11111111-2222-3333-4444-555555555599
fake set-type-attr siov0 idxd-1dwq available_instances 3
check "Rescan()" bus call org.siov1 /org/siov1 org.siov1.Manager Rescan
check_eq "after Rescan: new mdev listed" "1" \
        "$(siovctl --json list --type i915-GVTg_V5_8 | jq length)"
check_eq "after Rescan: availability" "u 3" \
        "$(bus get-property org.siov1 /org/siov1/parent/siov0/type/idxd_2d1dwq org.siov1.Type AvailableInstances)"

# --- errors -------------------------------------------------------------------
out=$(siovctl list --parent siov9 2>&1); rc=$?
check_eq "unknown parent: exit 4" "4" "$rc"
check "unknown parent: one line naming it" bash -c '[ $(wc -l <<<"$1") -eq 1 ] && grep -q "siov9" <<<"$1"' _ "$out"

out=$(siovctl list --type idxd-9zz 2>&1); rc=$?
check_eq "unknown type filter: exit 4" "4" "$rc"
check "unknown type filter: names it and the known types" bash -c 'grep -q "idxd-9zz" <<<"$1" && grep -q "idxd-1dwq" <<<"$1"' _ "$out"
out=$(siovctl list --parent SIOV0 2>&1); rc=$?
check "parent in the wrong case: hint" bash -c '[ "$2" = 4 ] && grep -q "did you mean .siov0." <<<"$1"' _ "$out" "$rc"
check_eq "ListDevices filters on the bus" "1" \
        "$(bus call org.siov1 /org/siov1 org.siov1.Manager ListDevices ss siov0 idxd-1dwq | awk '{print $2}')"

it_siovd_stop; check_eq "siovd exits 0 on SIGTERM" 0 $?
out=$(siovctl parents 2>&1); rc=$?
check_eq "siovd not running: exit 3" "3" "$rc"
check "siovd not running: says so and how to start it" bash -c 'grep -q "not running" <<<"$1" && grep -q "systemctl start siovd" <<<"$1"' _ "$out"

it_summary
