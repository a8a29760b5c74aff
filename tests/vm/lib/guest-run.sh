# The run phase of a test guest (POSIX sh): sourced by the busybox /init
# after it mounted the API file systems, or run by siov-vm-test.service in
# the full Debian guest. Loads pvpanic, mounts the 9p share, loads
# vfio/mdev, runs the guest script under a watchdog, checks the kernel
# taint, prints the result lines and powers off. VM_POWEROFF comes from the
# caller; /vm/config holds the run's settings (written by tests/vm/vm-run).

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
. /vm/config

vm_finish() {
        sync
        # Only emergency messages (a panic) may interleave with the marker.
        dmesg -n 1
        # Counts from guest-lib's results file: the host trusts these over
        # console lines a kernel message may have broken up.
        if [ -f /tmp/guest-lib.results ]; then
                echo "SIOV-VM-TESTS passed=$(grep -c '^P$' /tmp/guest-lib.results) failed=$(grep -c '^F$' /tmp/guest-lib.results)"
        fi
        echo "SIOV-VM-RESULT rc=$1"
        umount /share 2>/dev/null
        $VM_POWEROFF
        sleep 60
}

vm_error() {
        echo "vm-init: ERROR: $*"
        dmesg | tail -n 30
        vm_finish 125
}

# pvpanic turns a guest panic into a failing QEMU exit status.
modprobe pvpanic_mmio || vm_error "cannot load pvpanic_mmio"
[ -n "$(ls /sys/bus/platform/drivers/pvpanic-mmio/ 2>/dev/null | grep -v -e bind -e uevent)" ] ||
        vm_error "pvpanic device not bound: guest panics would look like a clean poweroff"

mkdir -p /share
modprobe -a virtio_pci 9pnet_virtio 9p || vm_error "cannot load the 9p modules"
# The virtio transport registers the tag asynchronously; mounting before
# that fails with "no channels available".
i=0
until cat /sys/bus/virtio/drivers/9pnet_virtio/virtio*/mount_tag 2>/dev/null | grep -q share; do
        i=$((i + 1))
        [ $i -le 200 ] || vm_error "9p channel 'share' did not appear within 20 s"
        sleep 0.1
done
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 share /share ||
        vm_error "cannot mount the 9p share at /share"

modprobe -a $VM_LOAD || vm_error "cannot load modules: $VM_LOAD"
for m in $VM_LOAD; do
        [ -d "/sys/module/$m" ] || vm_error "module $m did not load"
done

# Flags that mean the kernel misbehaved during the test: B bad page (32),
# D oops (128), W warning (512), L soft lockup (16384).
taint0=$(cat /proc/sys/kernel/tainted)

export SIOV_VM=1 VM_LIB=/vm/guest-lib.sh KVER
# Results file of guest-lib.sh, writable by t_as users too.
: >/tmp/guest-lib.results
chmod 0666 /tmp/guest-lib.results
cd /share || vm_error "cannot cd /share"
eval "set -- $VM_ARGS"
/bin/sh "$VM_SCRIPT" "$@" </dev/null &
spid=$!
# A watchdog below the host's timeout, so a hung test still gets its
# dmesg printed and a clear verdict.
wpid=""
if [ "$VM_GUEST_TIMEOUT" -gt 0 ]; then
        (sleep "$VM_GUEST_TIMEOUT"; : >/run/vm-timeout; kill -TERM "$spid") &
        wpid=$!
fi
wait "$spid"
rc=$?
[ -n "$wpid" ] && kill "$wpid" 2>/dev/null
cd /
if [ -e /run/vm-timeout ]; then
        echo "vm-init: TIMEOUT: the guest script was still running after ${VM_GUEST_TIMEOUT}s"
        echo "---- guest processes at the timeout ----"
        ps -o pid,user,args | grep -v ' \[.*\]$'
        rc=124
fi
# Stop what the test left running (daemons, sleeps) so nothing prints
# into the result lines. Under systemd only this unit's cgroup: the rest of
# the system is not the test's.
if [ "${VM_KILL_SCOPE:-all}" = cgroup ]; then
        cg=/sys/fs/cgroup$(sed -n 's/^0:://p' /proc/self/cgroup)
        for sig in TERM KILL; do
                for p in $(cat "$cg/cgroup.procs"); do
                        [ "$p" = $$ ] || kill -$sig "$p" 2>/dev/null
                done
                [ $sig = TERM ] && sleep 0.3
        done
else
        kill -TERM -1 2>/dev/null
        sleep 0.3
        kill -KILL -1 2>/dev/null
fi

taint1=$(cat /proc/sys/kernel/tainted)
bad=$(( (taint1 & ~taint0) & (32 | 128 | 512 | 16384) ))
if [ "$bad" -ne 0 ]; then
        echo "FAIL: vm-init: kernel taint flags $bad appeared during the test (WARN/oops/bad page/soft lockup)"
        echo F >>/tmp/guest-lib.results
fi
if [ "$rc" -ne 0 ] || [ "$bad" -ne 0 ] || [ "$VM_DMESG" = 1 ]; then
        echo "---- guest dmesg (last ${VM_DMESG_LINES} lines) ----"
        dmesg | tail -n "$VM_DMESG_LINES"
        echo "---- end of guest dmesg ----"
fi
vm_finish "$rc"
