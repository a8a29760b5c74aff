#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Network VFs through the real siovd and siovctl: siovd runs in a private
# network namespace (unshare -rn) holding a veth named as the fake PF's
# netdev, so its rtnetlink requests reach the real kernel, which answers for
# a link without VFs (EOPNOTSUPP). Checked: every bad --vf-* value refused
# by name with nothing changed; vf_* on a PF without a netdev or on an mdev
# type refused; the kernel's refusal rolls the create back (VF not bound,
# no definition); the stored settings are applied again at start (and
# refused again, by the kernel); Device.Vf* and `list --json` read the PF
# back over RTM_GETLINK. What only a NIC with VFs can show (a VF's MAC
# really set) is the VM layer's note in the README.
. "$(dirname "$0")/lib.sh"

FAKE_KERNEL=$TOP_BUILDDIR/tests/common/.libs/fake-kernel.so
[ -f "$FAKE_KERNEL" ] || { fail "fake kernel built" "$FAKE_KERNEL missing"; it_summary; exit 1; }
unshare -rn true 2>/dev/null || { fail "unshare -rn works (user and network namespaces)"; it_summary; exit 1; }
command -v ip >/dev/null || { fail "ip (iproute2) installed"; it_summary; exit 1; }
DEFS=$IT_DIR/defs
export SIOV_DEFINITIONS_DIR=$DEFS SIOV_PARENTS_DIR=$IT_DIR/parents
PF=0000:01:00.0         # a NIC PF: netdev enpf0
PF2=0000:02:00.0        # no netdev (an NVMe PF)
IFNAME=enpf0

# siovd in its own network namespace, with a veth named as the PF's netdev.
siovd_up() {
        "$SIOVD" --version >/dev/null || return 1
        unshare -rn sh -c 'ip link add "$1" type veth peer name "$1p" && shift && exec "$@"' _ "$IFNAME" \
                env LD_PRELOAD="$FAKE_KERNEL" SIOV_FAKE_KERNEL_ROOT="$ROOT" \
                "$SIOVD" --sysfs-root="$ROOT" >>"$IT_DIR/siovd.log" 2>&1 &
        SIOVD_PID=$!
        it_wait_siovd
}
vfdrv() { readlink "$ROOT/sys/bus/pci/devices/$1/driver" 2>/dev/null | sed 's|.*/||'; }
state() {       # what a refusal must leave alone
        echo "vf0=$(vfdrv 0000:01:00.1) vf1=$(vfdrv 0000:01:00.2) defs=$(ls "$DEFS" 2>/dev/null | tr '\n' ' ')"
        siovctl --json list --type vf | jq -c '[.[] | {address, state, driver}] | sort_by(.address)'
}
create() { siovctl create --type vf "$@" 2>&1; }

fake init
fake add-pf $PF --total-vfs 2 --driver ice
fake add-netdev $PF $IFNAME
fake add-pf $PF2 --total-vfs 2 --driver nvme
fake add-siov-parent siov0 --total 4 --free 4 --swq-slots 4
mkdir -p "$ROOT/sys/bus/pci/drivers/vfio-pci" "$ROOT/fake-kernel" "$DEFS" "$IT_DIR/parents"

it_bus_start || { it_summary; exit 1; }
siovd_up || { it_summary; exit 1; }
check "sriov $PF --numvfs 2" siovctl sriov $PF --numvfs 2
check "sriov $PF2 --numvfs 2" siovctl sriov $PF2 --numvfs 2

# --- bad input: named, nothing changed -----------------------------------------
before=$(state)
out=$(create -p $PF --vf-vlan 5000); rc=$?
check "--vf-vlan 5000: InvalidArgument naming vf_vlan" \
        bash -c '[ $2 = 2 ] && grep -q "vf_vlan.*5000 is not a VLAN id" <<<"$1"' _ "$out" $rc
out=$(create -p $PF --vf-vlan 10,8)
check "--vf-vlan 10,8: the priority's range" grep -q "vf_qos.*8 is not an 802.1p priority" <<<"$out"
out=$(create -p $PF --vf-vlan ten)
check "--vf-vlan ten: usage error" grep -q -- "--vf-vlan takes ID or ID,QOS" <<<"$out"
out=$(create -p $PF --vf-mac 01:00:5e:00:00:01)
check "--vf-mac multicast: refused as multicast" grep -q "multicast" <<<"$out"
out=$(create -p $PF --vf-mac 02:00:00:00:01)
check "--vf-mac short: not a MAC address" grep -q "is not a MAC address" <<<"$out"
out=$(create -p $PF --vf-link-state up)
check "--vf-link-state up: the three values named" grep -q "not auto, enable or disable" <<<"$out"
out=$(create -p $PF --vf-trust maybe)
check "--vf-trust maybe: usage error" grep -q -- "--vf-trust takes 'on' or 'off'" <<<"$out"
out=$(bus call org.siov1 /org/siov1 org.siov1.Manager CreateDevice 'sssa{sv}' $PF vf "" 1 vf_qos u 3 2>&1)
check "vf_qos without vf_vlan on the bus: InvalidArgument" \
        bash -c 'grep -q "org.siov1.Error.InvalidArgument\|give .vf_vlan. too" <<<"$1"' _ "$out"
