[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# Device lifecycle through siovd in a real 6.1 kernel with the bundled
# driver (run by tests/vm/lifecycle/run): siovctl create/destroy end to end,
# 32 concurrent clients for 8 free work queues, NoCapacity naming host
# netdevs, KernelError naming the sysfs file, and kill -9 of siovd at random
# points of CYCLES create/destroy cycles with sysfs, the definition files and
# the D-Bus tree compared after every restart.
# usage: guest.sh [CYCLES] [KILLS]
. "$VM_LIB"

CYCLES=${1:-200}
KILLS=${2:-4}
DEFS=/tmp/siov-defs
LOG=/tmp/siovd.log
C=/sys/class/mdev_bus
I=/sys/class/idxd
UUID_RE='^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
mkdir -p "$DEFS"

siovd_start() {
        siovd --definitions-dir="$DEFS" --log-level=debug >>"$LOG" 2>&1 &
        SIOVD_PID=$!
        t_wait_for 15 busctl status org.siov1
}
avail() { cat "$C/$1/mdev_supported_types/$2/available_instances"; }
pool() { cat "$I/$1/pool/$2"; }
n_mdevs() { ls /sys/bus/mdev/devices 2>/dev/null | wc -l; }
# D-Bus view: mdev UUIDs by state
dbus_uuids() {  # active|defined|all
        local sel
        case $1 in
        active) sel='.state == "active" or .state == "both"' ;;
        defined) sel='.state == "defined" or .state == "both"' ;;
        all) sel='true' ;;
        esac
        siovctl --json=short list | jq -r ".[] | select(.kind == \"mdev\") | select($sel) | .uuid" | sort
}
sysfs_uuids() { ls /sys/bus/mdev/devices 2>/dev/null | sort; }
def_uuids() { for f in "$DEFS"/*.json; do [ -e "$f" ] && basename "$f" .json; done | sort; }
state_of() { siovctl --json=short list | jq -r --arg u "$1" '.[] | select(.uuid == $u) | .state'; }
# The parent's pool counters add up: total = free + every holder.
pool_adds_up() {
        local p=$1
        [ "$(pool "$p" total)" -eq $(( $(pool "$p" free) + $(pool "$p" mdev_dwq) + $(pool "$p" mdev_swq) +
                $(pool "$p" host_netdev) + $(pool "$p" host_wq) )) ]
}

# Every D-Bus error siovd sends, for the error names.
dbus_monitor_start() {
        dbus-monitor --system "type='error'" >/tmp/errors.log 2>&1 &
        MON_PID=$!
        sleep 0.5
}
# error_name_for TEXT: the error name of the last error whose message has TEXT
error_name_for() {
        sleep 0.3
        awk -v t="$1" '/^error / { n = $0; sub(/.*error_name=/, "", n); sub(/ .*/, "", n) }
                /^   string / && index($0, t) { name = n } END { print name }' /tmp/errors.log
}

t_check "system bus starts with the installed org.siov1 policy" t_dbus_start
# Restarts after kill -9 are ours, with our options: a D-Bus activated siovd
# would use the default definitions folder.
mv /usr/share/dbus-1/system-services/org.siov1.service /tmp/org.siov1.service.off
busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus ReloadConfig
t_check "siovd owns org.siov1 (definitions in $DEFS)" siovd_start || { t_summary; exit 1; }
t_check "modprobe siov_mdev parents=2 wqs=8" modprobe siov_mdev parents=2 wqs=8
t_check "siovd publishes siov0 and siov1" t_wait_for 10 sh -c \
        'siovctl --json parents | jq -e "[.[] | select(.name == \"siov0\" or .name == \"siov1\")] | length == 2"'
dbus_monitor_start

# --- 1. siovctl create --type idxd-1dwq, verbatim, and destroy ------------------
t_log "create/destroy end to end"
a0=$(avail siov0 idxd-1dwq) a1=$(avail siov1 idxd-1dwq)
t_eq "8 free idxd-1dwq on siov0 before" 8 "$a0"
t_eq "siovctl types agrees with sysfs" "$a0" \
        "$(siovctl --json types --parent siov0 | jq -r '.[] | select(.id == "idxd-1dwq") | .available_instances')"
