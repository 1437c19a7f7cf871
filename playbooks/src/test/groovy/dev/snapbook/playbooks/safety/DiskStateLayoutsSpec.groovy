package dev.snapbook.playbooks.safety

import dev.snapbook.playbooks.recipes.ExternalRecipeSupport
import dev.snapbook.steps.exec.Command
import dev.snapbook.steps.lab.LabMachine
import dev.snapbook.steps.lab.LabVm
import dev.snapbook.steps.libvirt.Libvirt
import dev.snapbook.steps.libvirt.PowerState
import spock.lang.Requires

import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration

/**
 * Issue 11's layouts on real lab VMs, each with distinct patterns written before and after every snapshot: linked
 * clones over one golden image, internal and external snapshots on one disk, a revert followed by a flatten, an
 * internal snapshot inside an overlay a flatten keeps, a snapshot of two disks, a merge stopped part-way. After
 * each run, a revert to every state that remains shows exactly its patterns; every refused plan changed nothing
 * (file hashes, domain XML, snapshot list).
 */
@Requires(value = { LabVm.available() || System.getenv('CI') },
        reason = 'needs libvirt: `virsh -c qemu:///system version` must succeed (run scripts/setup)')
class DiskStateLayoutsSpec extends ExternalRecipeSupport {

    /** The golden image's own pattern, and where it is. */
    static final int G = 0x66
    static final String G_AT = '6M'

    List<String> clones = []

    def cleanup() {
        List<Exception> failures = []
        try {
            cleanupMount()
        } catch (Exception e) {
            failures << e
        }
        for (String c in clones) {
            try {
                if (vm.libvirt().exists(c)) {
                    if (vm.libvirt().state(c).isActive()) {
                        vm.libvirt().destroy(c)
                    }
                    vm.libvirt().undefine(c, EnumSet.noneOf(Libvirt.UndefineOption))
                }
            } catch (Exception e) {
                failures << e
            }
        }
        if (failures) {
            failures.drop(1).each { failures[0].addSuppressed(it) }
            throw failures[0]
        }
    }

    static void ok(def out) {
        assert out.exitCode == 0: "${out.result.message()} ${out.result.run()?.problems()}"
    }

    static void run(String... argv) {
        def r = Command.of(argv as List).run(Duration.ofSeconds(60), { })
        assert r.succeeded(): "${argv.join(' ')}: ${r.stderr()}"
    }

    /** Everything a refused plan must leave alone, for this VM and its clones. */
    Map everything() {
        [vm: world(), clones: clones.collect { [it, vm.libvirt().xmlDesc(it, dev.snapbook.steps.libvirt.XmlView.INACTIVE),
                                            vm.libvirt().state(it)] }]
    }

    boolean golden(Path image) {
        LabVm.hasPattern(image, G, G_AT, '64k')
    }

    /**
     * The lab VM's vda becomes a linked clone: golden.qcow2 (holding G) under vda.qcow2; two more domains, clone 2
     * running and clone 3 shut off, have overlays of their own over the same golden image.
     */
    void linkedClones() {
        Path gold = file('golden.qcow2')
        run('qemu-img', 'create', '-q', '-f', 'qcow2', gold.toString(), '64M')
        run('qemu-io', '-f', 'qcow2', '-c', "write -P ${G} ${G_AT} 64k", gold.toString())
        run('qemu-img', 'create', '-q', '-f', 'qcow2', '-b', gold.toString(), '-F', 'qcow2', file('vda.qcow2').toString())
        for (int i in 2..3) {
            Path disk = file("clone${i}.qcow2")
            run('qemu-img', 'create', '-q', '-f', 'qcow2', '-b', gold.toString(), '-F', 'qcow2', disk.toString())
            String name = vm.name() + "-c${i}"
            vm.libvirt().defineXml(LabMachine.domainXml(name, disk, 'qcow2', 'snapbook test clone'))
            clones << name
        }
        vm.libvirt().create(clones[0])
    }

