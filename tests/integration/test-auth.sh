#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# siovd as root on a fake tree, Debian's real polkitd, the project's bus
# policy and polkit actions, and siovctl (and raw D-Bus calls) run as an
# unprivileged user:
#   1. no rule: every mutating call is refused with NotAuthorized naming its
#      action (siovctl exit 5), and nothing changed: not the sysfs tree, not
#      the definitions, not what the fake kernel was asked, not the model;
#      every read works and shows what root sees; while polkit is paused,
#      siovd keeps serving reads and root;
#   2. a rule granting only org.siov1.manage: a plain create works, a
#      persistent one (manage + define) is refused naming org.siov1.define
#      and leaves nothing behind;
#   3. policy/org.siov1.rules.example installed and the user in group siov:
#      the same user succeeds at every change.
. "$(dirname "$0")/polkit-lib.sh"

FAKE_KERNEL=${FAKE_KERNEL:-$TOP_BUILDDIR/tests/common/.libs/fake-kernel.so}
DEFS=$IT_DIR/defs
MDEVCTL_DIR=$IT_DIR/mdevctl.d
PY=/usr/bin/python3

U_ACTIVE=11111111-2222-3333-4444-555555555501   # active, no definition
U_DEF=11111111-2222-3333-4444-555555555502      # defined (vm1), not active
U_AUTO=11111111-2222-3333-4444-555555555503     # defined, autostart, not active
U_NEW=11111111-2222-3333-4444-555555555504      # made by the user
U_MDEVCTL=11111111-2222-3333-4444-555555555505  # in mdevctl's folder

pk_setup
for f in "$SIOVD" "$SIOVCTL" "$FAKE_SYSFS_TOOL"; do
        [ -x "$f" ] || { fail "built: $f"; it_summary; exit 1; }
done
[ -f "$FAKE_KERNEL" ] || { fail "fake kernel built" "$FAKE_KERNEL missing (make check builds it)"; it_summary; exit 1; }
$PY -c 'import dbus' 2>/dev/null || { fail "python3-dbus installed (apt-get install python3-dbus)"; it_summary; exit 1; }

# --- the tree, definitions, mdevctl's folder, a VM ----------------------------
fake init
fake add-siov-parent siov0 --total 8 --free 7 --mdev-dwq 1 --swq-slots 4
fake add-type siov0 idxd-1dwq --available 7 --name "1 dedicated WQ"
fake add-type siov0 idxd-1swq --available 28 --name "1 shared WQ slot"
fake add-mdev siov0 idxd-1dwq "$U_ACTIVE"
PF=0000:01:00.0
PF_PATH=/org/siov1/parent/_30000_3a01_3a00_2e0
fake add-pf $PF --total-vfs 2 --driver nvme
mkdir -p "$DEFS" "$MDEVCTL_DIR/siov0"
printf '{"mdev_type": "idxd-1dwq", "start": "manual", "attrs": []}\n' >"$MDEVCTL_DIR/siov0/$U_MDEVCTL"
cat >"$IT_DIR/libvirt.xml" <<'EOF'
<node>
  <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
    <name>vm1</name><memory>65536</memory><os><type>hvm</type></os>
    <devices/>
    <test:runstate>5</test:runstate>
  </domain>
</node>
EOF
chmod -R go-w "$DEFS" "$MDEVCTL_DIR"

pk_bus_start || { it_summary; exit 1; }
pk_polkitd_start || { it_summary; exit 1; }
env LD_PRELOAD="$FAKE_KERNEL" SIOV_FAKE_KERNEL_ROOT="$ROOT" SIOV_LIBVIRT_URI="test://$IT_DIR/libvirt.xml" \
        "$SIOVD" --sysfs-root="$ROOT" --definitions-dir="$DEFS" --log-level=debug >>"$IT_DIR/siovd.log" 2>&1 &
SIOVD_PID=$!
it_wait_siovd || { it_summary; exit 1; }

