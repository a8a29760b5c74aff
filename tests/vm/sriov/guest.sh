[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# SR-IOV through siovd in the full Debian guest (run twice by tests/vm/sriov/run).
. "$VM_LIB"

PHASE=${1:?boot1 or boot2}
PF=$(for d in /sys/bus/pci/devices/*; do [ -f "$d/sriov_totalvfs" ] && basename "$d"; done | head -n 1)
P=/sys/bus/pci/devices/$PF
VF0=0000:01:00.1
VF1=0000:01:00.2

drv() { basename "$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null)" 2>/dev/null; }
# Everything of the PF and its VFs that a numvfs change would alter.
pf_state() {
        echo "numvfs=$(cat $P/sriov_numvfs) autoprobe=$(cat $P/sriov_drivers_autoprobe) vfs=$(cd $P && ls -d virtfn* 2>/dev/null | tr '\n' ' ')"
        for l in "$P"/virtfn*; do
                [ -e "$l" ] || continue
                a=$(basename "$(readlink "$l")")
                echo "$a driver=$(drv "$a") override=$(cat /sys/bus/pci/devices/$a/driver_override)"
        done
}
pjson() { siovctl --json=short parents | jq -r --arg pf "$PF" ".[] | select(.name == \$pf) | .$1"; }
state_of() { siovctl --json=short list | jq -r --arg u "$1" '.[] | select(.uuid == $u) | "\(.state) \(.address) \(.driver)"'; }
journal() { journalctl -b --no-pager -o short-monotonic; }
provision_idle() {
        ! systemctl list-jobs --no-legend 2>/dev/null | grep -q 'siovd-provision@' &&
                ! systemctl list-units --no-legend --state=activating 'siovd-provision@*' 2>/dev/null | grep -q .
}

t_udev_start
t_check "an SR-IOV PF is present (vm-run --sriov)" test -n "$PF"
t_eq "it has 2 VFs at most" 2 "$(cat $P/sriov_totalvfs)"
t_check "its driver is bound (nvme)" test -n "$(drv "$PF")"

if [ "$PHASE" = boot1 ]; then
        t_eq "no VFs at boot" 0 "$(cat $P/sriov_numvfs)"
        modprobe vfio-pci
        t_check "siovctl sriov $PF --numvfs 2 --autoprobe=no --persistent" \
                siovctl sriov "$PF" --numvfs 2 --autoprobe=no --persistent
        t_eq "sysfs: 2 VFs, autoprobe 0" "2 0" "$(cat $P/sriov_numvfs) $(cat $P/sriov_drivers_autoprobe)"
        t_check "virtfn0 and virtfn1" test -e $P/virtfn0 -a -e $P/virtfn1
        t_eq "the VFs are unbound (autoprobe off)" "|" "$(drv $VF0)|$(drv $VF1)"
        t_eq "siovd shows 2 VF devices" "$VF0 $VF1" \
                "$(siovctl --json=short list --type vf | jq -r '[.[].address] | sort | join(" ")')"
        t_check "the configuration file" jq -e --arg pf "$PF" '.pf == $pf and .numvfs == 2 and .autoprobe == false' \
                "/etc/siov/parents/$PF.json"
        U=$(siovctl create --type vf --parent "$PF" --autostart 2>/tmp/err); rc=$?
        t_eq "create --type vf --autostart" 0 $rc
        t_eq "the device is vf0 on vfio-pci" "both $VF0 vfio-pci" "$(state_of "$U")"
        grp=$(basename "$(readlink /sys/bus/pci/devices/$VF0/iommu_group)")
        t_check "/dev/vfio/$grp exists" test -c "/dev/vfio/$grp"

        before=$(pf_state)
        out=$(siovctl sriov "$PF" --numvfs 1 2>&1); rc=$?
        t_eq "numvfs 2 → 1 while siovd holds vf0: refused (exit 1)" 1 $rc
        t_match "... naming vf0, its address and the device" "vf0 $VF0: held by siovd as device $U" "$out"
        out=$(siovctl sriov "$PF" --numvfs 0 --force 2>&1); rc=$?
        t_eq "--force does not override it" 1 $rc
        t_eq "nothing changed in sysfs" "$before" "$(pf_state)"
        t_log "refusal: $out"
        t_eq "the persisted count is still 2" 2 "$(jq -r .numvfs "/etc/siov/parents/$PF.json")"

        cp -a /etc/siov/devices /share/devices && cp -a /etc/siov/parents /share/parents
        t_check "files saved for boot 2" test -f "/share/parents/$PF.json" -a -f "/share/devices/$U.json"
        echo "U=$U" >/share/boot1.env
        t_summary
        exit
fi

# --- boot 2 ---------------------------------------------------------------------
. /share/boot1.env
t_check "vfio-pci loaded at boot (modules-load.d)" test -d /sys/module/vfio_pci
t_check "both VFs come back" t_wait_for 180 test -e $P/virtfn1
t_check "the autostart VF device comes back on vfio-pci" t_wait_for 180 sh -c "[ \"\$(basename \$(readlink /sys/bus/pci/devices/$VF0/driver) 2>/dev/null)\" = vfio-pci ]"
udevadm settle
t_check "provisioning finished" t_wait_for 180 provision_idle
t_eq "sysfs: 2 VFs, autoprobe 0" "2 0" "$(cat $P/sriov_numvfs) $(cat $P/sriov_drivers_autoprobe)"
t_eq "vf1 stays unbound" "" "$(drv $VF1)"
t_eq "the device: same UUID, vf0, vfio-pci" "both $VF0 vfio-pci" "$(state_of "$U")"
siovctl --json parents >/tmp/parents.json
t_log "siovctl --json parents after the reboot:"; jq -c --arg pf "$PF" '.[] | select(.name == $pf)' /tmp/parents.json | sed 's/^/#   /'
t_eq "siovctl --json parents: the PF with the persisted count" "2 2 2 false 0" \
        "$(jq -r --arg pf "$PF" '.[] | select(.name == $pf) | "\(.num_vfs) \(.total_vfs) \(.persistent_numvfs) \(.autoprobe) \(.persistent_autoprobe)"' /tmp/parents.json)"
journal >/tmp/j
t_eq "the VF count was set exactly once" 1 "$(grep -c "siovd\[[0-9]*\]: Changed the VF count of $PF from 0 to 2" /tmp/j)"
t_eq "the device was started exactly once" 1 "$(grep -c "siovd\[[0-9]*\]: Started autostart device $U " /tmp/j)"
t_check "udev started siovd-provision@$PF.service" grep -q "Starting siovd-provision@$PF.service" /tmp/j
t_log "boot lines:"; grep -E 'siovd-provision|siovd\[|siovctl\[' /tmp/j | sed 's/^/#   /' | head -n 30
# Replays: coldplug add and bind again, and the unit by hand.
t_check "replay add and bind" udevadm trigger --settle --action=add "$P"
t_check "provision by hand" siovctl provision "$PF"
t_check "provisioning finished" t_wait_for 180 provision_idle
journal >/tmp/j2
t_eq "still set once, started once" "1 1" \
        "$(grep -c "Changed the VF count of $PF" /tmp/j2) $(grep -c "Started autostart device $U " /tmp/j2)"
t_eq "still 2 VFs, vf0 on vfio-pci" "2 vfio-pci" "$(cat $P/sriov_numvfs) $(drv $VF0)"
t_summary
