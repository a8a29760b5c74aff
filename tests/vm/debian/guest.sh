[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# SPDX-License-Identifier: LGPL-2.1-or-later
# The Debian packages in the full Debian guest, the way an administrator
# meets them (run twice by tests/vm/debian/run).
#   boot1  apt install ./*.deb (offline: the image has every dependency);
#          DKMS builds siov_mdev for the guest kernel; siovd is neither
#          running nor failed before use; `siovctl parents` D-Bus-activates
#          it; modprobe siov_mdev; systemd-analyze security of the hardened
#          unit; create/destroy and a persistent autostart device under it;
#          a member of group siov with the shipped polkit rule example can
#          create, an ordinary user cannot. Leaves what it changed on disk
#          in /share/boot1-root.tar for boot 2.
#   boot2  the same disk after a reboot (siov_mdev loaded at boot through
#          modules-load.d): the autostart device is back, exactly once;
#          apt purge leaves the definitions in /etc/siov and nothing else.
. "$VM_LIB"

PHASE=${1:?boot1 or boot2}
PKGS="siovd siovctl libsiov0 libsiov-dev siov-mdev-dkms cockpit-siov"
UUID_RE='^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
export DEBIAN_FRONTEND=noninteractive

# Every file and folder of the root file system but what changes by itself
# (logs, caches, apt's lists, systemd's and dpkg's own state, the test's
# folders), one path a line, sorted.
list_root() {
        find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /run -o -path /tmp \
                -o -path /share -o -path /vm -o -path /var/log -o -path /var/cache -o -path /var/tmp \
                -o -path /var/lib/apt -o -path /var/lib/dpkg -o -path /var/lib/systemd/timers \
                -o -path /var/lib/systemd/random-seed -o -path /var/lib/systemd/catalog \
                -o -path /var/lib/systemd/coredump -o -path /var/lib/polkit-1 -o -path /root \
                -o -path /home -o -path /lost+found \) -prune -o -print | sort
}
n_mdevs() { ls /sys/bus/mdev/devices 2>/dev/null | wc -l; }

t_udev_start

