package dev.snapbook.steps.snapshot

import dev.snapbook.steps.libvirt.LibvirtRelease
import dev.snapbook.engine.spi.StepFailure
import dev.snapbook.steps.domain.DiskFacts
import dev.snapbook.steps.domain.DomainFacts
import dev.snapbook.steps.image.ImageFacts
import dev.snapbook.steps.state.DiskStates
import spock.lang.Specification

import static dev.snapbook.steps.lab.TestStepContext.params

/**
 * Which disks a snapshot.create covers, without a VM: diskspec {@code disk: all}, {@code only_listed}, and
 * the empty description and overlay file that recipes pass for "not given".
 */
class SnapshotDiskSelectionSpec extends Specification {

    static final String DIR = '/nonexistent-snapbook-test'

    /** A shut-off domain with two qcow2 disks and a cdrom. */
    SnapshotCreation.Facts facts = new SnapshotCreation.Facts() {
        DomainFacts domain(String name) {
            new DomainFacts(name, 'shutoff', true, [
                    new DiskFacts('vda', 'disk', 'file', (DIR + '/vda.qcow2'), 'qcow2', 'virtio'),
                    new DiskFacts('vdb', 'disk', 'file', (DIR + '/vdb.qcow2'), 'qcow2', 'virtio'),
                    new DiskFacts('sda', 'cdrom', 'file', (DIR + '/cd.iso'), 'raw', 'sata')])
        }

        SnapshotTree tree(String domain) { new SnapshotTree(domain, null, []) }

        GuestAgentFacts agent(String domain) { new GuestAgentFacts(domain, false, null) }

        ImageFacts image(String path) {
            path in [DIR + '/vda.qcow2', DIR + '/vdb.qcow2'] ? new ImageFacts(path, 'qcow2', 1L << 20, []) : null
        }

        DiskStates states() { throw new IllegalStateException('no overlay is reused here') }

        LibvirtRelease release() { SnapshotDeletePlanSpec.LIBVIRT_11 }
    }

    SnapshotCreation.Request request(Map given) {
        def step = new SnapshotCreate()
        step.request(params(step, [domain: 'd', name: 's1'] + given))
    }

    Map<String, List> resolved(Map given) {
        SnapshotCreation.resolve(request(given), facts).collectEntries { [it.disk(), [it.snapshot(), it.overlay()]] }
    }

    def "by default a disk-only snapshot covers every disk and leaves the cdrom out"() {
        expect:
        resolved([disk_only: true]) == [vda: ['external', (DIR + '/vda.s1')], vdb: ['external', (DIR + '/vdb.s1')],
                                        sda: ['no', null]]
    }

    def "disk: all with an empty file is the same as no diskspec"() {
        expect:
        resolved([disk_only: true, diskspec: [[disk: 'all', file: '']], only_listed: true]) ==
                resolved([disk_only: true])
    }

    def "only_listed with one named disk snapshots that disk alone, at the file given or next to its image"() {
        expect:
        resolved([disk_only: true, diskspec: [[disk: 'vdb', file: file]], only_listed: true]) ==
                [vda: ['no', null], vdb: ['external', overlay], sda: ['no', null]]

        where:
        file                  | overlay
        ''                    | (DIR + '/vdb.s1')
        (DIR + '/elsewhere.qcow2') | (DIR + '/elsewhere.qcow2')
    }

    def "without only_listed the disks not named still get the default, as before"() {
        expect:
        resolved([disk_only: true, diskspec: [[disk: 'vdb', file: (DIR + '/o.qcow2')]]]) ==
                [vda: ['external', (DIR + '/vda.s1')], vdb: ['external', (DIR + '/o.qcow2')], sda: ['no', null]]
    }

    def "disk: all with one file for several disks is refused, naming the file"() {
        when:
        resolved([disk_only: true, diskspec: [[disk: 'all', file: (DIR + '/one.qcow2')]]])

        then:
        def e = thrown(StepFailure)
        e.message.contains((DIR + '/one.qcow2')) && e.message.contains('several disks')
    }

