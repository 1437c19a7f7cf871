package dev.snapbook.steps.domain

import dev.snapbook.engine.spi.Outcome
import dev.snapbook.engine.spi.Reversibility
import dev.snapbook.engine.spi.StepFailure
import dev.snapbook.engine.spi.Unknown
import dev.snapbook.steps.lab.LabVm
import dev.snapbook.steps.lab.TestStepContext
import dev.snapbook.steps.libvirt.PowerState
import dev.snapbook.steps.libvirt.XmlView
import dev.snapbook.steps.xml.SafeXml
import java.nio.file.Files
import java.nio.file.Path
import spock.lang.Requires
import spock.lang.Specification

import static dev.snapbook.steps.lab.TestStepContext.params

@Requires(value = { LabVm.available() },
        reason = 'needs libvirt: `virsh -c qemu:///system version` must succeed (start virtlogd and libvirtd)')
class DomainFamilySpec extends Specification {

    LabVm vm
    TestStepContext ctx
    List<String> createdDomains = []

    def setup() {
        vm = LabVm.create()
        ctx = new TestStepContext(LabVm.URI)
    }

    def cleanup() {
        try {
            createdDomains.each { name ->
                if (vm.libvirt().exists(name)) {
                    vm.libvirt().undefine(name, EnumSet.noneOf(dev.snapbook.steps.libvirt.Libvirt.UndefineOption))
                }
            }
            ctx?.close()
        } finally {
            vm?.close()
        }
    }

    Map run(step, Map given) {
        def p = params(step, given)
        def captured = step.capture(p, ctx)
        Outcome outcome = step.apply(p, captured, ctx)
        def verification = step.verify(p, outcome, ctx)
        assert verification.passed(): verification.problems()
        [params: p, captured: captured, outcome: outcome]
    }

    /** The lab VM's persistent XML, edited through the DOM: {@code edit} gets the root element. */
    String editedXml(Closure edit) {
        def doc = SafeXml.parse(vm.xml(XmlView.INACTIVE), 'lab XML')
        edit(doc.documentElement)
        def out = new StringWriter()
        javax.xml.transform.TransformerFactory.newInstance().newTransformer()
                .transform(new javax.xml.transform.dom.DOMSource(doc), new javax.xml.transform.stream.StreamResult(out))
        out.toString()
    }

    Path file(String name, String content) {
        Files.writeString(vm.dir().resolve(name), content)
    }

    def "planning the domain steps changes nothing, #state"() {
        given:
        if (running) {
            vm.start()
        }
        def xmlFile = file('same.xml', vm.xml(XmlView.INACTIVE))
        def before = [vm.state(), vm.xml(XmlView.LIVE), vm.xml(XmlView.INACTIVE), java.nio.file.Files.readAllBytes(vm.disk()).sha256()]

        when:
        [new DomainDestroy(), new DomainDumpXml(), new DomainDisks(), new DomainAgent()].each { step ->
            step.plan(params(step, [domain: vm.name()]), ctx.world())
        }
        new DomainDefine().plan(params(new DomainDefine(), [xml_file: xmlFile.toString()]), ctx.world())

        then:
        [vm.state(), vm.xml(XmlView.LIVE), vm.xml(XmlView.INACTIVE), java.nio.file.Files.readAllBytes(vm.disk()).sha256()] == before

        where:
        running << [false, true]
        state = running ? 'running' : 'shut off'
    }

    def "domain.destroy powers a running domain off, the world equals the plan, the data stays, and undo starts it"() {
        given:
        vm.start()
        vm.writePattern(0x44, '1M', '1M')
        def step = new DomainDestroy()
        def world = ctx.world()

        when:
        def planned = step.plan(params(step, [domain: vm.name()]), world)
        def r = run(step, [domain: vm.name()])

        then:
        planned.actions() == ["virDomainDestroy(${vm.name()})".toString()]
        r.outcome.data() == planned.predictedResult()
        r.outcome.data() == [state: 'shutoff', destroyed: true]
        vm.state() == PowerState.SHUTOFF
        ctx.world().get(DomainFacts.key(vm.name())) == world.get(DomainFacts.key(vm.name()))
        LabVm.hasPattern(vm.disk(), 0x44, '1M', '1M')
        step.reversibility(r.params) == Reversibility.REVERSIBLE

        when:
        step.undo(r.params, r.captured, r.outcome, ctx)

        then:
        vm.state() == PowerState.RUNNING
    }

    def "domain.destroy of a shut-off domain is a no-op and its undo leaves it off"() {
        given:
        def step = new DomainDestroy()

        when:
        def planned = step.plan(params(step, [domain: vm.name()]), ctx.world())
        def r = run(step, [domain: vm.name()])
        step.undo(r.params, r.captured, r.outcome, ctx)

        then:
        !planned.changes()
        !r.outcome.changed()
        vm.state() == PowerState.SHUTOFF
    }

    def "domain.disks lists the disks as virsh domblklist --details does, predicted exactly"() {
        given:
        vm.start()
        def step = new DomainDisks()

        when:
        def planned = step.plan(params(step, [domain: vm.name()]), ctx.world())
        def r = run(step, [domain: vm.name()])

        then:
        r.outcome.data() == planned.predictedResult()
        r.outcome.data() == [disks: [[target: 'vda', device: 'disk', type: 'file', source: vm.disk().toString(),
                                      format: 'qcow2', bus: 'virtio']]]
    }