if [ "$PHASE" = boot1 ]; then
        # The administrator's prerequisite: the running kernel's headers.
        mkdir -p /tmp/headers
        cp /share/headers/*.deb /tmp/headers/
        chmod -R a+rX /tmp/headers
        (cd /tmp/headers && apt install -y ./*.deb) >/tmp/apt-headers.log 2>&1; rc=$?
        t_eq "apt install the guest kernel's headers (offline)" 0 $rc || tail -n 20 /tmp/apt-headers.log | sed 's/^/    | /'

        MARK=/var/tmp/siov-debian-test.mark
        touch "$MARK"
        sleep 1         # mtimes have a 1 s granularity on some paths: after the mark
        list_root >/share/before.list
        t_check "no siov_mdev before the packages" test ! -d /sys/module/siov_mdev
        KVER=$(uname -r)
        t_check "the image has the guest kernel's headers (for DKMS)" test -e "/lib/modules/$KVER/build/Makefile"

        mkdir -p /tmp/debs
        cp /share/debs/*.deb /tmp/debs/
        chmod -R a+rX /tmp/debs
        t_log "installing: $(cd /tmp/debs && ls *.deb | tr '\n' ' ')"
        t0=$(date +%s)
        (cd /tmp/debs && apt install -y ./*.deb) >/tmp/apt.log 2>&1; rc=$?
        t_eq "apt install ./*.deb, offline ($(( $(date +%s) - t0 )) s with the DKMS build)" 0 $rc ||
                tail -n 30 /tmp/apt.log | sed 's/^/    | /'
        for p in $PKGS; do
                t_eq "$p installed" "install ok installed" "$(dpkg-query -W -f='${Status}' "$p" 2>&1)"
        done
        t_match "dkms: siov-mdev built and installed for $KVER" "siov-mdev/[^,]*, $KVER, [^:]*: installed" \
                "$(dkms status siov-mdev 2>&1)"
        t_match "the module is DKMS's" "/lib/modules/$KVER/updates/dkms/siov_mdev.ko" \
                "$(modinfo -n siov_mdev 2>&1)"
        # Nothing started, nothing failed, while siov_mdev is not loaded.
        t_eq "siovd is not running after the installation" inactive "$(systemctl is-active siovd)"
        t_eq "siovd.service is not enabled (D-Bus activated)" disabled "$(systemctl is-enabled siovd 2>&1)"
        t_eq "no failed unit" "" "$(systemctl list-units --failed --no-legend --plain | awk '{ print $1 }')"
        t_check "the udev rule is installed" test -f /lib/udev/rules.d/70-siov.rules
        t_check "the man pages are installed" test -f /usr/share/man/man1/siovctl.1.gz
        t_check "cockpit-bridge lists the page" sh -c 'cockpit-bridge --packages | grep -q "^siov "'

        out=$(siovctl parents 2>&1); rc=$?
        t_eq "siovctl parents answers with no manual start" 0 $rc || echo "$out" | sed 's/^/    | /'
        t_eq "siovd was D-Bus activated" active "$(systemctl is-active siovd)"

        t_check "modprobe siov_mdev" modprobe siov_mdev
        t_check "siov0 appears in siovctl parents" t_wait_for 20 sh -c 'siovctl parents | grep -q "^siov0 "'

        # The hardened unit: its exposure, and that siovd works under it.
        sec=$(systemd-analyze security siovd.service 2>&1 | tail -n 1)
        exposure=$(echo "$sec" | sed -n 's/.*for siovd.service: \([0-9.]*\) .*/\1/p')
        t_check "systemd-analyze security siovd.service: exposure $exposure <= 3.0 ('${sec#→ }')" \
                awk -v e="$exposure" 'BEGIN { exit !(e != "" && e <= 3.0) }'
        t_check "hardened: ProtectSystem=strict in force" \
                sh -c 'systemctl show -p ProtectSystem --value siovd | grep -qx strict'
        U=$(siovctl create --type idxd-1dwq --parent siov0 2>/tmp/err); rc=$?
        t_eq "create under the hardened unit (writes sysfs)" 0 $rc || sed 's/^/    | /' /tmp/err
        t_check "the mdev exists" test -d "/sys/bus/mdev/devices/$U"
        t_check "destroy it" siovctl destroy "$U"
        t_eq "no mdev left" 0 "$(n_mdevs)"
        A=$(siovctl create --type idxd-1dwq --parent siov0 --persistent --autostart 2>/tmp/err); rc=$?
        t_eq "create --persistent --autostart (writes /etc/siov/devices)" 0 $rc || sed 's/^/    | /' /tmp/err
        t_match "... prints a UUID" "$UUID_RE" "$A"
        t_check "the definition is on disk" test -f "/etc/siov/devices/$A.json"
        echo "$A" >/share/autostart.uuid

        # An upgrade (here: the same version again) restarts a running siovd.
        pid=$(systemctl show -p MainPID --value siovd)
        (cd /tmp/debs && apt install -y --reinstall ./siovd_*.deb) >/tmp/apt-reinstall.log 2>&1; rc=$?
        t_eq "apt install --reinstall ./siovd_*.deb" 0 $rc || tail -n 20 /tmp/apt-reinstall.log | sed 's/^/    | /'
        t_eq "... restarts the running siovd" active "$(systemctl is-active siovd)"
        t_check "... as a new process (MainPID was $pid)" \
                sh -c "test \"\$(systemctl show -p MainPID --value siovd)\" -ne $pid"
        t_match "... which has the device, defined and active" "^$A +mdev +siov0 +idxd-1dwq +both" \
                "$(siovctl list | grep "^$A")"

        # Users: group siov with the shipped example rule, and an ordinary one.
        t_check "groupadd --system siov" groupadd --system siov
        t_check "useradd alice in group siov" useradd -m -G siov alice
        t_check "install the shipped polkit rule example" install -m 0644 \
                /usr/share/doc/siovd/examples/org.siov1.rules.example /etc/polkit-1/rules.d/50-org.siov1.rules
        # polkitd reloads its rules by itself (inotify): wait until it has.
        t_wait_for 30 sh -c 'journalctl -b -u polkit --no-pager | grep -q "Finished loading, compiling and executing .* rules"' || true
        out=""
        for _ in $(seq 30); do
                out=$(t_as alice siovctl --no-ask-password create --type idxd-1swq --parent siov0 2>&1) && break
                sleep 1
        done
        t_match "a member of group siov can create" "$UUID_RE" "$(echo "$out" | tail -n 1)"
        AU=$(echo "$out" | tail -n 1)
        t_check "... and destroy" t_as alice siovctl --no-ask-password destroy "$AU"
        out=$(t_as tester siovctl --no-ask-password create --type idxd-1swq --parent siov0 2>&1); rc=$?
        t_eq "an ordinary user cannot create (exit 5)" 5 $rc
        t_match "... told why" "org.siov1.manage" "$out"
        t_eq "... and nothing was created" 1 "$(n_mdevs)"

        # The administrator loads siov_mdev at boot.
        echo siov_mdev >/etc/modules-load.d/siov.conf

        # What boot 1 wrote to the disk, for boot 2 (as a disk would keep it):
        # packed in the guest first, then one copy over 9p. By change time,
        # not modification time: dpkg gives the files it unpacks the
        # package's mtimes (the changelog date, hours or days before the
        # mark), but their ctime is when they were written. The test comes
        # after the pruning: "-cnewer ... -prune -o -print" would print
        # every path that is not both new and pruned, i.e. the whole disk.
        # (The kernel headers were installed before the mark: boot 2 builds
        # nothing and lacks them.)
        find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /run -o -path /tmp \
                -o -path /share -o -path /vm -o -path /var/log -o -path /var/cache -o -path /var/lib/apt/lists \
                -o -path /var/tmp \) -prune -o -cnewer "$MARK" -print0 |
                tar --null --no-recursion --numeric-owner -T - -cpf /tmp/boot1-root.tar 2>/dev/null
        t_log "boot 1 changed $(tar -tf /tmp/boot1-root.tar | wc -l) paths, $(du -k /tmp/boot1-root.tar | cut -f1) KiB"
        cp /tmp/boot1-root.tar /share/boot1-root.tar.tmp && mv /share/boot1-root.tar.tmp /share/boot1-root.tar
        t_check "boot 1's disk changes saved" test -s /share/boot1-root.tar
        tar -tf /tmp/boot1-root.tar >/tmp/boot1-root.list
        for f in usr/sbin/siovd usr/bin/siovctl "usr/lib/modules/$KVER/updates/dkms/siov_mdev.ko" \
                "etc/siov/devices/$A.json" etc/modules-load.d/siov.conf; do
                t_check "... they hold /$f" grep -qx "$f" /tmp/boot1-root.list
        done
        t_check "... and not what boot 1 left alone (/usr/bin/dpkg)" sh -c '! grep -qx usr/bin/dpkg /tmp/boot1-root.list'
        journalctl -b -u siovd --no-pager | tail -n 20 | sed 's/^/# siovd: /'
        t_summary
        exit
