# --full: a real Debian guest (systemd, udev, dbus) for provisioning tests
# (bash; sourced by vm-run).
#
# A debootstrap'ed bookworm with the guest kernel's modules, as an ext4
# image cached by the versions that went into it. Each run boots it with
# QEMU's snapshot=on (the image is never written) through a small busybox
# initramfs that copies the run's overlay (stage, script, modules...) into
# the root, then switch_roots to systemd. siov-vm-test.service runs the same
# guest-run.sh as the busybox guest, so the result protocol is identical.
# shellcheck shell=bash

FULL_SUITE=bookworm
FULL_PACKAGES="systemd,systemd-sysv,udev,dbus,kmod,iproute2,procps,polkitd,libpam-systemd${SIOV_VM_FULL_PACKAGES:+,$SIOV_VM_FULL_PACKAGES}"

full_unmount_under() {
        local d=$1 m
        # Deepest first; debootstrap leaves proc/sys mounted when killed.
        awk -v d="$d/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r |
                while read -r m; do umount -l "$m" 2>/dev/null || true; done
}

full_mirror() {
        local m=${SIOV_VM_MIRROR:-}
        if [ -z "$m" ]; then
                m=$(grep -rhoE '^(deb|URIs:)[[:space:]]+(\[[^]]*\][[:space:]]+)?https?://[^[:space:]]+/debian/?([[:space:]]|$)' \
                        /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null |
                        grep -oE 'https?://[^[:space:]]+/debian/?' | head -n 1)
        fi
        printf '%s' "${m:-http://deb.debian.org/debian}"
}

# What the image gets on top of debootstrap (hashed into the cache key).
full_image_config() {
        local r=$1 u
        # The guest kernel's modules, so udev can autoload drivers.
        mkdir -p "$r/usr/lib/modules"
        cp -a "$KROOT/lib/modules/$KVER" "$r/usr/lib/modules/$KVER"

        echo siov-vm >"$r/etc/hostname"
        printf '127.0.0.1\tlocalhost\n127.0.1.1\tsiov-vm\n::1\tlocalhost\n' >"$r/etc/hosts"
        # A fixed machine-id: an empty one would make this a first boot
        # (systemd-firstboot prompting on the console).
        tr -d '-' </proc/sys/kernel/random/uuid >"$r/etc/machine-id"
        : >"$r/etc/fstab"
        chroot "$r" useradd -m -u 1000 -s /bin/sh tester
        # Nothing may compete for the serial console or start timed jobs.
        for u in serial-getty@.service getty@.service apt-daily.timer apt-daily-upgrade.timer \
                 e2scrub_all.timer e2scrub_reap.service fstrim.timer dpkg-db-backup.timer; do
                ln -sf /dev/null "$r/etc/systemd/system/$u"
        done
}

