package dev.snapbook.steps.block

import dev.snapbook.engine.spi.Outcome
import dev.snapbook.engine.spi.Reversibility
import dev.snapbook.engine.spi.StepFailure
import dev.snapbook.engine.spi.Unknown
import dev.snapbook.steps.domain.DiskFacts
import dev.snapbook.steps.domain.DomainFacts
import dev.snapbook.steps.exec.Command
import dev.snapbook.steps.image.ImageFacts
import dev.snapbook.steps.lab.LabVm
import dev.snapbook.steps.lab.TestStepContext
import dev.snapbook.steps.libvirt.XmlView
import java.nio.file.Path
import java.time.Duration
import spock.lang.Requires
import spock.lang.Specification

import static dev.snapbook.steps.lab.TestStepContext.params

@Requires(value = { LabVm.available() },
        reason = 'needs libvirt: `virsh -c qemu:///system version` must succeed (start virtlogd and libvirtd)')
class BlockStepsSpec extends Specification {

    LabVm vm
    TestStepContext ctx

    def setup() {
        vm = LabVm.create()
        ctx = new TestStepContext(LabVm.URI)
    }

    def cleanup() {
        try {
            ctx?.close()
        } finally {
            vm?.close()
        }
    }

    /** An external overlay on vda of the running lab VM, made by libvirt without snapshot metadata. */
    Path overlay(String fileName) {
        Path file = vm.dir().resolve(fileName)
        def r = Command.of('virsh', '-c', LabVm.URI, 'snapshot-create-as', vm.name(), '--disk-only', '--atomic',
                '--no-metadata', '--diskspec', "vda,snapshot=external,file=$file".toString())
                .run(Duration.ofSeconds(60), { })
        assert r.succeeded(): r.stderr()
        file
    }

    Map run(step, Map given) {
        def p = params(step, given)
        def captured = step.capture(p, ctx)
        Outcome outcome = step.apply(p, captured, ctx)
        def verification = step.verify(p, outcome, ctx)
        assert verification.passed(): verification.problems()
        [params: p, captured: captured, outcome: outcome]
    }

    /** What planning must not change: the domain's XML and every file's bytes. */
    List snapshotOfEverything() {
        [vm.state(), vm.xml(XmlView.LIVE), vm.xml(XmlView.INACTIVE),
         vm.dir().toFile().listFiles().sort().collect { [it.name, it.bytes.sha256()] }]
    }

    /** Progress percentages reported so far. */
    List<Integer> percents() {
        ctx.progressReports().collect { (it =~ /(\d+)%$/)[0][1] as int }
    }

    static boolean qemuImgCheck(Path image) {
        Command.of('qemu-img', 'check', '-q', image.toString()).run(Duration.ofSeconds(60), { }).succeeded()
    }

    def "block.commit --active --pivot merges the overlay into its base, pivots only when ready, and the world equals the plan"() {
        given: 'pattern A in the base, an external overlay, pattern B (24 MiB) in the overlay'
        vm.start()
        def base = vm.disk()
        vm.writePattern(0x11, '0', '4M')
        def top = overlay('top.qcow2')
        vm.writePattern(0x22, '8M', '24M')
        def step = new BlockCommit()
        def given = [domain: vm.name(), active: true, bandwidth: 8]
        def world = ctx.world()
        def before = snapshotOfEverything()

        when:
        def planned = step.plan(params(step, given), world)

        then: 'the plan names the exact calls, predicts the disk on the base, and changed nothing'
        snapshotOfEverything() == before
        planned.actions()[0] == "virDomainBlockCommit(${vm.name()}, vda, base=$base, top=$top, bandwidth=8 MiB/s, flags=ACTIVE)".toString()
        planned.actions()[1].contains("<mirror ready='yes'>")
        planned.actions()[2] == "virDomainBlockJobAbort(${vm.name()}, vda, PIVOT): vda then runs on $base".toString()
        planned.predictedResult() == [disk: 'vda', top: top.toString(), base: base.toString(),
                                      active_file: base.toString(), chain: [base.toString()],
                                      merged: [top.toString()]]
        world.get(DomainFacts.key(vm.name())).disks()[0] == new DiskFacts('vda', 'disk', 'file', base.toString(), 'qcow2', 'virtio')
        step.reversibility(params(step, given)) == Reversibility.IRREVERSIBLE

        when:
        def r = run(step, given)

        then: 'vda runs on the base, which holds A and B; no job is left'
        r.captured == [chain_before: [top.toString(), base.toString()], base: base.toString()]
        r.outcome.data() == planned.predictedResult()
        ctx.world().get(DomainFacts.key(vm.name())) == world.get(DomainFacts.key(vm.name()))
        ctx.world().get(ImageFacts.key(base.toString())) == world.get(ImageFacts.key(base.toString()))
        LabVm.hasPattern(base, 0x11, '0', '4M')
        LabVm.hasPattern(base, 0x22, '8M', '24M')
        !LabVm.hasPattern(base, 0x22, '0', '4M')
        vm.libvirt().blockJob(vm.name(), 'vda') == null

        and: 'progress was polled while the job ran, before it was ready, and ended at 100%'
        percents().size() > 2
        percents().first() < 100
        percents().last() == 100
        ctx.traces().any { it.startsWith('virDomainBlockJobAbort[vda, PIVOT]') }

        and: "the wait heard libvirt's block-job event (ready) before the pivot"
        def traces = ctx.traces()
        def ready = traces.indexOf('block-job event on vda: ready')
        ready >= 0
        ready < traces.findIndexOf { it.startsWith('virDomainBlockJobAbort[vda, PIVOT]') }

        when: 'the guest keeps writing: it writes into the base now, and the old overlay is left alone'
        def topBytes = java.nio.file.Files.readAllBytes(top).sha256()
        vm.writePattern(0x33, '40M', '1M')

        then:
        LabVm.hasPattern(base, 0x33, '40M', '1M')
        java.nio.file.Files.readAllBytes(top).sha256() == topBytes

        when:
        vm.destroy()

        then:
        qemuImgCheck(base)
    }