out=$(siovctl create --type idxd-1dwq 2>/tmp/create.err); rc=$?
t_eq "siovctl create --type idxd-1dwq exits 0" 0 $rc
t_match "it prints a UUID" "$UUID_RE" "$out"
U=$out
# A tie (8 and 8) goes to the first name; siovctl says which it took.
t_match "it names the parent it picked (siov0: tie by name)" "siov0" "$(cat /tmp/create.err)"
t_check "the mdev is in /sys/bus/mdev/devices" test -d "/sys/bus/mdev/devices/$U"
t_eq "its type is idxd-1dwq" idxd-1dwq "$(basename "$(readlink "/sys/bus/mdev/devices/$U/mdev_type")")"
t_eq "its parent is siov0" siov0 "$(basename "$(readlink -f "/sys/bus/mdev/devices/$U/..")")"
t_eq "the kernel shows one fewer available on siov0" $((a0 - 1)) "$(avail siov0 idxd-1dwq)"
t_eq "siov1 unchanged" "$a1" "$(avail siov1 idxd-1dwq)"
t_eq "pool/mdev_dwq of siov0 is 1" 1 "$(pool siov0 mdev_dwq)"
t_check "siovctl types shows the new availability" t_wait_for 5 sh -c \
        "siovctl --json types --parent siov0 | jq -e '.[] | select(.id == \"idxd-1dwq\") | .available_instances == $((a0 - 1))'"
t_eq "siovctl list: active, transient, on siov0" "active false siov0 idxd-1dwq" \
        "$(siovctl --json list | jq -r --arg u "$U" '.[] | select(.uuid == $u) | "\(.state) \(.persistent) \(.parent) \(.type)"')"
t_check "no definition for a transient device" test -z "$(def_uuids)"
out=$(siovctl create --type idxd-1dwq 2>/tmp/create.err); rc=$?
t_eq "second create without --parent exits 0" 0 $rc
t_match "it goes to siov1, now the one with most available" "siov1" "$(cat /tmp/create.err)"
t_check "and the mdev is under siov1" test -d "/sys/class/mdev_bus/siov1/$out"
t_check "siovctl destroy of the siov1 device" siovctl destroy "$out"
t_check "siovctl destroy UUID" siovctl destroy "$U"
t_check "the mdev is gone from /sys/bus/mdev/devices" test ! -e "/sys/bus/mdev/devices/$U"
t_eq "availability back on siov0" "$a0" "$(avail siov0 idxd-1dwq)"
t_eq "availability back on siov1" "$a1" "$(avail siov1 idxd-1dwq)"
t_check "siovctl list no longer shows it" t_wait_for 5 sh -c "! siovctl --json list | jq -e '.[] | select(.uuid == \"$U\")'"
out=$(siovctl destroy "$U" 2>&1); rc=$?
t_eq "destroying it again: exit 4 (no such device)" 4 $rc
t_match "... naming the UUID" "$U" "$out"

# Persistent: the definition file follows the device.
U=$(siovctl create --type idxd-1dwq --parent siov0 --persistent 2>/dev/null)
t_match "create --persistent prints a UUID" "$UUID_RE" "$U"
t_check "its definition file parses" jq -e ".uuid == \"$U\" and .parent == \"siov0\" and .type == \"idxd-1dwq\"" "$DEFS/$U.json"
t_eq "state both" both "$(state_of "$U")"
t_check "stop keeps the definition" siovctl stop "$U"
t_check "... the mdev is gone" test ! -e "/sys/bus/mdev/devices/$U"
t_eq "... state defined" defined "$(state_of "$U")"
t_check "start creates it again" siovctl start "$U"
t_check "... the mdev is back" test -d "/sys/bus/mdev/devices/$U"
out=$(siovctl start "$U" 2>&1); rc=$?
t_eq "start of an active device: exit 1" 1 $rc
t_match "... saying it is already active" "$U.*already active" "$out"
t_eq "... as org.siov1.Error.AlreadyExists" org.siov1.Error.AlreadyExists "$(error_name_for "$U is already active")"
t_eq "... and nothing changed (1 mdev)" 1 "$(n_mdevs)"
t_check "destroy removes mdev and definition" siovctl destroy "$U"
t_check "... no mdev" test ! -e "/sys/bus/mdev/devices/$U"
t_check "... no definition file" test ! -e "$DEFS/$U.json"
t_eq "availability back after the persistent device" "$a0" "$(avail siov0 idxd-1dwq)"

