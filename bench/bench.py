#!/usr/bin/env python3
"""Runs the benchmarks of issues 7 and 16 on a throwaway lab VM and writes BENCHMARKS.md (see bench/README.md).

Every comparison alternates its contenders round by round (A B C, B C A, C A B, ...) in one invocation, so
that a noisy, shared machine slows them alike and the ratios hold. Wall time is measured here around each
process; peak RSS comes from /usr/bin/time -f %M.
"""
import argparse
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
SNAPBOOK = ROOT / "bin" / "snapbook"
LAB = "bench"
DOMAIN = "snapbook-lab-" + LAB
URI = "qemu:///system"
MIB = 1024 * 1024


def sh(*args, check=True, capture=True, env=None):
    r = subprocess.run([str(a) for a in args], capture_output=capture, text=True, env=env)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} exited {r.returncode}: {(r.stderr or '').strip()[-2000:]}")
    return r.stdout if capture else ""


def virsh(*args, check=True):
    return sh("virsh", "-q", "-c", URI, *args, check=check)


class Timed:
    """One process, timed: wall seconds and peak RSS (KiB)."""

    def __init__(self, argv, env=None):
        rss_file = Path("/tmp") / f"snapbook-bench-rss-{os.getpid()}"
        start = time.perf_counter()
        r = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", str(rss_file), *map(str, argv)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
        self.wall = time.perf_counter() - start
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(map(str, argv))} exited {r.returncode}: {r.stderr.strip()[-3000:]}")
        self.rss_kib = int(rss_file.read_text().split()[-1])
        rss_file.unlink()


class Series:
    def __init__(self, label):
        self.label = label
        self.walls = []
        self.rss = []

    def add(self, t):
        self.walls.append(t.wall)
        self.rss.append(t.rss_kib)

    @property
    def median(self):
        return statistics.median(self.walls)

    def row(self, ref=None):
        ratio = f"{self.median / ref.median:.2f}×" if ref is not None else ""
        return (f"| {self.label} | {self.median:.3f} | {min(self.walls):.3f} | {max(self.walls):.3f} | "
                f"{len(self.walls)} | {max(self.rss) / 1024:.0f} | {ratio} |")


HEADER = "| command | median s | min s | max s | runs | peak RSS MiB | ratio |\n|---|---|---|---|---|---|---|"


def alternate(rounds, contenders, before_each=None, warm_up=True):
    """contenders: list of (Series, function returning a Timed). Rotates the order every round. With warm_up,
    each contender runs once first, untimed (the page cache holds its files, as it does for a user's second
    command)."""
    n = len(contenders)
    if warm_up:
        for series, run in contenders:
            if before_each:
                before_each(series)
            run()
    for r in range(rounds):
        order = contenders[r % n:] + contenders[:r % n]
        for series, run in order:
            if before_each:
                before_each(series)
            series.add(run())
        print(f"  round {r + 1}/{rounds}: " + ", ".join(f"{s.label} {s.walls[-1]:.3f}s" for s, _ in contenders),
              flush=True)


def snapbook(*args, launcher=SNAPBOOK, env=None):
    return Timed([launcher, *args], env=env)


# ---------------------------------------------------------------------------------------------- machine

def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    mem = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal"))
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()
    versions = sh("virsh", "-c", URI, "version")
    qemu = re.search(r"Running hypervisor: (.*)", versions)
    lib = re.search(r"Using library: (.*)", versions)
    kvm = os.access("/dev/kvm", os.R_OK | os.W_OK)
    domtype = ET.fromstring(virsh("dumpxml", DOMAIN)).get("type")
    return {
        "CPU": f"{cpu} ({os.cpu_count()} cores visible)",
        "Memory": f"{mem / 1024 / 1024:.1f} GiB",
        "Kernel": platform.release(),
        "OS": next((l.split("=", 1)[1].strip().strip('"') for l in open("/etc/os-release")
                    if l.startswith("PRETTY_NAME")), "?"),
        "Java": java[1] if len(java) > 1 else java[0],
        "libvirt": lib.group(1) if lib else "?",
        "QEMU": qemu.group(1) if qemu else "?",
        "Acceleration": f"{'KVM' if domtype == 'kvm' else 'TCG'} (lab VM domain type '{domtype}', /dev/kvm "
                        f"{'usable' if kvm else 'absent'})",
        "Ansible": sh("ansible-playbook", "--version").splitlines()[0],
        "Load": "load average at the start " + " ".join(open("/proc/loadavg").read().split()[:3]),
    }


