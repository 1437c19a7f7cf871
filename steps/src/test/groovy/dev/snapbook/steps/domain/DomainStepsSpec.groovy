package dev.snapbook.steps.domain

import dev.snapbook.engine.spi.Outcome
import dev.snapbook.engine.spi.Reversibility
import dev.snapbook.engine.spi.StepFailure
import dev.snapbook.engine.spi.Unknown
import dev.snapbook.steps.image.ImageInfo
import dev.snapbook.steps.lab.LabVm
import dev.snapbook.steps.lab.TestStepContext
import dev.snapbook.steps.libvirt.PowerState
import dev.snapbook.steps.libvirt.XmlView
import java.time.Duration
import spock.lang.Requires
import spock.lang.Specification

import static dev.snapbook.steps.lab.TestStepContext.params

@Requires(value = { LabVm.available() },
        reason = 'needs libvirt: `virsh -c qemu:///system version` must succeed (start virtlogd and libvirtd)')
class DomainStepsSpec extends Specification {

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

    /** Runs capture + apply + verify as the runner would; fails the test when verification fails. */
    Map run(step, Map given) {
        def p = params(step, given)
        def captured = step.capture(p, ctx)
        Outcome outcome = step.apply(p, captured, ctx)
        def verification = step.verify(p, outcome, ctx)
        assert verification.passed(): verification.problems()
        [params: p, captured: captured, outcome: outcome]
    }

    def "plan refuses a domain that does not exist, naming it and suggesting virsh list --all"() {
        given:
        def missing = vm.name() + '-missing'

        when:
        step.plan(params(step, [domain: missing]), ctx.world())

        then:
        def e = thrown(StepFailure)
        e.message.contains("domain '$missing' does not exist")
        e.hint().contains('virsh list --all')

        where:
        step << [new DomainState(), new DomainStart(), new DomainShutdown()]
    }

    def "domain.state reports a shut-off persistent domain the same in plan and in apply"() {
        given:
        def step = new DomainState()
        def p = params(step, [domain: vm.name()])

        when:
        def planned = step.plan(p, ctx.world())
        def r = run(step, [domain: vm.name()])

        then:
        !planned.changes()
        planned.actions() == ["virDomainGetInfo(${vm.name()}); virDomainIsPersistent(${vm.name()})".toString()]
        planned.predictedResult() == [state: 'shutoff', persistent: true]
        r.outcome.data() == planned.predictedResult()
        !r.outcome.changed()
        step.reversibility(p) == Reversibility.NOTHING_TO_UNDO
    }

    def "the domain fact lists the lab VM's disk"() {
        expect:
        ctx.world().get(DomainFacts.key(vm.name())) == new DomainFacts(vm.name(), 'shutoff', true,
                [new DiskFacts('vda', 'disk', 'file', vm.disk().toString(), 'qcow2', 'virtio')])
    }

    def "planning makes no change: the domain's XML and state are identical before and after, #state"() {
        given:
        if (running) {
            vm.start()
        }
        def before = [vm.state(), vm.xml(XmlView.LIVE), vm.xml(XmlView.INACTIVE)]

        when: 'every step is planned, each against the real world'
        [new DomainState(), new DomainStart(), new DomainShutdown()].each { step ->
            step.plan(params(step, [domain: vm.name()]), ctx.world())
        }
        new ImageInfo().plan(params(new ImageInfo(), [path: vm.disk().toString()]), ctx.world())

        then:
        [vm.state(), vm.xml(XmlView.LIVE), vm.xml(XmlView.INACTIVE)] == before

        where:
        running << [false, true]
        state = running ? 'running' : 'shut off'
    }

    def "domain.start starts a shut-off domain, the world then equals the plan's prediction, and undo powers it off"() {
        given:
        def step = new DomainStart()
        def world = ctx.world()

        when:
        def planned = step.plan(params(step, [domain: vm.name()]), world)

        then:
        planned.changes()
        planned.actions() == ["virDomainCreate(${vm.name()})", "check that ${vm.name()} is running"]*.toString()
        planned.predictedResult() == [state: 'running', started: true]
        world.get(DomainFacts.key(vm.name())).state() == 'running'
        vm.state() == PowerState.SHUTOFF

        when:
        def r = run(step, [domain: vm.name()])

        then:
        r.captured == [previous_state: 'shutoff']
        r.outcome.changed()
        r.outcome.data() == planned.predictedResult()
        vm.state() == PowerState.RUNNING
        ctx.world().get(DomainFacts.key(vm.name())) == world.get(DomainFacts.key(vm.name()))
        ctx.traces().contains("virDomainCreate(${vm.name()})".toString())

        when:
        step.undo(r.params, r.captured, r.outcome, ctx)

        then:
        vm.state() == PowerState.SHUTOFF
    }

    def "domain.start on a running domain changes nothing and its undo leaves it running"() {
        given:
        vm.start()
        def step = new DomainStart()

        when:
        def planned = step.plan(params(step, [domain: vm.name()]), ctx.world())
        def r = run(step, [domain: vm.name()])
        step.undo(r.params, r.captured, r.outcome, ctx)

        then:
        !planned.changes()
        planned.actions() == ["nothing to do: ${vm.name()} is already running".toString()]
        !r.outcome.changed()
        r.outcome.data() == [state: 'running', started: false]
        vm.state() == PowerState.RUNNING
    }

