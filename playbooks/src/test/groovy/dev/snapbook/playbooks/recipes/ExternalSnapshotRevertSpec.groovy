package dev.snapbook.playbooks.recipes

import dev.snapbook.steps.lab.LabVm
import dev.snapbook.steps.libvirt.PowerState
import dev.snapbook.steps.libvirt.XmlView
import spock.lang.Requires

/**
 * recipe:external-snapshot-revert on a real lab VM: A written, s1, B, s2, C. Reverting to s1 shows A only,
 * to s2 A and B; the overlay that was active (holding C) is kept byte for byte; the other snapshot stays
 * revertable; plan changes nothing; the world after the run is the one the plan predicted; an injected failure
 * puts the VM back on its original disk, running, with exit code 1.
 */
@Requires(value = { LabVm.available() }, reason = 'needs libvirt: `virsh -c qemu:///system version` must succeed')
class ExternalSnapshotRevertSpec extends ExternalRecipeSupport {

    static final String RECIPE = 'recipe:external-snapshot-revert'

    def setup() {
        vm.start()
        write(A)
        snapshot('s1')
        write(B)
        snapshot('s2')
        write(C)
    }

    def "plan shows the revert, and changes nothing: XML, state, snapshots, image bytes"() {
        given:
        def before = world()

        when:
        def plan = harness.plan(RECIPE, vars(snapshot: 's1'))

        then:
        plan.feasible()
        plan.irreversibleSteps().isEmpty()
        plan.steps().find { it.type() == 'snapshot.revert' }.actions().any { it.contains('qemu-img create -f qcow2 -b ' + file('vda.qcow2')) }
        world() == before
    }

    def "reverting to s1 shows A only; the previous overlay with C is kept byte for byte; s2 stays revertable (A+B)"() {
        given:
        def overlayBefore = sha(file('vda.s2'))
        def hashesBefore = hashes()

        when: 'revert to s1 on the running VM'
        def out = harness.run(RECIPE, vars(snapshot: 's1'))

        then: 'the VM runs again, on a new overlay over s1\'s state file, and sees A only'
        out.exitCode == 0
        ownDrift(out).isEmpty()
        vm.state() == PowerState.RUNNING
        activeFile() != file('vda.s2').toString()
        LabVm.hasPattern(file('vda.qcow2'), A, AT[A], '64k')
        visible(activeFile()) == [A] as Set
        vm.libvirt().snapshotCurrent(vm.name()) == 's1'

        and: 'no file that existed changed, the previous overlay still holds C'
        hashes().findAll { k, v -> hashesBefore.containsKey(k) } == hashesBefore
        sha(file('vda.s2')) == overlayBefore
        visible(file('vda.s2')) == [A, B, C] as Set

        and: 'the state just before the revert is a snapshot of its own, whose state file is that overlay'
        snapshots() == ['s1', 's2', 'snapbook-before-revert-s1']
        vm.libvirt().snapshotXmlDesc(vm.name(), 'snapbook-before-revert-s1').contains("<source file='${file('vda.s2')}'")

        when: 'then revert to s2: still A+B'
        def firstOverlay = activeFile()
        def out2 = harness.run(RECIPE, vars(snapshot: 's2'))

        then:
        out2.exitCode == 0
        ownDrift(out2).isEmpty()
        vm.state() == PowerState.RUNNING
        visible(activeFile()) == [A, B] as Set
        activeFile() != firstOverlay
        visible(firstOverlay) == [A] as Set
        vm.libvirt().snapshotCurrent(vm.name()) == 's2'
        snapshots() == ['s1', 's2', 'snapbook-before-revert-s1', 'snapbook-before-revert-s2']

        when: 'revert to each kept state: exactly its data'
        def out3 = harness.run(RECIPE, vars(snapshot: 'snapbook-before-revert-s1'))

        then: 'the state just before the first revert: A, B and C'
        out3.exitCode == 0
        ownDrift(out3).isEmpty()
        visible(activeFile()) == [A, B, C] as Set

        when:
        def out4 = harness.run(RECIPE, vars(snapshot: 'snapbook-before-revert-s2'))

        then: 'the state just before the second revert: A only'
        out4.exitCode == 0
        visible(activeFile()) == [A] as Set

        when: 'and back to s1 and s2 once more'
        def out5 = harness.run(RECIPE, vars(snapshot: 's1'))
        def onS1 = visible(activeFile())
        def out6 = harness.run(RECIPE, vars(snapshot: 's2'))

        then: 'each revert keeps the state before it under a name of its own'
        out5.exitCode == 0
        onS1 == [A] as Set
        out6.exitCode == 0
        visible(activeFile()) == [A, B] as Set
        snapshots().containsAll(['snapbook-before-revert-s1-2', 'snapbook-before-revert-s2-2'])
    }

    def "reverting a shut-off VM leaves it shut off"() {
        given:
        vm.destroy()

        when:
        def out = harness.run(RECIPE, vars(snapshot: 's2'))

        then:
        out.exitCode == 0
        ownDrift(out).isEmpty()
        vm.state() == PowerState.SHUTOFF
        visible(activeFile()) == [A, B] as Set
    }

    def "a failure after the VM was started again undoes everything: original disk, running, exit 1"() {
        given:
        injectFailure('external-snapshot-revert', 'Read the disks now')
        def inactive = vm.xml(XmlView.INACTIVE)
        def hashesBefore = hashes()

        when:
        def out = harness.run(RECIPE, vars(snapshot: 's1'))

        then:
        out.exitCode == 1
        vm.state() == PowerState.RUNNING
        activeFile() == file('vda.s2').toString()
        vm.xml(XmlView.INACTIVE) == inactive
        hashes().keySet() == hashesBefore.keySet()
        visible(activeFile()) == [A, B, C] as Set
        vm.libvirt().snapshotCurrent(vm.name()) == 's2'
        snapshots() == ['s1', 's2']
    }

    def "a missing state file fails the plan: nothing is done, exit 1"() {
        given: 's1\'s state file is renamed away'
        def moved = file('vda.qcow2.moved')
        vm.destroy()
        java.nio.file.Files.move(file('vda.qcow2'), moved)
        def before = world()

        when:
        def out = harness.run(RECIPE, vars(snapshot: 's1'))

        then:
        out.exitCode == 1
        world() == before

        cleanup:
        java.nio.file.Files.move(moved, file('vda.qcow2'))
    }
}
