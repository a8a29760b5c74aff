# Build the busybox guest root for one run (bash; sourced).
# Every function works on $ROOT; libraries to pull in are collected in
# $ROOT_LIBS (a file) and copied once by rootfs_copy_libs.
# shellcheck shell=bash

# Guest layout is Debian's merged /usr, so paths reported by the host's
# ldd (/lib/x86_64-linux-gnu/...) and by packages land where they would on
# a real system.
rootfs_skeleton() {
        local d
        mkdir -p "$ROOT"/usr/bin "$ROOT"/usr/sbin "$ROOT"/usr/lib/x86_64-linux-gnu "$ROOT"/usr/lib64
        ln -s usr/bin "$ROOT/bin"
        ln -s usr/sbin "$ROOT/sbin"
        ln -s usr/lib "$ROOT/lib"
        ln -s usr/lib64 "$ROOT/lib64"
        for d in vm/script usr/local/bin usr/local/sbin; do
                mkdir -p "$ROOT/$d"
        done
        : >"$ROOT_LIBS"
}

rootfs_init() {
        local d l
        rootfs_skeleton
        for d in dev proc sys run tmp share root etc/dbus-1 home/tester var/lib/dbus var/log var/tmp \
                 var/cache mnt newroot usr/share/dbus-1; do
                mkdir -p "$ROOT/$d"
        done
        ln -s ../run "$ROOT/var/run"
        ln -s ../run/lock "$ROOT/var/lock"
        chmod 1777 "$ROOT/tmp" "$ROOT/var/tmp"
        chmod 0700 "$ROOT/root"

        cp /bin/busybox "$ROOT/usr/bin/busybox"
        # --list-full gives each applet's usual path. It includes busybox
        # itself: never link it over the real binary.
        while read -r l; do
                case $l in */busybox|"") continue ;; esac
                [ -e "$ROOT/$l" ] || [ -L "$ROOT/$l" ] || ln -s /usr/bin/busybox "$ROOT/$l"
        done < <(/bin/busybox --list-full)
        # /bin/sh is dash, as on Debian: busybox's ash runs its own applets
        # before anything in PATH, so a script calling `modprobe` or `ip`
        # would never reach the real tools copied in. bash is there too, and
        # util-linux's setpriv for running as another user (t_as).
        rootfs_add_bin /usr/bin/dash
        rm -f "$ROOT/usr/bin/sh"
        ln -s dash "$ROOT/usr/bin/sh"
        rootfs_add_bin /usr/bin/bash
        rootfs_add_bin /usr/bin/setpriv
}

# Queue the shared libraries of ELF files for copying. Extra library
# folders (a stage's libdir) go in $VM_LDPATH; libraries found there are
# already in the guest and are not queued.
rootfs_queue_libs() {
        local f out line
        for f in "$@"; do
                out=$(LD_LIBRARY_PATH=${VM_LDPATH:-} ldd "$f" 2>/dev/null) || continue
                while IFS= read -r line; do
                        case $line in
                        *"=> not found"*)
                                vm_die "$f: needs ${line%% =>*} (ldd: not found); add it with --bin/--file or install it on the host" ;;
                        *"=> /"*)
                                line=${line#*=> }
                                line=${line%% (*} ;;
                        [[:space:]]/*)
                                line=${line#"${line%%[![:space:]]*}"}
                                line=${line%% (*} ;;
                        *) continue ;;
                        esac
                        if [ -n "${VM_STAGE:-}" ] && [ "${line#"$VM_STAGE"/}" != "$line" ]; then
                                continue
                        fi
                        printf '%s\n' "$line" >>"$ROOT_LIBS"
                done <<<"$out"
        done
}

# ROOT_SKIP, if set, is a sorted list of the files the target root already
# has (the --full image): those libraries are not copied again.
rootfs_copy_libs() {
        local lib dst canon
        sort -u "$ROOT_LIBS" | while IFS= read -r lib; do
                if [ -n "${ROOT_SKIP:-}" ]; then
                        case $lib in
                        /lib/*|/lib64/*|/bin/*|/sbin/*) canon=/usr$lib ;;
                        *) canon=$lib ;;
                        esac
                        grep -qxF -e "$canon" -e "$lib" "$ROOT_SKIP" && continue
                fi
                dst=$ROOT$lib
                [ -e "$dst" ] && ! [ -L "$dst" ] && continue
                mkdir -p "$(dirname "$dst")"
                rm -f "$dst"
                cp -L --preserve=mode "$lib" "$dst" || vm_die "cannot copy library $lib"
        done
}

rootfs_is_elf() {
        [ "$(head -c 4 "$1" 2>/dev/null | od -An -c | tr -d ' \n')" = '177ELF' ]
}

# Copy a host executable to the same path (or $2) with its libraries. A
# busybox applet link at that path is replaced, not written through.
rootfs_add_bin() {
        local src=$1 dst=${2:-} real
        case $src in
        */*) ;;
        *) src=$(command -v "$src") || vm_die "--bin $1: not found in PATH" ;;
        esac
        [ -e "$src" ] || vm_die "--bin $src: no such file"
        real=$(readlink -f "$src")
        dst=${dst:-$src}
        mkdir -p "$(dirname "$ROOT$dst")"
        rm -f "$ROOT$dst"
        cp --preserve=mode,ownership "$real" "$ROOT$dst" || vm_die "cannot copy $src"
        rootfs_is_elf "$real" && rootfs_queue_libs "$real"
        return 0
}

