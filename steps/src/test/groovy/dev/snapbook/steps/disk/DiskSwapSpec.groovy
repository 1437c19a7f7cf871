package dev.snapbook.steps.disk

import dev.snapbook.engine.spi.Outcome
import dev.snapbook.engine.spi.Reversibility
import dev.snapbook.engine.spi.StepFailure
import dev.snapbook.steps.domain.DomainFactSource
import dev.snapbook.steps.domain.DomainFacts
import dev.snapbook.steps.lab.LabVm
import dev.snapbook.steps.lab.TestStepContext
import dev.snapbook.steps.libvirt.XmlView
import java.nio.file.Files
import java.nio.file.Path
import spock.lang.Requires
import spock.lang.Specification

import static dev.snapbook.steps.lab.TestStepContext.params

@Requires(value = { LabVm.available() },
        reason = 'needs libvirt: `virsh -c qemu:///system version` must succeed (start virtlogd and libvirtd)')
class DiskSwapSpec extends Specification {

    LabVm vm
    TestStepContext ctx
    DiskSwap step = new DiskSwap()
    LabVm other

    def setup() {
        vm = LabVm.create()
        ctx = new TestStepContext(LabVm.URI)
    }

    def cleanup() {
        try {
            ctx?.close()
        } finally {
            try {
                other?.close()
            } finally {
                vm?.close()
            }
        }
    }

    def "swaps vda to a raw copy and back: the guest sees the file the plan named, undo restores the XML exactly"() {
        given: 'the VM writes 0x22; a raw copy gets it, then the VM writes 0x33 into the original only'
        vm.start()
        vm.writePattern(0x22, '1M', '1M')
        vm.destroy()
        def copy = vm.dir().resolve('copy.raw').toString()
        vm.qemuImg().convert(vm.disk(), 'qcow2', Path.of(copy), 'raw')
        vm.start()
        vm.writePattern(0x33, '4M', '1M')
        vm.destroy()
        def xmlBefore = vm.xml(XmlView.INACTIVE)
        def p = params(step, [domain: vm.name(), file: copy, format: 'raw'])
        def world = ctx.world()

        when:
        def planned = step.plan(p, world)

        then: 'the plan names the change and predicts the domain; nothing changed yet'
        planned.changes()
        planned.actions()[1] == "edit disk vda: <source file> ${vm.disk()} → $copy, <driver type> qcow2 → raw".toString()
        vm.xml(XmlView.INACTIVE) == xmlBefore
        step.reversibility(p) == Reversibility.REVERSIBLE

        when:
        def captured = step.capture(p, ctx)
        Outcome outcome = step.apply(p, captured, ctx)

        then:
        step.verify(p, outcome, ctx).passed()
        outcome.data() == [domain: vm.name(), disk: 'vda', file: copy, format: 'raw',
                           previous_file: vm.disk().toString(), previous_format: 'qcow2']
        DomainFactSource.observe(vm.name(), vm.libvirt()) == world.get(DomainFacts.key(vm.name()))

        when: 'the guest writes 0x44 through vda'
        vm.start()
        vm.writePattern(0x44, '8M', '1M')
        vm.destroy()

        then: 'it went into the raw copy, which has 0x22 but not the later 0x33; the original did not get it'
        LabVm.hasPattern(Path.of(copy), 0x44, '8M', '1M')
        LabVm.hasPattern(Path.of(copy), 0x22, '1M', '1M')
        !LabVm.hasPattern(Path.of(copy), 0x33, '4M', '1M')
        !LabVm.hasPattern(vm.disk(), 0x44, '8M', '1M')
        LabVm.hasPattern(vm.disk(), 0x33, '4M', '1M')

        when:
        step.undo(p, captured, outcome, ctx)

        then:
        vm.xml(XmlView.INACTIVE) == xmlBefore
    }

    def "plan refuses: #why"() {
        given:
        def raw = vm.dir().resolve('r.raw')
        vm.qemuImg().create(raw, 'raw', 1L << 20)
        def other = vm.dir().resolve('other.qcow2')
        vm.qemuImg().createOverlay(other, vm.disk(), 'qcow2')
        if (running) {
            vm.start()
        }
        def values = given.collectEntries { k, v -> [k, v.toString().replace('DIR', vm.dir().toString()).replace('VM', vm.name())] }

        when:
        step.plan(params(step, values), ctx.world())

        then:
        def e = thrown(StepFailure)
        e.message.contains(why.replace('DIR', vm.dir().toString()).replace('VM', vm.name()))
        e.hint() != null

        where:
        why                                        | running | given
        "domain 'nope-x' does not exist"           | false   | [domain: 'nope-x', file: 'DIR/r.raw', format: 'raw']
        'domain VM has no disk vdz'                | false   | [domain: 'VM', disk: 'vdz', file: 'DIR/r.raw', format: 'raw']
        'image DIR/none.raw does not exist'        | false   | [domain: 'VM', file: 'DIR/none.raw', format: 'raw']
        'image DIR/r.raw is raw, not qcow2'        | false   | [domain: 'VM', file: 'DIR/r.raw', format: 'qcow2']
        "domain VM is running; disk.swap changes"  | true    | [domain: 'VM', file: 'DIR/r.raw', format: 'raw']
    }

    def "refuses to point a disk at a file another domain's chain uses"() {
        given: 'a second lab VM runs on an overlay over spare.qcow2'
        def spare = vm.dir().resolve('spare.qcow2')
        vm.qemuImg().create(spare, 'qcow2', 64L << 20)
        other = LabVm.create()
        def overlay = other.dir().resolve('over.qcow2')
        other.qemuImg().createOverlay(overlay, spare, 'qcow2')
        def sp = params(step, [domain: other.name(), file: overlay.toString(), format: 'qcow2'])
        step.apply(sp, step.capture(sp, ctx), ctx)
        other.start()

        when:
        step.plan(params(step, [domain: vm.name(), file: spare.toString(), format: 'qcow2']), ctx.world())

        then:
        def e = thrown(StepFailure)
        e.message.contains("these states already read it:\n  - disk vda of domain ${other.name()} (running) ($overlay → $spare)")
    }
}
