# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by the authorization tests: Debian's real polkitd on the private
# system bus of lib.sh, with the project's polkit actions and rules chosen by
# the test, and an unprivileged user to call as. Sourced, not run, FIRST
# thing in a test script (it re-runs the script in a new mount namespace).
#
# polkitd has no options for its folders: it reads the actions from
# /usr/share/polkit-1/actions and rules from /etc/polkit-1/rules.d and
# /usr/share/polkit-1/rules.d. The script runs in a private mount namespace
# (unshare -m) where those folders, /etc/passwd and /etc/group are bind
# mounts of copies under the test's folder: the host's polkit setup and user
# database are never touched, and everything the test starts (dbus-daemon,
# polkitd, siovd, the callers) sees the same copies. Needs root.
#
# After sourcing:
#   pk_bus_start          the private bus (lib.sh's, plus polkit's bus policy)
#   pk_polkitd_start      polkitd on it; pk_polkitd_stop; $PK_PID
#   pk_grant_group        install policy/org.siov1.rules.example and put the
#                         test user into group "siov" (restarts polkitd)
#   pk_add_rule NAME JS   an extra rules file (restart polkitd to load it)
#   as_user CMD...        runs CMD as the unprivileged user $PK_USER
#   PK_LOG                polkitd's log

# The marker holds the PID the script has after exec (unshare without
# --fork keeps it), so an inherited marker never skips the namespace.
if [ "${SIOV_PK_NAMESPACE:-}" != "$$" ]; then
        if [ "$(id -u)" != 0 ]; then
                echo "FAIL: $0 needs root (a mount namespace, a real polkitd, callers of another uid)"
                echo "0 passed, 1 failed"
                exit 1
        fi
        export SIOV_PK_NAMESPACE=$$
        exec unshare --mount --propagation private -- "$BASH" "$0" "$@"
fi

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PK_POLKITD=
for p in /usr/lib/polkit-1/polkitd /usr/libexec/polkitd /usr/libexec/polkit-1/polkitd; do
        [ -x "$p" ] && { PK_POLKITD=$p; break; }
done
PK_USER=siovtest
PK_GROUP=siov
PK_PID=
PK_LOG=$IT_DIR/polkitd.log
PK_DIR=$IT_DIR/polkit

pk_cleanup() {
        [ -n "$PK_PID" ] && kill -CONT "$PK_PID" 2>/dev/null
        [ -n "$PK_PID" ] && kill -TERM "$PK_PID" 2>/dev/null && wait "$PK_PID" 2>/dev/null
        if [ "$it_failed" -gt 0 ] && [ -f "$PK_LOG" ]; then
                echo "--- polkitd log ---"; tail -n 30 "$PK_LOG"
        fi
        it_cleanup
}
trap pk_cleanup EXIT

# A missing piece is a failure, never a skip.
pk_require() {
        local missing=
        [ -n "$PK_POLKITD" ] || missing+=" polkitd (apt-get install polkitd)"
        [ -d /usr/share/polkit-1/actions ] || missing+=" /usr/share/polkit-1/actions"
        [ -d /etc/polkit-1/rules.d ] || missing+=" /etc/polkit-1/rules.d"
        [ -f /usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf ] || missing+=" polkit's bus policy"
        for c in setpriv unshare mount dbus-daemon busctl; do
                command -v $c >/dev/null || missing+=" $c"
        done
        if [ -n "$missing" ]; then
                fail "authorization test prerequisites" "missing:$missing"
                it_summary
                exit 1
        fi
}

# Copies of the user database with the test user (and its groups) added,
# bound over the real ones in this namespace only.
pk_users_setup() {
        local uid gid sgid
        mkdir -p "$IT_DIR/etc"
        cp /etc/passwd "$IT_DIR/etc/passwd"
        cp /etc/group "$IT_DIR/etc/group"
        if ! getent passwd "$PK_USER" >/dev/null; then
                uid=4711
                while getent passwd "$uid" >/dev/null || getent group "$uid" >/dev/null; do
                        uid=$((uid + 1))
                done
                echo "$PK_USER:x:$uid:$uid:siovd test user:/nonexistent:/usr/sbin/nologin" >>"$IT_DIR/etc/passwd"
                echo "$PK_USER:x:$uid:" >>"$IT_DIR/etc/group"
        fi
        if ! getent group "$PK_GROUP" >/dev/null; then
                sgid=4811
                while getent group "$sgid" >/dev/null; do sgid=$((sgid + 1)); done
                echo "$PK_GROUP:x:$sgid:" >>"$IT_DIR/etc/group"
        fi
        # Never go on without the copies: the group file is rewritten below.
        if ! mount --bind "$IT_DIR/etc/passwd" /etc/passwd || ! mount --bind "$IT_DIR/etc/group" /etc/group ||
           [ "$(stat -c %i /etc/group)" != "$(stat -c %i "$IT_DIR/etc/group")" ]; then
                fail "private copies of /etc/passwd and /etc/group"
                it_summary
                exit 1
        fi
        PK_UID=$(id -u "$PK_USER")
        PK_GID=$(id -g "$PK_USER")
        # Not in the group yet (a host that has it already gets it removed,
        # in this namespace only).
        pk_set_group_members ""
}