    def "block.commit of an inner layer merges it into the base and rebases the active image onto the base"() {
        given: 'base (A) <- mid (B) <- top (C)'
        vm.start()
        def base = vm.disk()
        vm.writePattern(0x11, '0', '1M')
        def mid = overlay('mid.qcow2')
        vm.writePattern(0x22, '2M', '1M')
        def top = overlay('top.qcow2')
        vm.writePattern(0x33, '4M', '1M')
        def step = new BlockCommit()
        def given = [domain: vm.name(), top: mid.toString(), base: base.toString()]
        def world = ctx.world()

        when:
        def planned = step.plan(params(step, given), world)
        def r = run(step, given)

        then:
        planned.actions()[0].endsWith("base=$base, top=$mid, bandwidth=unlimited, flags=0)")
        r.outcome.data() == planned.predictedResult()
        r.outcome.data().chain == [top.toString(), base.toString()]
        r.outcome.data().merged == [mid.toString()]
        ctx.world().get(ImageFacts.key(top.toString())) == world.get(ImageFacts.key(top.toString()))
        ctx.world().get(ImageFacts.key(top.toString())).backingChain()*.file() == [base.toString()]
        ctx.world().get(DomainFacts.key(vm.name())).disks()[0].source() == top.toString()
        LabVm.hasPattern(base, 0x11, '0', '1M')
        LabVm.hasPattern(base, 0x22, '2M', '1M')
        !LabVm.hasPattern(base, 0x33, '4M', '1M')
        [[0x11, '0'], [0x22, '2M'], [0x33, '4M']].every { p, off -> LabVm.hasPattern(top, p, off, '1M') }
    }

    def "block.pull copies the whole chain into the active image, which then has no backing file"() {
        given: 'pattern A (16 MiB) in the base, pattern B in an overlay'
        vm.start()
        def base = vm.disk()
        vm.writePattern(0x11, '0', '16M')
        def top = overlay('top.qcow2')
        vm.writePattern(0x22, '20M', '1M')
        def step = new BlockPull()
        def given = [domain: vm.name(), bandwidth: 8]
        def world = ctx.world()
        def before = snapshotOfEverything()

        when:
        def planned = step.plan(params(step, given), world)

        then:
        snapshotOfEverything() == before
        planned.actions()[0] == "virDomainBlockPull(${vm.name()}, vda, bandwidth=8 MiB/s, 0)".toString()
        planned.predictedResult() == [disk: 'vda', base: null, active_file: top.toString(), chain: [top.toString()],
                                      pulled: [base.toString()]]
        world.get(ImageFacts.key(top.toString())).backingChain() == []

        when:
        def r = run(step, given)

        then:
        r.outcome.data() == planned.predictedResult()
        ctx.world().get(ImageFacts.key(top.toString())) == world.get(ImageFacts.key(top.toString()))
        ctx.world().get(DomainFacts.key(vm.name())) == world.get(DomainFacts.key(vm.name()))
        percents().any { it > 0 && it < 100 }

        when: 'the base is moved away, the top alone still holds A and B'
        vm.destroy()
        java.nio.file.Files.move(base, vm.dir().resolve('moved-away.qcow2'))

        then:
        LabVm.hasPattern(top, 0x11, '0', '16M')
        LabVm.hasPattern(top, 0x22, '20M', '1M')
        qemuImgCheck(top)
    }

