#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# daemon/polkit.c against Debian's real polkitd on a private system bus:
# test-polkit-helper guards its methods with siov_polkit_verify(), callers
# are root and an unprivileged user. Checks the method → action table, the
# polkit defaults, refusals naming the action, the group rule of
# policy/org.siov1.rules.example, details and the interactive flag as polkit
# receives them, several actions in one call, that the service keeps serving
# while polkit has not answered, fail-closed without polkit, and that every
# query is freed.
. "$(dirname "$0")/polkit-lib.sh"

HELPER=${POLKIT_HELPER:-$TOP_BUILDDIR/tests/integration/test-polkit-helper}
DEST=(--dest=org.siov1 /org/siov1)
IFACE=org.siov1.PolkitTest

# dbus-send prints the error's name ("Error org.siov1.Error.X: message"),
# busctl does not. No interactive flag.
call() { dbus-send --system --print-reply=literal --reply-timeout=20000 "${DEST[@]}" "$IFACE.$1" "${@:2}" 2>&1; }
ucall() { as_user dbus-send --system --print-reply=literal --reply-timeout=20000 "${DEST[@]}" "$IFACE.$1" "${@:2}" 2>&1; }
pending() { call Pending | xargs | sed 's/uint32 //g'; }

# --- the table (no bus) -----------------------------------------------------
table() { "$HELPER" action-for "$1" "$2" | head -n 1; }
while read -r iface member want; do
        check_eq "table: $iface.$member → $want" "$want" "$(table "$iface" "$member")"
done <<'EOF'
org.siov1.Manager CreateDevice org.siov1.manage
org.siov1.Manager DefineDevice org.siov1.define
org.siov1.Manager ImportMdevctl org.siov1.define
org.siov1.Manager ProvisionParent org.siov1.manage
org.siov1.Manager ListDevices -
org.siov1.Manager Rescan -
org.siov1.Device Start org.siov1.manage
org.siov1.Device Stop org.siov1.manage
org.siov1.Device Destroy org.siov1.manage
org.siov1.Device Undefine org.siov1.define
org.siov1.Device Modify org.siov1.define
org.siov1.Device Assign org.siov1.assign
org.siov1.Device Unassign org.siov1.assign
org.siov1.Manager Frobnicate org.siov1.unlisted-method
org.siov1.Device Start2 org.siov1.unlisted-method
org.siov1.Parent Reset org.siov1.unlisted-method
org.siov1.Manager destroy org.siov1.unlisted-method
org.freedesktop.DBus.Properties Get -
org.freedesktop.DBus.Properties GetAll -
org.freedesktop.DBus.Properties Set org.siov1.unlisted-method
org.freedesktop.DBus.Introspectable Introspect -
org.freedesktop.DBus.ObjectManager GetManagedObjects -
- Destroy org.siov1.manage
- ListDevices -
- Nope org.siov1.unlisted-method
EOF
check_eq "table: description of manage" "create, destroy, start, stop devices" \
        "$("$HELPER" action-for org.siov1.Device Stop | tail -n 1)"

# Every method of the published interfaces is in the table: a method added
# to the XML without an entry would be refused for everyone.
n_xml=0
while read -r iface member; do
        n_xml=$((n_xml + 1))
        a=$(table "$iface" "$member")
        if [ "$a" = org.siov1.unlisted-method ]; then
                fail "table: $iface.$member (dbus/$iface.xml) has an entry" "missing from method_actions[]"
        else
                pass "table: $iface.$member (dbus/$iface.xml) → $a"
        fi
done < <(/usr/bin/python3 - "$TOP_SRCDIR"/dbus/org.siov1.*.xml <<'PY'
import sys, xml.etree.ElementTree as ET
for f in sys.argv[1:]:
    for i in ET.parse(f).getroot().iter("interface"):
        for m in i.iter("method"):
            print(i.get("name"), m.get("name"))
PY
)
[ "$n_xml" -gt 0 ] || fail "table: methods found in dbus/*.xml" "none"

pk_setup
pk_bus_start || { it_summary; exit 1; }
pk_polkitd_start || { it_summary; exit 1; }

# --- polkit sees the project's actions with the issue's defaults -------------
# implicit authorizations: 0 = no, 4 = auth_admin_keep
acts=$(busctl --address="$ADDR" --json=short call org.freedesktop.PolicyKit1 \
        /org/freedesktop/PolicyKit1/Authority org.freedesktop.PolicyKit1.Authority EnumerateActions s "")