# Rewrites group $PK_GROUP's member list in place (same inode: the bind
# mount keeps pointing at it).
pk_set_group_members() {
        local tmp=$IT_DIR/etc/group.new
        awk -F: -v OFS=: -v g="$PK_GROUP" -v m="$1" '$1 == g { $4 = m } { print }' /etc/group >"$tmp"
        cat "$tmp" >/etc/group
        rm -f "$tmp"
}

pk_polkit_setup() {
        mkdir -p "$PK_DIR/actions" "$PK_DIR/rules.d" "$PK_DIR/usr-rules.d"
        cp "$TOP_SRCDIR/policy/org.siov1.policy" "$PK_DIR/actions/"
        # polkitd runs as the polkitd user and the callers as $PK_USER: they
        # must reach the bus socket and the polkit folders.
        chmod 755 "$IT_DIR"
        chmod -R a+rX "$PK_DIR"
        if ! mount --bind "$PK_DIR/actions" /usr/share/polkit-1/actions ||
           ! mount --bind "$PK_DIR/rules.d" /etc/polkit-1/rules.d ||
           { [ -d /usr/share/polkit-1/rules.d ] && ! mount --bind "$PK_DIR/usr-rules.d" /usr/share/polkit-1/rules.d; }; then
                fail "polkit's folders replaced by the test's"
                it_summary
                exit 1
        fi
}

pk_add_rule() {
        printf '%s\n' "$2" >"$PK_DIR/rules.d/$1"
        chmod 644 "$PK_DIR/rules.d/$1"
}

# lib.sh's private bus (Debian's default-deny system policy + the
# project's org.siov1.conf), plus polkit's own bus policy so polkitd may own
# its name.
pk_bus_start() {
        it_bus_start /usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf
}

pk_polkitd_start() {
        # --no-debug would silence polkit.log() of the rules.
        "$PK_POLKITD" >>"$PK_LOG" 2>&1 &
        PK_PID=$!
        for _ in $(seq 200); do
                busctl --address="$ADDR" status org.freedesktop.PolicyKit1 >/dev/null 2>&1 && return 0
                kill -0 "$PK_PID" 2>/dev/null || break
                sleep 0.05
        done
        fail "polkitd owns org.freedesktop.PolicyKit1" "$(tail -n 5 "$PK_LOG" | tr '\n' ' ')"
        return 1
}

pk_polkitd_stop() {
        [ -n "$PK_PID" ] || return 0
        kill -CONT "$PK_PID" 2>/dev/null
        kill -TERM "$PK_PID" 2>/dev/null
        wait "$PK_PID" 2>/dev/null
        PK_PID=
        # The name must be gone before a new polkitd or a "no polkit" check.
        for _ in $(seq 100); do
                busctl --address="$ADDR" status org.freedesktop.PolicyKit1 >/dev/null 2>&1 || return 0
                sleep 0.05
        done
        return 1
}

pk_grant_group() {
        cp "$TOP_SRCDIR/policy/org.siov1.rules.example" "$PK_DIR/rules.d/50-org.siov1.rules"
        chmod 644 "$PK_DIR/rules.d/50-org.siov1.rules"
        pk_set_group_members "$PK_USER"
        pk_polkitd_stop && pk_polkitd_start
}

as_user() {
        setpriv --reuid="$PK_UID" --regid="$PK_GID" --clear-groups --reset-env -- \
                env DBUS_SYSTEM_BUS_ADDRESS="$ADDR" PATH="$PATH" "$@"
}

pk_setup() {
        pk_require
        pk_users_setup
        pk_polkit_setup
}
