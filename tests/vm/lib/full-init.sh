#!/bin/sh
# PID 1 of the --full initramfs: mount the cached Debian image (QEMU keeps
# it read-only with snapshot=on), copy this run's overlay into it, and hand
# over to systemd. siov-vm-test.service in the image then runs
# /vm/guest-run.sh, which prints the result marker and powers off.

export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t devtmpfs -o mode=0755,nosuid devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
. /vm/config

fail() {
        echo "vm-init: ERROR: $*"
        dmesg | tail -n 30
        echo "SIOV-VM-RESULT rc=125"
        poweroff -f
        sleep 60
}

# pvpanic first, so a panic while systemd boots fails the run too.
modprobe pvpanic_mmio || fail "cannot load pvpanic_mmio"
modprobe -a virtio_pci virtio_blk ext4 || fail "cannot load the disk modules"
i=0
until [ -b /dev/vda ]; do
        i=$((i + 1))
        [ $i -le 200 ] || fail "the image disk /dev/vda did not appear within 20 s"
        sleep 0.1
done
mount -t ext4 -o rw /dev/vda /newroot || fail "cannot mount the image"

# Copy with the image's GNU tar: it keeps the image's /lib -> usr/lib
# links (the overlay has the same links; they are not copied).
mkdir -p /newroot/run/vm-overlay
mount --bind /overlay /newroot/run/vm-overlay || fail "cannot bind the overlay"
chroot /newroot tar -C /run/vm-overlay -cf - --exclude=./bin --exclude=./sbin --exclude=./lib --exclude=./lib64 . |
        chroot /newroot tar -C / -xf - --keep-directory-symlink ||
        fail "cannot copy the overlay into the image"
umount /newroot/run/vm-overlay
rmdir /newroot/run/vm-overlay
if [ "$VM_DEPMOD" = 1 ]; then
        chroot /newroot depmod -a "$KVER" || fail "depmod in the image failed"
fi
chroot /newroot ldconfig

mount --move /dev /newroot/dev
mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
exec switch_root /newroot /sbin/init
