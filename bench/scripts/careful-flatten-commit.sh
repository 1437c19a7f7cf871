#!/bin/bash
# careful-flatten-commit.sh DOMAIN [DISK]
#
# The "careful operator" contender of benchmark 5 (issue 16): what recipe:flatten-commit does, written by hand
# with virsh and qemu-img, WITH the recipe's checks, step by step (bench/scripts/CAREFUL.md maps each check to
# its recipe step). The bare contender is `virsh blockcommit DOMAIN vda --active --pivot`.
#
#   1. read the VM's state                                   (domain.state)
#   2. the VM must be running: a block commit is a QEMU job  (assert)
#   3. the disk's chain is healthy: qemu-img info -U --backing-chain, recorded formats, qemu-img check -U of each
#      qcow2 layer                                           (chain.verify)
#   4. nothing else uses a layer of the chain: every defined domain's disks (live and persistent) and every
#      snapshot's files, with their backing chains; the snapshots of this disk whose state the merge ends are
#      found (snapshot-list + snapshot-dumpxml)              (chain.layers)
#   5. delete those snapshots' metadata, leaves first (virsh snapshot-delete --metadata); confirm
#                                                            (snapshot.delete metadata_only)
#   6. virsh blockcommit DOMAIN DISK --active --pivot --base BASE, then suspend + resume (QEMU flushes the base);
#      confirm: no block job, the disk on the base, its chain  (block.commit)
#   7. the disk runs on the base, depth 1: the chain check again  (chain.verify expect_base, expect_depth)
#   8. qemu-img check -U of the base (qcow2)                 (image.check)
#   9. a raw base is read at the disk's full size            (image.info)
#  10. rm the merged overlays that nobody uses (all domains and snapshots read again first); confirm they are gone
#                                                            (image.delete skip_used)
#
# Simplified, on purpose: the commit always goes into the lowest layer of the chain. chain.layers finds the lowest
# layer only this disk's state needs and stops the commit above a layer that something else reads; this script
# instead REFUSES when anything other than this disk and the snapshots it drops uses a layer of the chain (another
# domain's disk or backing chain, another disk's or another branch's snapshot, a snapshot with memory, internal
# snapshots inside a merged layer). Nothing is rolled back on a failure: the script stops and says at which step.
#
# Needs bash, virsh, qemu-img, jq, od, df, stat, realpath and python3 (xml.etree, to read XML; PYTHON=/usr/bin/python3
# skips a slow pyenv shim). Exit 0 on success; 1, with the reason on stderr, when any check fails.
set -euo pipefail

PROG=careful-flatten-commit
URI=qemu:///system
PYTHON=${PYTHON:-python3}

die() {
    printf '%s: %s\n' "$PROG" "$*" >&2
    exit 1
}

STEP="0 (arguments)"
step() {
    STEP=$1
    printf '%s: step %s\n' "$PROG" "$STEP"
}
tmp=
finish() {
    local rc=$?
    if [ -n "$tmp" ]; then rm -rf -- "$tmp"; fi
    if [ "$rc" -ne 0 ]; then
        printf '%s: FAILED at step %s (exit %d); nothing was rolled back\n' "$PROG" "$STEP" "$rc" >&2
    fi
}
trap finish EXIT

