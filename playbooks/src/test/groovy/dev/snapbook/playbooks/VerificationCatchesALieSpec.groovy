package dev.snapbook.playbooks

import dev.snapbook.engine.cli.Main
import dev.snapbook.steps.lab.LabMachine
import dev.snapbook.steps.lab.LabVm
import dev.snapbook.steps.libvirt.PowerState
import dev.snapbook.steps.libvirt.XmlView
import spock.lang.Requires
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * Verification checks the real system, not what apply said: a disk swap whose effect is changed behind
 * its back between apply and verify makes the run fail and roll back to the original disk.
 */
@Requires(value = { LabVm.available() || System.getenv('CI') },
        reason = 'needs libvirt: `virsh -c qemu:///system version` must succeed (run scripts/setup)')
class VerificationCatchesALieSpec extends Specification {

    @TempDir
    Path dir

    LabVm vm

    def setup() {
        vm = LabVm.create()
        System.setProperty('snapbook.state', dir.resolve('state').toString())
    }

    def cleanup() {
        System.clearProperty('snapbook.state')
        vm?.close()
    }

    def "a swap that apply reports done but the domain does not show is caught, failed and rolled back"() {
        given: 'data in the original disk, a new file to swap to and a decoy'
        vm.start()
        vm.writePattern(0x41, '1M', '1M')
        vm.destroy()
        Path newFile = vm.dir().resolve('new.qcow2')
        Path decoy = vm.dir().resolve('decoy.qcow2')
        vm.qemuImg().create(newFile, 'qcow2', 64L << 20)
        vm.qemuImg().create(decoy, 'qcow2', 64L << 20)
        String xmlBefore = vm.xml(XmlView.INACTIVE)
        Path pb = dir.resolve('pb.yml')
        Files.writeString(pb, """\
            name: Swap the disk, but something changes it behind snapbook's back
            steps:
              - test.lying_swap: { domain: ${vm.name()}, disk: vda, file: "${newFile}", format: qcow2, decoy: "${decoy}" }
              - domain.start: { domain: ${vm.name()} }
            """.stripIndent())

        when:
        int exit = Main.execute('run', '--yes', pb.toString())

        then: 'the run failed and undid the swap'
        exit == 1
        vm.xml(XmlView.INACTIVE) == xmlBefore
        vm.state() == PowerState.SHUTOFF

        and: 'the VM starts on its original disk with its data'
        vm.start()
        LabMachine.activeFile(vm.libvirt(), vm.name(), 'vda') == vm.disk()
        LabVm.hasPattern(vm.disk(), 0x41, '1M', '1M')
    }
}
