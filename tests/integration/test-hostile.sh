#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Hostile input, straight to siovd over D-Bus (not through siovctl's own
# checks): path tricks, over-long and invalid strings, malformed UUIDs,
# numbers out of range, a symlink planted in the fake sysfs tree pointing
# outside it, garbage attributes, hostile definition files. Each must get a
# named error and leave the tree (and the world outside it) unchanged.
# Then four unprivileged clients loop whole-tree reads: they get Busy once
# their uid's read budget is spent, while root's calls and the libvirt
# hook's (root) keep being answered (needs root, for callers of another
# uid).
. "$(dirname "$0")/lib.sh"

FAKE_KERNEL=$TOP_BUILDDIR/tests/common/.libs/fake-kernel.so
[ -f "$FAKE_KERNEL" ] || { fail "fake kernel built" "$FAKE_KERNEL missing"; it_summary; exit 1; }
DEFS=$IT_DIR/defs
OUTSIDE=$IT_DIR/outside
export SIOV_DEFINITIONS_DIR=$DEFS
mkdir -p "$DEFS" "$OUTSIDE/evil-type" "$OUTSIDE/evil-type/devices"

fake init
fake add-siov-parent siov0 --total 4 --free 4 --swq-slots 4
fake add-mdev-parent 0000:00:04.0 --pci --driver mtty
fake add-type 0000:00:04.0 mtty-1 --available 2
fake add-type 0000:00:04.0 mtty-garbage --available 1
fake set-type-attr 0000:00:04.0 mtty-garbage available_instances 'lots'
fake add-type 0000:00:04.0 mtty-negative --available 1
fake set-type-attr 0000:00:04.0 mtty-negative available_instances -- -1
fake add-type 0000:00:04.0 mtty-huge --available 1
fake set-type-attr 0000:00:04.0 mtty-huge available_instances 99999999999999999999
# A type folder that is a symlink to a folder outside the tree, holding a
# `create` file: writing through it would escape the root.
printf '4\n' > "$OUTSIDE/evil-type/available_instances"
printf 'vfio-pci\n' > "$OUTSIDE/evil-type/device_api"
: > "$OUTSIDE/evil-type/create"
fake symlink sys/devices/virtual/idxd/siov0/mdev_supported_types/idxd-evil "$OUTSIDE/evil-type"
# A hostile definition on disk: a parent that walks out of its folder.
cat > "$DEFS/99999999-0000-4000-8000-000000000009.json" <<'EOF'
{ "uuid": "99999999-0000-4000-8000-000000000009", "parent": "../../../../tmp", "type": "idxd-1dwq", "autostart": true }
EOF

tree_sum() {
        (cd "$ROOT" && find . -path ./fake-kernel -prune -o -printf '%p %y %l\n' | sort
         find . -path ./fake-kernel -prune -o -type f -print0 | sort -z | xargs -0 cat) | md5sum
        (cd "$OUTSIDE" && find . -printf '%p %s\n' | sort; cat evil-type/create) | md5sum
}

it_bus_start || { it_summary; exit 1; }
LD_PRELOAD=$FAKE_KERNEL SIOV_FAKE_KERNEL_ROOT=$ROOT it_siovd_start || { it_summary; exit 1; }
BEFORE=$(tree_sum)
DEFS_BEFORE=$(ls "$DEFS")

# expect NAME ERROR PATH INTERFACE METHOD SIGNATURE ARGS: the call must fail
# with org.siov1.Error.ERROR (or the given full error name).
expect() {
        local name=$1 want=$2 out
        shift 2
        out=$("$TOP_SRCDIR/tests/integration/dbus-call" "$ADDR" "$@" 2>&1)
        case $want in *.*) ;; *) want=org.siov1.Error.$want ;; esac
        if grep -q "^ERROR $want: " <<<"$out"; then
                pass "$name"
        else
                fail "$name" "expected $want, got: $out"
        fi
}
M="/org/siov1 org.siov1.Manager"
create() { expect "$1" "$2" $M CreateDevice 'sssa{sv}' "$3"; }

