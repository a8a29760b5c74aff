# Debian kernel for the VM tests: resolve the version, download, unpack and
# cache it (bash; sourced).  Sets KVER, KPKGVER, KROOT (unpacked package:
# KROOT/lib/modules/$KVER) and VMLINUX (uncompressed, PVH-bootable).
# shellcheck shell=bash

# The bundled module is built against the installed linux-headers, so the
# guest kernel must be exactly that ABI and package version: derive both from
# the headers, not from whatever linux-image-amd64 points at today.
kernel_resolve_version() {
        local dep hdr
        if [ -n "${SIOV_VM_KVER:-}" ]; then
                KVER=$SIOV_VM_KVER
                KPKGVER=${SIOV_VM_KPKGVER:-$(dpkg-query -W -f='${Version}' "linux-headers-$KVER" 2>/dev/null || true)}
                if [ -z "$KPKGVER" ]; then
                        KPKGVER=$(apt-cache policy "linux-image-$KVER" 2>/dev/null | awk '/Candidate:/ { print $2 }')
                fi
                [ -n "$KPKGVER" ] && [ "$KPKGVER" != "(none)" ] ||
                        vm_die "kernel missing: no linux-headers-$KVER installed and apt knows no linux-image-$KVER (SIOV_VM_KVER=$KVER)"
                return 0
        fi
        dep=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 2>/dev/null || true)
        hdr=$(printf '%s' "$dep" | grep -o 'linux-headers-[^ ,]*-amd64' | head -n1)
        if [ -z "$hdr" ]; then
                # No headers meta-package: any single installed amd64 headers.
                hdr=$(dpkg-query -W -f='${Package} ${Status}\n' 'linux-headers-*-amd64' 2>/dev/null |
                        awk '$NF == "installed" && $1 != "linux-headers-amd64" { print $1 }' | sort -V | tail -n1)
        fi
        [ -n "$hdr" ] ||
                vm_die "kernel missing: linux-headers-amd64 is not installed (apt-get install linux-headers-amd64); the guest kernel must match the headers the bundled module is built with"
        KVER=${hdr#linux-headers-}
        KPKGVER=$(dpkg-query -W -f='${Version}' "$hdr" 2>/dev/null || true)
        [ -n "$KPKGVER" ] || vm_die "kernel missing: cannot read the installed version of $hdr"
}

# Copy the uncompressed vmlinux out of a bzImage: setup_sects at 0x1f1,
# payload_offset/payload_length at 0x248/0x24c of the protected-mode part;
# the payload's last 4 bytes are the uncompressed size (a sanity check).
kernel_extract_vmlinux() {
        local bz=$1 out=$2 ss po pl off magic size want
        _rd() { od -An -t "u$2" -j "$(($1))" -N "$2" "$bz" | tr -d ' \n'; }
        ss=$(_rd 0x1f1 1)
        po=$(_rd 0x248 4)
        pl=$(_rd 0x24c 4)
        [ -n "$ss" ] && [ -n "$po" ] && [ -n "$pl" ] && [ "$pl" -gt 4 ] ||
                vm_die "$bz: not a bzImage (no payload in the setup header)"
        off=$(( (ss + 1) * 512 + po ))
        # dd, not tail|head: head closing early kills tail (pipefail).
        _payload() { dd if="$bz" iflag=skip_bytes,count_bytes skip="$off" count="$pl" bs=1M status=none; }
        magic=$(od -An -t x1 -j "$off" -N 6 "$bz" | tr -d ' \n')
        case $magic in
        fd377a585a00*) _payload | xz -dc --single-stream >"$out" ;;
        1f8b*)         _payload | gzip -dc >"$out" 2>/dev/null || true ;;
        28b52ffd*)     _payload | zstd -dc >"$out" ;;
        *) vm_die "$bz: unsupported kernel compression (payload magic $magic)" ;;
        esac
        want=$(od -An -t u4 -j $((off + pl - 4)) -N 4 "$bz" | tr -d ' \n')
        size=$(stat -c %s "$out")
        [ "$size" = "$want" ] || vm_die "$bz: extracted vmlinux is $size bytes, header says $want"
        [ "$(od -An -c -N 4 "$out" | tr -d ' \n')" = '177ELF' ] || vm_die "$bz: extracted payload is not an ELF vmlinux"
}

kernel_prepare() {
        local cache dir tmp t0 pkg deb meta
        kernel_resolve_version
        cache=$(vm_cache_dir)
        dir=$cache/kernel/${KVER}_${KPKGVER}
        KROOT=$dir/root
        VMLINUX=$dir/vmlinux
        if [ -e "$dir/.ok" ]; then
                return 0
        fi
        t0=$(vm_now)
        mkdir -p "$cache/kernel" 2>/dev/null && [ -w "$cache/kernel" ] ||
                vm_die "kernel $KVER ($KPKGVER) is not cached and $cache/kernel is not writable (run once as root, or set SIOV_VM_CACHE)"
        # One preparer at a time; the result appears by rename, so readers
        # never see a half-unpacked tree.
        exec {KLOCK}>"$cache/kernel/.lock"
        flock "$KLOCK"
        if [ -e "$dir/.ok" ]; then
                exec {KLOCK}>&-
                return 0
        fi
        vm_need_cmd apt-get dpkg-deb depmod xz
        # Holding the lock: any temp folder left here is from a killed run.
        rm -rf "$cache/kernel"/.tmp.*
        pkg=linux-image-$KVER
        tmp=$(mktemp -d "$cache/kernel/.tmp.XXXXXX")
        meta=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends:/ { print $2; exit }')
        if [ -n "$meta" ] && [ "$meta" != "$pkg" ]; then
                vm_warn "linux-image-amd64 now depends on $meta, but the installed headers are $KVER ($KPKGVER); using $pkg=$KPKGVER to match the headers"
        fi
        vm_log "downloading $pkg=$KPKGVER into $dir"
        if ! (cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "$pkg=$KPKGVER" >"$tmp/apt.log" 2>&1); then
                sed 's/^/  /' "$tmp/apt.log" >&2
                rm -rf "$tmp"
                vm_die "kernel missing: cannot download $pkg=$KPKGVER (installed headers: linux-headers-$KVER $KPKGVER; linux-image-amd64 depends on ${meta:-?}). Run apt-get update, and install matching headers (apt-get install linux-headers-amd64) if the archive moved on"
        fi
        deb=$(ls "$tmp"/*.deb)
        dpkg-deb -x "$deb" "$tmp/root" || { rm -rf "$tmp"; vm_die "dpkg-deb -x $deb failed"; }
        rm -f "$deb" "$tmp/apt.log"
        [ -f "$tmp/root/boot/vmlinuz-$KVER" ] || { rm -rf "$tmp"; vm_die "kernel missing: $pkg has no /boot/vmlinuz-$KVER"; }
        depmod -b "$tmp/root" "$KVER" || { rm -rf "$tmp"; vm_die "depmod -b failed for $KVER"; }
        kernel_extract_vmlinux "$tmp/root/boot/vmlinuz-$KVER" "$tmp/vmlinux"
        printf '%s %s\n' "$KVER" "$KPKGVER" >"$tmp/.ok"
        # mktemp made it 0700; other users may boot from the cache.
        chmod 0755 "$tmp"
        rm -rf "$dir"
        mv "$tmp" "$dir"
        exec {KLOCK}>&-
        vm_log "kernel $KVER ($KPKGVER) cached in $(vm_since "$t0")s"
}
