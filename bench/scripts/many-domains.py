#!/usr/bin/env python3
"""Plan observation on a host with many defined domains (issue 11/16).

Defines N shut-off domains snapbook-bench-many-0001..N (guest-less, like the lab VMs: one virtio disk, a
qcow2 overlay over one of 4 shared qcow2 base images), plus snapbook-bench-many-0000 with a private
base <- overlay chain, which it starts: recipe:flatten-commit needs a running VM. Then it times
`snapbook plan recipe:flatten-commit -e domain=snapbook-bench-many-0000` (one untimed run, then --rounds
timed runs per launcher, alternating) and splits each run's wall time with the -v trace: how many qemu-img
processes the plan started, the start-up (to the first libvirt call) and the observation (from the first
libvirt call to the plan's header, which the planner prints once it has read the world and simulated the
steps; the simulation itself is a few milliseconds). -v lines carry no timestamps, so this script stamps
each line as it arrives.

The plan reads every domain on the connection, so the call count includes domains others defined.

Every domain and file it created is removed at the end, also on failure, Ctrl-C or SIGTERM. Files live in a
temporary directory under /var/lib/snapbook/lab/bench-many.

Usage: bench/scripts/many-domains.py [--domains 1000] [--rounds 3] [--snapbook PATH]... [--show-trace] [--json FILE]
Needs root (qemu:///system), virsh, qemu-img, a built snapbook (mvn -B -q -DskipTests package).
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from xml.sax.saxutils import escape

URI = "qemu:///system"
PREFIX = "snapbook-bench-many-"
MARKER = "snapbook bench-many "  # the <description> of every domain this script defines, + its directory
LAB = "/var/lib/snapbook/lab/bench-many"
ANCESTORS = ("/var/lib/snapbook", "/var/lib/snapbook/lab", LAB)
BASES = 4


def virt_type():
    """kvm when QEMU (user libvirt-qemu, group kvm) can open /dev/kvm read-write, else qemu (TCG), as the
    lab VMs choose (LabMachine.virtType)."""
    import grp
    try:
        st = os.stat("/dev/kvm")
        group = grp.getgrgid(st.st_gid).gr_name
    except (OSError, KeyError):
        return "qemu"
    others = st.st_mode & 0o006 == 0o006
    kvm_group = group == "kvm" and st.st_mode & 0o060 == 0o060
    return "kvm" if others or kvm_group else "qemu"


def domain_xml(name, disk, description):
    # the same shape as LabMachine.domainXml: no guest OS, 64 MiB, one virtio disk vda
    return f"""<domain type='{virt_type()}'>
  <name>{escape(name)}</name>
  <description>{escape(description)}</description>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <on_poweroff>destroy</on_poweroff><on_reboot>destroy</on_reboot><on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='{escape(disk)}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <memballoon model='none'/>
  </devices>
