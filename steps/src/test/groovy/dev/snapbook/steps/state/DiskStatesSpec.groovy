package dev.snapbook.steps.state

import dev.snapbook.engine.spi.StepFailure
import dev.snapbook.engine.spi.World
import dev.snapbook.steps.block.BlockCommit
import dev.snapbook.steps.block.BlockPull
import dev.snapbook.steps.domain.DiskFacts
import dev.snapbook.steps.domain.DomainFacts
import dev.snapbook.steps.domain.DomainListFacts
import dev.snapbook.steps.domain.DomainStart
import dev.snapbook.steps.image.ImageDelete
import dev.snapbook.steps.image.ImageFacts
import dev.snapbook.steps.snapshot.SnapshotDisk
import dev.snapbook.steps.snapshot.SnapshotFacts
import dev.snapbook.steps.snapshot.SnapshotRevert
import dev.snapbook.steps.snapshot.SnapshotTree
import spock.lang.Specification

import static dev.snapbook.steps.lab.TestStepContext.params

/**
 * The disk-state model and the flatten decision on hand-built worlds, no libvirt: the layouts of issue 11 (linked
 * clones over a golden image, internal and external snapshots on one disk, a state kept by a revert, a snapshot of
 * two disks, an internal snapshot inside an overlay), each asked through the steps that write or delete.
 */
class DiskStatesSpec extends Specification {

    static final String G = '/img/golden.qcow2'

    /** A world builder: domains with disks, images with chains, snapshot trees. */
    static class Layout {
        Map<String, DomainFacts> domains = [:]
        Map<String, List<String>> images = [:]
        Map<String, List<SnapshotFacts>> snapshots = [:]
        Map<String, String> formats = [:]

        Layout image(String path, List<String> below) {
            images[path] = below
            below.eachWithIndex { f, i -> if (!images.containsKey(f)) images[f] = below.drop(i + 1) }
            this
        }

        Layout domain(String name, String state, Map<String, String> disks) {
            domains[name] = new DomainFacts(name, state, true, disks.collect { t, f ->
                new DiskFacts(t, 'disk', 'file', f, 'qcow2', 'virtio') })
            snapshots.putIfAbsent(name, [])
            this
        }

        Layout external(String domain, String name, String parent, Map<String, List<String>> disks) {
            // disks: target → [overlay, state file]
            snapshots[domain] << new SnapshotFacts(name, parent, null, 'disk-snapshot', 'external', false,
                    disks.collect { t, f -> new SnapshotDisk(t, 'external', f[0], 'qcow2') },
                    disks.collectEntries { t, f -> [t, f[1]] })
            this
        }

        Layout internal(String domain, String name, String parent, Map<String, String> disks) {
            snapshots[domain] << new SnapshotFacts(name, parent, null, 'shutoff', 'internal', false,
                    disks.collect { t, f -> new SnapshotDisk(t, 'internal', null, null) }, disks)
            this
        }

        Map<Object, Object> extra = [:]

        /** A world that observes this layout (nothing predicted yet). */
        World world() {
            Map<Object, Object> facts = [:]
            facts[DomainListFacts.key()] = new DomainListFacts(domains.keySet().sort())
            domains.each { n, d -> facts[DomainFacts.key(n)] = d }
            images.each { p, below ->
                facts[ImageFacts.key(p)] = new ImageFacts(p, formats[p] ?: 'qcow2', 1 << 30,
                        below.collect { new ImageFacts.Layer(it, formats[it] ?: 'qcow2') })
            }
            snapshots.each { n, list -> facts[SnapshotTree.key(n)] = new SnapshotTree(n, list ? list.last().name() : null, list) }
            facts.putAll(extra)
            new World({ key -> facts[key] })
        }
    }

    static List<String> chainOf(World w, String domain, String disk = 'vda') {
        def top = w.get(DomainFacts.key(domain)).disks().find { it.target() == disk }.source()
        [top] + w.get(ImageFacts.key(top)).backingChain()*.file()
    }

