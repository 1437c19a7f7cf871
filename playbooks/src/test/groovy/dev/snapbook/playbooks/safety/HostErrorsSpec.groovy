package dev.snapbook.playbooks.safety

import dev.snapbook.engine.cli.Main
import dev.snapbook.engine.journal.RunRecord
import dev.snapbook.playbooks.recipes.ExternalRecipeSupport
import dev.snapbook.steps.exec.Command
import dev.snapbook.steps.lab.LabVm
import dev.snapbook.steps.libvirt.PowerState
import spock.lang.Requires

import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration

/**
 * Errors of the host, not of the connection: a failed system call in libvirtd (a missing directory) or in
 * snapbook itself (a full state directory) is reported as what it is, naming the file, with the exit code
 * of a step failure; libvirtd runs throughout, so nothing may say the connection was lost.
 */
@Requires(value = { LabVm.available() }, reason = 'needs libvirt: `virsh -c qemu:///system version` must succeed')
class HostErrorsSpec extends ExternalRecipeSupport {

    Path state
    Path mount

    def setup() {
        state = tmp.resolve('state')
        System.setProperty('snapbook.state', state.toString())
        vm.start()
        write(A)
    }

    def cleanup() {
        System.clearProperty('snapbook.state')
        if (mount != null) {
            def r = Command.of('umount', mount.toString()).run(Duration.ofSeconds(30), { })
            if (!r.succeeded()) {
                // busy: the run left a file open there (a lock file it could not write, once). Detach it, so that
                // nothing is left mounted, and fail: snapbook must close what it opened, even on a full disk
                def lazy = Command.of('umount', '-l', mount.toString()).run(Duration.ofSeconds(30), { })
                assert lazy.succeeded(): lazy.stderr()
                assert false: "umount ${mount}: ${r.stderr().strip()}: snapbook left a file open in its state directory"
            }
        }
    }

    def "an overlay file in a directory that does not exist: exit 1, the file and 'No such file or directory', not a lost connection"() {
        given:
        Path overlay = vm.dir().resolve('no-such-dir').resolve('vda-s1.qcow2')
        def before = hashes()

        when:
        def out = output {
            Main.execute('run', 'recipe:external-snapshot-create', '-e', "domain=${vm.name()}", '-e', 'name=s1',
                    '-e', 'disk=vda', '-e', "file=${overlay}")
        }

        then: 'a step failure whose undo had nothing to do: exit 1'
        out.code == 1
        out.text.contains(overlay.toString())
        out.text.contains('No such file or directory')
        !out.text.contains('was lost')
        !out.text.toLowerCase().contains('connection to libvirtd')
        !out.text.contains('recover')

        and: 'the run is finished (nothing to recover), and the VM is as it was'
        RunRecord.all(state)*.status() == ['rolled back']
        vm.state() == PowerState.RUNNING
        snapshots() == []
        activeFile() == vm.disk().toString()
        hashes() == before
        visible(vm.disk()) == [A] as Set
    }

    def "a full state directory: the error names the path; the VM is untouched"() {
        given: 'the state directory on a 1 MiB tmpfs that is filled up'
        mount = Files.createDirectory(tmp.resolve('small'))
        def m = Command.of('mount', '-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', mount.toString())
                .run(Duration.ofSeconds(30), { })
        assert m.succeeded(): m.stderr()
        state = mount.resolve('state')
        System.setProperty('snapbook.state', state.toString())
        Files.createDirectories(state.resolve('locks'))
        Command.of('dd', 'if=/dev/zero', "of=${mount.resolve('filler')}", 'bs=64k')
                .run(Duration.ofSeconds(30), { }) // ends with "No space left on device", as it should
        def before = hashes()

        when:
        def out = output {
            Main.execute('run', 'recipe:external-snapshot-create', '-e', "domain=${vm.name()}", '-e', 'name=s1')
        }

        then: 'the message says which file could not be written, and why'
        out.code != 0
        out.text.contains(state.toString())
        out.text.contains('No space left on device')

        and: 'nothing was done to the VM'
        vm.state() == PowerState.RUNNING
        snapshots() == []
        hashes() == before
    }

    /** Runs {@code body} with System.out and System.err captured together: [code: its result, text: both]. */
    static Map output(Closure<Integer> body) {
        PrintStream out = System.out, err = System.err
        def bytes = new ByteArrayOutputStream()
        def both = new PrintStream(bytes, true)
        System.out = both
        System.err = both
        try {
            int code = body()
            return [code: code, text: bytes.toString()]
        } finally {
            System.out = out
            System.err = err
        }
    }
}
