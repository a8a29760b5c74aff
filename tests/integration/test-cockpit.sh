#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The Cockpit page (cockpit/) in a real browser: Debian's headless Chromium,
# driven through chromium-driver (browser-driver.py), loads the page from a
# real cockpit-ws (a local session through cockpit-bridge, loopback only)
# whose bridge talks to siovd on this test's private bus (fake tree + fake
# kernel), with Debian's real polkitd deciding:
#   - root's page shows every parent, type (availability) and device siovctl
#     shows; creates a device (siovctl list sees it), starts and stops a
#     definition, assigns and unassigns a VM, destroys; a create from a
#     terminal shows up without a reload; a refusal (NoCapacity) shows
#     siovd's message;
#   - an unprivileged user's page shows the same, read-only: every change is
#     refused by polkit with siovd's NotAuthorized message, nothing changes.
# Screenshots (1280x800) go to $TOP_BUILDDIR/tests/integration/cockpit-screenshots.
. "$(dirname "$0")/polkit-lib.sh"

FAKE_KERNEL=${FAKE_KERNEL:-$TOP_BUILDDIR/tests/common/.libs/fake-kernel.so}
DEFS=$IT_DIR/defs
SHOTS=$TOP_BUILDDIR/tests/integration/cockpit-screenshots
WS=/usr/lib/cockpit/cockpit-ws
BRIDGE=/usr/bin/cockpit-bridge
PY=/usr/bin/python3
U_DEF=5eed0000-0000-4000-8000-000000000001      # defined, not active
U_ACT=5eed0000-0000-4000-8000-000000000002      # active, persistent
WS_PIDS=()
BROWSER_PID=
LIBVIRT_DBUS_PID=

pk_setup
missing=
for f in "$SIOVD" "$SIOVCTL" "$FAKE_SYSFS_TOOL" "$FAKE_KERNEL" "$WS" "$BRIDGE" /usr/bin/chromium /usr/bin/chromedriver; do
        [ -x "$f" ] || [ -f "$f" ] || missing+=" $f"
done
$PY -c 'import selenium' 2>/dev/null || missing+=" python3-selenium"
[ -f /usr/share/cockpit/base1/cockpit.js ] || [ -f /usr/share/cockpit/base1/cockpit.js.gz ] || missing+=" cockpit.js (cockpit-bridge)"
if [ -n "$missing" ]; then
        fail "browser test prerequisites (tests/install-deps installs them)" "missing:$missing"
        it_summary
        exit 1
fi

cockpit_cleanup() {
        [ -n "$BROWSER_PID" ] && { echo '["quit"]' >&"$BR_IN"; wait "$BROWSER_PID"; } 2>/dev/null
        for p in "${WS_PIDS[@]}" $LIBVIRT_DBUS_PID; do kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
        if [ "$it_failed" -gt 0 ]; then
                for f in "$IT_DIR"/ws-*.log "$IT_DIR/browser.log" "$IT_DIR/libvirt-dbus.log"; do
                        [ -s "$f" ] && { echo "--- $f ---"; tail -n 20 "$f"; }
                done
        fi
        pk_cleanup
}
trap cockpit_cleanup EXIT

# --- the tree, a definition, a VM ----------------------------------------------
fake init
# siov0: 7 of its 8 work queues are held by host netdevs; siov1 is empty.
fake add-siov-parent siov0 --total 8 --free 1 --host-netdev 7 --swq-slots 4
fake add-siov-parent siov1 --total 8 --free 8 --swq-slots 4
fake add-pf 0000:3b:00.0 --total-vfs 8 --driver mlx5_core
fake add-vf 0000:3b:00.0 0 0000:3b:00.2
fake add-vf 0000:3b:00.0 1 0000:3b:00.3 --driver mlx5_core --netdev ens1f0v1
fake add-vf 0000:3b:00.0 2 0000:3b:00.4 --driver mlx5_core --netdev ens1f0v2
mkdir -p "$DEFS"
# A file siovd will not load: the page lists it.
BAD_DEF=$DEFS/5eed0000-0000-4000-8000-0000000000ff.json
echo '{ "uuid": ' >"$BAD_DEF"
cat >"$IT_DIR/libvirt.xml" <<'EOF'
<node>
  <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
    <name>vm1</name><memory>65536</memory><os><type>hvm</type></os>
    <devices/>
    <test:runstate>5</test:runstate>
  </domain>