long=$(head -c 5000 /dev/zero | tr '\0' a)
b300=$(head -c 300 /dev/zero | tr '\0' b)
create "parent '../siov0'" InvalidArgument "['../siov0', 'idxd-1dwq', '', {}]"
create "parent with a slash" InvalidArgument "['siov0/../siov0', 'idxd-1dwq', '', {}]"
create "parent '..'" InvalidArgument "['..', 'idxd-1dwq', '', {}]"
create "type '../../../../etc'" InvalidArgument "['siov0', '../../../../etc', '', {}]"
create "type 'idxd-1dwq/../idxd-1swq'" InvalidArgument "['siov0', 'idxd-1dwq/../idxd-1swq', '', {}]"
create "over-long parent (5000 bytes)" InvalidArgument "['$long', 'idxd-1dwq', '', {}]"
create "over-long type (5000 bytes)" InvalidArgument "['siov0', '$long', '', {}]"
create "over-long uuid (5000 bytes)" InvalidArgument "['siov0', 'idxd-1dwq', '$long', {}]"
create "parent of 300 bytes" InvalidArgument "['$b300', 'idxd-1dwq', '', {}]"
create "control character in the type" InvalidArgument "['siov0', 'idxd\\x01-1dwq', '', {}]"
create "malformed uuid" InvalidArgument "['siov0', 'idxd-1dwq', '12345678-1234-1234-1234-12345678901', {}]"
create "uuid with a path in it" InvalidArgument "['siov0', 'idxd-1dwq', '../../../bus/mdev/devices/x', {}]"
create "unknown option" InvalidArgument "['siov0', 'idxd-1dwq', '', {'bogus': True}]"
create "option of the wrong type" InvalidArgument "['siov0', 'idxd-1dwq', '', {'persistent': 'yes'}]"
create "attribute name '../remove'" InvalidArgument "['siov0', 'idxd-1dwq', '', {'attrs': [('../remove', '1')]}]"
create "attribute 'remove' (not an attribute)" InvalidArgument "['siov0', 'idxd-1dwq', '', {'attrs': [('remove', '1')]}]"
create "attribute value of 5000 bytes" InvalidArgument "['siov0', 'idxd-1dwq', '', {'attrs': [('foo', '$long')]}]"
attrs65=$(for i in $(seq 65); do printf "('a%d', '1'), " $i; done)
create "65 attributes" InvalidArgument "['siov0', 'idxd-1dwq', '', {'attrs': [$attrs65]}]"
create "VM name with a control character" InvalidArgument "['siov0', 'idxd-1dwq', '', {'vm': 'vm\\x07'}]"
create "non-number available_instances: type unusable" KernelError "['0000:00:04.0', 'mtty-garbage', '', {}]"
create "negative available_instances: type unusable" KernelError "['0000:00:04.0', 'mtty-negative', '', {}]"
create "huge available_instances: type unusable" KernelError "['0000:00:04.0', 'mtty-huge', '', {}]"
create "type folder planted as a symlink out of the tree" NoSuchType "['siov0', 'idxd-evil', '', {}]"
expect "DefineDevice with parent '../x'" InvalidArgument $M DefineDevice 'sssa{sv}' "['../x', 'idxd-1dwq', '', {}]"
expect "ProvisionParent '../../x'" InvalidArgument $M ProvisionParent s "['../../x']"
expect "ImportMdevctl of a relative folder" InvalidArgument $M ImportMdevctl s "['etc/mdevctl.d']"
expect "ImportMdevctl with '..'" InvalidArgument $M ImportMdevctl s "['/etc/../etc/mdevctl.d']"
expect "ListDevices of an unknown parent" NoSuchParent $M ListDevices ss "['../siov0', '']"
expect "a device path that decodes to a path" org.freedesktop.DBus.Error.UnknownObject \
        /org/siov1/device/_2e_2e_2f_2e_2e org.siov1.Device Stop '' "[]"

# Invalid UTF-8 never reaches siovd: the D-Bus library refuses to send it.
out=$(busctl --address="$ADDR" call org.siov1 /org/siov1 org.siov1.Manager CreateDevice sssa{sv} siov0 $'\xff\xfe' "" 0 2>&1)
check "invalid UTF-8 is refused before it reaches siovd" bash -c '[ -n "$1" ] && ! grep -q "^o " <<<"$1"' _ "$out"
out=$("$SIOVCTL" --address="$ADDR" create --type $'\xff' --parent siov0 2>&1); rc=$?
check_eq "siovctl refuses an invalid type name itself (exit 2)" 2 $rc

check_eq "the tree and the folder outside it are unchanged" "$BEFORE" "$(tree_sum)"
check_eq "nothing was written through the planted symlink" "" "$(cat "$OUTSIDE/evil-type/create")"
check_eq "no mdev was created" "" "$(ls "$ROOT/sys/bus/mdev/devices" 2>/dev/null)"
check_eq "the definitions folder is unchanged" "$DEFS_BEFORE" "$(ls "$DEFS")"
check "the hostile definition is reported" grep -q "99999999-0000-4000-8000-000000000009" "$IT_DIR/siovd.log"
check_eq "and not published" "" \
        "$("$SIOVCTL" --address="$ADDR" --json list | jq -r '.[] | select(.uuid | startswith("99999999")) | .uuid')"
