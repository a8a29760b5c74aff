# Build the harness's own test artifacts (bash; sourced by smoke/run and
# selftest): the siov_vm_smoke module and a fake `make install` stage.
# shellcheck shell=bash

# smoke_build_kmod OUTDIR -> OUTDIR/siov_vm_smoke.ko, built out of tree in
# OUTDIR so the repository stays clean.
smoke_build_kmod() {
        local out=$1 kdir
        kernel_resolve_version
        kdir=/usr/src/linux-headers-$KVER
        [ -d "$kdir" ] || vm_die "$kdir missing (apt-get install linux-headers-$KVER)"
        vm_need_cmd gcc make
        mkdir -p "$out"
        cp "$VM_DIR/smoke/kmod/Kbuild" "$VM_DIR/smoke/kmod/siov_vm_smoke.c" "$out/"
        make -s -C "$kdir" M="$out" modules >"$out/build.log" 2>&1 ||
                { cat "$out/build.log" >&2; vm_die "building the smoke module failed"; }
}

# smoke_build_stage OUTDIR: a library in the stage's libdir, a program
# linked to it and to json-c (a host library), a data file, and a file
# under /lib (merged /usr in the guest).
smoke_build_stage() {
        local s=$1 src=$VM_DIR/smoke/stage-src
        vm_need_cmd gcc
        mkdir -p "$s/usr/lib/x86_64-linux-gnu" "$s/usr/bin" "$s/usr/share/siov-vm-hello" "$s/lib/siov-vm-hello"
        gcc -shared -fPIC -Wall -Wextra -Werror -o "$s/usr/lib/x86_64-linux-gnu/libsiovvmhello.so.0" \
                -Wl,-soname,libsiovvmhello.so.0 "$src/libsiovvmhello.c" -ljson-c ||
                vm_die "building the smoke stage library failed (needs libjson-c-dev)"
        ln -sf libsiovvmhello.so.0 "$s/usr/lib/x86_64-linux-gnu/libsiovvmhello.so"
        gcc -Wall -Wextra -Werror -o "$s/usr/bin/siov-vm-hello" "$src/siov-vm-hello.c" \
                -L"$s/usr/lib/x86_64-linux-gnu" -lsiovvmhello || vm_die "building the smoke stage program failed"
        echo "staged by tests/vm smoke" >"$s/usr/share/siov-vm-hello/README"
        touch "$s/lib/siov-vm-hello/marker"
}