# ------------------------------------------------------------------------------------------ lab helpers

def disk_source(domain=DOMAIN):
    for line in virsh("domblklist", domain).splitlines():
        parts = line.split()
        if parts and parts[0] == "vda":
            return parts[1]
    raise RuntimeError("no vda")


def redefine_disk(path):
    """Points the lab VM's vda at path (VM shut off), the way bench setup needs; not timed."""
    root = ET.fromstring(virsh("dumpxml", "--inactive", DOMAIN))
    for disk in root.iter("disk"):
        if disk.find("target").get("dev") == "vda":
            disk.find("source").set("file", str(path))
            backing = disk.find("backingStore")
            if backing is not None:
                disk.remove(backing)
    xml = Path(str(path) + ".domain.xml")
    xml.write_text(ET.tostring(root, encoding="unicode"))
    virsh("define", xml)
    xml.unlink()


SETTLE_SECONDS = 3


def settle():
    """Lets a VM started a moment ago finish starting: here a lab VM's QEMU keeps a core busy for its first
    2.5 s (measured from /proc/PID/stat), which would slow whichever contender runs next (snapbook's JVM
    start more than a few virsh calls). Nobody reverts or merges a VM 10 ms after starting it; both
    contenders get the same settled VM. Up to one second more, at random: this host's init reaps a stopped
    QEMU on its own clock (see FINDINGS.md), and a fixed rhythm could land one contender on its slow side
    every time."""
    time.sleep(SETTLE_SECONDS + random.random())


def stop():
    if virsh("domstate", DOMAIN).strip() != "shut off":
        virsh("destroy", DOMAIN)


def delete_all_snapshot_metadata():
    for name in virsh("snapshot-list", DOMAIN, "--name").split():
        virsh("snapshot-delete", DOMAIN, name, "--metadata")


# ----------------------------------------------------------------------------------------- benchmarks

def bench_read_only(work, rounds, baseline):
    print("1. start-up + 5 read-only steps", flush=True)
    image = disk_source()
    sb = Series("snapbook run (5 steps)")
    shell = Series("shell script (virsh/qemu-img)")
    ans = Series("ansible-playbook (command tasks, local)")
    contenders = [
        (sb, lambda: snapbook("run", "--yes", BENCH / "playbooks/read-only.yml", "-e", f"domain={DOMAIN}",
                              "-e", f"image={image}")),
        (shell, lambda: Timed(["sh", BENCH / "scripts/read-only.sh", DOMAIN, image])),
        (ans, lambda: Timed(["ansible-playbook", "-i", "localhost,", "-c", "local", BENCH / "ansible/read-only.yml",
                             "-e", f"domain={DOMAIN}", "-e", f"image={image}"],
                            env={**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_LOCALHOST_WARNING": "0",
                                 "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0"})),
    ]
    before = None
    if baseline:
        before = Series("snapbook run, before the fixes (baseline build)")
        contenders.append((before, lambda: snapbook("run", "--yes", BENCH / "playbooks/read-only.yml",
                                                    "-e", f"domain={DOMAIN}", "-e", f"image={image}",
                                                    launcher=baseline)))
    # one untimed run each: page cache, Ansible's byte-compiled modules
    for _, run in contenders:
        run()
    alternate(rounds, contenders)
    return sb, shell, ans, before


# The careful scripts parse XML with python3: the system's, as on an operator's Debian host (a pyenv shim
# first on PATH adds about 0.2 s to every start).
CAREFUL_ENV = {**os.environ, "PYTHON": "/usr/bin/python3"}


def drop_snapshots_but(keep):
    """Deletes the metadata of every snapshot of the lab VM but keep (not timed): each revert makes one (the
    state before it), and every run of a comparison should see the same world."""
    for name in virsh("snapshot-list", DOMAIN, "--name").split():
        if name != keep:
            virsh("snapshot-delete", DOMAIN, name, "--metadata")