# Real kmod (modprobe from busybox does not read modules.softdep etc.).
rootfs_add_kmod_tools() {
        local t
        rootfs_add_bin /usr/bin/kmod /usr/bin/kmod
        for t in modprobe insmod rmmod lsmod modinfo depmod; do
                rm -f "$ROOT/usr/sbin/$t" "$ROOT/usr/bin/$t"
                ln -s ../bin/kmod "$ROOT/usr/sbin/$t"
        done
        ln -s ../sbin/lsmod "$ROOT/usr/bin/lsmod"
}

# Copy a folder's contents over the root. --keep-directory-symlink keeps
# /lib -> usr/lib etc.; files replace busybox links instead of following them.
rootfs_merge_tree() {
        local src=$1 dst=${2:-/}
        mkdir -p "$ROOT$dst"
        tar -C "$src" -cf - . | tar -C "$ROOT$dst" -xf - --keep-directory-symlink ||
                vm_die "cannot copy $src into the guest at $dst"
}

# A `make install DESTDIR=...` tree: copy it, and the libraries of every
# ELF file in it (resolving the stage's own libraries inside the stage).
rootfs_add_stage() {
        local stage f d ldpath=""
        stage=$(cd "$1" && pwd -P) || vm_die "--stage $1: no such folder"
        rootfs_merge_tree "$stage" /
        while IFS= read -r d; do
                ldpath+="${ldpath:+:}$d"
        done < <(find "$stage" \( -name '*.so' -o -name '*.so.*' \) -printf '%h\n' | sort -u)
        while IFS= read -r -d '' f; do
                rootfs_is_elf "$f" || continue
                VM_STAGE=$stage VM_LDPATH=$ldpath rootfs_queue_libs "$f"
        done < <(find "$stage" -type f -print0)
}