    def "an empty description counts as none, so libvirt records none"() {
        expect:
        request([description: '']).description() == null
        !SnapshotCreation.xml(request([description: '']), SnapshotCreation.resolve(request([:]), facts))
                .contains('description')
        request([description: 'before upgrade']).description() == 'before upgrade'
    }

    def "quiesce is refused in the plan without a guest agent channel, or with one no agent is connected to (#agent)"() {
        given: 'a running domain with one qcow2 disk'
        GuestAgentFacts configured = agent
        def running = new SnapshotCreation.Facts() {
            DomainFacts domain(String name) {
                new DomainFacts(name, 'running', true,
                        [new DiskFacts('vda', 'disk', 'file', (DIR + '/vda.qcow2'), 'qcow2', 'virtio')])
            }

            SnapshotTree tree(String domain) { new SnapshotTree(domain, null, []) }

            GuestAgentFacts agent(String domain) { configured }

            ImageFacts image(String path) {
                path == DIR + '/vda.qcow2' ? new ImageFacts(path, 'qcow2', 1L << 20, []) : null
            }

            DiskStates states() { throw new IllegalStateException('no overlay is reused here') }

            LibvirtRelease release() { SnapshotDeletePlanSpec.LIBVIRT_11 }
        }

        when:
        String refusal = null
        try {
            SnapshotCreation.resolve(request([disk_only: true, quiesce: true]), running)
        } catch (StepFailure e) {
            refusal = e.message + ' / ' + e.hint()
        }

        then:
        expected == null ? refusal == null : refusal.contains(expected)

        where:
        agent                                           || expected
        null                                            || 'has no guest agent channel configured'
        new GuestAgentFacts('d', false, null)           || 'has no guest agent channel configured'
        new GuestAgentFacts('d', true, 'disconnected')  || "no agent is connected to the guest agent channel of domain d (the live XML shows its target state='disconnected')"
        new GuestAgentFacts('d', true, 'connected')     || null
        new GuestAgentFacts('d', true, null)            || null
    }

    def "an internal snapshot of a running domain named '#name' is #outcome on libvirt #version (QEMU job ids), and any name is taken while it is shut off"() {
        given: 'a running domain with one qcow2 disk'
        LibvirtRelease r = release
        def running = new SnapshotCreation.Facts() {
            DomainFacts domain(String n) {
                new DomainFacts(n, 'running', true, [new DiskFacts('vda', 'disk', 'file', (DIR + '/vda.qcow2'), 'qcow2', 'virtio')])
            }

            SnapshotTree tree(String domain) { new SnapshotTree(domain, null, []) }

            GuestAgentFacts agent(String domain) { null }

            ImageFacts image(String path) { new ImageFacts(path, 'qcow2', 1L << 20, []) }

            DiskStates states() { throw new IllegalStateException('no overlay is reused here') }

            LibvirtRelease release() { r }
        }

        when:
        String refusal = null
        try {
            SnapshotCreation.resolve(request([name: name]), running)
        } catch (StepFailure e) {
            refusal = e.message + ' / ' + e.hint()
        }

        then:
        outcome == 'taken' ? refusal == null : refusal.contains("libvirt runs it as the QEMU job internal-snapshot-save-${name}")

        and: 'shut off, every name is taken'
        SnapshotCreation.resolve(request([name: name]), facts).count { it.snapshot() == 'internal' } == 2

        where:
        name           | version | release                            || outcome
        'before-2.1_a' | '11.3'  | SnapshotDeletePlanSpec.LIBVIRT_11  || 'taken'
        'før intern 1' | '11.3'  | SnapshotDeletePlanSpec.LIBVIRT_11  || 'refused'
        'with space'   | '11.3'  | SnapshotDeletePlanSpec.LIBVIRT_11  || 'refused'
        'før intern 1' | '9.0'   | SnapshotDeletePlanSpec.LIBVIRT_9   || 'taken'
    }
}
