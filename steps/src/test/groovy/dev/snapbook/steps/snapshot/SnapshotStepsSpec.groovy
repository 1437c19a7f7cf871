package dev.snapbook.steps.snapshot

import dev.snapbook.engine.spi.Outcome
import dev.snapbook.engine.spi.Reversibility
import dev.snapbook.engine.spi.StepFailure
import dev.snapbook.steps.domain.DomainFacts
import dev.snapbook.steps.lab.LabVm
import dev.snapbook.steps.lab.TestStepContext
import dev.snapbook.steps.libvirt.PowerState
import dev.snapbook.steps.libvirt.XmlView
import java.nio.file.Files
import java.nio.file.Path
import spock.lang.Requires
import spock.lang.Specification

import static dev.snapbook.steps.lab.TestStepContext.params

@Requires(value = { LabVm.available() },
        reason = 'needs libvirt: `virsh -c qemu:///system version` must succeed (start virtlogd and libvirtd)')
class SnapshotStepsSpec extends Specification {

    static final int A = 0xa1, B = 0xb2, C = 0xc3, D = 0xd4
    static final Map<Integer, String> AT = [(A): '1M', (B): '2M', (C): '3M', (D): '4M']

    LabVm vm
    TestStepContext ctx

    def setup() {
        vm = LabVm.create()
        ctx = new TestStepContext(LabVm.URI)
    }

    def cleanup() {
        try {
            ctx?.close()
        } finally {
            vm?.close()
        }
    }

    Map run(step, Map given) {
        def p = params(step, given)
        def captured = step.capture(p, ctx)
        Outcome outcome = step.apply(p, captured, ctx)
        def verification = step.verify(p, outcome, ctx)
        assert verification.passed(): verification.problems()
        [params: p, captured: captured, outcome: outcome]
    }

    void undo(step, Map r) {
        step.undo(r.params, r.captured, r.outcome, ctx)
    }

    void write(int pattern) {
        vm.writePattern(pattern, AT[pattern], '64k')
    }

    Set<Integer> visible(Path image) {
        AT.keySet().findAll { LabVm.hasPattern(image, it, AT[it], '64k') } as Set
    }

    static String sha(Path p) {
        Files.newInputStream(p).withCloseable { it.bytes.sha256() }
    }

    Map<Path, String> hashes() {
        Files.list(vm.dir()).withCloseable { s -> s.sorted().toList() }.collectEntries { [it, sha(it)] }
    }

    /** Everything a plan must leave alone. */
    List snapshotOfTheWorld() {
        [vm.state(), vm.xml(XmlView.LIVE), vm.xml(XmlView.INACTIVE), vm.libvirt().snapshotNames(vm.name()).sort(false),
         vm.libvirt().snapshotCurrent(vm.name()), hashes()]
    }

    def "external snapshots s1..s3 of a running VM revert to exactly the data written before each, and no other snapshot's file changes"() {
        given: 'A, s1, B, s2, C, s3, D written and taken on the running VM'
        vm.start()
        def create = new SnapshotCreate()
        write(A)
        def world = ctx.world()
        def before = snapshotOfTheWorld()
        def planned = create.plan(params(create, [domain: vm.name(), name: 's1', disk_only: true]), world)
        assert snapshotOfTheWorld() == before
        def s1 = run(create, [domain: vm.name(), name: 's1', disk_only: true])
        assert ctx.world().get(DomainFacts.key(vm.name())) == world.get(DomainFacts.key(vm.name()))
        assert ctx.world().get(SnapshotTree.key(vm.name())) == world.get(SnapshotTree.key(vm.name()))
        assert s1.outcome.data() == planned.predictedResult()
        write(B)
        run(create, [domain: vm.name(), name: 's2', disk_only: true])
        write(C)
        run(create, [domain: vm.name(), name: 's3', disk_only: true])
        write(D)
        def dir = vm.dir().toString()
        def tree = ctx.world().get(SnapshotTree.key(vm.name()))

        expect: 'each snapshot records the overlay it created and the file that was active'
        tree.names() == ['s1', 's2', 's3']
        tree.current() == 's3'
        tree.find('s1').activeFiles() == [vda: "$dir/vda.qcow2".toString()]
        tree.find('s2').activeFiles() == [vda: "$dir/vda.s1".toString()]
        tree.find('s3').activeFiles() == [vda: "$dir/vda.s2".toString()]
        tree.find('s3').disk('vda').file() == "$dir/vda.s3".toString()
        visible(Path.of("$dir/vda.s3")) == [A, B, C, D] as Set

        when: 'shut down, then revert to each snapshot in turn, undoing between'
        vm.destroy()
        def revert = new SnapshotRevert()
        def results = [:]
        ['s1', 's2', 's3'].each { snap ->
            def hashesBefore = hashes()
            def w = ctx.world()
            def worldBefore = snapshotOfTheWorld()
            def plan = revert.plan(params(revert, [domain: vm.name(), snapshot: snap]), w)
            assert snapshotOfTheWorld() == worldBefore
            def r = run(revert, [domain: vm.name(), snapshot: snap])
            assert r.outcome.data() == plan.predictedResult()
            assert ctx.world().get(DomainFacts.key(vm.name())) == w.get(DomainFacts.key(vm.name()))
            assert ctx.world().get(SnapshotTree.key(vm.name())) == w.get(SnapshotTree.key(vm.name()))
            def overlay = Path.of(r.outcome.data().disks.vda.source)
            results[snap] = visible(overlay)
            // no file that existed before the revert changed by a single byte
            assert hashes().findAll { k, v -> hashesBefore.containsKey(k) } == hashesBefore
            assert r.outcome.data().previous == [vda: "$dir/vda.s3".toString()]
            undo(revert, r)
            assert !Files.exists(overlay)
            assert hashes() == hashesBefore
            assert vm.xml(XmlView.INACTIVE) == worldBefore[2]
            assert vm.libvirt().snapshotCurrent(vm.name()) == 's3'
        }

        then:
        results == [s1: [A] as Set, s2: [A, B] as Set, s3: [A, B, C] as Set]
    }

