package dev.snapbook.steps.libvirt

import dev.snapbook.engine.spi.StepFailure
import dev.snapbook.steps.lab.LabVm
import dev.snapbook.steps.lab.Libvirtd
import spock.lang.Requires
import spock.lang.Specification

/**
 * libvirtd restarted under an open session: a call that may change something is not repeated (the domain
 * proves it was not done) and says its outcome is unknown; the session has reconnected meanwhile, so reads
 * answer again. (One restart per feature: the lab VM's own session survives one loss, like any session.)
 */
@Requires(value = { LabVm.available() }, reason = 'needs libvirt: `virsh -c qemu:///system version` must succeed')
class LibvirtReconnectSpec extends Specification {

    LabVm vm
    Libvirt session

    def setup() {
        vm = LabVm.create()
        vm.start()
        session = Libvirt.open(LabVm.URI, { })
        assert session.state(vm.name()) == PowerState.RUNNING
    }

    def cleanup() {
        Libvirtd.ensureRunning()
        try {
            session?.close()
        } catch (StepFailure ignored) {
            // the session's connection may be the dead one; nothing to free on the server
        }
        vm?.close()
    }

    def "after a libvirtd restart a change is not repeated (outcome unknown), then reads answer on the new connection"() {
        when:
        Libvirtd.restart()
        session.suspend(vm.name())

        then: 'the suspend failed on the lost connection and was not asked again'
        def e = thrown(StepFailure.OutcomeUnknown)
        e.message.contains('was lost during virDomainSuspend')
        e.hint().contains('snapbook recover')

        and: 'the session reconnected: reads work, and show the domain still running'
        session.state(vm.name()) == PowerState.RUNNING
        vm.state() == PowerState.RUNNING
    }

    def "a failed system call in libvirtd (a missing directory) is a plain failure naming the file: no reconnect, no outcome unknown"() {
        given:
        List<String> trace = []
        def traced = Libvirt.open(LabVm.URI, { trace << it })
        def overlay = vm.dir().resolve('no-such-dir').resolve('o.qcow2')
        def xml = "<domainsnapshot><name>s1</name><disks><disk name='vda' snapshot='external'>" +
                "<source file='${overlay}'/></disk></disks></domainsnapshot>"

        when:
        traced.snapshotCreateXml(vm.name(), xml, EnumSet.of(Libvirt.SnapshotCreateOption.DISK_ONLY,
                Libvirt.SnapshotCreateOption.ATOMIC))

        then:
        def e = thrown(StepFailure)
        !(e instanceof StepFailure.OutcomeUnknown)
        e.message.contains(overlay.toString())
        e.message.contains('No such file or directory')
        e.hint().contains("'${overlay}' or its directory does not exist")
        trace.every { !it.contains('again') }

        and: 'nothing changed, and the same connection still answers'
        traced.snapshotNames(vm.name()) == []
        vm.state() == PowerState.RUNNING

        cleanup:
        traced?.close()
    }

    def "after a libvirtd restart a read reconnects once and answers"() {
        when:
        Libvirtd.restart()

        then:
        session.state(vm.name()) == PowerState.RUNNING
        session.snapshotNames(vm.name()) == []
        session.xmlDesc(vm.name(), XmlView.LIVE).contains(vm.name())
        vm.state() == PowerState.RUNNING
    }
}
