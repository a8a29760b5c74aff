#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# siovd keeps its model up to date incrementally (issue 11): an mdev that
# comes or goes changes that device and its parent's types'
# available_instances, read alone, not the whole parent. This checks that
# the incremental state does not drift from sysfs: what siovd shows (types,
# devices, status) after a mix of changes must equal what a siovd started
# afresh on the same tree shows. The bundled-driver parent's two types
# share one pool: a create of one type changes the other's availability
# too, without a parent uevent.
#
# Two halves, because umockdev's preload (which gives siovd a uevent
# socket in its testbed) hides the real paths the fake kernel needs:
#   1. siovd's own creates and destroys, acted out by the fake kernel
#      preloaded into siovd (its completion updates the model; no uevents);
#   2. under umockdev-run: creates and removes by another tool writing
#      sysfs directly (fake-sysfs-tool kernel-write), which siovd learns of
#      from the kernel's uevents only (uevent-send-tool, lossless).
. "$(dirname "$0")/lib.sh"
if [ "${1:-}" = --under-umockdev ]; then
        ADDR=${IT_ADDR:?}
        export DBUS_SYSTEM_BUS_ADDRESS=$ADDR
        [ -n "${UMOCKDEV_DIR:-}" ] && [ -d "$UMOCKDEV_DIR" ] ||
                { fail "umockdev-run gives a testbed" "no UMOCKDEV_DIR"; it_summary; exit 1; }
        ROOT=$UMOCKDEV_DIR
else
        it_bus_start || { it_summary; exit 1; }
fi
FAKE_KERNEL=$TOP_BUILDDIR/tests/common/.libs/fake-kernel.so
SEND=$TOP_BUILDDIR/tests/integration/uevent-send-tool
[ -f "$FAKE_KERNEL" ] || { fail "fake kernel built" "$FAKE_KERNEL missing"; it_summary; exit 1; }
[ -x "$SEND" ] || { fail "uevent-send-tool built" "$SEND missing"; it_summary; exit 1; }
export SIOV_DEFINITIONS_DIR=$IT_DIR/defs
n_sent=0

