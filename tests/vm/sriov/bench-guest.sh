[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# In the guest, run by tests/vm/sriov/bench: numvfs 0→2→0 cycles.
. "$VM_LIB"
CYCLES=${1:-50}
N=2
PF=$(for d in /sys/bus/pci/devices/*; do [ -f "$d/sriov_totalvfs" ] && basename "$d"; done | head -n 1)
P=/sys/bus/pci/devices/$PF

# loop MODE UP_CMD DOWN_CMD
loop() {
        local mode=$1 up=$2 down=$3 i t0 t1 t2 tu=0 td=0
        for ((i = 0; i < CYCLES; i++)); do
                t0=${EPOCHREALTIME/./}
                eval "$up" || { echo "bench: $mode: 0→$N failed" >&2; return 1; }
                t1=${EPOCHREALTIME/./}
                eval "$down" || { echo "bench: $mode: $N→0 failed" >&2; return 1; }
                t2=${EPOCHREALTIME/./}
                tu=$((tu + t1 - t0)) td=$((td + t2 - t1))
        done
        awk -v m="$mode" -v n="$CYCLES" -v u="$tu" -v d="$td" -v k="$N" 'BEGIN {
                printf "BENCH mode=%s cycles=%d up_ms=%.2f down_ms=%.2f up_per_vf_ms=%.2f down_per_vf_ms=%.2f\n",
                        m, n, u / n / 1e3, d / n / 1e3, u / n / k / 1e3, d / n / k / 1e3 }'
}

t_check "bench: an SR-IOV PF" test -n "$PF"
t_check "bench: system bus" t_dbus_start
modprobe vfio-pci
echo 0 >$P/sriov_drivers_autoprobe
out=$(loop raw "echo $N > $P/sriov_numvfs" "echo 0 > $P/sriov_numvfs"); t_eq "bench: raw" 0 $?; echo "$out"
siovd >/tmp/siovd.log 2>&1 &
t_check "bench: siovd up" t_wait_for 15 busctl status org.siov1
out=$(loop raw-with-siovd "echo $N > $P/sriov_numvfs" "echo 0 > $P/sriov_numvfs"); t_eq "bench: raw with siovd" 0 $?; echo "$out"
out=$(loop siovctl "siovctl sriov $PF --numvfs $N" "siovctl sriov $PF --numvfs 0"); t_eq "bench: siovctl" 0 $?; echo "$out"
out=$(loop busctl "busctl call org.siov1 /org/siov1/parent/_30000_3a01_3a00_2e0 org.siov1.Parent SetNumVFs ua{sv} $N 0" \
        "busctl call org.siov1 /org/siov1/parent/_30000_3a01_3a00_2e0 org.siov1.Parent SetNumVFs ua{sv} 0 0")
t_eq "bench: busctl" 0 $?; echo "$out"
out=$(loop exec "siovctl --version" "siovctl --version"); t_eq "bench: exec" 0 $?; echo "$out"
t_eq "bench: no VFs left" 0 "$(cat $P/sriov_numvfs)"
t_summary
