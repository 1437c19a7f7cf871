package dev.snapbook.steps.block

import dev.snapbook.engine.spi.StepFailure
import dev.snapbook.engine.spi.World
import dev.snapbook.steps.domain.DiskFacts
import dev.snapbook.steps.domain.DomainFacts
import dev.snapbook.steps.image.ImageFacts
import spock.lang.Specification

import static dev.snapbook.steps.lab.TestStepContext.params

/** Plans of the block steps against a hand-built world: web01 runs on top → mid → base. No libvirt. */
class BlockPlanSpec extends Specification {

    static final String TOP = '/img/top.qcow2', MID = '/img/mid.qcow2', BASE = '/img/base.qcow2'

    World world(String state = 'running') {
        // everything else does not exist
        def w = new World({ key -> null })
        w.put(DomainFacts.key('web01'), new DomainFacts('web01', state, true,
                [new DiskFacts('vda', 'disk', 'file', TOP, 'qcow2', 'virtio'),
                 new DiskFacts('sda', 'cdrom', 'file', null, null, 'sata')]))
        w.put(ImageFacts.key(TOP), new ImageFacts(TOP, 'qcow2', 1 << 30,
                [new ImageFacts.Layer(MID, 'qcow2'), new ImageFacts.Layer(BASE, 'raw')]))
        w.put(ImageFacts.key(MID), new ImageFacts(MID, 'qcow2', 1 << 30, [new ImageFacts.Layer(BASE, 'raw')]))
        w.put(ImageFacts.key(BASE), new ImageFacts(BASE, 'raw', 1 << 30, []))
        w
    }

    def "an active commit defaults to the deepest base and predicts vda on it, with the base's format"() {
        given:
        def w = world()
        def step = new BlockCommit()

        when:
        def planned = step.plan(params(step, [domain: 'web01', active: true]), w)

        then:
        planned.actions()[0] == "virDomainBlockCommit(web01, vda, base=$BASE, top=$TOP, bandwidth=unlimited, flags=ACTIVE)"
        planned.actions().any { it == "irreversible: the states held by $TOP, $MID are merged into $BASE".toString() }
        planned.predictedResult() == [disk: 'vda', top: TOP, base: BASE, active_file: BASE, chain: [BASE], merged: [TOP, MID]]
        w.get(DomainFacts.key('web01')).disks()[0] == new DiskFacts('vda', 'disk', 'file', BASE, 'raw', 'virtio')
        w.get(DomainFacts.key('web01')).disks()[1].target() == 'sda'
    }

    def "an active commit with pivot: false keeps the top active and changes no fact"() {
        given:
        def w = world()
        def before = w.predictions()
        def step = new BlockCommit()

        when:
        def planned = step.plan(params(step, [domain: 'web01', active: true, pivot: false, base: MID]), w)

        then:
        planned.actions()[2] == "virDomainBlockJobAbort(web01, vda, 0): $MID holds the merged data, vda stays on $TOP".toString()
        planned.predictedResult().active_file == TOP
        planned.predictedResult().chain == [TOP, MID, BASE]
        planned.predictedResult().merged == []
        w.predictions() == before
    }

    def "an inner commit rebases the image above top onto base"() {
        given:
        def w = world()
        def step = new BlockCommit()

        when:
        def planned = step.plan(params(step, [domain: 'web01', top: MID, bandwidth: 20]), w)

        then:
        planned.actions()[0] == "virDomainBlockCommit(web01, vda, base=$BASE, top=$MID, bandwidth=20 MiB/s, flags=0)"
        planned.predictedResult().chain == [TOP, BASE]
        w.get(ImageFacts.key(TOP)).backingChain() == [new ImageFacts.Layer(BASE, 'raw')]
        w.get(DomainFacts.key('web01')).disks()[0].source() == TOP
    }

    def "a pull predicts the active image without backing file, or backed by the base given"() {
        given:
        def w = world()
        def step = new BlockPull()

        when:
        def planned = step.plan(params(step, [domain: 'web01'] + extra), w)

        then:
        planned.actions()[0] == action
        planned.predictedResult().chain == chain
        w.get(ImageFacts.key(TOP)).backingChain()*.file() == chain.drop(1)

        where:
        extra        | action                                                            | chain
        [:]          | 'virDomainBlockPull(web01, vda, bandwidth=unlimited, 0)'          | [TOP]
        [base: BASE] | "virDomainBlockRebase(web01, vda, base=$BASE, bandwidth=unlimited, 0)".toString() | [TOP, BASE]
    }

