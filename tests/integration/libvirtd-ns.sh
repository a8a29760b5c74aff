# SPDX-License-Identifier: LGPL-2.1-or-later
# A real libvirtd (qemu driver) for tests, started by hand in a private mount
# namespace so the host's libvirt state is never touched: private copies of
# /etc/libvirt, /var/lib/libvirt, /var/cache/libvirt, /var/log/libvirt, a
# tmpfs on /run/libvirt, and /etc/passwd + /etc/group with a libvirt-qemu
# entry (the qemu driver looks that user up even when told to run as root).
# Sourced, not run. Needs root, unshare(1), libvirtd, virsh.
#
#   lvd_enter_namespace "$@"   first thing in the test: re-runs the script in
#                              a private mount namespace (the test's clients
#                              must share it to see /run/libvirt's socket);
#                              every mount vanishes with the namespace
#   lvd_start DIR              start libvirtd with its state under DIR;
#                              waits until qemu:///system answers
#   lvd_stop                   destroy its guests, stop it (SIGTERM, then SIGKILL)
#   lvd_restart                stop and start libvirtd again (guests kept)
#   lvd_virsh ARGS…            virsh -c qemu:///system
#   LVD_URI, LVD_PID, LVD_DIR, LVD_LOG
#
# Facts (libvirt 9.0, Debian 12): see shared notes anchors.md. The first
# connection probes QEMU's capabilities: ~8 s.

LVD_URI=qemu:///system
LVD_PID=
LVD_DIR=
LVD_LOG=

# A minimal persistent domain NAME for the qemu driver (it need not start).
lvd_domain_xml() {
        cat <<-EOF
	<domain type='qemu'>
	  <name>$1</name>
	  <memory unit='MiB'>64</memory>
	  <vcpu>1</vcpu>
	  <os><type arch='x86_64' machine='q35'>hvm</type></os>
	  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices>
	</domain>
	EOF
}

lvd_die() {
        echo "libvirtd-ns: $*" >&2
        exit 1
}

lvd_enter_namespace() {
        [ "$(id -u)" -eq 0 ] || lvd_die "needs root (a private mount namespace and libvirtd's system mode); no silent skip"
        for t in unshare libvirtd virsh; do
                command -v "$t" >/dev/null || lvd_die "$t not found: install util-linux, libvirt-daemon, libvirt-clients (tests/install-deps)"
        done
        [ -x /usr/bin/qemu-system-x86_64 ] || lvd_die "/usr/bin/qemu-system-x86_64 not found: install qemu-system-x86"
        if [ "${SIOV_LIBVIRTD_NS:-}" != "$$" ]; then
                # The marker holds the PID the script will have after exec.
                exec unshare --mount --propagation private -- \
                        bash -c 'export SIOV_LIBVIRTD_NS=$$; exec bash "$0" "$@"' "$0" "$@"
        fi
}

lvd_start() {
        local d=$1 dir

        [ "${SIOV_LIBVIRTD_NS:-}" = "$$" ] || lvd_die "lvd_start outside lvd_enter_namespace"
        LVD_DIR=$d
        LVD_LOG=$d/log/libvirtd.log
        mkdir -p "$d/etc/hooks/qemu.d" "$d/etc/qemu" "$d/lib" "$d/cache" "$d/log" || return 1

        cat >"$d/etc/libvirtd.conf" <<-EOF
	unix_sock_group = "root"
	unix_sock_rw_perms = "0700"
	auth_unix_ro = "none"
	auth_unix_rw = "none"
	log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
	EOF
        # root, no virtlogd (stdio_handler), no security driver, no cgroups or
        # device namespace for the guests: nothing outside our namespace.
        cat >"$d/etc/qemu.conf" <<-EOF
	user = "root"
	group = "root"
	stdio_handler = "file"
	security_driver = "none"
	namespaces = [ ]
	cgroup_controllers = [ ]
	EOF
        cp /etc/passwd "$d/passwd" && cp /etc/group "$d/group" || return 1
        getent passwd libvirt-qemu >/dev/null ||
                echo 'libvirt-qemu:x:64055:64055:Libvirt Qemu:/var/lib/libvirt:/usr/sbin/nologin' >>"$d/passwd"
        getent group libvirt-qemu >/dev/null || echo 'libvirt-qemu:x:64055:' >>"$d/group"

        # The mount points: what libvirt-daemon-system would create. Left in
        # place (empty) afterwards: another test may be using them.
        for dir in /etc/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt /run/libvirt; do
                [ -d "$dir" ] || mkdir -p "$dir" || return 1
        done
        mount --bind "$d/etc" /etc/libvirt &&
                mount --bind "$d/lib" /var/lib/libvirt &&
                mount --bind "$d/cache" /var/cache/libvirt &&
                mount --bind "$d/log" /var/log/libvirt &&
                mount -t tmpfs -o mode=0755 tmpfs /run/libvirt &&
                mount --bind "$d/passwd" /etc/passwd &&
                mount --bind "$d/group" /etc/group || { echo "libvirtd-ns: mounts failed" >&2; return 1; }

        lvd_run
}

