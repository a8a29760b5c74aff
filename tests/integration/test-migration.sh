#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Migration compatibility through siovd: Type.MigrationVersion and
# Device.Migratable from the fake tree (the attributes siov_mdev writes),
# Manager.CheckMigration, `siovctl migration-info [--json]` and
# `siovctl migration-check FILE` (a source host's output checked here).
. "$(dirname "$0")/lib.sh"

U1=11111111-2222-3333-4444-555555555511
U2=11111111-2222-3333-4444-555555555512
DWQ="driver=siov_mdev type=idxd-1dwq state=1"
SWQ4="driver=siov_mdev type=idxd-1swq state=1 swq_slots=4"
SWQ2="driver=siov_mdev type=idxd-1swq state=1 swq_slots=2"

# --- the tree: two bundled-driver parents with different shared-WQ slots, and
# a driver that offers no migration --------------------------------------------
fake init
fake add-siov-parent siov0 --total 8 --free 7 --mdev-dwq 1 --swq-slots 4
fake add-type siov0 idxd-1dwq --available 7
fake add-type siov0 idxd-1swq --available 28
fake set-type-attr siov0 idxd-1dwq migration_version "$DWQ"
fake set-type-attr siov0 idxd-1swq migration_version "$SWQ4"
fake add-siov-parent siov1 --total 4 --free 4 --swq-slots 2
fake add-type siov1 idxd-1dwq --available 4
fake add-type siov1 idxd-1swq --available 8
fake set-type-attr siov1 idxd-1dwq migration_version "$DWQ"
fake set-type-attr siov1 idxd-1swq migration_version "$SWQ2"
fake add-mdev siov0 idxd-1dwq "$U1"
fake set-attr "sys/bus/mdev/devices/$U1/migratable" 1
fake add-mdev-parent 0000:00:04.0 --pci --driver mtty
fake add-type 0000:00:04.0 mtty-1 --available 3
fake add-mdev 0000:00:04.0 mtty-1 "$U2"

it_bus_start || { it_summary; exit 1; }
it_siovd_start || { it_summary; exit 1; }

T=/org/siov1/parent
check_eq "Type.MigrationVersion: siov0 idxd-1swq" "s \"$SWQ4\"" \
        "$(bus get-property org.siov1 $T/siov0/type/idxd_2d1swq org.siov1.Type MigrationVersion)"
check_eq "Type.MigrationVersion: siov1 idxd-1swq" "s \"$SWQ2\"" \
        "$(bus get-property org.siov1 $T/siov1/type/idxd_2d1swq org.siov1.Type MigrationVersion)"
check_eq "Type.MigrationVersion: a driver without migration is empty" 's ""' \
        "$(bus get-property org.siov1 $T/_30000_3a00_3a04_2e0/type/mtty_2d1 org.siov1.Type MigrationVersion)"
# a device's object path: its UUID through sd_bus_path_encode (these start
# with a digit: "_3" + it; "-" is "_2d")
dev_path() { echo "/org/siov1/device/_3${1:0:1}$(sed 's/-/_2d/g' <<<"${1:1}")"; }
P1=$(dev_path "$U1")
P2=$(dev_path "$U2")
check_eq "Device.Migratable: its migratable attribute reads 1" "b true" \
        "$(bus get-property org.siov1 "$P1" org.siov1.Device Migratable)"
check_eq "Device.Migratable: no attribute is false" "b false" \
        "$(bus get-property org.siov1 "$P2" org.siov1.Device Migratable)"
check "types --json carries migration_version" bash -c \
        '[ "$(jq -r ".[] | select(.parent == \"siov0\" and .id == \"idxd-1dwq\") | .migration_version" <<<"$1")" = "$2" ]' \
        _ "$(siovctl --json types)" "$DWQ"

# --- CheckMigration -------------------------------------------------------------
check_eq "CheckMigration: same version in another order is compatible on both parents" \
        'bsas true "" 2 "siov0" "siov1"' \
        "$(bus call org.siov1 /org/siov1 org.siov1.Manager CheckMigration ss idxd-1dwq "state=1 type=idxd-1dwq driver=siov_mdev")"
check_eq "CheckMigration: a short type name, one parent has the geometry" \
        'bsas true "" 1 "siov1"' \
        "$(bus call org.siov1 /org/siov1 org.siov1.Manager CheckMigration ss 1swq "$SWQ2")"
check_eq "CheckMigration: another geometry everywhere is refused with the reason" \
        'bsas false "siov0: the state needs swq_slots=8, this type has swq_slots=4; siov1: the state needs swq_slots=8, this type has swq_slots=2" 0' \
        "$(bus call org.siov1 /org/siov1 org.siov1.Manager CheckMigration ss idxd-1swq "driver=siov_mdev type=idxd-1swq state=1 swq_slots=8")"
check_eq "CheckMigration: another state format" \
        'bsas false "siov0: the state needs state=2, this type has state=1; siov1: the state needs state=2, this type has state=1" 0' \
        "$(bus call org.siov1 /org/siov1 org.siov1.Manager CheckMigration ss idxd-1dwq "driver=siov_mdev type=idxd-1dwq state=2")"