    def "block.commit refuses #why"() {
        given:
        def step = new BlockCommit()

        when:
        step.plan(params(step, [domain: 'web01'] + given), world(state))

        then:
        def e = thrown(StepFailure)
        e.message.contains(message)

        where:
        why                            | state     | given                                   | message
        'a shut-off domain'            | 'shutoff' | [active: true]                          | 'web01 is shutoff'
        'a domain being shut down'     | 'shutdown'| [active: true]                          | 'needs a running domain'
        'a missing domain'             | 'running' | [domain: 'nope', active: true]          | "domain 'nope' does not exist"
        'an unknown disk'              | 'running' | [disk: 'vdz', active: true]             | 'has no disk vdz (it has: vda, sda)'
        'an empty cdrom'               | 'running' | [disk: 'sda', active: true]             | 'without media'
        'no top and no active'         | 'running' | [:]                                     | 'needs top, or active: true'
        'top = active without active'  | 'running' | [top: TOP]                              | 'committing it needs active: true'
        'active with an inner top'     | 'running' | [active: true, top: MID]                | 'but top is /img/mid.qcow2'
        'a top outside the chain'      | 'running' | [top: '/img/other.qcow2']               | 'is not in the chain of web01/vda'
        'a base outside the chain'     | 'running' | [active: true, base: '/x.qcow2']        | 'base /x.qcow2 is not in the chain'
        'a base above top'             | 'running' | [top: MID, base: TOP]                   | 'is not below top'
        'a base equal to top'          | 'running' | [top: MID, base: MID]                   | 'is not below top'
        'top the deepest image'        | 'running' | [top: BASE]                             | 'no base to commit into'
        'pivot without active'         | 'running' | [top: MID, pivot: true]                 | 'pivot: true needs active: true'
        'a negative bandwidth'         | 'running' | [active: true, bandwidth: -1]           | 'bandwidth must be ≥ 0'
    }

    def "block.pull refuses #why"() {
        given:
        def step = new BlockPull()

        when:
        step.plan(params(step, [domain: 'web01'] + given), world(state))

        then:
        def e = thrown(StepFailure)
        e.message.contains(message)

        where:
        why                          | state     | given                  | message
        'a shut-off domain'          | 'shutoff' | [:]                    | 'web01 is shutoff'
        'the active image as base'   | 'running' | [base: TOP]            | 'is the active image'
        'the direct backing file'    | 'running' | [base: MID]            | 'nothing to pull'
        'a base outside the chain'   | 'running' | [base: '/nope']        | 'is not in the chain'
    }

    def "block steps refuse a disk without backing file: nothing to merge"() {
        given:
        def w = world()
        w.put(ImageFacts.key(TOP), new ImageFacts(TOP, 'qcow2', 1 << 30, []))

        when:
        step.plan(params(step, [domain: 'web01'] + extra), w)

        then:
        def e = thrown(StepFailure)
        e.message.contains("there is nothing to $verb")

        where:
        step              | extra          | verb
        new BlockCommit() | [active: true] | 'commit'
        new BlockPull()   | [:]            | 'pull'
    }

    def "#step.name() refuses in the plan a disk that already has #job block job, saying how to end it"() {
        given:
        def w = world()
        w.put(BlockJobFacts.key('web01', 'vda'), new BlockJobFacts('web01', 'vda', type, ready))

        when:
        step.plan(params(step, [domain: 'web01'] + extra), w)

        then:
        def e = thrown(StepFailure)
        e.message.startsWith("disk vda of web01 already has $job block job ($state)")
        e.message.contains("so the $operation cannot start")
        e.hint().contains('virsh blockjob web01 vda --abort')
        e.hint().contains('--pivot') == ready

        where:
        step              | extra          | type            | ready || job                | state            | operation
        new BlockCommit() | [active: true] | 'active_commit' | true  || 'an active_commit' | 'ready to pivot' | 'block commit'
        new BlockCommit() | [top: MID]     | 'pull'          | false || 'a pull'           | 'still running'  | 'block commit'
        new BlockPull()   | [:]            | 'active_commit' | true  || 'an active_commit' | 'ready to pivot' | 'block pull'
        new BlockPull()   | [:]            | 'commit'        | false || 'a commit'         | 'still running'  | 'block pull'
    }

    def "a job on another disk or domain does not stop a merge, and a planned abort clears the way"() {
        given:
        def w = world()
        w.put(BlockJobFacts.key('web01', 'vdb'), new BlockJobFacts('web01', 'vdb', 'pull', false))
        w.put(BlockJobFacts.key('web02', 'vda'), new BlockJobFacts('web02', 'vda', 'pull', false))
        def job = new BlockJob()
        def commit = new BlockCommit()

        when: 'vda has no job'
        commit.plan(params(commit, [domain: 'web01', active: true]), w.fork())

        then:
        noExceptionThrown()

        when: 'vda has a ready active commit that the playbook aborts first'
        w.put(BlockJobFacts.key('web01', 'vda'), new BlockJobFacts('web01', 'vda', 'active_commit', true))
        job.plan(params(job, [domain: 'web01', action: 'abort']), w)
        commit.plan(params(commit, [domain: 'web01', active: true]), w)

        then:
        noExceptionThrown()
        w.get(BlockJobFacts.key('web01', 'vda')) == null
    }

    def "a block status leaves a job where it is in the plan"() {
        given:
        def w = world()
        def running = new BlockJobFacts('web01', 'vda', 'pull', false)
        w.put(BlockJobFacts.key('web01', 'vda'), running)
        def job = new BlockJob()

        when:
        job.plan(params(job, [domain: 'web01']), w)

        then:
        w.get(BlockJobFacts.key('web01', 'vda')) == running
    }

    def "block.job declares status and abort as its only actions, status by default"() {
        expect:
        def action = new BlockJob().params().find { it.name() == 'action' }
        action.choices() == ['status', 'abort']
        action.defaultValue() == 'status'
    }

    def "a job is looked at every twentieth of its age so far, from 20 to 200 ms"() {
        expect:
        Blocks.pollInterval(java.time.Duration.ofMillis(elapsed)) == wait

        where:
        elapsed || wait
        0       || 20
        399     || 20
        1000    || 50
        2000    || 100
        4000    || 200
        600000  || 200
    }
}
