#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The whole chain on one host: the real siovd (fake tree, kernel acted out by
# tests/common/fake-kernel.so) and siovctl on a private bus, a real libvirtd
# (qemu driver) in a private mount namespace (libvirtd-ns.sh), and siovd's
# libvirt hook (as built) installed in that libvirtd, calling the real
# siovctl. Checks create --vm / destroy / assign / unassign as `virsh
# dumpxml` shows them, the rollbacks, and the hook's prepare/release flow
# run by `virsh start` — including that siovd answers the hook while libvirt
# holds the VM (a Stop that asks libvirt about that VM would hang until the
# hook's timeout). Needs root; fails, never skips.
. "$(dirname "$0")/libvirtd-ns.sh"
lvd_enter_namespace "$@"
. "$(dirname "$0")/lib.sh"
trap 'lvd_stop; it_cleanup' EXIT

HOOK=${SIOV_HOOK:-$TOP_BUILDDIR/daemon/qemu.d/siovd}
FAKE_KERNEL=$TOP_BUILDDIR/tests/common/.libs/fake-kernel.so
HOOK_TIMEOUT=5
for f in "$HOOK" "$FAKE_KERNEL"; do
        [ -e "$f" ] || { fail "$f built"; it_summary; exit 1; }
done
unset SIOV_LIBVIRT_URI          # siovd's default: qemu:///system, ours here
export SIOV_DEFINITIONS_DIR=$IT_DIR/defs
LV=$IT_DIR/libvirt
ADDR=unix:path=$IT_DIR/system_bus_socket        # what it_bus_start will use

# The hook with a clean environment, as libvirt runs it, plus the test bus;
# its calls, exit codes and stderr recorded.
mkdir -p "$LV/etc/hooks/qemu.d"
cat >"$LV/etc/hooks/qemu.d/siovd" <<EOF
#!/bin/bash
start=\$(date +%s%N)
DBUS_SYSTEM_BUS_ADDRESS="$ADDR" SIOV_HOOK_SIOVCTL="$SIOVCTL" SIOV_HOOK_TIMEOUT=$HOOK_TIMEOUT \\
        "$HOOK" "\$@" 2> >(tee -a "$IT_DIR/hook.err" >&2)
rc=\$?
echo "\$2 \$3 rc=\$rc \$(( (\$(date +%s%N) - start) / 1000000 ))ms" >>"$IT_DIR/hook.log"
exit \$rc
EOF
chmod +x "$LV/etc/hooks/qemu.d/siovd"

lvd_start "$LV" || { fail "libvirtd starts"; it_summary; exit 1; }
for v in vm1 vm2; do
        lvd_domain_xml $v >"$IT_DIR/$v.xml"
        lvd_virsh define "$IT_DIR/$v.xml" >/dev/null || fail "define $v"
done

fake init
fake add-siov-parent siov0 --total 8 --free 8 --swq-slots 4
fake add-type siov0 idxd-1dwq --available 8 --name "1 dedicated WQ"
it_bus_start || { it_summary; exit 1; }
LD_PRELOAD=$FAKE_KERNEL SIOV_FAKE_KERNEL_ROOT=$ROOT it_siovd_start || { it_summary; exit 1; }
# libvirt and libxml2 are loaded on first use (dlopen): not mapped before a VM call.
libvirt_mapped() { grep -c '/libvirt\.so' "/proc/$SIOVD_PID/maps"; }
check_eq "siovd has not loaded libvirt nor libxml2 at start" "0 0" \
        "$(libvirt_mapped) $(grep -c '/libxml2\.so' "/proc/$SIOVD_PID/maps")"

# hostdevs VM [UUID]: how many mdev hostdevs (with that UUID) the definition has
hostdevs() {
        local sel=
        [ -n "${2-}" ] && sel="[@uuid='$2']"
        lvd_virsh dumpxml --inactive "$1" |
                python3 -c 'import sys, xml.etree.ElementTree as E; print(len(E.fromstring(sys.stdin.read()).findall(sys.argv[1])))' \
                        "./devices/hostdev[@type='mdev']/source/address$sel"
}
state() { siovctl --json list | jq -r ".[] | select(.uuid == \"$1\") | .state"; }
n_devices() { siovctl --json list | jq length; }
in_sysfs() { test -d "$ROOT/sys/bus/mdev/devices/$1" && echo yes || echo no; }