check "the planted type is not published" bash -c '! "$1" --address="$2" --json types | jq -e ".[] | select(.id == \"idxd-evil\")"' _ "$SIOVCTL" "$ADDR"
check "siovd still answers" busctl --address="$ADDR" get-property org.siov1 /org/siov1 org.siov1.Manager Version

# --- whole-tree reads by unprivileged callers are capped per uid ----------------
if [ "$(id -u)" != 0 ]; then
        fail "unprivileged whole-tree readers" "this part needs root (callers of another uid, by setpriv)"
else
        READER=$TOP_SRCDIR/tests/integration/tree-reader
        HOOK=$TOP_BUILDDIR/daemon/qemu.d/siovd
        chmod 755 "$IT_DIR"
        readers=()
        for i in 1 2 3 4; do
                setpriv --reuid=65534 --regid=65534 --clear-groups -- "$READER" "$ADDR" 5 >"$IT_DIR/reader$i" 2>&1 &
                readers+=($!)
        done
        sleep 1
        # Root's calls and the hook's meanwhile: each must be answered.
        n_ok=0 n_calls=0 failed_call=
        for _ in $(seq 8); do
                for call in "list" "list --parent siov0" "status" "types" "parents"; do
                        n_calls=$((n_calls + 1))
                        # shellcheck disable=SC2086
                        if timeout 20 "$SIOVCTL" --address="$ADDR" $call >/dev/null 2>"$IT_DIR/root-err"; then
                                n_ok=$((n_ok + 1))
                        else
                                failed_call="siovctl $call: $(head -c 300 "$IT_DIR/root-err")"
                        fi
                done
                n_calls=$((n_calls + 1))
                if printf "<domain><name>vm1</name><devices><hostdev mode='subsystem' type='mdev'/></devices></domain>" |
                   SIOV_HOOK_SIOVCTL=$SIOVCTL timeout 30 "$HOOK" vm1 prepare begin - 2>"$IT_DIR/hook-err"; then
                        n_ok=$((n_ok + 1))
                else
                        failed_call="the hook: $(head -c 300 "$IT_DIR/hook-err")"
                fi
        done
        check_eq "root's calls and the hook's are all answered while 4 unprivileged clients loop whole-tree reads" \
                "$n_calls $n_calls" "$n_calls $n_ok${failed_call:+ ($failed_call)}"
        wait "${readers[@]}"
        ok=0 busy=0 other=0
        for i in 1 2 3 4; do
                read -r _ o _ b _ x < "$IT_DIR/reader$i"
                ok=$((ok + ${o:-0})) busy=$((busy + ${b:-0})) other=$((other + ${x:-0}))
        done
        echo "# unprivileged whole-tree reads: $ok answered, $busy Busy, $other other errors"
        check "the unprivileged readers were answered at first" test "$ok" -gt 0
        check "... then refused as Busy once their uid's budget was spent" test "$busy" -gt 0
        check_eq "... and got no other error" 0 "$other"
        check "Busy says when to retry and how to page" \
                grep -q "busy-message whole-tree reads by uid 65534 are limited to .* retry in .*(siovctl list --parent P)" \
                "$IT_DIR/reader1" "$IT_DIR/reader2" "$IT_DIR/reader3" "$IT_DIR/reader4"
        check "root's whole-tree read is never capped" bash -c 'for i in $(seq 20); do "$1" "$2" /org/siov1 org.siov1.Manager ListDevices ss "[\"\", \"\"]" >/dev/null || exit 1; done' \
                _ "$TOP_SRCDIR/tests/integration/dbus-call" "$ADDR"
        sleep 1
        check "after a pause, the unprivileged caller reads the tree again" \
                setpriv --reuid=65534 --regid=65534 --clear-groups -- \
                busctl --address="$ADDR" call org.siov1 /org/siov1 org.siov1.Manager ListDevices ss "" ""
        # A type no parent offers costs a walk over every device: it is
        # charged like the whole-tree read it is.
        sleep 4
        setpriv --reuid=65534 --regid=65534 --clear-groups -- "$READER" "$ADDR" 3 no-such-type >"$IT_DIR/reader-type" 2>&1
        read -r _ o _ b _ x < "$IT_DIR/reader-type"
        echo "# ListDevices of a type nobody offers: ${o:-0} answered (NoSuchType), ${b:-0} Busy, ${x:-0} other"
        check "an unknown type's walk over every device is answered (NoSuchType) ..." test "${o:-0}" -gt 0
        check "... and capped like a whole-tree read (Busy once the budget is spent)" test "${b:-0}" -gt 0
        check_eq "... and gets no other error" "0" "${x:-0}$(grep "^other-message ." "$IT_DIR/reader-type")"
fi

it_siovd_stop; check_eq "siovd exits 0 on SIGTERM" 0 $?
it_summary
