package dev.snapbook.playbooks.recipes

import dev.snapbook.steps.exec.Command
import dev.snapbook.steps.lab.LabVm
import dev.snapbook.steps.libvirt.PowerState
import spock.lang.Requires

import java.nio.file.Files
import java.time.Duration

/**
 * recipe:flatten-pull on a real lab VM: A, s1, B, s2, C; the recipe pulls vda.qcow2 and vda.s1 into the active
 * vda.s2. Proven: vda.s2 stands alone with A, B and C, passes qemu-img check, no snapshot is left, the old
 * layers (old base included) are removed because nothing uses them; plan changes nothing; no drift; a failure
 * before the pull restores the snapshots, exit 1.
 */
@Requires(value = { LabVm.available() }, reason = 'needs libvirt: `virsh -c qemu:///system version` must succeed')
class FlattenPullSpec extends ExternalRecipeSupport {

    static final String RECIPE = 'recipe:flatten-pull'

    def setup() {
        vm.start()
        write(A)
        snapshot('s1')
        write(B)
        snapshot('s2')
        write(C)
    }

    def "plan shows the pull and the deletions as irreversible, and changes nothing"() {
        given:
        def before = world()

        when:
        def plan = harness.plan(RECIPE, [domain: vm.name()])

        then:
        plan.feasible()
        plan.irreversibleSteps()*.type() == ['block.pull', 'image.delete']
        plan.steps().find { it.type() == 'image.delete' }.actions().size() == 2
        world() == before
    }

    def "everything is pulled into the active overlay, which stands alone; the unused old layers are removed"() {
        when:
        def out = harness.run(RECIPE, [domain: vm.name()])

        then:
        out.exitCode == 0
        ownDrift(out).isEmpty()
        vm.state() == PowerState.RUNNING
        activeFile() == file('vda.s2').toString()
        !Files.exists(file('vda.qcow2'))
        !Files.exists(file('vda.s1'))
        visible(file('vda.s2')) == [A, B, C] as Set
        vm.qemuImg().info(file('vda.s2'), false).get(0).path('backing-filename').isMissingNode()
        Command.of('qemu-img', 'check', '-U', file('vda.s2').toString()).run(Duration.ofSeconds(60), { }).succeeded()
        snapshots() == []
    }

    def "a failure just before the pull restores every snapshot's metadata: same chain, same data, exit 1"() {
        given:
        injectFailure('flatten-pull', 'Pull the disk\'s own layers into the active image')
        def xmls = snapshots().collectEntries { [it, vm.libvirt().snapshotXmlDesc(vm.name(), it)] }

        when:
        def out = harness.run(RECIPE, [domain: vm.name()])

        then:
        out.exitCode == 1
        vm.state() == PowerState.RUNNING
        activeFile() == file('vda.s2').toString()
        snapshots().collectEntries { [it, vm.libvirt().snapshotXmlDesc(vm.name(), it)] } == xmls
        visible(file('vda.s2')) == [A, B, C] as Set
        visible(file('vda.s1')) == [A, B] as Set
        visible(file('vda.qcow2')) == [A] as Set
    }
}