fi

# ---- boot 2 -------------------------------------------------------------
A=$(cat /share/autostart.uuid)
for p in $PKGS; do
        t_eq "$p is installed (boot 1's disk)" "install ok installed" "$(dpkg-query -W -f='${Status}' "$p" 2>&1)"
done
t_check "... with its files (/usr/sbin/siovd)" test -x /usr/sbin/siovd
t_check "siov_mdev was loaded at boot" t_wait_for 30 test -d /sys/module/siov_mdev
t_check "the DKMS module was loaded" sh -c 'modinfo -n siov_mdev | grep -q updates/dkms'
t_check "the autostart device is back after the reboot" t_wait_for 60 test -d "/sys/bus/mdev/devices/$A"
t_check "provisioning is done" t_wait_for 60 sh -c '! systemctl list-jobs --no-legend | grep -q siovd-provision@'
t_eq "exactly one mdev" 1 "$(n_mdevs)"
t_match "siovctl lists it as both (active and defined)" "^$A +mdev +siov0 +idxd-1dwq +both" \
        "$(siovctl list | grep "^$A")"

out=$(apt purge -y $PKGS 2>&1); rc=$?
t_eq "apt purge $PKGS" 0 $rc || echo "$out" | tail -n 20 | sed 's/^/    | /'
t_eq "nothing of them is left in dpkg's database" "" \
        "$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' $PKGS 2>/dev/null | grep -v '^un ' || true)"
t_check "the definition stays (configuration)" test -f "/etc/siov/devices/$A.json"
t_eq "siovd was stopped by the removal" inactive "$(systemctl is-active siovd)"
t_check "... no siovd process is left" sh -c '! pgrep -x siovd'
t_check "siov_mdev.ko is gone" sh -c '! modinfo -n siov_mdev >/dev/null 2>&1'
t_check "DKMS forgot siov-mdev" sh -c '! dkms status siov-mdev 2>/dev/null | grep -q .'
# Nothing else: every path not there before the installation is a
# definition, or what the test itself made (users, the polkit rule, the
# modules-load.d line).
list_root >/tmp/after.list
extra=$(comm -13 /share/before.list /tmp/after.list |
        grep -vxE "/etc/siov|/etc/siov/devices|/etc/siov/devices/$A\.json" |
        grep -vxE '/etc/(passwd|group|shadow|gshadow|subuid|subgid)-?' |
        grep -vxE '/etc/polkit-1/rules.d/50-org.siov1.rules|/etc/modules-load.d/siov.conf' || true)
t_eq "apt purge leaves the definitions ($(find /etc/siov -type f | sort | paste -sd ' ')) and nothing else" "" "$extra"
t_summary
