[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# Benchmark (not a test), in the guest, run by tests/vm/lifecycle/bench:
# create+destroy cycles through raw sysfs, sd-bus, siovctl and mdevctl.
#   bench-guest.sh CYCLES RUNS
. "$VM_LIB"
CYCLES=${1:-500}
RUNS=${2:-1}
P=siov0 T=idxd-1dwq
WARM=20

siovd_start() {
        siovd --definitions-dir=/tmp/siov-defs >/tmp/siovd.log 2>&1 &
        SIOVD_PID=$!
        t_wait_for 15 busctl status org.siov1
}
siovd_stop() { kill -TERM $SIOVD_PID; wait $SIOVD_PID; }
# shell_loop MODE N CREATE_CMD DESTROY_CMD: one process per operation; @U@ is the UUID
shell_loop() {
        local mode=$1 n=$2 c=$3 d=$4 i u t0 t1 t2 tc=0 td=0
        for ((i = 0; i < n; i++)); do
                printf -v u 'b3c20000-0000-4000-8000-%012x' $((RANDOM * 100000 + i))
                # EPOCHREALTIME in microseconds, read without a fork
                t0=${EPOCHREALTIME/./}
                ${c//@U@/$u} >/dev/null || { echo "bench: $mode: create $u failed" >&2; return 1; }
                t1=${EPOCHREALTIME/./}
                ${d//@U@/$u} >/dev/null || { echo "bench: $mode: destroy $u failed" >&2; return 1; }
                t2=${EPOCHREALTIME/./}
                tc=$((tc + t1 - t0)) td=$((td + t2 - t1))
        done
        awk -v m="$mode" -v n="$n" -v c="$tc" -v d="$td" 'BEGIN {
                printf "BENCH mode=%s cycles=%d total_s=%.3f per_cycle_ms=%.3f create_ms=%.3f destroy_ms=%.3f\n",
                        m, n, (c + d) / 1e6, (c + d) / n / 1e3, c / n / 1e3, d / n / 1e3 }'
}
HZ=100   # USER_HZ: /proc/PID/stat counts CPU time in 1/100 s
cpu_ticks() { local a; read -ra a </proc/$SIOVD_PID/stat; echo $((a[13] + a[14])); }
pool_free() { t_eq "bench: $1: pool free again" 8 "$(cat /sys/class/idxd/$P/pool/free)"; }

t_check "bench: system bus" t_dbus_start
t_check "bench: modprobe siov_mdev" modprobe siov_mdev parents=1 wqs=8
# What Debian's mdevctl package creates; mdevctl refuses to run without it.
mkdir -p /etc/mdevctl.d/scripts.d/callouts /etc/mdevctl.d/scripts.d/notifiers /tmp/siov-defs
for ((r = 1; r <= RUNS; r++)); do
        t_log "run $r of $RUNS"
        # (a) raw sysfs, nothing listening but the kernel
        t_check "bench: sysfs warm-up" bench-client sysfs $P $T $WARM
        out=$(bench-client sysfs $P $T "$CYCLES"); t_eq "bench: sysfs run $r" 0 $?
        echo "$out"; pool_free sysfs

        # (d) mdevctl, without siovd
        t_check "bench: mdevctl warm-up" shell_loop mdevctl $WARM \
                "mdevctl start --parent $P --type $T --uuid @U@" "mdevctl stop --uuid @U@"
        out=$(shell_loop mdevctl "$CYCLES" "mdevctl start --parent $P --type $T --uuid @U@" "mdevctl stop --uuid @U@")
        t_eq "bench: mdevctl run $r" 0 $?
        echo "$out"; pool_free mdevctl

        # process start alone, for (c) and (d): two execs per cycle
        out=$(shell_loop exec-mdevctl "$CYCLES" "mdevctl --version" "mdevctl --version"); t_eq "bench: exec-mdevctl run $r" 0 $?
        echo "$out"

        t_check "bench: siovd starts" siovd_start
        # the bus alone: two Peer.Ping round trips to siovd per cycle
        out=$(bench-client ping $P $T "$CYCLES"); t_eq "bench: ping run $r" 0 $?
        echo "$out"
        out=$(shell_loop exec-siovctl "$CYCLES" "siovctl --version" "siovctl --version"); t_eq "bench: exec-siovctl run $r" 0 $?
        echo "$out"
        # (a') raw sysfs while siovd follows the uevents, and the CPU time
        # siovd needs to digest them (until it is idle again)
        c0=$(cpu_ticks)
        out=$(bench-client sysfs $P $T "$CYCLES"); t_eq "bench: sysfs with siovd run $r" 0 $?
        echo "${out/mode=sysfs/mode=sysfs-siovd}"; pool_free sysfs-siovd
        c1=$(cpu_ticks) c2=-1
        while [ "$c1" != "$c2" ]; do c2=$c1; sleep 1; c1=$(cpu_ticks); done
        echo "BENCHINFO siovd CPU time following the uevents of $CYCLES raw cycles: $(( (c1 - c0) * 1000 / HZ )) ms ($(awk -v t=$((c1 - c0)) -v h=$HZ -v n="$CYCLES" 'BEGIN { printf "%.2f", t * 1000 / h / n }') ms per cycle)"
        # (b) the D-Bus client library
        t_check "bench: dbus warm-up" bench-client dbus $P $T $WARM
        out=$(bench-client dbus $P $T "$CYCLES"); t_eq "bench: dbus run $r" 0 $?
        echo "$out"; pool_free dbus
        # (c) siovctl
        t_check "bench: siovctl warm-up" shell_loop siovctl $WARM \
                "siovctl create --parent $P --type $T --uuid @U@" "siovctl destroy @U@"
        out=$(shell_loop siovctl "$CYCLES" "siovctl create --parent $P --type $T --uuid @U@" "siovctl destroy @U@")
        t_eq "bench: siovctl run $r" 0 $?
        echo "$out"; pool_free siovctl
        t_check "bench: siovd stops" siovd_stop
        t_eq "bench: no mdev left" 0 "$(ls /sys/bus/mdev/devices | wc -l)"
done
t_summary
