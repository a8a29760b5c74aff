#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Fleet metrics the way a fleet reads them: siovd --metrics writes into a
# folder that Debian's prometheus-node-exporter (textfile collector only)
# serves on a loopback port; the test scrapes it over HTTP and follows the
# values through create, a refused create and destroy. Also: the file is
# replaced atomically (never half written), world-readable, and siovd
# refuses to overwrite a file it did not write.
. "$(dirname "$0")/lib.sh"

NODE_EXPORTER=$(command -v prometheus-node-exporter) ||
        { fail "prometheus-node-exporter installed" "apt-get install prometheus-node-exporter"; it_summary; exit 1; }
command -v curl >/dev/null || { fail "curl installed" "apt-get install curl"; it_summary; exit 1; }
FAKE_KERNEL=$TOP_BUILDDIR/tests/common/.libs/fake-kernel.so
export SIOV_DEFINITIONS_DIR=$IT_DIR/defs
TEXTFILE=$IT_DIR/textfile
PROM=$TEXTFILE/siovd.prom
mkdir -p "$TEXTFILE"
NE_PID=

cleanup_ne() { [ -n "$NE_PID" ] && kill "$NE_PID" 2>/dev/null && wait "$NE_PID" 2>/dev/null; }
trap 'cleanup_ne; it_cleanup' EXIT

fake init
fake add-siov-parent siov0 --total 4 --free 4 --swq-slots 4
fake add-siov-parent siov1 --total 4 --free 2 --host-netdev 2 --swq-slots 4
fake add-pf 0000:3b:00.0 --total-vfs 2 --driver ice
fake add-vf 0000:3b:00.0 0 0000:3b:02.0 --driver iavf --netdev eth5
fake add-vf 0000:3b:00.0 1 0000:3b:02.1
# vfio-pci is "loaded": the fake kernel binds VFs to it.
mkdir -p "$ROOT/sys/bus/pci/drivers/vfio-pci"

# --- a foreign file is never overwritten --------------------------------------
it_bus_start || { it_summary; exit 1; }
echo "precious" >"$PROM"
"$SIOVD" --sysfs-root="$ROOT" --metrics="$PROM" >"$IT_DIR/refuse.log" 2>&1 &
pid=$!
wait $pid
check_eq "siovd refuses to start over a file it did not write (exit 1)" 1 $?
check_eq "... and leaves it alone" precious "$(cat "$PROM")"
check "... and says why" grep -q "not written by siovd" "$IT_DIR/refuse.log"
rm -f "$PROM"

LD_PRELOAD=$FAKE_KERNEL SIOV_FAKE_KERNEL_ROOT=$ROOT it_siovd_start --metrics="$PROM" || { it_summary; exit 1; }
check "the metrics file is written at start" test -s "$PROM"
check_eq "it is world-readable (node_exporter has its own user)" 644 "$(stat -c %a "$PROM")"

# --- node_exporter on a free loopback port -----------------------------------
for port in $(shuf -i 20000-60000 -n 20); do
        "$NODE_EXPORTER" --web.listen-address="127.0.0.1:$port" --collector.disable-defaults \
                --collector.textfile --collector.textfile.directory="$TEXTFILE" \
                >"$IT_DIR/node-exporter.log" 2>&1 &
        NE_PID=$!
        for _ in $(seq 50); do
                curl -sf "http://127.0.0.1:$port/metrics" >/dev/null 2>&1 && break 2
                kill -0 "$NE_PID" 2>/dev/null || break
                sleep 0.1
        done
        cleanup_ne
        NE_PID=
done
[ -n "$NE_PID" ] || { fail "node_exporter serves on a loopback port" "$(tail -n 3 "$IT_DIR/node-exporter.log")"; it_summary; exit 1; }
pass "node_exporter serves the textfile folder on 127.0.0.1:$port"

scrape() { curl -sf "http://127.0.0.1:$port/metrics"; }
# value NAME LABEL=VALUE...: the sample of NAME with these labels (in any
# order; node_exporter sorts them), from one scrape.
value() {
        local name=$1
        shift
        scrape | awk -v name="$name" -v want="$*" '
                index($0, name "{") == 1 || $1 == name {
                        n = split(want, w, " ")
                        for (i = 1; i <= n; i++) {
                                split(w[i], kv, "=")
                                if (index($0, kv[1] "=\"" kv[2] "\"") == 0) next
                        }
                        print $NF; exit
                }'
}
# expect NAME EXPECTED NAME LABELS...: the scraped value becomes EXPECTED
# (the file is rewritten within ~0.1 s of a change; wait up to 10 s).
expect() {
        local label=$1 want=$2 got=
        shift 2
        for _ in $(seq 100); do
                got=$(value "$@")
                [ "$got" = "$want" ] && break
                sleep 0.1
        done
        check_eq "$label" "$want" "$got"
}

