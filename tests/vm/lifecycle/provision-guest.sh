[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# Provisioning through the installed udev rule and siovd-provision@.service
# in the full Debian guest (run twice by tests/vm/lifecycle/provision).
#   boot1  define autostart devices for parents that do not exist yet, stop
#          siovd, add the parents at runtime: udev -> unit -> siovctl
#          provision -> active exactly once; replay add/provision: nothing new.
#          Leaves /etc/siov/devices in /share/persist for boot 2.
#   boot2  siov_mdev loaded at boot with the definitions on disk: the
#          autostart devices are active exactly once, started through the
#          provisioning units; manual ones are not.
. "$VM_LIB"

PHASE=${1:?boot1 or boot2}
DEFS=/etc/siov/devices
UUID_RE='^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'

n_mdevs() { ls /sys/bus/mdev/devices 2>/dev/null | wc -l; }
parent_of() { basename "$(readlink -f "/sys/bus/mdev/devices/$1/..")"; }
state_of() { siovctl --json=short list | jq -r --arg u "$1" '.[] | select(.uuid == $u) | .state'; }
# journal lines of this boot since cursor file $1 (or the whole boot)
journal() {
        if [ -n "${1:-}" ]; then
                journalctl -b --no-pager -o short-monotonic --after-cursor="$(cat "$1")"
        else
                journalctl -b --no-pager -o short-monotonic
        fi
}
cursor() { journalctl -b -n 0 --show-cursor --no-pager | sed -n 's/^-- cursor: //p' >"$1"; }
# No provisioning job queued or running.
provision_idle() {
        ! systemctl list-jobs --no-legend 2>/dev/null | grep -q 'siovd-provision@' &&
                ! systemctl list-units --no-legend --state=activating 'siovd-provision@*' 2>/dev/null | grep -q .
}
starts_of() { journal "${2:-}" | grep -c "siovd\[[0-9]*\]: Started autostart device $1 "; }
provision_runs() { journal "${2:-}" | grep -c "Finished siovd-provision@$1.service"; }
# What the image must have for this test to mean anything.
preflight() {
        t_check "systemd-udevd runs" systemctl is-active --quiet systemd-udevd
        t_check "dbus runs" systemctl is-active --quiet dbus
        t_check "70-siov.rules is installed" test -f /lib/udev/rules.d/70-siov.rules
        local run
        run=$(sed -n 's/.*RUN+="\([^ "]*\).*/\1/p' /lib/udev/rules.d/70-siov.rules | head -n 1)
        t_check "the rule's RUN program exists ($run)" test -x "$run"
        t_check "siovd-provision@.service is installed" systemctl cat siovd-provision@siov0.service
        local exe
        exe=$(systemctl show -p ExecStart --value siovd-provision@siov0.service | sed -n 's/.*path=\([^ ;]*\).*/\1/p')
        t_check "the unit's ExecStart exists ($exe)" test -x "$exe"
        t_eq "siovd.service is not enabled (only provisioning or D-Bus starts it)" disabled "$(systemctl is-enabled siovd 2>&1)"
}

t_udev_start
preflight

if [ "$PHASE" = boot1 ]; then
        t_check "no siov_mdev loaded at boot" test ! -d /sys/module/siov_mdev
        t_eq "siovd not running yet" inactive "$(systemctl is-active siovd)"
        A=$(siovctl define --type idxd-1dwq --parent siov1 --autostart 2>/tmp/err); rc=$?
        t_eq "siovctl define --type idxd-1dwq --parent siov1 --autostart (siov1 absent)" 0 $rc
        t_match "... prints a UUID" "$UUID_RE" "$A"
        t_eq "siovd was D-Bus activated by that call" active "$(systemctl is-active siovd)"
        B=$(siovctl define --type idxd-1swq --parent siov0 --autostart 2>/dev/null)
        M=$(siovctl define --type idxd-1dwq --parent siov1 2>/dev/null)
        G=$(siovctl define --type idxd-1dwq --parent siov7 --autostart 2>/dev/null)
        for u in "$B" "$M" "$G"; do t_match "more definitions" "$UUID_RE" "$u"; done
        t_check "the definition of A is on disk" jq -e ".parent == \"siov1\" and .autostart == true" "$DEFS/$A.json"
        t_eq "A is defined, not active" defined "$(state_of "$A")"
        t_check "siovctl status lists A waiting for siov1" sh -c \
                "siovctl --json status | jq -e '.waiting_for_parent[] | select(.uuid == \"$A\" and .parent == \"siov1\")'"
        # From here on only udev can bring siovd back.
        t_check "stop siovd" systemctl stop siovd
        t_eq "siovd stopped" inactive "$(systemctl is-active siovd)"

        cursor /tmp/c1
        t_check "modprobe siov_mdev parents=0" modprobe siov_mdev parents=0
        t_check "add parent siov0 (8 WQs)" sh -c 'echo 8 > /sys/class/idxd/add_parent'
        t_check "add parent siov1 (8 WQs)" sh -c 'echo 8 > /sys/class/idxd/add_parent'
        t_check "A becomes active (udev -> siovd-provision@siov1 -> siovctl provision)" t_wait_for 60 test -d "/sys/bus/mdev/devices/$A"
        t_check "B becomes active on siov0" t_wait_for 30 test -d "/sys/bus/mdev/devices/$B"
        udevadm settle
        t_check "provisioning finished" t_wait_for 60 provision_idle
        t_eq "A is on siov1" siov1 "$(parent_of "$A")"
        t_eq "B is on siov0" siov0 "$(parent_of "$B")"
        t_eq "exactly 2 mdevs (A, B): M is manual, G has no parent" 2 "$(n_mdevs)"
        t_eq "A: state both" both "$(state_of "$A")"
        t_eq "M: state defined" defined "$(state_of "$M")"
        t_eq "G: state defined" defined "$(state_of "$G")"
        t_check "siovd is running again" systemctl is-active --quiet siovd
        journal /tmp/c1 >/tmp/j1
        t_check "udev started siovd-provision@siov1.service" grep -q 'Starting siovd-provision@siov1.service' /tmp/j1
        t_check "udev started siovd-provision@siov0.service" grep -q 'Starting siovd-provision@siov0.service' /tmp/j1
        t_check "siovd was started again after the parents appeared" grep -qE 'Starting siovd.service|Activating via systemd: service name=.org.siov1' /tmp/j1
        t_eq "siovd-provision@siov1 succeeded" success "$(systemctl show -p Result --value siovd-provision@siov1.service)"
        n1=$(provision_runs siov1 /tmp/c1)
        t_log "siovd-provision@siov1 ran $n1 time(s) for the hotplug (kernel add + change MDEV_STATE=registered)"
        t_eq "A was started exactly once (siovd's journal)" 1 "$(starts_of "$A" /tmp/c1)"
        t_eq "B was started exactly once" 1 "$(starts_of "$B" /tmp/c1)"
        t_log "provisioning lines:"; grep -E 'siovd-provision|siovd\[|siovd.service|siovctl\[|org.siov1' /tmp/j1 | sed 's/^/#   /' | head -n 30

        # Replays: udev's add again (as coldplug does), the change event, and the unit by hand.
        cursor /tmp/c2
        t_check "replay add for siov1 (udevadm trigger)" udevadm trigger --settle --action=add /sys/class/idxd/siov1
        t_check "start siovd-provision@siov1 by hand" systemctl start siovd-provision@siov1.service
        t_check "provisioning finished again" t_wait_for 60 provision_idle
        t_check "the replays ran the unit again" test "$(provision_runs siov1 /tmp/c2)" -ge 2
        t_eq "... and started nothing (siovd's journal)" 0 "$(journal /tmp/c2 | grep -c 'Started autostart device')"
        t_eq "... still exactly 2 mdevs" 2 "$(n_mdevs)"
        t_check "siovctl provision siov1 by hand prints nothing" test -z "$(siovctl provision siov1)"
        t_eq "... still exactly 2 mdevs" 2 "$(n_mdevs)"
        t_check "siovctl status still lists G waiting for siov7" sh -c \
                "siovctl --json status | jq -e '.waiting_for_parent[] | select(.uuid == \"$G\" and .parent == \"siov7\")'"

        # What the disk keeps for the next boot.
        t_check "definitions saved for boot 2" cp -a "$DEFS" /share/persist
        t_eq "4 definition files" 4 "$(ls /share/persist | grep -cE '^[0-9a-f-]{36}\.json$')"
        printf 'A=%s\nB=%s\nM=%s\nG=%s\n' "$A" "$B" "$M" "$G" >/share/boot1.env
        t_summary
        exit
fi

# --- boot 2: a reboot ---------------------------------------------------------
. /share/boot1.env
for f in /share/persist/*.json; do
        t_check "$(basename "$f") is on disk unchanged" cmp "$f" "$DEFS/$(basename "$f")"
done
t_check "siov_mdev was loaded at boot (modules-load.d)" test -d /sys/module/siov_mdev
t_check "... by systemd-modules-load" sh -c "journalctl -b --no-pager -t systemd-modules-load | grep -q \"Inserted module 'siov_mdev'\""
t_check "A becomes active" t_wait_for 60 test -d "/sys/bus/mdev/devices/$A"
t_check "B becomes active" t_wait_for 30 test -d "/sys/bus/mdev/devices/$B"
udevadm settle
t_check "provisioning finished" t_wait_for 60 provision_idle
t_eq "A is on siov1" siov1 "$(parent_of "$A")"
t_eq "B is on siov0" siov0 "$(parent_of "$B")"
t_eq "exactly 2 mdevs after the reboot" 2 "$(n_mdevs)"
t_eq "A: both" both "$(state_of "$A")"
t_eq "B: both" both "$(state_of "$B")"
t_eq "M (manual) stays defined" defined "$(state_of "$M")"
t_eq "G (no parent) stays defined" defined "$(state_of "$G")"
journal >/tmp/j
t_eq "A was started exactly once this boot" 1 "$(starts_of "$A")"
t_eq "B was started exactly once this boot" 1 "$(starts_of "$B")"
t_check "udev started siovd-provision@siov1.service at boot" grep -q 'Starting siovd-provision@siov1.service' /tmp/j
t_eq "siovd-provision@siov1 succeeded" success "$(systemctl show -p Result --value siovd-provision@siov1.service)"
t_log "siovd-provision@siov1 ran $(provision_runs siov1) time(s) at boot"
t_check "siovd runs" systemctl is-active --quiet siovd
# Who started siovd: it is not enabled (checked above), no loaded unit wants
# it (the oneshot provisioning units that did are unloaded once finished),
# the only D-Bus activation allowed is by `siovctl provision`, and systemd
# started it inside the provisioning transaction (the template's slice
# first).
t_eq "no loaded unit wants or requires siovd.service" "" \
        "$(systemctl show -p WantedBy --value siovd.service)$(systemctl show -p RequiredBy --value siovd.service)"
slice=$(grep -n 'Created slice system-siovd.x2dprovision.slice' /tmp/j | head -n 1 | cut -d: -f1)
start=$(grep -nE 'Starting siovd.service|Activating via systemd: service name=.org.siov1' /tmp/j | head -n 1 | cut -d: -f1)
t_log "journal: provisioning slice at line $slice, siovd started at line $start"
t_check "siovd was started by the provisioning (after the provisioning units' slice)" \
        test -n "$slice" -a -n "$start" -a "${start:-0}" -gt "${slice:-0}"
act=$(grep "Activating via systemd: service name='org.siov1'" /tmp/j | grep -vc 'comm="siovctl provision')
t_eq "no D-Bus activation of siovd by anything but siovctl provision" 0 "$act"
t_log "boot lines:"; grep -E 'siovd-provision|siovd\[|siovd.service|siovctl\[|org.siov1|siov_mdev' /tmp/j | sed 's/^/#   /' | head -n 30
cursor /tmp/c3
t_check "replay coldplug (udevadm trigger --action=add)" udevadm trigger --settle --action=add /sys/class/idxd/siov0 /sys/class/idxd/siov1
t_check "provisioning finished" t_wait_for 60 provision_idle
t_eq "... started nothing" 0 "$(journal /tmp/c3 | grep -c 'Started autostart device')"
t_eq "... still exactly 2 mdevs" 2 "$(n_mdevs)"
t_summary
