package dev.snapbook.playbooks.safety

import dev.snapbook.engine.cli.Main
import dev.snapbook.playbooks.recipes.ExternalRecipeSupport
import dev.snapbook.steps.exec.Command
import dev.snapbook.steps.lab.LabVm
import dev.snapbook.steps.libvirt.PowerState
import dev.snapbook.steps.libvirt.XmlView
import dev.snapbook.steps.xml.SafeXml
import dev.snapbook.steps.xml.XmlText
import spock.lang.Requires

import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration

/**
 * No secret of a domain's definition reaches a journal, a {@code --log} or the {@code -vv} output, and no run
 * or undo drops it: a display password is planted in a lab VM's persistent definition, recipes and a disk.swap
 * playbook run (to the end, and undone after an injected failure), and every file and output is searched
 * for it. libvirt refuses VNC passwords over 8 characters, so the password is planted on a SPICE display.
 */
@Requires(value = { LabVm.available() }, reason = 'needs libvirt: `virsh -c qemu:///system version` must succeed')
class SecretsSpec extends ExternalRecipeSupport {

    // 8 characters: libvirt takes no longer VNC password
    static final String SECRET = 'Qx7vPl2m'

    Path state

    def setup() {
        state = tmp.resolve('state')
        System.setProperty('snapbook.state', state.toString())
        plantPassword()
        assert securePasswords() == [SECRET]
    }

    def cleanup() {
        System.clearProperty('snapbook.state')
    }

    def "external-snapshot-revert with -vv and --log, completed and rolled back: the password is nowhere, and the domain keeps it"() {
        given:
        vm.start()
        write(A)
        snapshot('s1')
        write(B)
        if (failing) {
            injectFailure('external-snapshot-revert', 'Read the disks now')
        }

        when:
        def out = HostErrorsSpec.output {
            Main.execute('run', '--yes', '-vv', '--log', tmp.resolve('run.log').toString(),
                    '--recipes', tmp.resolve('recipes').toString(), 'recipe:external-snapshot-revert',
                    '-e', "domain=${vm.name()}", '-e', 'snapshot=s1', '-e', 'timeout=1s')
        }

        then: 'the run did what was asked: reverted, or undone back to the overlay it ran on'
        out.code == (failing ? 1 : 0)
        vm.state() == PowerState.RUNNING
        visible(activeFile()) == (failing ? [A, B] : [A]) as Set
        failing == (activeFile() == file('vda.s1').toString())

        and: 'the journal, the log and the output were written, with the verbose trace, and none holds the password'
        out.text.contains('virDomainDefineXML')
        journals().size() == 1
        leaks(out.text) == []

        and: 'the domain still has its password'
        securePasswords() == [SECRET]

        where:
        failing << [false, true]
    }

    def "a disk.swap playbook undone after a failure, with -vv and --log: the password is nowhere, and the domain keeps it"() {
        given: 'a shut-off VM; the playbook swaps vda to a new overlay, then fails'
        vm.start()
        write(A)
        vm.destroy()
        Path overlay = file('vda-next.qcow2')
        Path playbook = tmp.resolve('swap.yml')
        Files.writeString(playbook, """\
            name: swap and fail
            steps:
              - image.create: { path: "${overlay}", backing: "${vm.disk()}", backing_format: qcow2 }
              - disk.swap: { domain: "${vm.name()}", disk: vda, file: "${overlay}", format: qcow2 }
              - test.fail: { message: injected failure }
            """.stripIndent())

        when:
        def out = HostErrorsSpec.output {
            Main.execute('run', '--yes', '-vv', '--log', tmp.resolve('run.log').toString(), playbook.toString())
        }

        then: 'undone: back on the old disk, the overlay gone'
        out.code == 1
        out.text.contains('virDomainDefineXML')
        vm.state() == PowerState.SHUTOFF
        activeFile() == vm.disk().toString()
        !Files.exists(overlay)
        visible(vm.disk()) == [A] as Set

        and:
        journals().size() == 1
        Files.readString(journals()[0]).contains('persistent_xml')
        leaks(out.text) == []
        securePasswords() == [SECRET]
    }

    // ---- helpers ---------------------------------------------------------------------------------------------

    /**
     * Adds {@code <graphics type='vnc' passwd=SECRET/>} (on loopback) to the VM's persistent definition. VNC, not
     * SPICE: Debian 13's QEMU has SPICE in a separate package (qemu-system-modules-spice) that a minimal install
     * leaves out, and libvirt then refuses the definition.
     */
    void plantPassword() {
        def doc = SafeXml.parse(vm.xml(XmlView.INACTIVE), 'lab VM')
        def devices = SafeXml.child(doc.documentElement, 'devices')
        def graphics = doc.createElement('graphics')
        graphics.setAttribute('type', 'vnc')
        graphics.setAttribute('autoport', 'yes')
        graphics.setAttribute('passwd', SECRET)
        def listen = doc.createElement('listen')
        listen.setAttribute('type', 'address')
        listen.setAttribute('address', '127.0.0.1')
        graphics.appendChild(listen)
        devices.appendChild(graphics)
        vm.libvirt().defineXml(XmlText.write(doc))
    }

    /** The display passwords of the persistent definition, as {@code virsh dumpxml --inactive --security-info} shows them. */
    List<String> securePasswords() {
        def r = Command.of('virsh', '-c', LabVm.URI, 'dumpxml', '--inactive', '--security-info', vm.name())
                .run(Duration.ofSeconds(30), { })
        assert r.succeeded(): r.stderr()
        SafeXml.children(SafeXml.child(SafeXml.parse(r.stdout(), 'dumpxml').documentElement, 'devices'), 'graphics')
                .collect { it.getAttribute('passwd') }.findAll { it }
    }

    List<Path> journals() {
        Files.list(state).withCloseable { s -> s.filter { it.toString().endsWith('.jsonl') }.toList() }
    }

    /** Every place the password was found: files under the state directory and tmp (the log), and the output. */
    List<String> leaks(String output) {
        def found = []
        if (output.contains(SECRET)) {
            found << 'output'
        }
        Files.walk(tmp).withCloseable { s -> s.filter { Files.isRegularFile(it) }.toList() }.each { Path f ->
            if (f.fileName.toString().endsWith('.qcow2') || f.fileName.toString().startsWith('vda')) {
                return // disk images: the guest's data, not snapbook's
            }
            if (new String(Files.readAllBytes(f), 'ISO-8859-1').contains(SECRET)) {
                found << f.toString()
            }
        }
        assert Files.exists(tmp.resolve('run.log')) && Files.size(tmp.resolve('run.log')) > 0
        found
    }
}
