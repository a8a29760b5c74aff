# siovd and siovctl in a real 6.1 kernel (run by tests/vm/siovd/run):
# the bundled driver's parents, the NVMe SR-IOV PF QEMU emulates, live
# changes from real uevents. POSIX sh (busybox ash).
. "$VM_LIB"

UUID=5f2c1e0a-7b3d-4c8e-9a1f-0123456789ab
S=/sys/class/mdev_bus/siov0

t_check "system bus starts with the installed org.siov1 policy" t_dbus_start
t_check "org.siov1.conf installed in system.d" test -f /usr/share/dbus-1/system.d/org.siov1.conf

siovd --log-level=debug >/tmp/siovd.log 2>&1 &
SIOVD_PID=$!
t_check "siovd owns org.siov1" t_wait_for 10 busctl status org.siov1
t_check "siovctl status works before any parent" siovctl status
t_eq "no mdev parent yet" "0" "$(siovctl --json parents | jq '[.[] | select(.kinds | index("mdev"))] | length')"

# --- the bundled driver appears at runtime --------------------------------
t_check "modprobe siov_mdev parents=1" modprobe siov_mdev parents=1 wqs=8
t_check "siovd publishes siov0 (uevent)" t_wait_for 5 sh -c 'siovctl --json parents | jq -e ".[] | select(.name == \"siov0\")"'
avail() { siovctl --json types --parent siov0 | jq -r ".[] | select(.id == \"$1\") | .available_instances"; }
t_eq "idxd-1dwq availability matches sysfs" "$(cat $S/mdev_supported_types/idxd-1dwq/available_instances)" "$(avail idxd-1dwq)"
t_eq "idxd-1swq availability matches sysfs" "$(cat $S/mdev_supported_types/idxd-1swq/available_instances)" "$(avail idxd-1swq)"
before=$(avail idxd-1dwq)

# --- an mdev created through sysfs shows up, availability drops ------------
t_check "create an idxd-1dwq mdev through sysfs" sh -c "echo $UUID > $S/mdev_supported_types/idxd-1dwq/create"
t_check "siovctl list shows it" t_wait_for 5 sh -c "siovctl --json list | jq -e '.[] | select(.uuid == \"$UUID\" and .type == \"idxd-1dwq\" and .parent == \"siov0\")'"
t_check "availability dropped by one" t_wait_for 5 sh -c "[ \"\$(siovctl --json types --parent siov0 | jq -r '.[] | select(.id == \"idxd-1dwq\") | .available_instances')\" = $((before - 1)) ]"

# --- host netdevs take from the same pool ----------------------------------
t_check "raise host netdevs to 2" sh -c "echo 2 > /sys/class/idxd/siov0/host_netdevs"
t_check "availability reflects host netdevs" t_wait_for 5 sh -c "[ \"\$(siovctl --json types --parent siov0 | jq -r '.[] | select(.id == \"idxd-1dwq\") | .available_instances')\" = $((before - 3)) ]"
t_check "HostUsage netdev=2 on the bus" t_wait_for 5 sh -c "siovctl --json parents | jq -e '.[] | select(.name == \"siov0\") | .host_usage.netdev == 2'"
t_eq "siovd's availability equals the kernel's" "$(cat $S/mdev_supported_types/idxd-1dwq/available_instances)" "$(avail idxd-1dwq)"
t_check "host netdevs back to 0" sh -c "echo 0 > /sys/class/idxd/siov0/host_netdevs"

# --- removal -----------------------------------------------------------------
t_check "remove the mdev through sysfs" sh -c "echo 1 > /sys/bus/mdev/devices/$UUID/remove"
t_check "siovctl list no longer shows it" t_wait_for 5 sh -c "! siovctl --json list | jq -e '.[] | select(.uuid == \"$UUID\")'"
t_check "availability restored" t_wait_for 5 sh -c "[ \"\$(siovctl --json types --parent siov0 | jq -r '.[] | select(.id == \"idxd-1dwq\") | .available_instances')\" = $before ]"

# --- SR-IOV: QEMU's NVMe PF ------------------------------------------------
PF=$(for d in /sys/bus/pci/devices/*; do [ -f "$d/sriov_totalvfs" ] && basename "$d"; done | head -n 1)
if [ -n "$PF" ]; then
        t_check "the NVMe PF is an sriov parent" sh -c "siovctl --json parents | jq -e '.[] | select(.name == \"$PF\") | .kinds == [\"sriov\"] and .total_vfs == 2'"
        echo 0 > /sys/bus/pci/devices/$PF/sriov_drivers_autoprobe
        t_check "enable 2 VFs" sh -c "echo 2 > /sys/bus/pci/devices/$PF/sriov_numvfs"
        t_check "siovd lists 2 unbound VFs" t_wait_for 10 sh -c "[ \"\$(siovctl --json list | jq '[.[] | select(.kind == \"vf\" and .parent == \"$PF\" and .host_used == false)] | length')\" = 2 ]"
        t_check "NumVFs=2 on the bus" sh -c "siovctl --json parents | jq -e '.[] | select(.name == \"$PF\") | .num_vfs == 2'"
        t_check "disable the VFs" sh -c "echo 0 > /sys/bus/pci/devices/$PF/sriov_numvfs"
        t_check "siovd drops the VFs" t_wait_for 10 sh -c "[ \"\$(siovctl --json list | jq '[.[] | select(.kind == \"vf\")] | length')\" = 0 ]"
else
        t_fail "an SR-IOV PF is present" "no sriov_totalvfs under /sys/bus/pci/devices (vm-run --sriov?)"
fi

# --- migration versions from the real driver -------------------------------
t_eq "Type.MigrationVersion is the driver's migration_version" \
        "$(cat $S/mdev_supported_types/idxd-1dwq/migration_version)" \
        "$(siovctl --json types --parent siov0 | jq -r '.[] | select(.id == "idxd-1dwq") | .migration_version')"
siovctl migration-info >/tmp/mig.txt
t_check "migration-info names idxd-1swq with its slots" grep -qx "idxd-1swq driver=siov_mdev type=idxd-1swq state=1 swq_slots=4" /tmp/mig.txt
t_check "migration-check of this host's own info: compatible" siovctl migration-check /tmp/mig.txt
sed 's/swq_slots=4/swq_slots=8/' /tmp/mig.txt >/tmp/mig8.txt
t_check_fails "migration-check of another geometry: incompatible" siovctl migration-check /tmp/mig8.txt

# --- a parent going away ----------------------------------------------------
t_check "remove parent siov0 at runtime" sh -c "echo siov0 > /sys/class/idxd/remove_parent"
t_check "siovd drops siov0" t_wait_for 5 sh -c "! siovctl --json parents | jq -e '.[] | select(.name == \"siov0\")'"

kill -TERM $SIOVD_PID
wait $SIOVD_PID
t_eq "siovd exits 0 on SIGTERM" 0 $?
# The installed activation file brings it back on the next call.
t_check "D-Bus activation starts siovd again" siovctl status
t_check "the activated siovd owns org.siov1" busctl status org.siov1
if ! t_summary; then
        echo "--- siovd log"; tail -n 40 /tmp/siovd.log
        exit 1
fi