# --- create --vm / destroy --------------------------------------------------------------------
U=$(siovctl create --type idxd-1dwq --vm vm1 2>"$IT_DIR/err"); rc=$?
check_eq "create --type idxd-1dwq --vm vm1: exit 0" "0" "$rc"
check_eq "… virsh dumpxml vm1 shows its hostdev" "1" "$(hostdevs vm1 "$U")"
check "… siovd has loaded libvirt now" test "$(libvirt_mapped)" -gt 0
check_eq "… the device's VM" "vm1" "$(siovctl --json list | jq -r ".[] | select(.uuid == \"$U\") | .vm")"
check_eq "… list --vm vm1" "$U" "$(siovctl --json list --vm vm1 | jq -r '.[].uuid')"
check "destroy" siovctl destroy "$U"
check_eq "… removes the device and the hostdev" "no 0 0" "$(in_sysfs "$U") $(hostdevs vm1) $(n_devices)"

out=$(siovctl create --type idxd-1dwq --vm ghost 2>&1); rc=$?
check "create --vm ghost fails" test "$rc" -ne 0
check "… naming the VM with libvirt's message" grep -q "no VM 'ghost' (libvirt: Domain not found" <<<"$out"
check_eq "… and leaves no device" "0 " "$(n_devices) $(ls "$ROOT/sys/bus/mdev/devices" 2>/dev/null)"

# libvirt refuses after the device exists: the hostdev is there already.
U3=33333333-0000-4000-8000-000000000003
echo "<hostdev mode='subsystem' type='mdev' model='vfio-pci'><source><address uuid='$U3'/></source></hostdev>" >"$IT_DIR/h.xml"
lvd_virsh attach-device vm1 "$IT_DIR/h.xml" --config >/dev/null || fail "virsh attach-device"
out=$(siovctl create --type idxd-1dwq --uuid "$U3" --vm vm1 2>&1); rc=$?
check "create --vm when libvirt refuses the hostdev: fails" test "$rc" -ne 0
check "… message names the VM" grep -q "VM 'vm1'" <<<"$out"
check_eq "… the device is destroyed again, the definition as before" "no 0 1" \
        "$(in_sysfs "$U3") $(n_devices) $(hostdevs vm1 "$U3")"
lvd_virsh detach-device vm1 "$IT_DIR/h.xml" --config >/dev/null || fail "virsh detach-device"

# A running VM: the hot-plug of a (fake) mdev fails, everything is undone.
check "start vm2" lvd_virsh start vm2
out=$(siovctl create --type idxd-1dwq --vm vm2 2>&1); rc=$?
check "create --vm for a running VM whose hot-plug fails: fails" test "$rc" -ne 0
check "… message names VM and libvirt's reason" grep -q "VM 'vm2': ." <<<"$out"
check_eq "… no device, no hostdev" "0 0 " "$(n_devices) $(hostdevs vm2) $(ls "$ROOT/sys/bus/mdev/devices" 2>/dev/null)"
check "destroy vm2" lvd_virsh destroy vm2

# --- assign / unassign ------------------------------------------------------------------------
U=$(siovctl create --type idxd-1dwq 2>/dev/null)
check "assign" siovctl assign "$U" --vm vm1
check_eq "… hostdev added, VM recorded" "1 vm1" "$(hostdevs vm1 "$U") $(siovctl --json list | jq -r ".[] | select(.uuid == \"$U\") | .vm")"
check "unassign" siovctl unassign "$U"
check_eq "… hostdev removed, VM cleared" "0 " "$(hostdevs vm1) $(siovctl --json list | jq -r ".[] | select(.uuid == \"$U\") | .vm")"
check "destroy" siovctl destroy "$U"