uuid() { printf '5e1f0000-0000-4000-8000-%012d' "$1"; }
# The kernel's uevent for an mdev of PARENT (its folder sits below the parent's).
send_mdev() {   # ACTION PARENT UUID
        local dev
        dev=$(readlink -f "$ROOT/sys/class/mdev_bus/$2")
        "$SEND" "$ROOT" "$1" "${dev#"$ROOT"/sys}/$3" mdev || return 1
        n_sent=$((n_sent + 1))
}
# Another tool writing sysfs: the fake kernel acts, then the kernel's uevent.
raw_create() {  # PARENT TYPE UUID
        fake kernel-write "sys/class/mdev_bus/$1/mdev_supported_types/$2/create" "$3" >/dev/null &&
                send_mdev add "$1" "$3"
}
raw_remove() {  # PARENT UUID
        fake kernel-write "sys/class/mdev_bus/$1/$2/remove" 1 >/dev/null && send_mdev remove "$1" "$2"
}
status_field() {
        busctl --address="$ADDR" --json=short call org.siov1 /org/siov1 org.siov1.Manager GetStatus |
                jq -r ".data[0][\"$1\"]"
}
# Until siovd has read every uevent sent and re-read what they named.
settle() {
        local want=$n_sent
        # Outside umockdev siovd hears the host's own uevents: any count.
        [ -n "${UMOCKDEV_DIR:-}" ] || want='*'
        for _ in $(seq 400); do
                # shellcheck disable=SC2053
                [[ "$(status_field uevents)" == $want ]] && [ "$(status_field refresh-pending)" = 0 ] && return 0
                sleep 0.05
        done
        fail "siovd read $n_sent uevents and settled" \
                "uevents=$(status_field uevents) refresh-pending=$(status_field refresh-pending)"
        return 1
}
# What clients see, without the counters of this siovd's own history.
snapshot() {    # DIR [parents]
        mkdir -p "$1"
        siovctl --json types | jq -S . >"$1/types"
        siovctl --json list | jq -S 'sort_by(.uuid)' >"$1/list"
        busctl --address="$ADDR" --json=short call org.siov1 /org/siov1 org.siov1.Manager GetStatus |
                jq -S '.data[0] | del(.uevents, ."uevent-overflows", ."refresh-pending", ."writes-pending")' \
                >"$1/status"
        if [ "${2:-}" = parents ]; then
                siovctl --json parents | jq -S . >"$1/parents"
        fi
}
compare() {     # WHAT A B
        local f
        for f in "$2"/*; do
                f=$(basename "$f")
                if cmp -s "$2/$f" "$3/$f"; then
                        pass "$1: $f as a fresh start shows"
                else
                        fail "$1: $f as a fresh start shows" "$(diff "$2/$f" "$3/$f" | head -n 6 | tr '\n' ' ')"
                fi
        done
}
# Like check, in this shell: the uevents sent are counted.
step() {        # NAME CMD...
        local name=$1; shift
        if "$@"; then pass "$name"; else fail "$name"; fi
}
# siovd only gets the fake kernel (busctl and siovctl stay as they are).
siovd_up() {
        LD_PRELOAD="${LD_PRELOAD:+$LD_PRELOAD:}$FAKE_KERNEL" SIOV_FAKE_KERNEL_ROOT=$ROOT \
                "$SIOVD" --sysfs-root="$ROOT" >>"$IT_DIR/siovd.log" 2>&1 &
        SIOVD_PID=$!
        # (busctl status cannot read a peer's credentials under umockdev)
        for _ in $(seq 200); do
                siovctl status >/dev/null 2>&1 && return 0
                kill -0 "$SIOVD_PID" 2>/dev/null || break
                sleep 0.05
        done
        fail "siovd answers" "$(tail -n 5 "$IT_DIR/siovd.log" | tr '\n' ' ')"
        return 1
}

# --- the tree ---------------------------------------------------------------
fake init
fake add-siov-parent siov0 --total 8 --free 8 --swq-slots 4
fake add-type siov0 idxd-1dwq --available 8
fake add-type siov0 idxd-1swq --available 32
fake add-mdev-parent 0000:00:02.0 --pci --driver i915
fake add-type 0000:00:02.0 i915-GVTg_V5_4 --available 4
fake add-type 0000:00:02.0 i915-GVTg_V5_8 --available 2
fake add-mdev 0000:00:02.0 i915-GVTg_V5_4 "$(uuid 1)" --consume
fake add-mdev-parent 0000:00:04.0 --pci --driver mtty
fake add-type 0000:00:04.0 mtty-1 --available 3

siov0_avail() {
        local t=$ROOT/sys/devices/virtual/idxd/siov0/mdev_supported_types
        echo "$(cat "$t/idxd-1dwq/available_instances") $(cat "$t/idxd-1swq/available_instances")"
}
check_common() {        # WHAT: siovd's view right now against the tree
        snapshot "$IT_DIR/incremental"
        check_eq "$1: siovd tracks the tree's mdevs" \
                "$(ls "$ROOT/sys/bus/mdev/devices" | sort | tr '\n' ' ')" \
                "$(jq -r '[.[] | select(.kind == "mdev") | .uuid] | sort | join(" ")' "$IT_DIR/incremental/list") "
        check_eq "$1: the shared pool changed both siov0 types" "$(siov0_avail)" \
                "$(jq -r '[.[] | select(.parent == "siov0") | .available_instances | tostring] | join(" ")' \
                        "$IT_DIR/incremental/types")"
}
fresh_compare() {       # WHAT [parents]
        it_siovd_stop || fail "$1: siovd exits cleanly"
        siovd_up || return 1
        snapshot "$IT_DIR/fresh" "${2:-}"
        compare "$1" "$IT_DIR/incremental" "$IT_DIR/fresh"
        it_siovd_stop || fail "$1: the fresh siovd exits cleanly"
}

if [ "${1:-}" != --under-umockdev ]; then
        # --- 1. siovd's own creates and destroys ----------------------------
        siovd_up || { it_summary; exit 1; }
        check "siovd creates idxd-1dwq" siovctl create -p siov0 -t idxd-1dwq --uuid "$(uuid 10)"
        check "siovd creates idxd-1swq" siovctl create -p siov0 -t idxd-1swq --uuid "$(uuid 11)"
        check "siovd creates idxd-1swq again" siovctl create -p siov0 -t idxd-1swq --uuid "$(uuid 14)"
        check "siovd creates i915-GVTg_V5_8" siovctl create -p 0000:00:02.0 -t i915-GVTg_V5_8 --uuid "$(uuid 12)"
        check "siovd creates mtty-1" siovctl create -p 0000:00:04.0 -t mtty-1 --uuid "$(uuid 13)"
        check "siovd destroys an mdev it found" siovctl destroy "$(uuid 1)"
        check "siovd destroys its own mdev" siovctl destroy "$(uuid 11)"
        check "siovd creates after a destroy" siovctl create -p 0000:00:02.0 -t i915-GVTg_V5_4 --uuid "$(uuid 15)"
        # ENOSPC from the kernel: the model is re-read whole (a mismatch).
        fake set-type-attr 0000:00:04.0 mtty-1 available_instances 0
        check_fails "the kernel refuses a create (no room)" \
                siovctl create -p 0000:00:04.0 -t mtty-1 --uuid "$(uuid 16)"
        fake set-type-attr 0000:00:04.0 mtty-1 available_instances 2
        check "siovd creates once there is room" siovctl create -p 0000:00:04.0 -t mtty-1 --uuid "$(uuid 16)"
        settle
        check_common "siovd's own changes"
        # (not the parents: the bundled driver's pool counters come with
        # its change uevents, which the fake kernel does not send)
        fresh_compare "siovd's own changes"

        # --- 2. the same tree, under umockdev ------------------------------
        IT_ADDR=$ADDR umockdev-run -- bash "$0" --under-umockdev
        rc=$?
        [ $rc -eq 0 ] && pass "the uevent half passes" || fail "the uevent half passes" "exit $rc"
        it_summary
        exit $?
fi

# --- 2. another tool's creates and removes, and their uevents --------------
# (the tree is built afresh in umockdev's testbed)
siovd_up || { it_summary; exit 1; }
check "siovd's uevent socket is in the testbed" "$SEND" "$ROOT" change /devices/none none
n_sent=$((n_sent + 1))
step "raw create idxd-1dwq" raw_create siov0 idxd-1dwq "$(uuid 20)"
step "raw create idxd-1swq" raw_create siov0 idxd-1swq "$(uuid 21)"
step "raw create idxd-1swq again" raw_create siov0 idxd-1swq "$(uuid 25)"
step "raw create i915-GVTg_V5_4" raw_create 0000:00:02.0 i915-GVTg_V5_4 "$(uuid 22)"
step "raw create mtty-1" raw_create 0000:00:04.0 mtty-1 "$(uuid 23)"
step "raw remove of an mdev siovd found at start" raw_remove 0000:00:02.0 "$(uuid 1)"
step "raw remove of an mdev siovd saw come" raw_remove siov0 "$(uuid 21)"
settle
step "raw create after the removes" raw_create 0000:00:04.0 mtty-1 "$(uuid 24)"
step "raw remove of idxd-1dwq" raw_remove siov0 "$(uuid 20)"
settle
check_common "another tool's changes"
# The driver's change uevent on its pool: the parent (Resources) too.
dev=$(readlink -f "$ROOT/sys/class/mdev_bus/siov0")
check "the pool's change uevent" "$SEND" "$ROOT" change "${dev#"$ROOT"/sys}" idxd
n_sent=$((n_sent + 1))
settle
snapshot "$IT_DIR/incremental" parents
fresh_compare "another tool's changes" parents
it_summary