# The mutating methods exist (else this test has nothing to check).
intro=$(bus introspect --xml-interface org.siov1 /org/siov1)
for m in CreateDevice DefineDevice ImportMdevctl ProvisionParent; do
        grep -q "<method name=\"$m\">" <<<"$intro" || { fail "siovd has Manager.$m"; it_summary; exit 1; }
done

# Root prepares: definitions to start, undefine, modify, provision.
check "root: define $U_DEF (vm1)" siovctl define -t idxd-1dwq -p siov0 --uuid "$U_DEF" --vm vm1
check "root: define $U_AUTO (autostart)" siovctl define -t idxd-1dwq -p siov0 --uuid "$U_AUTO" --autostart

usiovctl() { as_user "$SIOVCTL" --address="$ADDR" --no-ask-password "$@"; }
# raw_call USER|root PATH INTERFACE.METHOD SIGNATURE JSON-ARGS
#   prints "OK <reply>" or "ERR <error name>: <message>"
raw_call() {
        local who=$1; shift
        local run=()
        [ "$who" = root ] || run=(as_user)
        "${run[@]}" "$PY" - "$@" <<'PY'
import json, os, sys, dbus
path, member, sig, args = sys.argv[1:5]
iface, method = member.rsplit(".", 1)
try:
    bus = dbus.bus.BusConnection(os.environ["DBUS_SYSTEM_BUS_ADDRESS"])
    r = bus.call_blocking("org.siov1", path, iface, method, sig, json.loads(args), timeout=30)
    print("OK", r)
except dbus.exceptions.DBusException as e:
    print("ERR %s: %s" % (e.get_dbus_name(), e.get_dbus_message()))
except Exception as e:
    print("ERR python: %r" % e)
PY
}
dev() { dbus_path /org/siov1/device "$1"; }

# Everything a change could touch.
snapshot() {
        (
                cd "$ROOT" && find . -path ./fake-kernel -prune -o -printf '%y %m %p -> %l\n' | LC_ALL=C sort
                find . -path ./fake-kernel -prune -o -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum
                cd "$DEFS" && find . -printf '%y %p\n' | LC_ALL=C sort && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r md5sum
                cat "$ROOT/fake-kernel/log" 2>/dev/null
                siovctl --json list
        ) 2>&1 | md5sum
}

# --- 1. no rule: refused, nothing changed ------------------------------------
before=$(snapshot)
[ -n "$(siovctl --json list | jq -r ".[] | select(.uuid == \"$U_DEF\") | .uuid")" ] ||
        fail "setup: $U_DEF is defined"

# siovctl: exit 5 and the action named on stderr.
while IFS='|' read -r action args; do
        out=$(usiovctl $args 2>&1); rc=$?
        if [ $rc -eq 5 ] && grep -q "$action" <<<"$out"; then
                pass "user: siovctl $args → exit 5 naming $action"
        else
                fail "user: siovctl $args → exit 5 naming $action" "exit $rc: $out"
        fi
done <<EOF
org.siov1.manage|create -t idxd-1dwq -p siov0
org.siov1.manage|create -t idxd-1dwq
org.siov1.manage|create -t idxd-1dwq -p siov0 --uuid $U_NEW --persistent
org.siov1.define|define -t idxd-1dwq -p siov0 --uuid $U_NEW
org.siov1.manage|start $U_DEF
org.siov1.manage|stop $U_ACTIVE
org.siov1.manage|destroy $U_ACTIVE
org.siov1.manage|destroy $U_DEF
org.siov1.define|undefine $U_DEF
org.siov1.define|modify $U_DEF --autostart
org.siov1.assign|assign $U_ACTIVE --vm vm1
org.siov1.assign|unassign $U_DEF
org.siov1.define|import-mdevctl $MDEVCTL_DIR
org.siov1.manage|provision siov0
org.siov1.manage|sriov $PF --numvfs 1
org.siov1.manage|sriov $PF --autoprobe=no
org.siov1.manage|create -t vf -p $PF --vf-mac 02:00:00:00:00:01 --vf-vlan 10,2 --vf-trust on --vf-link-state enable
org.siov1.manage|sriov $PF --vf 0 --vf-spoofchk off
EOF

# Raw calls: the error's name, for every mutating method of the XML.
while IFS='|' read -r action path member sig args; do
        out=$(raw_call user "$path" "$member" "$sig" "$args")
        case $out in
        "ERR org.siov1.Error.NotAuthorized: Not authorized to perform $action "*)
                pass "user: $member → NotAuthorized ($action)";;
        *) fail "user: $member → NotAuthorized ($action)" "$out";;
        esac
