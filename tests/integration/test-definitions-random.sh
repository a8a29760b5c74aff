#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Property test of the definitions store (issue 10): random sequences of
# define / modify / undefine / create / destroy through the real siovctl,
# interleaved with an administrator's edits of the folder (garbage,
# truncation, removal, new files) and SIGKILL restarts of siovd (some in the
# middle of an operation). Invariants, checked at every restart and at the
# end: every file siovd did not write is byte-identical, every definition
# siovd acknowledged is loaded back, no temporary file outlives a start,
# siovd never dies by itself.
#
#   SIOV_PROP_SEED=N     replay one run (the seed is printed first)
#   SIOV_PROP_SECONDS=S  how long to run (default 20; CI's run)
. "$(dirname "$0")/lib.sh"

SEED=${SIOV_PROP_SEED:-$(( $(date +%s) % 100000 ))}
SECONDS_MAX=${SIOV_PROP_SECONDS:-20}
echo "# seed $SEED, $SECONDS_MAX s (replay: SIOV_PROP_SEED=$SEED SIOV_PROP_SECONDS=$SECONDS_MAX $0)"
RANDOM=$SEED

FAKE_KERNEL=$TOP_BUILDDIR/tests/common/.libs/fake-kernel.so
[ -f "$FAKE_KERNEL" ] || { fail "fake kernel built" "$FAKE_KERNEL missing"; it_summary; exit 1; }
DEFS=$IT_DIR/defs
export SIOV_DEFINITIONS_DIR=$DEFS

siovd_up() {
        LD_PRELOAD=$FAKE_KERNEL SIOV_FAKE_KERNEL_ROOT=$ROOT it_siovd_start
}

fake init
fake add-siov-parent siov0 --total 64 --free 64 --swq-slots 4
mkdir -p "$DEFS" "$ROOT/fake-kernel"
it_bus_start || { it_summary; exit 1; }
siovd_up || { it_summary; exit 1; }

UUIDS=()
for i in $(seq 0 7); do UUIDS+=("$(printf '%08x-0000-4000-8000-%012x' $((0xa0000000 + i)) "$i")"); done
declare -A FOREIGN=()   # uuid → sha256 of a file the "admin" wrote that cannot be loaded
declare -A ACKED=()     # uuid → 1: siovd acknowledged a definition that still stands
n_ops=0 n_ok=0 n_refused=0 n_kills=0 n_edits=0 violations=0

sum() { sha256sum "$1" 2>/dev/null | cut -d' ' -f1; }
pick() { echo "${UUIDS[RANDOM % ${#UUIDS[@]}]}"; }
violation() { violations=$((violations + 1)); fail "invariant (seed $SEED, op $n_ops)" "$1"; }

# What siovd may touch: an acknowledged change hands the file to siovd.
acked() { ACKED[$1]=1; unset "FOREIGN[$1]"; }
forget() { unset "ACKED[$1]"; }

check_invariants() {    # WHEN
        local u f
        for u in "${!FOREIGN[@]}"; do
                f=$DEFS/$u.json
                [ "$(sum "$f")" = "${FOREIGN[$u]}" ] || violation "$1: $f (not siovd's) changed or vanished"
        done
        local listed
        listed=$(siovctl --json list | jq -r '.[] | select(.persistent) | .uuid' | sort)
        for u in "${!ACKED[@]}"; do
                grep -qx "$u" <<<"$listed" || violation "$1: acknowledged definition $u is not loaded"
        done
}

restart() {     # kill -KILL, then start again: the stale temporary files go
        kill -KILL "$SIOVD_PID" 2>/dev/null; wait "$SIOVD_PID" 2>/dev/null; SIOVD_PID=
        n_kills=$((n_kills + 1))
        siovd_up || { violation "siovd does not start after SIGKILL"; return 1; }
        if ls -A "$DEFS" | grep -Eq '^\.[0-9a-f-]{36}\.json\.[0-9a-f]{11}$'; then
                violation "a temporary file outlived a start: $(ls -A "$DEFS" | tr '\n' ' ')"
        fi
        check_invariants "after restart"
}