    def "a revert is itself revertable: after reverting to s1, reverting to s2 still shows A and B, and the old overlays are intact"() {
        given:
        vm.start()
        def create = new SnapshotCreate()
        write(A)
        run(create, [domain: vm.name(), name: 's1', disk_only: true])
        write(B)
        run(create, [domain: vm.name(), name: 's2', disk_only: true])
        write(C)
        vm.destroy()
        def revert = new SnapshotRevert()

        when:
        def r1 = run(revert, [domain: vm.name(), snapshot: 's1'])
        def hashesAfterFirst = hashes()
        def r2 = run(revert, [domain: vm.name(), snapshot: 's2'])

        then:
        visible(Path.of(r1.outcome.data().disks.vda.source)) == [A] as Set
        visible(Path.of(r2.outcome.data().disks.vda.source)) == [A, B] as Set
        r2.outcome.data().previous.vda == r1.outcome.data().disks.vda.source
        hashes().findAll { k, v -> hashesAfterFirst.containsKey(k) } == hashesAfterFirst
        visible(vm.dir().resolve('vda.s2')) == [A, B, C] as Set
    }

    def "snapshot.revert of an external snapshot refuses a running domain and says to add domain.shutdown"() {
        given:
        vm.start()
        run(new SnapshotCreate(), [domain: vm.name(), name: 's1', disk_only: true])
        def revert = new SnapshotRevert()

        when:
        revert.plan(params(revert, [domain: vm.name(), snapshot: 's1']), ctx.world())

        then:
        def e = thrown(StepFailure)
        e.message.contains("domain ${vm.name()} is running")
        e.hint().contains('domain.shutdown')
    }

