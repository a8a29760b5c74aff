[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# siovd + a real libvirtd (qemu driver, TCG) in the full Debian guest with
# the bundled driver (run by tests/vm/libvirt/run). siovd is D-Bus activated
# and talks to qemu:///system; the installed hook is
# /etc/libvirt/hooks/qemu.d/siovd.
. "$VM_LIB"

HOOK=/etc/libvirt/hooks/qemu.d/siovd
DEFS=/etc/siov/devices
UUID_RE='^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
V() { timeout 120 virsh -q -c qemu:///system "$@"; }
n_mdevs() { ls /sys/bus/mdev/devices 2>/dev/null | wc -l; }
active() { test -e "/sys/bus/mdev/devices/$1"; }
field() { siovctl --json=short list | jq -r --arg u "$1" ".[] | select(.uuid == \$u) | .$2"; }
n_defs() { ls "$DEFS" 2>/dev/null | grep -c '\.json$'; }
free_wqs() { cat /sys/class/idxd/siov0/pool/free; }
# hostdevs VM UUID [live]: how many mdev hostdevs with that UUID the VM's
# persistent (default) or live definition holds
hostdevs() {
        local flags=--inactive
        [ "${3:-}" = live ] && flags=
        V dumpxml $flags "$1" | tr -d '\n' | sed 's/<hostdev /\n<hostdev /g; s/<\/hostdev>/<\/hostdev>\n/g' |
                grep "^<hostdev mode='subsystem' type='mdev'" | grep "model='vfio-pci'" |
                grep -cE "<source>[[:space:]]*<address uuid='$2'/>"
}
domain() {
        cat <<-EOF
	<domain type='qemu'>
	  <name>$1</name>
	  <memory unit='MiB'>64</memory>
	  <vcpu>1</vcpu>
	  <os><type arch='x86_64' machine='q35'>hvm</type></os>
	  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator>${2:-}</devices>
	</domain>
	EOF
}
# Runs the installed hook as libvirt does: VM OP SUBOP -, domain XML on stdin.
hook() {
        local vm=$1 op=$2 sub=$3
        V dumpxml "$vm" >/tmp/hook-$vm.xml || return 1
        timeout 60 "$HOOK" "$vm" "$op" "$sub" - </tmp/hook-$vm.xml
}

# --- libvirtd, by hand (libvirt-daemon without -system: no units, no network) ----
t_check "libvirtd, virsh, qemu-system-x86_64 and jq are in the image" \
        sh -c 'command -v libvirtd && command -v virsh && command -v qemu-system-x86_64 && command -v jq'
t_check "the hook is installed and executable" test -x "$HOOK"
mkdir -p /var/lib/libvirt /var/cache/libvirt /var/log/libvirt /run/libvirt
cat >/etc/libvirt/libvirtd.conf <<'EOF'
unix_sock_group = "root"
unix_sock_rw_perms = "0700"
auth_unix_ro = "none"
auth_unix_rw = "none"
EOF
# root, no security driver, no cgroups: a test guest; libvirt-daemon-system
# would create the libvirt-qemu user the qemu driver looks up.
cat >/etc/libvirt/qemu.conf <<'EOF'
user = "root"
group = "root"
stdio_handler = "file"
security_driver = "none"
namespaces = [ ]
cgroup_controllers = [ ]
EOF
getent passwd libvirt-qemu >/dev/null || {
        echo 'libvirt-qemu:x:64055:64055:Libvirt Qemu:/var/lib/libvirt:/usr/sbin/nologin' >>/etc/passwd
        echo 'libvirt-qemu:x:64055:' >>/etc/group
}
t_check "libvirtd starts" libvirtd -d
t_check "qemu:///system answers (capability probe)" t_wait_for 120 V version
domain vm1 >/tmp/vm1.xml
# vm2 has free PCIe root ports for hot-plugs; vm1 has none to spare.
ports="<controller type='pci' index='0' model='pcie-root'/>"
for i in 1 2 3 4 5; do ports+="<controller type='pci' index='$i' model='pcie-root-port'/>"; done
domain vm2 "$ports" >/tmp/vm2.xml
t_check "define vm1" V define /tmp/vm1.xml
t_check "define vm2" V define /tmp/vm2.xml
V dumpxml --inactive vm1 >/tmp/vm1.orig.xml
V dumpxml --inactive vm2 >/tmp/vm2.orig.xml
t_check "modprobe siov_mdev parents=1 wqs=8" modprobe siov_mdev parents=1 wqs=8
t_check "siovd (D-Bus activated) sees siov0" t_wait_for 20 sh -c 'siovctl --json parents | jq -e ".[] | select(.name == \"siov0\")"'
free0=$(free_wqs)

# --- create --vm / destroy ----------------------------------------------------------
t_log "siovctl create --type idxd-1dwq --vm vm1"
U=$(siovctl create --type idxd-1dwq --vm vm1 2>/tmp/err); rc=$?
t_eq "siovctl create --type idxd-1dwq --vm vm1: exit 0" 0 $rc
t_match "... prints the UUID" "$UUID_RE" "$U"
[ $rc -eq 0 ] || t_log "stderr: $(cat /tmp/err)"
t_check "... the mdev exists" active "$U"
t_eq "virsh dumpxml vm1 shows the hostdev (type mdev, vfio-pci, the UUID)" 1 "$(hostdevs vm1 "$U")"
t_eq "the device's VM is vm1" vm1 "$(field "$U" vm)"
t_eq "siovctl list --vm vm1 lists it" "$U" "$(siovctl --json=short list --vm vm1 | jq -r '.[].uuid')"
t_eq "vm2 untouched" "" "$(V dumpxml --inactive vm2 | diff - /tmp/vm2.orig.xml)"
t_check "siovctl destroy UUID" siovctl destroy "$U"
t_check "... the mdev is gone" test ! -e "/sys/bus/mdev/devices/$U"
t_eq "... and the hostdev is gone from vm1" 0 "$(hostdevs vm1 "$U")"
t_eq "... no hostdev left in vm1 at all" 0 "$(V dumpxml --inactive vm1 | grep -c '<hostdev')"
d=$(V dumpxml --inactive vm1 | diff /tmp/vm1.orig.xml - | grep '^[<>]')
[ -z "$d" ] || t_log "vm1's XML after create+destroy differs from the original by: $(echo "$d" | tr '\n' ' ')"
t_eq "pool back" "$free0" "$(free_wqs)"

# --persistent --vm: the definition records the VM too.
U=$(siovctl create --type idxd-1dwq --vm vm1 --persistent 2>/dev/null)
t_match "create --persistent --vm vm1" "$UUID_RE" "$U"
t_check "... the definition records vm1" jq -e '.vm == "vm1"' "$DEFS/$U.json"
t_eq "... and vm1 has the hostdev" 1 "$(hostdevs vm1 "$U")"
t_check "assign it to vm2 instead: unassign" siovctl unassign "$U"
t_eq "... vm1 lost the hostdev" 0 "$(hostdevs vm1 "$U")"
t_check "... assign --vm vm2" siovctl assign "$U" --vm vm2
t_eq "... vm2 has the hostdev" 1 "$(hostdevs vm2 "$U")"
t_check "... the definition records vm2" jq -e '.vm == "vm2"' "$DEFS/$U.json"
t_check "destroy it" siovctl destroy "$U"
t_eq "... vm2 lost the hostdev" 0 "$(hostdevs vm2 "$U")"
t_check "... no definition left" test ! -e "$DEFS/$U.json"
t_eq "... no mdev left" 0 "$(n_mdevs)"

# --- failures leave nothing behind ------------------------------------------------
t_log "a VM that does not exist"
V dumpxml --inactive vm1 >/tmp/vm1.before.xml
for p in "" --persistent; do
        out=$(siovctl create --type idxd-1dwq --vm ghost $p 2>&1); rc=$?
        t_check "create ${p:+$p }--vm ghost fails" test $rc -ne 0 -a $rc -ne 3
        t_log "exit $rc: $out"
        t_match "... naming the VM and libvirt's reason" "ghost.*(not found|no domain)" "$out"
        t_eq "... no mdev left" 0 "$(n_mdevs)"
        t_eq "... no definition left" 0 "$(n_defs)"
        t_eq "... pool unchanged" "$free0" "$(free_wqs)"
done
t_eq "... vm1's XML unchanged" "" "$(V dumpxml --inactive vm1 | diff /tmp/vm1.before.xml -)"
t_eq "siovd lists no device" "" "$(siovctl --json=short list | jq -r '.[].uuid')"

t_log "libvirt refuses: the UUID is in vm1's definition already"
X=5a1e0000-0000-4000-8000-00000000d00d
cat >/tmp/x.xml <<EOF
<hostdev mode='subsystem' type='mdev' model='vfio-pci'><source><address uuid='$X'/></source></hostdev>
EOF
t_check "virsh attach-device --config a hostdev for $X" V attach-device vm1 /tmp/x.xml --config
V dumpxml --inactive vm1 >/tmp/vm1.before.xml
out=$(siovctl create --type idxd-1dwq --uuid $X --vm vm1 2>&1); rc=$?
t_check "create --uuid X --vm vm1 fails" test $rc -ne 0 -a $rc -ne 3
t_log "exit $rc: $out"
t_match "... naming vm1 and libvirt's message" "vm1.*(already|exists)" "$out"
t_check "... the mdev created for it is gone" test ! -e "/sys/bus/mdev/devices/$X"
t_eq "... vm1's XML unchanged" "" "$(V dumpxml --inactive vm1 | diff /tmp/vm1.before.xml -)"
t_eq "... pool unchanged" "$free0" "$(free_wqs)"
t_check "virsh detach-device --config it" V detach-device vm1 /tmp/x.xml --config

# --- the hook, called as libvirt calls it ------------------------------------------
t_log "hook: prepare begin / release end"
D1=$(siovctl define --type idxd-1dwq --parent siov0 --vm vm1 2>/dev/null)
D2=$(siovctl define --type idxd-1swq --parent siov0 --vm vm1 --autostart 2>/dev/null)
t_match "define a per-VM device D1 for vm1" "$UUID_RE" "$D1"
t_match "define an autostart device D2 for vm1" "$UUID_RE" "$D2"
t_eq "both defined, not active" "defined defined" "$(field "$D1" state) $(field "$D2" state)"
t_eq "vm1's definition names D1" 1 "$(hostdevs vm1 "$D1")"
t_eq "vm1's definition names D2" 1 "$(hostdevs vm1 "$D2")"
t_check "hook vm1 prepare begin: exit 0" hook vm1 prepare begin
t_check "... D1 is active" active "$D1"
t_check "... D2 is active" active "$D2"
t_eq "... exactly 2 mdevs" 2 "$(n_mdevs)"
t_check "hook vm1 start begin: exit 0" hook vm1 start begin
t_check "hook vm1 prepare begin again: exit 0" hook vm1 prepare begin
t_eq "... still exactly 2 mdevs" 2 "$(n_mdevs)"
t_check "hook vm2 prepare begin (no hostdevs): exit 0" hook vm2 prepare begin
t_check "hook vm1 release end: exit 0" hook vm1 release end
t_check "... D1 (per-VM) stopped" test ! -e "/sys/bus/mdev/devices/$D1"
t_eq "... D1 still defined" defined "$(field "$D1" state)"
t_check "... D2 (autostart) still active" active "$D2"
t_check "hook vm1 release end again: exit 0" hook vm1 release end
t_eq "... 1 mdev" 1 "$(n_mdevs)"

t_log "hook: a device that cannot be provided fails the start"
# D2 holds one WQ (shared); 7 host netdevs take the rest: no room for D1.
t_check "7 host netdevs" sh -c 'echo 7 > /sys/class/idxd/siov0/host_netdevs'
t_check "siovd sees the pool drained" t_wait_for 5 sh -c \
        "siovctl --json types --parent siov0 | jq -e '.[] | select(.id == \"idxd-1dwq\") | .available_instances == 0'"
out=$(hook vm1 prepare begin 2>&1); rc=$?
t_check "hook vm1 prepare begin: non-zero" test $rc -ne 0
t_log "exit $rc: $out"
t_match "... saying which device, which VM and why" "$D1.*vm1.*(capacity|available|host netdev)" "$out"
t_check "... D1 not active" test ! -e "/sys/bus/mdev/devices/$D1"
t_check "... D2 (active before) left alone" active "$D2"
t_check "host netdevs back to 0" sh -c 'echo 0 > /sys/class/idxd/siov0/host_netdevs'

# --- libvirt runs the hook itself: virsh start / destroy --------------------------
t_log "virsh start --paused vm1: libvirt runs the hook, QEMU opens the mdev"
t_check "virsh start --paused vm1" V start --paused vm1
t_check "... D1 was started by the hook" active "$D1"
t_check "... QEMU holds the mdev" sh -c "grep -l 'sysfsdev.*$D1' /proc/[0-9]*/cmdline"
t_eq "... the live XML has D1" 1 "$(hostdevs vm1 "$D1" live)"
out=$(siovctl destroy "$D1" 2>&1); rc=$?
t_eq "destroy of a device the running vm1 uses: exit 1" 1 $rc
t_log "exit $rc: $out"
t_match "... refused, naming vm1" "in use by VM vm1" "$out"
t_check "... D1 still active" active "$D1"
t_eq "... still in vm1's definition" 1 "$(hostdevs vm1 "$D1")"
# vm1 has no free PCIe slot for a hot-plug: libvirt refuses, nothing stays.
V dumpxml --inactive vm1 >/tmp/vm1.before.xml
V dumpxml vm1 >/tmp/vm1.live.xml
n0=$(n_mdevs)
out=$(siovctl create --type idxd-1dwq --vm vm1 2>&1); rc=$?
t_check "create --vm vm1 (running, no free slot) fails" test $rc -ne 0 -a $rc -ne 3
t_log "exit $rc: $out"
t_match "... naming vm1 and libvirt's message" "vm1.*PCI slot" "$out"
t_eq "... no new mdev" "$n0" "$(n_mdevs)"
t_eq "... vm1's definition unchanged" "" "$(V dumpxml --inactive vm1 | diff /tmp/vm1.before.xml -)"
t_eq "... vm1's live XML unchanged" "" "$(V dumpxml vm1 | diff /tmp/vm1.live.xml -)"
t_check "virsh destroy vm1" V destroy vm1
t_check "... libvirt's release end stopped D1" t_wait_for 20 test ! -e "/sys/bus/mdev/devices/$D1"
t_check "... D2 (autostart) still active" active "$D2"

t_log "destroy --force of an mdev QEMU holds (issue 11): answered, 'removing', final when QEMU exits"
# A bare QEMU (no libvirt, no VM assignment) opens the mdev through VFIO.
# On the removal request it keeps the device (q35's root bus cannot
# hot-unplug), so the kernel's remove waits until QEMU exits.
F=$(siovctl create --type idxd-1dwq --parent siov0 2>/dev/null)
t_match "create F" "$UUID_RE" "$F"
g=$(basename "$(readlink "/sys/bus/mdev/devices/$F/iommu_group")")
qemu-system-x86_64 -accel tcg -M q35 -m 64 -nodefaults -nographic -display none -S \
        -monitor none -device vfio-pci,sysfsdev=/sys/bus/mdev/devices/$F >/tmp/qemu-f.log 2>&1 &
QPID=$!
t_check "... QEMU opened it (/dev/vfio/$g)" t_wait_for 60 sh -c "ls -l /proc/$QPID/fd 2>/dev/null | grep -q ' /dev/vfio/$g\$'"
out=$(timeout 60 siovctl destroy --force "$F" 2>&1); rc=$?
t_eq "destroy --force while QEMU holds it: answered, exit 0" 0 $rc
t_log "exit $rc: $out"
t_match "... naming QEMU's PID" "process $QPID" "$out"
t_eq "... F is 'removing'" removing "$(field "$F" state)"
# sd_bus_path_encode of a UUID: "-" and a leading digit as _xx.
f1=${F:0:1}; case $f1 in [0-9]) f1=$(printf '_%02x' "'$f1") ;; esac
FPATH=/org/siov1/device/$f1$(echo "${F:1}" | sed 's/-/_2d/g')
t_eq "... HolderPID is QEMU's" "u $QPID" "$(busctl get-property org.siov1 "$FPATH" org.siov1.Device HolderPID)"
out=$(timeout 60 siovctl destroy --force "$F" 2>&1); rc=$?
t_eq "a second destroy: exit 1 (Busy)" 1 $rc
t_match "... saying it is being removed, by whom" "being removed.*process $QPID" "$out"
t_check "other calls are answered meanwhile" timeout 20 siovctl list
G=$(timeout 60 siovctl create --type idxd-1dwq --parent siov0 2>/dev/null)
t_match "a create on the same parent completes meanwhile" "$UUID_RE" "$G"
t_check "QEMU still holds F" kill -0 $QPID
t_check "QEMU exits (quit)" kill $QPID
t_check "... the kernel finishes: F is gone" t_wait_for 60 sh -c "! siovctl --json=short list | grep -q $F"
t_check "... from sysfs too" test ! -e "/sys/bus/mdev/devices/$F"
t_check "siovctl destroy G" siovctl destroy "$G"

t_log "hot-plug into a running VM with a free slot (vm2)"
t_check "virsh start --paused vm2" V start --paused vm2
H=$(siovctl create --type idxd-1dwq --vm vm2 2>/tmp/err); rc=$?
t_eq "create --vm vm2 while it runs: exit 0" 0 $rc
[ $rc -eq 0 ] || t_log "stderr: $(cat /tmp/err)"
t_eq "... the live XML has it (hot-plugged)" 1 "$(hostdevs vm2 "$H" live)"
t_eq "... the persistent XML has it" 1 "$(hostdevs vm2 "$H")"
g=$(basename "$(readlink "/sys/bus/mdev/devices/$H/iommu_group")")
t_check "... QEMU opened it (/dev/vfio/$g)" t_wait_for 10 sh -c "ls -l /proc/[0-9]*/fd 2>/dev/null | grep -q ' /dev/vfio/$g\$'"
out=$(siovctl destroy "$H" 2>&1); rc=$?
t_eq "destroy it while vm2 runs: exit 1 (busy)" 1 $rc
t_match "... naming vm2" "in use by VM vm2" "$out"
t_check "virsh destroy vm2" V destroy vm2
t_check "destroy the hot-plugged device now vm2 is off" siovctl destroy "$H"
t_eq "... gone from vm2's definition" 0 "$(hostdevs vm2 "$H")"
t_check "siovctl destroy D1 (vm1 off)" siovctl destroy "$D1"
t_eq "... gone from vm1's definition" 0 "$(hostdevs vm1 "$D1")"
t_check "siovctl destroy D2" siovctl destroy "$D2"
t_eq "... gone from vm1's definition" 0 "$(hostdevs vm1 "$D2")"
t_eq "no mdev left" 0 "$(n_mdevs)"
t_eq "no definition left" 0 "$(n_defs)"
t_eq "no hostdev left in vm1" 0 "$(V dumpxml --inactive vm1 | grep -c '<hostdev')"
t_eq "no hostdev left in vm2" 0 "$(V dumpxml --inactive vm2 | grep -c '<hostdev')"
t_eq "pool back" "$free0" "$(free_wqs)"
if ! t_summary; then
        echo "--- journal (siovd, libvirtd)"
        journalctl -b --no-pager -t siovd -t libvirtd | tail -n 40
        exit 1
fi
