# Tests of the bundled kernel driver (kernel-module/siov_mdev.c) in Debian's
# 6.1 kernel, run inside the guest by tests/vm/kmod/run (busybox ash).
# Helpers vfio-test, uevent-listen, mdev-bench are in /usr/local/bin.
# Every check is a named PASS/FAIL line; t_summary prints the totals.
. "$VM_LIB"

CLS=/sys/class/idxd
MB=/sys/class/mdev_bus
MD=/sys/bus/mdev/devices
WQS=8
SLOTS=4

# --- helpers -----------------------------------------------------------------

tdir() { echo "$MB/$1/mdev_supported_types/idxd-$2"; }
new_uuid() { cat /proc/sys/kernel/random/uuid; }
# wr FILE VALUE: write like `echo VALUE >FILE`; on failure the errno text
# (e.g. "No space left on device") is printed and the status returned.
wr() { swrite "$1" "$2" 2>&1; }
mk() { wr "$(tdir "$1" "$2")/create" "$3"; }
rmdev() { wr "$MD/$1/remove" 1; }
avail() { cat "$(tdir "$1" "$2")/available_instances"; }
pool() { cat "$CLS/$1/pool/$2"; }
n_netdevs_ip() { ip link show | grep -cE "^[0-9]+: $1nd[0-9]+[:@]"; }
n_devices() { ls "$(tdir "$1" "$2")/devices" | wc -l; }

state() {
        echo "free=$(pool "$1" free) dwq=$(pool "$1" mdev_dwq) swq=$(pool "$1" mdev_swq)" \
                "nd=$(pool "$1" host_netdev) hwq=$(pool "$1" host_wq)" \
                "slots=$(pool "$1" swq_slots_used)" \
                "avail_dwq=$(avail "$1" 1dwq) avail_swq=$(avail "$1" 1swq)"
}
# expect NAME PARENT FREE MDEV_DWQ MDEV_SWQ HOST_ND HOST_WQ SLOTS_USED AVAIL_DWQ AVAIL_SWQ
expect() {
        _n=$1 _p=$2
        shift 2
        t_eq "$_n" "free=$1 dwq=$2 swq=$3 nd=$4 hwq=$5 slots=$6 avail_dwq=$7 avail_swq=$8" "$(state "$_p")"
}

# The pool's invariants, checked against everything visible from userspace.
consistent() {
        local p=$1 tot free dwq swq nd hwq su sl a1 a2
        tot=$(pool "$p" total) free=$(pool "$p" free) dwq=$(pool "$p" mdev_dwq)
        swq=$(pool "$p" mdev_swq) nd=$(pool "$p" host_netdev) hwq=$(pool "$p" host_wq)
        su=$(pool "$p" swq_slots_used) sl=$(pool "$p" swq_slots)
        a1=$(avail "$p" 1dwq) a2=$(avail "$p" 1swq)
        [ $((free + dwq + swq + nd + hwq)) -eq "$tot" ] ||
                { echo "free+dwq+swq+nd+hwq=$((free + dwq + swq + nd + hwq)) != total $tot"; return 1; }
        [ "$a1" -eq "$free" ] || { echo "avail 1dwq $a1 != free $free"; return 1; }
        [ "$a2" -eq $(((swq + free) * sl - su)) ] ||
                { echo "avail 1swq $a2 != (swq $swq + free $free) * $sl - used $su"; return 1; }
        [ "$(n_devices "$p" 1dwq)" -eq "$dwq" ] || { echo "idxd-1dwq devices $(n_devices "$p" 1dwq) != mdev_dwq $dwq"; return 1; }
        [ "$(n_devices "$p" 1swq)" -eq "$su" ] || { echo "idxd-1swq devices $(n_devices "$p" 1swq) != slots used $su"; return 1; }
        [ "$swq" -ge $(((su + sl - 1) / sl)) ] && [ "$swq" -le "$su" ] ||
                { echo "shared WQs $swq impossible for $su slots of $sl"; return 1; }
        [ "$(ls "$CLS/$p/net" 2>/dev/null | wc -l)" -eq "$nd" ] || { echo "netdevs under $p/net != host_netdev $nd"; return 1; }
        [ "$(n_netdevs_ip "$p")" -eq "$nd" ] || { echo "ip link shows $(n_netdevs_ip "$p") ${p}nd* != $nd"; return 1; }
        [ "$(cat "$CLS/$p/host_netdevs")" -eq "$nd" ] || { echo "host_netdevs file != $nd"; return 1; }
        [ "$(cat "$CLS/$p/host_wqs")" -eq "$hwq" ] || { echo "host_wqs file != $hwq"; return 1; }
        return 0
}