    def "internal snapshot: create, revert (undoable through the safety snapshot) and delete, proven by the data"() {
        given:
        def create = new SnapshotCreate()
        def revert = new SnapshotRevert()
        def delete = new SnapshotDelete()
        vm.start()
        write(A)
        vm.destroy()
        def world = ctx.world()
        def before = snapshotOfTheWorld()

        when:
        def planned = create.plan(params(create, [domain: vm.name(), name: 'i1', description: 'first']), world)

        then:
        snapshotOfTheWorld() == before
        planned.actions()[0].contains('virDomainSnapshotCreateXML')

        when:
        def c = run(create, [domain: vm.name(), name: 'i1', description: 'first'])

        then:
        c.outcome.data() == planned.predictedResult()
        ctx.world().get(SnapshotTree.key(vm.name())) == world.get(SnapshotTree.key(vm.name()))
        ctx.world().get(DomainFacts.key(vm.name())) == world.get(DomainFacts.key(vm.name()))
        ctx.world().get(SnapshotTree.key(vm.name())).find('i1').location() == 'internal'

        when: 'B is written after the snapshot, then the VM is reverted to it'
        vm.start()
        write(B)
        vm.destroy()
        def w = ctx.world()
        def rp = revert.plan(params(revert, [domain: vm.name(), snapshot: 'i1']), w)
        def r = run(revert, [domain: vm.name(), snapshot: 'i1'])

        then:
        r.outcome.data() == rp.predictedResult()
        r.outcome.data().safety_snapshot == 'snapbook-before-revert-i1'
        ctx.world().get(SnapshotTree.key(vm.name())) == w.get(SnapshotTree.key(vm.name()))
        visible(vm.disk()) == [A] as Set
        revert.reversibility(r.params) == Reversibility.REVERSIBLE

        when: 'undo brings B back and removes the safety snapshot'
        undo(revert, r)

        then:
        visible(vm.disk()) == [A, B] as Set
        vm.libvirt().snapshotNames(vm.name()) == ['i1']

        when:
        def dp = delete.plan(params(delete, [domain: vm.name(), snapshot: 'i1']), ctx.world())
        run(delete, [domain: vm.name(), snapshot: 'i1'])

        then:
        delete.reversibility(params(delete, [domain: vm.name(), snapshot: 'i1'])) == Reversibility.IRREVERSIBLE
        dp.predictedResult().deleted == ['i1']
        vm.libvirt().snapshotNames(vm.name()) == []
        visible(vm.disk()) == [A, B] as Set
    }

    def "undo of an external snapshot of a shut-off domain points the disk back and deletes the overlay"() {
        given:
        def create = new SnapshotCreate()
        def inactive = vm.xml(XmlView.INACTIVE)

        when:
        def c = run(create, [domain: vm.name(), name: 'e1', disk_only: true,
                             diskspec: [[disk: 'vda', file: vm.dir().resolve('over.qcow2').toString()]]])

        then:
        c.outcome.data().overlays == [vda: vm.dir().resolve('over.qcow2').toString()]
        Files.exists(vm.dir().resolve('over.qcow2'))

        when:
        undo(create, c)

        then:
        !Files.exists(vm.dir().resolve('over.qcow2'))
        vm.libvirt().snapshotNames(vm.name()) == []
        vm.xml(XmlView.INACTIVE) == inactive
    }

    def "an internal snapshot of a raw disk fails in the plan, naming the disk and its format and pointing at image.convert"() {
        given:
        def raw = LabVm.create('raw')
        def create = new SnapshotCreate()

        when:
        create.plan(params(create, [domain: raw.name(), name: 'i1']), ctx.world())

        then:
        def e = thrown(StepFailure)
        e.message.contains("disk vda of ${raw.name()} is raw (${raw.disk()})")
        e.hint().contains('image.convert')

        cleanup:
        raw.close()
    }

    def "snapshot.create plan refuses #problem"() {
        given:
        if (running) {
            vm.start()
        }
        Files.createFile(vm.dir().resolve('vda.taken'))
        def create = new SnapshotCreate()

        when:
        create.plan(params(create, [domain: vm.name()] + given), ctx.world())

        then:
        def e = thrown(StepFailure)
        e.message.contains(expected)

        where:
        problem                          | running | given                                                        || expected
        'an existing overlay file'       | false   | [name: 'taken', disk_only: true]                             || 'already exists'
        'quiesce without a guest agent'  | true    | [name: 'q', disk_only: true, quiesce: true]                  || 'no guest agent channel configured'
        'an unknown disk'                | false   | [name: 'x', diskspec: [[disk: 'vdz']]]                       || "has no disk 'vdz'"
        'external without disk_only'     | false   | [name: 'x', diskspec: [[disk: 'vda', snapshot: 'external']]] || 'need disk_only: true'
        'a relative overlay path'        | false   | [name: 'x', disk_only: true, diskspec: [[disk: 'vda', file: 'rel.qcow2']]] || 'not an absolute path'
    }