def bench_revert(work, rounds):
    print("2. external-snapshot-revert end to end", flush=True)
    sb = Series("snapbook run recipe:external-snapshot-revert")
    careful = Series("careful script (the recipe's checks, scripts/careful-external-snapshot-revert.sh)")
    bare = Series("bare script (same virsh/qemu-img actions, no checks)")
    counter = [0]

    def new_overlay():
        counter[0] += 1
        return work / f"revert-{counter[0]}.qcow2"

    def ensure_running(_):
        drop_snapshots_but("s1")
        if virsh("domstate", DOMAIN).strip() != "running":
            virsh("start", DOMAIN)
        settle()

    contenders = [
        (sb, lambda: snapbook("run", "--yes", "recipe:external-snapshot-revert", "-e", f"domain={DOMAIN}",
                              "-e", "snapshot=s1", "-e", "timeout=0s")),
        (careful, lambda: Timed(["bash", BENCH / "scripts/careful-external-snapshot-revert.sh", DOMAIN, "s1", "0"],
                                env=CAREFUL_ENV)),
        (bare, lambda: Timed(["sh", BENCH / "scripts/external-snapshot-revert.sh", DOMAIN, "s1", new_overlay()])),
    ]
    alternate(rounds, contenders, before_each=ensure_running)
    drop_snapshots_but("s1")
    return sb, careful, bare


def make_chain(directory, depth):
    directory.mkdir(parents=True, exist_ok=True)
    sh("qemu-img", "create", "-q", "-f", "qcow2", directory / "l0.qcow2", "16M")
    for i in range(1, depth):
        sh("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", f"l{i - 1}.qcow2",
           directory / f"l{i}.qcow2")
    return directory / f"l{depth - 1}.qcow2"


def bench_chains(work, rounds, depths=(10, 50, 200)):
    print("3. plan of chain.verify on deep chains", flush=True)
    series = {}
    contenders = []
    for d in depths:
        top = make_chain(work / f"chain{d}", d)
        s = Series(f"snapbook plan chain.verify, depth {d}")
        series[d] = s
        contenders.append((s, lambda top=top: snapbook("plan", BENCH / "playbooks/chain-verify.yml",
                                                       "-e", f"image={top}")))
    alternate(rounds, contenders)
    return series


def bench_jmh():
    print("4. engine overhead, 1,000 trivial steps (JMH)", flush=True)
    jmh = BENCH / "jmh" / "target"
    out = jmh / "jmh-result.json"
    cp = f"{jmh}/snapbook-bench-jmh-0.1.0-SNAPSHOT.jar:{jmh}/lib/*"
    sh("java", "-cp", cp, "org.openjdk.jmh.Main", "-rf", "json", "-rff", out,
       "-jvmArgsAppend", f"-Dbench.state={jmh}", capture=False)
    results = {}
    for r in json.loads(out.read_text()):
        name = r["benchmark"].rsplit(".", 1)[1]
        if r.get("params", {}).get("depth"):
            name += "@" + r["params"]["depth"]  # planChain@10, planChain@50, planChain@200
        p = r["primaryMetric"]
        results[name] = (p["score"], p["scoreError"], p["scoreUnit"], r["measurementIterations"], r["forks"])
    return results


def flatten_template(work, name, virtual, layer_data):
    """A qcow2 base of size virtual and three overlays, layer_data of distinct data written in each of the four
    layers at its own offset (so the chain holds 4 × layer_data); the template each run copies."""
    template = work / name
    template.mkdir(parents=True, exist_ok=True)
    layers = [template / f"layer{i}.qcow2" for i in range(4)]
    sh("qemu-img", "create", "-q", "-f", "qcow2", layers[0], virtual)
    for i in range(1, 4):
        sh("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", layers[i - 1].name, layers[i])
    chunk = min(layer_data, 512)  # qemu-io refuses a single request of 2 GiB or more
    for i, layer in enumerate(layers):
        for offset in range(0, layer_data, chunk):
            sh("qemu-io", "-f", "qcow2", "-c",
               f"write -P 0x{0x11 * (i + 1):x} {i * layer_data + offset}M {chunk}M", layer)
    return layers


