package dev.snapbook.playbooks.safety

import dev.snapbook.playbooks.recipes.ExternalRecipeSupport
import dev.snapbook.steps.lab.LabVm
import spock.lang.Requires

import java.nio.ByteBuffer
import java.nio.channels.FileChannel
import java.nio.file.StandardOpenOption

/**
 * A damaged layer under external snapshots (issue 12): A, s1, B, s2, C, then the VM shut off and the 4-byte qcow2
 * magic of s1's state file vda.qcow2 overwritten. Every recipe that reads that chain is refused by its plan, naming
 * the file, what was recorded and what was found; nothing changes, and no VM boots on the damaged chain.
 */
@Requires(value = { LabVm.available() || System.getenv('CI') },
        reason = 'needs libvirt: `virsh -c qemu:///system version` must succeed (run scripts/setup)')
class DamagedFilesSpec extends ExternalRecipeSupport {

    def setup() {
        vm.start()
        write(A)
        snapshot('s1')
        write(B)
        snapshot('s2')
        write(C)
        vm.destroy()
        FileChannel.open(file('vda.qcow2'), StandardOpenOption.WRITE).withCloseable {
            it.write(ByteBuffer.wrap('XXXX'.bytes), 0)
        }
    }

    def "a revert to #snapshot on a state file whose qcow2 header is gone is refused by the plan; nothing changes"() {
        given:
        def before = world()

        when:
        def out = harness.run('recipe:external-snapshot-revert', vars(snapshot: snapshot))

        then:
        out.exitCode == 1
        out.plan.failure().contains(file('vda.qcow2').toString())
        out.plan.failure().contains(says.replace('DIR', vm.dir().toString()))
        world() == before

        where:
        snapshot | says
        's1'     | 'is damaged: DIR/vda.s1 records it as qcow2, but its contents read as raw'
        's2'     | 'DIR/vda.s1'
    }

    def "flatten-commit on the damaged chain is refused by the plan; the VM is not started"() {
        given:
        def before = world()

        when:
        def out = harness.run('recipe:flatten-commit', [domain: vm.name()])

        then:
        out.exitCode == 1
        world() == before
    }
}