# Sets FULL_IMG and FULL_FILES (the image's file list, so per-run library
# copying can skip what the image already has).
full_prepare() {
        local cache key dir tmp t0 r mirror pv
        vm_need_cmd debootstrap mkfs.ext4 chroot sha256sum
        [ "$(id -u)" = 0 ] || vm_die "--full builds its image with debootstrap: run as root"
        cache=$(vm_cache_dir)
        # Host versions of the core packages stand for the guest's (same
        # release and archive); so does the code that configures the image.
        pv=$(dpkg-query -W -f='${Package}=${Version}\n' systemd udev dbus kmod iproute2 2>/dev/null | sort | tr '\n' ' ')
        key=$(printf '%s\n' "$FULL_SUITE" "$FULL_PACKAGES" "$KVER" "$KPKGVER" "$pv" \
                "$(declare -f full_image_config | sha256sum | cut -d' ' -f1)" | sha256sum | cut -c1-16)
        dir=$cache/full/$FULL_SUITE-$KVER-$key
        FULL_IMG=$dir/root.img
        FULL_FILES=$dir/files.list
        [ -e "$dir/.ok" ] && return 0

        mkdir -p "$cache/full"
        exec {FLOCK}>"$cache/full/.lock"
        flock "$FLOCK"
        if [ -e "$dir/.ok" ]; then
                exec {FLOCK}>&-
                return 0
        fi
        for tmp in "$cache/full"/.tmp.*; do
                [ -e "$tmp" ] || continue
                full_unmount_under "$tmp"
                rm -rf --one-file-system "$tmp"
        done
        t0=$(vm_now)
        tmp=$(mktemp -d "$cache/full/.tmp.XXXXXX")
        r=$tmp/root
        mirror=$(full_mirror)
        vm_log "--full: building the Debian guest image (debootstrap $FULL_SUITE from $mirror, about a minute)"
        if ! debootstrap --variant=minbase --include="$FULL_PACKAGES" "$FULL_SUITE" "$r" "$mirror" \
                >"$tmp/debootstrap.log" 2>&1; then
                full_unmount_under "$tmp"
                tail -n 20 "$tmp/debootstrap.log" >&2
                grep -E '^(dpkg: |  ?[a-z].* depends on )' "$r/debootstrap/debootstrap.log" 2>/dev/null | sort -u | head -n 10 >&2
                rm -rf --one-file-system "$tmp"
                vm_die "--full: debootstrap failed (log above; SIOV_VM_MIRROR sets the mirror; debootstrap does not resolve virtual packages: name a provider in SIOV_VM_FULL_PACKAGES)"
        fi
        full_unmount_under "$tmp"

        full_image_config "$r"
        rm -rf "$r"/var/cache/apt/archives/*.deb "$r"/var/lib/apt/lists/* "$r"/var/log/*.log
        (cd "$r" && find . -xdev \( -type f -o -type l \) | sed 's/^\.//' | sort) >"$tmp/files.list"

        local mb
        mb=$(du -sm "$r" | cut -f1)
        # Room for what a test writes (the writes go to QEMU's snapshot).
        mkfs.ext4 -q -F -L siov-vm-root -d "$r" "$tmp/root.img" "$((mb + mb / 4 + 512))M" >/dev/null ||
                vm_die "--full: mkfs.ext4 -d failed"
        rm -rf --one-file-system "$r"
        printf '%s %s %s\n' "$FULL_SUITE" "$KVER" "$key" >"$tmp/.ok"
        chmod 0755 "$tmp"
        rm -rf "$dir"
        mv "$tmp" "$dir"
        exec {FLOCK}>&-
        vm_log "--full: image cached in $dir ($(( $(stat -c %s "$FULL_IMG") / 1024 / 1024 )) MiB) in $(vm_since "$t0")s"
}

# The initramfs: busybox, the modules to reach the disk, and the overlay.
# Called with ROOT = the initramfs root; builds ROOT/overlay.
full_build() {
        local iroot=$ROOT ilibs=$ROOT_LIBS b s f
        rootfs_init
        rootfs_add_kmod_tools
        rootfs_etc
        rootfs_add_modules "" "pvpanic_mmio virtio_pci virtio_blk ext4"
        rootfs_finish
        cp "$VM_DIR/lib/full-init.sh" "$iroot/init"
        chmod 0755 "$iroot/init"

        # The overlay: what this run adds to the image.
        ROOT=$iroot/overlay
        ROOT_LIBS=$WORK/overlay-libs.list
        ROOT_SKIP=$FULL_FILES
        rootfs_skeleton
        rootfs_add_kmods "${KMODS[*]:-}"
        for b in "${BINS[@]:+${BINS[@]}}"; do rootfs_add_bin "$b"; done
        for s in "${STAGES[@]:+${STAGES[@]}}"; do rootfs_add_stage "$s"; done
        for f in "${FILES[@]:+${FILES[@]}}"; do rootfs_add_file "$f"; done
        rootfs_add_vm_files
        # The unit that runs the test, after everything else has started.
        mkdir -p "$ROOT/etc/systemd/system/multi-user.target.wants"
        cat >"$ROOT/etc/systemd/system/siov-vm-test.service" <<'EOF'
[Unit]
Description=tests/vm guest script
After=multi-user.target

[Service]
Type=oneshot
StandardInput=null
StandardOutput=tty
StandardError=inherit
TTYPath=/dev/ttyS0
Environment=VM_POWEROFF="systemctl poweroff -ff" VM_KILL_SCOPE=cgroup
ExecStart=/bin/sh -c '. /vm/guest-run.sh'

[Install]
WantedBy=multi-user.target
EOF
        ln -s ../siov-vm-test.service "$ROOT/etc/systemd/system/multi-user.target.wants/siov-vm-test.service"
        # -cpu max offers SVM/VMX and P-states: udev would load kvm and
        # cpufreq drivers that only cost boot time under TCG.
        mkdir -p "$ROOT/etc/modprobe.d"
        printf 'blacklist %s\n' kvm kvm_amd kvm_intel powernow_k8 acpi_cpufreq >"$ROOT/etc/modprobe.d/siov-vm.conf"
        rootfs_copy_libs
        unset ROOT_SKIP
        ROOT=$iroot
        ROOT_LIBS=$ilibs
        # The initramfs's /init needs KVER and whether to run depmod.
        cp "$ROOT/overlay/vm/config" "$ROOT/vm/config"
}

full_qemu_args() {
        QEMU+=(-drive "file=$FULL_IMG,if=virtio,format=raw,snapshot=on")
}