# Remove every mdev of a parent and all host use.
reset_parent() {
        local p=$1 d
        for d in "$(tdir "$p" 1dwq)"/devices/* "$(tdir "$p" 1swq)"/devices/*; do
                [ -e "$d" ] && echo 1 >"$d/remove"
        done
        echo 0 >"$CLS/$p/host_netdevs"
        echo 0 >"$CLS/$p/host_wqs"
}

# expect_err NAME PATTERN OUTPUT STATUS: a refused write with that error
expect_err() {
        if [ "$4" -ne 0 ] && printf '%s' "$3" | grep -q "$2"; then
                t_pass "$1"
        else
                t_fail "$1" "status $4, output '$3', wanted /$2/"
        fi
}
expect_enospc() { expect_err "$1" "No space left on device" "$2" "$3"; }

# ok_lines PREFIX FILE: turn "ok NAME" / "not ok NAME: why" into results
ok_lines() {
        local line n
        while IFS= read -r line; do
                case $line in
                "ok "*) t_pass "$1${line#ok }" ;;
                "not ok "*) n=${line#not ok }; t_fail "$1${n%%: *}" "${n#*: }" ;;
                *) echo "    | $line" ;;
                esac
        done <"$2"
}

# --- load ----------------------------------------------------------------------

T_START=$(cut -d' ' -f1 /proc/uptime)
section() { t_log "$* (at $(awk -v s="$T_START" '{ printf "%.0f", $1 - s }' /proc/uptime) s)"; }

section "load"
# Any task in D state for more than 15 s is reported by the kernel's hung-task
# detector; the dmesg check at the end fails the run on such a report.
echo 15 >/proc/sys/kernel/hung_task_timeout_secs
t_eq "load: hung-task timeout lowered to 15 s" 15 "$(cat /proc/sys/kernel/hung_task_timeout_secs)"
t_check "load: modprobe siov_mdev parents=2 wqs=$WQS swq_slots=$SLOTS" \
        modprobe siov_mdev parents=2 wqs=$WQS swq_slots=$SLOTS
t_eq "load: parameter wqs" $WQS "$(cat /sys/module/siov_mdev/parameters/wqs)"
t_eq "load: class idxd holds siov0 and siov1 and the control files" \
        "add_parent remove_parent siov0 siov1" "$(echo $(ls $CLS))"
t_check "load: siov0 is an mdev parent" test -d "$MB/siov0/mdev_supported_types"
t_eq "load: mdev_bus/siov0 is the idxd class device" \
        "$(readlink -f $CLS/siov0)" "$(readlink -f $MB/siov0)"
t_eq "load: parent device is virtual/idxd/siov0" /sys/devices/virtual/idxd/siov0 "$(readlink -f $CLS/siov0)"

# --- types ---------------------------------------------------------------------

section "types"
for p in siov0 siov1; do
        t_eq "types: $p lists idxd-1dwq and idxd-1swq" "idxd-1dwq idxd-1swq" \
                "$(echo $(ls $MB/$p/mdev_supported_types))"
        t_eq "types: $p idxd-1dwq name" "Virtual DSA, 1 dedicated work queue" "$(cat "$(tdir $p 1dwq)/name")"
        t_eq "types: $p idxd-1swq name" "Virtual DSA, 1 shared work queue slot" "$(cat "$(tdir $p 1swq)/name")"
        t_match "types: $p idxd-1dwq description says the cost" \
                "^cost: 1 whole work queue of the $WQS in $p's pool" "$(cat "$(tdir $p 1dwq)/description")"
        t_match "types: $p idxd-1swq description says the cost" \
                "^cost: 1 of $SLOTS slots on a shared work queue of $p's pool of $WQS" \
                "$(cat "$(tdir $p 1swq)/description")"
        t_eq "types: $p idxd-1dwq device_api" vfio-pci "$(cat "$(tdir $p 1dwq)/device_api")"
        t_eq "types: $p idxd-1swq device_api" vfio-pci "$(cat "$(tdir $p 1swq)/device_api")"
done
t_eq "pool: files" "free host_netdev host_wq mdev_dwq mdev_swq swq_slots swq_slots_used total" \
        "$(echo $(ls $CLS/siov0/pool))"
t_eq "pool: total" $WQS "$(pool siov0 total)"
t_eq "pool: swq_slots" $SLOTS "$(pool siov0 swq_slots)"
expect "pool: initial state" siov0 8 0 0 0 0 0 8 32
t_check "pool: initial state consistent" consistent siov0

# --- create/remove and available_instances arithmetic ----------------------------

section "create/remove, idxd-1dwq"
u1=$(new_uuid) u2=$(new_uuid)
t_check "dwq: create" mk siov0 1dwq "$u1"
t_check "dwq: device on the mdev bus" test -d "$MD/$u1"
t_eq "dwq: mdev_type link" idxd-1dwq "$(basename "$(readlink "$MD/$u1/mdev_type")")"
t_check "dwq: has an iommu_group" test -e "$MD/$u1/iommu_group"
t_eq "dwq: bound to siov_mdev" siov_mdev "$(basename "$(readlink "$MD/$u1/driver")")"
expect "dwq: after 1 create" siov0 7 1 0 0 0 0 7 28
t_check "dwq: create a second" mk siov0 1dwq "$u2"
expect "dwq: after 2 creates" siov0 6 2 0 0 0 0 6 24
t_check "dwq: the two own different WQs" test "$(cat $MD/$u1/wq)" != "$(cat $MD/$u2/wq)"
out=$(mk siov0 1dwq "$u1"); rc=$?
expect_err "dwq: duplicate UUID refused (EEXIST)" "File exists" "$out" $rc
t_check_fails "dwq: malformed UUID refused" mk siov0 1dwq not-a-uuid
expect "dwq: refused creates change nothing" siov0 6 2 0 0 0 0 6 24
t_check "dwq: remove" rmdev "$u1"
t_check "dwq: device gone" test ! -e "$MD/$u1"
expect "dwq: after 1 remove" siov0 7 1 0 0 0 0 7 28
t_check "dwq: remove the second" rmdev "$u2"
expect "dwq: back to initial" siov0 8 0 0 0 0 0 8 32

section "create/remove, idxd-1swq"
s1=$(new_uuid) s2=$(new_uuid) s3=$(new_uuid) s4=$(new_uuid) s5=$(new_uuid)
t_check "swq: create slot 1" mk siov0 1swq "$s1"
t_eq "swq: mdev_type link" idxd-1swq "$(basename "$(readlink "$MD/$s1/mdev_type")")"
expect "swq: first slot makes a WQ shared" siov0 7 0 1 0 0 1 7 31
t_check "swq: create slot 2" mk siov0 1swq "$s2"
t_check "swq: create slot 3" mk siov0 1swq "$s3"
t_check "swq: create slot 4" mk siov0 1swq "$s4"
expect "swq: 4 slots fill one shared WQ" siov0 7 0 1 0 0 4 7 28
t_eq "swq: the 4 share one WQ" 1 "$(cat $MD/$s1/wq $MD/$s2/wq $MD/$s3/wq $MD/$s4/wq | sort -u | wc -l)"
t_check "swq: create slot 5" mk siov0 1swq "$s5"
expect "swq: slot 5 shares a second WQ" siov0 6 0 2 0 0 5 6 27
t_check "swq: slot 5 is on another WQ" test "$(cat $MD/$s5/wq)" != "$(cat $MD/$s1/wq)"
t_check "swq: remove slot 5" rmdev "$s5"
expect "swq: WQ freed when its last slot goes" siov0 7 0 1 0 0 4 7 28
t_check "swq: remove slot 1" rmdev "$s1"
expect "swq: WQ stays shared while slots remain" siov0 7 0 1 0 0 3 7 29
t_check "swq: remove slots 2-4" sh -c "echo 1 >$MD/$s2/remove && echo 1 >$MD/$s3/remove && echo 1 >$MD/$s4/remove"
expect "swq: back to initial" siov0 8 0 0 0 0 0 8 32

section "mixed idxd-1dwq and idxd-1swq on one parent"
D=""
for i in 1 2 3; do u=$(new_uuid); mk siov0 1dwq "$u" && D="$D $u"; done
S=""
for i in 1 2 3; do u=$(new_uuid); mk siov0 1swq "$u" && S="$S $u"; done
expect "mixed: 3 dwq + 3 swq" siov0 4 3 1 0 0 3 4 17
for i in 1 2 3 4; do u=$(new_uuid); mk siov0 1dwq "$u" && D="$D $u"; done
expect "mixed: 7 dwq leave 1 swq slot" siov0 0 7 1 0 0 3 0 1
u=$(new_uuid); out=$(mk siov0 1dwq "$u"); rc=$?
expect_enospc "mixed: dwq create when no WQ is free is ENOSPC" "$out" $rc
t_check "mixed: refused dwq left no device" test ! -e "$MD/$u"
u=$(new_uuid)
t_check "mixed: last swq slot still available" mk siov0 1swq "$u"
S="$S $u"
expect "mixed: pool exhausted" siov0 0 7 1 0 0 4 0 0
u=$(new_uuid); out=$(mk siov0 1swq "$u"); rc=$?
expect_enospc "mixed: swq create when exhausted is ENOSPC" "$out" $rc
t_check "mixed: refused swq left no device" test ! -e "$MD/$u"
expect "mixed: refused creates change nothing" siov0 0 7 1 0 0 4 0 0
set -- $D
t_check "mixed: remove one dwq" rmdev "$1"
expect "mixed: one free WQ serves 1 dwq or 4 swq" siov0 1 6 1 0 0 4 1 4
u=$(new_uuid)
t_check "mixed: swq takes the free WQ" mk siov0 1swq "$u"
expect "mixed: second shared WQ" siov0 0 6 2 0 0 5 0 3
t_check "mixed: consistent" consistent siov0
reset_parent siov0
expect "mixed: back to initial" siov0 8 0 0 0 0 0 8 32

# --- host contention -------------------------------------------------------------

section "host contention"
t_check "host: host_netdevs=3" wr $CLS/siov0/host_netdevs 3
expect "host: netdevs lower availability" siov0 5 0 0 3 0 0 5 20
t_eq "host: 3 netdevs in ip link" 3 "$(n_netdevs_ip siov0)"
unshare -n sleep 300 &
NSP=$!
t_check "host: a process in a new network namespace" t_wait_for 10 sh -c "test \"\$(readlink /proc/$NSP/ns/net)\" != \"\$(readlink /proc/self/ns/net)\""
out=$(ip link set siov0nd0 netns $NSP 2>&1); rc=$?
expect_err "host: a host netdev cannot move to another namespace (NETNS_LOCAL)" "Invalid argument" "$out" $rc
kill $NSP
wait $NSP 2>/dev/null
t_eq "host: netdev names" "siov0nd0 siov0nd1 siov0nd2" "$(echo $(ls $CLS/siov0/net))"
t_eq "host: netdev parented to siov0" /sys/devices/virtual/idxd/siov0 "$(readlink -f /sys/class/net/siov0nd0/device)"
t_check "host: netdev can be brought up" ip link set siov0nd0 up
t_check "host: netdev is up" sh -c "ip link show siov0nd0 | grep -q ',UP'"
out=$(ip link delete siov0nd2 2>&1); rc=$?
expect_err "host: ip link delete of a host netdev is refused" "Operation not supported" "$out" $rc
t_eq "host: still 3 netdevs after the refused delete" 3 "$(n_netdevs_ip siov0)"
t_check "host: host_wqs=2" wr $CLS/siov0/host_wqs 2
expect "host: host WQs lower availability" siov0 3 0 0 3 2 0 3 12
D=""
for i in 1 2 3; do u=$(new_uuid); mk siov0 1dwq "$u" && D="$D $u"; done
expect "host: 3 dwq take the rest" siov0 0 3 0 3 2 0 0 0
u=$(new_uuid); out=$(mk siov0 1dwq "$u"); rc=$?
expect_enospc "host: dwq create against host use is ENOSPC" "$out" $rc
t_check "host: refused create left no device" test ! -e "$MD/$u"
u=$(new_uuid); out=$(mk siov0 1swq "$u"); rc=$?
expect_enospc "host: swq create against host use is ENOSPC" "$out" $rc
t_check "host: refused swq left no device" test ! -e "$MD/$u"
out=$(wr $CLS/siov0/host_netdevs 4); rc=$?
expect_enospc "host: host_netdevs beyond the free pool is ENOSPC" "$out" $rc
out=$(wr $CLS/siov0/host_wqs 3); rc=$?
expect_enospc "host: host_wqs beyond the free pool is ENOSPC" "$out" $rc
out=$(wr $CLS/siov0/host_netdevs 9); rc=$?
expect_enospc "host: host_netdevs beyond the pool size is ENOSPC" "$out" $rc
t_check_fails "host: host_netdevs=abc refused" wr $CLS/siov0/host_netdevs abc
expect "host: refused requests change nothing" siov0 0 3 0 3 2 0 0 0
t_eq "host: still 3 netdevs in ip link" 3 "$(n_netdevs_ip siov0)"
t_check "host: host_netdevs=1" wr $CLS/siov0/host_netdevs 1
expect "host: lowering host use raises availability" siov0 2 3 0 1 2 0 2 8
t_eq "host: 1 netdev left in ip link" "siov0nd0" "$(ls $CLS/siov0/net)"
u=$(new_uuid)
t_check "host: swq create" mk siov0 1swq "$u"
out=$(wr $CLS/siov0/host_netdevs 3); rc=$?
expect_enospc "host: mdevs hold WQs against host_netdevs" "$out" $rc
expect "host: refused host request changes nothing" siov0 1 3 1 1 2 1 1 7
t_check "host: host_netdevs=2 takes the last free WQ" wr $CLS/siov0/host_netdevs 2
expect "host: only swq slots remain" siov0 0 3 1 2 2 1 0 3
t_check "host: consistent" consistent siov0
reset_parent siov0
expect "host: back to initial" siov0 8 0 0 0 0 0 8 32
t_eq "host: no netdevs left in ip link" 0 "$(n_netdevs_ip siov0)"

# --- races ---------------------------------------------------------------------------

# race_run SPEC...: each SPEC is "create:PARENT:KIND", "netdevs:PARENT:N" or
# "wqs:PARENT:N". Each writer opens its sysfs file, then blocks on a FIFO;
# closing the FIFO's only writer releases them all at once. Results go to
# /tmp/race/{ok,err}.<i>.
race_run() {
        local i=0 spec kind p arg pids=""
        rm -rf /tmp/race
        mkdir /tmp/race
        mkfifo /tmp/race/gate
        exec 3<>/tmp/race/gate
        for spec in "$@"; do
                kind=${spec%%:*} arg=${spec#*:}
                p=${arg%%:*} arg=${arg#*:}
                (
                        exec 3>&-       # only the parent may hold the gate open
                        case $kind in
                        create) f=$(tdir "$p" "$arg")/create v=$(new_uuid) ;;
                        netdevs) f=$CLS/$p/host_netdevs v=$arg ;;
                        wqs) f=$CLS/$p/host_wqs v=$arg ;;
                        esac
                        if out=$(swrite -g /tmp/race/gate -r /tmp/race/ready.$i "$f" "$v" 2>&1); then
                                echo "$kind $v" >/tmp/race/ok.$i
                        else
                                echo "$kind $v $out" >/tmp/race/err.$i
                        fi
                ) &
                pids="$pids $!"
                i=$((i + 1))
        done
        t_wait_for 60 n_ready_is $i ||
                t_fail "race: all $i writers at the gate" "$(ls /tmp/race | grep -c '^ready\.') ready"
        exec 3>&-       # the only writer: every reader sees EOF at once
        wait $pids      # not a bare wait: a uevent listener may be running
}
n_ready_is() { [ "$(ls /tmp/race | grep -c '^ready\.')" -eq "$1" ]; }
n_ok() { cat /tmp/race/ok.* 2>/dev/null | grep -c "^$1 "; }
n_err() { cat /tmp/race/err.* 2>/dev/null | grep -c "^$1 "; }
all_err_enospc() {
        local n
        n=$(cat /tmp/race/err.* 2>/dev/null | grep -vc "No space left on device")
        [ "$n" -eq 0 ] || { cat /tmp/race/err.*; return 1; }
}
repeat() { local i=0; while [ $i -lt "$1" ]; do echo "$2"; i=$((i + 1)); done; }

section "race: 32 concurrent idxd-1dwq creates for 8 free WQs"
race_run $(repeat 32 create:siov0:1dwq)
t_eq "race dwq: exactly 8 creates succeed" 8 "$(n_ok create)"
t_eq "race dwq: 24 fail" 24 "$(n_err create)"
t_check "race dwq: every failure is ENOSPC" all_err_enospc
expect "race dwq: pool full" siov0 0 8 0 0 0 0 0 0
t_check "race dwq: counters add up" consistent siov0
reset_parent siov0

section "race: 32 concurrent idxd-1swq creates for 8 free slots"
wr $CLS/siov0/host_wqs 6 >/dev/null
race_run $(repeat 32 create:siov0:1swq)
t_eq "race swq: exactly 8 creates succeed" 8 "$(n_ok create)"
t_check "race swq: every failure is ENOSPC" all_err_enospc
expect "race swq: two WQs fully shared" siov0 0 0 2 0 6 8 0 0
t_check "race swq: counters add up" consistent siov0
reset_parent siov0

section "race: host netdev and host WQ requests racing mdev creates"
round=1
while [ $round -le 5 ]; do
        race_run $(repeat 12 create:siov0:1dwq) $(repeat 6 create:siov0:1swq) \
                netdevs:siov0:1 netdevs:siov0:2 netdevs:siov0:3 netdevs:siov0:4 \
                wqs:siov0:1 wqs:siov0:2
        t_check "race host $round: every failure is ENOSPC" all_err_enospc
        t_check "race host $round: counters add up" consistent siov0
        t_eq "race host $round: mdevs = successful creates" "$(n_ok create)" \
                "$(( $(n_devices siov0 1dwq) + $(n_devices siov0 1swq) ))"
        hn=$(cat $CLS/siov0/host_netdevs)
        t_check "race host $round: host_netdevs is one of the values written ($hn)" \
                sh -c "grep -qx 'netdevs $hn' /tmp/race/ok.* || [ $hn -eq 0 ]"
        t_log "round $round: $(state siov0)"
        reset_parent siov0
        round=$((round + 1))
done
expect "race host: back to initial" siov0 8 0 0 0 0 0 8 32

# --- uevents ------------------------------------------------------------------------

section "uevents"
UL_LOG=/tmp/uevents.log
rm -f /tmp/ul.ready
e1=$(new_uuid)
# EXISTS=<remove file><type devices/ link>, tested when each event is read
uevent-listen -d /devices/virtual/idxd/siov0 -r /tmp/ul.ready -t 600 \
        -x "$MD/$e1/remove" -x "$(tdir siov0 1dwq)/devices/$e1" >$UL_LOG 2>&1 &
UL_PID=$!
t_check "uevent: listener bound" t_wait_for 10 test -e /tmp/ul.ready
ev_count() { grep -c '^ACTION=change ' $UL_LOG; }
ev_count_ge() { [ "$(ev_count)" -ge "$1" ]; }
# ev_last_has N_BEFORE KEY=VALUE...: a new change event arrived, and the
# newest one carries every KEY=VALUE
ev_last_has() {
        local before=$1 last kv
        shift
        [ "$(ev_count)" -gt "$before" ] || return 1
        last=$(grep '^ACTION=change ' $UL_LOG | tail -n 1)
        for kv in "$@"; do
                case " $last " in *" $kv "*) ;; *) return 1 ;; esac
        done
}
# ev_step NAME FREE AVAIL_DWQ AVAIL_SWQ [KEY=VALUE...] -- CMD...
ev_step() {
        local name=$1 free=$2 a1=$3 a2=$4 n extra=""
        shift 4
        while [ "$1" != -- ]; do extra="$extra $1"; shift; done
        shift
        n=$(ev_count)
        "$@" >/dev/null || t_fail "uevent: $name: command" "$*"
        if t_wait_for 10 ev_last_has "$n" "SIOV_POOL_FREE=$free" "SIOV_AVAIL_1DWQ=$a1" \
                "SIOV_AVAIL_1SWQ=$a2" $extra; then
                t_pass "uevent: $name"
        else
                t_fail "uevent: $name" "want FREE=$free 1DWQ=$a1 1SWQ=$a2$extra; last: $(grep '^ACTION=change ' $UL_LOG | tail -n 1)"
        fi
}
e2=$(new_uuid)
ev_step "dwq create" 7 7 28 SIOV_POOL_MDEV_DWQ=1 -- mk siov0 1dwq "$e1"
t_check "uevent: the create's event came after the mdev core's sysfs entries (remove, devices/ link)" \
        sh -c "grep '^ACTION=change ' $UL_LOG | tail -n 1 | grep -q ' EXISTS=11$'"
ev_step "swq create" 6 6 27 SIOV_POOL_MDEV_SWQ=1 -- mk siov0 1swq "$e2"
ev_step "host_netdevs=2" 4 4 19 SIOV_POOL_HOST_NETDEV=2 -- wr $CLS/siov0/host_netdevs 2
ev_step "host_wqs=1" 3 3 15 SIOV_POOL_HOST_WQ=1 -- wr $CLS/siov0/host_wqs 1
ev_step "host_netdevs=0" 5 5 23 SIOV_POOL_HOST_NETDEV=0 -- wr $CLS/siov0/host_netdevs 0
ev_step "swq remove" 6 6 24 SIOV_POOL_MDEV_SWQ=0 -- rmdev "$e2"
ev_step "dwq remove" 7 7 28 SIOV_POOL_MDEV_DWQ=0 -- rmdev "$e1"
ev_step "host_wqs=0" 8 8 32 SIOV_POOL_TOTAL=8 SIOV_POOL_HOST_WQ=0 -- wr $CLS/siov0/host_wqs 0
n=$(ev_count)
wr $CLS/siov0/host_wqs 9 >/dev/null
wr $CLS/siov0/host_wqs 0 >/dev/null     # no change: no event either
u=$(new_uuid)
wr $CLS/siov0/host_wqs 8 >/dev/null
mk siov0 1dwq "$u" >/dev/null
t_wait_for 10 ev_count_ge $((n + 1))
sleep 1
t_eq "uevent: refused or no-op changes send nothing" $((n + 1)) "$(ev_count)"
wr $CLS/siov0/host_wqs 0 >/dev/null
t_eq "uevent: no MDEV_STATE key in our change events" 0 "$(grep -c 'MDEV_STATE' $UL_LOG)"
t_check "uevent: SIOV_POOL_GEN increases" sh -c "grep -o 'SIOV_POOL_GEN=[0-9]*' $UL_LOG | cut -d= -f2 | sort -n -c"
t_check "uevent: no overflow" sh -c "! grep -q OVERFLOW $UL_LOG"
n=$(ev_count)
race_run $(repeat 16 create:siov0:1dwq)
t_check "uevent: after a race the last event shows the final pool" \
        t_wait_for 10 ev_last_has "$n" "SIOV_POOL_FREE=0" "SIOV_AVAIL_1DWQ=0" "SIOV_POOL_MDEV_DWQ=8"
t_check "uevent: one event per change in a race" t_wait_for 10 ev_count_ge $((n + 8))
reset_parent siov0
t_check "uevent: last event after cleanup shows the empty pool" \
        t_wait_for 10 ev_last_has "$n" "SIOV_POOL_FREE=8" "SIOV_AVAIL_1SWQ=32"
kill $UL_PID 2>/dev/null
wait $UL_PID 2>/dev/null
t_log "$(grep -c . $UL_LOG) events on siov0; last: $(tail -n 1 $UL_LOG)"

# --- VFIO -------------------------------------------------------------------------------

section "VFIO"
v1=$(new_uuid)
mk siov0 1dwq "$v1" >/dev/null
wq=$(cat $MD/$v1/wq)
vfio-test check "$v1" dwq "$wq" $WQS $SLOTS >/tmp/vfio-dwq.out 2>&1
rc=$?
ok_lines "dwq " /tmp/vfio-dwq.out
t_eq "vfio dwq: test program exit status" 0 $rc
v2=$(new_uuid) v3=$(new_uuid)
mk siov1 1swq "$v2" >/dev/null
mk siov1 1swq "$v3" >/dev/null
t_eq "vfio swq: two swq mdevs share a WQ" "$(cat $MD/$v2/wq)" "$(cat $MD/$v3/wq)"
vfio-test check "$v3" swq "$(cat $MD/$v3/wq)" $WQS $SLOTS >/tmp/vfio-swq.out 2>&1
rc=$?
ok_lines "swq " /tmp/vfio-swq.out
t_eq "vfio swq: test program exit status" 0 $rc
vfio-test irq "$v2" >/tmp/vfio-irq.out 2>&1
rc=$?
ok_lines "" /tmp/vfio-irq.out
t_eq "vfio irq: test program exit status" 0 $rc

section "vfio-pci comparison"
# The same SET_IRQS/GET_IRQ_INFO calls on an mdev and on a real vfio-pci
# device: an NVMe VF of QEMU's emulated PF, behind the emulated intel-iommu.
pf=""
for d in /sys/bus/pci/devices/*; do
        [ -e "$d/sriov_totalvfs" ] && [ "$(cat "$d/vendor")" = 0x1b36 ] && pf=$d
done
if t_check "vfio-pci: an SR-IOV PF (QEMU NVMe) is present" test -n "$pf"; then
        echo 0 >"$pf/sriov_drivers_autoprobe"
        t_check "vfio-pci: enable 1 VF" sh -c "echo 1 >$pf/sriov_numvfs"
        vf=$(basename "$(readlink "$pf/virtfn0")")
        t_check "vfio-pci: bind the VF to vfio-pci" sh -c "modprobe vfio_pci &&
                echo vfio-pci >/sys/bus/pci/devices/$vf/driver_override &&
                echo $vf >/sys/bus/pci/drivers_probe &&
                test \"\$(basename \$(readlink /sys/bus/pci/devices/$vf/driver))\" = vfio-pci"
        vfio-test irqcmp "$v1" >/tmp/irqcmp.mdev 2>&1
        vfio-test irqcmp "$vf" >/tmp/irqcmp.vf 2>&1
        t_eq "vfio-pci: same calls on both" "$(grep '^call' /tmp/irqcmp.mdev | cut -d: -f1 | md5sum)" \
                "$(grep '^call' /tmp/irqcmp.vf | cut -d: -f1 | md5sum)"
        t_check "vfio-pci: the comparison ran ($(grep -c '^call' /tmp/irqcmp.vf) calls)" \
                test "$(grep -c '^call' /tmp/irqcmp.vf)" -ge 30
        grep '^#' /tmp/irqcmp.mdev /tmp/irqcmp.vf
        grep '^call' /tmp/irqcmp.mdev | while IFS= read -r line; do
                name=${line%%: *}
                name=${name#call }
                theirs=$(grep -F "call $name: " /tmp/irqcmp.vf | head -n 1)
                t_eq "vfio-pci: $name" "${theirs#*: }" "${line#*: }"
        done
        echo 0 >/sys/bus/pci/devices/$vf/driver/unbind 2>/dev/null
        echo "$vf" >/sys/bus/pci/drivers/vfio-pci/unbind 2>/dev/null
        echo 0 >"$pf/sriov_numvfs"
fi

section "migration"
for t in 1dwq 1swq; do
        t_eq "migration: siov0 idxd-$t migration_version" \
                "driver=siov_mdev type=idxd-$t state=1$([ $t = 1swq ] && echo " swq_slots=$SLOTS")" \
                "$(cat "$(tdir siov0 $t)/migration_version")"
done
t_check "migration: migration_version is read-only" sh -c "! echo x >$(tdir siov0 1dwq)/migration_version"
t_eq "migration: an mdev is migratable" 1 "$(cat $MD/$v1/migratable)"
m1=$(new_uuid) m2=$(new_uuid)
mk siov1 1dwq "$m1" >/dev/null
mk siov0 1swq "$m2" >/dev/null
vfio-test migrate "$v1" "$m1" "$v2" >/tmp/vfio-mig.out 2>&1
rc=$?
ok_lines "dwq " /tmp/vfio-mig.out
t_eq "migration dwq: test program exit status" 0 $rc
# a parent whose shared WQs have 2 slots: another idxd-1swq geometry
wr $CLS/add_parent "2 2" >/dev/null
t_eq "migration: siov2 idxd-1swq migration_version shows its slots" \
        "driver=siov_mdev type=idxd-1swq state=1 swq_slots=2" "$(cat "$(tdir siov2 1swq)/migration_version")"
m3=$(new_uuid)
mk siov2 1swq "$m3" >/dev/null
vfio-test migrate "$m2" "$v2" "$m3" >/tmp/vfio-mig2.out 2>&1
rc=$?
ok_lines "swq " /tmp/vfio-mig2.out
t_eq "migration swq: test program exit status" 0 $rc
wr $CLS/remove_parent siov2 >/dev/null
t_check "migration: the refused resumes are logged" sh -c "dmesg | grep -q 'resume: corrupt stream'"
# the destination must hold a WQ of the kind: its mdev is created first,
# and that create is refused cleanly when the pool has none
wr $CLS/siov1/host_wqs $(pool siov1 free) >/dev/null
u=$(new_uuid); out=$(mk siov1 1dwq "$u"); rc=$?
expect_enospc "migration: no destination without a free WQ of the kind (ENOSPC)" "$out" $rc
t_check "migration: the refused destination left nothing" test ! -e "$MD/$u"
wr $CLS/siov1/host_wqs 0 >/dev/null
rmdev "$m1" >/dev/null
rmdev "$m2" >/dev/null
# (the 2,000 cycles below rotate the kernel log: check the taint flag here)
t_eq "migration: no kernel WARN so far (taint flag 512)" 0 $(($(cat /proc/sys/kernel/tainted) & 512))

section "VFIO removal"
rm -f /tmp/hold.ready
vfio-test hold "$v3" /tmp/hold.ready req >/tmp/hold.out 2>&1 &
HOLD=$!
t_check "vfio: holder opened the device" t_wait_for 20 test -e /tmp/hold.ready
t_check "vfio: remove of an open mdev completes through the REQ eventfd" timeout 60 sh -c "echo 1 >$MD/$v3/remove"
wait $HOLD
t_eq "vfio: holder released the device on request" 0 $?
t_check "vfio: requested mdev is gone" test ! -e "$MD/$v3"
rmdev "$v1" >/dev/null
rmdev "$v2" >/dev/null
expect "vfio: siov0 back to initial" siov0 8 0 0 0 0 0 8 32
expect "vfio: siov1 back to initial" siov1 8 0 0 0 0 0 8 32

# --- removal held by a VFIO user that ignores REQ -------------------------------------

section "held removal"
# proc_gone PID: the process exited (gone or a zombie waiting to be reaped)
proc_gone() { ! test -d "/proc/$1" || grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat"; }
# enodev CMD...: the command fails with "No such device"
enodev() {
        local out
        out=$("$@" 2>&1) && { echo "succeeded"; return 1; }
        printf '%s' "$out" | grep -q "No such device" || { echo "$out"; return 1; }
}
H1=$(new_uuid)
mk siov0 1dwq "$H1" >/dev/null
rm -f /tmp/ign.ready
vfio-test hold "$H1" /tmp/ign.ready ignore >/tmp/ign.out 2>&1 &
IGN=$!
t_check "held: a holder that ignores REQ has an mdev of siov0 open" t_wait_for 20 test -e /tmp/ign.ready
swrite $CLS/remove_parent siov0 >/tmp/rp.out 2>&1 &
RP=$!
t_check "held: remove_parent siov0 asks the holder (REQ signalled)" t_wait_for 30 grep -q "^request" /tmp/ign.out
t_check "held: remove_parent siov0 waits for the holder" kill -0 $RP
t_check "held: host_netdevs on dying siov0 is ENODEV" enodev swrite $CLS/siov0/host_netdevs 1
t_check "held: host_wqs on dying siov0 is ENODEV" enodev swrite $CLS/siov0/host_wqs 1
# (the mdev core drops /sys/class/mdev_bus/siov0 first: use the device's own folder)
t_check "held: create on dying siov0 is ENODEV" \
        enodev swrite $CLS/siov0/mdev_supported_types/idxd-1dwq/create "$(new_uuid)"
t_check_fails "held: a second remove_parent siov0 is refused at once" timeout 20 swrite $CLS/remove_parent siov0
t_check "held: add_parent completes" timeout 20 swrite $CLS/add_parent 2
t_check "held: the new parent is siov2" test -d $CLS/siov2
t_check "held: remove_parent siov2 completes" timeout 20 swrite $CLS/remove_parent siov2
t_check "held: host_netdevs=2 on siov1 completes" timeout 20 swrite $CLS/siov1/host_netdevs 2
t_check "held: host_wqs=1 on siov1 completes" timeout 20 swrite $CLS/siov1/host_wqs 1
H2=$(new_uuid)
t_check "held: create on siov1 completes" timeout 20 swrite "$(tdir siov1 1swq)/create" "$H2"
t_check "held: remove on siov1 completes" timeout 20 swrite "$MD/$H2/remove" 1
expect "held: siov1 counts the host use" siov1 5 0 0 2 1 0 5 20
t_check "held: siov1 consistent" consistent siov1
t_check "held: remove_parent siov0 is still waiting" kill -0 $RP
kill -9 $RP
t_check "held: kill -9 of the waiting writer returns" t_wait_for 10 proc_gone $RP
wait $RP 2>/dev/null
t_check "held: siov0 stays until the holder lets go" test -d $CLS/siov0
t_check "held: the holder still has the device" kill -0 $IGN
kill $IGN
wait $IGN 2>/dev/null
t_check "held: removal completes once the holder exits" t_wait_for 30 test ! -e $CLS/siov0
t_check "held: siov0's mdev is gone" test ! -e "$MD/$H1"
wr $CLS/siov1/host_netdevs 0 >/dev/null
wr $CLS/siov1/host_wqs 0 >/dev/null
expect "held: siov1 back to initial" siov1 8 0 0 0 0 0 8 32
t_check "held: siov1 consistent afterwards" consistent siov1
t_check "held: add_parent brings siov0 back" wr $CLS/add_parent ""
expect "held: siov0 has a fresh pool" siov0 8 0 0 0 0 0 8 32
t_log "holder: $(tail -n 1 /tmp/ign.out)"

# --- runtime parent add/remove --------------------------------------------------------

section "runtime parents"
t_check "parents: add_parent 4" wr $CLS/add_parent 4
t_check "parents: siov2 appears" test -d $CLS/siov2
t_check "parents: siov2 is an mdev parent" test -d "$(tdir siov2 1dwq)"
t_eq "parents: siov2 total" 4 "$(pool siov2 total)"
expect "parents: siov2 state" siov2 4 0 0 0 0 0 4 16
t_check "parents: add_parent '3 2' (WQs, slots)" wr $CLS/add_parent "3 2"
t_eq "parents: siov3 swq_slots" 2 "$(pool siov3 swq_slots)"
expect "parents: siov3 state" siov3 3 0 0 0 0 0 3 6
t_check "parents: add_parent with defaults" wr $CLS/add_parent ""
expect "parents: siov4 has the default pool" siov4 $WQS 0 0 0 0 0 $WQS $((WQS * SLOTS))
t_check_fails "parents: add_parent abc refused" wr $CLS/add_parent abc
t_check_fails "parents: add_parent 0 refused" wr $CLS/add_parent 0
t_check_fails "parents: add_parent 5000 refused" wr $CLS/add_parent 5000
t_eq "parents: refused adds create nothing" "add_parent remove_parent siov0 siov1 siov2 siov3 siov4" "$(echo $(ls $CLS))"
P1=$(new_uuid) P2=$(new_uuid) P3=$(new_uuid)
mk siov2 1dwq "$P1" >/dev/null
mk siov2 1dwq "$P2" >/dev/null
mk siov2 1swq "$P3" >/dev/null
wr $CLS/siov2/host_netdevs 1 >/dev/null
expect "parents: siov2 in use" siov2 0 2 1 1 0 1 0 3
t_eq "parents: siov2nd0 in ip link" 1 "$(n_netdevs_ip siov2)"
t_check "parents: remove_parent siov2" wr $CLS/remove_parent siov2
t_check "parents: siov2 gone from class idxd" test ! -e $CLS/siov2
t_check "parents: siov2 gone from mdev_bus" test ! -e $MB/siov2
t_check "parents: siov2's mdevs removed" sh -c "! test -e $MD/$P1 && ! test -e $MD/$P2 && ! test -e $MD/$P3"
t_eq "parents: siov2's netdev removed" 0 "$(n_netdevs_ip siov2)"
t_check_fails "parents: remove_parent unknown name refused" wr $CLS/remove_parent siov99
t_check_fails "parents: remove_parent ../siov0 refused" wr $CLS/remove_parent ../siov0
t_check "parents: add_parent reuses the lowest free name" sh -c "echo 2 >$CLS/add_parent && test -d $CLS/siov2"
t_eq "parents: new siov2 has a fresh pool" 2 "$(pool siov2 free)"
for p in siov2 siov3 siov4; do wr $CLS/remove_parent $p >/dev/null || t_fail "parents: remove $p" "$?"; done
t_eq "parents: back to siov0 and siov1" "add_parent remove_parent siov0 siov1" "$(echo $(ls $CLS))"
t_check "parents: siov0 unaffected" consistent siov0

# --- 2,000 create/remove cycles with host-use changes -----------------------------------

section "stress: 2000 cycles"
initial=$(state siov0)
LD=$(new_uuid) LS=$(new_uuid) U=$(new_uuid)
mk siov0 1dwq "$LD" >/dev/null     # long-lived mdevs the loop works around
mk siov0 1swq "$LS" >/dev/null
C1=$(tdir siov0 1dwq)/create C2=$(tdir siov0 1swq)/create R=$MD/$U/remove
HN=$CLS/siov0/host_netdevs HW=$CLS/siov0/host_wqs
i=0 err=""
t0=$(date +%s)
while [ $i -lt 2000 ]; do
        if [ $((i % 2)) -eq 0 ]; then c=$C1; else c=$C2; fi
        echo "$U" >"$c" 2>/tmp/stress.err || { err="cycle $i create: $(cat /tmp/stress.err)"; break; }
        echo 1 >"$R" 2>/tmp/stress.err || { err="cycle $i remove: $(cat /tmp/stress.err)"; break; }
        case $((i % 40)) in
        10) echo $(((i / 40) % 3)) >"$HN" 2>/tmp/stress.err || { err="cycle $i host_netdevs: $(cat /tmp/stress.err)"; break; } ;;
        30) echo $(((i / 40) % 4)) >"$HW" 2>/tmp/stress.err || { err="cycle $i host_wqs: $(cat /tmp/stress.err)"; break; } ;;
        esac
        if [ $((i % 500)) -eq 499 ]; then
                why=$(consistent siov0) || { err="cycle $i: $why"; break; }
        fi
        i=$((i + 1))
done
t_log "stress: $i cycles in $(($(date +%s) - t0)) s"
t_eq "stress: 2000 cycles without an error" "2000 " "$i $err"
rmdev "$LD" >/dev/null
rmdev "$LS" >/dev/null
echo 0 >"$HN"
echo 0 >"$HW"
t_eq "stress: counters back to their initial values" "$initial" "$(state siov0)"
t_check "stress: consistent" consistent siov0

# --- module unload with mdevs present ------------------------------------------------

section "unload"
K1=$(new_uuid) K2=$(new_uuid) K3=$(new_uuid)
mk siov0 1dwq "$K1" >/dev/null
mk siov0 1swq "$K2" >/dev/null
mk siov1 1dwq "$K3" >/dev/null
wr $CLS/siov0/host_netdevs 2 >/dev/null
wr $CLS/siov1/host_wqs 1 >/dev/null
t_eq "unload: 3 mdevs and 2 netdevs present" "3 2" "$(ls $MD | wc -l) $(n_netdevs_ip siov0)"
rm -f /tmp/hold2.ready
vfio-test hold "$K1" /tmp/hold2.ready >/dev/null 2>&1 &
HOLD=$!
t_check "unload: a VFIO user holds one mdev open" t_wait_for 20 test -e /tmp/hold2.ready
out=$(rmmod siov_mdev 2>&1); rc=$?
expect_err "unload: refused while a VFIO fd is open (module in use)" "in use" "$out" $rc
t_eq "unload: refusal changed nothing" "3 2" "$(ls $MD | wc -l) $(n_netdevs_ip siov0)"
kill $HOLD
wait $HOLD 2>/dev/null
t_check "unload: rmmod with mdevs present succeeds" rmmod siov_mdev
t_check "unload: module gone" test ! -e /sys/module/siov_mdev
t_eq "unload: mdevs removed" 0 "$(ls $MD | wc -l)"
t_eq "unload: netdevs removed" 0 "$(ip link show | grep -c 'siov[0-9]*nd')"
t_check "unload: class idxd gone" test ! -e $CLS
t_check "unload: no mdev parents left" sh -c "! ls $MB | grep -q siov"
t_check "unload: reload" modprobe siov_mdev parents=1
expect "unload: fresh pool after reload" siov0 8 0 0 0 0 0 8 32
t_check "unload: rmmod of an idle module" rmmod siov_mdev
t_check "unload: load with migration=0" modprobe siov_mdev migration=0
t_check "migration=0: no migration_version" test ! -e "$(tdir siov0 1dwq)/migration_version"
u=$(new_uuid)
mk siov0 1dwq "$u" >/dev/null
t_eq "migration=0: an mdev is not migratable" 0 "$(cat $MD/$u/migratable)"
t_check "migration=0: rmmod" rmmod siov_mdev
t_check "idxd class: a stub registers a class named idxd" insmod /usr/local/bin/idxd_class_stub.ko
out=$(modprobe siov_mdev 2>&1); rc=$?
expect_err "idxd class: siov_mdev refuses to load (EBUSY: modprobe fails)" "Device or resource busy" "$out" $rc
t_check "idxd class: the kernel log says why" sh -c "dmesg | tail -n 20 | grep -q 'a device class named \"idxd\" already exists'"
t_check "idxd class: nothing of siov_mdev is left" test ! -e /sys/module/siov_mdev
t_check "idxd class: rmmod the stub" rmmod idxd_class_stub

# --- the kernel log ---------------------------------------------------------------------------

dmesg >/tmp/dmesg.txt
t_check "dmesg: no warning, BUG or oops" sh -c "! grep -E 'WARNING:|BUG:|Oops|Call Trace|general protection' /tmp/dmesg.txt"
t_check "dmesg: no hung task" sh -c "! grep -q 'blocked for more than' /tmp/dmesg.txt"

t_summary
