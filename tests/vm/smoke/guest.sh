# Harness smoke test, run inside the guest by tests/vm/smoke/run:
#   guest.sh [full] [kmod] [sriov] [dbus] [udev] [stage] [args ARG...]
# Each word enables the checks for a vm-run feature the host turned on
# ("full": the systemd guest of vm-run --full instead of busybox).
. "$VM_LIB"

want_full=0 want_kmod=0 want_sriov=0 want_dbus=0 want_udev=0 want_stage=0
while [ $# -gt 0 ]; do
        case $1 in
        full) want_full=1 ;;
        kmod) want_kmod=1 ;;
        sriov) want_sriov=1 ;;
        dbus) want_dbus=1 ;;
        udev) want_udev=1 ;;
        stage) want_stage=1 ;;
        args) shift; break ;;
        *) t_fail "smoke: arguments" "unknown word '$1'" ;;
        esac
        shift
done

# --- the machine -----------------------------------------------------------
t_match "kernel is Debian 6.1" '^6\.1\.' "$(uname -r)"
t_eq "KVER exported" "$(uname -r)" "$KVER"
t_eq "cwd is /share" /share "$(pwd)"
t_check "running as root" test "$(id -u)" = 0
t_check "pvpanic bound" test -e /sys/bus/platform/drivers/pvpanic-mmio/QEMU0001:00
for m in vfio vfio_iommu_type1 mdev 9p; do
        t_check "module $m loaded" test -d "/sys/module/$m"
done
t_check "/dev/vfio/vfio exists" test -c /dev/vfio/vfio
t_check "mdev bus registered" test -d /sys/bus/mdev
t_check "loopback up" sh -c 'ip link show lo | grep -q "UP"'
t_check "127.0.0.1 on lo" sh -c 'ip -o addr show dev lo | grep -q "inet 127.0.0.1/8"'
t_match "machine-id" '^[0-9a-f]{32}$' "$(cat /etc/machine-id)"
t_check "/run is tmpfs" sh -c 'grep -q " /run tmpfs" /proc/mounts'
if [ "$want_full" = 1 ]; then
        t_eq "PID 1 is systemd" systemd "$(cat /proc/1/comm)"
        t_check "systemd-udevd runs" sh -c 'pgrep -x systemd-udevd >/dev/null'
        t_eq "multi-user.target reached" active "$(systemctl is-active multi-user.target 2>&1)"
        t_check "test unit is ours" sh -c 'grep -q siov-vm-test.service /proc/self/cgroup'
        t_check "udev autoloaded virtio_blk" test -d /sys/module/virtio_blk
else
        t_eq "PID 1 is the harness init" "/bin/sh /init" "$(tr '\0' ' ' </proc/1/cmdline | sed 's/ $//')"
        t_check "ping 127.0.0.1" ping -c 1 -W 2 127.0.0.1
        t_check "/tmp is tmpfs" sh -c 'grep -q " /tmp tmpfs" /proc/mounts'
fi
t_check "real modprobe (kmod)" sh -c 'modprobe --version | grep -q kmod'
t_check "builtin module is a no-op" modprobe unix
t_eq "users: messagebus, tester, nobody" "3" "$(grep -cE '^(messagebus|tester|nobody):' /etc/passwd)"
t_eq "t_as tester: uid" 1000 "$(t_as tester id -u)"
t_eq "t_as tester: HOME" /home/tester "$(t_as tester sh -c 'echo $HOME')"
t_check_fails "tester cannot write /root" t_as tester touch /root/x

# --- the 9p share ----------------------------------------------------------
t_check "share is 9p" sh -c 'grep -q "^share /share 9p" /proc/mounts'
t_check "share writable" sh -c 'echo smoke-ok >/share/smoke-result.txt'
t_eq "share read back" smoke-ok "$(cat /share/smoke-result.txt)"

# --- guest-lib self-checks (results inside subshells still count) ----------
( t_pass "guest-lib: result from a subshell" )
t_check "guest-lib: t_wait_for succeeds" t_wait_for 2 true
start=$(date +%s)
t_check_fails "guest-lib: t_wait_for times out" t_wait_for 1 false
t_check "guest-lib: t_wait_for waited ~1 s" test $(( $(date +%s) - start )) -le 3
t_check_fails "guest-lib: t_eq fails on a difference" sh -c '. "$VM_LIB"; T_RESULTS=/tmp/scratch t_eq x a b >/dev/null'

