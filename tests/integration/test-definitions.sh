#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The definitions folder is the operator's data (issue 10): siovd never
# writes what it cannot read back, never replaces or removes a file it did
# not write (skipped, copied in, edited by hand), removes its own stale
# temporary files at start, keeps running degraded when the folder is
# unusable, says exactly what a partial operation did, notices changes made
# by hand, and lists every skipped file and refusal in `siovctl status`.
. "$(dirname "$0")/lib.sh"

FAKE_KERNEL=$TOP_BUILDDIR/tests/common/.libs/fake-kernel.so
[ -f "$FAKE_KERNEL" ] || { fail "fake kernel built" "$FAKE_KERNEL missing"; it_summary; exit 1; }
DEFS=$IT_DIR/defs
export SIOV_DEFINITIONS_DIR=$DEFS
MOUNTED=
trap '[ -n "$MOUNTED" ] && umount "$MOUNTED" 2>/dev/null; it_cleanup' EXIT

siovd_up() {
        LD_PRELOAD=$FAKE_KERNEL SIOV_FAKE_KERNEL_ROOT=$ROOT it_siovd_start "$@"
}
siovd_restart() {
        it_siovd_stop
        siovd_up "$@"
}
state() {       # UUID
        siovctl --json list | jq -r ".[] | select(.uuid == \"$1\") | .state"
}
# waits until CMD prints EXPECTED (inotify is asynchronous), 3 s at most
wait_eq() {     # NAME EXPECTED CMD...
        local name=$1 want=$2 got; shift 2
        for _ in $(seq 60); do
                got=$("$@" 2>/dev/null)
                [ "$got" = "$want" ] && break
                sleep 0.05
        done
        check_eq "$name" "$want" "$got"
}
sum() { sha256sum "$1" | cut -d' ' -f1; }

fake init
fake add-siov-parent siov0 --total 8 --free 8 --swq-slots 4
mkdir -p "$DEFS" "$ROOT/fake-kernel"

it_bus_start || { it_summary; exit 1; }
siovd_up || { it_summary; exit 1; }

# --- 1. never accept what cannot be read back ------------------------------------
big=$(head -c 4000 /dev/zero | tr '\0' x)
args=(); for i in $(seq 20); do args+=(--attr "a$i=$big"); done
U1=11111111-0000-4000-8000-000000000001
out=$(siovctl define --type idxd-1dwq --parent siov0 --uuid $U1 "${args[@]}" 2>&1); rc=$?
check_eq "define of an 80 KB definition: refused, InvalidArgument (exit 2)" 2 $rc
check "the refusal names the size limit" grep -q "65536" <<<"$out"
check "nothing written for the refused definition" test ! -e "$DEFS/$U1.json"
check_eq "no device for the refused definition" "" "$(state $U1)"
out=$(siovctl create --type idxd-1dwq --parent siov0 --uuid $U1 --persistent "${args[@]}" 2>&1); rc=$?
check_eq "create --persistent of an 80 KB definition: refused (exit 2)" 2 $rc
check_eq "no device made for it" "" "$(state $U1)"
# JSON escaping counts: 4096 bytes of control characters are 24 KB in a file
ctl=$(printf '\001%.0s' $(seq 4096))
args=(); for i in 1 2 3; do args+=(--attr "c$i=$ctl"); done
out=$(siovctl define --type idxd-1dwq --parent siov0 --uuid $U1 "${args[@]}" 2>&1); rc=$?
check_eq "define whose escaped file would pass 64 KiB: refused (exit 2)" 2 $rc
check "define of a small definition works" siovctl define --type idxd-1dwq --parent siov0 --uuid $U1 --attr a=1
out=$(siovctl modify $U1 "${args[@]}" 2>&1); rc=$?
check_eq "modify past the limit: refused (exit 2)" 2 $rc
check_eq "the file keeps the old attributes" '[{"a":"1"}]' "$(jq -c .attrs "$DEFS/$U1.json")"
siovd_restart || { it_summary; exit 1; }
check_eq "what was acknowledged loads back after a restart" "defined" "$(state $U1)"

