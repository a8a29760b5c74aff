# The demo, inside the guest (run by tests/vm/demo). Shows each command and
# its output; a step that fails is a FAIL line and fails the run.
. "$VM_LIB"

show() {
        echo "DEMO \$ $*"
        "$@" 2>&1 | sed 's/^/DEMO   /'
}
step() { t_check "$@"; }

UUID=0b6f2c4e-1d3a-4b5c-8d9e-0f1a2b3c4d5e
step "system bus with the installed org.siov1 policy" t_dbus_start
siovd >/tmp/siovd.log 2>&1 &
step "siovd owns org.siov1" t_wait_for 10 busctl status org.siov1
step "load the bundled driver: 2 parents of 8 work queues" modprobe siov_mdev parents=2 wqs=8
step "siovd sees both parents" t_wait_for 5 sh -c '[ "$(siovctl --json parents | jq "[.[] | select(.name | startswith(\"siov\"))] | length")" = 2 ]'
show siovctl parents
show siovctl types --parent siov0
step "host netdevs take 3 work queues of siov0" sh -c 'echo 3 > /sys/class/idxd/siov0/host_netdevs'
show ip -brief link show
step "an idxd-1dwq mdev created" sh -c "echo $UUID > /sys/class/mdev_bus/siov0/mdev_supported_types/idxd-1dwq/create"
step "siovd shows it" t_wait_for 5 sh -c "siovctl --json list | jq -e '.[] | select(.uuid == \"$UUID\")'"
show siovctl list --parent siov0
show siovctl types --parent siov0
show siovctl status
show busctl tree org.siov1
t_summary