    /** Three linked clones over one golden image; c1 has one external snapshot e1. */
    static Layout clones() {
        new Layout()
                .image('/img/c1.e1', ['/img/c1.qcow2', G]).image('/img/c2.qcow2', [G]).image('/img/c3.qcow2', [G])
                .domain('c1', 'running', [vda: '/img/c1.e1'])
                .domain('c2', 'running', [vda: '/img/c2.qcow2'])
                .domain('c3', 'shutoff', [vda: '/img/c3.qcow2'])
                .external('c1', 'e1', null, [vda: ['/img/c1.e1', '/img/c1.qcow2']])
    }

    def "linked clones: a flatten by commit stops at the clone's own overlay and names the golden image's readers"() {
        given:
        def w = clones().world()

        when:
        def f = Flatten.commit(DiskStates.of(w), 'c1', 'vda', chainOf(w, 'c1'), true)

        then:
        f.baseFile() == '/img/c1.qcow2'
        f.merged() == ['/img/c1.e1']
        f.drops() == ['e1']
        f.stop().contains("$G is also read by disk vda of domain c2")
        f.stop().contains('disk vda of domain c3')
        f.after() == ['/img/c1.qcow2', G]
    }

    def "linked clones: a flatten by pull keeps the golden image as the backing file"() {
        given:
        def w = clones().world()

        when:
        def f = Flatten.pull(DiskStates.of(w), 'c1', 'vda', chainOf(w, 'c1'), true)

        then:
        f.baseFile() == G
        f.merged() == ['/img/c1.qcow2']
        f.drops() == ['e1']
        f.after() == ['/img/c1.e1', G]
    }

    def "linked clones: block.commit into the golden image is refused, naming every clone; without base it stops above it"() {
        given:
        def w = clones().world()
        def step = new BlockCommit()

        when:
        step.plan(params(step, [domain: 'c1', active: true, base: G]), w)

        then:
        def e = thrown(StepFailure)
        e.message.contains("refusing to commit /img/c1.e1, /img/c1.qcow2 into $G")
        e.message.contains('disk vda of domain c2 (running)')
        e.message.contains('disk vda of domain c3')

        when: 'no base: the deepest layer no other state reads, after e1 is dropped'
        def w2 = clones().tap { snapshots['c1'].clear() }.world()
        def planned = step.plan(params(step, [domain: 'c1', active: true]), w2)

        then:
        planned.predictedResult().base == '/img/c1.qcow2'
        planned.predictedResult().chain == ['/img/c1.qcow2', G]
    }

    def "linked clones: a domain whose active image is the golden one is not started"() {
        given:
        def w = clones().domain('template', 'shutoff', [vda: G]).world()
        def step = new DomainStart()

        when:
        step.plan(params(step, [domain: 'template']), w)

        then:
        def e = thrown(StepFailure)
        e.message.contains("refusing to start template: disk vda would write into $G")
        e.message.contains('disk vda of domain c2')
    }

    def "the golden image is not deleted while a clone reads it"() {
        given:
        def step = new ImageDelete()

        when:
        step.plan(params(step, [path: G]), clones().world())

        then:
        def e = thrown(StepFailure)
        e.message.contains("refusing to delete $G")
        e.message.contains('disk vda of domain c1 (running) (/img/c1.e1 → /img/c1.qcow2 → /img/golden.qcow2)')
    }

    /** Internal i1 in base, then external e1 and e2: base holds e1's state, vda.e1 e2's. */
    static Layout mixed() {
        new Layout().image('/img/vda.e2', ['/img/vda.e1', '/img/vda.qcow2'])
                .domain('web', 'shutoff', [vda: '/img/vda.e2'])
                .internal('web', 'i1', null, [vda: '/img/vda.qcow2'])
                .external('web', 'e1', 'i1', [vda: ['/img/vda.e1', '/img/vda.qcow2']])
                .external('web', 'e2', 'e1', [vda: ['/img/vda.e2', '/img/vda.e1']])
    }

    def "internal and external on one disk: the internal revert is refused, naming the external states it would break"() {
        given:
        def step = new SnapshotRevert()

        when:
        step.plan(params(step, [domain: 'web', snapshot: 'i1']), mixed().world())

        then:
        def e = thrown(StepFailure)
        e.message.contains('refusing to revert web to internal snapshot i1: it lives inside /img/vda.qcow2')
        e.message.contains('snapshot e1 of domain web (its state of vda: /img/vda.qcow2)')
        e.message.contains('snapshot e2 of domain web (its state of vda: /img/vda.e1 → /img/vda.qcow2)')
    }

