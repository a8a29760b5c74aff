#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The man pages as users read them: each built page renders with `man -l`
# without warnings, and the rendered text names
#   siovctl(1): every command and option of `siovctl --help` and of each
#               command's --help;
#   siovd(8):   every option of `siovd --help`;
#   org.siov1(5): every interface, property, method and signal of
#               dbus/*.xml, every error of lib/siov-names.h and every polkit
#               action of policy/org.siov1.policy.
# So whoever adds a command, option or D-Bus member must document it.
set -u

: "${SIOVD:?}" "${SIOVCTL:?}" "${TOP_SRCDIR:?}" "${TOP_BUILDDIR:?}"
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "PASS: $1"; }
bad() { fail=$((fail + 1)); echo "FAIL: $1${2:+: $2}"; }

command -v man >/dev/null || { bad "man installed" "apt-get install man-db"; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-man.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# render PAGE NAME: plain text, one very long line per paragraph so that
# words are never hyphenated at a line break.
render() {
        local page=$TOP_BUILDDIR/$1 name=$2
        if [ ! -s "$page" ]; then
                bad "$name: built" "$page missing"
                return 1
        fi
        if ! LC_ALL=C.UTF-8 MANWIDTH=2000 man --warnings -l "$page" >"$tmp/$name.txt" 2>"$tmp/$name.err" ||
           [ -s "$tmp/$name.err" ]; then
                bad "$name: man -l renders without warnings" "$(head -n 3 "$tmp/$name.err" | tr '\n' ' ')"
                return 1
        fi
        # groff's typographic hyphen and quotes back to ASCII.
        sed -i 's/\xe2\x80\x90/-/g; s/\xe2\x88\x92/-/g; s/\xe2\x80\x98/'"'"'/g; s/\xe2\x80\x99/'"'"'/g' "$tmp/$name.txt"
        ok "$name: man -l renders without warnings ($(wc -l <"$tmp/$name.txt") lines)"
}

# mentions NAME WORD...: each WORD appears in the page as a whole word.
mentions() {
        local name=$1 w missing=()
        shift
        for w in "$@"; do
                grep -qF -- "$w" "$tmp/$name.txt" &&
                        grep -qE -- "(^|[^A-Za-z0-9_-])$(printf '%s' "$w" | sed 's/[][\.*^$+?(){}|/]/\\&/g')([^A-Za-z0-9_-]|$)" "$tmp/$name.txt" ||
                        missing+=("$w")
        done
        echo "${missing[*]:-}"
        [ ${#missing[@]} -eq 0 ]
}

check_mentions() {      # LABEL NAME WORD...
        local label=$1 name=$2 out
        shift 2
        if [ $# -eq 0 ]; then
                bad "$label" "nothing to look for (the source list is empty)"
                return
        fi
        if out=$(mentions "$name" "$@"); then
                ok "$label ($# names)"
        else
                bad "$label" "not in $name: $out"
        fi
}

# Options in the option column of a --help text.
help_options() {
        awk '/^Options:/ { on = 1; next } on && /^$/ { exit }
             on { n = split(substr($0, 1, 28), f, " ")
                  for (i = 1; i <= n; i++) if (f[i] ~ /^-/) { o = f[i]; sub(/[[=].*/, "", o); print o } }'
}

# ---- siovctl(1) -------------------------------------------------------------
if render cli/siovctl.1 siovctl.1; then
        commands=$("$SIOVCTL" --help | awk '/^Commands:/ { on = 1; next } on && /^$/ { exit } on { print $1 }')
        check_mentions "siovctl(1) names every command of siovctl --help" siovctl.1 $commands
        check_mentions "siovctl(1) names every option of siovctl --help" siovctl.1 \
                $("$SIOVCTL" --help | help_options | sort -u)
        for c in $commands; do
                check_mentions "siovctl(1) names every option of siovctl $c --help" siovctl.1 \
                        $("$SIOVCTL" "$c" --help | help_options | sort -u)
        done
        # Every exit status of the help.
        check_mentions "siovctl(1) documents every exit status" siovctl.1 \
                $("$SIOVCTL" --help | awk '/^Exit status:/ { on = 1; next } on && /^$/ { exit } on { print $1 }')
fi

# ---- siovd(8) ---------------------------------------------------------------
if render daemon/siovd.8 siovd.8; then
        check_mentions "siovd(8) names every option of siovd --help" siovd.8 \
                $("$SIOVD" --help | awk '/^ +-/ { n = split(substr($0, 1, 30), f, " ")
                        for (i = 1; i <= n; i++) if (f[i] ~ /^-/) { o = f[i]; sub(/[[=].*/, "", o); print o } }' | sort -u)
fi

# ---- org.siov1(5) -----------------------------------------------------------
if render dbus/org.siov1.5 org.siov1.5; then
        for xml in "$TOP_SRCDIR"/dbus/org.siov1.*.xml; do
                iface=$(sed -n 's/.*<interface name="\([^"]*\)".*/\1/p' "$xml")
                check_mentions "org.siov1(5) names interface $iface" org.siov1.5 $iface
                check_mentions "org.siov1(5) names every member of $iface" org.siov1.5 \
                        $(sed -n 's/.*<\(method\|property\|signal\) name="\([^"]*\)".*/\2/p' "$xml")
                # The member under its own interface's section.
                section=$(awk -v h="INTERFACE $iface" '$0 == h { on = 1; next } /^INTERFACE / { on = 0 } on' \
                        "$tmp/org.siov1.5.txt")
                missing=
                for mb in $(sed -n 's/.*<\(method\|property\|signal\) name="\([^"]*\)".*/\2/p' "$xml"); do
                        grep -qw -- "$mb" <<<"$section" || missing+=" $mb"
                done
                if [ -z "$missing" ] && [ -n "$section" ]; then
                        ok "org.siov1(5): every member of $iface in its section"
                else
                        bad "org.siov1(5): every member of $iface in its section" "missing:${missing:- the section}"
                fi
        done
        check_mentions "org.siov1(5) names every error" org.siov1.5 \
                $(sed -n 's/^#define SIOV_ERROR_[A-Z_]* *"\([^"]*\)".*/\1/p' "$TOP_SRCDIR/lib/siov-names.h")
        check_mentions "org.siov1(5) names every polkit action" org.siov1.5 \
                $(sed -n 's/.*<action id="\([^"]*\)".*/\1/p' "$TOP_SRCDIR/policy/org.siov1.policy")
fi

# The check must be able to fail: a page without a member is caught.
printf 'x(5)\n\n# NAME\n\nx - y\n' >"$tmp/x.txt"
if out=$(mentions x Version); then
        bad "a missing name is reported" "mentions found '$out'"
else
        ok "a missing name is reported"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