done <<EOF
org.siov1.manage|/org/siov1|org.siov1.Manager.CreateDevice|sssa{sv}|["siov0", "idxd-1dwq", "", {}]
org.siov1.manage|/org/siov1|org.siov1.Manager.CreateDevice|sssa{sv}|["$PF", "vf", "", {"vf_mac": "02:00:00:00:00:01", "vf_spoofchk": false}]
org.siov1.manage|/org/siov1|org.siov1.Manager.CreateDevice|sssa{sv}|["", "1dwq", "$U_NEW", {"persistent": true, "autostart": true}]
org.siov1.define|/org/siov1|org.siov1.Manager.DefineDevice|sssa{sv}|["siov0", "idxd-1dwq", "$U_NEW", {}]
org.siov1.define|/org/siov1|org.siov1.Manager.ImportMdevctl|s|["$MDEVCTL_DIR"]
org.siov1.manage|/org/siov1|org.siov1.Manager.ProvisionParent|s|["siov0"]
org.siov1.manage|$(dev "$U_DEF")|org.siov1.Device.Start||[]
org.siov1.manage|$(dev "$U_ACTIVE")|org.siov1.Device.Stop||[]
org.siov1.manage|$(dev "$U_ACTIVE")|org.siov1.Device.Destroy|a{sv}|[{"force": true}]
org.siov1.define|$(dev "$U_DEF")|org.siov1.Device.Undefine||[]
org.siov1.define|$(dev "$U_DEF")|org.siov1.Device.Modify|a{sv}|[{"autostart": true}]
org.siov1.assign|$(dev "$U_ACTIVE")|org.siov1.Device.Assign|sa{sv}|["vm1", {}]
org.siov1.assign|$(dev "$U_DEF")|org.siov1.Device.Unassign|a{sv}|[{}]
org.siov1.manage|$PF_PATH|org.siov1.Parent.SetNumVFs|ua{sv}|[1, {}]
org.siov1.manage|$PF_PATH|org.siov1.Parent.SetAutoprobe|ba{sv}|[false, {}]
org.siov1.manage|$PF_PATH|org.siov1.Parent.SetVfNetwork|ua{sv}a{sv}|[0, {"vf_trust": true}, {}]
EOF
# Every mutating method of the published interfaces was called above.
while read -r iface member; do
        case " CreateDevice DefineDevice ImportMdevctl ProvisionParent Start Stop Destroy Undefine Modify Assign Unassign ListDevices ListParents ListTypes GetStatus Rescan SetNumVFs SetAutoprobe ListParentConfigs CheckMigration ListVgpus ListVfNetwork ListOwners SetVfNetwork " in
        *" $member "*) ;;
        *) fail "test covers $iface.$member" "a method this test does not call";;
        esac
done < <($PY - "$TOP_SRCDIR"/dbus/org.siov1.*.xml <<'PY'
import sys, xml.etree.ElementTree as ET
for f in sys.argv[1:]:
    for i in ET.parse(f).getroot().iter("interface"):
        for m in i.iter("method"):
            print(i.get("name"), m.get("name"))
PY
)

check_eq "user refused: tree, definitions, kernel writes and model unchanged" "$before" "$(snapshot)"
check_eq "user refused: no device $U_NEW" "" "$(siovctl --json list | jq -r ".[] | select(.uuid == \"$U_NEW\") | .uuid")"

