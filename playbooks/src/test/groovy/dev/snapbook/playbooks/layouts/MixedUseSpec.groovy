package dev.snapbook.playbooks.layouts

import dev.snapbook.playbooks.RecipeHarness
import dev.snapbook.playbooks.layouts.LayoutLab.Cell
import dev.snapbook.steps.exec.Command
import dev.snapbook.steps.lab.LabVm
import dev.snapbook.steps.libvirt.Libvirt
import dev.snapbook.steps.libvirt.LibvirtRelease
import spock.lang.Requires
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration

import static dev.snapbook.playbooks.layouts.LayoutProof.must
import static dev.snapbook.playbooks.layouts.LayoutProof.ok
import static dev.snapbook.playbooks.layouts.LayoutProof.prove
import static dev.snapbook.playbooks.layouts.LayoutProof.revertToEvery

/**
 * Snapbook and libvirt's own snapshot commands on the same VM, in both directions (issue 14, item 3), on whichever
 * libvirt the suite runs on: Debian 12's 9.0, which reverts no external snapshot itself, and Debian 13's 11.3, which
 * reverts and deletes them natively (timestamp-named overlays, {@code <revertDisks>} in the snapshot's metadata).
 *
 * <p><b>Snapbook, then virsh.</b> A history made by snapbook (snapshots taken with its step, a branch made by its
 * revert recipe), then one {@code virsh snapshot-revert} or {@code virsh snapshot-delete}: a revert, the deletion of
 * a leaf, of a middle snapshot, and on a branch. Virsh must either do what the command means or refuse: when it
 * refuses, nothing has changed (domain XML, snapshots, every file's size and time); when it succeeds, the disk shows
 * the reverted state (a revert discards the current data, as libvirt documents) and every snapshot still there shows
 * exactly its data.
 *
 * <p><b>Virsh, then snapbook.</b> A history made by virsh ({@code snapshot-create-as --disk-only --atomic}, native
 * reverts and deletions where libvirt does them), then snapbook: {@code show} reads it, every remaining state is
 * proven, and snapbook's recipes revert to every state and delete a snapshot with its data proven again.
 *
 * <p>Data patterns are written before and after each snapshot; the proof is {@link LayoutProof#prove} (the disk and
 * every snapshot's state files) and {@link LayoutProof#revertToEvery} (snapbook reverts to every remaining state,
 * each showing exactly its data). What each virsh command did is written to target/mixed-use.txt and printed.
 */
@Requires(value = { LabVm.available() || System.getenv('CI') },
        reason = 'needs libvirt: `virsh -c qemu:///system version` must succeed (run scripts/setup)')
class MixedUseSpec extends Specification {

    static final Cell CELL = new Cell(base: 'qcow2', power: 'shut-off', disks: 1, overlays: 'default',
            backing: 'absolute', names: 'ascii', damage: 'none')

    @Shared
    List<String> lines = []
    @Shared
    String release

    @TempDir
    Path tmp

    RecipeHarness harness
    LayoutLab lab

    def setupSpec() {
        Libvirt libvirt = Libvirt.open(LabVm.URI, { })
        try {
            def r = LibvirtRelease.of(libvirt)
            release = "libvirt ${LibvirtRelease.version(r.libvirt())}, QEMU ${LibvirtRelease.version(r.qemu())}"
        } finally {
            libvirt.close()
        }
    }

    def setup() {
        harness = new RecipeHarness(tmp.resolve('state'))
    }

    def cleanup() {
        lab?.close()
    }

    def cleanupSpec() {
        List<String> text = ["Mixed use of virsh and snapbook on ${release} (${lines.size()} lines)".toString()] + lines
        Path out = Path.of('target', 'mixed-use.txt')
        Files.createDirectories(out.parent)
        Files.write(out, text)
        println text.join('\n')
    }

    // ---- what each side does, with the model kept -------------------------------------------------------------

    static Command.Result virsh(String... args) {
        Command.of((['virsh', '-c', LabVm.URI] + args.toList()) as List<String>).run(Duration.ofMinutes(2), { })
    }