    def "an internal revert from an overlay above the snapshot's image is refused even without other snapshots"() {
        given: 'i0 in base, then an overlay made outside snapbook (no metadata), the disk on it'
        def w = new Layout().image('/img/vda.ov', ['/img/vda.qcow2'])
                .domain('web', 'shutoff', [vda: '/img/vda.ov'])
                .internal('web', 'i0', null, [vda: '/img/vda.qcow2']).world()
        def step = new SnapshotRevert()

        when:
        step.plan(params(step, [domain: 'web', snapshot: 'i0']), w)

        then:
        def e = thrown(StepFailure)
        e.message.contains('disk vda now runs on /img/vda.ov, an overlay above /img/vda.qcow2')
    }

    def "internal and external on one disk: a flatten by commit may go into the base, which holds the internal snapshot"() {
        given:
        def w = mixed().domain('web', 'running', [vda: '/img/vda.e2']).world()

        when:
        def f = Flatten.commit(DiskStates.of(w), 'web', 'vda', chainOf(w, 'web'), true)

        then: 'qcow2 keeps i1 clusters apart, so i1 survives; e1 and e2 are merged away'
        f.baseFile() == '/img/vda.qcow2'
        f.drops() == ['e1', 'e2']
        f.stop() == null
    }

    def "an internal snapshot inside a layer that would be merged stops the commit above it"() {
        given: 'e1 external (state base), then an internal snapshot i2 inside the overlay vda.e1, then e2'
        def w = new Layout().image('/img/vda.e2', ['/img/vda.e1', '/img/vda.qcow2'])
                .domain('web', 'running', [vda: '/img/vda.e2'])
                .external('web', 'e1', null, [vda: ['/img/vda.e1', '/img/vda.qcow2']])
                .internal('web', 'i2', 'e1', [vda: '/img/vda.e1'])
                .external('web', 'e2', 'i2', [vda: ['/img/vda.e2', '/img/vda.e1']]).world()

        when:
        def f = Flatten.commit(DiskStates.of(w), 'web', 'vda', chainOf(w, 'web'), true)

        then:
        f.baseFile() == '/img/vda.e1'
        f.drops() == ['e2']
        f.stop().contains('snapshot i2 of domain web')

        when: 'a pull into an image with an internal snapshot inside'
        def w2 = new Layout().image('/img/vda.e1', ['/img/vda.qcow2'])
                .domain('web', 'running', [vda: '/img/vda.e1'])
                .internal('web', 'i2', null, [vda: '/img/vda.e1']).world()
        Flatten.pull(DiskStates.of(w2), 'web', 'vda', chainOf(w2, 'web'), true)

        then:
        def e = thrown(StepFailure)
        e.message.contains('refusing to pull into /img/vda.e1')
        e.message.contains('snapshot i2 of domain web')
    }

    /** s1, s2 on the chain; a revert to s1 kept the state before as k (its state file vda.s2); the disk on r1. */
    static Layout reverted() {
        new Layout().image('/img/vda.k', ['/img/vda.s2', '/img/vda.s1', '/img/vda.qcow2'])
                .image('/img/r1', ['/img/vda.qcow2'])
                .domain('web', 'running', [vda: '/img/r1'])
                .external('web', 's1', null, [vda: ['/img/vda.s1', '/img/vda.qcow2']])
                .external('web', 's2', 's1', [vda: ['/img/vda.s2', '/img/vda.s1']])
                .external('web', 'k', 's2', [vda: ['/img/vda.k', '/img/vda.s2']])
    }

