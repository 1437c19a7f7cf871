package dev.snapbook.playbooks.layouts

import dev.snapbook.playbooks.RecipeHarness
import dev.snapbook.steps.domain.DomainFactSource
import dev.snapbook.steps.exec.Command
import dev.snapbook.steps.lab.LabMachine
import dev.snapbook.steps.lab.LabVm
import dev.snapbook.steps.lab.TestStepContext
import dev.snapbook.steps.libvirt.Libvirt
import dev.snapbook.steps.libvirt.PowerState
import dev.snapbook.steps.libvirt.XmlView
import dev.snapbook.steps.snapshot.SnapshotCreate
import dev.snapbook.steps.snapshot.SnapshotFactSource

import java.nio.ByteBuffer
import java.nio.channels.FileChannel
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardOpenOption
import java.nio.file.attribute.PosixFilePermissions
import java.time.Duration

import static dev.snapbook.steps.lab.TestStepContext.params

/**
 * One layout of the matrix on a real lab VM: its base images (raw or qcow2, one disk or two, plain or non-ASCII
 * names), the VM running or shut off, the external snapshots s1 and s2 with their overlays next to the images or in
 * a directory of their own, backing paths absolute or made relative, and one inserted damage. It keeps the model of
 * which data each state holds (pattern i is the byte 0x30 + i at (i + 1) MiB, 64 KiB long, written to every disk),
 * and a picture of everything a refused plan must leave alone. {@link #close()} removes the VM, its directory and the
 * other directory.
 */
class LayoutLab implements AutoCloseable {

    /** One cell's layout: the value of each axis. */
    static class Cell {
        String base
        String power
        int disks
        String overlays
        String backing
        String names
        String damage

        boolean isRunning() { power == 'running' }

        boolean isElsewhere() { overlays == 'elsewhere' }

        boolean isRelative() { backing == 'relative' }

        boolean isFancy() { names == 'non-ascii' }

        boolean isDamaged() { damage != 'none' }

        @Override
        String toString() {
            "${base.padRight(5)} ${power.padRight(8)} ${disks} disk${disks > 1 ? 's' : ' '} " +
                    "${(overlays == 'elsewhere' ? 'overlays elsewhere' : 'overlays default').padRight(18)} " +
                    "${backing.padRight(8)} ${names.padRight(9)} damage=${damage}"
        }
    }

    /** The axes; the damage axis apart, see {@link #cells()}. */
    static final Map<String, List> AXES = [base    : ['raw', 'qcow2'], power: ['running', 'shut-off'], disks: [1, 2],
                                           overlays: ['default', 'elsewhere'], backing: ['absolute', 'relative'],
                                           names   : ['ascii', 'non-ascii']]
    static final List<String> DAMAGES = ['truncated', 'bad-magic', 'missing-middle', 'gone-backing']

    /**
     * The cells: a covering design over the healthy layouts (every pair of values of the six layout axes in some
     * cell without damage) followed by one over the damaged ones (every damage kind with every value of every
     * other axis, and every pair of those). Together every pair of axis values, damage 'none' included, is in
     * some cell. Generated greedily and deterministically: the same cells on every run.
     */
    static List<Cell> cells() {
        // the block-job recipes (flatten, delete) run on one disk of a running VM: seed one such cell per base format
        List<Map> seeds = AXES.base.collect { [base: it, power: 'running', disks: 1] }
        List<Map> healthy = cover(AXES, seeds).collect { it + [damage: 'none'] }
        List<Map> damaged = cover([damage: DAMAGES] + AXES)
        (healthy + damaged).collect { Map m ->
            new Cell(base: m.base, power: m.power, disks: m.disks as int, overlays: m.overlays, backing: m.backing,
                    names: m.names, damage: m.damage)
        }
    }

    /**
     * A greedy pairwise covering array over {@code axes}: the {@code seeds} (partial rows) first, then rows that each
     * fix the first pair not covered yet; every other axis of a row gets the value that covers most new pairs (the
     * first such value on a tie).
     */
    static List<Map> cover(Map<String, List> axes, List<Map> seeds = []) {
        List<String> keys = axes.keySet() as List
        Set<List> uncovered = new LinkedHashSet<>()
        for (int i = 0; i < keys.size(); i++) {
            for (int j = i + 1; j < keys.size(); j++) {
                for (a in axes[keys[i]]) {
                    for (b in axes[keys[j]]) {
                        uncovered << [keys[i], a, keys[j], b]
                    }
                }
            }
        }
        List<Map> rows = []
        List<Map> starts = seeds.collect { new LinkedHashMap(it) }
        while (!uncovered.isEmpty() || starts) {
            Map row
            if (starts) {
                row = starts.remove(0)
            } else {
                List first = uncovered.iterator().next()
                row = [(first[0]): first[1], (first[2]): first[3]]
            }
            for (String k in keys) {
                if (row.containsKey(k)) {
                    continue
                }
                def best = null
                int bestGain = -1
                for (v in axes[k]) {
                    int gain = row.count { String k2, v2 -> uncovered.contains(pair(keys, k, v, k2, v2)) } as int
                    if (gain > bestGain) {
                        best = v
                        bestGain = gain
                    }
                }
                row[k] = best
            }
            Map ordered = keys.collectEntries { [(it): row[it]] }
            rows << ordered
            for (int i = 0; i < keys.size(); i++) {
                for (int j = i + 1; j < keys.size(); j++) {
                    uncovered.remove([keys[i], ordered[keys[i]], keys[j], ordered[keys[j]]])
                }
            }
        }
        rows
    }

