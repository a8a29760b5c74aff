# siov-device-plugin in a real 6.1 kernel with the bundled driver (run by
# tests/vm/device-plugin/run): the fake kubelet (kubelet.py) checks the
# flow against the real kernel. POSIX sh (busybox ash).
. "$VM_LIB"

t_check "system bus starts" t_dbus_start
t_check "modprobe siov_mdev parents=1 wqs=4" modprobe siov_mdev parents=1 wqs=4
siovd >/tmp/siovd.log 2>&1 &
t_check "siovd owns org.siov1" t_wait_for 10 busctl status org.siov1
t_check "siovd publishes siov0" t_wait_for 10 sh -c 'siovctl --json parents | jq -e ".[] | select(.name == \"siov0\")"'
mkdir -p /var/lib/kubelet/device-plugins /etc/siov
cat > /etc/siov/device-plugin.json <<JSON
{ "idle_seconds": 3, "resources": [ { "resource": "siov.io/idxd-1dwq", "type": "idxd-1dwq" } ] }
JSON
T_RESULTS=$T_RESULTS python3.11 /opt/kubelet/kubelet.py || t_fail "the fake kubelet ran to its end"
t_check "no mdev left behind" sh -c '[ -z "$(ls /sys/bus/mdev/devices 2>/dev/null)" ]'
t_summary