check_eq "polkitd: actions and defaults (any/inactive/active)" \
        "org.siov1.assign 0 0 4,org.siov1.define 0 0 4,org.siov1.manage 0 0 4" \
        "$(jq -r '[.data[0][] | select(.[0] | startswith("org.siov1.")) | "\(.[0]) \(.[6]) \(.[7]) \(.[8])"] | sort | join(",")' <<<"$acts")"

# A rule for the details check only: assign is granted for one VM name.
pk_add_rule 40-details-test.rules '
polkit.addRule(function(action, subject) {
    if (action.id == "org.siov1.assign" && action.lookup("vm") == "granted-vm")
        return polkit.Result.YES;
});'
pk_polkitd_stop && pk_polkitd_start

"$HELPER" >>"$IT_DIR/siovd.log" 2>&1 &
SIOVD_PID=$!
it_wait_siovd || { it_summary; exit 1; }

# Record what polkit receives (root may monitor the private bus).
dbus-monitor --address "$ADDR" "type='method_call',interface='org.freedesktop.PolicyKit1.Authority',member='CheckAuthorization'" \
        >"$IT_DIR/monitor.log" 2>&1 &
MON_PID=$!
# Monitoring starts when the monitor loses its own name.
for _ in $(seq 100); do grep -qs "member=NameLost" "$IT_DIR/monitor.log" && break; sleep 0.05; done
grep -q "member=NameLost" "$IT_DIR/monitor.log" || fail "dbus-monitor is monitoring" "$(cat "$IT_DIR/monitor.log")"

# --- root: allowed without polkit ---------------------------------------------
for a in org.siov1.manage org.siov1.define org.siov1.assign; do
        check_eq "root: $a allowed at once (1 run, no polkit)" "uint32 1" "$(call Guarded string:$a | xargs)"
done
check_eq "root: two actions in one call" "uint32 1" "$(call GuardedTwo string:org.siov1.manage string:org.siov1.define | xargs)"

# --- unprivileged user, no rule: refused, naming the action -----------------
out=$(ucall Guarded string:org.siov1.manage)
check_eq "user: manage refused with NotAuthorized naming the action" \
        "Error org.siov1.Error.NotAuthorized: Not authorized to perform org.siov1.manage (create, destroy, start, stop devices): ask an administrator to grant it with a polkit rule" \
        "$out"
for a in org.siov1.define org.siov1.assign; do
        out=$(ucall Guarded string:$a)
        case $out in
        "Error org.siov1.Error.NotAuthorized: Not authorized to perform $a ("*) pass "user: $a refused";;
        *) fail "user: $a refused" "$out";;
        esac
done
out=$(ucall GuardedTwo string:org.siov1.manage string:org.siov1.define)
case $out in
"Error org.siov1.Error.NotAuthorized: Not authorized to perform org.siov1.manage "*) pass "user: two actions: refused at the first";;
*) fail "user: two actions: refused at the first" "$out";;
esac
check_eq "user: reads need no authorization" "pong" "$(ucall Ping | xargs)"
check_eq "user: a read method of the table needs no polkit" "uint32 1" \
        "$(ucall GuardedAs string:org.siov1.Manager string:ListDevices | xargs)"
out=$(ucall GuardedAs string:org.siov1.Manager string:Frobnicate)
case $out in
"Error org.siov1.Error.NotAuthorized: Not authorized: org.siov1.PolkitTest.GuardedAs has no polkit action"*)
        pass "user: method missing from the table refused";;
*) fail "user: method missing from the table refused" "$out";;
esac
out=$(call GuardedAs string:org.siov1.Manager string:Frobnicate)
case $out in
"Error org.siov1.Error.NotAuthorized: "*) pass "root: method missing from the table refused too";;
*) fail "root: method missing from the table refused too" "$out";;
esac

# --- details reach polkit's rules ------------------------------------------
check_eq "user: assign granted by a rule reading details (vm=granted-vm)" "uint32 2" \
        "$(ucall GuardedDetails string:org.siov1.assign string:vm string:granted-vm | xargs)"
out=$(ucall GuardedDetails string:org.siov1.assign string:vm string:other-vm)
case $out in
"Error org.siov1.Error.NotAuthorized: "*) pass "user: same rule, other details: refused";;
*) fail "user: same rule, other details: refused" "$out";;
esac