    private static List pair(List<String> keys, String k1, v1, String k2, v2) {
        keys.indexOf(k1) < keys.indexOf(k2) ? [k1, v1, k2, v2] : [k2, v2, k1, v1]
    }

    static final Duration TIMEOUT = Duration.ofSeconds(60)

    final Cell cell
    final LabVm vm
    /** Where overlays go when the cell puts them elsewhere; null otherwise. */
    Path other
    final List<String> targets
    final Map<String, Path> bases = [:]

    /** The data each snapshot's state holds, and the disk's current data (pattern indices). */
    final Map<String, Set<Integer>> states = [:]
    Set<Integer> current = [] as Set
    int patterns = 0
    /** The files the damage concerns (damaged, deleted or pointed to), and their names, for the refusal's message. */
    Path damaged

    private LayoutLab(Cell cell, LabVm vm) {
        this.cell = cell
        this.vm = vm
        this.targets = cell.disks == 2 ? ['vda', 'vdb'] : ['vda']
    }

    /** Snapshot number {@code n}'s name, as the cell names things. */
    String snap(int n) {
        cell.fancy ? "før snap ${n}".toString() : "s${n}".toString()
    }

    String internalName(int n) {
        cell.fancy ? "før intern ${n}".toString() : "i${n}".toString()
    }

    /** Where the overlay of disk {@code target} for snapshot {@code name} goes when the cell puts it elsewhere. */
    Path elsewhere(String target, String name) {
        other.resolve(cell.fancy ? "ovl é ${target} ${name}.qcow2".toString() : "${target}-${name}.qcow2".toString())
    }

    /**
     * A VM with the cell's base images and nothing else (for the internal-snapshot recipes), started when the cell
     * runs, pattern 0 written.
     */
    static LayoutLab bare(Cell cell) {
        LayoutLab lab = create(cell)
        try {
            if (cell.running) {
                lab.vm.start()
            }
            lab.writeNext()
            lab
        } catch (Throwable t) {
            lab.close()
            throw t
        }
    }

    /**
     * The cell's layout with history: pattern 0, snapshot 1, pattern 1, snapshot 2, pattern 2 (so s1 holds {0},
     * s2 {0, 1}, the disk {0, 1, 2}); overlays where the cell puts them, backing paths made relative when it says
     * so (with the VM shut off for that, as an operator would do it), then the damage, inserted in the power state
     * the cell has.
     */
    static LayoutLab chain(Cell cell) {
        LayoutLab lab = create(cell)
        try {
            if (cell.elsewhere) {
                String prefix = cell.fancy ? 'snapbook-test-ailleurs é-' : 'snapbook-test-other-'
                lab.other = Files.createTempDirectory(Path.of('/var/tmp'), prefix)
                Files.setPosixFilePermissions(lab.other, PosixFilePermissions.fromString('rwxr-xr-x'))
            }
            if (cell.running) {
                lab.vm.start()
            }
            lab.writeNext()
            lab.snapshot(lab.snap(1))
            lab.writeNext()
            lab.snapshot(lab.snap(2))
            lab.writeNext()
            if (cell.relative) {
                lab.makeRelative()
            }
            lab.damage()
            lab
        } catch (Throwable t) {
            lab.close()
            throw t
        }
    }

