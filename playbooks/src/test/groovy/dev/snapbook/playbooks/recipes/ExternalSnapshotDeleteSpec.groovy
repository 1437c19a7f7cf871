package dev.snapbook.playbooks.recipes

import dev.snapbook.steps.lab.LabVm
import dev.snapbook.steps.libvirt.PowerState
import dev.snapbook.steps.libvirt.XmlView
import spock.lang.Requires

import java.nio.file.Files

/**
 * recipe:external-snapshot-delete on a real lab VM with A, s1, B, s2, C, s3, D (chain vda.qcow2 ← vda.s1 ← vda.s2
 * ← vda.s3, active). Deleting a snapshot merges its overlay into its state file; the proof is that the VM keeps
 * A..D and that every REMAINING snapshot still reverts (with recipe:external-snapshot-revert) to exactly the
 * data written before it. Layouts that cannot be made correct are refused by the plan.
 */
@Requires(value = { LabVm.available() }, reason = 'needs libvirt: `virsh -c qemu:///system version` must succeed')
class ExternalSnapshotDeleteSpec extends ExternalRecipeSupport {

    static final String RECIPE = 'recipe:external-snapshot-delete'
    static final String REVERT = 'recipe:external-snapshot-revert'

    /** What each snapshot must show when reverted to. */
    static final Map<String, Set<Integer>> AT_SNAPSHOT = [s1: [A] as Set, s2: [A, B] as Set, s3: [A, B, C] as Set]

    def setup() {
        vm.start()
        write(A)
        snapshot('s1')
        write(B)
        snapshot('s2')
        write(C)
        snapshot('s3')
        write(D)
    }

    /** Reverts to each of {@code names} in turn with the revert recipe and returns what each shows. */
    Map<String, Set<Integer>> revertEach(List<String> names) {
        names.collectEntries { name ->
            def out = harness.run(REVERT, vars(snapshot: name))
            assert out.exitCode == 0: out.result.message()
            [name, visible(activeFile())]
        }
    }

    def "plan shows the merge as irreversible and changes nothing"() {
        given:
        def before = world()

        when:
        def plan = harness.plan(RECIPE, [domain: vm.name(), snapshot: 's2'])

        then:
        plan.feasible()
        plan.irreversibleSteps()*.type() == ['block.commit', 'image.delete']
        plan.steps().find { it.type() == 'block.commit' }.actions()[0].contains("base=${file('vda.s1')}, top=${file('vda.s2')}")
        world() == before
    }

    def "deleting #snapshot merges #overlay into #state; the VM keeps A..D and every other snapshot still reverts to its data"() {
        when:
        def out = harness.run(RECIPE, [domain: vm.name(), snapshot: snapshot])

        then: 'the layer is gone, the VM runs with all its data'
        out.exitCode == 0
        ownDrift(out).isEmpty()
        vm.state() == PowerState.RUNNING
        activeFile() == file(active).toString()
        visible(activeFile()) == [A, B, C, D] as Set
        !Files.exists(file(overlay))
        snapshots() == AT_SNAPSHOT.keySet().findAll { it != snapshot }.sort()

        and: 'the state file now holds what the overlay held'
        visible(file(state)) == stateAfter as Set

        and: 'every remaining snapshot reverts to exactly its data'
        revertEach(snapshots()) == AT_SNAPSHOT.findAll { k, v -> k != snapshot }

        where:
        snapshot | overlay   | state       | active      | stateAfter
        's3'     | 'vda.s3'  | 'vda.s2'    | 'vda.s2'    | [A, B, C, D]
        's2'     | 'vda.s2'  | 'vda.s1'    | 'vda.s3'    | [A, B, C]
        's1'     | 'vda.s1'  | 'vda.qcow2' | 'vda.s3'    | [A, B]
    }

    def "after a revert, deleting s2 keeps s3 revertable, and keeps vda.s2 because s3's old overlay still builds on it"() {
        given: 'revert to s3 (new overlay R on vda.s2), write E, take s4 on R'
        assert harness.run(REVERT, vars(snapshot: 's3')).exitCode == 0
        def r = activeFile()
        write(E)
        snapshot('s4')

        when:
        def out = harness.run(RECIPE, [domain: vm.name(), snapshot: 's2'])

        then:
        out.exitCode == 0
        ownDrift(out).isEmpty()
        Files.exists(file('vda.s2'))
        out.result.run().steps().any { it.message().contains('kept ' + file('vda.s2')) }
        visible(activeFile()) == [A, B, C, E] as Set
        visible(file('vda.s3')) == [A, B, C, D] as Set
        revertEach(['s1', 's3', 's4']) == [s1: [A] as Set, s3: [A, B, C] as Set, s4: [A, B, C, E] as Set]
    }

    def "a snapshot whose overlay left the current chain (reverted since) is refused by the plan: nothing changes, exit 1"() {
        given: 'revert to s1: the disk runs on a new overlay over vda.qcow2; s3\'s overlay is no longer in the chain'
        assert harness.run(REVERT, vars(snapshot: 's1')).exitCode == 0
        def before = world()

        when:
        def out = harness.run(RECIPE, [domain: vm.name(), snapshot: 's3'])

        then:
        out.exitCode == 1
        out.plan.failure().contains("its overlay ${file('vda.s3')} is not in the current chain of disk vda")
        world() == before
    }

    def "a child snapshot whose state is not the overlay (taken after a revert) is refused: its data would be lost"() {
        given: 'revert to s1 and take s4: s4 is a child of s1 whose state is the revert overlay, not vda.s1'
        assert harness.run(REVERT, vars(snapshot: 's1')).exitCode == 0
        write(E)
        snapshot('s4')
        def before = world()

        when: 'deleting s2 (whose overlay is off the chain) or s1 is refused'
        def out = harness.run(RECIPE, [domain: vm.name(), snapshot: 's1'])

        then:
        out.exitCode == 1
        out.plan.failure().contains('refusing to delete snapshot s1')
        world() == before
    }

    def "a failure after the metadata was deleted, before the merge, restores the snapshots: exit 1"() {
        given:
        injectFailure('external-snapshot-delete', 'Merge the snapshot\'s overlay into its state file')
        def xmls = snapshots().collectEntries { [it, vm.libvirt().snapshotXmlDesc(vm.name(), it)] }
        def inactive = vm.xml(XmlView.INACTIVE)

        when:
        def out = harness.run(RECIPE, [domain: vm.name(), snapshot: 's2'])

        then:
        out.exitCode == 1
        vm.state() == PowerState.RUNNING
        activeFile() == file('vda.s3').toString()
        vm.xml(XmlView.INACTIVE) == inactive
        snapshots().collectEntries { [it, vm.libvirt().snapshotXmlDesc(vm.name(), it)] } == xmls
        visible(file('vda.s1')) == [A, B] as Set
        visible(file('vda.s2')) == [A, B, C] as Set
        revertEach(['s1', 's2', 's3']) == AT_SNAPSHOT
    }
}