[ $# -eq 1 ] || [ $# -eq 2 ] || die "usage: $0 DOMAIN [DISK]"
dom=$1 disk=${2:-vda}
for tool in virsh qemu-img jq od df stat realpath "$PYTHON"; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/$PROG.XXXXXX")

# The source file of disk $2 of domain $1 as virsh domblklist lists it (the live definition of a running domain).
disk_source() {
    virsh -q -c "$URI" domblklist "$1" --details |
        awk -v t="$2" '$3 == t { sub(/^[ \t]*[^ \t]+[ \t]+[^ \t]+[ \t]+[^ \t]+[ \t]+/, ""); print; exit }'
}

# check_chain TOP DECLARED_FORMAT: the backing chain of TOP is healthy. One qemu-img info -U --backing-chain reads
# every link (it fails on a missing or unreadable link and on a loop); then for each layer the format recorded for
# it must be recorded (by the layer above; DECLARED_FORMAT, the domain's <driver type>, for TOP) and match what its
# first bytes show (qcow2 magic QFI\xfb); every qcow2 layer must pass qemu-img check -U (leaks are harmless: exit 3
# passes). Sets CHAIN (files, top first), CHAIN_FORMATS, CHAIN_SNAPSHOTS (internal snapshots in each layer) and
# CHAIN_SIZE (the top's virtual size).
check_chain() {
    local top=$1 declared=$2 json rows i=0 file fmt bfmt snaps magic prev_bfmt= out rc
    local problems=()
    CHAIN=() CHAIN_FORMATS=() CHAIN_SNAPSHOTS=()
    json=$(qemu-img info -U --backing-chain --output=json "$top") ||
        die "the backing chain of $top is broken (qemu-img info -U --backing-chain $top fails)"
    CHAIN_SIZE=$(jq -r '.[0]."virtual-size"' <<<"$json")
    rows=$(jq -r '.[] | [.filename, .format, (."backing-filename-format" // "-"),
                         ((.snapshots // []) | length)] | @tsv' <<<"$json")
    while IFS=$'\t' read -r file fmt bfmt snaps; do
        if [ "$i" -eq 0 ]; then
            if [ -n "$declared" ] && [ "$declared" != "$fmt" ]; then
                problems+=("$top is declared $declared but qemu-img reads it as $fmt")
            fi
        elif [ "$prev_bfmt" = - ]; then
            problems+=("${CHAIN[i - 1]} does not record the format of its backing file $file (qemu would probe it)")
        fi
        magic=$(od -An -tx1 -N4 "$file" | tr -d ' \n') || die "cannot read $file"
        if [ "$fmt" = qcow2 ] && [ "$magic" != 514649fb ]; then
            problems+=("$file is recorded as qcow2 but its contents are not qcow2")
        elif [ "$fmt" = raw ] && [ "$magic" = 514649fb ]; then
            problems+=("$file is recorded as raw but its contents are qcow2")
        fi
        CHAIN+=("$file") CHAIN_FORMATS+=("$fmt") CHAIN_SNAPSHOTS+=("$snaps")
        prev_bfmt=$bfmt
        i=$((i + 1))
    done <<<"$rows"
    for i in "${!CHAIN[@]}"; do
        if [ "${CHAIN_FORMATS[i]}" = qcow2 ]; then
            rc=0
            out=$(qemu-img check -U -f qcow2 "${CHAIN[i]}" 2>&1) || rc=$?
            case $rc in
                0 | 3) ;; # 3: leaked clusters only, which lose no data
                *) problems+=("qemu-img check -U ${CHAIN[i]} fails (exit $rc): $(head -n 3 <<<"$out")") ;;
            esac
        fi
    done
    if [ ${#problems[@]} -gt 0 ]; then
        printf '%s: the backing chain of %s is not healthy:\n' "$PROG" "$top" >&2
        printf '  - %s\n' "${problems[@]}" >&2
        exit 1
    fi
}

# scan_uses: who uses which file, on the whole connection. For every domain of `virsh list --all --name`: each file
# or block disk of its live and its persistent definition; each of its snapshots' overlays and state files (the
# files its disks used when it was taken). Each of those files is expanded into its backing chain (qemu-img info -U
# --backing-chain). Writes $tmp/uses.tsv, one line per file of a use: DOMAIN, SNAPSHOT (- for a disk), DISK, WHO
# (words), FILE (real path); and $tmp/snapshots.tsv, one line per snapshot of $dom: NAME, MEMORY mode, the disks
# with an external snapshot, the disks with an internal one, the state file and the overlay of $disk (- for none).
scan_uses() {
    local d s n=0 names snaps tops top who
    : >"$tmp/manifest.tsv"
    names=$(virsh -q -c "$URI" list --all --name) || die "virsh list --all fails"
    while read -r d; do
        [ -n "$d" ] || continue
        n=$((n + 1))
        if ! virsh -q -c "$URI" dumpxml "$d" >"$tmp/$n.live.xml" 2>"$tmp/err"; then
            # a transient domain that stopped since the list is gone, with its uses: skip it
            if ! virsh -q -c "$URI" domid "$d" >/dev/null 2>&1; then continue; fi
            die "cannot read the XML of domain $d: $(cat "$tmp/err")"
        fi
        printf 'live\t%s\t-\t%s\n' "$d" "$tmp/$n.live.xml" >>"$tmp/manifest.tsv"
        # a transient domain has no persistent definition: then there is none to read
        if virsh -q -c "$URI" dumpxml "$d" --inactive >"$tmp/$n.inactive.xml" 2>/dev/null; then
            printf 'persistent\t%s\t-\t%s\n' "$d" "$tmp/$n.inactive.xml" >>"$tmp/manifest.tsv"
        fi
        if ! snaps=$(virsh -q -c "$URI" snapshot-list "$d" --name 2>"$tmp/err"); then
            if ! virsh -q -c "$URI" domid "$d" >/dev/null 2>&1; then continue; fi
            die "cannot list the snapshots of $d: $(cat "$tmp/err")"
        fi
        while read -r s; do
            [ -n "$s" ] || continue
            n=$((n + 1))
            virsh -q -c "$URI" snapshot-dumpxml "$d" "$s" >"$tmp/$n.snap.xml" ||
                die "cannot read snapshot $s of $d"
            printf 'snapshot\t%s\t%s\t%s\n' "$d" "$s" "$tmp/$n.snap.xml" >>"$tmp/manifest.tsv"
        done <<<"$snaps"
    done <<<"$names"
    # the files each use names directly (one python3 for every XML)
    "$PYTHON" -c '
import sys, xml.etree.ElementTree as E
manifest, dom, target, tops, snapshots = sys.argv[1:6]
def files(disks):
    for d in disks:
        t, s = d.find("target"), d.find("source")
        if t is None or s is None or d.get("type", "file") not in ("file", "block"):
            continue
        f = s.get("file") or s.get("dev")
        if f:
            yield t.get("dev"), f
with open(tops, "w") as out, open(snapshots, "w") as snaps:
    for line in open(manifest):
        kind, d, s, path = line.rstrip("\n").split("\t")
        root = E.parse(path).getroot()
        if kind != "snapshot":
            for t, f in files(root.iterfind("devices/disk")):
                out.write("\t".join([d, "-", t, "disk %s of domain %s (%s definition)" % (t, d, kind), f]) + "\n")
            continue
        what = "snapshot %s of domain %s" % (s, d)
        modes = {}
        overlay = {}
        for x in root.iterfind("disks/disk"):
            modes[x.get("name")] = x.get("snapshot", "")
            src = x.find("source")
            if x.get("snapshot") == "external" and src is not None and src.get("file"):
                overlay[x.get("name")] = src.get("file")
                out.write("\t".join([d, s, x.get("name"), what + ": overlay of " + x.get("name"), src.get("file")]) + "\n")
        state = dict(files(root.iterfind("domain/devices/disk")))
        for t, f in state.items():
            if modes.get(t, "no") != "no":
                out.write("\t".join([d, s, t, what + ": state of " + t, f]) + "\n")
        if d == dom:
            memory = root.find("memory")
            snaps.write("\t".join([s, "no" if memory is None else memory.get("snapshot", "no"),
                                   ",".join(sorted(k for k, m in modes.items() if m == "external")) or "-",
                                   ",".join(sorted(k for k, m in modes.items() if m == "internal")) or "-",
                                   state.get(target, "-"), overlay.get(target, "-")]) + "\n")
' "$tmp/manifest.tsv" "$dom" "$disk" "$tmp/tops.tsv" "$tmp/snapshots.tsv" || die "cannot read the XML of the domains"
    # each named file with its backing chain; each distinct file is read once
    : >"$tmp/chains.tsv"
    tops=$(cut -f5 "$tmp/tops.tsv" | sort -u)
    while read -r top; do
        [ -n "$top" ] || continue
        who=$(awk -F '\t' -v f="$top" '$5 == f { print $4; exit }' "$tmp/tops.tsv")
        # a file that does not exist has no chain: it cannot use a layer of this one (and is not one of them)
        [ -e "$top" ] || continue
        qemu-img info -U --backing-chain --output=json "$top" >"$tmp/info.json" ||
            die "cannot read the backing chain of $top ($who), so it cannot be ruled out"
        jq -r --arg top "$top" '.[] | [$top, .filename] | @tsv' "$tmp/info.json" >>"$tmp/chains.tsv"
    done <<<"$tops"
    # real paths (symbolic links resolved), one realpath for all, then: every use with every file of its chain
    cut -f2 "$tmp/chains.tsv" | tr '\n' '\0' | xargs -0 -r realpath -m -- >"$tmp/real.txt"
    paste "$tmp/chains.tsv" "$tmp/real.txt" >"$tmp/chains-real.tsv"
    awk -F '\t' 'BEGIN { OFS = "\t" } NR == FNR { chain[$1] = chain[$1] SUBSEP $3; next }
        { n = split(substr(chain[$5], 2), files, SUBSEP); for (i = 1; i <= n; i++) print $1, $2, $3, $4, files[i] }' \
        "$tmp/chains-real.tsv" "$tmp/tops.tsv" >"$tmp/uses.tsv"
}

# ---------------------------------------------------------------------------------------------------- 1.
step "1 (domain.state): read the VM's state"
before=$(virsh -q -c "$URI" domstate "$dom") || die "cannot read the state of domain $dom"
printf '  %s is %s\n' "$dom" "$before"

# ---------------------------------------------------------------------------------------------------- 2.
step "2 (assert): the VM runs (the merge is a QEMU block job)"
[ "$before" = running ] ||
    die "$dom is $before; the merge runs as a QEMU block job: start the VM (virsh start) and run the script again"

# ---------------------------------------------------------------------------------------------------- 3.
step "3 (chain.verify): the disk's chain is healthy before merging"
virsh -q -c "$URI" dumpxml "$dom" >"$tmp/live.xml" || die "cannot read the XML of $dom"
vars=$("$PYTHON" -c '
import shlex, sys, xml.etree.ElementTree as E
for d in E.parse(sys.argv[1]).getroot().iterfind("devices/disk"):
    t, s, f = d.find("target"), d.find("source"), d.find("driver")
    if t is not None and t.get("dev") == sys.argv[2]:
        print("disk_type=%s" % shlex.quote(d.get("type", "file")))
        print("top=%s" % shlex.quote("" if s is None else s.get("file", "")))
        print("declared=%s" % shlex.quote("" if f is None else f.get("type", "")))
        break
else:
    sys.exit("domain has no disk " + sys.argv[2])
' "$tmp/live.xml" "$disk") || die "domain $dom has no disk $disk"
eval "$vars"
[ "$disk_type" = file ] && [ -n "$top" ] || die "disk $disk of $dom is not backed by a file (type $disk_type)"
check_chain "$top" "$declared"
[ ${#CHAIN[@]} -ge 2 ] || die "disk $disk of $dom has no backing file ($top stands alone): there is nothing to commit"
before_base=${CHAIN[-1]} base_format=${CHAIN_FORMATS[-1]} size=$CHAIN_SIZE
merged=("${CHAIN[@]:0:${#CHAIN[@]}-1}")
printf '  chain of %s/%s: %s image(s), base %s\n' "$dom" "$disk" "${#CHAIN[@]}" "$before_base"

# ---------------------------------------------------------------------------------------------------- 4.
step "4 (chain.layers): nothing else uses a layer of the chain; find the snapshots the merge drops"
for i in "${!merged[@]}"; do
    [ "${CHAIN_SNAPSHOTS[i]}" -eq 0 ] ||
        die "refusing to merge ${merged[i]}: it holds ${CHAIN_SNAPSHOTS[i]} internal snapshot(s), which the merge would lose"
done
scan_uses
real_chain=$(printf '%s\0' "${CHAIN[@]}" | xargs -0 realpath -m --) # the chain's files, real paths, top first
# The snapshots of this domain the merge drops: disk-only, an external snapshot of this disk alone, whose state file
# and overlay both lie on this chain (their state is in the layers the commit merges into the base). Leaves first:
# the snapshot whose state file is highest in the chain is the newest.
drops=() drop_lines=()
while IFS=$'\t' read -r s memory external internal state overlay; do
    [ -n "$s" ] || continue
    [ "$memory" = no ] && [ "$external" = "$disk" ] && [ "$internal" = - ] && [ "$state" != - ] && [ "$overlay" != - ] ||
        continue
    si=$(grep -nxF -- "$(realpath -m -- "$state")" <<<"$real_chain" | cut -d: -f1) || continue
    grep -qxF -- "$(realpath -m -- "$overlay")" <<<"$real_chain" || continue
    drop_lines+=("$si"$'\t'"$s")
done <"$tmp/snapshots.tsv"
if [ ${#drop_lines[@]} -gt 0 ]; then
    mapfile -t drops < <(printf '%s\n' "${drop_lines[@]}" | sort -n -k1,1 | cut -f2-)
fi
# Every other use of a layer of the chain is refused: only this disk (live and persistent) and the dropped
# snapshots may read it.
printf '%s\n' "$real_chain" >"$tmp/layers.txt"
printf '%s\n' "${drops[@]+"${drops[@]}"}" >"$tmp/drops.txt"
conflicts=$(awk -F '\t' -v dom="$dom" -v disk="$disk" -v layers="$tmp/layers.txt" -v drops="$tmp/drops.txt" '
    FILENAME == layers { layer[$0] = 1; next }
    FILENAME == drops { dropped[$0] = 1; next }
    ($5 in layer) && !($1 == dom && $2 == "-" && $3 == disk) && !($1 == dom && ($2 in dropped)) { print "  - " $5 ": " $4 }
' "$tmp/layers.txt" "$tmp/drops.txt" "$tmp/uses.tsv" | sort -u)
[ -z "$conflicts" ] || die "refusing to commit the chain of $dom/$disk into $before_base: these also use its layers:
$conflicts"
printf '  merge %s into %s; drops snapshot(s): %s\n' "${merged[*]}" "$before_base" "${drops[*]:-none}"

# ---------------------------------------------------------------------------------------------------- 5.
step "5 (snapshot.delete metadata_only): delete the metadata of the snapshots whose state the merge ends"
kept_files=()
for s in "${drops[@]+"${drops[@]}"}"; do
    kept_files+=("$(awk -F '\t' -v s="$s" '$1 == s { print $5 "\n" $6 }' "$tmp/snapshots.tsv")")
    virsh -q -c "$URI" snapshot-delete "$dom" "$s" --metadata >/dev/null ||
        die "virsh snapshot-delete $dom $s --metadata fails"
done
# confirm: they are gone, and their files are all still there
if [ ${#drops[@]} -gt 0 ]; then
    left=$(virsh -q -c "$URI" snapshot-list "$dom" --name) || die "cannot list the snapshots of $dom"
    for s in "${drops[@]}"; do
        ! grep -qxF -- "$s" <<<"$left" || die "snapshot $s of $dom still exists"
    done
    while read -r f; do
        [ -z "$f" ] || [ "$f" = - ] || [ -e "$f" ] || die "file $f is gone, but only the snapshots' metadata was to be deleted"
    done < <(printf '%s\n' "${kept_files[@]}")
    printf '  deleted the metadata of %s\n' "${drops[*]}"
else
    printf '  no snapshot to delete\n'
fi

# ---------------------------------------------------------------------------------------------------- 6.
step "6 (block.commit): commit the chain into $before_base and pivot to it"
# no block job on the disk: virsh -q blockjob --raw prints nothing then (without -q: "No current block job")
job=$(virsh -q -c "$URI" blockjob "$dom" "$disk" --raw 2>&1) || die "virsh blockjob $dom $disk --raw fails: $job"
case $job in
    "" | "No current block job"*) ;;
    *) die "disk $disk of $dom already has a block job ($job): libvirt runs one per disk" ;;
esac
# a commit may write up to the size of the merged files into the base: its file system must have that much free
needed=$(stat -c %s -- "${merged[@]}" | awk '{ s += $1 } END { print s + 0 }')
free=$(df -B1 --output=avail -- "$before_base" | tail -n 1 | tr -d ' ')
[ "$free" -ge "$needed" ] ||
    die "the commit into $before_base may write up to $needed bytes, but its file system has only $free free"
virsh -q -c "$URI" blockcommit "$dom" "$disk" --active --pivot --base "$before_base" >/dev/null ||
    die "virsh blockcommit $dom $disk --active --pivot --base $before_base fails"
# QEMU flushes the merged data and metadata to the base when the domain is paused
virsh -q -c "$URI" suspend "$dom" >/dev/null || die "virsh suspend $dom fails"
virsh -q -c "$URI" resume "$dom" >/dev/null || die "virsh resume $dom fails"
# confirm, as snapbook verifies block.commit: no job left, the disk on the base, the chain below it
job=$(virsh -q -c "$URI" blockjob "$dom" "$disk" --raw 2>&1) || die "virsh blockjob $dom $disk --raw fails: $job"
case $job in "" | "No current block job"*) ;; *) die "a block job is still on $dom/$disk: $job" ;; esac
active=$(disk_source "$dom" "$disk")
[ "$active" = "$before_base" ] || die "$dom/$disk runs on $active, not on $before_base"
files=$(qemu-img info -U --backing-chain --output=json "$active" | jq -r '.[].filename') ||
    die "qemu-img info -U --backing-chain $active fails"
[ "$files" = "$before_base" ] || die "the chain of $dom/$disk is now $(tr '\n' ' ' <<<"$files"), not $before_base"
printf '  %s now runs on %s\n' "$disk" "$before_base"

# ---------------------------------------------------------------------------------------------------- 7.
step "7 (chain.verify): the disk runs on $before_base, depth 1"
# the disk's source and declared format in the live XML (one virsh --xpath: lines  file="..." and  type="...")
live=$(virsh -q -c "$URI" dumpxml "$dom" --xpath \
    "/domain/devices/disk[target/@dev='$disk']/source/@file | /domain/devices/disk[target/@dev='$disk']/driver/@type" |
    sed "s/&quot;/\"/g; s/&apos;/'/g; s/&lt;/</g; s/&gt;/>/g; s/&amp;/\\&/g") || die "cannot read the XML of $dom"
active=$(sed -n 's/^ *file="\(.*\)"$/\1/p' <<<"$live")
declared=$(sed -n 's/^ *type="\(.*\)"$/\1/p' <<<"$live")
check_chain "$active" "$declared"
[ "${CHAIN[-1]}" = "$before_base" ] || die "the chain of $dom/$disk ends at ${CHAIN[-1]}, not at $before_base"
[ ${#CHAIN[@]} -eq 1 ] || die "the chain of $dom/$disk has ${#CHAIN[@]} image(s), not 1"

# ---------------------------------------------------------------------------------------------------- 8. / 9.
if [ "$base_format" != raw ]; then
    step "8 (image.check): the base passes qemu-img check"
    rc=0
    out=$(qemu-img check -U -f "$base_format" "$before_base" 2>&1) || rc=$?
    case $rc in 0 | 3) ;; *) die "qemu-img check -U $before_base fails (exit $rc): $out" ;; esac
else
    step "9 (image.info): a raw base is readable at the disk's full size"
    info=$(qemu-img info -U --output=json "$before_base") || die "qemu-img info -U $before_base fails"
    [ "$(jq -r '.format' <<<"$info")" = raw ] || die "$before_base is not read as raw"
    [ "$(jq -r '."virtual-size"' <<<"$info")" = "$size" ] || die "$before_base is not $size bytes, the disk's size"
fi

# ---------------------------------------------------------------------------------------------------- 10.
step "10 (image.delete skip_used): remove the merged overlays nobody uses any more"
scan_uses # again, just before deleting: what uses each merged file now
deleted=() kept=()
for f in "${merged[@]}"; do
    [ -e "$f" ] || die "image $f does not exist"
    users=$(awk -F '\t' -v f="$(realpath -m -- "$f")" '$5 == f { print "  - " $4 }' "$tmp/uses.tsv" | sort -u)
    if [ -n "$users" ]; then
        kept+=("$f")
        printf '  keeping %s: used by\n%s\n' "$f" "$users"
    else
        rm -- "$f" || die "cannot delete $f"
        deleted+=("$f")
    fi
done
# confirm: nothing is left at a deleted path, not even a symbolic link
for f in "${deleted[@]+"${deleted[@]}"}"; do
    [ ! -e "$f" ] && [ ! -L "$f" ] || die "$f still exists"
done
printf '%s: flattened %s/%s into %s; dropped snapshot(s): %s; deleted: %s; kept (in use): %s\n' "$PROG" "$dom" \
    "$disk" "$before_base" "${drops[*]:-none}" "${deleted[*]:-none}" "${kept[*]:-none}"