# --- 2 + 3. a skipped file is neither removed by a rollback nor overwritten ---------
U2=22222222-0000-4000-8000-000000000002
printf '{ "uuid": "%s", "parent": "siov0", "type": ' $U2 > "$DEFS/$U2.json"   # half-edited
siovd_restart || { it_summary; exit 1; }
S2=$(sum "$DEFS/$U2.json")
echo EIO > "$ROOT/fake-kernel/fail-create"
out=$(siovctl create --type idxd-1dwq --parent siov0 --uuid $U2 --persistent 2>&1); rc=$?
rm -f "$ROOT/fake-kernel/fail-create"
check_eq "create --persistent over a skipped file: AlreadyExists (exit 1)" 1 $rc
check "the skipped file survives the failed create's rollback" test -f "$DEFS/$U2.json"
check_eq "the skipped file is byte-identical" "$S2" "$(sum "$DEFS/$U2.json")"
check "AlreadyExists names the file and why it was skipped" bash -c '
        grep -q "$2/$3.json" <<<"$1" && grep -q "unexpected end of input" <<<"$1"' _ "$out" "$DEFS" "$U2"
out=$(siovctl define --type idxd-1swq --parent siov0 --uuid $U2 2>&1); rc=$?
check_eq "define over a skipped file: AlreadyExists (exit 1)" 1 $rc
check_eq "define left the skipped file byte-identical" "$S2" "$(sum "$DEFS/$U2.json")"
out=$(siovctl create --type idxd-1dwq --parent siov0 --uuid $U2 --persistent 2>&1); rc=$?
check_eq "create --persistent (kernel willing) over a skipped file: exit 1" 1 $rc
check_eq "... and the file is still byte-identical" "$S2" "$(sum "$DEFS/$U2.json")"
check_eq "... and no device was made" "" "$(state $U2)"
status=$(siovctl status)
check "status lists the skipped file with its reason" bash -c '
        grep -q "$2/$3.json: .*unexpected end of input" <<<"$1"' _ "$status" "$DEFS" "$U2"
check "status lists the refusals" bash -c 'grep -A9 "^Refused changes" <<<"$1" | grep -q "$2"' _ "$status" "$U2"
check_eq "status --json: the skipped file" "$DEFS/$U2.json" \
        "$(siovctl --json status | jq -r '.definitions.skipped[].path')"

# a valid file copied in by hand: never removed by a rollback either
U3=33333333-0000-4000-8000-000000000003
printf '{ "uuid": "%s", "parent": "siov0", "type": "idxd-1dwq", "autostart": false, "x-admin": 1 }\n' $U3 \
        > "$IT_DIR/$U3.json"
S3=$(sum "$IT_DIR/$U3.json")
cp "$IT_DIR/$U3.json" "$DEFS/$U3.json"
echo EIO > "$ROOT/fake-kernel/fail-create"
out=$(siovctl create --type idxd-1dwq --parent siov0 --uuid $U3 --persistent 2>&1); rc=$?
rm -f "$ROOT/fake-kernel/fail-create"
check_eq "create --persistent over a file copied in: refused (exit 1)" 1 $rc
check_eq "the copied-in file is byte-identical" "$S3" "$(sum "$DEFS/$U3.json" 2>/dev/null)"

# --- changes by hand are noticed (inotify) and signalled ---------------------------
wait_eq "a file copied in is loaded without a Rescan" "defined" state $U3
sed 's/"autostart": false/"autostart": true/' "$IT_DIR/$U3.json" > "$DEFS/.tmp" && mv "$DEFS/.tmp" "$DEFS/$U3.json"
wait_eq "an edit by hand is loaded" "true" \
        bash -c '"$1" --address="$2" --json list | jq -r ".[] | select(.uuid == \"$3\") | .autostart"' _ \
        "$SIOVCTL" "$ADDR" "$U3"
echo garbage > "$DEFS/$U3.json"
wait_eq "an edit into garbage: the device is no longer defined" "" state $U3
wait_eq "... and the file is listed as skipped" "1" \
        bash -c '"$1" --address="$2" --json status | jq "[.definitions.skipped[] | select(.path | endswith(\"$3.json\"))] | length"' _ \
        "$SIOVCTL" "$ADDR" "$U3"
rm "$DEFS/$U3.json"
wait_eq "a removed skipped file leaves the list" "0" \
        bash -c '"$1" --address="$2" --json status | jq "[.definitions.skipped[] | select(.path | endswith(\"$3.json\"))] | length"' _ \
        "$SIOVCTL" "$ADDR" "$U3"
