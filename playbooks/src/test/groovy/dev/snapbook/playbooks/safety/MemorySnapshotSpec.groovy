package dev.snapbook.playbooks.safety

import dev.snapbook.playbooks.recipes.ExternalRecipeSupport
import dev.snapbook.steps.exec.Command
import dev.snapbook.steps.lab.LabVm
import spock.lang.Requires

import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration

/**
 * A snapshot with memory state made by virsh (issue 12): {@code snapshot-create-as --memspec} on the running VM, A
 * written before it and B after. snapbook cannot restore an external memory state, so the revert is refused by the
 * plan until it is told to boot from the disks alone; the memory file is one of the snapshot's files: no image.delete
 * removes it while the snapshot exists, and discarding the snapshot deletes it with the files only it needs.
 */
@Requires(value = { LabVm.available() || System.getenv('CI') },
        reason = 'needs libvirt: `virsh -c qemu:///system version` must succeed (run scripts/setup)')
class MemorySnapshotSpec extends ExternalRecipeSupport {

    Path memory

    def setup() {
        vm.start()
        write(A)
        memory = file('mem 1.save')
        def made = Command.of('virsh', '-c', LabVm.URI, 'snapshot-create-as', vm.name(), 'mem1',
                '--memspec', "file=${memory},snapshot=external" as String,
                '--diskspec', "vda,snapshot=external,file=${file('vda.mem1')}" as String)
                .run(Duration.ofSeconds(60), { })
        assert made.succeeded(), made.stderr()
        assert Files.size(memory) > 0
        write(B)
    }

    def "the revert is refused by the plan, saying the VM would boot from the disk state alone; nothing changes"() {
        given:
        def before = world()

        when:
        def out = harness.run('recipe:external-snapshot-revert', vars(snapshot: 'mem1'))

        then:
        out.exitCode == 1
        out.plan.failure().contains("snapshot mem1 of ${vm.name()} holds the guest's memory in ${memory}")
        out.plan.failure().contains('would boot from the disk state alone')
        out.plan.failure().contains('memory=discard') || out.plan.failure().contains('memory: discard')
        world() == before
    }

    def "with memory=discard the disks are reverted and show exactly the state at the snapshot; the memory file stays"() {
        when:
        def out = harness.run('recipe:external-snapshot-revert', vars(snapshot: 'mem1', memory: 'discard'))

        then:
        out.exitCode == 0
        out.plan.steps().any { it.actions().any { it.contains('is not restored (memory: discard)') } }
        visible(activeFile()) == [A] as Set
        Files.exists(memory)

        and: 'the state before the revert is kept, with A and B'
        visible(file('vda.mem1')) == [A, B] as Set
    }

    def "the memory file is one of the snapshot's files: image.delete of it is refused while the snapshot exists"() {
        given:
        Path playbook = tmp.resolve('delete-memory.yml')
        Files.writeString(playbook, 'name: delete the memory file\nvars: { p: null }\nsteps:\n' +
                '  - image.delete: { path: "{{ p }}" }\n')
        def before = world()

        when:
        def out = harness.run(playbook.toString(), [p: memory.toString()])

        then:
        out.exitCode == 1
        out.plan.failure().contains('the memory state of snapshot mem1')
        world() == before
        Files.exists(memory)
    }

    def "discarding the snapshot deletes its memory file and keeps the files the disk still reads; the data stays"() {
        when:
        def out = harness.run('recipe:snapshot-discard', [domain: vm.name(), snapshot: 'mem1'])

        then:
        out.exitCode == 0
        snapshots().isEmpty()
        !Files.exists(memory)
        Files.exists(file('vda.mem1'))
        Files.exists(vm.disk())
        visible(activeFile()) == [A, B] as Set
    }

    def "a flatten never drops a snapshot with memory state: its plan refuses to merge into mem1's state file"() {
        given:
        def before = world()

        when:
        def out = harness.run('recipe:flatten-commit', [domain: vm.name()])

        then:
        out.exitCode == 1
        out.plan.failure().contains("would change what these states show:\n  - snapshot mem1 of domain ${vm.name()}")
        world() == before
        Files.exists(memory)
    }
}
