#!/bin/bash
# careful-external-snapshot-revert.sh DOMAIN SNAPSHOT TIMEOUT_SECONDS
#
# The "careful operator" contender of benchmark 2 (issue 16): what recipe:external-snapshot-revert does, written
# by hand with virsh and qemu-img, WITH the recipe's checks, step by step (bench/scripts/CAREFUL.md maps each
# check to its recipe step). Compare bench/scripts/external-snapshot-revert.sh, the same actions without checks.
#
#   1. read the VM's state                          (domain.state)
#   2. read the snapshot's XML: external, disk-only (snapshot.info, verify location == external)
#   3. stop the VM: virsh shutdown, poll virsh domstate up to TIMEOUT_SECONDS, then virsh destroy
#   4. the chain of the snapshot's state file is healthy: qemu-img info -U --backing-chain, recorded formats,
#      qemu-img check -U of each qcow2 layer        (chain.verify)
#   5. keep the state before the revert as the disk-only snapshot snapbook-before-revert-SNAPSHOT[-n], create a
#      NEW overlay over the snapshot's state file, point vda at it (domain XML edited and redefined), make the
#      snapshot current; confirm                    (snapshot.revert)
#   6. start the VM again when it was running       (domain.start)
#   7. virsh domblklist                             (domain.disks)
#   8. the disk runs on the new overlay, backed by the snapshot's state file: qemu-img info -U (image.info)
#
# Simplified, on purpose (the benchmark's lab VM has one disk):
#   - disk vda only: a snapshot with an external disk other than vda is refused, not reverted (snapshot.revert
#     reverts every external disk of the snapshot and checks each one's chain);
#   - a snapshot that holds the guest's memory is refused (the recipe's default, memory=restore); there is no
#     memory=discard;
#   - nothing is rolled back on a failure (snapbook undoes what the run did): the script stops, says at which
#     step, and leaves the rest to the operator.
#
# Needs bash, virsh, qemu-img, jq, od and python3 (xml.etree, to read and edit XML; PYTHON=/usr/bin/python3
# skips a slow pyenv shim). Exit 0 on success; 1, with the reason on stderr, when any check fails.
set -euo pipefail

PROG=careful-external-snapshot-revert
URI=qemu:///system
PYTHON=${PYTHON:-python3}
POLL=0.2          # seconds between two looks at the domain's state while waiting for the shutdown (as snapbook)
DISK=vda          # the one disk this script reverts

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

[ $# -eq 3 ] || die "usage: $0 DOMAIN SNAPSHOT TIMEOUT_SECONDS"
dom=$1 snap=$2 timeout=$3
case $timeout in '' | *[!0-9]*) die "TIMEOUT_SECONDS must be a whole number of seconds, not '$timeout'" ;; esac
for tool in virsh qemu-img jq od "$PYTHON"; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/$PROG.XXXXXX")

# The domain's state as virsh domstate says it: running, paused, shut off, ...
domstate() {
    virsh -q -c "$URI" domstate "$dom" || die "cannot read the state of domain $dom"
}

# The source file of disk $2 as virsh domblklist lists it (the live definition when running, else the persistent).
disk_source() {
    virsh -q -c "$URI" domblklist "$1" --details |
        awk -v t="$2" '$3 == t { sub(/^[ \t]*[^ \t]+[ \t]+[^ \t]+[ \t]+[^ \t]+[ \t]+/, ""); print; exit }'
}