# a file siovd wrote, then edited by hand: not replaced, not removed
U4=44444444-0000-4000-8000-000000000004
check "define U4" siovctl define --type idxd-1dwq --parent siov0 --uuid $U4
printf '{ "uuid": "%s", "parent": "siov0", "type": "idxd-1dwq", "autostart": true, "attrs": [], "note": "mine" }\n' $U4 \
        > "$DEFS/.edit" && mv "$DEFS/.edit" "$DEFS/$U4.json"
S4=$(sum "$DEFS/$U4.json")
wait_eq "the hand edit of a file siovd wrote is loaded" "true" \
        bash -c '"$1" --address="$2" --json list | jq -r ".[] | select(.uuid == \"$3\") | .autostart"' _ \
        "$SIOVCTL" "$ADDR" "$U4"
check "modify after the hand edit works on the loaded file" siovctl modify $U4 --manual
check_eq "... and keeps the admin's unknown key" "mine" "$(jq -r .note "$DEFS/$U4.json")"

# --- 4. stale temporary files of siovd's own pattern -------------------------------
T1=".$U1.json.0123456789a"; T2=".$U4.json.fedcba98765"
echo partial > "$DEFS/$T1"; : > "$DEFS/$T2"
echo keep > "$DEFS/.$U1.json.swp"; echo keep > "$DEFS/.notes"; echo keep > "$DEFS/README"
ln -s /etc/passwd "$DEFS/.$U1.json.00000000000"
siovd_restart || { it_summary; exit 1; }
check "start-up removed the stale temporary files" bash -c '! test -e "$1/$2" && ! test -e "$1/$3"' _ "$DEFS" "$T1" "$T2"
check "start-up logged each removal" bash -c 'grep -q "$2" "$1" && grep -q "$3" "$1"' _ "$IT_DIR/siovd.log" "$T1" "$T2"
check "other dot files, foreign files and symlinks are kept" bash -c '
        test -f "$1/.$2.json.swp" && test -f "$1/.notes" && test -f "$1/README" && test -L "$1/.$2.json.00000000000"' _ "$DEFS" "$U1"
check "the foreign file is listed as skipped" bash -c '"$1" --address="$2" status | grep -q "$3/README: not a definition"' _ \
        "$SIOVCTL" "$ADDR" "$DEFS"
rm -f "$DEFS/README" "$DEFS/.$U1.json.00000000000"

# --- 5. partial operations say what was done ---------------------------------------
U5=55555555-0000-4000-8000-000000000005
check "create a persistent device" siovctl create --type idxd-1dwq --parent siov0 --uuid $U5 --persistent
# A file that is a mount point cannot be unlinked (EBUSY): the device can be
# stopped, then the definition cannot be removed.
if mount --bind "$DEFS/$U5.json" "$DEFS/$U5.json"; then
        MOUNTED=$DEFS/$U5.json
        out=$("$TOP_SRCDIR/tests/integration/dbus-call" "$ADDR" "$(dbus_path /org/siov1/device $U5)" \
                org.siov1.Device Destroy 'a{sv}' '[{}]' 2>&1); rc=$?
        check_eq "destroy that cannot remove the definition: fails" 1 $rc
        check "... with org.siov1.Error.DefinitionsUnavailable" grep -q "^ERROR org.siov1.Error.DefinitionsUnavailable" <<<"$out"
        check "... saying the device was stopped and the definition stays" bash -c '
                grep -q "was stopped" <<<"$1" && grep -q "could not be removed" <<<"$1" && grep -q "stays defined" <<<"$1"' _ "$out"
        check_eq "the device is stopped and still defined" "defined" "$(state $U5)"
        umount "$DEFS/$U5.json"; MOUNTED=
else
        fail "bind mount for the partial destroy" "mount --bind failed (root needed)"
fi
check "destroy works once the file can be removed" siovctl destroy $U5
check "its definition is gone" test ! -e "$DEFS/$U5.json"

