package dev.snapbook.playbooks

import com.fasterxml.jackson.databind.JsonNode
import dev.snapbook.engine.cli.Main
import dev.snapbook.engine.json.Json
import dev.snapbook.steps.lab.LabVm
import dev.snapbook.steps.libvirt.PowerState
import dev.snapbook.steps.libvirt.XmlView
import spock.lang.Requires
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * The engine's loop on a real lab VM, through the CLI: plan changes nothing; run shuts down, checks and
 * starts the VM; a failing third step undoes the first two in reverse order and exits 1.
 */
@Requires(value = { LabVm.available() || System.getenv('CI') },
        reason = 'needs libvirt: `virsh -c qemu:///system version` must succeed (run scripts/setup)')
class EngineOnRealVmSpec extends Specification {

    @TempDir
    Path dir

    LabVm vm

    def setup() {
        vm = LabVm.create()
        vm.start()
        vm.writePattern(0x11, '1M', '1M')
        System.setProperty('snapbook.state', dir.resolve('state').toString())
    }

    def cleanup() {
        System.clearProperty('snapbook.state')
        vm?.close()
    }

    Path playbook(String text) {
        Path p = dir.resolve('pb.yml')
        Files.writeString(p, text)
        p
    }

    static final String RESTART = '''\
        name: Restart a VM and check it came back
        steps:
          - name: Stop the VM
            domain.shutdown: { domain: "{{ domain }}", timeout: 2s, force: true }
          - domain.state: { domain: "{{ domain }}" }
            register: stopped
            verify: "stopped.state == 'shutoff'"
          - image.info: { path: "{{ disk }}" }
            register: img
            verify: "img.format == 'qcow2'"
          - domain.start: { domain: "{{ domain }}" }
            register: started
          - assert:
              that: ["started.changed", "stopped.state == 'shutoff'"]
        '''.stripIndent()

    List<String> journalEvents(String type = null) {
        Path journal = Files.list(dir.resolve('state')).withCloseable { s ->
            s.filter { it.fileName.toString().endsWith('.jsonl') }.findFirst().orElseThrow()
        }
        Files.readAllLines(journal).collect { Json.MAPPER.readTree(it) }
                .findAll { JsonNode n -> type == null || n.path('type').asText() == type }
                .collect { JsonNode n -> n.get('event').asText() + (n.has('type') ? ' ' + n.get('type').asText() : '') }
    }

    def "plan observes the VM read-only and changes nothing"() {
        given:
        def pb = playbook(RESTART)
        def xmlBefore = vm.xml(XmlView.INACTIVE)
        def liveBefore = vm.xml(XmlView.LIVE)
        def bytesBefore = Files.readAllBytes(vm.disk()).sha256()

        when:
        int exit = Main.execute('plan', '-c', LabVm.URI, '-e', "domain=${vm.name()}", '-e', "disk=${vm.disk()}",
                pb.toString())

        then:
        exit == 0
        vm.state() == PowerState.RUNNING
        vm.xml(XmlView.INACTIVE) == xmlBefore
        vm.xml(XmlView.LIVE) == liveBefore
        Files.readAllBytes(vm.disk()).sha256() == bytesBefore
        !Files.exists(dir.resolve('state'))
    }

    def "run shuts the VM down, checks it and starts it again, with the data intact"() {
        given:
        def pb = playbook(RESTART)

        when:
        int exit = Main.execute('run', '-c', LabVm.URI, '-e', "domain=${vm.name()}", '-e', "disk=${vm.disk()}",
                pb.toString())

        then:
        exit == 0
        vm.state() == PowerState.RUNNING
        journalEvents().findAll { it.startsWith('step_verified') } == ['step_verified domain.shutdown',
                'step_verified domain.state', 'step_verified image.info', 'step_verified domain.start',
                'step_verified assert']
        LabVm.hasPattern(vm.disk(), 0x11, '1M', '1M')
    }

    def "a failing third step undoes the first two in reverse order and exits 1"() {
        given:
        def pb = playbook('''\
            name: Fails at the third step
            steps:
              - domain.shutdown: { domain: "{{ domain }}", timeout: 2s, force: true }
              - domain.start: { domain: "{{ domain }}" }
              - test.fail: { message: injected failure }
            '''.stripIndent())

        when:
        int exit = Main.execute('run', '-c', LabVm.URI, '-e', "domain=${vm.name()}", pb.toString())
        def events = journalEvents().findAll { it.startsWith('undo_started') }

        then:
        exit == 1
        events == ['undo_started domain.start', 'undo_started domain.shutdown']
        vm.state() == PowerState.RUNNING
        LabVm.hasPattern(vm.disk(), 0x11, '1M', '1M')
    }

    def "a plan whose precondition fails exits 1 and does nothing"() {
        given:
        def pb = playbook('''\
            name: Needs a domain that does not exist
            steps:
              - domain.shutdown: { domain: "{{ domain }}", timeout: 2s, force: true }
              - domain.state: { domain: snapbook-test-no-such-domain }
            '''.stripIndent())

        when:
        int exit = Main.execute('run', '-c', LabVm.URI, '-e', "domain=${vm.name()}", pb.toString())

        then:
        exit == 1
        vm.state() == PowerState.RUNNING
        !Files.exists(dir.resolve('state'))
    }
}