    def "a revert, then a flatten: the kept state and its branch are not merged over; nothing can be committed"() {
        given:
        def w = reverted().world()

        when:
        Flatten.commit(DiskStates.of(w), 'web', 'vda', chainOf(w, 'web'), true)

        then:
        def e = thrown(StepFailure)
        e.message.contains('refusing to commit disk web/vda')
        e.message.contains('snapshot s2 of domain web')
        e.message.contains('snapshot k of domain web')

        when: 'a pull leaves vda.qcow2 in place, the branch reads it'
        Flatten.pull(DiskStates.of(w), 'web', 'vda', chainOf(w, 'web'), true)

        then:
        def p = thrown(StepFailure)
        p.message.contains('nothing of disk web/vda can be pulled')
    }

    def "a snapshot of two disks: flattening vda alone is refused, since dropping the snapshot loses vdb's state"() {
        given:
        def w = new Layout().image('/img/vda.s1', ['/img/vda.qcow2']).image('/img/vdb.s1', ['/img/vdb.qcow2'])
                .domain('web', 'running', [vda: '/img/vda.s1', vdb: '/img/vdb.s1'])
                .external('web', 's1', null, [vda: ['/img/vda.s1', '/img/vda.qcow2'], vdb: ['/img/vdb.s1', '/img/vdb.qcow2']])
                .world()

        when:
        Flatten.commit(DiskStates.of(w), 'web', 'vda', chainOf(w, 'web'), true)

        then:
        def e = thrown(StepFailure)
        e.message.contains('snapshot s1 of domain web (its state of vda: /img/vda.qcow2)')
    }

    def "the model lists a running domain's persistent definition where it differs from the live one"() {
        given:
        def layout = clones()
        layout.extra[dev.snapbook.steps.domain.DefinitionFacts.key('c2')] = new dev.snapbook.steps.domain.DefinitionFacts('c2',
                [new DiskFacts('vda', 'disk', 'file', '/img/c2-next.qcow2', 'qcow2', 'virtio')])
        def w = layout.world()

        expect:
        DiskStates.of(w).containing('/img/c2-next.qcow2')*.toString() ==
                ['the persistent definition of disk vda of domain c2 (/img/c2-next.qcow2)']
    }

    def "commit rule: a state with the whole run right above the base reads the same data; one without it does not"() {
        given:
        def w = new Layout().image('/img/top', ['/img/mid', '/img/base']).image('/img/x', ['/img/top', '/img/mid', '/img/base'])
                .image('/img/y', ['/img/mid', '/img/base'])
                .domain('a', 'running', [vda: '/img/top']).domain('b', 'shutoff', [vda: '/img/x'])
                .domain('c', 'shutoff', [vda: '/img/y']).world()
        def states = DiskStates.of(w)

        expect:
        states.brokenByCommit(['/img/top', '/img/mid'], '/img/base')*.domain() == ['c']
        states.brokenByCommit(['/img/mid'], '/img/base')*.domain() == []
    }

    @spock.lang.TempDir
    java.nio.file.Path dir

    def "an internal snapshot that only the qcow2 table names (qemu-img snapshot -c) is a state: a pull into its file is refused"() {
        given: 'a real overlay over a real base, with an internal snapshot made outside libvirt'
        def base = dir.resolve('base.qcow2').toString()
        def top = dir.resolve('top.qcow2').toString()
        ['qemu-img create -q -f qcow2 BASE 16M', 'qemu-img create -q -f qcow2 -b BASE -F qcow2 TOP',
         'qemu-img snapshot -c by-hand TOP'].each { cmd ->
            def p = new ProcessBuilder(cmd.split(' ').collect { it == 'BASE' ? base : it == 'TOP' ? top : it })
                    .redirectErrorStream(true).start()
            assert p.waitFor() == 0: p.inputStream.text
        }
        def w = new Layout().image(top, [base]).domain('web', 'running', [vda: top]).world()
        def states = DiskStates.of(w)

        expect:
        states.internalIn(top)*.toString() == ["internal snapshot by-hand inside $top (no libvirt snapshot names it)".toString()]
        states.containing(base)*.kind() == [DiskState.Kind.DISK, DiskState.Kind.INTERNAL]

        when:
        Flatten.pull(states, 'web', 'vda', [top, base], true)

        then:
        def e = thrown(StepFailure)
        e.message.contains("refusing to pull into $top")
        e.message.contains('internal snapshot by-hand')
    }
}
