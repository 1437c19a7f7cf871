package dev.snapbook.steps

import com.fasterxml.jackson.databind.ObjectMapper
import dev.snapbook.engine.spi.FactSource
import dev.snapbook.engine.spi.Step
import dev.snapbook.engine.spi.World
import dev.snapbook.steps.block.BlockJobFacts
import dev.snapbook.steps.domain.DiskFacts
import dev.snapbook.steps.domain.DomainFacts
import dev.snapbook.steps.domain.DomainListFacts
import dev.snapbook.steps.domain.DomainShutdown
import dev.snapbook.steps.image.ImageFacts
import dev.snapbook.steps.lab.TestStepContext
import dev.snapbook.steps.snapshot.GuestAgentFacts
import dev.snapbook.steps.snapshot.SnapshotDisk
import dev.snapbook.steps.snapshot.SnapshotFacts
import dev.snapbook.steps.snapshot.SnapshotTree
import spock.lang.Specification

class StepCatalogueSpec extends Specification {

    def "ServiceLoader finds every step and fact source of the catalogue"() {
        expect:
        def names = ServiceLoader.load(Step).collect { it.name() }
        names.containsAll(['assert', 'domain.shutdown', 'domain.start', 'domain.state', 'image.info', 'snapshot.create',
                 'snapshot.create_xml', 'snapshot.current', 'snapshot.delete', 'snapshot.dumpxml', 'snapshot.info',
                 'snapshot.list', 'snapshot.parent', 'snapshot.revert', 'snapshot.source', 'block.commit', 'block.job',
                 'block.pull', 'domain.agent', 'domain.define', 'domain.destroy', 'domain.disks', 'domain.dumpxml',
                 'exec', 'pause', 'chain.verify', 'disk.swap', 'image.check', 'image.compare', 'image.convert',
                 'image.create', 'image.delete', 'image.format'])
        names.unique(false) == names
        ServiceLoader.load(FactSource).collectEntries { [it.kind(), it.type()] }
                .subMap(['domain', 'image', 'snapshots', 'guest-agent', 'domains', 'block-job']) ==
                [domain: DomainFacts, image: ImageFacts, snapshots: SnapshotTree, 'guest-agent': GuestAgentFacts,
                 domains: DomainListFacts, 'block-job': BlockJobFacts]
    }

    def "facts survive a JSON round trip unchanged, #fact.class.simpleName"() {
        given:
        def json = new ObjectMapper()

        expect:
        json.readValue(json.writeValueAsString(fact), fact.getClass()) == fact

        where:
        fact << [
                new DomainFacts('web01', 'running', true,
                        [new DiskFacts('vda', 'disk', 'file', '/images/web01.qcow2', 'qcow2', 'virtio'),
                         new DiskFacts('sda', 'cdrom', 'file', null, null, 'sata')]),
                new DomainListFacts(['a', 'b']),
                new ImageFacts('/images/top.qcow2', 'qcow2', 1L << 30,
                        [new ImageFacts.Layer('/images/base.raw', 'raw')]),
                new SnapshotTree('web01', 's1', [new SnapshotFacts('s1', null, 'first', 'disk-snapshot', 'external',
                        false, [new SnapshotDisk('vda', 'external', '/images/vda.s1', 'qcow2')],
                        [vda: '/images/vda.qcow2'])]),
                new GuestAgentFacts('web01', true, 'disconnected'),
                new BlockJobFacts('web01', 'vda', 'active_commit', true),
        ]
    }

    def "domain.shutdown describes its plan exactly, without touching libvirt"() {
        given: 'a world where web01 is predicted running (the observer must not be asked)'
        def world = new World({ key -> throw new AssertionError("observed $key") })
        world.put(DomainFacts.key('web01'), new DomainFacts('web01', 'running', true, []))
        def step = new DomainShutdown()

        when:
        def planned = step.plan(TestStepContext.params(step, [domain: 'web01', force: true]), world)

        then:
        planned.actions().join('; ') ==
                'virDomainShutdown(web01); wait ≤60s for shutoff; then virDomainDestroy(web01) if still running'
        world.get(DomainFacts.key('web01')).state() == 'shutoff'
    }

    def "a transient domain is predicted gone after domain.shutdown"() {
        given:
        def world = new World({ key -> throw new AssertionError("observed $key") })
        world.put(DomainFacts.key('t1'), new DomainFacts('t1', 'running', false, []))
        def step = new DomainShutdown()

        when:
        step.plan(TestStepContext.params(step, [domain: 't1', timeout: 5]), world)

        then:
        world.get(DomainFacts.key('t1')) == null
    }
}
