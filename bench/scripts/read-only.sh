#!/bin/sh
# Benchmark 1, as a user would script it: the same five reads with virsh and qemu-img. Usage: DOMAIN IMAGE
set -e
virsh -q -c qemu:///system domstate "$1"
virsh -q -c qemu:///system domblklist --details "$1"
qemu-img info -U --backing-chain --output=json "$2"
virsh -q -c qemu:///system snapshot-list "$1"
virsh -q -c qemu:///system dumpxml "$1"