# --file SRC[:DST]; DST defaults to SRC's absolute path; a DST ending in /
# is a folder to put SRC into.
rootfs_add_file() {
        local spec=$1 src dst
        src=${spec%%:*}
        dst=${spec#*:}
        [ "$dst" = "$spec" ] && dst=""
        [ -e "$src" ] || vm_die "--file $src: no such file or folder"
        src=$(readlink -f "$src")
        [ -n "$dst" ] || dst=$src
        case $dst in
        /*) ;;
        *) vm_die "--file $spec: destination must be an absolute guest path" ;;
        esac
        case $dst in */) dst=$dst$(basename "$src") ;; esac
        case $dst in
        /tmp|/tmp/*|/run|/run/*|/dev|/dev/*|/proc|/proc/*|/sys|/sys/*|/share|/share/*)
                vm_die "--file $spec: $dst would be hidden by a mount in the guest; give another destination (--file $src:/opt/...)" ;;
        esac
        if [ -d "$src" ]; then
                rootfs_merge_tree "$src" "$dst"
        else
                mkdir -p "$(dirname "$ROOT$dst")"
                rm -f "$ROOT$dst"
                cp --preserve=mode "$src" "$ROOT$dst" || vm_die "cannot copy $src"
        fi
}

# Bundled .ko files into extra/ after checking they fit the guest kernel.
# Their dependencies go to KMOD_DEPS, their names to KMOD_NAMES.
rootfs_add_kmods() {
        local f name vm dep mdir=lib/modules/$KVER
        KMOD_DEPS="" KMOD_NAMES=""
        mkdir -p "$ROOT/$mdir/extra"
        for f in $1; do
                [ -f "$f" ] || vm_die "--kmod $f: no such file"
                name=$(modinfo -F name "$f" 2>/dev/null) || vm_die "--kmod $f: not a kernel module"
                [ -n "$name" ] || name=$(basename "$f" .ko)
                vm=$(modinfo -F vermagic "$f")
                case "$vm" in
                "$KVER "*) ;;
                *) vm_die "--kmod $f: built for '${vm%% *}', the guest kernel is $KVER (build it against /usr/src/linux-headers-$KVER)" ;;
                esac
                cp "$f" "$ROOT/$mdir/extra/$name.ko"
                KMOD_NAMES+=" $name"
                for dep in $(modinfo -F depends "$f" | tr ',' ' '); do
                        KMOD_DEPS+=" $dep"
                done
        done
}

# Debian modules (with dependencies and soft dependencies) plus bundled
# .ko files in extra/, then depmod the guest tree.
rootfs_add_modules() {
        local mods="$2" m f out mdir=lib/modules/$KVER
        rootfs_add_kmods "$1"
        for m in $mods $KMOD_DEPS; do
                case " $KMOD_NAMES " in *" $m "*) continue ;; esac
                out=$(modprobe -d "$KROOT" -S "$KVER" --show-depends "$m" 2>&1) ||
                        vm_die "module '$m' not found in the guest kernel $KVER: $out"
                while read -r f; do
                        [ -n "$f" ] || continue
                        mkdir -p "$ROOT/$(dirname "${f#"$KROOT"/}")"
                        cp "$f" "$ROOT/${f#"$KROOT"/}"
                done < <(printf '%s\n' "$out" | awk '$1 == "insmod" { print $2 }')
        done
        for f in modules.builtin modules.builtin.modinfo modules.order; do
                [ -f "$KROOT/$mdir/$f" ] && cp "$KROOT/$mdir/$f" "$ROOT/$mdir/$f"
        done
        depmod -b "$ROOT" "$KVER" || vm_die "depmod failed for the guest module tree"
}

# The guest script, guest-lib.sh, the run phase and the run's settings.
# Uses vm-run's SCRIPT, SCRIPT_ARGS, VM_LOAD_LIST, DMESG, GUEST_TIMEOUT.
rootfs_add_vm_files() {
        local name
        name=$(basename "$SCRIPT")
        mkdir -p "$ROOT/vm/script"
        cp "$VM_DIR/guest-lib.sh" "$ROOT/vm/guest-lib.sh"
        cp "$VM_DIR/lib/guest-run.sh" "$ROOT/vm/guest-run.sh"
        cp "$SCRIPT" "$ROOT/vm/script/$name"
        cat >"$ROOT/vm/config" <<EOF
VM_SCRIPT=$(vm_shquote "/vm/script/$name")
VM_ARGS=$(vm_shquote "$(vm_shquote "${SCRIPT_ARGS[@]+"${SCRIPT_ARGS[@]}"}")")
VM_LOAD=$(vm_shquote "$VM_LOAD_LIST")
VM_DMESG=$DMESG
VM_DMESG_LINES=60
VM_GUEST_TIMEOUT=$GUEST_TIMEOUT
VM_DEPMOD=$([ -n "$KMOD_NAMES" ] && echo 1 || echo 0)
KVER=$(vm_shquote "$KVER")
EOF
}

rootfs_etc() {
        local mb_uid mb_gid
        # Match the host's messagebus ids: staged files (the dbus launch
        # helper) keep the host's numeric owners.
        mb_uid=$(getent passwd messagebus | cut -d: -f3)
        mb_gid=$(getent group messagebus | cut -d: -f3)
        mb_uid=${mb_uid:-100}
        mb_gid=${mb_gid:-101}
        cat >"$ROOT/etc/passwd" <<EOF
root:x:0:0:root:/root:/bin/sh
messagebus:x:$mb_uid:$mb_gid::/nonexistent:/usr/sbin/nologin
tester:x:1000:1000:tester:/home/tester:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
        cat >"$ROOT/etc/group" <<EOF
root:x:0:
tty:x:5:
messagebus:x:$mb_gid:
tester:x:1000:
nogroup:x:65534:
EOF
        printf 'root:*:19000:0:99999:7:::\nmessagebus:!:19000::::::\ntester:!:19000::::::\nnobody:!:19000::::::\n' >"$ROOT/etc/shadow"
        chmod 0640 "$ROOT/etc/shadow"
        chown 1000:1000 "$ROOT/home/tester" 2>/dev/null || true
        printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files\nservices: files\nprotocols: files\n' >"$ROOT/etc/nsswitch.conf"
        printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.1.1\tsiov-vm\n' >"$ROOT/etc/hosts"
        echo siov-vm >"$ROOT/etc/hostname"
        tr -d '-' </proc/sys/kernel/random/uuid >"$ROOT/etc/machine-id"
        ln -sf /etc/machine-id "$ROOT/var/lib/dbus/machine-id"
        if [ -f /usr/lib/os-release ]; then
                cp /usr/lib/os-release "$ROOT/usr/lib/os-release"
                ln -sf ../usr/lib/os-release "$ROOT/etc/os-release"
        fi
        printf '/usr/local/lib\n/usr/local/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n' >"$ROOT/etc/ld.so.conf"
}

# The system bus toolkit: daemon, clients, Debian's stock configuration and
# the activation helper (setuid root, group messagebus, as packaged).
rootfs_add_dbus() {
        local b
        for b in /usr/bin/dbus-daemon /usr/bin/dbus-send /usr/bin/busctl; do
                [ -x "$b" ] || vm_die "--dbus: $b missing on the host (apt-get install dbus systemd)"
                rootfs_add_bin "$b"
        done
        [ -x /usr/bin/dbus-monitor ] && rootfs_add_bin /usr/bin/dbus-monitor
        [ -x /usr/lib/dbus-1.0/dbus-daemon-launch-helper ] &&
                rootfs_add_bin /usr/lib/dbus-1.0/dbus-daemon-launch-helper
        for b in system.conf session.conf; do
                [ -f "/usr/share/dbus-1/$b" ] && cp "/usr/share/dbus-1/$b" "$ROOT/usr/share/dbus-1/$b"
        done
        mkdir -p "$ROOT/usr/share/dbus-1/system.d" "$ROOT/usr/share/dbus-1/system-services" \
                "$ROOT/etc/dbus-1/system.d"
}

# udev without systemd: the daemon, udevadm and Debian's rules (helpers
# such as ata_id and the hwdb are left out). t_udev_start runs it.
rootfs_add_udev() {
        [ -x /usr/lib/systemd/systemd-udevd ] || vm_die "--udev: /usr/lib/systemd/systemd-udevd missing on the host (apt-get install udev)"
        rootfs_add_bin /usr/lib/systemd/systemd-udevd
        rootfs_add_bin /usr/bin/udevadm
        mkdir -p "$ROOT/usr/lib/udev/rules.d" "$ROOT/etc/udev/rules.d"
        cp -a /usr/lib/udev/rules.d/. "$ROOT/usr/lib/udev/rules.d/"
        [ -f /etc/udev/udev.conf ] && cp /etc/udev/udev.conf "$ROOT/etc/udev/udev.conf"
        return 0
}

rootfs_finish() {
        rootfs_copy_libs
        # A loader cache, so libraries under /usr/local or a stage's libdir
        # resolve like on an installed system.
        ldconfig -r "$ROOT" 2>/dev/null || ldconfig -r "$ROOT" -X 2>/dev/null ||
                vm_warn "ldconfig -r failed: the guest has no /etc/ld.so.cache"
}

# Uncompressed newc cpio: under TCG the kernel's gunzip costs more than
# copying a few more MB into guest RAM.
rootfs_cpio() {
        local out=$1 owner=()
        [ "$(id -u)" = 0 ] || owner=(--owner 0:0)
        (cd "$ROOT" && find . -print0 | cpio --null -o -H newc --quiet "${owner[@]}") >"$out" ||
                vm_die "cpio failed"
}