check_eq "CheckMigration: a type whose driver offers no migration" \
        'bsas false "0000:00:04.0: mtty-1 has no migration_version (its driver offers no migration)" 0' \
        "$(bus call org.siov1 /org/siov1 org.siov1.Manager CheckMigration ss mtty-1 "driver=mtty state=1")"
out=$(bus call org.siov1 /org/siov1 org.siov1.Manager CheckMigration ss idxd-1dwq "not a version" 2>&1)
check "CheckMigration: malformed remote version is InvalidArgument" grep -q "key=value" <<<"$out"
out=$(bus call org.siov1 /org/siov1 org.siov1.Manager CheckMigration ss idxd-9 "$DWQ" 2>&1)
check "CheckMigration: unknown type is NoSuchType" grep -qi "no parent offers type 'idxd-9'" <<<"$out"
out=$(bus call org.siov1 /org/siov1 org.siov1.Manager CheckMigration ss idxd-1dwq "$(printf 'a=%01100d' 0)" 2>&1)
check "CheckMigration: an overlong version is refused" grep -q "key=value\|too long" <<<"$out"

# --- siovctl migration-info / migration-check -------------------------------------
siovctl migration-info >"$IT_DIR/info.txt"
check_eq "migration-info: one line per type and version, parents named" \
        "# on siov0, siov1
idxd-1dwq $DWQ
# on siov1
idxd-1swq $SWQ2
# on siov0
idxd-1swq $SWQ4" "$(cat "$IT_DIR/info.txt")"
siovctl --json migration-info >"$IT_DIR/info.json"
check_eq "migration-info --json" \
        "idxd-1dwq|$DWQ|siov0,siov1 idxd-1swq|$SWQ2|siov1 idxd-1swq|$SWQ4|siov0" \
        "$(jq -r '[.[] | "\(.type)|\(.migration_version)|\(.parents | join(","))"] | join(" ")' "$IT_DIR/info.json")"
out=$(siovctl migration-check "$IT_DIR/info.txt" 2>&1); rc=$?
check_eq "migration-check of this host's own info: all compatible, exit 0" "0
compatible idxd-1dwq: on siov0, siov1
compatible idxd-1swq: on siov1
compatible idxd-1swq: on siov0" "$rc
$out"
out=$(siovctl migration-check - <"$IT_DIR/info.json" 2>&1); rc=$?
check_eq "migration-check reads the JSON form from stdin" "0 3" "$rc $(grep -c '^compatible' <<<"$out")"
# a source host whose shared WQs have 8 slots, and a type this host lacks
printf '# from host A\nidxd-1dwq %s\nidxd-1swq %s\nmdev-x driver=other state=1\n' \
        "$DWQ" "driver=siov_mdev type=idxd-1swq state=1 swq_slots=8" >"$IT_DIR/other.txt"
out=$(siovctl migration-check "$IT_DIR/other.txt" 2>"$IT_DIR/err"); rc=$?
check_eq "migration-check: an incompatible type makes exit 1" 1 "$rc"
check_eq "migration-check: one line per type with the reason" \
        "compatible idxd-1dwq: on siov0, siov1
incompatible idxd-1swq: siov0: the state needs swq_slots=8, this type has swq_slots=4; siov1: the state needs swq_slots=8, this type has swq_slots=2
incompatible mdev-x: no parent offers type 'mdev-x' (known types: idxd-1dwq, idxd-1swq, mtty-1)" "$out"
check "migration-check: stderr sums up" grep -q "2 of 3 types cannot take a device state from there" "$IT_DIR/err"
out=$(siovctl --json migration-check "$IT_DIR/other.txt" 2>/dev/null)
check_eq "migration-check --json" "true false false" "$(jq -r '[.[].compatible | tostring] | join(" ")' <<<"$out")"
printf 'idxd-1dwq\n' >"$IT_DIR/bad.txt"
siovctl migration-check "$IT_DIR/bad.txt" >/dev/null 2>&1; rc=$?
check_eq "migration-check: a malformed file is a usage error (exit 2)" 2 "$rc"
siovctl migration-check "$IT_DIR/missing.txt" >/dev/null 2>&1; rc=$?
check_eq "migration-check: a missing file is a usage error (exit 2)" 2 "$rc"
printf '' >"$IT_DIR/empty.txt"
siovctl migration-check "$IT_DIR/empty.txt" >/dev/null 2>&1; rc=$?
check_eq "migration-check: an empty file is a usage error (exit 2)" 2 "$rc"

# --- a changed migration_version signals and shows ---------------------------------
fake set-type-attr siov1 idxd-1swq migration_version "driver=siov_mdev type=idxd-1swq state=1 swq_slots=4"
check "Rescan()" bus call org.siov1 /org/siov1 org.siov1.Manager Rescan
check_eq "after Rescan: both parents take the 4-slot state" 'bsas true "" 2 "siov0" "siov1"' \
        "$(bus call org.siov1 /org/siov1 org.siov1.Manager CheckMigration ss idxd-1swq "$SWQ4")"

it_summary
