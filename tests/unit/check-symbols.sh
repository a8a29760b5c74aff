#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# libsiov exports exactly what lib/libsiov.sym lists, and that list names
# every _public_ function of lib/ and nothing else: a new public function
# must be added to the list (in a new version node), or siovd fails to link
# against the installed library.
set -uo pipefail
SRC=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${TOP_BUILDDIR:-$SRC}
SO=$BUILD/lib/.libs/libsiov.so
fails=0
n=0

check() {
        n=$((n + 1))
        if [ -z "$2" ]; then echo "PASS: $1"; else echo "FAIL: $1: $2"; fails=$((fails + 1)); fi
}

[ -f "$SO" ] || { echo "FAIL: $SO not built"; exit 1; }
public=$(sed -n 's/^_public_ [^(]*[ *]\(siov_[a-z0-9_]*\)(.*/\1/p' "$SRC"/lib/*.c | sort -u)
listed=$(sed -n 's/^[[:space:]]*\(siov_[a-z0-9_]*\);.*/\1/p' "$SRC/lib/libsiov.sym" | sort -u)
exported=$(nm -D --defined-only "$SO" | awk '{print $3}' | sed 's/@.*//' | grep -v '^LIBSIOV_' | sort -u)

[ "$(echo "$public" | grep -c .)" -gt 50 ] || check "found the _public_ functions" "only $(echo "$public" | grep -c .)"
check "every _public_ function is listed in libsiov.sym" "$(comm -23 <(echo "$public") <(echo "$listed") | tr '\n' ' ')"
check "libsiov.sym lists no function that is not _public_" "$(comm -13 <(echo "$public") <(echo "$listed") | tr '\n' ' ')"
check "libsiov.so exports exactly the listed symbols" "$(diff <(echo "$listed") <(echo "$exported") | grep '^[<>]' | tr '\n' ' ')"
check "every export carries a version" \
        "$(nm -D --defined-only "$SO" | awk '{print $3}' | grep -v '^LIBSIOV_' | grep -v '@@LIBSIOV_' | tr '\n' ' ')"
# A name that is not listed is reported (the check can fail).
check "a missing name is reported" "$(comm -23 <(printf '%s\nsiov_not_listed\n' "$public" | sort) <(echo "$listed") | grep -qx siov_not_listed || echo missed)"
echo "$((n - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