# --- the hook, run by libvirt, talking to siovd ---------------------------------------------
# A per-VM definition (not autostart) assigned to vm1: started at prepare,
# stopped at release. QEMU cannot open the fake mdev, so libvirt fails the
# start after prepare and runs release right away: both halves in one start.
D=$(siovctl define --type idxd-1dwq --parent siov0 --vm vm1 2>/dev/null)
check_eq "define --vm vm1: defined, hostdev in vm1" "defined 1" "$(state "$D") $(hostdevs vm1 "$D")"
# siovd's events show the device coming and going.
"$SIOVCTL" --address="$ADDR" --json=short monitor >"$IT_DIR/monitor" 2>"$IT_DIR/monitor.err" &
MON=$!
for _ in $(seq 100); do grep -q monitoring "$IT_DIR/monitor.err" && break; sleep 0.05; done
: >"$IT_DIR/hook.log"
: >"$IT_DIR/hook.err"
t0=$(date +%s%N)
lvd_virsh start vm1 >/dev/null 2>"$IT_DIR/start.err"
ms=$((($(date +%s%N) - t0) / 1000000))
check "virsh start vm1 reached QEMU and failed there (no VFIO for a fake mdev)" \
        grep -qv "siovd hook" "$IT_DIR/start.err"
check_eq "prepare begin: the hook succeeded" "rc=0" "$(awk '$1 == "prepare" && $2 == "begin" {print $3}' "$IT_DIR/hook.log")"
kill $MON; wait $MON 2>/dev/null
check_eq "… and started the device: siovd's State changes" "both removing defined" \
        "$(jq -r --arg u "$D" 'select(.event == "changed" and .uuid == $u and .properties.state != null) | .properties.state' "$IT_DIR/monitor" | xargs)"
check_eq "release end: the hook succeeded" "rc=0" "$(awk '$1 == "release" && $2 == "end" {print $3}' "$IT_DIR/hook.log")"
check_eq "… and stopped the device again" "defined no" "$(state "$D") $(in_sysfs "$D")"
check_eq "the hook said nothing" "" "$(cat "$IT_DIR/hook.err")"
check "siovd answered the hook without waiting for libvirt (start took ${ms} ms, hook timeout ${HOOK_TIMEOUT} s)" \
        test "$ms" -lt $((HOOK_TIMEOUT * 1000))

# An autostart definition is started at prepare but kept at release.
check "modify --autostart" siovctl modify "$D" --autostart
lvd_virsh start vm1 >/dev/null 2>&1
check_eq "autostart device: kept after release" "both yes" "$(state "$D") $(in_sysfs "$D")"
check "stop it" siovctl stop "$D"

# A device that can't be provided fails the VM's start with siovd's reason.
fake set-type-attr siov0 idxd-1dwq available_instances 0
siovctl rescan >/dev/null 2>&1
lvd_virsh start vm1 >/dev/null 2>"$IT_DIR/start.err"
check "no capacity: virsh start fails with the hook's message" \
        grep -q "siovd hook: cannot start device $D for VM 'vm1'" "$IT_DIR/start.err"
check_eq "… nothing left active" "defined no" "$(state "$D") $(in_sysfs "$D")"

# --- a hung libvirtd: siovd's loop never waits for it ------------------------------------------
# libvirt is called off the event loop with a bounded wait (--libvirt-timeout):
# with libvirtd stopped (SIGSTOP), a VM call gets LibvirtError after the
# timeout while other clients' reads and creates are answered meanwhile
# (checked by order, not by time: they come back while the VM call still
# waits); an attach libvirt does after its caller was told it failed is
# undone.
LVT=8
# A client that gives up (timeout(1) needs a program, not the function).
tsiovctl() { timeout 60 "$SIOVCTL" --address="$ADDR" "$@"; }
fake set-type-attr siov0 idxd-1dwq available_instances 8
it_siovd_stop || fail "siovd exits cleanly"
LD_PRELOAD=$FAKE_KERNEL SIOV_FAKE_KERNEL_ROOT=$ROOT it_siovd_start --libvirt-timeout=$LVT || { it_summary; exit 1; }
UA=$(siovctl create --type idxd-1dwq 2>/dev/null)
check_eq "a device to assign (libvirt answers)" "0" "$(hostdevs vm1 "$UA")"
n0=$(n_devices)
kill -STOP "$LVD_PID"
t0=$(date +%s%N)
timeout 120 "$TOP_SRCDIR/tests/integration/dbus-call" "$ADDR" "$(dbus_path /org/siov1/device "$UA")" \
        org.siov1.Device Assign 'sa{sv}' '["vm1", {}]' >"$IT_DIR/assign.out" 2>&1 &