    def "linked clones: flatten-commit merges into the clone's own overlay; the golden image and the other clones are untouched"() {
        given: 'e1 taken by virsh, as an operator would'
        linkedClones()
        vm.start()
        write(A)
        run('virsh', '-c', LabVm.URI, 'snapshot-create-as', vm.name(), 'e1', '--disk-only', '--atomic')
        write(B)
        def goldBefore = sha(file('golden.qcow2'))
        def clone3Before = sha(file('clone3.qcow2'))

        when:
        def plan = harness.plan('recipe:flatten-commit', [domain: vm.name()])

        then: 'the plan names where it stops and why'
        plan.feasible()
        def layers = plan.steps().find { it.type() == 'chain.layers' }.actions()[0]
        layers.contains("into ${file('vda.qcow2')}")
        layers.contains("${file('golden.qcow2')} is also read by disk vda of domain ${clones[0]} (running)")
        layers.contains("disk vda of domain ${clones[1]}")

        when:
        def out = harness.run('recipe:flatten-commit', [domain: vm.name()])

        then:
        ok(out)
        activeFile() == file('vda.qcow2').toString()
        visible(file('vda.qcow2')) == [A, B] as Set
        golden(file('vda.qcow2'))
        snapshots() == []
        !Files.exists(file('vda.e1'))

        and: 'the golden image is byte for byte the same; every clone sees only G'
        sha(file('golden.qcow2')) == goldBefore
        sha(file('clone3.qcow2')) == clone3Before
        visible(file('golden.qcow2')).isEmpty() && golden(file('golden.qcow2'))
        visible(file('clone2.qcow2')).isEmpty() && golden(file('clone2.qcow2'))
        visible(file('clone3.qcow2')).isEmpty() && golden(file('clone3.qcow2'))
        vm.libvirt().state(clones[0]) == PowerState.RUNNING

        when: 'the guest writes on: it lands in its own overlay, not in the golden image'
        write(C)

        then:
        sha(file('golden.qcow2')) == goldBefore
        visible(file('vda.qcow2')) == [A, B, C] as Set
    }

    def "linked clones: flatten-pull pulls the clone's own layers and keeps the golden image as the backing file"() {
        given:
        linkedClones()
        vm.start()
        write(A)
        snapshot('e1')
        write(B)
        def goldBefore = sha(file('golden.qcow2'))

        when:
        def out = harness.run('recipe:flatten-pull', [domain: vm.name()])

        then:
        ok(out)
        activeFile() == file('vda.e1').toString()
        visible(file('vda.e1')) == [A, B] as Set
        golden(file('vda.e1'))
        !Files.exists(file('vda.qcow2'))
        sha(file('golden.qcow2')) == goldBefore
        golden(file('clone2.qcow2')) && golden(file('clone3.qcow2'))
        snapshots() == []
        Command.of('qemu-img', 'info', '-U', '--backing-chain', file('vda.e1').toString()).run(Duration.ofSeconds(30), { })
                .stdout().contains("backing file: ${file('golden.qcow2')}")
    }

    def "linked clones: a commit into the golden image and a start of a domain on it are refused by the plan, changing nothing"() {
        given:
        linkedClones()
        vm.start()
        write(A)
        def template = vm.name() + '-tpl'
        vm.libvirt().defineXml(LabMachine.domainXml(template, file('golden.qcow2'), 'qcow2', 'snapbook test clone'))
        clones << template
        Path pb = tmp.resolve('commit-into-golden.yml')
        Files.writeString(pb, """\
            name: commit a clone into its golden image
            steps:
              - block.commit: { domain: ${vm.name()}, disk: vda, active: true, base: ${file('golden.qcow2')} }
            """.stripIndent())
        Path start = tmp.resolve('start-template.yml')
        Files.writeString(start, """\
            name: start the template
            steps:
              - domain.start: { domain: ${template} }
            """.stripIndent())
        def before = everything()

        when:
        def out = harness.run(pb.toString(), [:])
        def out2 = harness.run(start.toString(), [:])

        then:
        out.exitCode == 1
        out.plan.failure().contains("into ${file('golden.qcow2')}")
        out.plan.failure().contains("disk vda of domain ${clones[0]} (running)")
        out2.exitCode == 1
        out2.plan.failure().contains("refusing to start ${template}")
        everything() == before
    }

