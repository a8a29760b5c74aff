# Shared helpers for tests/vm host-side scripts (bash; sourced, not run).
# shellcheck shell=bash

VM_PREFIX=${VM_PREFIX:-vm}

vm_log() {
        printf '%s: %s\n' "$VM_PREFIX" "$*"
}

vm_warn() {
        printf '%s: WARNING: %s\n' "$VM_PREFIX" "$*" >&2
}

# One clear line, then exit. Harness/setup errors use 125 so a caller can
# tell them from a guest script's own exit status.
vm_die() {
        printf '%s: ERROR: %s\n' "$VM_PREFIX" "$*" >&2
        exit "${VM_DIE_RC:-125}"
}

vm_now() {
        date +%s.%N
}

# Seconds since $1 (a vm_now value), with one decimal.
vm_since() {
        awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'
}

# POSIX single-quoted form of each argument, space separated: safe to paste
# into a busybox ash script.
vm_shquote() {
        local a out=""
        for a in "$@"; do
                out+="'${a//\'/\'\\\'\'}' "
        done
        printf '%s' "${out% }"
}

vm_need_cmd() {
        local c
        for c in "$@"; do
                command -v "$c" >/dev/null 2>&1 ||
                        vm_die "'$c' not found; install the Debian packages listed in tests/vm/README.md"
        done
}

# The cache lives outside the repo; fall back to the user's cache folder
# when the system one is not writable (non-root developer runs).
# An existing cache that is not writable is still used read-only (a
# developer's run after root filled it); writing into it then fails loudly.
vm_cache_dir() {
        local d=${SIOV_VM_CACHE:-/var/cache/siovd-vm}
        if mkdir -p "$d" 2>/dev/null && [ -w "$d" ] || [ -d "$d/kernel" ]; then
                printf '%s' "$d"
                return
        fi
        if [ -n "${SIOV_VM_CACHE:-}" ]; then
                vm_die "cache folder $d (SIOV_VM_CACHE) is not writable"
        fi
        d=${XDG_CACHE_HOME:-$HOME/.cache}/siovd-vm
        mkdir -p "$d" || vm_die "cannot create cache folder $d"
        vm_warn "/var/cache/siovd-vm not writable, using $d"
        printf '%s' "$d"
}
