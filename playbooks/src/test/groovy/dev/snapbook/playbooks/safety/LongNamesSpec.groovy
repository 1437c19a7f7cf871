package dev.snapbook.playbooks.safety

import dev.snapbook.playbooks.recipes.ExternalRecipeSupport
import dev.snapbook.steps.image.FileNames
import dev.snapbook.steps.lab.LabVm
import spock.lang.Requires

import java.nio.file.Files

/**
 * Snapshot names at the length limit (issue 12): every file and snapshot name snapbook derives from them fits the
 * file system's 255 bytes, so a snapshot that can be created can be reverted, with its data; a name that cannot fit
 * libvirt's own files is refused by the plan, with nothing changed. The domain name is 50 characters long.
 */
@Requires(value = { LabVm.available() || System.getenv('CI') },
        reason = 'needs libvirt: `virsh -c qemu:///system version` must succeed (run scripts/setup)')
class LongNamesSpec extends ExternalRecipeSupport {

    def setup() {
        vm.close()
        // snapbook-test- (14) + 8 hex + '-' + 27 = 50 characters
        vm = LabVm.create('qcow2', 'long-domain-name-for-limits')
        assert vm.name().length() == 50
    }

    def "a snapshot named with #what is created, and reverted through new files whose names fit; every state keeps its data"() {
        given: 'A before the snapshot, B after it, on the running VM'
        vm.start()
        write(A)

        when:
        def created = harness.run('recipe:external-snapshot-create', [domain: vm.name(), name: name])

        then:
        created.plan.failure() == null
        created.exitCode == 0
        write(B)

        when:
        def reverted = harness.run('recipe:external-snapshot-revert', vars(snapshot: name))

        then: 'the disk runs on a new overlay over the state file, and shows A without B'
        reverted.plan.failure() == null
        reverted.exitCode == 0
        String active = activeFile()
        FileNames.bytes(java.nio.file.Path.of(active).fileName.toString()) <= 255
        visible(active) == [A] as Set

        and: 'the state just before the revert is kept under a name a playbook can pass on, and still shows A and B'
        String kept = snapshots().find { it.startsWith('snapbook-before-revert-') }
        kept != null
        kept.length() <= 200
        FileNames.bytes(kept) <= 247
        def keptInfo = harness.run('recipe:external-snapshot-revert', vars(snapshot: kept))
        keptInfo.plan.failure() == null
        keptInfo.exitCode == 0
        visible(activeFile()) == [A, B] as Set

        where:
        what                              | name
        '200 ASCII letters'               | 's' * 200
        '120 non-ASCII letters (240 bytes)' | 'é' * 120
        'the longest name libvirt can keep' | 'é' * 123 + 'x'
    }

    def "a snapshot name longer than libvirt's metadata file name can be is refused by the plan; nothing changes"() {
        given:
        vm.start()
        def before = world()

        when:
        def out = harness.run('recipe:external-snapshot-create', [domain: vm.name(), name: 'é' * 200])

        then:
        out.exitCode == 1
        out.plan.failure().contains('is 400 bytes in UTF-8')
        out.plan.failure().contains('NAME.xml')
        world() == before
        Files.list(vm.dir()).withCloseable { it.count() } == 1
    }
}
