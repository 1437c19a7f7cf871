package dev.snapbook.steps.chain

import dev.snapbook.engine.spi.StepFailure
import dev.snapbook.steps.disk.DiskSwap
import dev.snapbook.steps.exec.Command
import dev.snapbook.steps.lab.LabVm
import dev.snapbook.steps.lab.TestStepContext
import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration
import spock.lang.Requires
import spock.lang.Specification

import static dev.snapbook.steps.lab.TestStepContext.params

@Requires(value = { LabVm.available() },
        reason = 'needs libvirt: `virsh -c qemu:///system version` must succeed (start virtlogd and libvirtd)')
class ChainVerifySpec extends Specification {

    LabVm vm
    TestStepContext ctx
    ChainVerify step = new ChainVerify()
    String base, mid, top

    def setup() {
        vm = LabVm.create()
        ctx = new TestStepContext(LabVm.URI)
        base = vm.dir().resolve('base.raw').toString()
        mid = vm.dir().resolve('mid.qcow2').toString()
        top = vm.dir().resolve('top.qcow2').toString()
        vm.qemuImg().create(Path.of(base), 'raw', 64L << 20)
        vm.qemuImg().createOverlay(Path.of(mid), Path.of(base), 'raw')
        vm.qemuImg().createOverlay(Path.of(top), Path.of(mid), 'qcow2')
    }

    def cleanup() {
        try {
            ctx?.close()
        } finally {
            vm?.close()
        }
    }

    def "reports the chain of a running domain's disk, top first, the same in plan and apply"() {
        given:
        def swap = new DiskSwap()
        def sp = params(swap, [domain: vm.name(), file: top, format: 'qcow2'])
        swap.apply(sp, swap.capture(sp, ctx), ctx)
        vm.start()
        def p = params(step, [domain: vm.name(), expect_base: base, expect_depth: 3])
        def expected = [chain: [[file: top, format: 'qcow2'], [file: mid, format: 'qcow2'], [file: base, format: 'raw']],
                        depth: 3L, base: base]

        when:
        def planned = step.plan(p, ctx.world())
        def outcome = step.apply(p, [:], ctx)

        then:
        !planned.changes()
        planned.predictedResult() == expected
        outcome.data() == expected
        !outcome.changed()
        step.verify(p, outcome, ctx).passed()
    }

    def "fails on a wrong expected base or depth, in plan and apply"() {
        given:
        def p = params(step, [image: top] + expectation)

        when:
        step.plan(p, ctx.world())

        then:
        def e1 = thrown(StepFailure)
        e1.message.contains(why)

        when:
        step.apply(p, [:], ctx)

        then:
        def e2 = thrown(StepFailure)
        e2.message.contains(why)

        where:
        expectation                  | why
        [expect_depth: 2]            | 'the chain has 3 image(s), not the expected 2'
        [expect_base: '/other.raw']  | 'not at the expected base /other.raw'
    }

    def "catches a missing backing file"() {
        given:
        Files.delete(Path.of(base))
        def p = params(step, [image: top])

        when:
        step.plan(p, ctx.world())

        then:
        def e1 = thrown(StepFailure)
        e1.message.contains('base.raw is damaged: it does not exist, but')

        when:
        step.apply(p, [:], ctx)

        then:
        def e2 = thrown(StepFailure)
        e2.message.contains("backing file $base of $mid does not exist")
    }

    def "catches a backing file declared raw that is really qcow2"() {
        given: 'mid is rewritten to say its backing file is qcow2 while it is raw'
        def r = Command.of('qemu-img', 'rebase', '-u', '-f', 'qcow2', '-b', base, '-F', 'qcow2', mid)
                .run(Duration.ofSeconds(30), { })
        assert r.succeeded(): r.stderr()
        def p = params(step, [image: top])

        when:
        step.apply(p, [:], ctx)

        then:
        def e = thrown(StepFailure)
        e.message.contains("backing file $base of $mid is declared qcow2 but its contents are raw")
    }

    def "catches a domain disk whose driver type does not match the file"() {
        given: 'vda declared raw over a qcow2 file (written into the definition directly)'
        vm.libvirt().defineXml(dev.snapbook.steps.disk.DiskSourceEditor.swap(
                vm.xml(dev.snapbook.steps.libvirt.XmlView.INACTIVE), 'lab XML', 'vda', vm.disk().toString(), 'raw'))
        def p = params(step, [domain: vm.name()])

        when:
        step.plan(p, ctx.world())

        then:
        def e1 = thrown(StepFailure)
        e1.message.contains("disk vda of domain ${vm.name()} is declared raw but ${vm.disk()} is qcow2")

        when:
        step.apply(p, [:], ctx)

        then:
        def e2 = thrown(StepFailure)
        e2.message.contains("image ${vm.disk()} is declared raw but its contents are qcow2")
    }

    def "catches a loop"() {
        given: 'base becomes a qcow2 whose backing file is top'
        Files.delete(Path.of(base))
        vm.qemuImg().create(Path.of(base), 'qcow2', 64L << 20)
        Command.of('qemu-img', 'rebase', '-u', '-f', 'qcow2', '-b', base, '-F', 'qcow2', mid).run(Duration.ofSeconds(30), { })
        Command.of('qemu-img', 'rebase', '-u', '-f', 'qcow2', '-b', top, '-F', 'qcow2', base).run(Duration.ofSeconds(30), { })

        when:
        step.apply(params(step, [image: top]), [:], ctx)

        then:
        def e = thrown(StepFailure)
        e.message.contains('the chain loops')
    }

    def "catches a corrupt qcow2 layer"() {
        given: 'mid holds data whose refcounts were never written'
        Files.delete(Path.of(mid))
        Command.of('qemu-img', 'create', '-q', '-f', 'qcow2', '-o', 'lazy_refcounts=on', '-b', base, '-F', 'raw', mid)
                .run(Duration.ofSeconds(30), { })
        Command.of('qemu-io', '-f', 'qcow2', '-c', 'write -P 0x11 0 1M', '-c', 'sigraise 9', mid).run(Duration.ofSeconds(30), { })

        when:
        step.apply(params(step, [image: top]), [:], ctx)

        then:
        def e = thrown(StepFailure)
        e.message.contains("qemu-img check -U $mid finds")
    }

    def "needs either a domain or an image"() {
        when:
        step.plan(params(step, given), ctx.world())

        then:
        def e = thrown(StepFailure)
        e.message.contains('needs either domain (and disk) or image')

        where:
        given << [[:], [domain: 'x', image: '/y']]
    }
}
