package dev.snapbook.playbooks.recipes

import dev.snapbook.steps.libvirt.Libvirt
import dev.snapbook.steps.libvirt.PowerState

/** recipe:internal-snapshot-revert on a lab VM: A, s1, B written; revert to s1. */
class InternalSnapshotRevertSpec extends RecipeVmSpec {

    static final String RECIPE = 'recipe:internal-snapshot-revert'
    static final String SAFETY = 'snapbook-before-revert-s1'

    def setup() {
        vm.start()
        write(A)
        assert harness.run('recipe:internal-snapshot-create', [domain: vm.name(), name: 's1']).exitCode == 0
        write(B)
        assert visible(vm.disk()) == [A, B] as Set
    }

    def "the plan changes nothing"() {
        given:
        def before = world()

        when:
        def plan = harness.plan(RECIPE, [domain: vm.name(), snapshot: 's1'])

        then:
        plan.feasible()
        plan.irreversibleSteps().isEmpty()
        world() == before
    }

    def "the VM shows exactly the data of s1, and the state before is kept in the safety snapshot"() {
        when:
        def outcome = harness.run(RECIPE, [domain: vm.name(), snapshot: 's1'])

        then: 'A only, running as s1 was taken, as planned'
        outcome.exitCode == 0
        drift(outcome).isEmpty()
        visible(vm.disk()) == [A] as Set
        vm.state() == PowerState.RUNNING
        vm.libvirt().snapshotCurrent(vm.name()) == 's1'
        snapshots() == ['s1', SAFETY].sort()

        when: 'reverting to the safety snapshot with libvirt itself'
        vm.libvirt().snapshotRevert(vm.name(), SAFETY, EnumSet.noneOf(Libvirt.SnapshotRevertOption))

        then: 'B, written after s1, was not lost'
        visible(vm.disk()) == [A, B] as Set
    }

    def "a failure after the revert puts the VM back on the data it had, with no safety snapshot left"() {
        given:
        def failing = failingBefore('internal-snapshot-revert', 'The snapshot is current and the safety snapshot exists')

        when:
        def outcome = failing.run(RECIPE, [domain: vm.name(), snapshot: 's1'])

        then:
        outcome.exitCode == 1
        visible(vm.disk()) == [A, B] as Set
        vm.state() == PowerState.RUNNING
        activeFile() == vm.disk()
        snapshots() == ['s1']
        vm.libvirt().snapshotCurrent(vm.name()) == 's1'
    }

    def "a missing snapshot is refused in the plan: exit 1, nothing changes"() {
        given:
        def before = world()

        when:
        def outcome = harness.run(RECIPE, [domain: vm.name(), snapshot: 'nope'])

        then:
        outcome.exitCode == 1
        world() == before
    }
}