check_eq "the textfile collector reads siovd's file without error" 0 "$(value node_textfile_scrape_error)"
check_eq "siovd_info" 1 "$(value siovd_info version=0.1)"
expect "available idxd-1dwq on siov0" 4 siov_type_available_instances parent=siov0 type=idxd-1dwq kind=mdev
expect "available idxd-1dwq on siov1 (2 host netdevs)" 2 siov_type_available_instances parent=siov1 type=idxd-1dwq
expect "host usage netdev on siov1" 2 siov_parent_host_usage parent=siov1 kind=netdev
expect "host usage wq-kernel on siov1" 0 siov_parent_host_usage parent=siov1 kind=wq-kernel
expect "available vf on the PF" 1 siov_type_available_instances parent=0000:3b:00.0 type=vf kind=vf
expect "VFs by user: host" 1 siov_vfs parent=0000:3b:00.0 user=host
expect "VFs by user: free" 1 siov_vfs parent=0000:3b:00.0 user=free
expect "no active mdevs" 0 siov_devices kind=mdev state=active
expect "parent not broken" 0 siov_parent_broken parent=siov0

# --- create: the values follow -------------------------------------------------
U1=11111111-0000-4000-8000-000000000001
check "create idxd-1dwq on siov0" siovctl create --type idxd-1dwq --parent siov0 --uuid "$U1"
expect "after create: available 3" 3 siov_type_available_instances parent=siov0 type=idxd-1dwq
expect "after create: used 1" 1 siov_type_used_instances parent=siov0 type=idxd-1dwq
expect "after create: 1 active mdev" 1 siov_devices kind=mdev state=active
expect "after create: CreateDevice counted" 1 siov_operations_total operation=CreateDevice
U2=22222222-0000-4000-8000-000000000002
check "define a persistent device" siovctl define --type idxd-1swq --parent siov1 --uuid "$U2"
expect "after define: 1 defined mdev" 1 siov_devices kind=mdev state=defined
check "create a VF for a VM" siovctl create --type vf --parent 0000:3b:00.0
expect "after create vf: VFs by user: vm" 1 siov_vfs parent=0000:3b:00.0 user=vm
expect "after create vf: no free VF" 0 siov_vfs parent=0000:3b:00.0 user=free

# --- failures by error name -----------------------------------------------------
check_fails "create an unknown type" siovctl create --type nosuchtype
expect "NoSuchType counted" 1 siov_operation_failures_total operation=CreateDevice error=org.siov1.Error.NoSuchType
check_fails "create again with the same UUID" siovctl create --type idxd-1dwq --parent siov0 --uuid "$U1"
expect "AlreadyExists counted" 1 siov_operation_failures_total operation=CreateDevice error=org.siov1.Error.AlreadyExists
expect "every CreateDevice counted, failed ones too" 4 siov_operations_total operation=CreateDevice

# --- destroy: back where it started ---------------------------------------------
check "destroy" siovctl destroy "$U1"
expect "after destroy: available 4" 4 siov_type_available_instances parent=siov0 type=idxd-1dwq
expect "after destroy: used 0" 0 siov_type_used_instances parent=siov0 type=idxd-1dwq
expect "after destroy: 0 active mdevs" 0 siov_devices kind=mdev state=active
expect "Destroy counted" 1 siov_operations_total operation=Destroy
check_eq "still no scrape error" 0 "$(value node_textfile_scrape_error)"

# --- a kernel-side change without a D-Bus call (a rescan) also shows ------------
fake add-siov-parent siov2 --total 2 --free 2 --swq-slots 4
check "Rescan" bus call org.siov1 /org/siov1 org.siov1.Manager Rescan
expect "a new parent appears in the metrics" 2 siov_type_available_instances parent=siov2 type=idxd-1dwq

# --- the file is replaced, never written in place ---------------------------------
ino=$(stat -c %i "$PROM")
check "create once more" siovctl create --type idxd-1dwq --parent siov0
for _ in $(seq 50); do [ "$(stat -c %i "$PROM")" != "$ino" ] && break; sleep 0.1; done
check "each rewrite is a new file renamed over the old one" test "$(stat -c %i "$PROM")" != "$ino"
check_eq "no temporary files left" "siovd.prom" "$(ls "$TEXTFILE" | tr '\n' ' ' | sed 's/ $//')"

it_siovd_stop
check_eq "siovd exits cleanly" 0 $?
it_summary
