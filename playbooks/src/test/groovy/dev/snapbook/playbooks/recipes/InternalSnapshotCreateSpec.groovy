package dev.snapbook.playbooks.recipes

import dev.snapbook.steps.libvirt.Libvirt
import dev.snapbook.steps.libvirt.PowerState

/** recipe:internal-snapshot-create on a lab VM. */
class InternalSnapshotCreateSpec extends RecipeVmSpec {

    static final String RECIPE = 'recipe:internal-snapshot-create'

    def "the plan changes nothing and shows no irreversible step"() {
        given:
        vm.start()
        write(A)
        def before = world()

        when:
        def plan = harness.plan(RECIPE, [domain: vm.name(), name: 's1'])

        then:
        plan.feasible()
        plan.irreversibleSteps().isEmpty()
        world() == before
    }

    def "a snapshot of the running VM holds exactly the data written before it, and the disk keeps everything"() {
        given: 'A written, then the snapshot'
        vm.start()
        write(A)
        def disk = activeFile()

        when:
        def outcome = harness.run(RECIPE, [domain: vm.name(), name: 's1', description: 'before the upgrade'])

        then: 'as planned, an internal snapshot, current, with its description; the disk is unchanged'
        outcome.exitCode == 0
        drift(outcome).isEmpty()
        snapshots() == ['s1']
        vm.libvirt().snapshotCurrent(vm.name()) == 's1'
        snapshotDescription('s1') == 'before the upgrade'
        vm.state() == PowerState.RUNNING
        activeFile() == disk
        visible(disk) == [A] as Set

        when: 'B written after, then reverting to s1 with libvirt itself'
        write(B)
        assert visible(disk) == [A, B] as Set
        vm.libvirt().snapshotRevert(vm.name(), 's1', EnumSet.noneOf(Libvirt.SnapshotRevertOption))

        then: 's1 held A and not B'
        visible(disk) == [A] as Set
        vm.state() == PowerState.RUNNING
    }

    def "without a description (the default \"\") libvirt records none, on a shut-off VM too"() {
        given:
        vm.start()
        write(A)
        vm.destroy()

        when:
        def outcome = harness.run(RECIPE, [domain: vm.name(), name: 'off'])

        then:
        outcome.exitCode == 0
        drift(outcome).isEmpty()
        snapshots() == ['off']
        snapshotDescription('off') == null
        vm.state() == PowerState.SHUTOFF
        visible(vm.disk()) == [A] as Set
    }

    def "a failure after the snapshot deletes it again: VM running on its disk with its data, no snapshot left"() {
        given:
        vm.start()
        write(A)
        def inactive = world().inactive
        def failing = failingBefore('internal-snapshot-create', 'libvirt records it as an internal snapshot')

        when:
        def outcome = failing.run(RECIPE, [domain: vm.name(), name: 's1'])

        then:
        outcome.exitCode == 1
        snapshots() == []
        vm.libvirt().snapshotCurrent(vm.name()) == null
        vm.state() == PowerState.RUNNING
        activeFile() == vm.disk()
        world().inactive == inactive
        visible(vm.disk()) == [A] as Set
    }

    def "a duplicate name is refused in the plan: exit 1 and nothing changes"() {
        given:
        vm.start()
        write(A)
        assert harness.run(RECIPE, [domain: vm.name(), name: 's1']).exitCode == 0
        def before = world()

        when:
        def outcome = harness.run(RECIPE, [domain: vm.name(), name: 's1'])

        then:
        outcome.exitCode == 1
        outcome.plan.failure.contains("already has a snapshot named 's1'")
        world() == before
    }
}