</node>
EOF

# libvirt-dbus's stand-in may own org.libvirt on this bus.
cat >"$IT_DIR/org.libvirt.conf" <<'EOF'
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <policy user="root"><allow own="org.libvirt"/></policy>
  <policy context="default"><allow send_destination="org.libvirt"/></policy>
</busconfig>
EOF
it_bus_start /usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf "$IT_DIR/org.libvirt.conf" || { it_summary; exit 1; }
pk_polkitd_start || { it_summary; exit 1; }
# libvirt's domains as libvirt-dbus lists them: vm1 (which siovd's libvirt
# knows) and vm2 (which it does not).
coproc LIBVIRT_DBUS { exec "$PY" "$TOP_SRCDIR/tests/integration/fake-libvirt-dbus.py" vm1 vm2 2>>"$IT_DIR/libvirt-dbus.log"; }
LIBVIRT_DBUS_PID=$!
IFS= read -r -t 30 ready <&"${LIBVIRT_DBUS[0]}"
check_eq "libvirt-dbus stand-in owns org.libvirt" "ready" "${ready:-}"
siovd_up() {
        env LD_PRELOAD="$FAKE_KERNEL" SIOV_FAKE_KERNEL_ROOT="$ROOT" SIOV_LIBVIRT_URI="test://$IT_DIR/libvirt.xml" \
                "$SIOVD" --sysfs-root="$ROOT" --definitions-dir="$DEFS" --log-level=debug >>"$IT_DIR/siovd.log" 2>&1 &
        SIOVD_PID=$!
        it_wait_siovd
}
siovd_up || { it_summary; exit 1; }
check "root: define $U_DEF on siov1" siovctl define -t idxd-1swq -p siov1 --uuid "$U_DEF"
check "root: create $U_ACT on siov1 (persistent)" siovctl create -t idxd-1dwq -p siov1 --uuid "$U_ACT" --persistent

# The page as `make install` puts it in place (only the page's files), found
# where cockpit-bridge looks for a user's packages ($XDG_DATA_HOME/cockpit/),
# readable by the test user.
mkdir -p "$SHOTS"
rm -f "$SHOTS"/*.png
check "make install puts the page in place" \
        make -s -C "$TOP_BUILDDIR" install-dist_cockpitDATA DESTDIR="$IT_DIR/stage"
PAGE=$(find "$IT_DIR/stage" -path '*/share/cockpit/siov' -type d)
for f in manifest.json index.html siov.js siov.css; do
        [ -f "$PAGE/$f" ] || fail "installed: cockpit/siov/$f" "not in $IT_DIR/stage"
done
mkdir -p "$IT_DIR/share/cockpit"
cp -r "$PAGE" "$IT_DIR/share/cockpit/siov"
chmod -R a+rX "$IT_DIR/share"

# --- the browser -------------------------------------------------------------------
# Chromium itself must not see the private bus (it would log its own D-Bus
# errors): only the bridge, started by cockpit-ws, gets it.
coproc BROWSER { env -u DBUS_SYSTEM_BUS_ADDRESS "$PY" "$TOP_SRCDIR/tests/integration/browser-driver.py" 2>>"$IT_DIR/browser.log"; }
BROWSER_PID=$!
# Own descriptors: bash closes the coproc's own in pipelines' subshells.
exec {BR_IN}>&"${BROWSER[1]}" {BR_OUT}<&"${BROWSER[0]}"
# b CMD ARGS... : one driver command; prints its value, fails with its error.
b() {
        local line
        jq -cn '$ARGS.positional' --args "$@" >&"$BR_IN" || { echo "browser driver is gone"; return 1; }
        IFS= read -r -t 90 line <&"$BR_OUT" || { echo "browser driver gave no answer to $1"; return 1; }
        jq -r 'if .ok then (.value | if type == "array" then join("\n") else tostring end) else .error end' <<<"$line"
        [ "$(jq -r .ok <<<"$line")" = true ]
}
# bcheck NAME CMD ARGS... : a driver command must succeed
bcheck() {
        local name=$1 out; shift
        if out=$(b "$@"); then pass "$name"; else fail "$name" "$out"; fi
}
shot() { bcheck "screenshot $1.png" screenshot "$SHOTS/$1.png"; }

