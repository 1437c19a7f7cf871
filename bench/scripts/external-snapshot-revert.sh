#!/bin/sh
# Benchmark 2: what recipe:external-snapshot-revert does, hand-written with virsh and qemu-img and without
# any check: new overlay over the snapshot's state file, disk pointed at it, VM started again.
# Usage: DOMAIN SNAPSHOT NEW_OVERLAY
set -e
dom=$1 snap=$2 new=$3
c="-c qemu:///system"
state=$(virsh -q $c domstate "$dom")
# the file vda used when the snapshot was taken: the disk source in the snapshot's <domain>
base=$(virsh -q $c snapshot-dumpxml "$dom" "$snap" | python3 -c '
import sys, xml.etree.ElementTree as E
d = E.fromstring(sys.stdin.read()).find("domain")
print([x for x in d.iter("disk") if x.find("target").get("dev") == "vda"][0].find("source").get("file"))')
if [ "$state" != "shut off" ]; then
    virsh -q $c shutdown "$dom" >/dev/null || true
    virsh -q $c destroy "$dom" >/dev/null
fi
qemu-img create -q -f qcow2 -F qcow2 -b "$base" "$new"
old=$(virsh -q $c domblklist "$dom" | awk '$1 == "vda" { print $2 }')
virsh -q $c dumpxml --inactive "$dom" | sed "s|'$old'|'$new'|" > "$new.xml"
virsh -q $c define "$new.xml" >/dev/null
rm -f "$new.xml"
[ "$state" = "running" ] && virsh -q $c start "$dom" >/dev/null
exit 0