# --- 6. an unusable folder never stops siovd --------------------------------------
U6=66666666-0000-4000-8000-000000000006
check "a persistent device for the read-only case" siovctl create --type idxd-1dwq --parent siov0 --uuid $U6 --persistent
# while siovd runs: the folder is replaced by a file, then comes back
mv "$DEFS" "$DEFS.real"; echo "not a folder" > "$DEFS"
bus call org.siov1 /org/siov1 org.siov1.Manager Rescan
check "at run time: status says degraded" bash -c '"$1" --address="$2" status | grep -q "DEGRADED: .*not a folder"' _ "$SIOVCTL" "$ADDR"
check "at run time: siovd still serves" siovctl list
out=$(siovctl define --type idxd-1dwq --parent siov0 2>&1); rc=$?
check_eq "at run time: define refused (exit 1)" 1 $rc
rm "$DEFS"; mv "$DEFS.real" "$DEFS"
bus call org.siov1 /org/siov1 org.siov1.Manager Rescan
check "the folder is back: no longer degraded" bash -c '! "$1" --address="$2" status | grep -q DEGRADED' _ "$SIOVCTL" "$ADDR"
check_eq "... and its definitions are loaded" "both" "$(state $U6)"
check "... and changes work again" siovctl modify $U6 --autostart
check "... the watch follows the new folder" bash -c 'sleep 0.3; rm "$1/$2.json"; for i in $(seq 60); do
        "$3" --address="$4" --json list | jq -e ".[] | select(.uuid == \"$2\") | .persistent == false" >/dev/null && exit 0
        sleep 0.05; done; exit 1' _ "$DEFS" "$U6" "$SIOVCTL" "$ADDR"
check "... and it can be defined again (a file siovd writes)" siovctl define --type idxd-1dwq --parent siov0 --uuid $U6
it_siovd_stop
mv "$DEFS" "$DEFS.real"; echo "not a folder" > "$DEFS"
siovd_up || { it_summary; exit 1; }
check "siovd starts with a regular file as its definitions folder" kill -0 "$SIOVD_PID"
check "reads work degraded" siovctl list
check "status says degraded and why" bash -c '"$1" --address="$2" status | grep -q "DEGRADED: .*not a folder"' _ "$SIOVCTL" "$ADDR"
UT=$(siovctl create --type idxd-1dwq --parent siov0 2>/dev/null); rc=$?
check_eq "transient devices work degraded" 0 $rc
out=$(siovctl define --type idxd-1dwq --parent siov0 2>&1); rc=$?
check_eq "define degraded: refused (exit 1)" 1 $rc
out=$("$TOP_SRCDIR/tests/integration/dbus-call" "$ADDR" /org/siov1 org.siov1.Manager DefineDevice 'sssa{sv}' \
        '["siov0", "idxd-1dwq", "", {}]' 2>&1)
check "... with org.siov1.Error.DefinitionsUnavailable saying why" bash -c '
        grep -q "^ERROR org.siov1.Error.DefinitionsUnavailable:.*not a folder" <<<"$1"' _ "$out"
check "siovctl destroy of the transient device works" siovctl destroy "$UT"
it_siovd_stop
rm "$DEFS"; mv "$DEFS.real" "$DEFS"
# read-only for siovd: root without CAP_DAC_OVERRIDE honours the mode bits
chmod 0555 "$DEFS"
LD_PRELOAD=$FAKE_KERNEL SIOV_FAKE_KERNEL_ROOT=$ROOT setpriv --inh-caps=-dac_override,-dac_read_search \
        --bounding-set=-dac_override,-dac_read_search "$SIOVD" --sysfs-root="$ROOT" >>"$IT_DIR/siovd.log" 2>&1 &
SIOVD_PID=$!
it_wait_siovd || { chmod 0755 "$DEFS"; it_summary; exit 1; }
check_eq "read-only folder: its definitions are loaded" "both" "$(state $U6)"
check "status says degraded (not writable)" bash -c '"$1" --address="$2" status | grep -q "DEGRADED: .*not writable"' _ "$SIOVCTL" "$ADDR"
out=$(siovctl destroy $U6 2>&1); rc=$?
check_eq "destroy of an active persistent device, read-only folder: refused (exit 1)" 1 $rc
check_eq "... before anything was done: the device is still active" "both" "$(state $U6)"
check "... and the error says why" grep -q "not writable" <<<"$out"
it_siovd_stop
chmod 0755 "$DEFS"
siovd_up || { it_summary; exit 1; }
check "writable again: destroy works" siovctl destroy $U6

it_summary
