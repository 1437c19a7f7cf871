package dev.snapbook.steps.libvirt

import dev.snapbook.steps.lab.LabMachine
import dev.snapbook.steps.lab.LabVm
import spock.lang.Requires
import spock.lang.Specification

import java.util.concurrent.atomic.AtomicBoolean

/**
 * The listing of a connection's domains never leaves one out while other domains come and go: the disk-state model
 * is built from it, and a domain missing from it would have its files taken as used by nobody. (libvirt-java's
 * listing counts the defined domains, then lists that many; a domain defined in between pushed another out.)
 */
@Requires(value = { LabVm.available() || System.getenv('CI') },
        reason = 'needs libvirt: `virsh -c qemu:///system version` must succeed (run scripts/setup)')
class DomainListingSpec extends Specification {

    LabVm vm
    AtomicBoolean stop = new AtomicBoolean()
    Thread churn

    def setup() {
        vm = LabVm.create()
    }

    def cleanup() {
        stop.set(true)
        churn?.join(30_000)
        vm.libvirt().domainNames().findAll { it.startsWith(vm.name() + '-churn-') }.each {
            vm.libvirt().undefine(it, EnumSet.noneOf(Libvirt.UndefineOption))
        }
        vm?.close()
    }

    def "every listing holds the lab VM while other domains are defined and undefined all the time"() {
        given: 'a thread that defines and undefines domains of its own (never started) as fast as it can'
        churn = Thread.start {
            Libvirt own = Libvirt.open(LabVm.URI, { })
            try {
                for (int i = 0; !stop.get(); i++) {
                    String name = vm.name() + "-churn-${i % 4}"
                    if (own.exists(name)) {
                        own.undefine(name, EnumSet.noneOf(Libvirt.UndefineOption))
                    } else {
                        own.defineXml(LabMachine.domainXml(name, vm.disk(), 'qcow2', 'churn, deleted by the test'))
                    }
                }
            } finally {
                own.close()
            }
        }

        when:
        int missing = 0
        int listings = 0
        long until = System.currentTimeMillis() + 4000
        while (System.currentTimeMillis() < until) {
            if (!vm.libvirt().domainNames().contains(vm.name())) {
                missing++
            }
            listings++
        }
        stop.set(true)
        churn.join()

        then:
        listings > 50
        missing == 0
    }
}