    private static LayoutLab create(Cell cell) {
        LabVm vm = LabVm.create(cell.base)
        // named in the output, so that a VM left behind by a cleanup that failed (libvirtd gone) can be found
        println "layout matrix: lab VM ${vm.name()} in ${vm.dir()} for ${cell}"
        LayoutLab lab = new LayoutLab(cell, vm)
        try {
            for (String t in lab.targets) {
                String fileName = cell.fancy ? "disk é ${t == 'vda' ? 1 : 2}.${cell.base}" : "${t}.${cell.base}"
                lab.bases[t] = vm.dir().resolve(fileName.toString())
            }
            if (cell.fancy) {
                run('qemu-img', 'create', '-q', '-f', cell.base, lab.bases['vda'].toString(), '64M')
                run('virsh', '-c', LabVm.URI, 'detach-disk', vm.name(), 'vda', '--config')
                run('virsh', '-c', LabVm.URI, 'attach-disk', vm.name(), lab.bases['vda'].toString(), 'vda',
                        '--driver', 'qemu', '--subdriver', cell.base, '--targetbus', 'virtio', '--config')
                Files.delete(vm.disk())
            }
            if (cell.disks == 2) {
                run('qemu-img', 'create', '-q', '-f', cell.base, lab.bases['vdb'].toString(), '64M')
                run('virsh', '-c', LabVm.URI, 'attach-disk', vm.name(), lab.bases['vdb'].toString(), 'vdb',
                        '--driver', 'qemu', '--subdriver', cell.base, '--targetbus', 'virtio', '--config')
            }
            lab
        } catch (Throwable t) {
            lab.close()
            throw t
        }
    }

    static void run(String... argv) {
        def r = Command.of(argv as List).run(TIMEOUT, { })
        assert r.succeeded(): "${argv.join(' ')}: ${r.stderr().strip()}"
    }

    /** Each disk's active file and format, from the live XML (the definition when shut off). */
    Map<String, Map<String, String>> disks() {
        DomainFactSource.observe(vm.name(), vm.libvirt()).disks().findAll { it.device() == 'disk' }.collectEntries {
            [(it.target()): [file: it.source(), format: it.format()]]
        }
    }

    Path active(String target) {
        Path.of(disks()[target].file)
    }

    static int pattern(int i) { 0x30 + i }

    static String offset(int i) { "${i + 1}M" }

    /** Writes the next pattern on every disk: through the guest's disk when running, with qemu-io when shut off. */
    void writeNext() {
        int i = patterns++
        Map<String, Map<String, String>> now = disks()
        for (String t in targets) {
            if (vm.state() == PowerState.RUNNING) {
                LabMachine.writePattern(vm.libvirt(), vm.name(), t, pattern(i), offset(i), '64k')
            } else {
                run('qemu-io', '-f', now[t].format, '-c', "write -P ${pattern(i)} ${offset(i)} 64k".toString(), now[t].file)
            }
        }
        current << i
    }

    /** The pattern indices {@code image} shows through its chain. */
    Set<Integer> shows(Path image) {
        (0..<patterns).findAll { LabVm.hasPattern(image, pattern(it), offset(it), '64k') } as Set
    }

    /** A disk-only snapshot of every disk taken with the step, overlays where the cell puts them. */
    void snapshot(String name) {
        def step = new SnapshotCreate()
        List specs = cell.elsewhere ? targets.collect { [disk: it, snapshot: 'external', file: elsewhere(it, name).toString()] } : []
        new TestStepContext(LabVm.URI).withCloseable { ctx ->
            def p = params(step, [domain: vm.name(), name: name, disk_only: true, diskspec: specs])
            def out = step.apply(p, step.capture(p, ctx), ctx)
            assert step.verify(p, out, ctx).passed()
        }
        states[name] = current.clone() as Set
    }

    /** The files of snapshot {@code name}'s state, per disk. */
    Map<String, String> stateFiles(String name) {
        SnapshotFactSource.observe(vm.name(), vm.libvirt()).find(name).activeFiles()
    }

    /** The overlays snapshot {@code name} created. */
    List<String> overlays(String name) {
        SnapshotFactSource.observe(vm.name(), vm.libvirt()).find(name).externalDisks()*.file()
    }

    /** The overlays of s1 and s2 get relative backing paths (qemu-img rebase -u), with the VM shut off meanwhile. */
    void makeRelative() {
        boolean wasRunning = vm.state() == PowerState.RUNNING
        vm.destroy()
        for (String t in targets) {
            Path top = active(t)
            Path mid = Path.of(stateFiles(snap(2))[t])
            Path base = bases[t]
            rebase(top, mid, 'qcow2')
            rebase(mid, base, cell.base)
        }
        if (wasRunning) {
            vm.start()
        }
    }

    private static void rebase(Path overlay, Path backing, String format) {
        String relative = overlay.parent.relativize(backing).toString()
        run('qemu-img', 'rebase', '-u', '-b', relative, '-F', format, overlay.toString())
        def r = Command.of('qemu-img', 'info', '-U', overlay.toString()).run(TIMEOUT, { })
        assert r.stdout().contains("backing file: ${relative}"): r.stdout()
    }

