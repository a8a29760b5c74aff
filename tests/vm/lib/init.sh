#!/bin/sh
# PID 1 of the busybox test guest (copied to /init by tests/vm/vm-run):
# mounts the API file systems and sets up the machine, then
# /vm/guest-run.sh (shared with the full Debian guest) runs the test.

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C TERM=dumb

mount -t devtmpfs -o mode=0755,nosuid devtmpfs /dev
# The initramfs has no /dev/console node: take the console after devtmpfs.
exec </dev/console >/dev/console 2>&1

mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=0620,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs -o nosuid,nodev tmpfs /dev/shm
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
mkdir -p /run/dbus /run/lock /run/user
hostname siov-vm
ip link set lo up

VM_POWEROFF="poweroff -f"
. /vm/guest-run.sh