    def "read-only steps report the tree, a snapshot's facts, parent, XML and files, as planned"() {
        given:
        vm.start()
        run(new SnapshotCreate(), [domain: vm.name(), name: 's1', disk_only: true])
        run(new SnapshotCreate(), [domain: vm.name(), name: 's2', disk_only: true])
        def dir = vm.dir().toString()

        expect:
        [new SnapshotList(), new SnapshotInfo(), new SnapshotParent(), new SnapshotSource()].every { step ->
            def given = step instanceof SnapshotList ? [domain: vm.name()] : [domain: vm.name(), snapshot: 's2']
            def planned = step.plan(params(step, given), ctx.world())
            !planned.changes() && run(step, given).outcome.data() == planned.predictedResult()
        }
        run(new SnapshotList(), [domain: vm.name()]).outcome.data() == [snapshots: ['s1', 's2'], current: 's2',
                tree: [[name: 's1', parent: null, location: 'external', children: ['s2']],
                       [name: 's2', parent: 's1', location: 'external', children: []]]]
        run(new SnapshotParent(), [domain: vm.name(), snapshot: 's2']).outcome.data() == [parent: 's1']
        run(new SnapshotSource(), [domain: vm.name(), snapshot: 's2']).outcome.data() ==
                [overlays: [vda: "$dir/vda.s2".toString()], state_files: [vda: "$dir/vda.s1".toString()]]
        run(new SnapshotDumpxml(), [domain: vm.name(), snapshot: 's1']).outcome.data().xml.contains('<name>s1</name>')
        run(new SnapshotInfo(), [domain: vm.name(), snapshot: 's1']).outcome.data().state == 'disk-snapshot'
    }

    def "snapshot.current sets another current snapshot and undo restores the previous one"() {
        given:
        vm.start()
        run(new SnapshotCreate(), [domain: vm.name(), name: 's1', disk_only: true])
        run(new SnapshotCreate(), [domain: vm.name(), name: 's2', disk_only: true])
        def step = new SnapshotCurrent()

        when:
        def planned = step.plan(params(step, [domain: vm.name(), set: 's1']), ctx.world())
        def r = run(step, [domain: vm.name(), set: 's1'])

        then:
        planned.predictedResult() == [current: 's1', previous: 's2']
        r.outcome.data() == planned.predictedResult()
        vm.libvirt().snapshotCurrent(vm.name()) == 's1'

        when:
        undo(step, r)

        then:
        vm.libvirt().snapshotCurrent(vm.name()) == 's2'
    }

    def "snapshot.delete refuses external snapshots without metadata_only; with it only metadata goes, and undo redefines it"() {
        given:
        vm.start()
        run(new SnapshotCreate(), [domain: vm.name(), name: 's1', disk_only: true])
        run(new SnapshotCreate(), [domain: vm.name(), name: 's2', disk_only: true])
        def step = new SnapshotDelete()
        def filesBefore = hashes().keySet()

        when:
        step.plan(params(step, [domain: vm.name(), snapshot: 's1']), ctx.world())

        then:
        def e = thrown(StepFailure)
        e.message.contains('snapshot s1')
        e.hint().contains('block.commit') && e.hint().contains('metadata_only: true')

        when:
        def w = ctx.world()
        def planned = step.plan(params(step, [domain: vm.name(), snapshot: 's1', metadata_only: true]), w)
        def r = run(step, [domain: vm.name(), snapshot: 's1', metadata_only: true])

        then:
        r.outcome.data() == planned.predictedResult()
        ctx.world().get(SnapshotTree.key(vm.name())) == w.get(SnapshotTree.key(vm.name()))
        vm.libvirt().snapshotNames(vm.name()) == ['s2']
        hashes().keySet().containsAll(filesBefore)

        when:
        undo(step, r)

        then:
        vm.libvirt().snapshotNames(vm.name()).sort(false) == ['s1', 's2']
        ctx.world().get(SnapshotTree.key(vm.name())).find('s2').parent() == 's1'
        vm.libvirt().snapshotCurrent(vm.name()) == 's2'
    }

    def "snapshot.create_xml takes the snapshot a file describes and refuses a doctype"() {
        given:
        vm.start()
        def file = vm.dir().resolve('snap.xml')
        Files.writeString(file, """<domainsnapshot><name>fx</name><description>from a file</description>
            <memory snapshot='no'/><disks><disk name='vda' snapshot='external'>
            <source file='${vm.dir().resolve('fx.qcow2')}'/></disk></disks></domainsnapshot>""")
        def bad = vm.dir().resolve('bad.xml')
        Files.writeString(bad, '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><domainsnapshot><name>&e;</name></domainsnapshot>')
        def step = new SnapshotCreateXml()

        when:
        def r = run(step, [domain: vm.name(), file: file.toString()])

        then:
        r.outcome.data().overlays == [vda: vm.dir().resolve('fx.qcow2').toString()]
        ctx.world().get(SnapshotTree.key(vm.name())).find('fx').description() == 'from a file'

        when:
        step.plan(params(step, [domain: vm.name(), file: bad.toString()]), ctx.world())

        then:
        def e = thrown(StepFailure)
        e.message.contains('DOCTYPE')
        !e.message.contains('root:')
    }
}
