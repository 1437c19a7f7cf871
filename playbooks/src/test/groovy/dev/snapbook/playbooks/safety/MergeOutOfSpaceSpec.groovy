package dev.snapbook.playbooks.safety

import dev.snapbook.playbooks.recipes.ExternalRecipeSupport
import dev.snapbook.steps.exec.Command
import dev.snapbook.steps.lab.LabVm
import dev.snapbook.steps.libvirt.Libvirt
import spock.lang.Requires

import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration

/**
 * A file system that fills up in the middle of a merge (issue 13): the plan's free-space check passes, then another
 * writer fills the file system while QEMU's block job copies. QEMU reports ENOSPC to libvirt, which passes on only
 * that the job ended; snapbook's report names the full file system and the file, and the data stays as it was.
 */
@Requires(value = { LabVm.available() || System.getenv('CI') },
        reason = 'needs libvirt: `virsh -c qemu:///system version` must succeed (run scripts/setup)')
class MergeOutOfSpaceSpec extends ExternalRecipeSupport {

    Path small
    boolean mounted

    def setup() {
        small = Files.createDirectory(vm.dir().resolve('small fs'))
        run('mount', '-t', 'tmpfs', '-o', 'size=80M,mode=0755', 'snapbook-test-small', small.toString())
        mounted = true
    }

    def cleanup() {
        // runs before ExternalRecipeSupport's: QEMU must let go of the overlay before the file system can go
        if (vm.state().isActive()) {
            vm.destroy()
        }
        if (mounted) {
            run('umount', small.toString())
        }
    }

    static void run(String... argv) {
        def r = Command.of(argv.toList()).run(Duration.ofSeconds(30), { })
        assert r.succeeded(), r.stderr()
    }

    def "a pull that runs out of space says which file system is full, for which file; the data stays"() {
        given: 'A and 48 MiB of data in the base, then an overlay on the small file system (its snapshot metadata dropped), then B'
        vm.start()
        write(A)
        vm.writePattern(0x5a, '8M', '48M')
        String top = small.resolve('vda.top').toString()
        assert harness.run('recipe:external-snapshot-create', [domain: vm.name(), name: 'top', disk: 'vda',
                                                               file: top]).exitCode == 0
        write(B)
        // no snapshot keeps the base's state apart: the pull may take the base into the overlay
        vm.libvirt().snapshotDelete(vm.name(), 'top', EnumSet.of(Libvirt.SnapshotDeleteOption.METADATA_ONLY))
        Path playbook = tmp.resolve('pull.yml')
        Files.writeString(playbook, 'name: pull\nvars: { d: null }\nsteps:\n' +
                '  - block.pull: { domain: "{{ d }}", disk: vda, bandwidth: 8, timeout: 60s }\n')

        and: 'a writer that fills the file system as soon as the job runs'
        Path filler = small.resolve('filler')
        def fill = Thread.start {
            long until = System.currentTimeMillis() + 30_000
            while (vm.libvirt().blockJob(vm.name(), 'vda') == null && System.currentTimeMillis() < until) {
                Thread.sleep(20)
            }
            Files.newOutputStream(filler).withCloseable { out ->
                byte[] mib = new byte[1 << 20]
                try {
                    for (int i = 0; i < 80; i++) {
                        out.write(mib)
                    }
                } catch (IOException full) {
                    // the file system is full, as wanted
                }
            }
        }

        when:
        def out = harness.run(playbook.toString(), [d: vm.name()])
        fill.join()

        then: 'the step fails, naming the full file system and the file QEMU wrote'
        out.plan.failure() == null
        out.exitCode != 0
        String problems = out.result.run().problems().join('\n')
        problems.contains("the file system holding ${top}")
        problems.contains('is full')
        problems.contains('No space left on device')

        and: 'the disk still runs on its chain, and shows A, B and the base data'
        activeFile() == top
        visible(top) == [A, B] as Set
        LabVm.hasPattern(Path.of(top), 0x5a, '8M', '48M')
    }
}
