package dev.snapbook.playbooks.recipes

import dev.snapbook.steps.lab.LabVm
import dev.snapbook.steps.libvirt.PowerState
import spock.lang.Requires

import java.nio.file.Files
import java.nio.file.Path

/**
 * The tutorial's own merge: a raw base (vda.raw, the tutorial's vm1.img) under four qcow2 external snapshots
 * snap1 … snap4, the VM running, a distinct pattern written before each snapshot and one after the last. Before
 * any merge, a revert to each snapshot shows exactly its data. recipe:flatten-commit then commits the whole chain
 * into the raw base (the tutorial's blockcommit --active --pivot) and recipe:flatten-pull pulls it into the top
 * overlay; either way every pattern is there, and the post-merge checks of a raw base are the ones raw allows.
 */
@Requires(value = { LabVm.available() || System.getenv('CI') },
        reason = 'needs libvirt: `virsh -c qemu:///system version` must succeed (run scripts/setup)')
class TutorialMergeSpec extends RecipeVmSpec {

    /** Pattern i (0x51 + i) at (i + 1) MiB: i = 0 before snap1, …, 3 before snap4, 4 after it. */
    static final List<Integer> P = (0..4).collect { 0x51 + it }

    @Override
    String labFormat() {
        'raw'
    }

    def setup() {
        vm.start()
        for (int i in 0..3) {
            put(i)
            ok(harness.run('recipe:external-snapshot-create', [domain: vm.name(), name: "snap${i + 1}".toString()]))
        }
        put(4)
    }

    void put(int i) {
        vm.writePattern(P[i], "${i + 1}M", '64k')
    }

    static Set<Integer> shows(Path image) {
        (0..4).findAll { LabVm.hasPattern(image, P[it], "${it + 1}M", '64k') } as Set
    }

    static void ok(def out) {
        assert out.exitCode == 0: "${out.result.message()} ${out.result.run()?.problems()}"
    }

    Path file(String name) {
        vm.dir().resolve(name)
    }

    def "before any merge, a revert to each snapshot shows exactly the data written before it"() {
        expect:
        for (int n in 1..4) {
            ok(harness.run('recipe:external-snapshot-revert', [domain: vm.name(), snapshot: "snap${n}".toString(), timeout: '1s']))
            assert shows(activeFile()) == (0..<n) as Set
        }
    }

    def "flatten-commit: the whole chain lands in the raw base, which the VM then runs on"() {
        when:
        def plan = harness.plan('recipe:flatten-commit', [domain: vm.name()])
        def out = harness.run('recipe:flatten-commit', [domain: vm.name()])

        then:
        plan.feasible()
        ok(out)
        vm.state() == PowerState.RUNNING
        activeFile() == file('vda.raw')
        shows(file('vda.raw')) == (0..4) as Set
        snapshots() == []
        (1..4).every { !Files.exists(file("vda.snap${it}")) }

        and: 'the raw base was checked as raw can be: read as raw at the disk\'s full size, not by qemu-img check'
        def steps = out.result.run().steps()
        steps.find { it.name().startsWith('The base passes qemu-img check') }.status().name() == 'SKIPPED'
        steps.find { it.name().startsWith('A raw base is readable') }.status().name() == 'OK'

        when: 'the guest writes on: into the raw base'
        vm.writePattern(0x77, '10M', '64k')

        then:
        LabVm.hasPattern(file('vda.raw'), 0x77, '10M', '64k')
    }

    def "flatten-pull: the whole chain lands in the top overlay, which then stands alone; the raw base is removed"() {
        when:
        def out = harness.run('recipe:flatten-pull', [domain: vm.name()])

        then:
        ok(out)
        vm.state() == PowerState.RUNNING
        activeFile() == file('vda.snap4')
        shows(file('vda.snap4')) == (0..4) as Set
        snapshots() == []
        !Files.exists(file('vda.raw'))
        (1..3).every { !Files.exists(file("vda.snap${it}")) }
    }
}
