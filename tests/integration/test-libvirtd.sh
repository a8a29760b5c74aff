#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# daemon/vm.c against a REAL libvirtd with the qemu driver, started by hand in
# a private mount namespace (libvirtd-ns.sh), through test-libvirt's one-call mode:
# attach/detach with the config flag, what `virsh dumpxml` and the saved
# definition show, the errors, a live attach that fails leaving the
# definition alone; then the libvirt hook (as built) installed in that
# libvirtd's hooks folder, driven by real `virsh start`/`destroy` against a
# stub siovctl. Needs root; fails (never skips) when something is missing.
. "$(dirname "$0")/libvirtd-ns.sh"
lvd_enter_namespace "$@"
. "$(dirname "$0")/lib.sh"

TEST_LIBVIRT=${TEST_LIBVIRT:-$TOP_BUILDDIR/tests/integration/test-libvirt}
HOOK=${SIOV_HOOK:-$TOP_BUILDDIR/daemon/qemu.d/siovd}
STUB=$TOP_SRCDIR/tests/integration/hook-stub-siovctl
STUB_DIR=$IT_DIR/stub
LV=$IT_DIR/libvirt
for f in "$TEST_LIBVIRT" "$HOOK"; do
        [ -x "$f" ] || { fail "$f built"; it_summary; exit 1; }
done
command -v python3 >/dev/null || { fail "python3 installed"; it_summary; exit 1; }

U1=aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeee01
U2=aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeee02
VF=0000:3b:02.1

trap 'lvd_stop; it_cleanup' EXIT

# The hook, installed before libvirtd starts (it looks for hooks at start).
# libvirt runs hooks with a clean environment: a wrapper points it at the
# stub and records each call.
mkdir -p "$LV/etc/hooks/qemu.d" "$STUB_DIR"
cat >"$LV/etc/hooks/qemu.d/siovd" <<EOF
#!/bin/bash
echo "\$*" >>"$STUB_DIR/hook-calls"
exec env SIOV_HOOK_SIOVCTL="$STUB" STUB_DIR="$STUB_DIR" SIOV_HOOK_TIMEOUT=10 "$HOOK" "\$@"
EOF
chmod +x "$LV/etc/hooks/qemu.d/siovd"
echo '[]' >"$STUB_DIR/devices.json"

t0=$(date +%s)
if ! lvd_start "$LV"; then
        fail "libvirtd starts in a private mount namespace"
        it_summary
        exit 1
fi
pass "libvirtd starts in a private mount namespace ($(($(date +%s) - t0)) s)"

lvd_domain_xml vm1 >"$IT_DIR/vm1.xml"
lvd_domain_xml vm2 >"$IT_DIR/vm2.xml"
check "define vm1" lvd_virsh define "$IT_DIR/vm1.xml"
check "define vm2" lvd_virsh define "$IT_DIR/vm2.xml"

not_running() { ! lvd_virsh domstate "$1" | grep -q running; }
tv() { "$TEST_LIBVIRT" "$LVD_URI" "$@" 2>&1; }
# count PATH [--inactive|live] [VM]: matching elements in virsh dumpxml
count() {
        local path=$1 flags=${2:---inactive} vm=${3:-vm1}
        [ "$flags" = live ] && flags=
        lvd_virsh dumpxml $flags "$vm" |
                python3 -c 'import sys, xml.etree.ElementTree as E; print(len(E.fromstring(sys.stdin.read()).findall(sys.argv[1])))' "$path"
}
MDEV1="./devices/hostdev[@mode='subsystem'][@type='mdev'][@model='vfio-pci']/source/address[@uuid='$U1']"
PCI="./devices/hostdev[@mode='subsystem'][@type='pci'][@managed='no']/source/address[@domain='0x0000'][@bus='0x3b'][@slot='0x02'][@function='0x1']"

# --- vm.c through the qemu driver ----------------------------------------------------------
check_eq "exists vm1" "rc=1 OK" "$(tv exists vm1)"
check_eq "exists ghost: 0, libvirt's reason" \
        "rc=0 OK