# Reads: allowed, and the user sees what root sees.
for cmd in "parents" "types" "list" "status" "--json parents" "--json types" "--json list" "--json status"; do
        exp=$(siovctl $cmd 2>&1); rc_root=$?
        got=$(usiovctl $cmd 2>&1); rc=$?
        if [ $rc -eq $rc_root ] && [ "$got" = "$exp" ]; then
                pass "user: siovctl $cmd works (exit $rc, same as root)"
        else
                fail "user: siovctl $cmd works" "exit $rc (root $rc_root): $(head -c 200 <<<"$got")"
        fi
done
case $(raw_call user /org/siov1 org.siov1.Manager.ListDevices ss '["", ""]') in
OK*) pass "user: ListDevices";; *) fail "user: ListDevices";;
esac
case $(raw_call user /org/siov1 org.siov1.Manager.ListVgpus s '[""]') in
OK*) pass "user: ListVgpus (a read)";; *) fail "user: ListVgpus (a read)";;
esac
case $(raw_call user /org/siov1 org.siov1.Manager.ListVfNetwork s '[""]') in
OK*) pass "user: ListVfNetwork (a read)";; *) fail "user: ListVfNetwork (a read)";;
esac
case $(raw_call user /org/siov1 org.siov1.Manager.ListOwners s '[""]') in
OK*) pass "user: ListOwners (a read)";; *) fail "user: ListOwners (a read)";;
esac
case $(raw_call user /org/siov1 org.siov1.Manager.ListParentConfigs "" '[]') in
OK*) pass "user: ListParentConfigs (a read)";; *) fail "user: ListParentConfigs (a read)";;
esac
case $(raw_call user /org/siov1 org.siov1.Manager.ListParents "" '[]') in
OK*siov0*) pass "user: ListParents";; *) fail "user: ListParents";;
esac
case $(raw_call user /org/siov1 org.siov1.Manager.ListTypes s '[""]') in
OK*idxd-1dwq*) pass "user: ListTypes";; *) fail "user: ListTypes";;
esac
case $(raw_call user /org/siov1 org.siov1.Manager.GetStatus "" '[]') in
OK*devices*) pass "user: GetStatus";; *) fail "user: GetStatus";;
esac
case $(raw_call user /org/siov1 org.siov1.Manager.Rescan "" '[]') in
OK*) pass "user: Rescan (a read)";; *) fail "user: Rescan (a read)";;
esac
case $(raw_call user /org/siov1 org.siov1.Manager.CheckMigration ss '["idxd-1dwq", "driver=siov_mdev state=1"]') in
OK*) pass "user: CheckMigration (a read)";; *) fail "user: CheckMigration (a read)";;
esac
case $(raw_call user /org/siov1/device org.freedesktop.DBus.ObjectManager.GetManagedObjects "" '[]') in
OK*"$U_DEF"*) pass "user: GetManagedObjects (devices)";; *) fail "user: GetManagedObjects (devices)";;
esac
case $(raw_call user /org/siov1 org.freedesktop.DBus.Properties.Get ss '["org.siov1.Manager", "Version"]') in
OK*) pass "user: Properties.Get";; *) fail "user: Properties.Get";;
esac
check_eq "user reads: still nothing changed" "$before" "$(snapshot)"

# While polkit has not answered, siovd serves everyone else.
U_ROOT=11111111-2222-3333-4444-555555555506
asked() { grep -c "polkit: asking org.siov1.manage for" "$IT_DIR/siovd.log"; }
n_asked=$(asked)
kill -STOP "$PK_PID"
usiovctl create -t idxd-1dwq -p siov0 >"$IT_DIR/slow.out" 2>&1 &
slow=$!
for _ in $(seq 100); do [ "$(asked)" -gt "$n_asked" ] && break; sleep 0.05; done
check_eq "polkit paused: siovd asked it" "$((n_asked + 1))" "$(asked)"
check "polkit paused: the user's reads are served" as_user timeout 5 "$SIOVCTL" --address="$ADDR" list
check "polkit paused: root creates a device (no polkit needed)" \
        timeout 5 "$SIOVCTL" --address="$ADDR" create -t idxd-1dwq -p siov0 --uuid "$U_ROOT"
