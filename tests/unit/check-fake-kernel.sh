#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The fake kernel (tests/common/fake-kernel.h) as tests outside C use it:
# through `fake-sysfs-tool ROOT kernel-write` and as an LD_PRELOAD object in
# a shell whose "echo > create" is a write() like any tool's. Checks the
# tree and the counters afterwards, the kernel's errors, the control files
# and that processes racing for K instances get exactly K.
set -u

tool=${FAKE_SYSFS_TOOL:-tests/common/fake-sysfs-tool}
so=${FAKE_KERNEL_SO:-tests/common/.libs/fake-kernel.so}
case $so in /*) ;; *) so=$(pwd)/$so ;; esac
root=$(mktemp -d "${TMPDIR:-/tmp}/fake-kernel.XXXXXX")
root=$(cd "$root" && pwd -P)
trap 'rm -rf "$root"' EXIT
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() { fail=$((fail + 1)); echo "not ok - $1"; }
check() { # check DESCRIPTION COMMAND...
        d=$1; shift
        if "$@"; then ok "$d"; else bad "$d"; fi
}
file_is() { # file_is PATH CONTENT (without the trailing newline)
        got=$(cat "$root/$1" 2>/dev/null)
        if [ "$got" = "$2" ]; then ok "$1 = '$2'"; else bad "$1: '$got' != '$2'"; fi
}
# A shell with the fake kernel preloaded. ">>" rather than ">": a shell's
# ">" opens with O_TRUNC, which real sysfs ignores but a fake tree's plain
# file does not (a stored attribute would be emptied before the write).
ksh() { LD_PRELOAD=$so SIOV_FAKE_KERNEL_ROOT=$root sh -c "$1" 2>"$root.err"; }
# kdd FILE VALUE: one write() by dd (preloaded), which names the errno
# when the kernel refuses (dash's echo only says "I/O error").
kdd() { printf '%s\n' "$2" | LD_PRELOAD=$so SIOV_FAKE_KERNEL_ROOT=$root dd of="$1" conv=notrunc status=none 2>"$root.err"; }

[ -f "$so" ] || { echo "not ok - $so not built (make $(dirname "$(dirname "$so")")/fake-kernel.la)"; echo "0 passed, 1 failed"; exit 1; }

U1=3b4a8c32-1d2e-4f5a-9b6c-7d8e9f0a1b2c
U2=7f000000-0000-4000-8000-000000000002
U3=00000000-0000-4000-8000-0000000000a3
GVT=0000:00:02.0
T=i915-GVTg_V5_4
GDEV=sys/devices/pci0000:00/$GVT
SDEV=sys/devices/virtual/idxd/siov0
create_of() { echo "sys/class/mdev_bus/$1/mdev_supported_types/$2/create"; }

"$tool" "$root" add-mdev-parent $GVT --driver i915 &&
"$tool" "$root" add-type $GVT $T --available 1 &&
"$tool" "$root" add-siov-parent siov0 --total 4 --free 2 --host-netdev 1 --host-wq 1 --swq-slots 4 ||
        { echo "not ok - building the tree"; echo "0 passed, 1 failed"; exit 1; }

# ---- kernel-write ------------------------------------------------------
check "kernel-write create" "$tool" "$root" kernel-write "$(create_of $GVT $T)" $U1
check "mdev folder made" test -L "$root/$GDEV/$U1/mdev_type" -a -L "$root/sys/bus/mdev/devices/$U1"
file_is "$GDEV/mdev_supported_types/$T/available_instances" 0
file_is "$GDEV/mdev_supported_types/$T/create" ""
if "$tool" "$root" kernel-write "$(create_of $GVT $T)" $U2 2>"$root.err"; then
        bad "create with 0 available succeeded"
else
        grep -q "No space left on device (ENOSPC)" "$root.err" && ok "ENOSPC" || bad "ENOSPC: $(cat "$root.err")"
fi
if "$tool" "$root" kernel-write "$(create_of $GVT $T)" not-a-uuid 2>"$root.err"; then
        bad "create of a non-UUID succeeded"
else
        grep -q "(EINVAL)" "$root.err" && ok "EINVAL for a non-UUID" || bad "EINVAL: $(cat "$root.err")"
fi
check "kernel-write remove" "$tool" "$root" kernel-write "$GDEV/$U1/remove" 1
check "mdev gone" test ! -e "$root/$GDEV/$U1" -a ! -L "$root/sys/bus/mdev/devices/$U1"
file_is "$GDEV/mdev_supported_types/$T/available_instances" 1
# "0" does nothing, as in the kernel
"$tool" "$root" kernel-write "$(create_of $GVT $T)" $U1 && "$tool" "$root" kernel-write "$GDEV/$U1/remove" 0
check "remove 0 keeps the mdev" test -d "$root/$GDEV/$U1"
"$tool" "$root" kernel-write "$GDEV/$U1/remove" 1

# ---- LD_PRELOAD into a shell ------------------------------------------
check "preloaded echo > create (idxd-1dwq)" ksh "echo $U2 >> $root/$(create_of siov0 idxd-1dwq)"
check "mdev made by the preloaded shell" test -L "$root/$SDEV/$U2/mdev_type"
file_is "$SDEV/pool/free" 1
file_is "$SDEV/pool/mdev_dwq" 1
file_is "$SDEV/mdev_supported_types/idxd-1dwq/available_instances" 1
file_is "$SDEV/mdev_supported_types/idxd-1swq/available_instances" 4
check "preloaded echo > create (idxd-1swq)" ksh "echo $U3 >> $root/$(create_of siov0 idxd-1swq)"
file_is "$SDEV/pool/free" 0
file_is "$SDEV/pool/mdev_swq" 1
file_is "$SDEV/mdev_supported_types/idxd-1dwq/available_instances" 0
file_is "$SDEV/mdev_supported_types/idxd-1swq/available_instances" 3
if kdd "$root/$(create_of siov0 idxd-1dwq)" $U1; then
        bad "preloaded create with an empty pool succeeded"
else
        grep -q "No space left on device" "$root.err" && ok "preloaded ENOSPC reaches the shell" ||
                bad "preloaded ENOSPC: $(cat "$root.err")"
fi
if kdd "$root/$(create_of siov0 idxd-1swq)" $U2; then
        bad "create of an existing UUID succeeded"
else
        grep -q "File exists" "$root.err" && ok "EEXIST" || bad "EEXIST: $(cat "$root.err")"
fi

# attributes: stored, except the magic value
echo > "$root/$SDEV/$U2/weight"
check "preloaded attribute write" ksh "echo 7 >> $root/$SDEV/$U2/weight"
file_is "$SDEV/$U2/weight" 7
if kdd "$root/$SDEV/$U2/weight" fail-einval; then
        bad "fail-einval accepted"
else
        grep -q "Invalid argument" "$root.err" && ok "fail-einval gives EINVAL" || bad "fail-einval: $(cat "$root.err")"
fi
file_is "$SDEV/$U2/weight" 7

# injected errors, used once
mkdir -p "$root/fake-kernel"
echo EIO > "$root/fake-kernel/fail-create"
if kdd "$root/$(create_of $GVT $T)" $U1; then bad "fail-create ignored"
else grep -q "Input/output error" "$root.err" && ok "fail-create EIO" || bad "fail-create: $(cat "$root.err")"; fi
check "fail-create used up" test ! -e "$root/fake-kernel/fail-create"
check "create after the injected error" ksh "echo $U1 >> $root/$(create_of $GVT $T)"
echo EBUSY > "$root/fake-kernel/fail-remove"
if kdd "$root/$GDEV/$U1/remove" 1; then bad "fail-remove ignored"
else grep -q "Device or resource busy" "$root.err" && ok "fail-remove EBUSY" || bad "fail-remove: $(cat "$root.err")"; fi
check "mdev survives a failed remove" test -d "$root/$GDEV/$U1"
check "preloaded remove" ksh "echo 1 >> $root/$GDEV/$U1/remove"
check "removed" test ! -e "$root/$GDEV/$U1"
check "preloaded remove of the pool's mdevs" ksh "echo 1 >> $root/$SDEV/$U2/remove && echo 1 >> $root/$SDEV/$U3/remove"
file_is "$SDEV/pool/free" 2
file_is "$SDEV/pool/mdev_dwq" 0
file_is "$SDEV/pool/mdev_swq" 0
file_is "$SDEV/mdev_supported_types/idxd-1swq/available_instances" 8

# writes elsewhere are untouched by the preload
check "plain files still work under the preload" ksh "echo hello > $root.plain && cat $root.plain >/dev/null"
check "plain file content" grep -qx hello "$root.plain"
rm -f "$root.plain"

# the log says what the kernel was asked
grep -q "^create $GDEV/mdev_supported_types/$T/create '$U2' -> ENOSPC\$" "$root/fake-kernel/log" &&
        ok "log records the refusal" || bad "log: $(cat "$root/fake-kernel/log")"
grep -q "^attr $SDEV/$U2/weight 'fail-einval' -> EINVAL\$" "$root/fake-kernel/log" &&
        ok "log records the attribute refusal" || bad "log (attr)"

# ---- processes racing for 2 instances ----------------------------------
"$tool" "$root" set-type-attr $GVT $T available_instances 2
echo 50 > "$root/fake-kernel/delay-ms"
pids=
for i in 1 2 3 4 5 6; do
        u=00000000-0000-4000-8000-00000000000$i
        if [ $((i % 2)) -eq 0 ]; then
                ( "$tool" "$root" kernel-write "$(create_of $GVT $T)" $u 2>/dev/null; echo $? > "$root.rc$i" ) &
        else
                ( ksh "echo $u >> $root/$(create_of $GVT $T)"; echo $? > "$root.rc$i" ) &
        fi
        pids="$pids $!"
done
wait $pids
won=0
for i in 1 2 3 4 5 6; do
        [ "$(cat "$root.rc$i")" = 0 ] && won=$((won + 1))
        rm -f "$root.rc$i"
done
[ $won -eq 2 ] && ok "6 racing processes, 2 instances: 2 created" || bad "racing: $won created, want 2"
n=$(ls "$root/sys/bus/mdev/devices" | wc -l)
[ "$n" -eq 2 ] && ok "2 mdevs on the bus" || bad "$n mdevs on the bus, want 2"
file_is "$GDEV/mdev_supported_types/$T/available_instances" 0
rm -f "$root.err"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