    def "domain.dumpxml returns the live or the persistent XML"() {
        given:
        vm.start()
        def step = new DomainDumpXml()

        when:
        def planned = step.plan(params(step, [domain: vm.name(), inactive: inactive]), ctx.world())
        def r = run(step, [domain: vm.name(), inactive: inactive])

        then:
        planned.predictedResult().xml instanceof Unknown
        r.outcome.data().xml == vm.xml(inactive ? XmlView.INACTIVE : XmlView.LIVE)
        r.outcome.data().xml.contains('<alias name=') == !inactive

        where:
        inactive << [false, true]
    }

    def "domain.agent: no channel means not configured and not answering; a channel without an agent is configured but silent"() {
        given: 'the lab VM, first as it is, then redefined with the guest agent channel (no guest OS answers it)'
        def step = new DomainAgent()

        when:
        vm.start()
        def plain = run(step, [domain: vm.name(), timeout: '2s'])

        then:
        plain.outcome.data() == [configured: false, answering: false]

        when:
        vm.destroy()
        vm.libvirt().defineXml(editedXml { root ->
            def devices = SafeXml.child(root, 'devices')
            def channel = root.ownerDocument.createElement('channel')
            channel.setAttribute('type', 'unix')
            def target = root.ownerDocument.createElement('target')
            target.setAttribute('type', 'virtio')
            target.setAttribute('name', 'org.qemu.guest_agent.0')
            channel.appendChild(target)
            devices.appendChild(channel)
        })
        vm.start()
        def started = System.nanoTime()
        def withChannel = run(step, [domain: vm.name(), timeout: '2s'])

        then:
        withChannel.outcome.data() == [configured: true, answering: false]
        withChannel.outcome.message().contains('did not answer')
        (System.nanoTime() - started) / 1e9 < 15
    }

    def "domain.define redefines an existing domain from a file, predicted, and undo restores the old definition"() {
        given: 'a definition with a second disk'
        def extra = vm.dir().resolve('extra.qcow2')
        vm.qemuImg().create(extra, 'qcow2', 1L << 20)
        def oldXml = vm.xml(XmlView.INACTIVE)
        def newXml = editedXml { root ->
            def devices = SafeXml.child(root, 'devices')
            def disk = SafeXml.child(devices, 'disk').cloneNode(true)
            SafeXml.child(disk, 'source').setAttribute('file', extra.toString())
            SafeXml.child(disk, 'target').setAttribute('dev', 'vdb')
            def address = SafeXml.child(disk, 'address')
            if (address != null) {
                disk.removeChild(address)
            }
            devices.insertBefore(disk, SafeXml.child(devices, 'disk').nextSibling)
        }
        def xmlFile = file('new.xml', newXml)
        def step = new DomainDefine()
        def world = ctx.world()

        when:
        def planned = step.plan(params(step, [xml_file: xmlFile.toString()]), world)
        def r = run(step, [xml_file: xmlFile.toString()])

        then:
        planned.predictedResult() == [name: vm.name(), created: false]
        r.outcome.data() == planned.predictedResult()
        ctx.world().get(DomainFacts.key(vm.name())) == world.get(DomainFacts.key(vm.name()))
        ctx.world().get(DomainFacts.key(vm.name())).disks()*.target() == ['vda', 'vdb']
        r.captured.previous_xml == oldXml

        when:
        step.undo(r.params, r.captured, r.outcome, ctx)

        then:
        vm.xml(XmlView.INACTIVE) == oldXml
    }

    def "domain.define of a new domain predicts it shut off, and undo undefines it"() {
        given:
        def name = vm.name() + '-new'
        createdDomains << name
        def xmlFile = file('new.xml', editedXml { root ->
            SafeXml.child(root, 'name').textContent = name
            root.removeChild(SafeXml.child(root, 'uuid'))
        })
        def step = new DomainDefine()
        def world = ctx.world()

        when:
        def planned = step.plan(params(step, [xml_file: xmlFile.toString()]), world)
        def r = run(step, [xml_file: xmlFile.toString()])

        then:
        planned.actions() == ["virDomainDefineXML($xmlFile): defines the new domain $name".toString()]
        r.outcome.data() == [name: name, created: true]
        ctx.world().get(DomainFacts.key(name)) == world.get(DomainFacts.key(name))

        when:
        step.undo(r.params, r.captured, r.outcome, ctx)

        then:
        !vm.libvirt().exists(name)
    }

    def "domain.define refuses #why before anything changes"() {
        given:
        def before = vm.xml(XmlView.INACTIVE)
        def path = content == null ? vm.dir().resolve('missing.xml') : file('bad.xml', content.replace('NAME', vm.name()))
        def step = new DomainDefine()

        when:
        step.plan(params(step, [xml_file: path.toString()]), ctx.world())

        then:
        def e = thrown(StepFailure)
        e.message.contains(message)
        vm.xml(XmlView.INACTIVE) == before

        where:
        why                  | content                                                                      | message
        'a doctype'          | '<!DOCTYPE domain [<!ENTITY x SYSTEM "file:///etc/passwd">]><domain><name>NAME</name></domain>' | 'DOCTYPE'
        'another document'   | '<network><name>NAME</name></network>'                                      | 'holds a <network> document'
        'a domain without name' | '<domain type="kvm"/>'                                                    | 'has no <name>'
        'malformed XML'      | '<domain><name>NAME</name>'                                                  | 'not acceptable XML'
        'duplicate disks'    | '<domain><name>NAME</name><devices><disk><target dev="vda"/></disk><disk><target dev="vda"/></disk></devices></domain>' | "two disks have target dev 'vda'"
        'a missing file'     | null                                                                         | 'cannot read the domain XML file'
    }
}