if kill -0 "$slow" 2>/dev/null; then pass "polkit paused: the user's create still waits"; else fail "polkit paused: the user's create still waits"; fi
kill -CONT "$PK_PID"
wait "$slow"; rc=$?
if [ $rc -eq 5 ] && grep -q org.siov1.manage "$IT_DIR/slow.out"; then
        pass "polkit resumed: the user's create refused (exit 5)"
else
        fail "polkit resumed: the user's create refused (exit 5)" "exit $rc: $(cat "$IT_DIR/slow.out")"
fi
check "root: destroy $U_ROOT" siovctl destroy "$U_ROOT"

# --- 2. only org.siov1.manage granted ---------------------------------------
pk_add_rule 40-manage-only.rules "
polkit.addRule(function(action, subject) {
    if (action.id == 'org.siov1.manage' && subject.user == '$PK_USER')
        return polkit.Result.YES;
});"
pk_polkitd_stop && pk_polkitd_start || { it_summary; exit 1; }
before=$(snapshot)
out=$(usiovctl create -t idxd-1dwq -p siov0 --uuid "$U_NEW" --persistent 2>&1); rc=$?
if [ $rc -eq 5 ] && grep -q org.siov1.define <<<"$out"; then
        pass "manage only: create --persistent refused naming org.siov1.define"
else
        fail "manage only: create --persistent refused naming org.siov1.define" "exit $rc: $out"
fi
out=$(raw_call user /org/siov1 org.siov1.Manager.CreateDevice sssa{sv} "[\"siov0\", \"idxd-1dwq\", \"$U_NEW\", {\"vm\": \"vm1\"}]")
case $out in
"ERR org.siov1.Error.NotAuthorized: Not authorized to perform org.siov1.assign "*) pass "manage only: create with vm refused naming org.siov1.assign";;
*) fail "manage only: create with vm refused naming org.siov1.assign" "$out";;
esac
check_eq "manage only: the refused creates left nothing behind" "$before" "$(snapshot)"
out=$(usiovctl create -t idxd-1dwq -p siov0 --uuid "$U_NEW" 2>&1); rc=$?
check_eq "manage only: plain create works" "0 $U_NEW" "$rc $(tail -n 1 <<<"$out")"
[ -e "$ROOT/sys/bus/mdev/devices/$U_NEW" ] && pass "manage only: the mdev exists in the tree" ||
        fail "manage only: the mdev exists in the tree"
out=$(usiovctl modify "$U_DEF" --autostart 2>&1); rc=$?
[ $rc -eq 5 ] && pass "manage only: modify still refused (define)" || fail "manage only: modify still refused" "exit $rc: $out"
check "manage only: destroy $U_NEW" usiovctl destroy "$U_NEW"
# A VF's network settings reach polkit as details: a rule may refuse a
# trusted VF, or one on another VLAN, and let the rest through.
pk_add_rule 30-no-trusted-vfs.rules "
polkit.addRule(function(action, subject) {
    if (action.id == 'org.siov1.manage' && (action.lookup('vf_trust') == 'on' ||
        (action.lookup('vf_vlan') != '' && action.lookup('vf_vlan') != '10') ||
        action.lookup('vf_mac') == '02:00:00:00:00:66'))
        return polkit.Result.NO;
});"
pk_polkitd_stop && pk_polkitd_start || { it_summary; exit 1; }
before=$(snapshot)
for args in "--vf-trust on" "--vf-vlan 20" "--vf-mac 02:00:00:00:00:66"; do
        out=$(usiovctl create -t vf -p $PF $args 2>&1); rc=$?
        if [ $rc -eq 5 ] && grep -q org.siov1.manage <<<"$out"; then
                pass "a rule on the details refuses create $args"
        else
                fail "a rule on the details refuses create $args" "exit $rc: $out"
        fi