out=$(bus call org.siov1 /org/siov1 org.siov1.Manager CreateDevice 'sssa{sv}' $PF vf "" 1 vf_trust s on 2>&1)
check "vf_trust of the wrong type" grep -q "option 'vf_trust' must be of type b" <<<"$out"
out=$(create -p $PF2 --vf-trust on)
check "a PF without a netdev: refused, naming the PF and its driver" \
        grep -q "PF $PF2 has no netdev (driver nvme)" <<<"$out"
out=$(siovctl create --type idxd-1dwq -p siov0 --vf-spoofchk off 2>&1)
check "vf_* on an mdev type: refused" grep -q "for VFs only" <<<"$out"
out=$(bus call org.siov1 /org/siov1 org.siov1.Manager DefineDevice 'sssa{sv}' $PF vf "" 1 vf_trust b true 2>&1)
check "DefineDevice takes no vf_* option" grep -q "unknown option 'vf_trust'" <<<"$out"
check_eq "bad input changed nothing" "$before" "$(state)"

# --- the kernel's refusal rolls the create back --------------------------------
out=$(create -p $PF --vf-mac 02:00:00:00:00:07 --vf-vlan 100,3 --vf-trust on --persistent); rc=$?
check "the PF refuses (veth has no VFs): KernelError, exit 1" \
        bash -c '[ $2 = 1 ] && grep -q "org.siov1.Error.KernelError\|refused" <<<"$1"' _ "$out" $rc
check "the message names the PF, its netdev, the VF, the settings and the errno" \
        bash -c 'grep -q "$2 (netdev enpf0) refused mac, vlan, trust of VF 0: Operation not supported" <<<"$1"' _ "$out" $PF
check_eq "rolled back: VF not bound, no definition" "$before" "$(state)"

# Without settings the same VF is created (the bind path is unchanged).
UV=$(siovctl create --type vf -p $PF 2>/dev/null); rc=$?
check_eq "create --type vf without settings" "0 vfio-pci" "$rc $(vfdrv 0000:01:00.1)"
check "destroy it" siovctl destroy "$UV"

# --- read back: Device.Vf* and list --json --------------------------------------
VF0=$(siovctl --json list --type vf | jq -r ".[] | select(.address == \"0000:01:00.1\") | .uuid")
check_eq "Device.VfMac of a VF of a netdev PF (veth reports no VF list)" 's ""' \
        "$(bus get-property org.siov1 "$(dbus_path /org/siov1/device "$VF0")" org.siov1.Device VfMac)"
check_eq "Device.VfVlan" "u 0" \
        "$(bus get-property org.siov1 "$(dbus_path /org/siov1/device "$VF0")" org.siov1.Device VfVlan)"
check_eq "list --json: vf_* for the netdev PF's VFs only" "true true false false" \
        "$(siovctl --json list --type vf | jq -r 'sort_by(.address) | .[] | has("vf_mac")' | tr '\n' ' ' | sed 's/ $//')"
check_eq "ListVfNetwork: the two VFs of $PF" "2" \
        "$(bus call org.siov1 /org/siov1 org.siov1.Manager ListVfNetwork s "" | awk '{print $2}')"
out=$(bus call org.siov1 /org/siov1 org.siov1.Manager ListVfNetwork s 0000:09:00.0 2>&1)
check "ListVfNetwork of an unknown parent: NoSuchParent naming it" grep -q "no such parent '0000:09:00.0'" <<<"$out"

# --- stored settings are applied again at start ---------------------------------
VF1=$(siovctl --json list --type vf | jq -r ".[] | select(.address == \"0000:01:00.2\") | .uuid")
cat >"$DEFS/$VF1.json" <<EOF
{"uuid": "$VF1", "parent": "$PF", "type": "vf", "autostart": false, "attrs": [],
 "vf_net": {"mac": "02:00:00:00:00:09", "link_state": "disable", "spoofchk": true}}
EOF
check "siovd reads the definition with vf_net" bus call org.siov1 /org/siov1 org.siov1.Manager Rescan
sleep 0.5
out=$(siovctl start "$VF1" 2>&1); rc=$?
check "start applies the stored settings first: the PF refuses them, named" \
        bash -c '[ $2 != 0 ] && grep -q "refused mac, spoofchk, link state of VF 1" <<<"$1"' _ "$out" $rc
check_eq "the VF stays unbound" "" "$(vfdrv 0000:01:00.2)"
check "the definition is kept as it was" grep -q '"link_state": "disable"' "$DEFS/$VF1.json"
echo '{"uuid": "'"$VF1"'", "parent": "'"$PF"'", "type": "vf", "vf_net": {"vlan": 4096}}' >"$DEFS/$VF1.json"
bus call org.siov1 /org/siov1 org.siov1.Manager Rescan >/dev/null 2>&1; sleep 0.5
out=$(siovctl status 2>&1)
check "a definition with a bad vf_net is skipped with the reason" grep -q "vf_net.vlan: 4096 is out of range" <<<"$out"