# --- interactive flag: busctl allows interactive authorization by default ---
out=$(as_user busctl --system --allow-interactive-authorization=yes call org.siov1 /org/siov1 $IFACE Guarded s org.siov1.define 2>&1)
case $out in
*"Not authorized to perform org.siov1.define"*) pass "user: interactive call still refused (no agent, allow_any=no)";;
*) fail "user: interactive call still refused" "$out";;
esac
sleep 0.3
kill "$MON_PID" 2>/dev/null; wait "$MON_PID" 2>/dev/null
# dbus-monitor prints each argument on its own line; one call = one block.
blocks=$(awk '/^(method|signal|error)/ { if (b) print b; b = "" } /member=CheckAuthorization/ { b = $0; next } b { b = b " " $0 } END { if (b) print b }' "$IT_DIR/monitor.log")
check_eq "polkit asked only for the unprivileged calls (3 + 1 + 2 + 1)" "7" "$(grep -c . <<<"$blocks")"
check_eq "subject is the caller's bus name" "7" \
        "$(grep -c 'string "system-bus-name".*string "name" *variant *string ":1\.[0-9]*"' <<<"$blocks")"
check_eq "details passed as a{ss}" "2" \
        "$(grep -c 'string "org.siov1.assign" *array \[ *dict entry( *string "vm" *string "[a-z-]*" *) *\] *uint32 0' <<<"$blocks")"
check_eq "flags: AllowUserInteraction only for the interactive call" \
        "1 6" \
        "$(grep -c 'uint32 1 *string ""' <<<"$blocks") $(grep -c 'uint32 0 *string ""' <<<"$blocks")"

# --- the group rule of policy/org.siov1.rules.example ----------------------
pk_grant_group || { it_summary; exit 1; }
for a in org.siov1.manage org.siov1.define org.siov1.assign; do
        check_eq "user in group siov: $a allowed (asked once, dispatched again)" "uint32 2" \
                "$(ucall Guarded string:$a | xargs)"
done
check_eq "user in group siov: two actions, asked one after the other" "uint32 3" \
        "$(ucall GuardedTwo string:org.siov1.manage string:org.siov1.assign | xargs)"
check_eq "user in group siov: same action twice in one call is asked once" "uint32 2" \
        "$(ucall GuardedTwo string:org.siov1.define string:org.siov1.define | xargs)"
out=$(ucall Guarded string:org.siov1.other)
case $out in
"Error org.siov1.Error.NotAuthorized: Not authorized to perform org.siov1.other: "*) pass "user in group siov: an action the rule does not list is refused";;
*) fail "user in group siov: an action the rule does not list is refused" "$out";;
esac
pk_set_group_members ""
out=$(ucall Guarded string:org.siov1.manage)
case $out in
"Error org.siov1.Error.NotAuthorized: "*) pass "user removed from group siov: refused again";;
*) fail "user removed from group siov: refused again" "$out";;
esac
pk_set_group_members "$PK_USER"
check_eq "no query left behind (queries, calls)" "0 0" "$(pending)"

# --- the service keeps serving while polkit has not answered ---------------
kill -STOP "$PK_PID"
ucall Guarded string:org.siov1.manage >"$IT_DIR/slow.out" &
slow=$!
for _ in $(seq 100); do [ "$(pending)" = "1 1" ] && break; sleep 0.05; done
check_eq "polkit paused: the query is in flight" "1 1" "$(pending)"
t0=$(date +%s%N)
check_eq "polkit paused: another caller is served" "pong" "$(as_user timeout 5 dbus-send --system --print-reply=literal "${DEST[@]}" $IFACE.Ping | xargs)"
check_eq "polkit paused: root is served (no polkit needed)" "uint32 1" "$(timeout 5 dbus-send --system --print-reply=literal "${DEST[@]}" $IFACE.Guarded string:org.siov1.manage | xargs)"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
if [ "$ms" -lt 3000 ]; then pass "polkit paused: both answered in ${ms} ms"; else fail "polkit paused: answers took ${ms} ms"; fi
# 20 more callers wait together.
many=()
for i in $(seq 20); do
        ucall Guarded string:org.siov1.define >"$IT_DIR/many.$i" &
        many+=($!)
done
for _ in $(seq 100); do [ "$(pending)" = "21 21" ] && break; sleep 0.05; done
check_eq "polkit paused: 21 queries in flight" "21 21" "$(pending)"
if kill -0 "$slow" 2>/dev/null; then pass "polkit paused: the first caller still waits"; else fail "polkit paused: the first caller still waits" "it returned: $(cat "$IT_DIR/slow.out")"; fi
# A caller that gives up while waiting.
as_user dbus-send --system --print-reply "${DEST[@]}" $IFACE.Guarded string:org.siov1.assign >/dev/null 2>&1 &
quitter=$!
for _ in $(seq 100); do [ "$(pending)" = "22 22" ] && break; sleep 0.05; done
kill "$quitter"; wait "$quitter" 2>/dev/null
kill -CONT "$PK_PID"
wait "$slow"
check_eq "polkit resumed: the first caller gets its answer" "uint32 2" "$(xargs <"$IT_DIR/slow.out")"
wait "${many[@]}"
ok=0
for i in $(seq 20); do [ "$(xargs <"$IT_DIR/many.$i")" = "uint32 2" ] && ok=$((ok + 1)); done
check_eq "polkit resumed: all 20 waiting callers allowed" "20" "$ok"
sleep 0.2
check_eq "polkit resumed: every query freed, the gone caller's too" "0 0" "$(pending)"

