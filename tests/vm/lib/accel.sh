# Accelerator choice (bash; sourced by vm-run). Sets ACCEL (QEMU args).
#
# TCG always works. KVM is used only when a real kvm_intel/kvm_amd is loaded
# AND a trial boot with it prints a marker: on some hosts /dev/kvm is a
# software nested virtualizer (kvm_pvm) that aborts or hangs these guests
# (notes/vm-testing.md). The trial's verdict is cached per host boot.
# SIOV_VM_ACCEL: auto (default), tcg, or kvm (fail if the trial fails).
# shellcheck shell=bash

accel_trial() {
        local dir=$1 l
        mkdir -p "$dir/root/usr/bin"
        for l in bin sbin; do ln -s usr/bin "$dir/root/$l"; done
        mkdir -p "$dir/root/dev" "$dir/root/proc"
        cp /bin/busybox "$dir/root/usr/bin/busybox"
        ln -s busybox "$dir/root/usr/bin/sh"
        printf '#!/bin/sh\n/bin/busybox mount -t devtmpfs devtmpfs /dev\nexec >/dev/console 2>&1\necho SIOV-VM-KVM-OK\n/bin/busybox poweroff -f\n' >"$dir/root/init"
        chmod 0755 "$dir/root/init"
        (cd "$dir/root" && find . -print0 | cpio --null -o -H newc --quiet) >"$dir/trial.cpio"
        timeout --foreground -k 2 20 qemu-system-x86_64 -accel kvm -cpu host -M q35 -m 256 -smp 1 \
                -nodefaults -no-reboot -display none -serial stdio \
                -kernel "$VMLINUX" -initrd "$dir/trial.cpio" \
                -append "console=ttyS0 panic=-1 quiet" </dev/null 2>/dev/null |
                grep -q '^SIOV-VM-KVM-OK'
}

accel_choose() {
        local mode=${SIOV_VM_ACCEL:-auto} cache stamp boot
        ACCEL=(-accel tcg -cpu max)
        case $mode in
        tcg) return 0 ;;
        auto|kvm) ;;
        *) vm_die "SIOV_VM_ACCEL must be auto, tcg or kvm (got '$mode')" ;;
        esac
        if ! { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; } || ! [ -w /dev/kvm ]; then
                [ "$mode" = kvm ] && vm_die "SIOV_VM_ACCEL=kvm: no kvm_intel/kvm_amd module or /dev/kvm not writable"
                return 0
        fi
        cache=$(vm_cache_dir)
        boot=$(cat /proc/sys/kernel/random/boot_id)
        stamp=$cache/kvm-trial.$boot
        if ! [ -e "$stamp" ]; then
                rm -f "$cache"/kvm-trial.*
                if accel_trial "$WORK/kvm-trial"; then
                        echo ok >"$stamp"
                else
                        echo failed >"$stamp"
                fi
        fi
        if [ "$(cat "$stamp")" = ok ]; then
                ACCEL=(-accel kvm -cpu host)
        elif [ "$mode" = kvm ]; then
                vm_die "SIOV_VM_ACCEL=kvm: a trial boot with KVM did not reach userspace"
        else
                vm_log "KVM present but a trial boot failed: using TCG"
        fi
}
