# Benchmark (not a test), run inside the guest by tests/vm/kmod/bench:
# mdev create+remove cycles per second through raw sysfs writes.
#   bench-guest.sh CYCLES RUNS
. "$VM_LIB"
CYCLES=${1:-1000}
RUNS=${2:-3}
MB=/sys/class/mdev_bus

t_check "bench: modprobe siov_mdev" modprobe siov_mdev parents=1 wqs=8 swq_slots=4
for type in idxd-1dwq idxd-1swq; do
        T=$MB/siov0/mdev_supported_types/$type
        t_check "bench: $type warm-up (100 cycles)" mdev-bench "$T" 100
        r=1
        while [ $r -le "$RUNS" ]; do
                out=$(mdev-bench "$T" "$CYCLES" 2>&1)
                rc=$?
                echo "BENCH: $type run $r: $out"
                t_eq "bench: $type run $r completed" 0 $rc
                r=$((r + 1))
        done
        t_eq "bench: $type pool back to free" 8 "$(cat /sys/class/idxd/siov0/pool/free)"
done

# The same cycle as a busybox shell loop (echo builtins, no fork per write),
# for comparison with what a script can reach.
T=$MB/siov0/mdev_supported_types/idxd-1dwq
U=5107e000-0000-4000-8000-0000000000ff
t0=$(cut -d' ' -f1 /proc/uptime)
i=0
while [ $i -lt "$CYCLES" ]; do
        echo $U >"$T/create" || break
        echo 1 >"/sys/bus/mdev/devices/$U/remove" || break
        i=$((i + 1))
done
t1=$(cut -d' ' -f1 /proc/uptime)
t_eq "bench: shell loop completed" "$CYCLES" "$i"
echo "BENCH: idxd-1dwq shell loop: $(awk -v n="$i" -v a="$t0" -v b="$t1" \
        'BEGIN { printf "%d cycles in %.2f s: %.1f cycles/s", n, b - a, n / (b - a) }')"
t_summary
