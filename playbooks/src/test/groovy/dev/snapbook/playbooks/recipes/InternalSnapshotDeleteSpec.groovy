package dev.snapbook.playbooks.recipes

import dev.snapbook.steps.libvirt.Libvirt
import dev.snapbook.steps.libvirt.PowerState

/** recipe:internal-snapshot-delete on a lab VM: A, s1, B, s2, C. */
class InternalSnapshotDeleteSpec extends RecipeVmSpec {

    static final String RECIPE = 'recipe:internal-snapshot-delete'

    def setup() {
        vm.start()
        write(A)
        assert harness.run('recipe:internal-snapshot-create', [domain: vm.name(), name: 's1']).exitCode == 0
        write(B)
        assert harness.run('recipe:internal-snapshot-create', [domain: vm.name(), name: 's2']).exitCode == 0
        write(C)
    }

    def "the plan changes nothing and shows the delete as irreversible"() {
        given:
        def before = world()

        when:
        def plan = harness.plan(RECIPE, [domain: vm.name(), snapshot: 's1'])

        then:
        plan.feasible()
        plan.irreversibleSteps()*.type == ['snapshot.delete']
        world() == before
    }

    def "deleting s1 keeps the current data and s2, which still reverts to exactly its data"() {
        when:
        def outcome = harness.run(RECIPE, [domain: vm.name(), snapshot: 's1'])

        then:
        outcome.exitCode == 0
        drift(outcome).isEmpty()
        snapshots() == ['s2']
        vm.state() == PowerState.RUNNING
        visible(vm.disk()) == [A, B, C] as Set

        when:
        vm.libvirt().snapshotRevert(vm.name(), 's2', EnumSet.noneOf(Libvirt.SnapshotRevertOption))

        then:
        visible(vm.disk()) == [A, B] as Set
    }

    def "children=true (a string, as -e gives it) deletes s1 and s2, and the current data stays"() {
        when:
        def outcome = harness.run(RECIPE, [domain: vm.name(), snapshot: 's1', children: 'true'])

        then:
        outcome.exitCode == 0
        drift(outcome).isEmpty()
        snapshots() == []
        vm.state() == PowerState.RUNNING
        visible(vm.disk()) == [A, B, C] as Set
    }

    def "a failure before the delete changes nothing: exit 1, both snapshots and every byte kept"() {
        given:
        def failing = failingBefore('internal-snapshot-delete', 'Delete it from the images')
        def before = world()

        when:
        def outcome = failing.run(RECIPE, [domain: vm.name(), snapshot: 's1'])

        then:
        outcome.exitCode == 1
        world() == before
        visible(vm.disk()) == [A, B, C] as Set
    }
}