if [ $# -gt 0 ]; then
        t_eq "arguments survive quoting" "a|b c|d'e|\$HOME" "$1|$2|$3|$4"
fi

# --- --udev: udevd without systemd (or the --full guest's) -------------------
if [ "$want_udev" = 1 ]; then
        t_check "udev running and settled" t_udev_start
        t_check "udev database has lo" sh -c 'udevadm info /sys/class/net/lo | grep -q "E: INTERFACE=lo"'
fi

# --- --kmod: the harness's own mdev parent ----------------------------------
if [ "$want_kmod" = 1 ]; then
        if [ "$want_udev" = 1 ]; then
                udevadm monitor --udev --property --subsystem-match=platform >/tmp/smoke-udev.log 2>&1 &
                mon=$!
                sleep 0.5
        fi
        t_check "modprobe siov_vm_smoke" modprobe siov_vm_smoke
        if [ "$want_udev" = 1 ]; then
                t_check "udev saw the mdev core's MDEV_STATE=registered change" \
                        t_wait_for 10 grep -q '^MDEV_STATE=registered' /tmp/smoke-udev.log
                kill "$mon"
        fi
        t_check "dependency mdev resolved by depmod" sh -c 'modinfo -F depends siov_vm_smoke | grep -qx mdev'
        T=/sys/class/mdev_bus/siov_vm_smoke/mdev_supported_types/platform-smoke
        t_check "mdev parent in /sys/class/mdev_bus" test -d "$T"
        t_eq "device_api" vfio-pci "$(cat "$T/device_api" 2>&1)"
        t_eq "available_instances at start" 2 "$(cat "$T/available_instances" 2>&1)"
        u1=8e3f5b1e-0c1d-4a4e-9d7e-000000000001
        u2=8e3f5b1e-0c1d-4a4e-9d7e-000000000002
        u3=8e3f5b1e-0c1d-4a4e-9d7e-000000000003
        t_check "create mdev 1" sh -c "echo $u1 >$T/create"
        t_check "mdev 1 on the mdev bus" test -d "/sys/bus/mdev/devices/$u1"
        t_check "create mdev 2" sh -c "echo $u2 >$T/create"
        t_eq "available_instances when full" 0 "$(cat "$T/available_instances")"
        t_check_fails "create beyond capacity refused" sh -c "echo $u3 >$T/create"
        t_check "remove mdev 1" sh -c "echo 1 >/sys/bus/mdev/devices/$u1/remove"
        t_eq "available_instances after remove" 1 "$(cat "$T/available_instances")"
        t_check "rmmod with a live mdev" rmmod siov_vm_smoke
        t_check "mdev 2 gone with its parent" test ! -e "/sys/bus/mdev/devices/$u2"
fi

# --- --sriov: QEMU's NVMe PF ----------------------------------------------
if [ "$want_sriov" = 1 ]; then
        pf=""
        for d in /sys/bus/pci/devices/*; do
                [ -e "$d/sriov_totalvfs" ] && [ "$(cat "$d/vendor")" = 0x1b36 ] && pf=$d
        done
        t_check "NVMe PF with SR-IOV present" test -n "$pf"
        if [ -n "$pf" ]; then
                t_eq "sriov_totalvfs" 2 "$(cat "$pf/sriov_totalvfs")"
                t_check "IOMMU groups exist" test -e "$pf/iommu_group"
                t_check "autoprobe off" sh -c "echo 0 >$pf/sriov_drivers_autoprobe"
                t_check "PF bound to nvme" test -e "$pf/driver"
                t_check "enable 2 VFs" sh -c "echo 2 >$pf/sriov_numvfs"
                t_check "virtfn0 and virtfn1" test -e "$pf/virtfn0" -a -e "$pf/virtfn1"
                g0=$(basename "$(readlink "$pf/virtfn0/iommu_group")")
                g1=$(basename "$(readlink "$pf/virtfn1/iommu_group")")
                t_check "VFs in separate IOMMU groups" test -n "$g0" -a "$g0" != "$g1"
                vf=$(basename "$(readlink "$pf/virtfn0")")
                t_check "bind VF to vfio-pci" sh -c "modprobe vfio_pci && echo vfio-pci >/sys/bus/pci/devices/$vf/driver_override && echo $vf >/sys/bus/pci/drivers_probe"
                t_check "/dev/vfio/$g0 appears" t_wait_for 5 test -c "/dev/vfio/$g0"
                t_check "disable VFs" sh -c "echo 0 >$pf/sriov_numvfs"
        fi
fi

# --- --dbus: a system bus ---------------------------------------------------
if [ "$want_dbus" = 1 ]; then
        t_check "system bus starts" t_dbus_start
        t_check "busctl lists the bus" sh -c 'busctl --system list --no-pager | grep -q org.freedesktop.DBus'
        t_check "tester can talk to the bus" t_as tester dbus-send --system --print-reply \
                --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.ListNames
        if [ "$want_full" = 1 ]; then
                bus_pid=$(pgrep -x dbus-daemon | head -n 1)
        else
                bus_pid=$T_DBUS_PID
        fi
        t_check "bus runs as messagebus" sh -c "grep -q \"^Uid:[[:space:]]*$(id -u messagebus)\" /proc/$bus_pid/status"
fi

# --- --stage: a make-install tree -------------------------------------------
if [ "$want_stage" = 1 ]; then
        t_eq "staged program with stage and host libraries" '{"hello":"vm"}' "$(siov-vm-hello 2>&1)"
        t_check "staged data file" test -f /usr/share/siov-vm-hello/README
        t_check "staged /lib file landed in /usr/lib" test -f /usr/lib/siov-vm-hello/marker
        if [ "$want_full" = 0 ]; then
                t_check "busybox still intact" sh -c 'busybox true'
        fi
fi

t_summary
