package dev.snapbook.steps.snapshot

import dev.snapbook.engine.spi.StepFailure
import dev.snapbook.engine.spi.World
import dev.snapbook.steps.libvirt.LibvirtRelease
import dev.snapbook.steps.domain.DiskFacts
import dev.snapbook.steps.domain.DomainFacts
import dev.snapbook.steps.domain.DomainListFacts
import dev.snapbook.steps.image.ImageFacts
import spock.lang.Specification

import static dev.snapbook.steps.lab.TestStepContext.params

/**
 * Plans of snapshot.layer and snapshot.delete all_external against a hand-built world, no libvirt: web01's vda
 * runs on vda.s3 → vda.s2 → vda.s1 → base, after the external snapshots s1, s2, s3 (each one's state file is
 * the overlay of the one before, s1's is base).
 */
class SnapshotDeletePlanSpec extends Specification {

    static final String BASE = '/img/base.qcow2', O1 = '/img/vda.s1', O2 = '/img/vda.s2', O3 = '/img/vda.s3'

    // Debian 12's and Debian 13's libvirt and QEMU, as LibvirtRelease reads them
    static final LibvirtRelease LIBVIRT_9 = new LibvirtRelease(9_000_000, 7_002_000, false)
    static final LibvirtRelease LIBVIRT_11 = new LibvirtRelease(11_003_000, 10_000_013, true)

    static SnapshotFacts ext(String name, String parent, String overlay, String state) {
        new SnapshotFacts(name, parent, null, 'disk-snapshot', 'external', false,
                [new SnapshotDisk('vda', 'external', overlay, 'qcow2')], [vda: state])
    }

    static ImageFacts image(String path, List<String> below) {
        new ImageFacts(path, 'qcow2', 1 << 30, below.collect { new ImageFacts.Layer(it, 'qcow2') })
    }

    World world(List<SnapshotFacts> extra = [], Map<String, List<String>> images = [:], List<String> domains = ['web01']) {
        def w = new World({ key -> null })
        w.put(LibvirtRelease.key(), LIBVIRT_9)
        w.put(DomainListFacts.key(), new DomainListFacts(domains))
        w.put(DomainFacts.key('web01'), new DomainFacts('web01', 'running', true,
                [new DiskFacts('vda', 'disk', 'file', O3, 'qcow2', 'virtio')]))
        w.put(ImageFacts.key(O3), image(O3, [O2, O1, BASE]))
        w.put(ImageFacts.key(O2), image(O2, [O1, BASE]))
        w.put(ImageFacts.key(O1), image(O1, [BASE]))
        w.put(ImageFacts.key(BASE), image(BASE, []))
        images.each { k, v -> w.put(ImageFacts.key(k), image(k, v)) }
        w.put(SnapshotTree.key('web01'), new SnapshotTree('web01', 's3',
                [ext('s1', null, O1, BASE), ext('s2', 's1', O2, O1), ext('s3', 's2', O3, O2)] + extra))
        w
    }

    def "snapshot.layer says which overlay merges into which state file, and whether it is the active image"() {
        given:
        def step = new SnapshotLayer()

        expect:
        step.plan(params(step, [domain: 'web01', snapshot: name]), world()).predictedResult() ==
                [snapshot: name, disk: 'vda', overlay: overlay, state_file: state, active: active, parent: parent,
                 children: children]

        where:
        name | overlay | state | active | parent | children
        's3' | O3      | O2    | true   | 's2'   | []
        's2' | O2      | O1    | false  | 's1'   | ['s3']
        's1' | O1      | BASE  | false  | null   | ['s2']
    }

