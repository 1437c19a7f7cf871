#!/usr/bin/env bash
# A tutorial session, start to end, with snapbook's recipes instead of hand-typed virsh/qemu-img commands:
# internal snapshots (create, revert, delete), external snapshots in two locations, reverts (each keeping the
# state before it as a snapshot), discarding the branches no longer wanted, then deleting snapshots by merging
# layers with a block commit and with a block pull. After each stage the data
# written as a guest would is checked: exactly what should be visible is, and nothing else.
#
# Run it after ./scripts/setup (it builds snapbook if needed). It uses a throwaway lab VM and removes it.
set -euo pipefail
cd "$(dirname "$0")/.."

sb=bin/snapbook
lab=walkthrough
dom=snapbook-lab-$lab
labdir=${SNAPBOOK_LAB_DIR:-/var/lib/snapbook/lab}/$lab
elsewhere=$labdir/elsewhere
trap '"$sb" lab down "$lab" >/dev/null 2>&1 || true' EXIT

say() { printf '\n== %s\n' "$*"; }
write() { "$sb" lab write "$lab" --pattern "$1" --offset "$2" --length 1M >/dev/null; }
visible() { "$sb" lab read "$lab" --pattern "$1" --offset "$2" --length 1M >/dev/null; }
expect() { # expect PATTERN OFFSET yes|no
    if visible "$1" "$2"; then got=yes; else got=no; fi
    if [ "$got" != "$3" ]; then echo "walkthrough: pattern $1 at $2 visible=$got, expected $3" >&2; exit 1; fi
    echo "   $1 at $2: $( [ "$3" = yes ] && echo visible || echo 'not visible' ), as expected"
}
run() { "$sb" run --yes "$@"; }

"$sb" lab down "$lab" >/dev/null 2>&1 || true
say "a lab VM with data A"
"$sb" lab up "$lab"
write 0xa1 0

say "internal snapshot i1, then data B, then revert to i1: A stays, B goes"
run recipe:internal-snapshot-create -e domain="$dom" -e name=i1 -e description="before B"
write 0xb2 1M
run recipe:internal-snapshot-revert -e domain="$dom" -e snapshot=i1
expect 0xa1 0 yes
expect 0xb2 1M no
"$sb" show "$dom"

say "delete the internal snapshots (i1 and the safety snapshot the revert kept)"
run recipe:internal-snapshot-delete -e domain="$dom" -e snapshot=snapbook-before-revert-i1
run recipe:internal-snapshot-delete -e domain="$dom" -e snapshot=i1

say "external snapshot e1 next to the image, data C; e2 in another directory, data D"
mkdir -p "$elsewhere"
chmod 755 "$elsewhere"
run recipe:external-snapshot-create -e domain="$dom" -e name=e1 -e description="before C"
write 0xc3 2M
run recipe:external-snapshot-create -e domain="$dom" -e name=e2 -e disk=vda -e file="$elsewhere/vda.e2.qcow2"
write 0xd4 3M
"$sb" show "$dom"

say "plan, then revert to e1: A only (C and D stay in their overlays)"
"$sb" plan recipe:external-snapshot-revert -e domain="$dom" -e snapshot=e1
run recipe:external-snapshot-revert -e domain="$dom" -e snapshot=e1
expect 0xa1 0 yes
expect 0xc3 2M no
expect 0xd4 3M no

say "revert to e2: A and C (e1 is still revertable, and so is e2)"
run recipe:external-snapshot-revert -e domain="$dom" -e snapshot=e2
expect 0xa1 0 yes
expect 0xc3 2M yes
expect 0xd4 3M no
write 0xe5 4M
"$sb" show "$dom"

say "each revert kept the state before it as a snapshot: back to the one before the first revert: A, C and D"
run recipe:external-snapshot-revert -e domain="$dom" -e snapshot=snapbook-before-revert-e1 -e timeout=5s
expect 0xa1 0 yes
expect 0xc3 2M yes
expect 0xd4 3M yes
expect 0xe5 4M no
"$sb" show "$dom"

say "a flatten never merges over another branch: its plan refuses while other states read the chain"
if "$sb" plan recipe:flatten-commit -e domain="$dom" >/dev/null; then
    echo "walkthrough: flatten-commit was planned over the branches the reverts left" >&2; exit 1
fi

say "discard the states no longer wanted, each with the files only it needs: two branches, then the kept state under the disk"
for s in snapbook-before-revert-e2 snapbook-before-revert-snapbook-before-revert-e1 snapbook-before-revert-e1; do
    run recipe:snapshot-discard -e domain="$dom" -e snapshot="$s"
done
"$sb" show "$dom"

say "delete every snapshot by committing the chain into the base (block commit --active --pivot)"
"$sb" plan recipe:flatten-commit -e domain="$dom"
run recipe:flatten-commit -e domain="$dom"
expect 0xa1 0 yes
expect 0xc3 2M yes
expect 0xd4 3M yes
expect 0xe5 4M no
"$sb" show "$dom"

say "a new external snapshot e3, data F, then delete it by pulling the base into the overlay (block pull)"
run recipe:external-snapshot-create -e domain="$dom" -e name=e3
write 0xf6 5M
run recipe:flatten-pull -e domain="$dom"
expect 0xa1 0 yes
expect 0xc3 2M yes
expect 0xd4 3M yes
expect 0xf6 5M yes
"$sb" show "$dom"

say "clean up"
"$sb" lab down "$lab"
trap - EXIT
echo "walkthrough: done"
