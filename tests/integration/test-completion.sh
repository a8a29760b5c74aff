#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bash completion of siovctl, the way a user meets it: Debian's
# bash-completion loaded, then cli/completion/siovctl, and the completion
# function called with the words readline would give it (split at spaces,
# "=" and ":" per COMP_WORDBREAKS). Names come live from the real siovd on
# a private bus with a fake tree.
. "$(dirname "$0")/lib.sh"

BASH_COMPLETION=$(pkg-config --variable=compatdir bash-completion 2>/dev/null)
BASH_COMPLETION=${BASH_COMPLETION%/*}/bash_completion
[ -f "$BASH_COMPLETION" ] || BASH_COMPLETION=/usr/share/bash-completion/bash_completion
[ -f "$BASH_COMPLETION" ] || { fail "bash-completion installed" "$BASH_COMPLETION missing (apt-get install bash-completion)"; it_summary; exit 1; }

FAKE_KERNEL=$TOP_BUILDDIR/tests/common/.libs/fake-kernel.so
export SIOV_DEFINITIONS_DIR=$IT_DIR/defs
U1=11111111-0000-4000-8000-000000000001
U2=22222222-0000-4000-8000-000000000002

fake init
fake add-siov-parent siov0 --total 8 --free 8 --swq-slots 4
fake add-mdev-parent 0000:00:02.0 --pci --driver i915
fake add-type 0000:00:02.0 i915-GVTg_V5_4 --available 2
it_bus_start || { it_summary; exit 1; }
LD_PRELOAD=$FAKE_KERNEL SIOV_FAKE_KERNEL_ROOT=$ROOT it_siovd_start || { it_summary; exit 1; }
check "create an active device" siovctl create --type idxd-1dwq --parent siov0 --uuid "$U1"
check "define a device" siovctl define --type idxd-1swq --parent siov0 --uuid "$U2"

# A bash with bash-completion and our completion, siovctl on PATH as a
# user has it; prints the completions of LINE (completed at its end), one
# per line, sorted.
BIN=$IT_DIR/bin
mkdir -p "$BIN"
ln -s "$SIOVCTL" "$BIN/siovctl"
complete_line() {
        PATH=$BIN:$PATH bash --norc --noprofile -c '
                . "$1" || exit 1
                . "$2" || exit 1
                line=$3
                COMP_LINE=$line
                COMP_POINT=${#line}
                COMP_WORDS=()
                w=
                for ((i = 0; i < ${#line}; i++)); do
                        c=${line:i:1}
                        if [ "$c" = " " ]; then
                                [ -n "$w" ] && COMP_WORDS+=("$w")
                                w=
                        elif [[ $COMP_WORDBREAKS == *"$c"* ]]; then
                                [ -n "$w" ] && COMP_WORDS+=("$w")
                                COMP_WORDS+=("$c")
                                w=
                        else
                                w+=$c
                        fi
                done
                COMP_WORDS+=("$w")
                COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
                spec=$(complete -p siovctl) || exit 1
                fn=${spec#*-F }
                fn=${fn%% *}
                "$fn" siovctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
                [ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}" | sort
        ' _ "$BASH_COMPLETION" "$TOP_SRCDIR/cli/completion/siovctl" "$1"
}
# check_complete NAME LINE EXPECTED...: exactly these completions
check_complete() {
        local name=$1 line=$2; shift 2
        check_eq "$name" "$(printf '%s\n' "$@" | sed '/^$/d' | sort | tr '\n' ' ')" \
                "$(complete_line "$line" | tr '\n' ' ')"
}

# Commands and options come from siovctl's own --help.
check_complete "commands" "siovctl " \
        $("$SIOVCTL" --help | awk '/^Commands:/ { on = 1; next } on && /^$/ { exit } on { print $1 }')
check_complete "a command's prefix" "siovctl cr" create
check_complete "prefix shared by two commands" "siovctl st" start status stop
check_complete "options of destroy" "siovctl destroy --" \
        --help --version --json --json= --address= --no-ask-password --force
check_complete "a long option taking a value ends in =" "siovctl create --ty" --type=
check_complete "options before the command: global ones and all" "siovctl --no" --no-ask-password
check_complete "--json= values" "siovctl list --json=" pretty short
# Live names from siovd.
check_complete "--parent NAME" "siovctl list --parent " 0000:00:02.0 siov0
check_complete "--parent=NAME" "siovctl types --parent=s" siov0
# readline replaces only the text after the last ':' of the word: the
# reply is the rest of the name after "0000:".
check_complete "a PCI parent name across readline's ':' split" "siovctl list -p 0000:00" 00:02.0
check_complete "--type: every type" "siovctl create --type " i915-GVTg_V5_4 idxd-1dwq idxd-1swq
check_complete "--type after --parent: that parent's types" "siovctl create -p siov0 -t idxd" idxd-1dwq idxd-1swq
check_complete "destroy UUID: every device" "siovctl destroy " "$U1" "$U2"
check_complete "stop UUID: active devices" "siovctl stop " "$U1"
check_complete "start UUID: defined devices" "siovctl start " "$U2"
check_complete "only the first argument is a UUID" "siovctl stop $U1 "
check_complete "provision PARENT" "siovctl provision si" siov0
check_complete "--address is used for the names" "siovctl --address=$ADDR provision si" siov0
check_complete "help COMMAND" "siovctl help mo" modify monitor

# Without siovd the names are empty, and nothing hangs or prints.
it_siovd_stop
out=$(DBUS_SYSTEM_BUS_ADDRESS=unix:path=$IT_DIR/nonexistent complete_line "siovctl list --parent " 2>&1)
check_eq "no siovd: no names, no noise" "" "$out"

it_summary