# --- 2. 32 concurrent clients, 8 free work queues -------------------------------
t_log "32 concurrent siovctl create for 8 free WQs"
R=/tmp/race
mkdir -p $R
pids=
for i in $(seq 32); do
        (
                while [ ! -e $R/go ]; do sleep 0.01; done
                siovctl create --type idxd-1dwq --parent siov0 >$R/$i.out 2>$R/$i.err
                echo $? >$R/$i.rc
        ) &
        pids="$pids $!"
done
sleep 1
touch $R/go
wait $pids
rcs=$(cat $R/*.rc | sort | uniq -c | awk '{ printf "%s×%s ", $2, $1 }')
t_log "exit statuses: $rcs"
t_eq "exactly 8 clients succeed" 8 "$(grep -lx 0 $R/*.rc | wc -l)"
t_eq "exactly 24 get NoCapacity (exit 6)" 24 "$(grep -lx 6 $R/*.rc | wc -l)"
t_eq "no other exit status" 32 "$(grep -lxE '0|6' $R/*.rc | wc -l)"
exp="parent siov0 has 0 available idxd-1dwq instances: its 8 work queues are used by 8 idxd-1dwq mdevs, 0 host netdevs, 0 host work queues; 0 free"
n_exact=0 n_named=0 n_sum=0
for i in $(seq 32); do
        [ "$(cat $R/$i.rc)" = 6 ] || continue
        e=$(cat $R/$i.err)
        case $e in *"$exp"*) n_exact=$((n_exact + 1)) ;; esac
        case $e in *siov0*idxd-1dwq*mdev*host\ netdev*) n_named=$((n_named + 1)) ;; esac
        # The message's own numbers: holders + free = total.
        if echo "$e" | grep -qE 'its [0-9]+ work queues are used by'; then
                tot=$(echo "$e" | sed -E 's/.*its ([0-9]+) work queues.*/\1/')
                sum=$(echo "$e" | sed -E 's/.*are used by //; s/[,;] /\n/g' | awk '{ s += $1 } END { print s + 0 }')
                [ "$tot" = "$sum" ] && n_sum=$((n_sum + 1))
        fi
done
t_eq "every NoCapacity names parent, type and the pool's users" 24 $n_named
t_eq "every NoCapacity's numbers add up to the pool" 24 $n_sum
t_eq "every NoCapacity says: 8 idxd-1dwq mdevs, 0 free" 24 $n_exact
t_log "e.g. $(grep -h . $R/*.err | head -n 1)"
[ $n_exact -eq 24 ] || { t_log "messages seen:"; cat $R/*.err | sort | uniq -c | sed 's/^/#   /'; }
t_eq "as org.siov1.Error.NoCapacity" org.siov1.Error.NoCapacity "$(error_name_for "parent siov0 has 0 available")"
won=$(cat $R/*.out | sort)
t_eq "the 8 printed UUIDs are the 8 mdevs in sysfs" "$won" "$(sysfs_uuids)"
t_eq "... and the 8 active devices on the bus" "$won" "$(dbus_uuids active)"
t_eq "pool/free of siov0 is 0" 0 "$(pool siov0 free)"
t_eq "pool/mdev_dwq of siov0 is 8" 8 "$(pool siov0 mdev_dwq)"
t_check "pool counters of siov0 add up" pool_adds_up siov0
t_eq "siov1 untouched" 8 "$(pool siov1 free)"
t_eq "available_instances of siov0 is 0" 0 "$(avail siov0 idxd-1dwq)"
# 8 concurrent destroys
pids=
for u in $won; do siovctl destroy "$u" >$R/d-$u.out 2>&1 & pids="$pids $!"; done
wait $pids
t_eq "8 concurrent destroys leave no mdev" 0 "$(n_mdevs)"
t_eq "pool/free of siov0 back to 8" 8 "$(pool siov0 free)"
t_check "siovd lists no device" t_wait_for 5 sh -c '[ -z "$(siovctl --json list | jq -r ".[] | select(.kind == \"mdev\") | .uuid")" ]'

# --- 3. host netdevs take the pool: NoCapacity with the reason --------------------
t_log "host netdev contention"
t_check "8 host netdevs eat siov0's pool" sh -c "echo 8 > $I/siov0/host_netdevs"
t_check "siovd sees the pool drained" t_wait_for 5 sh -c \
        "siovctl --json types --parent siov0 | jq -e '.[] | select(.id == \"idxd-1dwq\") | .available_instances == 0'"
out=$(siovctl create --type idxd-1dwq --parent siov0 2>&1); rc=$?
t_eq "create on siov0: exit 6" 6 $rc
t_log "exit $rc: $out"
t_match "... naming the 8 host netdevs" "parent siov0 has 0 available idxd-1dwq instances: .*8 host netdevs" "$out"
t_eq "... nothing created" 0 "$(n_mdevs)"
t_check "6 host netdevs and 1 host WQ" sh -c "echo 6 > $I/siov0/host_netdevs && echo 1 > $I/siov0/host_wqs"
U=$(siovctl create --type idxd-1dwq --parent siov0 2>/dev/null)
t_match "the one free WQ can be had" "$UUID_RE" "$U"
out=$(siovctl create --type idxd-1dwq --parent siov0 2>&1); rc=$?
t_eq "the next create: exit 6" 6 $rc
t_log "exit $rc: $out"
t_match "... naming the mdev, 6 host netdevs and 1 host WQ" \
        "its 8 work queues are used by 1 idxd-1dwq mdev, 6 host netdevs, 1 host work queue; 0 free" "$out"
t_check "pool counters add up with host users" pool_adds_up siov0
t_check "destroy it" siovctl destroy "$U"
t_check "host users back to 0" sh -c "echo 0 > $I/siov0/host_netdevs && echo 0 > $I/siov0/host_wqs"
t_eq "pool/free back to 8" 8 "$(pool siov0 free)"

# --- 4. KernelError from the real kernel ------------------------------------------
t_log "KernelError"
free0=$(pool siov0 free)
out=$(siovctl create --type idxd-1dwq --parent siov0 --persistent --attr nosuch=1 2>&1); rc=$?
t_eq "--attr nosuch=1: exit 1" 1 $rc
t_log "exit $rc: $out"
t_match "... the message names the sysfs file" "/sys/bus/mdev/devices/[0-9a-f-]{36}/nosuch" "$out"
t_eq "... as org.siov1.Error.KernelError" org.siov1.Error.KernelError "$(error_name_for "/nosuch")"
t_eq "... no mdev left" 0 "$(n_mdevs)"
t_eq "... no definition left" "" "$(ls -A "$DEFS")"
t_eq "... pool unchanged" "$free0" "$(pool siov0 free)"
out=$(siovctl create --type idxd-1dwq --parent siov0 --attr wq=5 2>&1); rc=$?
t_eq "--attr wq=5 (a read-only file): exit 1" 1 $rc
t_log "exit $rc: $out"
t_match "... names the file, the value and the errno text" "/sys/bus/mdev/devices/[0-9a-f-]{36}/wq.*'5'.*(Permission denied|Read-only|Input/output)" "$out"
t_eq "... no mdev left" 0 "$(n_mdevs)"
t_eq "... as org.siov1.Error.KernelError" org.siov1.Error.KernelError "$(error_name_for "/wq")"
t_eq "... pool unchanged" "$free0" "$(pool siov0 free)"
# The kernel's EEXIST: a UUID already used on the other parent.
U=$(siovctl create --type idxd-1dwq --parent siov1 2>/dev/null)
out=$(siovctl create --type idxd-1dwq --parent siov0 --uuid "$U" 2>&1); rc=$?
t_eq "a UUID active on siov1, again on siov0: exit 1" 1 $rc
t_log "exit $rc: $out"
t_match "... saying it exists" "$U.*(exists|already)" "$out"
t_eq "... as org.siov1.Error.AlreadyExists" org.siov1.Error.AlreadyExists "$(error_name_for "$U")"
t_eq "... still one mdev, on siov1" "1 siov1" "$(n_mdevs) $(basename "$(readlink -f "/sys/bus/mdev/devices/$U/..")")"
t_eq "... siov0's pool unchanged" "$free0" "$(pool siov0 free)"
t_check "destroy it" siovctl destroy "$U"
t_check "siovd lists nothing left behind" t_wait_for 5 sh -c '[ -z "$(siovctl --json list | jq -r ".[] | select(.kind == \"mdev\") | .uuid")" ]'

# --- 5. kill -9 of siovd during create/destroy cycles -----------------------------
t_log "kill -9 of siovd: $KILLS times during $CYCLES create/destroy cycles"
K=/tmp/kill
mkdir -p $K
: >$K/ops.log
: >$K/unexpected
echo 0 >$K/epoch
# Devices that live through every crash.
W_BOTH=$(siovctl create -t idxd-1dwq -p siov0 --persistent 2>/dev/null)
W_AUTO=$(siovctl create -t idxd-1dwq -p siov0 --autostart 2>/dev/null)
W_ACT=$(siovctl create -t idxd-1dwq -p siov0 2>/dev/null)
W_DEF=$(siovctl define -t idxd-1dwq -p siov0 2>/dev/null)
W_DEF1=$(siovctl define -t idxd-1swq -p siov1 2>/dev/null)
for w in "$W_BOTH" "$W_AUTO" "$W_ACT" "$W_DEF" "$W_DEF1"; do
        echo "$w" | grep -qE "$UUID_RE" || t_fail "witness devices created" "got '$w'"
done
witness_states() {
        local w
        for w in "$W_BOTH" "$W_AUTO" "$W_ACT" "$W_DEF" "$W_DEF1"; do state_of "$w"; done | tr '\n' ' ' | sed 's/ $//'
}
W_STATES="both both active defined defined"
t_eq "witnesses: persistent, autostart, transient, defined, defined" "$W_STATES" "$(witness_states)"

# Sysfs, the definition files and the D-Bus tree tell the same story.
consistent() {
        local L=$1 f bad=0 stray dups
        for f in "$DEFS"/*.json; do
                [ -e "$f" ] || continue
                jq -e --arg u "$(basename "$f" .json)" '.uuid == $u and (.parent | length > 0) and (.type | length > 0)' "$f" >/dev/null 2>&1 ||
                        { bad=$((bad + 1)); t_log "$L: bad definition $f: $(head -c 200 "$f")"; }
        done
        t_eq "$L: every definition file parses (jq) and names its UUID" 0 $bad
        stray=$(ls "$DEFS" | grep -vE '^[0-9a-f-]{36}\.json$')
        t_eq "$L: nothing but <uuid>.json in the definitions folder" "" "$stray"
        t_log "$L: hidden temporaries: $(ls -A "$DEFS" | grep -c '^\.')"
        t_eq "$L: the bus lists exactly the active mdevs of sysfs" "$(sysfs_uuids | tr '\n' ' ')" "$(dbus_uuids active | tr '\n' ' ')"
        t_eq "$L: the bus lists exactly the definition files as defined" "$(def_uuids | tr '\n' ' ')" "$(dbus_uuids defined | tr '\n' ' ')"
        dups=$(siovctl --json=short list | jq -r '.[].uuid' | sort | uniq -d)
        t_eq "$L: no device listed twice" "" "$dups"
        t_eq "$L: the witnesses are intact" "$W_STATES" "$(witness_states)"
        t_eq "$L: pool/mdev_dwq of siov0 = its idxd-1dwq mdevs in sysfs" \
                "$(ls -d "$C"/siov0/mdev_supported_types/idxd-1dwq/devices/* 2>/dev/null | wc -l)" "$(pool siov0 mdev_dwq)"
        t_check "$L: pool counters add up" pool_adds_up siov0
}

echo 0 >$K/cycle
cat >$K/client.sh <<'EOF'
# The client: CYCLES cycles of (i % 3) transient create/destroy, persistent
# create/destroy, define/start/stop/destroy, each with a fresh UUID. An op
# that fails while siovd was killed (epoch changed) has an unknown outcome:
# the client waits for siovd and destroys the UUID (0 or 4 accepted). Any
# other failure is unexpected.
K=/tmp/kill
park() {
        touch $K/parked
        while [ -e $K/hold ] || ! busctl status org.siov1 >/dev/null 2>&1; do sleep 0.1; done
        rm -f $K/parked
}
# op NAME CMD...: 0 ok, 1 interrupted (resolved), 2 unexpected
op() {
        local name=$1 e0 e1 rc
        shift
        [ -e $K/hold ] && park
        read -r e0 <$K/epoch
        "$@" >/dev/null 2>$K/op.err
        rc=$?
        read -r e1 <$K/epoch
        echo "$i $name $u rc=$rc epoch=$e0/$e1" >>$K/ops.log
        [ $rc -eq 0 ] && return 0
        if [ "$e0" != "$e1" ] || [ -e $K/hold ]; then
                park
                siovctl destroy "$u" >/dev/null 2>$K/op.err
                rc=$?
                echo "$i resolve $u rc=$rc" >>$K/ops.log
                [ $rc -eq 0 ] || [ $rc -eq 4 ] && return 1
        fi
        echo "cycle $i: $name $u: exit $rc: $(cat $K/op.err)" >>$K/unexpected
        return 2
}
for i in $(seq "$1"); do
        echo $i >$K/cycle
        u=$(cat /proc/sys/kernel/random/uuid)
        case $((i % 3)) in
        0) op create siovctl create -t idxd-1dwq -p siov0 --uuid "$u" && op destroy siovctl destroy "$u" ;;
        1) op create-p siovctl create -t idxd-1dwq -p siov0 --uuid "$u" --persistent && op destroy siovctl destroy "$u" ;;
        2) op define siovctl define -t idxd-1dwq -p siov0 --uuid "$u" && op start siovctl start "$u" &&
                op stop siovctl stop "$u" && op destroy siovctl destroy "$u" ;;
        esac
done
echo done >$K/done
EOF
# Kill points: KILLS random cycles, a random delay into each.
points=$(awk -v n="$CYCLES" -v k="$KILLS" -v s="$(od -An -N4 -tu4 /dev/urandom)" 'BEGIN {
        srand(s); lo = int(n / 20) + 1; for (j = 0; j < k; j++) printf "%d\n", lo + int(rand() * (n - 2 * lo)) }' | sort -n | uniq)
t_log "kill -9 at cycles: $(echo $points)"
t0=$(date +%s)
bash $K/client.sh "$CYCLES" &
CLIENT=$!
epoch=0
for p in $points; do
        c=0
        while [ "$c" -lt "$p" ] && [ ! -e $K/done ]; do sleep 0.2; read -r c <$K/cycle || c=0; done
        [ -e $K/done ] && break
        sleep "$(printf '0.%03d' $(( $(od -An -N2 -tu2 /dev/urandom) % 250 )))"
        epoch=$((epoch + 1))
        echo $epoch >$K/epoch
        touch $K/hold
        kill -KILL $SIOVD_PID
        wait $SIOVD_PID 2>/dev/null
        t_log "killed siovd at cycle $(cat $K/cycle) ($(tail -n 1 $K/ops.log))"
        # The client finishes its op (failing) and parks.
        t_wait_for 30 test -e $K/parked -o -e $K/done || t_fail "client parks after kill $epoch" "no sign of it"
        r0=${EPOCHREALTIME/./}
        t_check "kill $epoch: siovd restarts" siovd_start || break
        t_log "kill $epoch: siovd back on the bus after $(( (${EPOCHREALTIME/./} - r0) / 1000 )) ms"
        consistent "kill $epoch"
        rm -f $K/hold
done
wait $CLIENT
t_log "$CYCLES cycles in $(( $(date +%s) - t0 ))s; $(grep -c resolve $K/ops.log) interrupted ops resolved"
t_check "the client ran all $CYCLES cycles" test -e $K/done
t_eq "no unexpected failure in the client" "" "$(cat $K/unexpected)"
t_eq "siovd was killed $(echo $points | wc -w) times" "$(echo $points | wc -w)" "$epoch"
consistent "after the cycles"
loop_uuids=$(awk '{ print $3 }' $K/ops.log | sort -u)
left=$( (sysfs_uuids; def_uuids; dbus_uuids all) | sort -u | grep -Fx -f <(echo "$loop_uuids") || true)
t_eq "none of the cycles' devices is left (sysfs, files, bus)" "" "$left"
t_eq "only the witnesses are active" "$(printf '%s\n' "$W_BOTH" "$W_AUTO" "$W_ACT" | sort | tr '\n' ' ')" "$(sysfs_uuids | tr '\n' ' ')"
t_eq "only the witnesses are defined" "$(printf '%s\n' "$W_BOTH" "$W_AUTO" "$W_DEF" "$W_DEF1" | sort | tr '\n' ' ')" "$(def_uuids | tr '\n' ' ')"

kill $MON_PID 2>/dev/null
kill -TERM $SIOVD_PID
wait $SIOVD_PID
t_eq "siovd exits 0 on SIGTERM" 0 $?
if ! t_summary; then
        echo "--- siovd log (tail)"; tail -n 60 $LOG
        echo "--- client ops (tail)"; tail -n 20 $K/ops.log 2>/dev/null
        echo "--- D-Bus errors (tail)"; tail -n 20 /tmp/errors.log
        exit 1
fi