    def "snapshot.layer refuses: #why"() {
        given:
        def step = new SnapshotLayer()

        when:
        step.plan(params(step, [domain: 'web01', snapshot: name]), w)

        then:
        def e = thrown(StepFailure)
        e.message.startsWith("refusing to delete snapshot $name of web01: ")
        e.message.contains(says)

        where:
        why                                                   | name | w                                                                          | says
        'a child whose state is not the overlay'              | 's2' | world([ext('s4', 's2', '/img/s4', '/img/r2')], ['/img/r2': [O1, BASE]])     | 'snapshot s4 of domain web01 (its state of vda: /img/r2 → /img/vda.s1 → /img/base.qcow2)'
        'another snapshot reading the state file without it'  | 's2' | world([ext('t', null, '/img/t', '/img/r1')], ['/img/r1': [O1, BASE]])       | 'snapshot t of domain web01 (its state of vda: /img/r1 → /img/vda.s1'
        'another domain built on the state file'              | 's1' | otherDomainOn(BASE)                                                        | 'disk vda of domain other (/img/other.qcow2 → /img/base.qcow2)'
        'an overlay that left the chain'                      | 's3' | revertedTo(O2)                                                             | "its overlay $O3 is not in the current chain of disk vda"
    }

    World otherDomainOn(String file) {
        def w = world([], ['/img/other.qcow2': [file]], ['web01', 'other'])
        w.put(DomainFacts.key('other'), new DomainFacts('other', 'shutoff', true,
                [new DiskFacts('vda', 'disk', 'file', '/img/other.qcow2', 'qcow2', 'virtio')]))
        w.put(SnapshotTree.key('other'), new SnapshotTree('other', null, []))
        w
    }

    World revertedTo(String state) {
        def w = world([], ['/img/r.qcow2': [state, O1, BASE]])
        w.put(DomainFacts.key('web01'), new DomainFacts('web01', 'running', true,
                [new DiskFacts('vda', 'disk', 'file', '/img/r.qcow2', 'qcow2', 'virtio')]))
        w
    }

    def "snapshot.delete all_external deletes every external snapshot's metadata, leaves first, and predicts an empty tree"() {
        given:
        def step = new SnapshotDelete()
        def w = world()

        when:
        def planned = step.plan(params(step, [domain: 'web01', all_external: true, disk: 'vda', metadata_only: true]), w)

        then:
        planned.actions().take(3) == ['s3', 's2', 's1'].collect { "virDomainSnapshotDelete(web01, $it, [METADATA_ONLY])".toString() }
        planned.predictedResult().deleted == ['s1', 's2', 's3']
        planned.predictedResult().current == null
        w.get(SnapshotTree.key('web01')).snapshots().isEmpty()
    }

    def "a metadata-only deletion of s1 gives s2 the state files of s1 on libvirt #version, and the plan says who records them"() {
        given:
        def step = new SnapshotDelete()
        def w = world()
        w.put(LibvirtRelease.key(), release)

        when:
        def planned = step.plan(params(step, [domain: 'web01', snapshot: 's1', metadata_only: true]), w)

        then:
        def s2 = w.get(SnapshotTree.key('web01')).find('s2')
        s2.parent() == null
        s2.activeFiles() == [vda: BASE]
        planned.actions()[0].endsWith(says)

        where:
        version | release    | says
        '9.0'   | LIBVIRT_9  | '(libvirt 9.0.0 records them itself)'
        '11.3'  | LIBVIRT_11 | "(libvirt 11.3.0 leaves the children's records alone: snapbook redefines them)"
    }

    def "snapshot.delete all_external of another disk has nothing to do"() {
        given:
        def step = new SnapshotDelete()

        expect:
        !step.plan(params(step, [domain: 'web01', all_external: true, disk: 'vdb', metadata_only: true]), world()).changes()
    }

    def "snapshot.delete all_external refuses #given"() {
        given:
        def step = new SnapshotDelete()

        when:
        step.plan(params(step, [domain: 'web01', all_external: true] + given), world())

        then:
        def e = thrown(StepFailure)
        e.message.contains(says)

        where:
        given                                          | says
        [:]                                            | 'needs metadata_only: true'
        [metadata_only: true, snapshot: 's1']          | 'takes no snapshot'
        [metadata_only: true, children: true]          | 'takes no snapshot, children'
    }

    def "snapshot.delete without snapshot or all_external says what it needs"() {
        given:
        def step = new SnapshotDelete()

        when:
        step.plan(params(step, [domain: 'web01', metadata_only: true]), world())

        then:
        def e = thrown(StepFailure)
        e.message.contains('needs snapshot: NAME')
    }
}
