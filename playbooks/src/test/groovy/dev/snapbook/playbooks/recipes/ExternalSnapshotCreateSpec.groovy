package dev.snapbook.playbooks.recipes

import dev.snapbook.steps.libvirt.PowerState

import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.attribute.PosixFilePermissions

/** recipe:external-snapshot-create on a lab VM. */
class ExternalSnapshotCreateSpec extends RecipeVmSpec {

    static final String RECIPE = 'recipe:external-snapshot-create'

    def "the plan changes nothing and creates no file"() {
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

    def "on the running VM: a new overlay next to the image takes the writes, the old image keeps exactly A"() {
        given:
        vm.start()
        write(A)
        def base = vm.disk()
        def baseHash = sha(base)

        when:
        def outcome = harness.run(RECIPE, [domain: vm.name(), name: 's1'])
        Path overlay = vm.dir().resolve('vda.s1')

        then: 'as planned'
        outcome.exitCode == 0
        drift(outcome).isEmpty()
        activeFile() == overlay
        snapshots() == ['s1']
        vm.libvirt().snapshotCurrent(vm.name()) == 's1'
        snapshotDescription('s1') == null
        vm.state() == PowerState.RUNNING

        when: 'B written after the snapshot'
        write(B)

        then: 'B goes to the overlay; the old image is untouched and holds A only'
        visible(overlay) == [A, B] as Set
        visible(base) == [A] as Set
        sha(base) == baseHash
    }

    def "file puts the overlay of disk vda elsewhere, with the description asked"() {
        given:
        vm.start()
        write(A)
        Path elsewhere = Files.createDirectory(vm.dir().resolve('elsewhere'),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString('rwxr-xr-x')))
        Path overlay = elsewhere.resolve('vda-s1.qcow2')

        when:
        def outcome = harness.run(RECIPE, [domain: vm.name(), name: 's1', disk: 'vda', file: overlay.toString(),
                                           description: 'two places'])

        then:
        outcome.exitCode == 0
        drift(outcome).isEmpty()
        activeFile() == overlay
        !Files.exists(vm.dir().resolve('vda.s1'))
        snapshotDescription('s1') == 'two places'

        when:
        write(B)

        then:
        visible(overlay) == [A, B] as Set
        visible(vm.disk()) == [A] as Set
    }

    def "a disk the VM does not have is refused in the plan: exit 1, nothing changes"() {
        given:
        vm.start()
        def before = world()

        when:
        def outcome = harness.run(RECIPE, [domain: vm.name(), name: 's1', disk: 'vdz'])

        then:
        outcome.exitCode == 1
        outcome.plan.failure.contains("has no disk 'vdz'")
        world() == before
    }

    def "a failure after the snapshot puts the shut-off VM back on its image, without the overlay or the snapshot"() {
        given:
        vm.start()
        write(A)
        vm.destroy()
        def before = world()
        def failing = failingBefore('external-snapshot-create', 'libvirt records it as an external snapshot')

        when:
        def outcome = failing.run(RECIPE, [domain: vm.name(), name: 's1'])

        then:
        outcome.exitCode == 1
        world() == before
        activeFile() == vm.disk()
        !Files.exists(vm.dir().resolve('vda.s1'))
        visible(vm.disk()) == [A] as Set
    }
}
