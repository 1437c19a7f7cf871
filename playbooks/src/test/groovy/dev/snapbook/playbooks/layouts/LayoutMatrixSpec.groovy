package dev.snapbook.playbooks.layouts

import dev.snapbook.playbooks.RecipeHarness
import dev.snapbook.playbooks.layouts.LayoutLab.Cell

import static dev.snapbook.playbooks.layouts.LayoutProof.must
import static dev.snapbook.playbooks.layouts.LayoutProof.ok
import static dev.snapbook.playbooks.layouts.LayoutProof.prove
import static dev.snapbook.playbooks.layouts.LayoutProof.proveCurrent
import static dev.snapbook.playbooks.layouts.LayoutProof.revertToEvery
import static dev.snapbook.playbooks.layouts.LayoutProof.why
import dev.snapbook.steps.lab.LabVm
import dev.snapbook.steps.libvirt.Libvirt
import dev.snapbook.steps.libvirt.LibvirtRelease
import dev.snapbook.steps.libvirt.PowerState
import spock.lang.Requires
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * Every recipe over a matrix of layouts (issue 12, item 4), on real lab VMs. The axes: base raw or qcow2; VM running
 * or shut off; one disk or two; overlays next to their images or in a directory of their own; backing paths absolute
 * or relative; plain names or names with spaces and non-ASCII letters (files and snapshots); and an inserted damage
 * (none, a truncated layer, a bad qcow2 magic, a missing middle layer, a backing path to a file that is gone). The
 * cells are a covering design ({@link LayoutLab#cells()}): every pair of axis values is in some cell.
 *
 * <p>In each cell every recipe that applies either RUNS and proves its data (distinct patterns written before and
 * after each snapshot; after the recipe the disk and the state files of every remaining snapshot show exactly their
 * data, and at the end a revert to every remaining state shows it), or is REFUSED in the plan: exit 1, the message
 * naming the cause, nothing changed (domain XML live and inactive, power state, snapshots, every file's size and
 * mtime). Every recipe is refused on a damaged chain, and no VM boots on one. The matrix is printed at the end and
 * written to target/layout-matrix.txt.
 */
@Requires(value = { LabVm.available() || System.getenv('CI') },
        reason = 'needs libvirt: `virsh -c qemu:///system version` must succeed (run scripts/setup)')
class LayoutMatrixSpec extends Specification {

    /**
     * Cells whose honest expectation fails because of a product bug: which cells and recipes, and the bug. They are
     * run and their outcome printed as PENDING; an entry that passes fails the spec, so the list cannot go stale.
     * Empty: the four bugs this spec found are fixed (a qcow2 layer cut below its metadata's clusters is damaged;
     * internal-snapshot-create reads the chain; chain file names come without '..'; external-snapshot-delete checks a
     * raw state file without qemu-img check).
     */
    static final List<Map> PENDING = [
    ]

    static String pending(Cell cell, String recipe) {
        PENDING.find { it.when.call(cell, recipe) }?.bug
    }

    @Shared
    List<String> matrix = []
    @Shared
    LibvirtRelease release
    @Shared
    long started = System.nanoTime()

    @TempDir
    Path tmp

    RecipeHarness harness
    List<LayoutLab> labs = []
    List<Throwable> failures = []

    def setupSpec() {
        Libvirt libvirt = Libvirt.open(LabVm.URI, { })
        try {
            release = LibvirtRelease.of(libvirt)
        } finally {
            libvirt.close()
        }
    }

    def setup() {
        harness = new RecipeHarness(tmp.resolve('state'))
    }

    def cleanup() {
        List<Throwable> problems = []
        for (LayoutLab lab in labs.reverse()) {
            try {
                lab.close()
            } catch (Throwable t) {
                problems << t
            }
        }
        if (problems) {
            problems.drop(1).each { problems[0].addSuppressed(it) }
            throw problems[0]
        }
    }

    def cleanupSpec() {
        long seconds = (System.nanoTime() - started).intdiv(1_000_000_000L)
        String on = release == null ? '' : " on libvirt ${LibvirtRelease.version(release.libvirt())}, QEMU ${LibvirtRelease.version(release.qemu())}"
        List<String> text = ["Layout matrix${on} (${matrix.size()} lines, ${LayoutLab.cells().size()} cells, ${seconds} s)".toString()] + matrix
        println text.join('\n')
        Path out = Path.of('target', 'layout-matrix.txt')
        Files.createDirectories(out.parent)
        Files.writeString(out, text.join('\n') + '\n')
    }

    def "the cells are a covering design: every pair of values of two axes is in some cell, and there are few cells"() {
        given:
        Map<String, List> axes = [damage: ['none'] + LayoutLab.DAMAGES] + LayoutLab.AXES
        List<Map> cells = LayoutLab.cells().collect { c -> axes.keySet().collectEntries { [(it): c[it]] } }
        List<String> keys = axes.keySet() as List

        expect:
        [keys, keys].combinations().findAll { a, b -> keys.indexOf(a) < keys.indexOf(b) }.every { String a, String b ->
            [axes[a], axes[b]].combinations().every { va, vb -> cells.any { it[a] == va && it[b] == vb } }
        }
        cells.size() <= 20
        LayoutLab.cells()*.toString() == LayoutLab.cells()*.toString() // generated the same way every time
    }

    def "cell #cell: every recipe that applies runs and proves its data, or is refused in the plan with nothing changed"() {
        when:
        if (cell.damaged) {
            damagedCell(cell)
        } else {
            healthyCell(cell)
        }

        then: 'every line of the cell passed, or is pending on a product bug'
        nothingFailedButPending()

        where:
        cell << selected()
    }

    /** The cells, or with -Dsnapbook.matrix.cells=0,3 only those (to iterate on one); the matrix is the same. */
    static List<Cell> selected() {
        String only = System.getProperty('snapbook.matrix.cells')
        List<Cell> all = LayoutLab.cells()
        only ? only.split(',').collect { all[it.trim() as int] } : all
    }

    // ---- the cells ---------------------------------------------------------------------------------------------

    void healthyCell(Cell cell) {
        LayoutLab lab = open { LayoutLab.chain(cell) }

        attempt(cell, 'check-image (base)') {
            if (cell.base == 'raw') {
                // a raw image has no metadata for qemu-img check to check: the plan says so and points to image.info
                return lab.targets.collect { t ->
                    refused(lab, 'check-image', [image: lab.bases[t].toString()], ['raw'])
                }.unique()[0]
            }
            checked(lab, lab.targets.collect { lab.bases[it] })
        }
        attempt(cell, 'check-image (top)') {
            checked(lab, lab.targets.collect { lab.active(it) })
        }

        attempt(cell, 'convert-image (top)') {
            String format = cell.base == 'raw' ? 'qcow2' : 'raw'
            Path copy = lab.vm.dir().resolve(cell.fancy ? "kopi é.${format}".toString() : "copy.${format}".toString())
            Map vars = [source: lab.active('vda').toString(), target: copy.toString(), format: format]
            if (cell.running) {
                return refused(lab, 'convert-image', vars, [lab.active('vda').toString()])
            }
            def out = harness.run('recipe:convert-image', vars)
            ok(lab, out, 'convert-image')
            must(lab.shows(copy) == lab.current) { "the copy shows ${lab.shows(copy)}, not ${lab.current}" }
            Files.delete(copy)
            proven(1)
        }

        if (!cell.running) {
            attempt(cell, 'external-snapshot-delete') {
                refused(lab, 'external-snapshot-delete', [domain: lab.vm.name(), snapshot: lab.snap(1)], ['QEMU block job'])
            }
        } else if (cell.disks == 2) {
            attempt(cell, 'external-snapshot-delete (a two-disk snapshot)') {
                refused(lab, 'external-snapshot-delete', [domain: lab.vm.name(), snapshot: lab.snap(1)], [lab.snap(1)])
            }
        }

        if (!cell.running) {
            for (String recipe in ['flatten-commit', 'flatten-pull']) {
                attempt(cell, recipe) {
                    refused(lab, recipe, [domain: lab.vm.name()], ['QEMU block job'])
                }
            }
        } else if (cell.disks == 2) {
            for (String recipe in ['flatten-commit', 'flatten-pull']) {
                attempt(cell, "${recipe} (vda of a two-disk snapshot)") {
                    refused(lab, recipe, [domain: lab.vm.name()], ["its state of vda"])
                }
            }
        }

        boolean chainOk = attempt(cell, 'external-snapshot-create') {
            String name = lab.snap(3)
            Map vars = [domain: lab.vm.name(), name: name]
            if (cell.elsewhere && cell.disks == 1) {
                vars.file = lab.elsewhere('vda', name).toString()
            }
            def out = harness.run('recipe:external-snapshot-create', vars)
            ok(lab, out, 'external-snapshot-create')
            lab.states[name] = lab.current.clone() as Set
            for (String t in lab.targets) {
                Path overlay = lab.active(t)
                must(overlay.toString() != lab.stateFiles(name)[t]) { "disk ${t} still runs on ${overlay}, the state file of ${name}" }
                if (cell.elsewhere) {
                    must(overlay.parent == lab.other) { "the overlay of ${t} is ${overlay}, not in ${lab.other}" }
                }
            }
            lab.writeNext()
            proven(prove(lab))
        }

        String kept = null
        chainOk = chainOk && attempt(cell, 'external-snapshot-revert') {
            String target = lab.snap(1)
            kept = revertKeeping(lab, 'external-snapshot-revert', target,
                    [domain: lab.vm.name(), snapshot: target, timeout: '1s'])
            lab.writeNext()
            proven(prove(lab))
        }

        chainOk = chainOk && attempt(cell, 'snapshot-discard') {
            List<String> overlays = lab.overlays(kept)
            Map<String, String> files = lab.stateFiles(kept)
            def out = harness.run('recipe:snapshot-discard', [domain: lab.vm.name(), snapshot: kept])
            ok(lab, out, 'snapshot-discard')
            lab.states.remove(kept)
            // its own (empty) overlays were only its own; its state files are the overlays of snapshot 3, kept
            overlays.each { assert !Files.exists(Path.of(it)): "${it} only belonged to the discarded state" }
            files.values().each { assert Files.exists(Path.of(it)): "${it} is still the overlay of ${lab.snap(3)}" }
            proven(prove(lab))
        }

        if (chainOk) {
            attempt(cell, 'external-snapshot-revert to every state') {
                proven(revertToEvery(harness, lab))
            }
        }

        if (cell.running && cell.disks == 1) {
            LayoutLab merged = null
            boolean deleted = attempt(cell, 'external-snapshot-delete') {
                LayoutLab l = merged = open { LayoutLab.chain(cell) }
                String s1 = l.snap(1)
                Path overlay = Path.of(l.overlays(s1)[0])
                def out = harness.run('recipe:external-snapshot-delete', [domain: l.vm.name(), snapshot: s1])
                ok(l, out, 'external-snapshot-delete')
                l.states.remove(s1)
                must(!Files.exists(overlay)) { "the merged overlay ${overlay} is still there" }
                proven(prove(l))
            }
            attempt(cell, 'flatten-commit') {
                // on the layout external-snapshot-delete left (s2 only), or a fresh one if it failed
                LayoutLab l = deleted ? merged : open { LayoutLab.chain(cell) }
                def out = harness.run('recipe:flatten-commit', [domain: l.vm.name()])
                ok(l, out, 'flatten-commit')
                must(l.active('vda') == l.bases['vda']) { "vda runs on ${l.active('vda')}, not on its base ${l.bases['vda']}" }
                must(l.snapshots() == []) { "snapshots left: ${l.snapshots()}" }
                l.states.clear()
                must(l.files().keySet().findAll { it.contains(l.snap(1)) || it.contains(l.snap(2)) }.isEmpty()) { "merged overlays left: ${l.files().keySet()}" }
                must(l.shows(l.bases['vda']) == l.current) { "the base shows ${l.shows(l.bases['vda'])}, not ${l.current}" }
                l.writeNext()
                proven(prove(l))
            }
            attempt(cell, 'flatten-pull') {
                LayoutLab l = open { LayoutLab.chain(cell) }
                Path top = l.active('vda')
                def out = harness.run('recipe:flatten-pull', [domain: l.vm.name()])
                ok(l, out, 'flatten-pull')
                must(l.active('vda') == top) { "vda runs on ${l.active('vda')}, not on ${top}" }
                must(l.snapshots() == []) { "snapshots left: ${l.snapshots()}" }
                l.states.clear()
                must(!Files.exists(l.bases['vda'])) { "the pulled base ${l.bases['vda']} is still there" }
                l.writeNext()
                proven(prove(l))
            }
        }

        internalRecipes(cell)
    }

    /** The internal-snapshot recipes on the cell's bases alone: refused on raw, create/revert/delete on qcow2. */
    void internalRecipes(Cell cell) {
        LayoutLab lab
        if (!attempt(cell, 'internal (bare bases)') { lab = open { LayoutLab.bare(cell) }; null }) {
            return
        }
        String i1 = lab.internalName(1)
        if (cell.base == 'raw') {
            attempt(cell, 'internal-snapshot-create') {
                refused(lab, 'internal-snapshot-create', [domain: lab.vm.name(), name: i1], ['raw'])
            }
            return
        }
        if (cell.running && cell.fancy && release.internalSnapshotJobs()) {
            // libvirt 11.3 saves a running domain's internal snapshot as a QEMU job named after it, and QEMU
            // refuses a job name with spaces or non-ASCII letters
            attempt(cell, 'internal-snapshot-create') {
                refused(lab, 'internal-snapshot-create', [domain: lab.vm.name(), name: i1], ['QEMU job'])
            }
            return
        }
        boolean made = attempt(cell, 'internal-snapshot-create') {
            def out = harness.run('recipe:internal-snapshot-create', [domain: lab.vm.name(), name: i1])
            ok(lab, out, 'internal-snapshot-create')
            lab.states[i1] = lab.current.clone() as Set
            lab.writeNext()
            proven(proveCurrent(lab))
        }
        String safety = null
        made = made && attempt(cell, 'internal-snapshot-revert') {
            Set<String> before = lab.snapshots() as Set
            safety = revertKeeping(lab, 'internal-snapshot-revert', i1, [domain: lab.vm.name(), snapshot: i1])
            int n = proveCurrent(lab)
            // back to the safety snapshot: the state before the revert, exactly
            def out = harness.run('recipe:internal-snapshot-revert', [domain: lab.vm.name(), snapshot: safety])
            ok(lab, out, 'internal-snapshot-revert to the safety snapshot')
            lab.current = lab.states[safety].clone() as Set
            (lab.snapshots() - (before + [safety])).each { lab.states[it] = lab.states[i1].clone() as Set }
            proven(n + proveCurrent(lab))
        }
        made && attempt(cell, 'internal-snapshot-delete') {
            def out = harness.run('recipe:internal-snapshot-delete', [domain: lab.vm.name(), snapshot: i1])
            ok(lab, out, 'internal-snapshot-delete')
            lab.states.remove(i1)
            must(!(i1 in lab.snapshots())) { "${i1} is still listed" }
            int n = proveCurrent(lab)
            // the other internal states are still there, exactly
            for (String s in lab.states.keySet().sort()) {
                out = harness.run('recipe:internal-snapshot-revert', [domain: lab.vm.name(), snapshot: s])
                ok(lab, out, "internal-snapshot-revert to ${s}")
                lab.current = lab.states[s].clone() as Set
                n += proveCurrent(lab)
            }
            proven(n)
        }
    }

    /**
     * A damaged cell: every recipe that reads the chain is refused by its plan, naming the damaged file; nothing
     * changes. A recipe that is not refused has changed the layout: the next one gets a fresh copy of it.
     */
    void damagedCell(Cell cell) {
        LayoutLab lab = null
        Map<String, Closure<Map>> recipes = [
                'external-snapshot-create': { LayoutLab l -> [domain: l.vm.name(), name: l.snap(3)] },
                'external-snapshot-revert': { LayoutLab l -> [domain: l.vm.name(), snapshot: l.snap(2), timeout: '1s'] },
                'flatten-commit'          : { LayoutLab l -> [domain: l.vm.name()] },
                'flatten-pull'            : { LayoutLab l -> [domain: l.vm.name()] },
                'external-snapshot-delete': { LayoutLab l -> [domain: l.vm.name(), snapshot: l.snap(2)] },
                'snapshot-discard'        : { LayoutLab l -> [domain: l.vm.name(), snapshot: l.snap(2)] },
                'convert-image'           : { LayoutLab l -> [source: l.active('vda').toString(), target: l.vm.dir().resolve('copy.qcow2').toString(), format: 'qcow2'] },
                'check-image'             : { LayoutLab l -> [image: l.active('vda').toString()] },
                'internal-snapshot-create': { LayoutLab l -> [domain: l.vm.name(), name: l.internalName(1)] },
        ]
        for (Map.Entry<String, Closure<Map>> entry in recipes) {
            String recipe = entry.key
            Closure<Map> vars = entry.value
            if (lab == null && !attempt(cell, "layout for ${recipe}") { lab = open { LayoutLab.chain(cell) }; null }) {
                return // the layout cannot be made: the remaining recipes are not run
            }
            Map before = lab.picture()
            attempt(cell, recipe) {
                List<String> names = [lab.damaged.toString(), lab.damaged.fileName.toString()]
                if (!cell.running && (recipe.startsWith('flatten-') || recipe == 'external-snapshot-delete')) {
                    // the first cause the plan meets is the shut-off VM; it changes nothing and starts nothing
                    names << 'QEMU block job'
                }
                if (cell.running && recipe == 'convert-image') {
                    // ... or the running VM that has the image open
                    names << 'has it open'
                }
                if (cell.running && cell.disks == 2 && recipe == 'external-snapshot-delete') {
                    // ... or the snapshot of two disks, which the recipe does not merge
                    names << 'it has 2 external disks'
                }
                recipe == 'snapshot-discard' ? discardedBeside(lab, vars(lab), names) : refused(lab, recipe, vars(lab), names)
            }
            if (lab.picture() != before) {
                labs.remove(lab)
                lab.close()
                lab = null
            }
        }
    }

    // ---- running, refusing, proving ----------------------------------------------------------------------------

    LayoutLab open(Closure<LayoutLab> make) {
        LayoutLab lab = make()
        labs << lab
        lab
    }

    /** Records one line of the matrix; returns whether the check passed. A failure is collected, not thrown. */
    boolean attempt(Cell cell, String recipe, Closure body) {
        String key = "${cell} | ${recipe}"
        String bug = pending(cell, recipe)
        try {
            def outcome = body()
            if (outcome == null) {
                return true
            }
            if (bug) {
                failures << new AssertionError("${key} is pending (${bug}) but passes: remove it from PENDING")
                matrix << "${key} | ${outcome} (STALE PENDING ENTRY)".toString()
            } else {
                matrix << "${key} | ${outcome}".toString()
            }
            true
        } catch (Throwable t) {
            String first = String.valueOf(t.message).readLines().find { it.trim() } ?: t.class.simpleName
            if (bug) {
                failures << new PendingFailure(t)
                matrix << "${key} | PENDING (${bug}): ${first}".toString()
            } else {
                failures << new AssertionError("${key}: ${t.message}", t)
                matrix << "${key} | FAILED: ${first}".toString()
            }
            false
        }
    }

    /** Throws the first failure that is not pending, with the others attached as suppressed. */
    boolean nothingFailedButPending() {
        List<Throwable> real = failures.findAll { !(it instanceof PendingFailure) }
        if (real) {
            real.drop(1).each { real[0].addSuppressed(it) }
            throw real[0]
        }
        true
    }

    static class PendingFailure extends RuntimeException {
        PendingFailure(Throwable cause) { super(cause) }
    }

    /** check-image on each image runs and passes, changing nothing. */
    String checked(LayoutLab lab, List<Path> images) {
        def before = lab.picture()
        for (Path image in images) {
            def out = harness.run('recipe:check-image', [image: image.toString()])
            must(out.exitCode == 0) { "check-image ${image}: exit ${out.exitCode}: ${why(out)}" }
        }
        must(lab.picture() == before) { "check-image changed ${LayoutLab.changes(before, lab.picture())}" }
        "ran, ${images.size()} image${images.size() > 1 ? 's' : ''} clean, nothing changed"
    }

    static String proven(int n) {
        "ran, ${n} state${n == 1 ? '' : 's'} proven"
    }

    /**
     * Runs revert recipe {@code recipe} to {@code target}: it must succeed, leave the VM's power state as it was and
     * keep exactly one new snapshot, the state before the revert. The model learns both; returns the kept name.
     */
    String revertKeeping(LayoutLab lab, String recipe, String target, Map vars) {
        PowerState power = lab.vm.state()
        Set<String> before = lab.snapshots() as Set
        def out = harness.run("recipe:${recipe}", vars)
        ok(lab, out, recipe)
        must(lab.vm.state() == power) { "the VM was ${power}, it is ${lab.vm.state()} now" }
        Set<String> added = (lab.snapshots() as Set) - before
        must(added.size() == 1) { "the revert kept ${added}" }
        String kept = added[0]
        lab.states[kept] = lab.current.clone() as Set
        lab.current = lab.states[target].clone() as Set
        kept
    }

    /** Runs {@code recipe} expecting its plan to refuse, naming one of {@code names}, with nothing changed. */
    String refused(LayoutLab lab, String recipe, Map vars, List<String> names) {
        def before = lab.picture()
        def out = harness.run("recipe:${recipe}", vars)
        def after = lab.picture()
        String failure = out.plan.failure()
        must(!out.plan.feasible() && out.exitCode == 1) {
            "${recipe} was not refused in the plan: exit ${out.exitCode}, ${why(out)}; ${lab.power()}; ${lab.data()}; " +
                    "changed: ${LayoutLab.changes(before, after) ?: 'nothing'}"
        }
        must(names.any { failure.contains(it) }) { "${recipe}'s refusal does not name ${names[-1]}: ${failure.readLines()[0]}" }
        must(after == before) { "${recipe} was refused, but changed ${LayoutLab.changes(before, after)}" }
        "refused: ${failure.readLines()[0]}"
    }

    /**
     * snapshot-discard reads no chain: it deletes a snapshot's metadata and the files no other state reads. On a
     * damaged chain it is either refused by its plan (naming the damaged file, or the chain it cannot read), or it
     * runs and touches nothing but that snapshot and the files only it held: the damaged file and every other file
     * keep their size and time, and the power state and the disks' definitions stay.
     */
    String discardedBeside(LayoutLab lab, Map vars, List<String> names) {
        def before = lab.picture()
        def out = harness.run('recipe:snapshot-discard', vars)
        if (!out.plan.feasible()) {
            return refused(lab, 'snapshot-discard', vars, names) // planned again: the same refusal, nothing changed
        }
        def after = lab.picture()
        must(out.exitCode == 0) { "snapshot-discard ran and failed: exit ${out.exitCode}, ${why(out)}" }
        List<String> deleted = out.result.run().steps().collect { it.message() }.findAll { it.startsWith('deleted ') }
        Map kept = before.files.findAll { f, v -> after.files.containsKey(f) }
        must(kept.every { f, v -> after.files[f] == v }) { "snapshot-discard changed kept files: ${LayoutLab.changes(before, after)}" }
        must(after.files.containsKey(lab.damaged.toString()) == before.files.containsKey(lab.damaged.toString())) {
            "snapshot-discard deleted the damaged file ${lab.damaged}"
        }
        must(after.power == before.power && after.live == before.live) { "snapshot-discard changed the VM: ${LayoutLab.changes(before, after)}" }
        must(!(vars.snapshot in lab.snapshots())) { "snapshot ${vars.snapshot} is still there" }
        lab.states.remove(vars.snapshot)
        "ran, reading no chain: only ${vars.snapshot} and the files only it held went (${deleted.join('; ') ?: 'no file'})"
    }
}