no VM 'ghost' (libvirt: Domain not found: no domain with matching name 'ghost')" "$(tv exists ghost)"
check_eq "running vm1: no" "rc=0 OK" "$(tv running vm1)"

check_eq "attach mdev (config; the mdev need not exist)" "rc=0 OK" "$(tv attach vm1 mdev $U1)"
check_eq "virsh dumpxml --inactive shows the mdev hostdev" "1" "$(count "$MDEV1")"
check "the saved definition has it" grep -q "<address uuid='$U1'/>" "$LV/etc/qemu/vm1.xml"
check_eq "attach again: EEXIST, names VM and device" \
        "rc=-17 EEXIST
VM 'vm1' already has mdev $U1 in its definition" "$(tv attach vm1 mdev $U1)"
check_eq "still one hostdev" "1" "$(count ./devices/hostdev)"

check_eq "attach VF" "rc=0 OK" "$(tv attach vm1 vf $VF)"
check_eq "virsh dumpxml shows the PCI hostdev, managed='no'" "1" "$(count "$PCI")"
check_eq "users of the mdev" "rc=0 OK
vm1" "$(tv users mdev $U1)"
check_eq "users of the VF" "rc=0 OK
vm1" "$(tv users vf $VF)"
check_eq "users of another mdev: none" "rc=0 OK" "$(tv users mdev $U2)"
check_eq "running users of the mdev: none (vm1 is shut off)" "rc=0 OK" "$(tv running-users mdev $U1)"

check_eq "detach mdev" "rc=0 OK" "$(tv detach vm1 mdev $U1)"
check_eq "virsh dumpxml: the mdev is gone" "0" "$(count "$MDEV1")"
check "the saved definition lost it" bash -c "! grep -q '$U1' '$LV/etc/qemu/vm1.xml'"
check_eq "detach again: ENOENT" \
        "rc=-2 ENOENT
VM 'vm1' has no mdev $U1 in its definition" "$(tv detach vm1 mdev $U1)"
check_eq "detach VF" "rc=0 OK" "$(tv detach vm1 vf $VF)"
check_eq "no hostdev left" "0" "$(count ./devices/hostdev)"
check_eq "attach to a missing VM: ESRCH with libvirt's message" \
        "rc=-3 ESRCH
no VM 'ghost' (libvirt: Domain not found: no domain with matching name 'ghost')" "$(tv attach ghost mdev $U1)"
check_eq "bad UUID refused before libvirt" "rc=-22 EINVAL" "$(tv attach vm1 mdev "$U1'/>" | head -n1)"

# What libvirt itself answers (vm.c checks first, to give errno and wording).
echo "<hostdev mode='subsystem' type='mdev' model='vfio-pci'><source><address uuid='$U2'/></source></hostdev>" >"$IT_DIR/h.xml"
check "virsh attach-device --config" lvd_virsh attach-device vm1 "$IT_DIR/h.xml" --config
out=$(lvd_virsh attach-device vm1 "$IT_DIR/h.xml" --config 2>&1)
check "libvirt: second attach → already in the domain configuration" grep -q "already in the domain configuration" <<<"$out"
check_eq "vm.c sees libvirt's attach" "rc=-17 EEXIST" "$(tv attach vm1 mdev $U2 | head -n1)"
check "virsh detach-device --config" lvd_virsh detach-device vm1 "$IT_DIR/h.xml" --config
out=$(lvd_virsh detach-device vm1 "$IT_DIR/h.xml" --config 2>&1)
check "libvirt: second detach → not present in domain configuration" grep -q "not present in domain configuration" <<<"$out"