def bench_flatten(work, rounds, name, virtual, layer_data, with_careful):
    print(f"5. flatten-commit of a chain of 4 layers, {layer_data} MiB written in each", flush=True)
    layers = flatten_template(work, name, virtual, layer_data)
    sb = Series("snapbook run recipe:flatten-commit")
    vs = Series("virsh blockcommit --active --pivot")
    careful = Series("careful script (the recipe's checks, scripts/careful-flatten-commit.sh)") if with_careful else None
    counter = [0]
    previous = []

    def fresh_chain(_):
        stop()
        delete_all_snapshot_metadata()
        counter[0] += 1
        d = work / f"{name}-{counter[0]}"
        d.mkdir()
        for layer in layers:
            shutil.copyfile(layer, d / layer.name)
        redefine_disk(d / layers[-1].name)
        for old in previous:
            shutil.rmtree(old, ignore_errors=True)
        previous[:] = [d]
        sh("sync")
        virsh("start", DOMAIN)
        settle()

    def check_flat(removed):
        # every contender must leave vda on the base alone, holding all the data; the recipe and the careful
        # script also remove the merged overlays (virsh leaves them)
        top = disk_source()
        info = json.loads(sh("qemu-img", "info", "-U", "--output=json", top))
        if not top.endswith("layer0.qcow2") or info.get("backing-filename"):
            raise RuntimeError(f"after the merge vda is {top} with backing {info.get('backing-filename')}")
        left = [p.name for p in Path(top).parent.iterdir() if p.name != "layer0.qcow2" and p.suffix == ".qcow2"]
        if removed and left:
            raise RuntimeError(f"after the merge the overlays {left} are still there")

    def run_sb():
        t = snapbook("run", "--yes", "recipe:flatten-commit", "-e", f"domain={DOMAIN}")
        check_flat(True)
        return t

    def run_careful():
        t = Timed(["bash", BENCH / "scripts/careful-flatten-commit.sh", DOMAIN, "vda"], env=CAREFUL_ENV)
        check_flat(True)
        return t

    def run_virsh():
        t = Timed(["virsh", "-q", "-c", URI, "blockcommit", DOMAIN, "vda", "--active", "--pivot"])
        check_flat(False)
        return t

    contenders = [(sb, run_sb), (vs, run_virsh)] + ([(careful, run_careful)] if careful else [])
    alternate(rounds, contenders, before_each=fresh_chain)
    stop()
    for old in previous:
        shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(layers[0].parent, ignore_errors=True)
    return sb, vs, careful


def bench_many(domains, rounds):
    """Plan observation with many defined domains: bench/scripts/many-domains.py, its figures as JSON."""
    print(f"8. plan observation with {domains} defined domains", flush=True)
    out = Path("/tmp") / f"snapbook-bench-many-{os.getpid()}.json"
    sh(sys.executable, BENCH / "scripts/many-domains.py", "--domains", domains, "--rounds", rounds,
       "--json", out, capture=False)
    figures = json.loads(out.read_text())
    out.unlink()
    return figures


# ------------------------------------------------------------------------------------------- report

def verdict(ok):
    return "**met**" if ok else "**MISSED**"


