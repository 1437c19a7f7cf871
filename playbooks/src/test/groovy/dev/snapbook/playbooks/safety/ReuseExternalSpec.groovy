package dev.snapbook.playbooks.safety

import dev.snapbook.playbooks.recipes.ExternalRecipeSupport
import dev.snapbook.steps.exec.Command
import dev.snapbook.steps.lab.LabVm
import spock.lang.Requires

import java.nio.file.Files
import java.time.Duration

/**
 * Overlays made beforehand (issue 12), as `virsh snapshot-create-as --reuse-external` takes them: an overlay made
 * right (`qemu-img create -f qcow2 -b ACTIVE -F qcow2`) is taken and the snapshot's state is exact; every other one is
 * refused by the plan with nothing changed — tp-libvirt's own positive case (an overlay without a backing file, which
 * shows the guest an empty disk) among them.
 */
@Requires(value = { LabVm.available() || System.getenv('CI') },
        reason = 'needs libvirt: `virsh -c qemu:///system version` must succeed (run scripts/setup)')
class ReuseExternalSpec extends ExternalRecipeSupport {

    static void run(String... argv) {
        def r = Command.of(argv.toList()).run(Duration.ofSeconds(30), { })
        assert r.succeeded(), r.stderr()
    }

    String overlay() {
        file('made before.qcow2').toString()
    }

    String other() {
        file('other.qcow2').toString()
    }

    String active() {
        vm.disk().toString()
    }

    def "an overlay made right beforehand is taken; the snapshot's state and the disk after it keep their data"() {
        given:
        vm.start()
        write(A)
        run('qemu-img', 'create', '-q', '-f', 'qcow2', '-b', vm.disk().toString(), '-F', 'qcow2', overlay())

        when:
        def out = harness.run('recipe:external-snapshot-create', [domain: vm.name(), name: 'pre', disk: 'vda',
                                                                  file: overlay(), reuse: true])

        then:
        out.plan.failure() == null
        out.exitCode == 0
        activeFile() == overlay()
        out.plan.steps().any { it.actions().any { it.contains('the overlay made beforehand ' + overlay()) } }

        when: 'B is written after the snapshot, then the VM goes back to it'
        write(B)
        def back = harness.run('recipe:external-snapshot-revert', vars(snapshot: 'pre'))

        then:
        back.exitCode == 0
        visible(activeFile()) == [A] as Set
        visible(overlay()) == [A, B] as Set
    }

    def "an overlay made beforehand that #what is refused by the plan, naming it; nothing changes"() {
        given:
        vm.start()
        write(A)
        make.call(this)
        def before = world()

        when:
        def out = harness.run('recipe:external-snapshot-create', [domain: vm.name(), name: 'pre', disk: 'vda',
                                                                  file: overlay(), reuse: true])

        then:
        out.exitCode == 1
        out.plan.failure().contains(says)
        world() == before

        where:
        what                               | says                                          | make
        'has no backing file (tp-libvirt)' | 'has no backing file'                         | { s -> run('qemu-img', 'create', '-q', '-f', 'qcow2', s.overlay(), '64M') }
        'backs onto another file'          | "not by the disk's current active image"      | { s -> run('qemu-img', 'create', '-q', '-f', 'qcow2', s.other(), '64M'); run('qemu-img', 'create', '-q', '-f', 'qcow2', '-b', s.other(), '-F', 'qcow2', s.overlay()) }
        'records the wrong backing format' | "records its backing file's format as raw"    | { s -> run('qemu-img', 'create', '-q', '-f', 'qcow2', '-u', '-b', s.active(), '-F', 'raw', s.overlay(), '64M') }
        'has another virtual size'         | 'the guest would see a disk of another size'  | { s -> run('qemu-img', 'create', '-q', '-f', 'qcow2', '-b', s.active(), '-F', 'qcow2', s.overlay(), '128M') }
        'already holds data'               | 'already holds data of its own'               | { s -> run('qemu-img', 'create', '-q', '-f', 'qcow2', s.overlay(), '64M'); run('qemu-io', '-f', 'qcow2', '-c', 'write -P 0xee 0 64k', s.overlay()); run('qemu-img', 'rebase', '-u', '-b', s.active(), '-F', 'qcow2', s.overlay()) }
        'is not an image at all'           | 'is not a qcow2 image snapbook can read'      | { s -> Files.writeString(java.nio.file.Path.of(s.overlay()), 'not an image') }
    }

    def "reuse: true with no file made beforehand is refused; an existing file without reuse is never overwritten"() {
        given:
        vm.start()
        def before = world()

        expect:
        with(harness.run('recipe:external-snapshot-create', [domain: vm.name(), name: 'pre', disk: 'vda',
                                                             file: overlay(), reuse: true])) {
            exitCode == 1
            plan.failure().contains('does not exist')
        }
        world() == before

        when:
        run('qemu-img', 'create', '-q', '-f', 'qcow2', '-b', vm.disk().toString(), '-F', 'qcow2', overlay())
        def withFile = world()
        def out = harness.run('recipe:external-snapshot-create', [domain: vm.name(), name: 'pre', disk: 'vda',
                                                                  file: overlay()])

        then:
        out.exitCode == 1
        out.plan.failure().contains('already exists; snapbook never overwrites a file')
        world() == withFile
    }
}