done
# Let through by the rule, then refused by siovd itself (this PF has no
# free VF here): the details were what polkit judged.
out=$(usiovctl create -t vf -p $PF --vf-trust off --vf-vlan 10,1 2>&1); rc=$?
check_eq "the same rule lets --vf-trust off --vf-vlan 10,1 through (then siovd's own refusal)" "6 no" \
        "$rc $(grep -q "org.siov1.manage" <<<"$out" && echo yes || echo no)"
check_eq "details: nothing changed" "$before" "$(snapshot)"
rm -f "$PK_DIR/rules.d/30-no-trusted-vfs.rules"
rm -f "$PK_DIR/rules.d/40-manage-only.rules"

# --- 3. the example rule, user in group siov --------------------------------
pk_grant_group || { it_summary; exit 1; }
ok() {
        local name=$1; shift
        local out rc
        out=$(usiovctl "$@" 2>&1); rc=$?
        if [ $rc -eq 0 ]; then pass "group siov: $name"; else fail "group siov: $name" "exit $rc: $out"; fi
}
state() { siovctl --json list | jq -r ".[] | select(.uuid == \"$1\") | .state"; }
ok "create" create -t idxd-1dwq -p siov0 --uuid "$U_NEW"
check_eq "group siov: created $U_NEW is active" "active" "$(state "$U_NEW")"
ok "destroy" destroy "$U_NEW"
check_eq "group siov: $U_NEW gone" "" "$(state "$U_NEW")"
ok "create --persistent --autostart" create -t idxd-1dwq -p siov0 --uuid "$U_NEW" --persistent --autostart
check_eq "group siov: $U_NEW active and defined" "both" "$(state "$U_NEW")"
[ -f "$DEFS/$U_NEW.json" ] && pass "group siov: definition written" || fail "group siov: definition written"
ok "stop" stop "$U_NEW"
check_eq "group siov: stopped" "defined" "$(state "$U_NEW")"
ok "start" start "$U_NEW"
check_eq "group siov: started" "both" "$(state "$U_NEW")"
ok "modify --manual" modify "$U_NEW" --manual
ok "undefine" undefine "$U_NEW"
check_eq "group siov: undefined, still active" "active" "$(state "$U_NEW")"
ok "assign" assign "$U_NEW" --vm vm1
ok "unassign" unassign "$U_NEW"
ok "destroy" destroy "$U_NEW"
ok "define" define -t idxd-1dwq -p siov0 --uuid "$U_NEW"
ok "provision" provision siov0
check_eq "group siov: provision started the autostart definition" "both" "$(state "$U_AUTO")"
ok "sriov --autoprobe=no --numvfs 2" sriov $PF --autoprobe=no --numvfs 2
check_eq "group siov: 2 VFs, autoprobe 0" "2 0" "$(cat "$ROOT/sys/bus/pci/devices/$PF/sriov_numvfs" "$ROOT/sys/bus/pci/devices/$PF/sriov_drivers_autoprobe" | tr '\n' ' ' | sed 's/ $//')"
ok "import-mdevctl" import-mdevctl "$MDEVCTL_DIR"
check_eq "group siov: imported $U_MDEVCTL" "defined" "$(state "$U_MDEVCTL")"
case $(raw_call user /org/siov1 org.siov1.Manager.CreateDevice sssa{sv} "[\"siov0\", \"idxd-1dwq\", \"\", {\"persistent\": true, \"vm\": \"vm1\"}]") in
"OK /org/siov1/device/"*) pass "group siov: CreateDevice persistent + vm (manage, define, assign)";;
*) fail "group siov: CreateDevice persistent + vm (manage, define, assign)";;
esac

it_siovd_stop && pass "siovd exits cleanly" || fail "siovd exits cleanly"
it_summary