def write_report(path, info, started, res, args):
    lines = ["# Benchmarks", "",
             f"Written by `bench/run` on {started} (one run of the command; figures below are that run's).",
             "Contenders of each comparison ran alternately, round by round, in the same invocation, after one",
             "untimed run of each (so that every one starts with its files in the page cache); wall time",
             "is measured around each process, peak RSS with `/usr/bin/time -f %M`. Snapbook runs through",
             "`bin/snapbook` (so JVM start-up is included in every figure).", "", "## Machine", ""]
    lines += [f"- **{k}**: {v}" for k, v in info.items()]
    notes = []

    if "read" in res:
        sb, shell, ans, before = res["read"]
        lines += ["", "## 1. Start-up plus 5 read-only steps", "",
                  "State, disks, image info with its backing chain, snapshot list, domain XML, on a running lab VM",
                  "whose disk is a 2-image chain (`bench/playbooks/read-only.yml`, `bench/scripts/read-only.sh`,",
                  "`bench/ansible/read-only.yml`). Ratios are against the shell script.", "", HEADER,
                  sb.row(shell), shell.row(shell), ans.row(shell)]
        if before:
            lines.append(before.row(shell))
        ratio = sb.median / shell.median
        notes.append(f"- Start-up + 5 read-only steps: median **{sb.median:.3f} s** against the bare shell script's "
                     f"{shell.median:.3f} s: **{ratio:.2f}×** (target ≤ 3×): {verdict(ratio <= 3)}; Ansible takes "
                     f"{ans.median:.3f} s ({ans.median / sb.median:.2f}× snapbook).")
        if before:
            notes.append(f"- Before the fixes of this change the same run took {before.median:.3f} s median "
                         f"({before.median / sb.median:.2f}× the fixed build), peak RSS {max(before.rss) / 1024:.0f} MiB.")

    if "revert" in res:
        sb, careful, bare = res["revert"]
        lines += ["", "## 2. external-snapshot-revert, end to end, running lab VM", "",
                  "All three stop the VM (ACPI request, then power-off at once: `timeout=0s`, the lab VM has no guest",
                  "OS to answer it), create a new overlay over snapshot s1's state file, point vda at it and start the",
                  "VM again. The careful script (`bench/scripts/careful-external-snapshot-revert.sh`) also does what",
                  "the recipe checks and keeps, check by check (`bench/scripts/CAREFUL.md`); the bare script",
                  "(`bench/scripts/external-snapshot-revert.sh`) checks nothing and is shown for scale. Before each run",
                  f"the VM has been running for {SETTLE_SECONDS} s at least and the snapshots other than s1 have had",
                  "their metadata deleted (not timed), so that every run sees the same world. Ratio against the",
                  "careful script.", "", HEADER, sb.row(careful), careful.row(careful), bare.row(careful)]
        ratio = sb.median / careful.median
        notes.append(f"- external-snapshot-revert: **{ratio:.2f}×** the careful script (target ≤ 1.0×): "
                     f"{verdict(ratio <= 1.0)} ({sb.median:.3f} s vs {careful.median:.3f} s; the bare script without "
                     f"checks takes {bare.median:.3f} s).")

    if "chains" in res:
        series = res["chains"]
        depths = sorted(series)
        lines += ["", "## 3. `plan` of `chain.verify` on deep chains", "",
                  "`snapbook plan bench/playbooks/chain-verify.yml` on qcow2 chains of the given depth (16 MiB images,",
                  "not attached to a VM). Ratio against depth 10.", "", HEADER]
        lines += [series[d].row(series[depths[0]]) for d in depths]
        m = {d: series[d].median for d in depths}
        d0, d1, d2 = depths[0], depths[1], depths[-1]
        chain = {int(k.split("@")[1]): v for k, v in res.get("jmh", {}).items() if k.startswith("planChain@")}
        if len(chain) >= 3:
            c = sorted(chain)
            lines += ["", "The same plan in-process (JMH, `ChainPlanBenchmark`: the `chain.verify` step and its fact sources,",
                      "without the JVM start that makes the wall times above too noisy to show growth), ms per plan:", "",
                      "| depth | ms per plan | ± | iterations × forks |", "|---|---|---|---|"]
            lines += [f"| {d} | {chain[d][0]:.2f} | {chain[d][1]:.2f} | {chain[d][3]} × {chain[d][4]} |" for d in c]
            e0, e1, e2 = c[0], c[1], c[-1]
            slope_low = (chain[e1][0] - chain[e0][0]) / (e1 - e0)
            slope_high = (chain[e2][0] - chain[e1][0]) / (e2 - e1)
            source = "in-process"
        else:
            e0, e1, e2 = d0, d1, d2
            slope_low = (m[d1] - m[d0]) / (d1 - d0) * 1000
            slope_high = (m[d2] - m[d1]) / (d2 - d1) * 1000
            source = "wall clock"
        lines += ["", f"Marginal cost per chain layer ({source}): {slope_low:.2f} ms between depths {e0} and {e1}, "
                      f"{slope_high:.2f} ms between {e1} and {e2} (linear growth: the two are about equal; "
                      f"quadratic growth would make the second about {(e2 + e1) / (e1 + e0):.1f}× the first)."]
        linear = slope_high <= 2 * max(slope_low, 0.1 if source == "wall clock" else 0.01)
        notes.append(f"- plan of chain.verify: depth {d2} median **{m[d2]:.3f} s** (target ≤ 3 s): {verdict(m[d2] <= 3)}; "
                     f"per-layer cost ({source}) {slope_low:.2f} ms → {slope_high:.2f} ms (target: linear): {verdict(linear)}.")

    if "jmh" in res:
        r = res["jmh"]
        lines += ["", "## 4. Engine overhead: 1,000 trivial steps in one playbook (JMH, in-process)", "",
                  "`bench/jmh` (built with `mvn -P bench -pl bench/jmh -am package`, not part of `mvn verify`): a",
                  "playbook of 1,000 `bench.noop` steps (bench-only step; templated parameter, registered result).",
                  "Scores are per step (`@OperationsPerInvocation(1000)`), average time, ± the 99.9% error JMH reports.",
                  "", "| benchmark | µs per step | ± | iterations × forks |", "|---|---|---|---|"]
        desc = {"loadPerStep": "load + validate the YAML", "planPerStep": "plan (dry run)",
                "runPerStep": "run: plan, locks, journal, apply, verify"}
        for name in ("loadPerStep", "planPerStep", "runPerStep"):
            if name in r:
                score, err, unit, it, forks = r[name]
                lines.append(f"| {desc[name]} | {score:.2f} | {err:.2f} | {it} × {forks} |")
        total = sum(r[n][0] for n in ("loadPerStep", "runPerStep") if n in r) / 1000
        notes.append(f"- Engine overhead: **{total:.3f} ms per step** (load + run; target ≤ 0.1 ms): {verdict(total <= 0.1)}.")

    if "flatten" in res:
        sb, vs, careful = res["flatten"]
        lines += ["", "## 5. flatten-commit of a 1 GiB chain of 4 layers", "",
                  "A 1 GiB qcow2 base and three overlays, 256 MiB of distinct data written in each layer, copied",
                  f"afresh before every run (not timed) and attached to the lab VM as vda, started {SETTLE_SECONDS} s before.",
                  "`recipe:flatten-commit` (chain check, snapshot metadata, active commit + pivot, check of the base,",
                  "overlay removal) against the careful script doing the same (`bench/scripts/careful-flatten-commit.sh`,",
                  "`bench/scripts/CAREFUL.md`), and `virsh blockcommit vda --active --pivot` alone for scale. All leave",
                  "vda on the base (checked after each run); the recipe and the careful script also remove the merged",
                  "overlays. Ratio against the careful script.", "", HEADER,
                  sb.row(careful), careful.row(careful), vs.row(careful)]
        ratio = sb.median / careful.median
        notes.append(f"- flatten-commit (1 GiB): **{ratio:.2f}×** the careful script (target ≤ 1.0×): "
                     f"{verdict(ratio <= 1.0)} ({sb.median:.3f} s vs {careful.median:.3f} s; bare virsh blockcommit "
                     f"{vs.median:.3f} s).")

    if "flatten8" in res:
        sb, vs, _ = res["flatten8"]
        lines += ["", "## 7. flatten-commit of a chain holding 8 GiB of written data", "",
                  "A 9 GiB qcow2 base and three overlays, 2 GiB of distinct data written in each of the four layers",
                  "(8 GiB in the chain; the merge moves the overlays' 6 GiB into the base), copied afresh before every",
                  f"run and synced (not timed), the lab VM started {SETTLE_SECONDS} s before. `recipe:flatten-commit`",
                  "against a bare `virsh blockcommit vda --active --pivot` on an identical chain. Ratio against virsh.",
                  "", HEADER, sb.row(vs), vs.row(vs)]
        ratio = sb.median / vs.median
        notes.append(f"- flatten-commit (8 GiB of data): **{ratio:.3f}×** bare virsh blockcommit --active --pivot "
                     f"(target ≤ 1.05×): {verdict(ratio <= 1.05)} ({sb.median:.3f} s vs {vs.median:.3f} s; "
                     f"snapbook adds {sb.median - vs.median:.2f} s).")

    if "many" in res:
        m = res["many"]
        lines += ["", f"## 8. Plan observation on a host with {m['domains']:,} defined domains", "",
                  f"`bench/scripts/many-domains.py`: {m['domains']:,} shut-off guest-less domains over 4 shared qcow2",
                  "bases, plus one running domain with a private chain; `snapbook plan recipe:flatten-commit` on the",
                  "running one, which reads every domain (safety rule 1: no overlay may be removed that another",
                  "domain, chain or snapshot uses). Observation is from the first libvirt call to the plan's header",
                  f"(the -v lines stamped as they arrive); median of {m['rounds']} rounds after one untimed run.", "",
                  "| figure | median | min | max |", "|---|---|---|---|"]
        for key, label, unit in (("wall", "wall time", "s"), ("start", "start-up (to the first libvirt call)", "s"),
                                 ("observe", "observation + simulation", "s"), ("calls", "libvirt calls (-v)", ""),
                                 ("qemu", "qemu-img processes", ""), ("rss_mib", "peak RSS", "MiB")):
            vals = [r[key] for r in m["runs"]]
            fmt = (lambda v: f"{v:.3f} {unit}") if unit == "s" else (lambda v: f"{v:.0f} {unit}".strip())
            lines.append(f"| {label} | {fmt(statistics.median(vals))} | {fmt(min(vals))} | {fmt(max(vals))} |")
        obs = statistics.median(r["observe"] for r in m["runs"])
        notes.append(f"- Plan observation with {m['domains']:,} domains: median **{obs:.3f} s** (target ≤ 1 s): "
                     f"{verdict(obs <= 1.0)}.")

    # (label, peak RSS MiB) of every snapbook series; both flatten rows share a label, so the 8 GiB one says so
    rows = [(res[key][0].label + suffix, max(res[key][0].rss) / 1024)
            for key, suffix in (("read", ""), ("revert", ""), ("flatten", ""), ("flatten8", " (8 GiB)")) if key in res]
    rows += [(s.label, max(s.rss) / 1024) for s in res.get("chains", {}).values()]
    if "many" in res:
        rows.append((f"snapbook plan with {res['many']['domains']:,} domains",
                     max(r["rss_mib"] for r in res["many"]["runs"])))
    if rows:
        peak = max(v for _, v in rows)
        lines += ["", "## 6. Peak memory of the snapbook runs", "", "| run | peak RSS MiB (max over runs) |", "|---|---|"]
        lines += [f"| {label} | {v:.0f} |" for label, v in rows]
        notes.append(f"- Peak RSS of every snapbook run above: **{peak:.0f} MiB** at most (target ≤ 256 MiB): "
                     f"{verdict(peak <= 256)}.")

    extra = (BENCH / "FINDINGS.md")
    lines += ["", "## Closing note: each figure against its target", ""] + notes
    if extra.exists():
        lines += ["", extra.read_text().rstrip()]
    path.write_text("\n".join(lines) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=10, help="rounds of benchmarks 1 and 3")
    ap.add_argument("--revert-rounds", type=int, default=11)
    ap.add_argument("--flatten-rounds", type=int, default=4)
    ap.add_argument("--flatten8-rounds", type=int, default=3)
    ap.add_argument("--domains", type=int, default=1000, help="defined domains of benchmark 8")
    ap.add_argument("--many-rounds", type=int, default=3)
    ap.add_argument("--baseline", help="bin/snapbook of a build before the fixes, run alongside in benchmark 1")
    ap.add_argument("--only", default="read,revert,chains,jmh,flatten,flatten8,many")
    ap.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    args = ap.parse_args()
    only = set(args.only.split(","))
    started = time.strftime("%Y-%m-%d %H:%M %Z")
    work = Path(os.environ.get("SNAPBOOK_LAB_DIR") or "/var/lib/snapbook/lab") / LAB / "bench-work"
    work.mkdir(parents=True, exist_ok=True)
    # the lab VM's disk becomes a 2-image chain with an external snapshot s1 (benchmarks 1 and 2)
    virsh("snapshot-create-as", DOMAIN, "s1", "--disk-only", "--atomic",
          "--diskspec", f"vda,snapshot=external,file={work / 'vda.s1.qcow2'}")
    info = machine()
    res = {}
    failed = []
    benchmarks = [("read", lambda: bench_read_only(work, args.rounds, args.baseline)),
                  ("revert", lambda: bench_revert(work, args.revert_rounds)),
                  ("chains", lambda: bench_chains(work, max(3, args.rounds // 2))),
                  ("jmh", bench_jmh),
                  ("flatten", lambda: bench_flatten(work, args.flatten_rounds, "flatten", "1G", 256, True)),
                  ("flatten8", lambda: bench_flatten(work, args.flatten8_rounds, "flatten8", "9G", 2048, False)),
                  ("many", lambda: bench_many(args.domains, args.many_rounds))]
    for key, run in benchmarks:
        if key in only:
            try:
                res[key] = run()
            except Exception as e:  # report the others; the failure is named in BENCHMARKS.md and the exit code
                print(f"benchmark {key} failed: {e}", file=sys.stderr)
                failed.append(f"- benchmark `{key}` FAILED in this run: {e}")
    write_report(Path(args.out), info, started, res, args)
    if failed:
        with open(args.out, "a") as f:
            f.write("\n## Failures\n\n" + "\n".join(failed) + "\n")
    print(f"wrote {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