    def "internal and external snapshots on one disk: an internal revert to i1 is refused; every state stays revertable"() {
        given: 'A, internal i1, B, external e1, C, external e2, D'
        vm.start()
        write(A)
        assert harness.run('recipe:internal-snapshot-create', [domain: vm.name(), name: 'i1']).exitCode == 0
        write(B)
        snapshot('e1')
        write(C)
        snapshot('e2')
        write(D)
        def before = world()

        when:
        def out = harness.run('recipe:internal-snapshot-revert', [domain: vm.name(), snapshot: 'i1'])

        then: 'refused in the plan, naming the external states that read the image it would rewrite'
        out.exitCode == 1
        out.plan.failure().contains("it lives inside ${file('vda.qcow2')}")
        out.plan.failure().contains("snapshot e1 of domain ${vm.name()}")
        out.plan.failure().contains("snapshot e2 of domain ${vm.name()}")
        world() == before

        when: 'revert to each external state'
        def toE1 = harness.run('recipe:external-snapshot-revert', vars(snapshot: 'e1'))
        def onE1 = visible(activeFile())
        def toE2 = harness.run('recipe:external-snapshot-revert', vars(snapshot: 'e2'))
        def onE2 = visible(activeFile())
        def toKept = harness.run('recipe:external-snapshot-revert', vars(snapshot: 'snapbook-before-revert-e1'))

        then: 'each shows exactly its data'
        toE1.exitCode == 0 && onE1 == [A, B] as Set
        toE2.exitCode == 0 && onE2 == [A, B, C] as Set
        toKept.exitCode == 0 && visible(activeFile()) == [A, B, C, D] as Set
        LabVm.hasPattern(file('vda.qcow2'), B, AT[B], '64k')
    }

    def "a revert, then a flatten: the state kept by the revert and the other branch are never merged over"() {
        given: 'A, s1, B, s2, C, then a revert to s1 (the state before it, A+B+C, kept as a snapshot)'
        vm.start()
        write(A)
        snapshot('s1')
        write(B)
        snapshot('s2')
        write(C)
        assert harness.run('recipe:external-snapshot-revert', vars(snapshot: 's1')).exitCode == 0
        write(D)
        def before = world()

        when:
        def commit = harness.run('recipe:flatten-commit', [domain: vm.name()])
        def pull = harness.run('recipe:flatten-pull', [domain: vm.name()])

        then: 'both refused in the plan, naming the kept state and the branch; nothing changed'
        commit.exitCode == 1
        commit.plan.failure().contains('snapshot snapbook-before-revert-s1 of domain ' + vm.name())
        commit.plan.failure().contains("snapshot s2 of domain ${vm.name()}")
        pull.exitCode == 1
        pull.plan.failure().contains('nothing of disk')
        world() == before

        when: 'a revert to every state'
        def data = [:]
        for (String s in ['s1', 's2', 'snapbook-before-revert-s1']) {
            ok(harness.run('recipe:external-snapshot-revert', vars(snapshot: s)))
            data[s] = visible(activeFile())
        }

        then:
        data == [s1: [A] as Set, s2: [A, B] as Set, 'snapbook-before-revert-s1': [A, B, C] as Set]
    }

    def "an internal snapshot inside an overlay: flatten-commit stops at that overlay, which keeps it exact"() {
        given: 'A, e1, B, internal i2 (inside vda.e1), C, e2, D'
        vm.start()
        write(A)
        snapshot('e1')
        write(B)
        assert harness.run('recipe:internal-snapshot-create', [domain: vm.name(), name: 'i2']).exitCode == 0
        write(C)
        snapshot('e2')
        write(D)

        when:
        def out = harness.run('recipe:flatten-commit', [domain: vm.name()])

        then: 'e2 merged into vda.e1, which holds i2; e1 (state vda.qcow2, untouched) stays'
        ok(out)
        activeFile() == file('vda.e1').toString()
        visible(activeFile()) == [A, B, C, D] as Set
        snapshots() == ['e1', 'i2']

        when: 'revert to i2, then to e1'
        def toI2 = harness.run('recipe:internal-snapshot-revert', [domain: vm.name(), snapshot: 'i2'])
        def onI2 = visible(activeFile())
        vm.destroy()
        vm.start()
        def toE1 = harness.run('recipe:external-snapshot-revert', vars(snapshot: 'e1'))

        then:
        toI2.exitCode == 0
        onI2 == [A, B] as Set
        toE1.exitCode == 0
        visible(activeFile()) == [A] as Set
    }