    /**
     * The cell's damage on vda's chain base ← mid (s1's overlay, s2's state file) ← top: mid truncated to half its
     * size, mid's qcow2 magic overwritten, mid deleted, or the base deleted (mid's backing path then names a file
     * that is gone).
     */
    void damage() {
        if (!cell.damaged) {
            return
        }
        Path mid = Path.of(stateFiles(snap(2))['vda'])
        switch (cell.damage) {
            case 'truncated':
                damaged = mid
                FileChannel.open(mid, StandardOpenOption.WRITE).withCloseable { it.truncate((long) (it.size() / 2)) }
                break
            case 'bad-magic':
                damaged = mid
                FileChannel.open(mid, StandardOpenOption.WRITE).withCloseable { it.write(ByteBuffer.wrap('XXXX'.bytes), 0) }
                break
            case 'missing-middle':
                damaged = mid
                Files.delete(mid)
                break
            case 'gone-backing':
                damaged = bases['vda']
                Files.delete(bases['vda'])
                break
            default:
                throw new IllegalArgumentException(cell.damage)
        }
    }

    /** The VM's power state now, for a message. */
    String power() {
        "the VM is ${vm.state().name().toLowerCase()}"
    }

    /** What each disk shows now against the model, for a message (the chain may be unreadable). */
    String data() {
        targets.collect { t ->
            try {
                "${t} shows ${shows(active(t)).sort()} (the disk held ${current.sort()} before the recipe)"
            } catch (Exception e) {
                "${t} is unreadable (${String.valueOf(e.message).readLines().find() ?: e.class.simpleName})"
            }
        }.join(', ')
    }

    List<String> snapshots() {
        vm.libvirt().snapshotNames(vm.name()).sort(false)
    }

    /** Name, size and modification time of every file in the VM's directory and the other one. */
    Map<String, List> files() {
        ([vm.dir()] + (other ? [other] : [])).collectEntries { Path d ->
            Files.list(d).withCloseable { s -> s.sorted().toList() }.collectEntries { Path f ->
                [(f.toString()): [Files.size(f), Files.getLastModifiedTime(f).toMillis()]]
            }
        }
    }

    /** Everything a refused plan must leave alone. */
    Map picture() {
        [power        : vm.state(), live: vm.xml(XmlView.LIVE), inactive: vm.xml(XmlView.INACTIVE),
         snapshots    : snapshots(), current: vm.libvirt().snapshotCurrent(vm.name()), files: files()]
    }

    /** The differences between two pictures, for a message. */
    static String changes(Map before, Map after) {
        before.keySet().findAll { before[it] != after[it] }.collect { k ->
            if (k == 'files') {
                Map b = before.files, a = after.files
                "files: " + ((b.keySet() + a.keySet()).findAll { b[it] != a[it] }.collect { "${it} ${b[it]} -> ${a[it]}" }.join('; '))
            } else if (k in ['live', 'inactive']) {
                "${k} XML"
            } else {
                "${k}: ${before[k]} -> ${after[k]}"
            }
        }.join(', ')
    }

    /**
     * The drift between the world after a run and the plan's prediction that concerns this VM (as
     * ExternalRecipeSupport.ownDrift, both by RecipeHarness.ownDrift), here with the overlays' own directory too.
     */
    List ownDrift(def out) {
        RecipeHarness.ownDrift(out, vm.name(), [vm.dir(), other])
    }

    /** Removes domain {@code name} (this lab's) once libvirtd answers again, within a minute; whether it is gone. */
    private static boolean removeLater(String name) {
        for (int i = 0; i < 30; i++) {
            try {
                Libvirt libvirt = Libvirt.open(LabVm.URI, { })
                try {
                    if (libvirt.exists(name)) {
                        if (libvirt.state(name).isActive()) {
                            libvirt.destroy(name)
                        }
                        libvirt.undefine(name, EnumSet.of(Libvirt.UndefineOption.SNAPSHOTS_METADATA,
                                Libvirt.UndefineOption.MANAGED_SAVE))
                    }
                    return true
                } finally {
                    libvirt.close()
                }
            } catch (Exception ignored) {
                Thread.sleep(2000)
            }
        }
        false
    }

    @Override
    void close() {
        Exception first = null
        try {
            vm.close()
        } catch (Exception e) {
            // libvirtd may be restarting (another test on this host may restart it): wait for it, then remove
            // this lab's own domain by its name; LabVm.close() has already deleted its directory
            if (!removeLater(vm.name())) {
                first = e
            }
        }
        try {
            if (other != null) {
                LabMachine.deleteTree(other)
            }
        } catch (Exception e) {
            if (first) {
                first.addSuppressed(e)
            } else {
                first = e
            }
        }
        if (first) {
            throw first
        }
    }
}
