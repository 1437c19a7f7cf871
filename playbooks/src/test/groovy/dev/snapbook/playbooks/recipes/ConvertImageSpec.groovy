package dev.snapbook.playbooks.recipes

import dev.snapbook.steps.libvirt.PowerState

import java.nio.file.Files
import java.nio.file.Path

/** recipe:convert-image on a lab VM's disk (A and B written through the guest). */
class ConvertImageSpec extends RecipeVmSpec {

    static final String RECIPE = 'recipe:convert-image'

    Path target

    def setup() {
        vm.start()
        write(A)
        write(B)
        target = vm.dir().resolve('copy.img')
    }

    def "the plan changes nothing and creates no file"() {
        given:
        vm.destroy()
        def before = world()

        when:
        def plan = harness.plan(RECIPE, [source: vm.disk().toString(), target: target.toString(), format: 'raw'])

        then:
        plan.feasible()
        world() == before
        !Files.exists(target)
    }

    def "the shut-off VM's qcow2 disk becomes a #format copy with the same data; the source is untouched"() {
        given:
        vm.destroy()
        def sourceHash = sha(vm.disk())

        when:
        def outcome = harness.run(RECIPE, [source: vm.disk().toString(), target: target.toString(), format: format])

        then:
        outcome.exitCode == 0
        drift(outcome).isEmpty()
        visible(target) == [A, B] as Set
        sha(vm.disk()) == sourceHash
        vm.libvirt().xmlDesc(vm.name(), dev.snapbook.steps.libvirt.XmlView.INACTIVE).contains(vm.disk().toString())

        where:
        format << ['raw', 'qcow2']
    }

    def "the disk of the running VM is refused in the plan: exit 1, nothing changes"() {
        given:
        def before = world()

        when:
        def outcome = harness.run(RECIPE, [source: vm.disk().toString(), target: target.toString(), format: 'raw'])

        then:
        outcome.exitCode == 1
        outcome.plan.failure.contains("running domain ${vm.name()}")
        !Files.exists(target)
        vm.state() == PowerState.RUNNING
        world() == before
    }

    def "a backing layer the running VM has open is refused too"() {
        given: 'an external snapshot: the old image becomes a read-only backing layer'
        assert harness.run('recipe:external-snapshot-create', [domain: vm.name(), name: 's1']).exitCode == 0
        def before = world()

        when:
        def outcome = harness.run(RECIPE, [source: vm.disk().toString(), target: target.toString(), format: 'raw'])

        then:
        outcome.exitCode == 1
        outcome.plan.failure.contains("has it open")
        !Files.exists(target)
        world() == before
    }

    def "a failure after the conversion deletes the new file and leaves the source as it was"() {
        given:
        vm.destroy()
        def before = world()
        def failing = failingBefore('convert-image', 'The copy has the format asked and no backing file')

        when:
        def outcome = failing.run(RECIPE, [source: vm.disk().toString(), target: target.toString(), format: 'raw'])

        then:
        outcome.exitCode == 1
        !Files.exists(target)
        world() == before
        visible(vm.disk()) == [A, B] as Set
    }
}