    def "a snapshot of two disks: flattening vda alone is refused, and both disks' states stay revertable"() {
        given: 'vdb attached; A on vda and on vdb, s1 of both disks, B on both'
        Path vdb = file('vdb.qcow2')
        run('qemu-img', 'create', '-q', '-f', 'qcow2', vdb.toString(), '64M')
        run('virsh', '-c', LabVm.URI, 'attach-disk', vm.name(), vdb.toString(), 'vdb', '--driver', 'qemu',
                '--subdriver', 'qcow2', '--targetbus', 'virtio', '--config')
        vm.start()
        write(A)
        LabMachine.writePattern(vm.libvirt(), vm.name(), 'vdb', A, AT[A], '64k')
        snapshot('s1')
        write(B)
        LabMachine.writePattern(vm.libvirt(), vm.name(), 'vdb', B, AT[B], '64k')
        def before = world()

        when:
        def out = harness.run('recipe:flatten-commit', [domain: vm.name(), disk: 'vda'])

        then:
        out.exitCode == 1
        out.plan.failure().contains("snapshot s1 of domain ${vm.name()} (its state of vda")
        world() == before

        when:
        def back = harness.run('recipe:external-snapshot-revert', vars(snapshot: 's1'))

        then: 'vda and vdb both show their state at s1'
        back.exitCode == 0
        visible(activeFile()) == [A] as Set
        visible(Path.of(LabMachine.activeFile(vm.libvirt(), vm.name(), 'vdb').toString())) == [A] as Set
    }

    def "a merge stopped part-way: the dropped snapshots are not brought back as if exact; exit 3; a second flatten finishes"() {
        given: 'a large write, so that the commit at 1 MiB/s runs for seconds'
        vm.start()
        write(A)
        snapshot('s1')
        write(B)
        vm.writePattern(E, '16M', '8M')
        String text = RecipeHarnessText.recipe('flatten-commit')
        String line = 'block.commit: { domain: "{{ domain }}", disk: "{{ disk }}", active: true, base: "{{ layers.base }}" }'
        assert text.contains(line)
        Files.writeString(tmp.resolve('recipes').resolve('flatten-commit.yml'),
                text.replace(line, line.substring(0, line.length() - 2) + ', bandwidth: 1 }'))

        when: 'the job is aborted from outside while it copies'
        def aborter = Thread.start {
            for (int i = 0; i < 300; i++) {
                if (vm.libvirt().blockJob(vm.name(), 'vda') != null) {
                    sleep(300)
                    run('virsh', '-c', LabVm.URI, 'blockjob', vm.name(), 'vda', '--abort')
                    return
                }
                sleep(100)
            }
        }
        def out = harness.run('recipe:flatten-commit', [domain: vm.name()])
        aborter.join()

        then: 'the VM runs on its unchanged chain with every write; s1 is not restored'
        out.exitCode == 3
        out.result.run().problems().any { it.contains('not restoring snapshot(s) s1') }
        vm.state() == PowerState.RUNNING
        activeFile() == file('vda.s1').toString()
        visible(activeFile()) == [A, B] as Set
        LabVm.hasPattern(Path.of(activeFile()), E, '16M', '8M')
        snapshots() == []

        when: 'the bundled recipe, run again, finishes the merge'
        Files.delete(tmp.resolve('recipes').resolve('flatten-commit.yml'))
        def again = harness.run('recipe:flatten-commit', [domain: vm.name()])

        then:
        ok(again)
        activeFile() == file('vda.qcow2').toString()
        visible(activeFile()) == [A, B] as Set
        LabVm.hasPattern(Path.of(activeFile()), E, '16M', '8M')
    }

