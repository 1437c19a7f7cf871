package dev.snapbook.playbooks.safety

import dev.snapbook.playbooks.recipes.ExternalRecipeSupport
import dev.snapbook.steps.lab.LabVm
import spock.lang.Requires

import java.nio.ByteBuffer
import java.nio.channels.FileChannel
import java.nio.file.Files
import java.nio.file.StandardOpenOption

/**
 * Damaged layers under external snapshots (issue 12): A, s1, B, s2, C written on the running VM, so that vda.qcow2
 * holds s1's state, vda.s1 (s1's overlay) holds s2's, and vda.s2 is active. Then one damage: the 4-byte qcow2 magic
 * of vda.qcow2 overwritten, vda.s1 cut short by its last cluster, vda.s1 deleted, or vda.s2's backing name pointed
 * at a file that is gone. Every recipe that reads that chain is refused by its plan (exit 1), naming the damaged file
 * and what was recorded and found; nothing changes, and no VM is booted on the damaged chain.
 */
@Requires(value = { LabVm.available() || System.getenv('CI') },
        reason = 'needs libvirt: `virsh -c qemu:///system version` must succeed (run scripts/setup)')
class DamagedFilesSpec extends ExternalRecipeSupport {

    static final Map<String, Closure> DAMAGE = [
            'a bad magic'            : { DamagedFilesSpec s -> s.overwrite('vda.qcow2', 'XXXX') },
            'a truncated layer'      : { DamagedFilesSpec s -> s.cutLastCluster('vda.s1') },
            'a missing middle layer' : { DamagedFilesSpec s -> Files.delete(s.file('vda.s1')) },
            'a backing path to a file that is gone': { DamagedFilesSpec s -> s.backingName('vda.s2', 'gone/vda.s1') },
    ]

    def setup() {
        vm.start()
        write(A)
        snapshot('s1')
        write(B)
        snapshot('s2')
        write(C)
    }

    void overwrite(String name, String bytes) {
        FileChannel.open(file(name), StandardOpenOption.WRITE).withCloseable {
            it.write(ByteBuffer.wrap(bytes.bytes), 0)
        }
    }

    void cutLastCluster(String name) {
        FileChannel.open(file(name), StandardOpenOption.WRITE).withCloseable { it.truncate(it.size() - 65536) }
    }

    /**
     * Rewrites the backing file name in the qcow2 header of {@code name} in place (the running QEMU holds the
     * file's write lock, so qemu-img rebase cannot): the name's offset stays, its length field is set anew.
     */
    void backingName(String name, String backing) {
        FileChannel.open(file(name), StandardOpenOption.READ, StandardOpenOption.WRITE).withCloseable { ch ->
            ByteBuffer header = ByteBuffer.allocate(20)
            ch.read(header, 0)
            long offset = header.getLong(8)
            int size = header.getInt(16)
            assert offset > 0 && backing.length() <= size
            ch.write(ByteBuffer.wrap(backing.bytes), offset)
            ch.write(ByteBuffer.allocate(4).putInt(0, backing.length()), 16)
        }
    }

    def "#recipe on a chain with #damage is refused by the plan, naming #damaged; nothing changes"() {
        given:
        DAMAGE[damage].call(this)
        def before = world()

        when:
        def out = harness.run(recipe, vars.call(this))

        then:
        out.exitCode == 1
        String failure = out.plan.failure()
        failure.contains(file(damaged).toString() + ' is damaged: ')
        failure.contains(says.replace('DIR', vm.dir().toString()))
        world() == before

        where:
        [damage, recipe, vars] << [DAMAGE.keySet(), [
                ['recipe:external-snapshot-revert', { s -> s.vars(snapshot: 's1') }],
                ['recipe:external-snapshot-revert', { s -> s.vars(snapshot: 's2') }],
                ['recipe:flatten-commit', { s -> [domain: s.vm.name()] }],
                ['recipe:flatten-pull', { s -> [domain: s.vm.name()] }],
                ['recipe:external-snapshot-create', { s -> [domain: s.vm.name(), name: 's3'] }],
                ['recipe:convert-image', { s -> [source: s.file('vda.s2').toString(),
                                                 target: s.file('copy.raw').toString(), format: 'raw'] }],
        ]].combinations().collect { d, r -> [d, r[0], r[1]] }
        damaged = [
                'a bad magic'            : 'vda.qcow2',
                'a truncated layer'      : 'vda.s1',
                'a missing middle layer' : 'vda.s1',
                'a backing path to a file that is gone': 'gone/vda.s1'][damage]
        says = [
                'a bad magic'            : 'records it as qcow2, but its contents read as raw (its qcow2 header is gone)',
                'a truncated layer'      : 'it is truncated: ',
                'a missing middle layer' : 'it does not exist', // as the state file of s2 it is the chain's top
                'a backing path to a file that is gone': 'it does not exist, but DIR/vda.s2 names it as its backing file'][damage]
    }
}