    def "domain.shutdown with force powers off a guest that ignores ACPI after the timeout; the data stays; undo starts it again"() {
        given: 'a running guest-less VM (nothing answers ACPI) with data written as a guest would'
        vm.start()
        vm.writePattern(0x22, '1M', '1M')
        def step = new DomainShutdown()
        def world = ctx.world()

        when:
        def planned = step.plan(params(step, [domain: vm.name(), timeout: '2s', force: true]), world)

        then:
        planned.actions() == ["virDomainShutdown(${vm.name()})", 'wait ≤2s for shutoff',
                              "then virDomainDestroy(${vm.name()}) if still running"]*.toString()
        planned.predictedResult().state == 'shutoff'
        planned.predictedResult().forced instanceof Unknown
        world.get(DomainFacts.key(vm.name())).state() == 'shutoff'

        when:
        def started = System.nanoTime()
        def r = run(step, [domain: vm.name(), timeout: '2s', force: true])
        def waited = Duration.ofNanos(System.nanoTime() - started)

        then:
        r.captured == [previous_state: 'running']
        r.outcome.changed()
        r.outcome.data() == [state: 'shutoff', forced: true]
        waited >= Duration.ofSeconds(2)
        vm.state() == PowerState.SHUTOFF
        ctx.world().get(DomainFacts.key(vm.name())) == world.get(DomainFacts.key(vm.name()))
        LabVm.hasPattern(vm.disk(), 0x22, '1M', '1M')
        !LabVm.hasPattern(vm.disk(), 0x33, '1M', '1M')

        when:
        step.undo(r.params, r.captured, r.outcome, ctx)

        then:
        vm.state() == PowerState.RUNNING
    }

    def "domain.shutdown without force fails after the timeout, says to pass force: true, and leaves the domain running"() {
        given:
        vm.start()
        def step = new DomainShutdown()
        def p = params(step, [domain: vm.name(), timeout: '1s'])

        when:
        def planned = step.plan(p, ctx.world())
        step.apply(p, step.capture(p, ctx), ctx)

        then:
        planned.actions()[2] == 'then fail if still running (force is false)'
        planned.predictedResult() == [state: 'shutoff', forced: false]
        def e = thrown(StepFailure)
        e.message.contains("domain ${vm.name()} did not stop within 1s")
        e.hint().contains('force: true')
        vm.state() == PowerState.RUNNING
    }

    def "domain.shutdown does not force a power-off early when the run's deadline cuts the wait short"() {
        given:
        vm.start()
        ctx.deadline(java.time.Instant.now().plusSeconds(1))
        def step = new DomainShutdown()
        def p = params(step, [domain: vm.name(), timeout: '30s', force: true])

        when:
        step.apply(p, step.capture(p, ctx), ctx)

        then:
        def e = thrown(StepFailure)
        e.message.contains("deadline passed while waiting for ${vm.name()}")
        vm.state() == PowerState.RUNNING
    }

    def "domain.shutdown of a shut-off domain is a no-op and its undo does not start it"() {
        given:
        def step = new DomainShutdown()

        when:
        def planned = step.plan(params(step, [domain: vm.name()]), ctx.world())
        def r = run(step, [domain: vm.name()])
        step.undo(r.params, r.captured, r.outcome, ctx)

        then:
        planned.actions() == ["nothing to do: ${vm.name()} is already shut off".toString()]
        !r.outcome.changed()
        vm.state() == PowerState.SHUTOFF
    }

    def "LabVm writes as a guest would, and close removes its running domain and its directory"() {
        given:
        vm.start()
        def name = vm.name()
        def dir = vm.dir()

        when:
        vm.writePattern(0x5a, '4M', '64k')

        then:
        LabVm.hasPattern(vm.disk(), 0x5a, '4M', '64k')
        !LabVm.hasPattern(vm.disk(), 0x5a, '8M', '64k')

        when:
        vm.close()

        then:
        !ctx.world().get(DomainFacts.key(name))
        !java.nio.file.Files.exists(dir)
    }

    def "a libvirt error names the call and the domain and says what to do"() {
        given: 'a domain that is shut off cannot be destroyed'
        def libvirt = vm.libvirt()

        when:
        libvirt.destroy(vm.name())

        then:
        def e = thrown(StepFailure)
        e.message.startsWith("virDomainDestroy(${vm.name()}) failed on qemu:///system:")
        e.hint().contains("virsh -c qemu:///system domstate --reason ${vm.name()}")
    }

    def "image.info reads the disk of a running domain without disturbing it"() {
        given:
        vm.start()
        def step = new ImageInfo()

        when:
        def r = run(step, [path: vm.disk().toString()])

        then:
        r.outcome.data() == [format: 'qcow2', virtual_size: 64L << 20, backing_chain: []]
        vm.state() == PowerState.RUNNING
    }
}