    /** A disk-only external snapshot taken by virsh: libvirt names the overlay and creates it. */
    void virshSnapshot(String name) {
        def r = virsh('snapshot-create-as', lab.vm.name(), name, '--disk-only', '--atomic')
        must(r.succeeded()) { "virsh snapshot-create-as ${name}: ${r.stderr().strip()}" }
        lab.states[name] = lab.current.clone() as Set
    }

    /**
     * {@code virsh snapshot-revert TARGET}: done (the disk now shows TARGET's data; the current data is discarded, as
     * libvirt documents) or refused with nothing changed. Returns what happened, for the table.
     */
    String virshRevert(String target) {
        def before = lab.picture()
        def r = virsh('snapshot-revert', lab.vm.name(), target)
        if (!r.succeeded()) {
            must(lab.picture() == before) { "virsh snapshot-revert ${target} failed and changed ${LayoutLab.changes(before, lab.picture())}" }
            return "refused, nothing changed: ${said(r)}"
        }
        lab.current = lab.states[target].clone() as Set
        "reverted: the disk is on ${lab.active('vda').fileName}"
    }

    /** {@code virsh snapshot-delete NAME}: done (the snapshot is gone, every other state kept) or refused. */
    String virshDelete(String name) {
        def before = lab.picture()
        def r = virsh('snapshot-delete', lab.vm.name(), name)
        if (!r.succeeded()) {
            must(lab.picture() == before) { "virsh snapshot-delete ${name} failed and changed ${LayoutLab.changes(before, lab.picture())}" }
            return "refused, nothing changed: ${said(r)}"
        }
        lab.states.remove(name)
        "deleted"
    }

    /** What virsh said when it refused: its error lines, joined. */
    static String said(Command.Result r) {
        String said = (r.stderr() + r.stdout()).readLines().findAll { it.trim() }.collect { it.replaceFirst(/^error: /, '').trim() }.join(': ')
        said ?: "exit ${r.exitCode()}"
    }

    /** Snapbook's revert recipe to {@code target}: the state before it is kept as a snapshot of its own. */
    String snapbookRevert(String target) {
        Set<String> before = lab.snapshots() as Set
        def out = harness.run('recipe:external-snapshot-revert', [domain: lab.vm.name(), snapshot: target, timeout: '1s'])
        ok(lab, out, "snapbook revert to ${target}")
        Set<String> added = (lab.snapshots() as Set) - before
        must(added.size() == 1) { "the revert kept ${added}" }
        lab.states[added[0]] = lab.current.clone() as Set
        lab.current = lab.states[target].clone() as Set
        added[0]
    }

    /**
     * Snapbook's delete recipe for {@code name}: it runs, and the data is proven after it, or its plan refuses with
     * nothing changed. Returns what happened, for the table.
     */
    String snapbookDelete(String name) {
        def before = lab.picture()
        def out = harness.run('recipe:external-snapshot-delete', [domain: lab.vm.name(), snapshot: name, timeout: '1s'])
        if (!out.plan.feasible()) {
            must(out.exitCode == 1 && lab.picture() == before) {
                "external-snapshot-delete ${name} was refused with exit ${out.exitCode} and changed ${LayoutLab.changes(before, lab.picture())}"
            }
            return "snapbook external-snapshot-delete ${name}: refused by the plan, nothing changed: ${out.plan.failure().readLines()[0]}"
        }
        ok(lab, out, "snapbook external-snapshot-delete ${name}")
        lab.states.remove(name)
        prove(lab)
        "snapbook external-snapshot-delete ${name}: ran, data proven"
    }