# one siovctl change; $1: uuid it concerns, rest: the command
change() {
        local u=$1 rc; shift
        n_ops=$((n_ops + 1))
        if [ $((RANDOM % 40)) -eq 0 ]; then
                # SIGKILL in the middle: the outcome is unknown, so nothing
                # about this UUID counts as acknowledged any more
                siovctl "$@" >/dev/null 2>&1 &
                local op=$!
                sleep "0.00$((RANDOM % 10))"
                forget "$u"
                restart
                wait $op 2>/dev/null
                return 1
        fi
        siovctl "$@" >/dev/null 2>"$IT_DIR/op.err"; rc=$?
        if [ $rc -eq 0 ]; then n_ok=$((n_ok + 1)); else n_refused=$((n_refused + 1)); fi
        kill -0 "$SIOVD_PID" 2>/dev/null || violation "siovd died during: $*"
        return $rc
}

garbage() {     # something the loader refuses, never the same twice
        case $((RANDOM % 4)) in
        0) head -c $((RANDOM % 200 + 1)) /dev/urandom ;;
        1) printf '{ "uuid": "%s", "parent": ' "$1" ;;
        2) printf '{ "uuid": "%s", "parent": "siov0", "type": "idxd-1dwq", "uuid": "%s" }\n' "$1" "$1" ;;
        3) printf 'edited by hand %s\n' "$RANDOM" ;;
        esac
}

edit() {        # an administrator at work in the folder
        local u=$1 f=$DEFS/$1.json
        n_edits=$((n_edits + 1))
        case $((RANDOM % 5)) in
        0)      garbage "$u" > "$f"; FOREIGN[$u]=$(sum "$f"); forget "$u" ;;
        1)      # truncation of whatever is there
                if [ -s "$f" ]; then
                        truncate -s $(( $(stat -c %s "$f") / 2 )) "$f"
                        [ -s "$f" ] || echo x > "$f"
                        FOREIGN[$u]=$(sum "$f"); forget "$u"
                fi ;;
        2)      rm -f "$f"; unset "FOREIGN[$u]"; forget "$u" ;;
        3)      # a valid file, copied in: siovd may load it and then own it
                printf '{ "uuid": "%s", "parent": "siov0", "type": "idxd-1swq", "autostart": false, "by": "admin" }\n' \
                        "$u" > "$DEFS/.admin-tmp" && mv "$DEFS/.admin-tmp" "$f"
                unset "FOREIGN[$u]"; forget "$u" ;;
        4)      # a foreign file that is not a definition at all
                echo "notes $RANDOM" > "$DEFS/notes-$((RANDOM % 3)).txt" ;;
        esac
}

t_end=$(( $(date +%s) + SECONDS_MAX ))
while [ "$(date +%s)" -lt "$t_end" ]; do
        u=$(pick)
        case $((RANDOM % 11)) in
        0|1)    change "$u" define --type idxd-1dwq --parent siov0 --uuid "$u" --attr "a=$RANDOM" && acked "$u" ;;
        2)      if [ -n "${ACKED[$u]:-}" ] || [ $((RANDOM % 2)) -eq 0 ]; then
                        if [ $((RANDOM % 2)) -eq 0 ]; then
                                change "$u" modify "$u" --autostart --attr "m=$RANDOM" && acked "$u"
                        else
                                change "$u" modify "$u" --manual && acked "$u"
                        fi
                fi ;;
        3)      change "$u" undefine "$u" && forget "$u" ;;
        4)      [ $((RANDOM % 3)) -eq 0 ] && echo EIO > "$ROOT/fake-kernel/fail-create"
                change "$u" create --type idxd-1dwq --parent siov0 --uuid "$u" --persistent && acked "$u"
                rm -f "$ROOT/fake-kernel/fail-create" ;;
        5)      change "$u" create --type idxd-1dwq --parent siov0 --uuid "$u" ;;
        6)      change "$u" destroy "$u" && forget "$u" ;;
        7)      change "$u" start "$u" ;;
        8|9)    edit "$u" ;;
        10)     [ $((RANDOM % 4)) -eq 0 ] && restart ;;
        esac
        [ "$violations" -gt 5 ] && break
done

restart
check_invariants "at the end"
for u in "${!ACKED[@]}"; do
        check "acknowledged $u loads back (siovd's own loader)" \
                bash -c 'jq -e ".uuid == \"$2\"" "$1/$2.json" >/dev/null' _ "$DEFS" "$u"
done
check_eq "no invariant broken (seed $SEED)" 0 "$violations"
echo "# seed $SEED: $n_ops operations ($n_ok done, $n_refused refused), $n_edits edits by hand," \
     "$n_kills SIGKILL restarts, ${#FOREIGN[@]} foreign files kept, ${#ACKED[@]} acknowledged definitions"
it_summary