ASSIGN=$!
sleep 0.5
timeout 120 "$SIOVCTL" --address="$ADDR" create --type idxd-1dwq --vm vm2 >"$IT_DIR/hung.out" 2>&1 &
HUNG=$!
sleep 0.5
check "while libvirt hangs: list is answered" tsiovctl list
check "… status is answered" tsiovctl status
UB=$(tsiovctl create --type idxd-1dwq 2>/dev/null); rc=$?
check_eq "… a create without a VM is answered" "0" "$rc"
UC=$(tsiovctl define --type idxd-1dwq --parent siov0 2>/dev/null); rc=$?
check_eq "… a define without a VM is answered" "0" "$rc"
check "… and a start" tsiovctl start "$UC"
check "… and a destroy" tsiovctl destroy "$UC"
check "… all while the Assign still waits for libvirt" kill -0 $ASSIGN
check "… and the create --vm too" kill -0 $HUNG
wait $ASSIGN; rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
check "the Assign fails" test "$rc" -ne 0
check "… with LibvirtError saying libvirt did not answer" \
        grep -q "ERROR org.siov1.Error.LibvirtError: libvirt did not answer the attach about VM 'vm1' within $LVT s" "$IT_DIR/assign.out"
check "… after the timeout, not before (${ms} ms)" test "$ms" -ge $((LVT * 1000))
check_eq "… the device's record is unchanged" "" "$(siovctl --json list | jq -r ".[] | select(.uuid == \"$UA\") | .vm")"
wait $HUNG; rc=$?
check "the create --vm fails too" test "$rc" -ne 0
check "… saying libvirt did not answer" grep -q "libvirt did not answer the look-up about VM 'vm2'" "$IT_DIR/hung.out"
check_eq "… and made nothing (the create without a VM is there)" "$((n0 + 1))" "$(n_devices)"
check "… Busy is not left behind: the device can be destroyed" siovctl destroy "$UB"
kill -CONT "$LVD_PID"
# libvirt now does the attach it was asked for; siovd takes it out again.
for _ in $(seq 100); do grep -q "answered the timed-out attach of $UA to VM vm1 late" "$IT_DIR/siovd.log" && break; sleep 0.2; done
check "the late attach is logged" grep -q "answered the timed-out attach of $UA to VM vm1 late: it was done, and has been undone" "$IT_DIR/siovd.log"
check_eq "… and undone: vm1 has no hostdev for it" "0" "$(hostdevs vm1 "$UA")"
check "libvirt answers again: assign" siovctl assign "$UA" --vm vm1
check_eq "… hostdev added" "1" "$(hostdevs vm1 "$UA")"
check "… destroy takes it out of the VM" siovctl destroy "$UA"
check_eq "… gone" "0" "$(hostdevs vm1 "$UA")"

# --- without libvirt: a clear refusal, nothing made -----------------------------------------
# An unreadable libvirt.so.0 (in this test's own mount namespace) is what a
# host without libvirt0 gives siovd's dlopen().
LIBVIRT_SO=$(ldconfig -p | awk '$1 == "libvirt.so.0" && /x86-64/ {print $NF; exit}')
check "libvirt.so.0 found" test -n "$LIBVIRT_SO"
mount --bind /dev/null "$LIBVIRT_SO" || fail "hide $LIBVIRT_SO"
it_siovd_stop || fail "siovd exits cleanly"
LD_PRELOAD=$FAKE_KERNEL SIOV_FAKE_KERNEL_ROOT=$ROOT it_siovd_start || { umount "$LIBVIRT_SO"; it_summary; exit 1; }
n0=$(n_devices)
out=$(siovctl create --type idxd-1dwq --vm vm1 2>&1); rc=$?
check "create --vm without libvirt fails" test "$rc" -ne 0
check "… saying libvirt cannot be loaded" grep -q "libvirt cannot be loaded (.*libvirt.so.0: .*): install libvirt0 to assign devices to VMs" <<<"$out"
check_eq "… and made nothing" "$n0" "$(n_devices)"
check "… other calls work: create" siovctl destroy "$(siovctl create --type idxd-1dwq 2>/dev/null)"
umount "$LIBVIRT_SO"

it_summary