# --- per-VF settings kept with the PF (Parent.SetVfNetwork, sriov --vf) ----------
rm -f "$DEFS/$VF1.json"
bus call org.siov1 /org/siov1 org.siov1.Manager Rescan >/dev/null 2>&1
PFCONF=$IT_DIR/parents/$PF.json
before=$(state; cat "$PFCONF" 2>/dev/null)
out=$(siovctl sriov $PF --autoprobe=no --vf-trust on 2>&1); rc=$?
check "sriov --vf-trust without --vf: usage error before anything changed" \
        bash -c '[ $2 = 2 ] && grep -q -- "need --vf N" <<<"$1"' _ "$out" $rc
out=$(siovctl sriov $PF --vf 0 2>&1); rc=$?
check "sriov --vf 0 without a setting: usage error" bash -c '[ $2 = 2 ] && grep -q "needs a setting" <<<"$1"' _ "$out" $rc
out=$(siovctl sriov $PF --vf 7 --vf-trust on 2>&1); rc=$?
check "a VF the PF does not have: InvalidArgument naming the count" \
        bash -c '[ $2 = 2 ] && grep -q "has no VF 7 (it has 2 VFs" <<<"$1"' _ "$out" $rc
out=$(siovctl sriov $PF2 --vf 0 --vf-trust on 2>&1)
check "SetVfNetwork on a PF without a netdev: refused" grep -q "PF $PF2 has no netdev (driver nvme)" <<<"$out"
out=$(bus call org.siov1 "$(dbus_path /org/siov1/parent siov0)" org.siov1.Parent SetVfNetwork 'ua{sv}a{sv}' 0 1 vf_trust b true 0 2>&1)
check "SetVfNetwork on an mdev parent: refused" grep -q "not an SR-IOV physical function" <<<"$out"
out=$(bus call org.siov1 "$(dbus_path /org/siov1/parent $PF)" org.siov1.Parent SetVfNetwork 'ua{sv}a{sv}' 0 0 0 2>&1)
check "SetVfNetwork with no setting: InvalidArgument" grep -q "no setting given" <<<"$out"
out=$(bus call org.siov1 "$(dbus_path /org/siov1/parent $PF)" org.siov1.Parent SetVfNetwork 'ua{sv}a{sv}' 0 1 vf_vlan u 4096 0 2>&1)
check "SetVfNetwork vf_vlan 4096: InvalidArgument" grep -q "4096 is not a VLAN id" <<<"$out"
out=$(bus call org.siov1 "$(dbus_path /org/siov1/parent $PF)" org.siov1.Parent SetVfNetwork 'ua{sv}a{sv}' 0 1 persistent b true 0 2>&1)
check "SetVfNetwork: persistent is an option, not a setting" grep -q "unknown option 'persistent'" <<<"$out"
out=$(siovctl sriov $PF --vf 1 --vf-mac 02:00:00:00:00:11 --vf-link-state enable --persistent 2>&1); rc=$?
check "sriov --vf 1 --persistent: the PF refuses (veth), named, exit 1" \
        bash -c '[ $2 = 1 ] && grep -q "(netdev enpf0) refused mac, link state of VF 1: Operation not supported" <<<"$1"' _ "$out" $rc
check_eq "a refused setting is not kept, nothing changed" "$before" "$(state; cat "$PFCONF" 2>/dev/null)"

# A PF configuration with per-VF settings: applied at provisioning, after
# the VF count, each refused here by the kernel and logged.
echo '{"pf": "'"$PF"'", "numvfs": 2, "vfs": {"0": {"mac": "02:00:00:00:00:20", "trust": true},
 "1": {"vlan": 7, "qos": 1}}}' >"$PFCONF"
bus call org.siov1 /org/siov1 org.siov1.Manager Rescan >/dev/null 2>&1
sleep 0.3
check "provision $PF" siovctl provision $PF
sleep 0.5
check "provisioning applied VF 0's settings (the kernel refused them, logged)" \
        grep -q "Cannot set VF 0 of PF $PF from its configuration: $PF (netdev enpf0) refused mac, trust of VF 0: Operation not supported" "$IT_DIR/siovd.log"
check "... and VF 1's" grep -q "refused vlan of VF 1: Operation not supported" "$IT_DIR/siovd.log"
echo '{"pf": "'"$PF"'", "vfs": {"0": {"vlan": 9999}}}' >"$PFCONF"
bus call org.siov1 /org/siov1 org.siov1.Manager Rescan >/dev/null 2>&1
sleep 0.3
out=$(siovctl status 2>&1)
check "a PF configuration with a bad VF setting is reported and kept" \
        bash -c 'grep -q "vf_net.vlan: 9999 is out of range" <<<"$1" && grep -q 9999 "$2"' _ "$out" "$PFCONF"

it_siovd_stop
check "siovd exits cleanly" test $? -eq 0
it_summary