# --- a running VM: the hot-plug fails (no such mdev), the definition stays --------------------
check "start vm1 (TCG, no disk)" lvd_virsh start vm1
check_eq "running vm1: yes" "rc=1 OK" "$(tv running vm1)"
out=$(tv attach vm1 mdev $U2)
check "attach to the running VM fails (the mdev does not exist)" grep -q "^rc=-" <<<"$out"
check "… message names VM and device, quotes libvirt" grep -q "cannot add mdev $U2 to VM 'vm1': ." <<<"$out"
check_eq "… the definition is unchanged" "0" "$(count ./devices/hostdev)"
check_eq "… the live domain is unchanged" "0" "$(count ./devices/hostdev live)"
check_eq "config_only: attach to the running VM's definition" "rc=0 OK" "$(tv attach-config vm1 mdev $U2)"
check_eq "… in the definition" "1" "$(count "./devices/hostdev/source/address[@uuid='$U2']")"
check_eq "… not in the live domain" "0" "$(count ./devices/hostdev live)"
check_eq "… a user of U2, but not a running one" "rc=0 OK
vm1|rc=0 OK" "$(tv users mdev $U2)|$(tv running-users mdev $U2)"
check_eq "config_only: detach from the running VM's definition" "rc=0 OK" "$(tv detach-config vm1 mdev $U2)"
check_eq "… gone" "0" "$(count ./devices/hostdev)"
check "destroy vm1" lvd_virsh destroy vm1

# --- libvirtd restarts under a long-lived client (siovd): the cached -----------------------------
# connection is found dead and opened again, no call fails.
rm -f "$IT_DIR/go" "$IT_DIR/go.ready"
"$TEST_LIBVIRT" "$LVD_URI" reconnect vm1 "$IT_DIR/go" >"$IT_DIR/reconnect.out" 2>&1 &
rpid=$!
for _ in $(seq 100); do [ -e "$IT_DIR/go.ready" ] && break; sleep 0.1; done
if lvd_restart; then pass "libvirtd restarted"; else fail "libvirtd restarted"; fi
touch "$IT_DIR/go"
wait $rpid
check_eq "one process, a call before and after the restart: both succeed" "rc=1 OK
rc=1 OK" "$(cat "$IT_DIR/reconnect.out")"

# --- the hook, run by libvirt ------------------------------------------------------------------
check_eq "attach U1 for the hook tests" "rc=0 OK" "$(tv attach vm1 mdev $U1)"
cat >"$STUB_DIR/devices.json" <<EOF
[{"uuid": "$U1", "vm": "vm1", "state": "defined", "autostart": false},
 {"uuid": "$U2", "vm": "vm2", "state": "defined", "autostart": false}]
EOF
: >"$STUB_DIR/hook-calls"
: >"$STUB_DIR/calls"
out=$(lvd_virsh start vm1 2>&1)
# Here QEMU can't get the mdev (it does not exist; maybe no VFIO at all), so
# libvirt fails the start after our prepare hook and calls release.
check "virsh start vm1 fails after the hook (the stub's mdev does not exist)" not_running vm1
check_eq "libvirt ran: prepare begin, …, release end" "vm1 prepare begin -
vm1 stopped end -
vm1 release end -" "$(grep -v '^vm1 \(start\|started\) ' "$STUB_DIR/hook-calls")"
check_eq "the hook started U1 at prepare and stopped it at release" \
        "--no-ask-password --json=short list --defined --vm vm1
--no-ask-password start $U1
--no-ask-password --json=short list --defined --vm vm1
--no-ask-password stop $U1" "$(cat "$STUB_DIR/calls")"

echo "$U1" >"$STUB_DIR/fail-start"
: >"$STUB_DIR/calls"
out=$(lvd_virsh start vm1 2>&1)
check "a failing start aborts the VM's start" not_running vm1
check "… and libvirt's error carries the hook's message" \
        grep -q "siovd hook: cannot start device $U1 for VM 'vm1': siovctl exit status 6: Failed to start $U1: parent siov0 has 0 available" <<<"$out"
rm -f "$STUB_DIR/fail-start"

: >"$STUB_DIR/hook-calls"
: >"$STUB_DIR/calls"
check "vm2 (no hostdev) starts with the hook installed" lvd_virsh start vm2
check "destroy vm2" lvd_virsh destroy vm2
check_eq "vm2: the hook ran for every step" "vm2 prepare begin -
vm2 start begin -
vm2 started begin -
vm2 stopped end -
vm2 release end -" "$(cat "$STUB_DIR/hook-calls")"
check_eq "vm2: siovd was never asked (no hostdev)" "" "$(cat "$STUB_DIR/calls")"

it_summary
