package dev.snapbook.playbooks.recipes

import dev.snapbook.steps.libvirt.PowerState

/** recipe:internal-snapshot-create refuses a raw disk in the plan. */
class InternalSnapshotCreateRawSpec extends RecipeVmSpec {

    @Override
    String labFormat() {
        'raw'
    }

    def "a raw disk is refused in the plan, naming it, and nothing changes"() {
        given:
        vm.start()
        write(A)
        def before = world()

        when:
        def plan = harness.plan('recipe:internal-snapshot-create', [domain: vm.name(), name: 's1'])
        def outcome = harness.run('recipe:internal-snapshot-create', [domain: vm.name(), name: 's1'])

        then:
        !plan.feasible()
        plan.failure.contains('is raw') && plan.failure.contains(vm.disk().toString())
        outcome.exitCode == 1
        world() == before
        vm.state() == PowerState.RUNNING
        visible(vm.disk()) == [A] as Set
    }
}