# A local session is one bridge for one page load: each page gets its own
# cockpit-ws (as root, or as the test user), on a free loopback port.
# ws_start NAME [as_user] : sets URL
# $! is cockpit-ws itself (setpriv and env exec), so the cleanup ends it, and
# its bridge with it. A bridge without a session bus or an ssh-agent starts
# its own, which outlive it: it gets the test's bus and a dead agent socket.
ws_start() {
        local name=$1 run=() port pid
        [ "${2:-}" = as_user ] && run=(setpriv --reuid="$PK_UID" --regid="$PK_GID" --clear-groups --reset-env --)
        for port in $(shuf -i 20000-29999 -n 20); do
                # Taken already: another listener must never be mistaken for ours.
                (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
                "${run[@]}" env PATH="$PATH" XDG_DATA_HOME="$IT_DIR/share" DBUS_SYSTEM_BUS_ADDRESS="$ADDR" \
                        DBUS_SESSION_BUS_ADDRESS="$ADDR" SSH_AUTH_SOCK="$IT_DIR/no-ssh-agent" \
                        "$WS" --no-tls --local-session="$BRIDGE" -p "$port" -a 127.0.0.1 >>"$IT_DIR/ws-$name.log" 2>&1 &
                pid=$!
                for _ in $(seq 100); do
                        kill -0 "$pid" 2>/dev/null || break
                        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && kill -0 "$pid" 2>/dev/null; then
                                WS_PIDS+=("$pid")
                                URL=http://127.0.0.1:$port/cockpit/@localhost/siov/index.html
                                return 0
                        fi
                        sleep 0.05
                done
                kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
        done
        fail "cockpit-ws ($name) listens on loopback" "$(tail -n 5 "$IT_DIR/ws-$name.log" | tr '\n' ' ')"
        return 1
}

json_list() { siovctl --json list; }
uuids_page() { b attrs '#siov-devices-body tr[data-uuid]' data-uuid | sort; }
uuids_siovctl() { json_list | jq -r '.[].uuid' | sort; }
avail_page() { b attr "[data-parent=\"$1\"] [data-type=\"$2\"]" data-available; }
avail_siovctl() { siovctl --json types --parent "$1" | jq -r ".[] | select(.id == \"$2\") | .available_instances"; }

# --- 1. root: everything shown --------------------------------------------------------
ws_start root || { it_summary; exit 1; }
bcheck "root: page loads" open "$URL"
bcheck "root: page ready (objects loaded from org.siov1)" wait 'body[data-siov-state=ready]' 30
check_eq "root: one card per parent siovctl shows" \
        "$(siovctl --json parents | jq -r '.[].name' | sort | tr '\n' ' ')" \
        "$(b attrs '[data-parent]' data-parent | sort | tr '\n' ' ')"
for pt in siov0/idxd-1dwq siov0/idxd-1swq siov1/idxd-1dwq siov1/idxd-1swq 0000:3b:00.0/vf; do
        check_eq "root: $pt availability as siovctl says" "$(avail_siovctl "${pt%/*}" "${pt#*/}")" "$(avail_page "${pt%/*}" "${pt#*/}")"
done
check_eq "root: every device siovctl lists (mdevs and VFs), once" "$(uuids_siovctl)" "$(uuids_page)"
check_eq "root: states of the definition and the persistent device" "defined both" \
        "$(b attr "tr[data-uuid=\"$U_DEF\"]" data-state) $(b attr "tr[data-uuid=\"$U_ACT\"]" data-state)"
check_eq "root: siov0's pool shows 7 host netdevs, 1 free of 8" "8 1" \
        "$(b attr '[data-parent=siov0] .siov-pool' data-pool-total) $(b attr '[data-parent=siov0] .siov-pool' data-pool-free)"
check "root: siov0's pool names its host netdevs" bash -c '[[ $1 == *"7 host netdevs"* ]]' _ "$(b text '[data-parent=siov0] .siov-pool')"
check_eq "root: the PF's VF bar: 1 available, 2 used by the host" "1" "$(avail_page 0000:3b:00.0 vf)"
check "root: host VFs counted on the PF" bash -c '[[ $1 == *"host VFs 2"* ]]' _ "$(b text '[data-parent="0000:3b:00.0"] .siov-host-usage')"
check_eq "root: admin, so no limited-access notice" "true" "$(b attr body data-siov-admin)"
bcheck "root: the definition file siovd skipped is named" wait-text '#siov-definitions-skipped' "$BAD_DEF"
bcheck "root: siovd's version (a Manager property) in the summary" \
        wait-text '#siov-summary' "siovd $(siovctl --json status | jq -r .version)"
shot overview

# --- 2. create from the page ------------------------------------------------------------
before=$(uuids_siovctl)
bcheck "root: open the create dialog" click '#siov-create-open'
bcheck "root: choose type idxd-1dwq" select '#siov-create-type' idxd-1dwq
bcheck "root: choose parent siov1" select '#siov-create-parent' siov1
bcheck "root: persistent" check '#siov-create-persistent' true
shot create-dialog
bcheck "root: submit the create" click '#siov-create-submit'
bcheck "root: the dialog closes" wait-gone '#siov-create' 20
bcheck "root: a success alert" wait-text '#siov-alerts' 'Created'
NEW=$(comm -13 <(echo "$before") <(uuids_siovctl))
check "root: siovctl list has exactly one new device" bash -c '[[ $1 =~ ^[0-9a-f-]{36}$ ]]' _ "$NEW"
check_eq "root: the new device: siov1, idxd-1dwq, persistent" "siov1 idxd-1dwq true" \
        "$(json_list | jq -r ".[] | select(.uuid == \"$NEW\") | \"\(.parent) \(.type) \(.persistent)\"")"
bcheck "root: the page shows it" wait "tr[data-uuid=\"$NEW\"]"
check "root: the page's alert names it" bash -c '[[ $1 == *"$2"* ]]' _ "$(b text '#siov-alerts')" "$NEW"
check_eq "root: siov1 idxd-1dwq availability followed" "$(avail_siovctl siov1 idxd-1dwq)" "$(avail_page siov1 idxd-1dwq)"

# "Most room": no parent chosen, siovd picks siov1 (siov0 has 1).
before=$(uuids_siovctl)
bcheck "root: create with \"most room\"" click '#siov-create-open'
bcheck "root: type idxd-1dwq" select '#siov-create-type' idxd-1dwq
bcheck "root: parent: most room" select '#siov-create-parent' ''
check_eq "root: the VM is a choice of libvirt's domains (libvirt-dbus)" "SELECT: vm1 vm2" \
        "$(b attr '#siov-create-vm' tagName): $(b attrs '#siov-create-vm option' value | grep . | tr '\n' ' ' | sed 's/ $//')"
bcheck "root: VM vm1" select '#siov-create-vm' vm1
bcheck "root: submit" click '#siov-create-submit'
bcheck "root: dialog closes" wait-gone '#siov-create' 20
MOST=$(comm -13 <(echo "$before") <(uuids_siovctl))
check_eq "root: \"most room\" created on siov1, assigned to vm1" "siov1 vm1" \
        "$(json_list | jq -r ".[] | select(.uuid == \"$MOST\") | \"\(.parent) \(.vm)\"")"
bcheck "root: the page shows it in vm1" wait "tr[data-uuid=\"$MOST\"][data-vm=vm1]"

# --- 3. a live change from a terminal ------------------------------------------------------
a_before=$(avail_page siov1 idxd-1dwq)
TERM_U=$(siovctl create --type idxd-1dwq --parent siov1 2>/dev/null)
bcheck "live: the terminal's device appears without a reload" wait "tr[data-uuid=\"$TERM_U\"]"
bcheck "live: siov1 idxd-1dwq availability drops by one" wait "[data-parent=siov1] [data-type=idxd-1dwq][data-available=\"$((a_before - 1))\"]"
check "live: siovctl destroy from the terminal" siovctl destroy "$TERM_U"
bcheck "live: the device goes away" wait-gone "tr[data-uuid=\"$TERM_U\"]"
bcheck "live: availability comes back" wait "[data-parent=siov1] [data-type=idxd-1dwq][data-available=\"$a_before\"]"

# --- 4. a refusal: siov0 has room for one idxd-1dwq -----------------------------------------
bcheck "refusal: take siov0's last idxd-1dwq from the page" click '#siov-create-open'
b select '#siov-create-type' idxd-1dwq >/dev/null
b select '#siov-create-parent' siov0 >/dev/null
bcheck "refusal: first create on siov0" click '#siov-create-submit'
bcheck "refusal: dialog closes" wait-gone '#siov-create' 20
bcheck "refusal: siov0 idxd-1dwq shows full" wait '[data-parent=siov0] [data-type=idxd-1dwq][data-available="0"] .siov-label-danger'
SIOV0_U=$(json_list | jq -r '.[] | select(.parent == "siov0" and .type == "idxd-1dwq") | .uuid')
before=$(uuids_siovctl)
bcheck "refusal: again on siov0" click '#siov-create-open'
b select '#siov-create-type' idxd-1dwq >/dev/null
b select '#siov-create-parent' siov0 >/dev/null
bcheck "refusal: submit" click '#siov-create-submit'
bcheck "refusal: the dialog shows an error" wait '#siov-create-error'
msg=$(b text '#siov-create-error')
check "refusal: siovd's NoCapacity message, naming the host netdevs" \
        bash -c '[[ $1 == NoCapacity:* && $1 == *"siov0"* && $1 == *"7 host netdevs"* ]]' _ "$msg"
shot refusal
b click '#siov-create-cancel' >/dev/null
check_eq "refusal: nothing created" "$before" "$(uuids_siovctl)"
check_eq "refusal: the dialog forgot the last create's VM: $SIOV0_U has none" "" \
        "$(json_list | jq -r ".[] | select(.uuid == \"$SIOV0_U\") | .vm")"
b click-all '.siov-alert-close' >/dev/null
shot contention

# --- 5. start/stop, assign/unassign, destroy --------------------------------------------------
bcheck "start: click Start on $U_DEF" click "tr[data-uuid=\"$U_DEF\"] [data-action=start]"
bcheck "start: the page shows it active" wait "tr[data-uuid=\"$U_DEF\"][data-state=both]"
check_eq "start: siovctl agrees" "both" "$(json_list | jq -r ".[] | select(.uuid == \"$U_DEF\") | .state")"
bcheck "stop: click Stop" click "tr[data-uuid=\"$U_DEF\"] [data-action=stop]"
bcheck "stop: the page shows it defined" wait "tr[data-uuid=\"$U_DEF\"][data-state=defined]"
check_eq "stop: siovctl agrees" "defined" "$(json_list | jq -r ".[] | select(.uuid == \"$U_DEF\") | .state")"

bcheck "assign: click Assign on $NEW" click "tr[data-uuid=\"$NEW\"] [data-action=assign]"
bcheck "assign: choose vm1" select '#siov-confirm-vm' vm1
bcheck "assign: confirm" click '#siov-confirm-submit'
bcheck "assign: the page shows vm1" wait "tr[data-uuid=\"$NEW\"][data-vm=vm1]"
check_eq "assign: siovctl shows vm1" "vm1" "$(json_list | jq -r ".[] | select(.uuid == \"$NEW\") | .vm")"
shot devices
bcheck "assign again: click Assign on $U_ACT" click "tr[data-uuid=\"$U_ACT\"] [data-action=assign]"
bcheck "assign to vm2, which siovd's libvirt does not know" select '#siov-confirm-vm' vm2
bcheck "assign: confirm" click '#siov-confirm-submit'
bcheck "assign: refused in the dialog" wait '#siov-confirm-error'
check "assign: the refusal is siovd's, naming the VM" bash -c '[[ $1 == *vm2* ]]' _ "$(b text '#siov-confirm-error')"
check_eq "assign: refused, so $U_ACT has no VM" "" "$(json_list | jq -r ".[] | select(.uuid == \"$U_ACT\") | .vm")"
b click '#siov-confirm-cancel' >/dev/null
bcheck "unassign: click Unassign" click "tr[data-uuid=\"$NEW\"] [data-action=unassign]"
bcheck "unassign: confirm" click '#siov-confirm-submit'
bcheck "unassign: the VM column empties" wait "tr[data-uuid=\"$NEW\"][data-vm=\"\"]"
check_eq "unassign: siovctl agrees" "" "$(json_list | jq -r ".[] | select(.uuid == \"$NEW\") | .vm")"

for u in "$NEW" "$MOST" "$SIOV0_U"; do
        bcheck "destroy $u: click Destroy" click "tr[data-uuid=\"$u\"] [data-action=destroy]"
        bcheck "destroy $u: confirm" click '#siov-confirm-submit'
        bcheck "destroy $u: gone from the page" wait-gone "tr[data-uuid=\"$u\"]"
        check_eq "destroy $u: gone from siovctl list" "" "$(json_list | jq -r ".[] | select(.uuid == \"$u\") | .uuid")"
done
check_eq "destroy: no definition file left for $NEW" "" "$(ls "$DEFS" | grep "$NEW")"
check_eq "root: the page and siovctl still agree" "$(uuids_siovctl)" "$(uuids_page)"
console=$(b console)
check "root: no JavaScript error or CSP violation in the console" \
        bash -c '! grep -Ei "Uncaught|TypeError|ReferenceError|Content Security Policy|Failed to load" <<<"$1"' _ "$console"

# --- 6. an unprivileged user: read-only, refusals shown ----------------------------------------
# Without libvirt-dbus the VM is a text field.
kill -TERM "$LIBVIRT_DBUS_PID" && wait "$LIBVIRT_DBUS_PID" 2>/dev/null
LIBVIRT_DBUS_PID=
ws_start user as_user || { it_summary; exit 1; }
bcheck "user: page loads" open "$URL"
bcheck "user: page ready" wait 'body[data-siov-state=ready]' 30
check_eq "user: sees every device root sees" "$(uuids_siovctl)" "$(uuids_page)"
check_eq "user: sees every parent" "3" "$(b count '[data-parent]')"
bcheck "user: the limited-access notice" wait '#siov-access'
check_eq "user: not admin" "false" "$(b attr body data-siov-admin)"
before=$(uuids_siovctl)
bcheck "user: open the create dialog" click '#siov-create-open'
check_eq "user: no libvirt-dbus, so the VM is a text field" "INPUT" "$(b attr '#siov-create-vm' tagName)"
b select '#siov-create-type' idxd-1dwq >/dev/null
b select '#siov-create-parent' siov1 >/dev/null
bcheck "user: submit" click '#siov-create-submit'
bcheck "user: refused in the dialog" wait '#siov-create-error'
check "user: polkit's refusal: NotAuthorized naming org.siov1.manage" \
        bash -c '[[ $1 == NotAuthorized:* && $1 == *org.siov1.manage* ]]' _ "$(b text '#siov-create-error')"
shot nonadmin-refusal
b click '#siov-create-cancel' >/dev/null
bcheck "user: Destroy $U_ACT" click "tr[data-uuid=\"$U_ACT\"] [data-action=destroy]"
bcheck "user: confirm" click '#siov-confirm-submit'
bcheck "user: refused" wait '#siov-confirm-error'
check "user: the destroy refusal names org.siov1.manage" bash -c '[[ $1 == *org.siov1.manage* ]]' _ "$(b text '#siov-confirm-error')"
b click '#siov-confirm-cancel' >/dev/null
bcheck "user: Start $U_DEF" click "tr[data-uuid=\"$U_DEF\"] [data-action=start]"
bcheck "user: refusal alert on the page" wait-text '#siov-alerts' 'org.siov1.manage'
check_eq "user: nothing changed" "$before" "$(uuids_siovctl)"
check_eq "user: $U_DEF still only defined" "defined" "$(json_list | jq -r ".[] | select(.uuid == \"$U_DEF\") | .state")"
check "polkit was asked (siovd's log)" grep -q "polkit: asking org.siov1.manage" "$IT_DIR/siovd.log"

# --- 7. siovd goes away and comes back --------------------------------------------------------
it_siovd_stop
bcheck "siovd stopped: the page says so" wait 'body[data-siov-state=no-siovd]'
bcheck "siovd stopped: and how to start it" wait-text '#siov-empty' 'systemctl start siovd'
shot no-siovd
siovd_up || { it_summary; exit 1; }
bcheck "siovd back: the page fills in again" wait 'body[data-siov-state=ready]' 30
bcheck "siovd back: its devices are shown" wait "tr[data-uuid=\"$U_ACT\"]"
check_eq "siovd back: every device, once" "$(uuids_siovctl)" "$(uuids_page)"

for f in overview create-dialog refusal contention devices nonadmin-refusal no-siovd; do
        check "screenshot $f.png is 1280x800" $PY -c '
import struct, sys
with open(sys.argv[1], "rb") as f:
    head = f.read(24)
sys.exit(0 if head[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", head[16:24]) == (1280, 800) else 1)' "$SHOTS/$f.png"
done
echo "screenshots: $SHOTS"
it_summary
