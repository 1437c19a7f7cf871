package dev.snapbook.playbooks.recipes

import dev.snapbook.steps.exec.Command
import dev.snapbook.steps.libvirt.PowerState

import java.nio.file.Path
import java.time.Duration

/** recipe:check-image on a lab VM's disk and on an image left dirty by a killed writer. */
class CheckImageSpec extends RecipeVmSpec {

    static final String RECIPE = 'recipe:check-image'

    def setup() {
        vm.start()
        write(A)
    }

    /** A lazy-refcounts qcow2 whose writer was killed after writing 0x77 at 0: refcounts never written. */
    Path dirty() {
        Path dirty = vm.dir().resolve('dirty.qcow2')
        Command.of('qemu-img', 'create', '-q', '-f', 'qcow2', '-o', 'lazy_refcounts=on', dirty.toString(), '16M')
                .run(Duration.ofSeconds(30), { })
        Command.of('qemu-io', '-f', 'qcow2', '-c', 'write -P 0x77 0 1M', '-c', 'sigraise 9', dirty.toString())
                .run(Duration.ofSeconds(30), { })
        dirty
    }

    def "the plan changes nothing; a repair shows as irreversible"() {
        given:
        vm.destroy()
        def before = world()

        when:
        def check = harness.plan(RECIPE, [image: vm.disk().toString()])
        def repair = harness.plan(RECIPE, [image: vm.disk().toString(), repair: 'leaks'])

        then:
        check.feasible() && check.irreversibleSteps().isEmpty()
        repair.feasible() && repair.irreversibleSteps()*.type == ['image.check']
        world() == before
    }

    def "a clean image passes, read-only, even while the VM runs"() {
        given:
        def hash = sha(vm.disk())

        when:
        def outcome = harness.run(RECIPE, [image: vm.disk().toString()])

        then:
        outcome.exitCode == 0
        drift(outcome).isEmpty()
        sha(vm.disk()) == hash
        vm.state() == PowerState.RUNNING
        visible(vm.disk()) == [A] as Set
    }

    def "a corrupt image fails the check (exit 1) and is not written without repair"() {
        given:
        Path dirty = dirty()
        def hash = sha(dirty)

        when:
        def outcome = harness.run(RECIPE, [image: dirty.toString()])

        then:
        outcome.exitCode == 1
        sha(dirty) == hash
    }

    def "repair=all fixes the corrupt image and keeps its data"() {
        given:
        Path dirty = dirty()

        when:
        def outcome = harness.run(RECIPE, [image: dirty.toString(), repair: 'all'])

        then:
        outcome.exitCode == 0
        drift(outcome).isEmpty()
        dev.snapbook.steps.lab.LabVm.hasPattern(dirty, 0x77, '0', '1M')
        harness.run(RECIPE, [image: dirty.toString()]).exitCode == 0
    }

    def "a repair of the disk of the running VM is refused in the plan: exit 1, nothing changes"() {
        given:
        def before = world()

        when:
        def outcome = harness.run(RECIPE, [image: vm.disk().toString(), repair: repair])

        then:
        outcome.exitCode == 1
        outcome.plan.failure.contains("running domain ${vm.name()} has it open")
        world() == before
        visible(vm.disk()) == [A] as Set

        where:
        repair << ['leaks', 'all']
    }

    def "a missing image is refused in the plan: exit 1"() {
        when:
        def outcome = harness.run(RECIPE, [image: vm.dir().resolve('missing.qcow2').toString()])

        then:
        outcome.exitCode == 1
        !outcome.plan.feasible()
    }
}