    /** {@code snapbook show} reads the VM and names every snapshot of the model. */
    void showReads() {
        def (int exit, String json) = RecipeHarness.cli('show', lab.vm.name(), '--format', 'json')
        must(exit == 0) { "snapbook show exited ${exit}: ${json}" }
        def names = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json).path('snapshots')*.path('name')*.asText() as Set
        must(names == lab.states.keySet()) { "snapbook show lists ${names}, the model ${lab.states.keySet()}" }
    }

    /** A playbook of one chain.verify step on vda runs and passes: snapbook reads the chain virsh left. */
    void chainVerifies() {
        Path playbook = tmp.resolve('verify.yml')
        Files.writeString(playbook, '''name: Verify the chain virsh left
steps:
  - chain.verify: { domain: "{{ domain }}", disk: vda }
''')
        ok(lab, harness.run(playbook.toString(), [domain: lab.vm.name()]), 'chain.verify')
    }

    void record(String direction, String history, String act, String outcome, int proven) {
        lines << "${direction} | ${history} | ${act} | ${outcome} | ${proven} states proven".toString()
    }

    /** Pattern 0, s1, pattern 1, s2, pattern 2 with snapbook's step (LayoutLab.chain), the VM shut off. */
    LayoutLab snapbookChain() {
        LayoutLab.chain(CELL)
    }

    /** The same history taken by virsh. */
    LayoutLab virshChain() {
        lab = LayoutLab.bare(CELL)
        virshSnapshot('s1')
        lab.writeNext()
        virshSnapshot('s2')
        lab.writeNext()
        lab
    }

    // ---- snapbook, then virsh -----------------------------------------------------------------------------------

    def "snapbook then virsh: #act after #history"() {
        given:
        lab = snapbookChain()
        if (branch) {
            // snapbook's revert to s1 keeps the state before it (snapbook-before-revert-s1), then new data and s3
            snapbookRevert('s1')
            lab.writeNext()
            lab.snapshot('s3')
            lab.writeNext()
        }
        prove(lab)

        when:
        String outcome = act.startsWith('revert') ? virshRevert(act.split(' ')[1]) : virshDelete(act.split(' ')[1])
        prove(lab)
        int proven = revertToEvery(harness, lab)
        record('snapbook -> virsh', history, "virsh snapshot-${act}", outcome, proven)

        then:
        noExceptionThrown()

        where:
        history                                             | branch | act
        'snapbook s1, s2'                                   | false  | 'revert s1'
        'snapbook s1, s2'                                   | false  | 'delete s2'
        'snapbook s1, s2'                                   | false  | 'delete s1'
        'snapbook s1, s2, revert to s1 (branch), s3'        | true   | 'revert s2'
        'snapbook s1, s2, revert to s1 (branch), s3'        | true   | 'delete s3'
        'snapbook s1, s2, revert to s1 (branch), s3'        | true   | 'delete s2'
        'snapbook s1, s2, revert to s1 (branch), s3'        | true   | 'delete snapbook-before-revert-s1'
        'snapbook s1, s2, revert to s1 (branch), s3'        | true   | 'delete s1'
    }

    // ---- virsh, then snapbook -----------------------------------------------------------------------------------

    def "virsh then snapbook: #history"() {
        given:
        virshChain()
        List<String> did = []
        for (String a in acts) {
            if (a == 'write') {
                lab.writeNext()
            } else if (a.startsWith('snapshot ')) {
                virshSnapshot(a.split(' ')[1])
            } else if (a.startsWith('revert ')) {
                did << "virsh snapshot-revert ${a.split(' ')[1]}: ${virshRevert(a.split(' ')[1])}".toString()
            } else {
                did << "virsh snapshot-delete ${a.split(' ')[1]}: ${virshDelete(a.split(' ')[1])}".toString()
            }
        }

        when: 'snapbook reads what virsh left and proves it, deletes a snapshot with its recipe, and reverts to every state'
        showReads()
        chainVerifies()
        prove(lab)
        lab.vm.start() // the recipe merges with a block job, which needs QEMU running
        String deleted = snapbookDelete(lab.states.keySet().sort()[0])
        showReads()
        int proven = revertToEvery(harness, lab)
        record('virsh -> snapbook', history, did.join('; ') ?: 'no native revert or delete',
                "snapbook show, chain.verify; ${deleted}; revert to every state: ran", proven)

        then:
        noExceptionThrown()

        where:
        history                                                     | acts
        'virsh s1, s2'                                              | []
        'virsh s1, s2, virsh revert to s1'                          | ['revert s1']
        'virsh s1, s2, virsh delete s2 (leaf)'                      | ['delete s2']
        'virsh s1, s2, virsh delete s1 (middle)'                    | ['delete s1']
        'virsh s1, s2, virsh revert to s1 (branch), write, virsh s3' | ['revert s1', 'write', 'snapshot s3']
    }
}
