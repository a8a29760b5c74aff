# Test helpers for guest scripts run by tests/vm/vm-run (POSIX sh plus
# `local`, i.e. dash, the guests' /bin/sh). In the guest: `. "$VM_LIB"`
# (= /vm/guest-lib.sh).
#
# Results are lines "PASS: NAME" / "FAIL: NAME: reason" on stdout; the host
# counts them. Counts are also kept in a file so that checks made in
# subshells and pipelines are not lost.
# shellcheck shell=sh

: "${T_RESULTS:=/tmp/guest-lib.results}"
export T_RESULTS
[ -e "$T_RESULTS" ] || : >"$T_RESULTS"

# One line: newlines and runs of blanks folded, capped at 300 characters.
_t_oneline() {
        printf '%s' "$*" | tr '\n\t' '  ' | tr -s ' ' | cut -c1-300
}

# Print some lines of captured output, indented, under a result.
_t_show() {
        [ -s "$1" ] || return 0
        tail -n "${2:-15}" "$1" | sed 's/^/    | /'
}

t_log() {
        echo "# $*"
}

t_pass() {
        echo "PASS: $1"
        echo P >>"$T_RESULTS"
}

t_fail() {
        local _t_name
        _t_name=$1
        shift
        if [ $# -gt 0 ] && [ -n "$*" ]; then
                echo "FAIL: $_t_name: $(_t_oneline "$*")"
        else
                echo "FAIL: $_t_name"
        fi
        echo F >>"$T_RESULTS"
        return 1
}

# t_check NAME CMD [ARGS...]: pass when CMD exits 0. On failure the reason
# has the exit status and the last output line, followed by the tail of the
# output. Returns CMD's status.
t_check() {
        local _t_name _t_out _t_rc
        _t_name=$1
        shift
        _t_out=$(mktemp /tmp/t_check.XXXXXX)
        "$@" >"$_t_out" 2>&1
        _t_rc=$?
        if [ "$_t_rc" -eq 0 ]; then
                t_pass "$_t_name"
        else
                t_fail "$_t_name" "exit $_t_rc from '$(_t_oneline "$*")': $(tail -n 1 "$_t_out")"
                _t_show "$_t_out"
        fi
        rm -f "$_t_out"
        return "$_t_rc"
}

# t_check_fails NAME CMD [ARGS...]: pass when CMD exits non-zero (negative
# tests: a refused create, a bad name...). Returns 0 when it passed.
t_check_fails() {
        local _t_name _t_out _t_rc
        _t_name=$1
        shift
        _t_out=$(mktemp /tmp/t_check.XXXXXX)
        "$@" >"$_t_out" 2>&1
        _t_rc=$?
        if [ "$_t_rc" -ne 0 ]; then
                t_pass "$_t_name"
                rm -f "$_t_out"
                return 0
        fi
        t_fail "$_t_name" "'$(_t_oneline "$*")' succeeded but should have failed"
        _t_show "$_t_out"
        rm -f "$_t_out"
        return 1
}

# t_eq NAME EXPECTED ACTUAL
t_eq() {
        if [ "$2" = "$3" ]; then
                t_pass "$1"
        else
                t_fail "$1" "expected '$(_t_oneline "$2")', got '$(_t_oneline "$3")'"
        fi
}

# t_match NAME PATTERN ACTUAL: ACTUAL contains a match of the extended
# regular expression PATTERN.
t_match() {
        if printf '%s\n' "$3" | grep -Eq -- "$2"; then
                t_pass "$1"
        else
                t_fail "$1" "'$(_t_oneline "$3")' does not match /$2/"
        fi
}

# t_wait_for SECONDS CMD [ARGS...]: poll CMD every 0.1 s until it exits 0;
# returns 0 then, 1 after SECONDS. Prints nothing: wrap it in t_check to
# record a result.
t_wait_for() {
        local _t_secs _t_end
        _t_secs=$1
        shift
        _t_end=$(( $(date +%s) + _t_secs ))
        while :; do
                "$@" >/dev/null 2>&1 && return 0
                [ "$(date +%s)" -lt "$_t_end" ] || break
                sleep 0.1
        done
        "$@" >/dev/null 2>&1
}

# t_as USER CMD [ARGS...]: run CMD as USER (e.g. tester, uid 1000, with
# its groups) keeping the environment, with HOME set to the user's home.
t_as() {
        local _t_user _t_home
        _t_user=$1
        shift
        _t_home=$(awk -F: -v u="$_t_user" '$1 == u { print $6 }' /etc/passwd)
        [ -n "$_t_home" ] || { echo "t_as: no user $_t_user" >&2; return 127; }
        HOME=$_t_home setpriv --reuid="$_t_user" --regid="$(id -g "$_t_user")" --init-groups -- "$@"
}

# t_dbus_start [CONFIG]: make sure a system bus runs and answers. Without
# CONFIG an already running system bus (the --full guest's) is used;
# otherwise a dbus-daemon is started with CONFIG (default: Debian's
# system.conf, i.e. /run/dbus/system_bus_socket). Exports
# DBUS_SYSTEM_BUS_ADDRESS and T_DBUS_PID (empty for the running bus).
# The busybox guest needs vm-run --dbus (or dbus-daemon and dbus-send
# given with --bin).
t_dbus_start() {
        if [ $# -eq 0 ] && [ -S /run/dbus/system_bus_socket ] &&
           dbus-send --system --print-reply --dest=org.freedesktop.DBus \
                /org/freedesktop/DBus org.freedesktop.DBus.GetId >/dev/null 2>&1; then
                DBUS_SYSTEM_BUS_ADDRESS=unix:path=/run/dbus/system_bus_socket
                T_DBUS_PID=""
                export DBUS_SYSTEM_BUS_ADDRESS T_DBUS_PID
                return 0
        fi
        local _t_conf
        _t_conf=${1:-/usr/share/dbus-1/system.conf}
        mkdir -p /run/dbus
        rm -f /tmp/t_dbus.addr /tmp/t_dbus.pid
        dbus-daemon --config-file="$_t_conf" --fork --nopidfile \
                --print-address=3 --print-pid=4 3>/tmp/t_dbus.addr 4>/tmp/t_dbus.pid || return 1
        t_wait_for 10 test -s /tmp/t_dbus.addr || return 1
        DBUS_SYSTEM_BUS_ADDRESS=$(head -n 1 /tmp/t_dbus.addr)
        T_DBUS_PID=$(head -n 1 /tmp/t_dbus.pid)
        export DBUS_SYSTEM_BUS_ADDRESS T_DBUS_PID
        t_wait_for 10 dbus-send --system --print-reply --dest=org.freedesktop.DBus \
                /org/freedesktop/DBus org.freedesktop.DBus.GetId
}

# t_udev_start: start systemd-udevd (busybox guest with vm-run --udev; the
# --full guest runs udev already and this only settles), replay the add
# events of the devices that exist, and wait for the queue to empty.
t_udev_start() {
        if ! udevadm control --ping >/dev/null 2>&1; then
                mkdir -p /run/udev
                /usr/lib/systemd/systemd-udevd --daemon || return 1
                t_wait_for 10 udevadm control --ping || return 1
                udevadm trigger --type=subsystems --action=add || return 1
                udevadm trigger --type=devices --action=add || return 1
        fi
        udevadm settle --timeout=60
}

# t_summary: "N passed, N failed" for this guest script; non-zero status on
# any failure or when nothing was checked at all.
t_summary() {
        local _t_p _t_f
        _t_p=$(grep -c '^P$' "$T_RESULTS")
        _t_f=$(grep -c '^F$' "$T_RESULTS")
        echo "$_t_p passed, $_t_f failed"
        [ "$_t_f" -eq 0 ] && [ "$_t_p" -gt 0 ]
}
