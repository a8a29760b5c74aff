# The demo, inside the guest (run by tests/vm/demo). Shows each command and
# its output; a step that fails is a FAIL line and fails the run.
. "$VM_LIB"

show() {
        echo "DEMO \$ $*"
        "$@" 2>&1 | sed 's/^/DEMO   /'
}

export SIOV_DEFINITIONS_DIR=/tmp/siov-devices
t_check "system bus with the installed org.siov1 policy" t_dbus_start
siovd >/tmp/siovd.log 2>&1 &
t_check "siovd owns org.siov1" t_wait_for 10 busctl status org.siov1
t_check "load the bundled driver: 2 parents of 8 work queues" modprobe siov_mdev parents=2 wqs=8
t_check "siovd sees both parents" t_wait_for 5 sh -c '[ "$(siovctl --json parents | jq "[.[] | select(.name | startswith(\"siov\"))] | length")" = 2 ]'
show siovctl parents
show siovctl types --parent siov0

# The host takes 7 of siov0's 8 work queues for netdevs: siovd sees it.
t_check "host netdevs take 7 work queues of siov0" sh -c 'echo 7 > /sys/class/idxd/siov0/host_netdevs'
show ip link show
show siovctl types --parent siov0

U1=$(siovctl create --type idxd-1dwq 2>/tmp/create.err)
t_check "siovctl create --type idxd-1dwq" test -n "$U1"
show cat /tmp/create.err
U2=$(siovctl create --type idxd-1dwq --parent siov0 --persistent --autostart)
t_check "a persistent device on siov0" test -n "$U2"
# siov0 is full now: the refusal says who holds the pool.
show siovctl create --type idxd-1dwq --parent siov0 --persistent
show siovctl list
show siovctl status
show cat "$SIOV_DEFINITIONS_DIR/$U2.json"
t_check "siovctl destroy" siovctl destroy "$U1"
show siovctl list --active
show busctl tree org.siov1
t_summary