</domain>
"""


def run(argv, **kw):
    return subprocess.run(argv, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def virsh_batch(commands, chunk=100):
    """Runs virsh commands in batches of one virsh process each (virsh 'cmd1; cmd2; ...')."""
    for i in range(0, len(commands), chunk):
        run(["virsh", "-q", "-c", URI, "; ".join(commands[i:i + chunk])])


def named_like_ours():
    """The domains named PREFIX*, each with its description."""
    out = run(["virsh", "-q", "-c", URI, "list", "--all", "--name"]).stdout.split()
    found = {}
    for name in out:
        if name.startswith(PREFIX):
            found[name] = subprocess.run(["virsh", "-q", "-c", URI, "desc", name], stdout=subprocess.PIPE,
                                         stderr=subprocess.DEVNULL, text=True).stdout.strip()
    return found


def undefine(names):
    for i in range(0, len(names), 100):
        # an "undefine" of a name that is already gone fails its batch, so then go one by one
        batch = names[i:i + 100]
        r = subprocess.run(["virsh", "-q", "-c", URI, "; ".join(f"undefine {n}" for n in batch)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if r.returncode != 0:
            for n in batch:
                subprocess.run(["virsh", "-q", "-c", URI, "undefine", n],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def remove_leftovers():
    """Removes what a killed earlier run of this script left (its marker names its directory); refuses to
    touch domains named like ours that this script did not define."""
    found = named_like_ours()
    foreign = [n for n, d in found.items() if not d.startswith(MARKER)]
    if foreign:
        sys.exit(f"many-domains.py: domains named {PREFIX}* that this script did not define exist: "
                 f"{', '.join(sorted(foreign)[:5])}...; remove them first")
    if found:
        print(f"== removing {len(found)} domains left by an earlier run", flush=True)
        for n in found:
            subprocess.run(["virsh", "-q", "-c", URI, "destroy", n], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        undefine(sorted(found))
        for d in set(found.values()):
            path = d[len(MARKER):]
            if os.path.dirname(path) == LAB:
                shutil.rmtree(path, ignore_errors=True)


class Host:
    """The domains and files of one benchmark run; remove() undoes all of it, whatever state it is in."""

    def __init__(self, domains):
        self.count = domains
        self.dir = None
        self.defined = []
        self.created = []  # directories on the way to LAB that did not exist
        self.modes = []  # (directory, mode) of those that did

    def create(self):
        # QEMU (user libvirt-qemu) must reach the running domain's disk: every directory on the way gets
        # r-x for group and others; remove() restores the modes it found and removes what it created
        for d in ANCESTORS:
            if os.path.isdir(d):
                self.modes.append((d, os.stat(d).st_mode & 0o7777))
            else:
                os.mkdir(d)
                self.created.append(d)
            os.chmod(d, os.stat(d).st_mode | 0o055)
        self.dir = tempfile.mkdtemp(prefix="run-", dir=LAB)
        os.chmod(self.dir, 0o755)
        description = MARKER + self.dir
        t0 = time.monotonic()
        bases = []
        for b in range(BASES):
            base = os.path.join(self.dir, f"base-{b}.qcow2")
            run(["qemu-img", "create", "-q", "-f", "qcow2", base, "64M"])
            bases.append(base)
        private_base = os.path.join(self.dir, "private-base.qcow2")
        run(["qemu-img", "create", "-q", "-f", "qcow2", private_base, "64M"])
        defines = []
        for i in range(self.count + 1):
            name = f"{PREFIX}{i:04d}"
            disk = os.path.join(self.dir, f"{name}.qcow2")
            backing = private_base if i == 0 else bases[i % BASES]
            run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", backing, "-F", "qcow2", disk])
            xml = os.path.join(self.dir, f"{name}.xml")
            with open(xml, "w") as f:
                f.write(domain_xml(name, disk, description))
            defines.append(f"define '{xml}'")
        self.defined = [f"{PREFIX}{i:04d}" for i in range(self.count + 1)]
        virsh_batch(defines)
        run(["virsh", "-q", "-c", URI, "start", self.defined[0]])
        print(f"== {self.count} shut-off domains over {BASES} shared bases + {self.defined[0]} running "
              f"(set up in {time.monotonic() - t0:.1f} s, in {self.dir})", flush=True)

    def remove(self):
        if self.defined:
            subprocess.run(["virsh", "-q", "-c", URI, "destroy", self.defined[0]],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            undefine(self.defined)
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
        for d in reversed(self.created):
            try:
                os.rmdir(d)  # only when empty: another run may use it
            except OSError:
                pass
        for d, mode in self.modes:
            try:
                os.chmod(d, mode)
            except OSError:
                pass
        left = sorted(set(named_like_ours()) & set(self.defined))
        print(f"== cleanup: {len(self.defined)} domains undefined, {self.dir} removed"
              + (f"; LEFT OVER: {left}" if left else ""), flush=True)


CALL = re.compile(r"^\s*> ")  # a -v trace line: a libvirt call or a command line, as it happens
QEMU_IMG = re.compile(r"^\s*> .*qemu-img ")
PLAN = re.compile(r"^PLAN ")  # the plan's header: observation and simulation are over


def plan_once(snapbook, domain):
    """One `snapbook plan -v`: wall time, its parts, and the qemu-img processes it started."""
    rss_file = f"/tmp/snapbook-bench-many-rss-{os.getpid()}"
    argv = ["/usr/bin/time", "-f", "%M", "-o", rss_file,
            snapbook, "plan", "-v", "-c", URI, "recipe:flatten-commit", "-e", f"domain={domain}"]
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    lines = []
    try:
        for line in p.stdout:
            lines.append((time.monotonic() - t0, line.rstrip("\n")))
        rc = p.wait()
    except BaseException:
        p.kill()  # interrupted: no plan outlives the script
        p.wait()
        raise
    wall = time.monotonic() - t0
    calls = [t for t, l in lines if CALL.search(l)]
    plan = [t for t, l in lines if PLAN.search(l)]
    first = calls[0] if calls else 0.0
    # from the first libvirt call (the connection) to the plan's header: reading the world, then simulating
    observe = (plan[0] if plan else wall) - first
    qemu = sum(1 for _, l in lines if QEMU_IMG.search(l))
    try:
        with open(rss_file) as f:
            rss_mib = int(f.read().split()[-1]) / 1024
        os.unlink(rss_file)
    except (OSError, ValueError, IndexError):
        rss_mib = float("nan")
    return rc, {"wall": wall, "start": first, "observe": observe, "qemu": qemu, "calls": len(calls),
                "rss_mib": rss_mib}, lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--domains", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--snapbook", action="append", help="launcher(s) to time (default: bin/snapbook)")
    ap.add_argument("--show-trace", action="store_true", help="print the -v output of the first timed run")
    ap.add_argument("--json", help="also write the first launcher's figures, round by round, to this file")
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    launchers = args.snapbook or [os.path.join(root, "bin", "snapbook")]
    if os.geteuid() != 0:
        sys.exit("many-domains.py: needs root (qemu:///system, /var/lib/snapbook/lab)")
    for tool in ("virsh", "qemu-img"):
        if shutil.which(tool) is None:
            sys.exit(f"many-domains.py: {tool} is missing")

    def interrupted(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started in the background
    remove_leftovers()
    host = Host(args.domains)
    status = 0
    try:
        host.create()
        domain = host.defined[0]
        results = {l: [] for l in launchers}
        for launcher in launchers:  # one untimed run each: page cache, libvirt caches
            rc, _, lines = plan_once(launcher, domain)
            if rc != 0:
                print("\n".join(l for _, l in lines[-30:]))
                raise RuntimeError(f"{launcher} plan failed (exit {rc})")
        for r in range(args.rounds):
            for launcher in launchers:
                rc, figures, lines = plan_once(launcher, domain)
                if rc != 0:
                    raise RuntimeError(f"{launcher} plan failed (exit {rc})")
                results[launcher].append(figures)
                print(f"   round {r + 1} {launcher}: " + ", ".join(
                    f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in figures.items()), flush=True)
                if args.show_trace and r == 0:
                    print("\n".join(f"{t:8.3f} {l}" for t, l in lines))
        print(f"\n`snapbook plan recipe:flatten-commit` with {args.domains} defined shut-off domains "
              f"(+1 running), median of {args.rounds} rounds:\n")
        print("| launcher | wall s | start-up s (to the first libvirt call) | observation + simulation s "
              "(first call to the plan's header) | libvirt calls and commands (-v) | qemu-img processes |")
        print("|---|---|---|---|---|---|")
        for launcher, rs in results.items():
            def med(key):
                return statistics.median(r[key] for r in rs)
            print(f"| {launcher} | {med('wall'):.2f} | {med('start'):.2f} | {med('observe'):.2f} "
                  f"| {med('calls'):.0f} | {med('qemu'):.0f} |")
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"domains": args.domains, "rounds": args.rounds, "launcher": launchers[0],
                           "runs": results[launchers[0]]}, f)
    except (KeyboardInterrupt, Exception) as e:  # noqa: BLE001 - reported, then the host is cleaned
        print(f"many-domains.py: {type(e).__name__}: {e}", file=sys.stderr)
        status = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        host.remove()
    return status


if __name__ == "__main__":
    sys.exit(main())