    def "block.pull down to a base keeps the base as the backing file"() {
        given:
        vm.start()
        def base = vm.disk()
        vm.writePattern(0x11, '0', '1M')
        def mid = overlay('mid.qcow2')
        vm.writePattern(0x22, '2M', '1M')
        def top = overlay('top.qcow2')
        def midBytes = java.nio.file.Files.readAllBytes(mid).sha256()
        def step = new BlockPull()
        def given = [domain: vm.name(), base: base.toString()]
        def world = ctx.world()

        when:
        def planned = step.plan(params(step, given), world)
        def r = run(step, given)

        then:
        planned.actions()[0].startsWith("virDomainBlockRebase(${vm.name()}, vda, base=$base")
        r.outcome.data() == planned.predictedResult()
        r.outcome.data().chain == [top.toString(), base.toString()]
        r.outcome.data().pulled == [mid.toString()]
        ctx.world().get(ImageFacts.key(top.toString())) == world.get(ImageFacts.key(top.toString()))

        when: 'the domain is stopped, so QEMU has written its metadata out'
        vm.destroy()
        def map = Command.of('qemu-img', 'map', '--output=json', top.toString()).run(Duration.ofSeconds(30), { }).stdout()

        then: "mid's data (2M) is now in the top itself (depth 0); the base's (0) is still read from the base"
        map.contains('{ "start": 2097152, "length": 1048576, "depth": 0, "present": true')
        map.contains('{ "start": 0, "length": 1048576, "depth": 1, "present": true')
        LabVm.hasPattern(top, 0x22, '2M', '1M')
        LabVm.hasPattern(top, 0x11, '0', '1M')
        java.nio.file.Files.readAllBytes(mid).sha256() == midBytes
    }

    def "a commit that times out is cancelled without a pivot: no job is left and the disk stays on its overlay"() {
        given:
        vm.start()
        def base = vm.disk()
        def top = overlay('top.qcow2')
        vm.writePattern(0x22, '0', '32M')
        def step = new BlockCommit()
        def p = params(step, [domain: vm.name(), active: true, bandwidth: 1, timeout: '1s'])

        when:
        step.apply(p, step.capture(p, ctx), ctx)

        then:
        def e = thrown(StepFailure)
        e.message.contains("did not become ready within 1s")
        vm.libvirt().blockJob(vm.name(), 'vda') == null
        ctx.world().get(DomainFacts.key(vm.name())).disks()[0].source() == top.toString()
        ctx.world().get(ImageFacts.key(top.toString())).backingChain()*.file() == [base.toString()]
        LabVm.hasPattern(top, 0x22, '0', '32M')
    }

    def "block.job reports a running commit and aborts it, leaving the disk on its overlay"() {
        given: 'a slow active commit started by hand'
        vm.start()
        def base = vm.disk()
        def top = overlay('top.qcow2')
        vm.writePattern(0x22, '0', '32M')
        vm.libvirt().blockCommit(vm.name(), 'vda', base.toString(), top.toString(), 1,
                EnumSet.of(dev.snapbook.steps.libvirt.Libvirt.CommitOption.ACTIVE))
        def step = new BlockJob()

        when:
        def planned = step.plan(params(step, [domain: vm.name()]), ctx.world())
        def status = run(step, [domain: vm.name()])

        then:
        !planned.changes()
        planned.predictedResult().values().every { it instanceof Unknown }
        status.outcome.data().active == true
        status.outcome.data().type == 'active_commit'
        status.outcome.data().ready == false
        status.outcome.data().end > 0

        when:
        def aborted = run(step, [domain: vm.name(), action: 'abort'])
        def again = run(step, [domain: vm.name(), action: 'abort'])

        then:
        aborted.outcome.changed()
        aborted.outcome.data().aborted == true
        !again.outcome.changed()
        again.outcome.data() == [active: false, type: null, cur: 0L, end: 0L, ready: false, aborted: false]
        vm.libvirt().blockJob(vm.name(), 'vda') == null
        ctx.world().get(DomainFacts.key(vm.name())).disks()[0].source() == top.toString()
    }

    def "block steps refuse a shut-off domain, suggesting to start it or merge offline"() {
        when:
        step.plan(params(step, [domain: vm.name()] + extra), ctx.world())

        then:
        def e = thrown(StepFailure)
        e.message.contains("domain ${vm.name()} is shutoff")
        e.hint().contains('domain.start')
        e.hint().contains('qemu-img commit')

        where:
        step              | extra
        new BlockCommit() | [active: true]
        new BlockPull()   | [:]
        new BlockJob()    | [:]
    }
}