# --- one connection cannot take every check in flight; identical ones merge --
# 10 different checks from one connection while polkit is paused: 8 go to
# polkit, 2 are Busy at once; then 5 calls identical to the first wait for
# its answer (not Busy: they share its check).
kill -STOP "$PK_PID"
as_user /usr/bin/python3 - >"$IT_DIR/hog.out" 2>&1 <<'PY' &
from gi.repository import Gio, GLib
conn = Gio.bus_get_sync(Gio.BusType.SYSTEM)
calls = [f"u{i}" for i in range(10)] + ["u0"] * 5
results, loop = {}, GLib.MainLoop()
def done(c, res, i):
    try:
        results[i] = str(c.call_finish(res)[0])
    except GLib.Error as e:
        results[i] = Gio.DBusError.get_remote_error(e) or e.message
    if len(results) == len(calls):
        loop.quit()
for i, u in enumerate(calls):
    conn.call("org.siov1", "/org/siov1", "org.siov1.PolkitTest", "GuardedDetails",
              GLib.Variant("(sss)", ("org.siov1.define", "uuid", u)), None, 0, 60000, None, done, i)
loop.run()
busy = sorted(i for i, v in results.items() if v == "org.siov1.Error.Busy")
same = all(results[i] == results[0] for i in range(10, 15))
print("busy", ",".join(map(str, busy)), "followers-same", same, "first", results[0])
PY
hog=$!
for _ in $(seq 100); do [ "$(pending)" = "13 13" ] && break; sleep 0.05; done
check_eq "one connection: 8 checks + 5 merged followers wait for polkit" "13 13" "$(pending)"
kill -CONT "$PK_PID"
wait "$hog"
case $(cat "$IT_DIR/hog.out") in
"busy 8,9 followers-same True first "*) pass "one connection: the 2 checks beyond 8 are Busy, the 5 identical calls share the first's answer";;
*) fail "one connection: the 2 checks beyond 8 are Busy, the 5 identical calls share the first's answer" "$(cat "$IT_DIR/hog.out")";;
esac
sleep 0.2
check_eq "one connection: every query freed" "0 0" "$(pending)"

# --- no polkit on the bus: fail closed -------------------------------------
pk_polkitd_stop
out=$(ucall Guarded string:org.siov1.manage)
case $out in
"Error org.siov1.Error.NotAuthorized: Not authorized to perform org.siov1.manage: polkit is unavailable"*)
        pass "no polkit: refused, saying polkit is unavailable";;
*) fail "no polkit: refused, saying polkit is unavailable" "$out";;
esac
check_eq "no polkit: root still allowed" "uint32 1" "$(call Guarded string:org.siov1.manage | xargs)"
check_eq "no polkit: reads still work" "pong" "$(ucall Ping | xargs)"
check_eq "no polkit: no query left behind" "0 0" "$(pending)"

# --- exit with a query in flight: the registry cancels it ------------------
pk_polkitd_start
kill -STOP "$PK_PID"
ucall Guarded string:org.siov1.manage >"$IT_DIR/cut.out" &
cut=$!
for _ in $(seq 100); do [ "$(pending)" = "1 1" ] && break; sleep 0.05; done
check_eq "exit: a query in flight" "1 1" "$(pending)"
if it_siovd_stop; then pass "exit: the service exits cleanly with a query in flight"; else fail "exit: the service exits cleanly with a query in flight"; fi
wait "$cut"
case $(cat "$IT_DIR/cut.out") in
"Error org.freedesktop.DBus.Error.NoReply"*|*"NoReply"*) pass "exit: the waiting caller is told there is no reply";;
*) fail "exit: the waiting caller is told there is no reply" "$(cat "$IT_DIR/cut.out")";;
esac
grep -q "Exiting with 1 polkit queries alive" "$IT_DIR/siovd.log" && pass "exit: freed the live query" || fail "exit: freed the live query"
kill -CONT "$PK_PID"

it_summary