# Starts the daemon (mounts in place) and waits until qemu:///system answers.
lvd_run() {
        local d=$LVD_DIR i

        rm -f /run/libvirt/libvirt-sock
        # Not on any test bus: libvirtd would talk to it (firewalld, polkit).
        env -u DBUS_SYSTEM_BUS_ADDRESS -u DBUS_SESSION_BUS_ADDRESS \
                libvirtd --pid-file="$d/libvirtd.pid" >"$d/log/libvirtd.stdout" 2>&1 &
        LVD_PID=$!

        for i in $(seq 300); do
                [ -S /run/libvirt/libvirt-sock ] && break
                kill -0 "$LVD_PID" 2>/dev/null || break
                sleep 0.1
        done
        if ! [ -S /run/libvirt/libvirt-sock ]; then
                echo "libvirtd-ns: libvirtd did not create its socket" >&2
                tail -n 20 "$d/log/libvirtd.stdout" "$LVD_LOG" >&2 2>/dev/null
                return 1
        fi
        # The first call initialises the qemu driver (capability probe).
        if ! timeout 120 virsh -q -c "$LVD_URI" version >/dev/null 2>"$d/virsh-version.err"; then
                echo "libvirtd-ns: qemu:///system does not answer: $(cat "$d/virsh-version.err")" >&2
                tail -n 20 "$LVD_LOG" >&2 2>/dev/null
                return 1
        fi
}

# Guests keep running when libvirtd stops: destroy them first, and kill
# what is left by its pid file.
lvd_stop() {
        local i dom f p

        [ -n "$LVD_PID" ] || return 0
        for dom in $(timeout 20 virsh -q -c "$LVD_URI" list --name 2>/dev/null); do
                timeout 20 virsh -q -c "$LVD_URI" destroy "$dom" >/dev/null 2>&1
        done
        # (driver.pid there is libvirtd's own: check the executable.)
        for f in /run/libvirt/qemu/*.pid; do
                [ -f "$f" ] || continue
                p=$(cat "$f")
                case $(readlink "/proc/$p/exe" 2>/dev/null) in
                */qemu-system-*) kill -KILL "$p" 2>/dev/null ;;
                esac
        done
        kill -TERM "$LVD_PID" 2>/dev/null
        for i in $(seq 100); do
                kill -0 "$LVD_PID" 2>/dev/null || break
                sleep 0.1
        done
        if kill -0 "$LVD_PID" 2>/dev/null; then
                echo "libvirtd-ns: libvirtd still runs 10 s after SIGTERM; killing it" >&2
                kill -KILL "$LVD_PID" 2>/dev/null
        fi
        wait "$LVD_PID" 2>/dev/null
        LVD_PID=
}

# Stops libvirtd only (its guests keep running, as with a package upgrade)
# and starts it again.
lvd_restart() {
        local i

        kill -TERM "$LVD_PID" 2>/dev/null
        for i in $(seq 100); do
                kill -0 "$LVD_PID" 2>/dev/null || break
                sleep 0.1
        done
        wait "$LVD_PID" 2>/dev/null
        LVD_PID=
        lvd_run
}

lvd_virsh() {
        timeout 60 virsh -q -c "$LVD_URI" "$@"
}