    def "layers made outside snapbook: a relative backing path, a --no-metadata --reuse-external overlay, a domain over a middle layer"() {
        given: 'A in vda.qcow2; mid.qcow2 over it by a relative path (qemu-img create -b); B; top by virsh --no-metadata --reuse-external; C'
        vm.start()
        write(A)
        vm.destroy()
        run('qemu-img', 'create', '-q', '-f', 'qcow2', '-b', 'vda.qcow2', '-F', 'qcow2', file('mid qcow2 ü.qcow2').toString())
        run('virsh', '-c', LabVm.URI, 'detach-disk', vm.name(), 'vda', '--config')
        run('virsh', '-c', LabVm.URI, 'attach-disk', vm.name(), file('mid qcow2 ü.qcow2').toString(), 'vda', '--driver', 'qemu',
                '--subdriver', 'qcow2', '--targetbus', 'virtio', '--config')
        vm.start()
        write(B)
        run('qemu-img', 'create', '-q', '-f', 'qcow2', '-b', file('mid qcow2 ü.qcow2').toString(), '-F', 'qcow2', file('top.qcow2').toString())
        run('virsh', '-c', LabVm.URI, 'snapshot-create-as', vm.name(), '--disk-only', '--no-metadata', '--reuse-external',
                '--diskspec', "vda,snapshot=external,file=${file('top.qcow2')}")
        write(C)
        and: 'another domain (shut off) on an overlay over the middle layer'
        run('qemu-img', 'create', '-q', '-f', 'qcow2', '-b', file('mid qcow2 ü.qcow2').toString(), '-F', 'qcow2', file('other.qcow2').toString())
        String other = vm.name() + '-o'
        vm.libvirt().defineXml(LabMachine.domainXml(other, file('other.qcow2'), 'qcow2', 'snapbook test clone'))
        clones << other
        def midBefore = sha(file('mid qcow2 ü.qcow2'))

        def before = everything()

        when: 'deleting the middle layer is refused; so is a flatten, since the top can only merge into it'
        Path del = tmp.resolve('delete-mid.yml')
        Files.writeString(del, "name: delete the middle layer\nsteps:\n  - image.delete: { path: \"${file('mid qcow2 ü.qcow2')}\" }\n")
        def refused = harness.run(del.toString(), [:])
        def out = harness.run('recipe:flatten-commit', [domain: vm.name()])

        then: 'the relative link is read as qemu reads it, and the layer holds states of both domains'
        refused.exitCode == 1
        refused.plan.failure().contains("disk vda of domain ${other}")
        out.exitCode == 1
        out.plan.failure().contains("disk vda of domain ${other}")
        everything() == before
        activeFile() == file('top.qcow2').toString()
        sha(file('mid qcow2 ü.qcow2')) == midBefore
        visible(file('other.qcow2')) == [A, B] as Set
        visible(Path.of(activeFile())) == [A, B, C] as Set
    }

    def "a merge into a file system without room for it is refused by the plan, with the numbers; nothing changes"() {
        given: 'the base on a small tmpfs made for this test, 16 MiB written into the overlay, the tmpfs then nearly full'
        Path small = Files.createTempDirectory(Path.of('/var/tmp'), 'snapbook-test-small-')
        Files.setPosixFilePermissions(small, java.nio.file.attribute.PosixFilePermissions.fromString('rwxr-xr-x'))
        mountPoint = small
        run('mount', '-t', 'tmpfs', '-o', 'size=24m,mode=0755', 'snapbook-test', small.toString())
        mounted = small
        Path base = small.resolve('base.qcow2')
        run('qemu-img', 'create', '-q', '-f', 'qcow2', base.toString(), '64M')
        run('qemu-img', 'create', '-q', '-f', 'qcow2', '-b', base.toString(), '-F', 'qcow2', file('vda.qcow2').toString())
        vm.start()
        vm.writePattern(E, '16M', '16M')
        long free = Files.getFileStore(small).usableSpace
        run('fallocate', '-l', String.valueOf(free - (4L << 20)), small.resolve('filler').toString())
        def before = world()
        def baseBefore = sha(base)

        when:
        def out = harness.run('recipe:flatten-commit', [domain: vm.name()])

        then:
        out.exitCode == 1
        out.plan.failure().contains("block commit into ${base} may write up to")
        out.plan.failure() =~ /its file system has only [0-9]+ MiB free/
        world() == before
        sha(base) == baseBefore
        LabVm.hasPattern(file('vda.qcow2'), E, '16M', '16M')
    }

    /** The tmpfs this spec mounted, and the directory it made for it; both removed in cleanup. */
    Path mounted
    Path mountPoint

    def cleanupMount() {
        if (mounted != null) {
            vm.destroy()
            Command.of('umount', mounted.toString()).run(Duration.ofSeconds(30), { })
        }
        if (mountPoint != null) {
            Files.deleteIfExists(mountPoint)
        }
    }

    /** The bundled recipe's text. */
    static class RecipeHarnessText {
        static String recipe(String name) {
            DiskStateLayoutsSpec.getResourceAsStream("/snapbook/recipes/${name}.yml").text
        }
    }
}