# check_chain TOP DECLARED_FORMAT RUN_CHECK: the backing chain of TOP is healthy. One qemu-img info -U
# --backing-chain reads every link (it fails on a missing or unreadable link and on a loop); then for each layer
# the format recorded for it must be recorded (by the layer above; DECLARED_FORMAT, if not empty, for TOP) and
# match what its first bytes show (qcow2 magic QFI\xfb); with RUN_CHECK=yes every qcow2 layer must pass
# qemu-img check -U (leaks are harmless: exit 3 passes). Sets CHAIN (files, top first) and CHAIN_FORMATS.
check_chain() {
    local top=$1 declared=$2 run_check=$3 json rows i=0 file fmt bfmt bfile snaps magic prev_bfmt= out rc
    local problems=()
    CHAIN=() CHAIN_FORMATS=()
    json=$(qemu-img info -U --backing-chain --output=json "$top") ||
        die "the backing chain of $top is broken (qemu-img info -U --backing-chain $top fails)"
    rows=$(jq -r '.[] | [.filename, .format, (."backing-filename-format" // "-"),
                         (."full-backing-filename" // "-"), ((.snapshots // []) | length)] | @tsv' <<<"$json")
    while IFS=$'\t' read -r file fmt bfmt bfile snaps; do
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
        CHAIN+=("$file") CHAIN_FORMATS+=("$fmt")
        prev_bfmt=$bfmt
        i=$((i + 1))
    done <<<"$rows"
    if [ "$run_check" = yes ]; then
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
    fi
    if [ ${#problems[@]} -gt 0 ]; then
        printf '%s: the backing chain of %s is not healthy:\n' "$PROG" "$top" >&2
        printf '  - %s\n' "${problems[@]}" >&2
        exit 1
    fi
}

# ---------------------------------------------------------------------------------------------------- 1.
step "1 (domain.state): read the VM's state"
before=$(domstate)
printf '  %s is %s\n' "$dom" "$before"

# ---------------------------------------------------------------------------------------------------- 2.
step "2 (snapshot.info): read the snapshot's XML; it must be external"
virsh -q -c "$URI" snapshot-dumpxml "$dom" "$snap" >"$tmp/snap.xml" ||
    die "cannot read snapshot $snap of $dom (virsh snapshot-dumpxml)"
# location: external when every disk the snapshot includes is external and it holds no internal memory state;
# state/format: the file vda used when the snapshot was taken and its format, from the snapshot's <domain>.
vars=$("$PYTHON" -c '
import shlex, sys, xml.etree.ElementTree as E
root = E.parse(sys.argv[1]).getroot()
memory = root.find("memory")
memory = "no" if memory is None else memory.get("snapshot", "no")
modes = {d.get("name"): d.get("snapshot", "") for d in root.iterfind("disks/disk")}
used = {m for m in modes.values() if m != "no"} | ({"internal"} if memory == "internal" else set())
location = "none" if not used else "mixed" if len(used) > 1 else used.pop()
state = fmt = ""
for d in root.iterfind("domain/devices/disk"):
    t, s, f = d.find("target"), d.find("source"), d.find("driver")
    if t is not None and t.get("dev") == sys.argv[2]:
        state = "" if s is None else s.get("file", "")
        fmt = "" if f is None else f.get("type", "")
external = " ".join(sorted(n for n, m in modes.items() if m == "external"))
for k, v in (("location", location), ("memory", memory), ("external", external),
             ("state", state), ("state_format", fmt)):
    print("snap_%s=%s" % (k, shlex.quote(v)))
' "$tmp/snap.xml" "$DISK") || die "cannot read the XML of snapshot $snap"
eval "$vars"
[ "$snap_location" = external ] ||
    die "snapshot $snap of $dom is $snap_location, not external (this script reverts external snapshots)"
[ "$snap_memory" != external ] ||
    die "snapshot $snap of $dom holds the guest's memory; reverting its disks only would boot the VM as after a power cut"
[ "$snap_external" = "$DISK" ] ||
    die "snapshot $snap of $dom has the external disk(s) '$snap_external'; this script reverts a snapshot of $DISK alone"
[ -n "$snap_state" ] || die "snapshot $snap of $dom does not record which file $DISK used when it was taken"
[ -e "$snap_state" ] || die "the file holding $DISK at snapshot $snap, $snap_state, does not exist"
[ -n "$snap_state_format" ] || snap_state_format=$(qemu-img info -U --output=json "$snap_state" | jq -r .format)
printf '  state file of %s at %s: %s (%s)\n' "$DISK" "$snap" "$snap_state" "$snap_state_format"

# ---------------------------------------------------------------------------------------------------- 3.
step "3 (domain.shutdown): stop the VM (graceful, forced off after ${timeout}s)"
if [ "$before" != "shut off" ]; then
    virsh -q -c "$URI" shutdown "$dom" >/dev/null || die "virsh shutdown $dom fails"
    deadline=$(($(date +%s%N) + timeout * 1000000000))
    while :; do
        now=$(domstate)
        if [ "$now" = "shut off" ]; then
            printf '  %s shut down\n' "$dom"
            break
        fi
        if [ "$(date +%s%N)" -ge "$deadline" ]; then
            virsh -q -c "$URI" destroy "$dom" >/dev/null || die "virsh destroy $dom fails"
            printf '  %s ignored the shutdown request for %ss: powered off (virsh destroy)\n' "$dom" "$timeout"
            break
        fi
        sleep "$POLL"
    done
    # confirm
    now=$(domstate)
    [ "$now" = "shut off" ] || die "$dom is $now after the shutdown, not shut off"
else
    printf '  already shut off\n'
fi

# ---------------------------------------------------------------------------------------------------- 4.
step "4 (chain.verify): the chain of the snapshot's state file is healthy"
check_chain "$snap_state" "" yes
printf '  chain of %s: %s image(s), base %s\n' "$snap_state" "${#CHAIN[@]}" "${CHAIN[-1]}"

# ---------------------------------------------------------------------------------------------------- 5.
step "5 (snapshot.revert): keep the state before, new overlay over the state file, disk swapped to it"
now=$(domstate)
[ "$now" = "shut off" ] || die "$dom is $now; the revert needs it shut off"
previous=$(disk_source "$dom" "$DISK")
[ -n "$previous" ] || die "domain $dom has no file disk $DISK any more"
# the image the disk runs on now becomes the kept snapshot's state: its chain must be readable and its formats
# recorded (snapbook's damage check of the disk before it takes a snapshot of it)
check_chain "$previous" "" no

# 5a. the kept state: the disk-only snapshot snapbook-before-revert-SNAPSHOT[-n] of vda alone (its state file is
# the image vda runs on now; libvirt creates its new, empty overlay, named like libvirt's default: the image's name
# with its extension replaced by the snapshot's name). It is the name snapbook uses, so that `snapbook show`, the
# recipe and this script see the same states.
names=$(virsh -q -c "$URI" snapshot-list "$dom" --name) || die "cannot list the snapshots of $dom"
kept="snapbook-before-revert-$snap" n=2
while grep -qxF -- "$kept" <<<"$names"; do
    kept="snapbook-before-revert-$snap-$n" n=$((n + 1))
done
file=${previous##*/}
case $file in ?*.*) file=${file%.*} ;; esac
kept_overlay="${previous%/*}/$file.$kept"
[ ! -e "$kept_overlay" ] || die "the overlay $kept_overlay for the kept state already exists; not overwriting it"
targets=$(virsh -q -c "$URI" domblklist "$dom" | awk 'NF { print $1 }') || die "virsh domblklist $dom fails"
others=()
while read -r target; do
    if [ -n "$target" ] && [ "$target" != "$DISK" ]; then others+=(--diskspec "${target//,/,,},snapshot=no"); fi
done <<<"$targets"
virsh -q -c "$URI" snapshot-create-as "$dom" --name "$kept" \
    --description "the state of $dom just before $PROG reverted it to $snap" \
    --disk-only --atomic \
    --diskspec "$DISK,snapshot=external,driver=qcow2,file=${kept_overlay//,/,,}" "${others[@]}" >/dev/null ||
    die "cannot take the snapshot $kept that keeps the state before the revert"
printf '  the state before the revert is kept as snapshot %s (state file %s)\n' "$kept" "$previous"

# 5b. the new overlay, next to the state file, named as snapbook names it: DOMAIN-vda.revert-SNAPSHOT-N.qcow2 with the
# first free N, so that repeated runs never collide
n=1
while [ -e "${snap_state%/*}/$dom-$DISK.revert-$snap-$n.qcow2" ]; do n=$((n + 1)); done
overlay="${snap_state%/*}/$dom-$DISK.revert-$snap-$n.qcow2"
qemu-img create -q -f qcow2 -b "$snap_state" -F "$snap_state_format" "$overlay" ||
    die "qemu-img create of the overlay $overlay fails"

# 5c. the disk swap: the persistent XML (with its secrets) with vda's <source file> and <driver type> changed and its
# <backingStore> dropped, nothing else; redefined
virsh -q -c "$URI" dumpxml "$dom" --inactive --security-info >"$tmp/domain.xml" ||
    die "cannot read the persistent XML of $dom"
"$PYTHON" -c '
import sys, xml.etree.ElementTree as E
E.register_namespace("qemu", "http://libvirt.org/schemas/domain/qemu/1.0")
path, target, new, fmt = sys.argv[1:5]
tree = E.parse(path)
disk = next((d for d in tree.getroot().iterfind("devices/disk")
             if d.find("target") is not None and d.find("target").get("dev") == target), None)
if disk is None or disk.get("type", "file") != "file":
    sys.exit("the persistent XML has no file disk " + target)
source = disk.find("source")
if source is None:
    source = E.Element("source")
    disk.insert(list(disk).index(disk.find("target")), source)
source.set("file", new)
driver = disk.find("driver")
if driver is None:
    driver = E.Element("driver", name="qemu")
    disk.insert(list(disk).index(source), driver)
driver.set("type", fmt)
for b in disk.findall("backingStore"):
    disk.remove(b)
tree.write(path, encoding="unicode")
' "$tmp/domain.xml" "$DISK" "$overlay" qcow2 || die "cannot edit the persistent XML of $dom"
virsh -q -c "$URI" define "$tmp/domain.xml" >/dev/null || die "virsh define of the edited XML of $dom fails"

# 5d. the snapshot becomes current again (the kept one was made current when it was taken)
virsh -q -c "$URI" snapshot-current "$dom" "$snap" >/dev/null || die "cannot make $snap the current snapshot"

# confirm, as snapbook verifies snapshot.revert: current snapshot, state, the disk's source, the overlay's backing
current=$(virsh -q -c "$URI" snapshot-current "$dom" --name)
[ "$current" = "$snap" ] || die "the current snapshot of $dom is $current, not $snap"
now=$(domstate)
[ "$now" = "shut off" ] || die "$dom is $now after the revert, not shut off"
source=$(disk_source "$dom" "$DISK")
[ "$source" = "$overlay" ] || die "disk $DISK of $dom uses $source, not the new overlay $overlay"
backing=$(qemu-img info -U --output=json "$overlay" | jq -r '."full-backing-filename" // ""')
[ "$backing" = "$snap_state" ] || die "the overlay $overlay is backed by '$backing', not $snap_state"
printf '  %s now runs on %s, backed by %s\n' "$DISK" "$overlay" "$snap_state"

# ---------------------------------------------------------------------------------------------------- 6.
step "6 (domain.start): start the VM again (it was running)"
if [ "$before" = running ]; then
    virsh -q -c "$URI" start "$dom" >/dev/null || die "virsh start $dom fails"
    now=$(domstate)
    [ "$now" = running ] || die "$dom is $now after virsh start, not running"
    printf '  %s is running\n' "$dom"
else
    printf '  skipped: %s was %s\n' "$dom" "$before"
fi

# ---------------------------------------------------------------------------------------------------- 7.
step "7 (domain.disks): read the disks now"
disks=$(virsh -q -c "$URI" domblklist "$dom" --details) || die "virsh domblklist $dom fails"

# ---------------------------------------------------------------------------------------------------- 8.
step "8 (image.info): the disk runs on the new overlay, backed by the snapshot's state file"
backing=$(qemu-img info -U --output=json "$overlay" | jq -r '."full-backing-filename" // ""') ||
    die "qemu-img info -U $overlay fails"
[ "$backing" = "$snap_state" ] || die "the overlay $overlay is backed by '$backing', not $snap_state"
awk -v t="$DISK" -v f="$overlay" '$3 == t { sub(/^[ \t]*[^ \t]+[ \t]+[^ \t]+[ \t]+[^ \t]+[ \t]+/, "");
    found = ($0 == f) } END { exit !found }' <<<"$disks" ||
    die "virsh domblklist $dom does not show $DISK on $overlay: $disks"
printf '%s: reverted %s to %s: %s runs on %s (backed by %s); the state before is snapshot %s\n' \
    "$PROG" "$dom" "$snap" "$DISK" "$overlay" "$snap_state" "$kept"
