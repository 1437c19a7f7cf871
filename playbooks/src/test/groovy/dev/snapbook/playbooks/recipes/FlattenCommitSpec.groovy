package dev.snapbook.playbooks.recipes

import dev.snapbook.steps.exec.Command
import dev.snapbook.steps.lab.LabVm
import dev.snapbook.steps.libvirt.PowerState
import dev.snapbook.steps.libvirt.XmlView
import spock.lang.Requires

import java.nio.file.Files
import java.time.Duration

/**
 * recipe:flatten-commit on a real lab VM: A, s1, B, s2, C written and taken; the recipe commits vda.s2 and vda.s1
 * into vda.qcow2 and pivots. Proven: the base holds A, B and C and is the active image (a later write D lands in
 * it), it passes qemu-img check, no snapshot is left, the overlays are gone; plan changes nothing; the world
 * after the run is the one predicted; a failure before the merge restores the snapshots, exit 1.
 */
@Requires(value = { LabVm.available() }, reason = 'needs libvirt: `virsh -c qemu:///system version` must succeed')
class FlattenCommitSpec extends ExternalRecipeSupport {

    static final String RECIPE = 'recipe:flatten-commit'

    def setup() {
        vm.start()
        write(A)
        snapshot('s1')
        write(B)
        snapshot('s2')
        write(C)
    }

    def "plan shows the merge and the deletions as irreversible, and changes nothing"() {
        given:
        def before = world()

        when:
        def plan = harness.plan(RECIPE, [domain: vm.name()])

        then:
        plan.feasible()
        plan.irreversibleSteps()*.type() == ['block.commit', 'image.delete']
        plan.steps().find { it.type() == 'block.commit' }.actions()[0].contains("base=${file('vda.qcow2')}, top=${file('vda.s2')}")
        plan.steps().find { it.type() == 'image.delete' }.actions().size() == 2
        world() == before
    }

    def "the whole chain lands in the base, which is active and healthy; no snapshot or overlay is left"() {
        when:
        def out = harness.run(RECIPE, [domain: vm.name()])

        then:
        out.exitCode == 0
        ownDrift(out).isEmpty()
        vm.state() == PowerState.RUNNING
        activeFile() == file('vda.qcow2').toString()
        visible(file('vda.qcow2')) == [A, B, C] as Set
        Command.of('qemu-img', 'check', '-U', file('vda.qcow2').toString()).run(Duration.ofSeconds(60), { }).succeeded()
        snapshots() == []
        !Files.exists(file('vda.s1'))
        !Files.exists(file('vda.s2'))

        when: 'the guest writes D: it lands in the base'
        write(D)

        then:
        visible(file('vda.qcow2')) == [A, B, C, D] as Set
    }

    def "a failure just before the merge restores every snapshot's metadata: same disk, same data, exit 1"() {
        given:
        injectFailure('flatten-commit', 'Commit the chain into the lowest layer of its own and pivot to it')
        def xmls = snapshots().collectEntries { [it, vm.libvirt().snapshotXmlDesc(vm.name(), it)] }
        def hashesBefore = hashes()

        when:
        def out = harness.run(RECIPE, [domain: vm.name()])

        then:
        out.exitCode == 1
        vm.state() == PowerState.RUNNING
        activeFile() == file('vda.s2').toString()
        snapshots() == ['s1', 's2']
        snapshots().collectEntries { [it, vm.libvirt().snapshotXmlDesc(vm.name(), it)] } == xmls
        vm.libvirt().snapshotCurrent(vm.name()) == 's2'
        hashes().keySet() == hashesBefore.keySet()
        visible(file('vda.s2')) == [A, B, C] as Set
        visible(file('vda.qcow2')) == [A] as Set
    }

    def "a shut-off VM is refused by the plan with a hint to start it: nothing changes, exit 1"() {
        given:
        vm.destroy()
        def before = world()

        when:
        def out = harness.run(RECIPE, [domain: vm.name()])

        then:
        out.exitCode == 1
        out.plan.failure().contains('start the VM')
        world() == before
    }
}
