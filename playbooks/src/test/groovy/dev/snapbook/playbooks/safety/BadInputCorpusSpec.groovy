package dev.snapbook.playbooks.safety

import dev.snapbook.engine.cli.Main
import dev.snapbook.steps.exec.Command
import dev.snapbook.steps.lab.LabVm
import dev.snapbook.steps.libvirt.Libvirt
import dev.snapbook.steps.libvirt.XmlView
import spock.lang.Requires
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.charset.StandardCharsets
import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration

/**
 * Malformed and hostile playbooks and -e values: each is refused with exit 2 and a clear message (file
 * and line where there is one), and no domain or file is touched. And the refusal table: each refusal that
 * libvirt makes (and tp-libvirt's suites assert) for a step here is made by snapbook's plan first, with exit 1,
 * its own message, and nothing changed.
 */
@Requires(value = { LabVm.available() || System.getenv('CI') },
        reason = 'needs libvirt: `virsh -c qemu:///system version` must succeed (run scripts/setup)')
class BadInputCorpusSpec extends Specification {

    @Shared
    LabVm vm

    /** For the refusal table: a shut-off VM on a raw disk. */
    @Shared
    LabVm raw

    /** For the refusal table: a running VM with a guest agent channel that no agent opens (it has no guest OS). */
    @Shared
    LabVm agent

    /** For the refusal table: a running VM on vda.qcow2 ← vda.s1 ← vda.s2 (overlays made by libvirt, no metadata). */
    @Shared
    LabVm chain

    @TempDir
    Path dir

    ByteArrayOutputStream err = new ByteArrayOutputStream()
    PrintStream savedErr

    def setupSpec() {
        vm = LabVm.create()
        vm.start()
    }

    def cleanupSpec() {
        [vm, raw, agent, chain].each { it?.close() }
    }

    /** The VMs of the refusal table, made once the first row needs them. */
    void refusalVms() {
        if (chain != null) {
            return
        }
        raw = LabVm.create('raw')
        agent = LabVm.create()
        String xml = agent.xml(XmlView.INACTIVE)
        assert xml.count('</devices>') == 1
        agent.libvirt().defineXml(xml.replace('</devices>', "<channel type='unix'><source mode='bind'/>"
                + "<target type='virtio' name='org.qemu.guest_agent.0'/></channel></devices>"))
        agent.start()
        assert agent.xml(XmlView.LIVE).contains("name='org.qemu.guest_agent.0' state='disconnected'")
        chain = LabVm.create()
        chain.start()
        ['s1', 's2'].each { overlay(chain, it) }
    }

    /** An external overlay vda.NAME on vda of the running {@code lab}, made by libvirt without snapshot metadata. */
    static void overlay(LabVm lab, String name) {
        def r = Command.of('virsh', '-c', LabVm.URI, 'snapshot-create-as', lab.name(), '--disk-only', '--atomic',
                '--no-metadata', '--diskspec', "vda,snapshot=external,file=${lab.dir().resolve('vda.' + name)}".toString())
                .run(Duration.ofSeconds(60), { })
        assert r.succeeded(): r.stderr()
    }

    /**
     * Starts an active commit of vda.s2 into vda.s1 on the chain VM and waits until it is ready to pivot: a job
     * that stays on the disk, unchanged, until it is pivoted or aborted.
     */
    void startReadyJob() {
        chain.libvirt().blockCommit(chain.name(), 'vda', chain.dir().resolve('vda.s1').toString(),
                chain.dir().resolve('vda.s2').toString(), 0, EnumSet.of(Libvirt.CommitOption.ACTIVE))
        for (int i = 0; i < 300 && !chain.libvirt().blockJob(chain.name(), 'vda')?.ready(); i++) {
            sleep(100)
        }
        assert chain.libvirt().blockJob(chain.name(), 'vda')?.ready()
    }

    /** Aborts the chain VM's job (no pivot) and waits until it has left the disk. */
    void abortJob() {
        if (chain?.libvirt()?.blockJob(chain.name(), 'vda') == null) {
            return
        }
        chain.libvirt().blockJobAbort(chain.name(), 'vda', false)
        for (int i = 0; i < 300 && chain.libvirt().blockJob(chain.name(), 'vda') != null; i++) {
            sleep(100)
        }
        assert chain.libvirt().blockJob(chain.name(), 'vda') == null
    }

    def setup() {
        savedErr = System.err
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8))
        System.setProperty('snapbook.state', dir.resolve('state').toString())
    }

    def cleanup() {
        System.setErr(savedErr)
        System.clearProperty('snapbook.state')
    }

    /**
     * Everything the inputs could damage: the VM's definition and state, its files, its snapshots and the block
     * job on vda (its kind and readiness), all domains.
     */
    Map snapshotOfTheWorld(LabVm lab = vm) {
        def job = lab.state().isActive() ? lab.libvirt().blockJob(lab.name(), 'vda') : null
        [xml   : lab.xml(XmlView.INACTIVE), live: lab.xml(XmlView.LIVE), state: lab.state(),
         files : Files.list(lab.dir()).withCloseable { s -> s.collect { it.fileName.toString() }.sort() },
         sizes : Files.list(lab.dir()).withCloseable { s -> s.collect { Files.size(it) } },
         snapshots: lab.libvirt().snapshotNames(lab.name()).sort(false), job: job == null ? null : [job.type(), job.ready()],
         defined: lab.libvirt().exists(lab.name()), state_dir: Files.exists(dir.resolve('state/locks')) ? 'locks' : 'none']
    }

    def "#what is refused with exit 2, naming #expected, and nothing is touched"() {
        given:
        String text = body?.replace('DOM', vm.name())?.replace('DISK', vm.disk().toString())?.replace('DIR', vm.dir().toString())
        Path file = dir.resolve(name)
        if (text != null) {
            Files.write(file, text.getBytes(encoding))
        }
        def before = snapshotOfTheWorld()
        def args = ['run', '--yes'] + extra.collect { ['-e', it.replace('DOM', vm.name())] }.flatten() + [file.toString()]

        when:
        int exit = Main.execute(args as String[])
        String message = err.toString(StandardCharsets.UTF_8)

        then:
        exit == 2
        message.contains(expected.replace('FILE', file.toString()))
        snapshotOfTheWorld() == before
        !Files.exists(dir.resolve('state')) || Files.list(dir.resolve('state')).withCloseable { s ->
            s.noneMatch { it.fileName.toString().endsWith('.jsonl') }
        }

        where:
        what                               | name      | encoding | extra | body || expected
        'malformed YAML'                   | 'p.yml'   | 'UTF-8'  | []    | 'name: x\nsteps:\n  - domain.state: { domain: DOM\n' || 'FILE:4:1: malformed YAML'
        'tab indentation'                  | 'p.yml'   | 'UTF-8'  | []    | 'name: x\nsteps:\n\t- domain.state: {domain: DOM}\n' || 'FILE:3:1: malformed YAML'
        'an empty file'                    | 'p.yml'   | 'UTF-8'  | []    | '' || 'FILE:1:1'
        'a list instead of a mapping'      | 'p.yml'   | 'UTF-8'  | []    | '- a\n- b\n' || 'must be a mapping'
        'an unknown top-level field'       | 'p.yml'   | 'UTF-8'  | []    | 'name: x\nstep:\n  - domain.state: {domain: DOM}\n' || "FILE:2:1: step: unknown field (did you mean 'steps'?)"
        'no name'                          | 'p.yml'   | 'UTF-8'  | []    | 'steps:\n  - domain.state: {domain: DOM}\n' || 'FILE:1:1: name: missing'
        'no steps'                         | 'p.yml'   | 'UTF-8'  | []    | 'name: x\n' || 'FILE:1:1: steps: missing'
        'an empty step list'               | 'p.yml'   | 'UTF-8'  | []    | 'name: x\nsteps: []\n' || 'the list of steps is empty'
        'an unknown step type'             | 'p.yml'   | 'UTF-8'  | []    | 'name: x\nsteps:\n  - domain.stat: {domain: DOM}\n' || "FILE:3:5: steps[0].domain.stat: unknown step type 'domain.stat' (did you mean"
        'an unknown parameter'             | 'p.yml'   | 'UTF-8'  | []    | 'name: x\nsteps:\n  - domain.state: {domian: DOM}\n' || "did you mean 'domain'?"
        'a missing parameter'              | 'p.yml'   | 'UTF-8'  | []    | 'name: x\nsteps:\n  - domain.state: {}\n' || "FILE:3:5: steps[0].domain.state.domain: missing required parameter 'domain'"
        'a list for a duration'            | 'p.yml'   | 'UTF-8'  | []    | 'name: x\nsteps:\n  - domain.shutdown: {domain: DOM, timeout: [1]}\n' || 'expected a duration'
        'a word for a boolean'             | 'p.yml'   | 'UTF-8'  | []    | 'name: x\nsteps:\n  - domain.shutdown: {domain: DOM, force: maybe}\n' || 'expected a boolean'
        'a bad step timeout'               | 'p.yml'   | 'UTF-8'  | []    | 'name: x\nsteps:\n  - domain.state: {domain: DOM}\n    timeout: soon\n' || 'FILE:4:14: steps[0].timeout: expected a duration'
        'a misspelled step field'          | 'p.yml'   | 'UTF-8'  | []    | 'name: x\nsteps:\n  - domain.state: {domain: DOM}\n    regsiter: r\n' || "did you mean 'register'?"
        'two step types in one item'       | 'p.yml'   | 'UTF-8'  | []    | 'name: x\nsteps:\n  - domain.state: {domain: DOM}\n    domain.start: {domain: DOM}\n' || 'one step type'
        'a duplicate key'                  | 'p.yml'   | 'UTF-8'  | []    | 'name: x\nname: y\nsteps:\n  - domain.state: {domain: DOM}\n' || 'FILE:2:1: name: duplicate key'
        'a broken when expression'         | 'p.yml'   | 'UTF-8'  | []    | 'name: x\nsteps:\n  - domain.state: {domain: DOM}\n    when: "a =="\n' || 'FILE:4:5: steps[0].when: cannot parse'
        'an unclosed template'             | 'p.yml'   | 'UTF-8'  | []    | 'name: x\nsteps:\n  - domain.state: {domain: "{{ d "}\n' || 'is not closed'
        'an unknown filter'                | 'p.yml'   | 'UTF-8'  | []    | 'name: x\nsteps:\n  - domain.state: {domain: "{{ d | lenght }}"}\n' || "did you mean 'length'"
        'a Java object tag'                | 'p.yml'   | 'UTF-8'  | []    | 'name: x\nsteps:\n  - domain.state: {domain: !!javax.script.ScriptEngineManager [] }\n' || 'FILE:3:'
        'a Python object tag'              | 'p.yml'   | 'UTF-8'  | []    | 'name: !!python/object:os.system x\nsteps:\n  - domain.state: {domain: DOM}\n' || 'FILE:1:'
        'a local tag'                      | 'p.yml'   | 'UTF-8'  | []    | 'name: x\nsteps:\n  - domain.state: {domain: !evil DOM}\n' || 'not allowed'
        'an alias bomb'                    | 'p.yml'   | 'UTF-8'  | []    | 'name: x\nvars:\n  a: &a ["x","x","x","x","x","x","x","x","x"]\n  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n  d: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\nsteps:\n  - domain.state: {domain: DOM}\n' || 'malformed YAML'
        'a reserved register name'         | 'p.yml'   | 'UTF-8'  | []    | 'name: x\nsteps:\n  - domain.state: {domain: DOM}\n    register: "true"\n' || 'cannot be a variable name'
        'a register name with a dot'       | 'p.yml'   | 'UTF-8'  | []    | 'name: x\nsteps:\n  - domain.state: {domain: DOM}\n    register: a.b\n' || 'cannot be a variable name'
        'until without retries'            | 'p.yml'   | 'UTF-8'  | []    | 'name: x\nsteps:\n  - domain.state: {domain: DOM}\n    register: s\n    until: s.state\n' || "'until' needs 'retries'"
        'too many retries'                 | 'p.yml'   | 'UTF-8'  | []    | 'name: x\nsteps:\n  - domain.state: {domain: DOM}\n    retries: 5000\n' || 'from 0 to 1000'
        'a value outside the choices'      | 'p.yml'   | 'UTF-8'  | []    | 'name: x\nsteps:\n  - image.check: {path: DISK, repair: fix}\n' || 'expected one of none, leaks, all'
        'text that is not UTF-8'           | 'p.yml'   | 'ISO-8859-1' | [] | 'name: caf\u00e9 \u00ff\u00fe\nsteps:\n  - domain.state: {domain: DOM}\n' || 'not UTF-8'
        'a file that is not a playbook'    | 'p.txt'   | 'UTF-8'  | []    | 'name: x\n' || 'ends in .yml, .yaml or .groovy'
        'a missing file'                   | 'none.yml'| 'UTF-8'  | []    | null || 'no such file'
        'a Groovy compile error'           | 'p.groovy'| 'UTF-8'  | []    | "playbook('x') {\n  step 'domain.state', domain: 'DOM'\n  step(\n}\n" || 'FILE:'
        'a misspelled Groovy DSL method'   | 'p.groovy'| 'UTF-8'  | []    | "playbook('x') {\n  stpe 'domain.state', domain: 'DOM'\n}\n" || 'FILE:2'
        'a Groovy file without playbook'   | 'p.groovy'| 'UTF-8'  | []    | "def x = 1\n" || 'playbook'
        'vars that are not a mapping'      | 'p.yml'   | 'UTF-8'  | []    | 'name: x\nvars: [a, b]\nsteps:\n  - domain.state: {domain: DOM}\n' || 'FILE:2:7: vars: vars must be a mapping'
        'a variable name starting with a digit' | 'p.yml' | 'UTF-8' | [] | 'name: x\nvars: { 1x: 2 }\nsteps:\n  - domain.state: {domain: DOM}\n' || 'a variable name is letters'
        'a step that is a string'          | 'p.yml'   | 'UTF-8'  | []    | 'name: x\nsteps:\n  - domain.state\n' || 'FILE:3:5: steps[0]: a step is a mapping'
        'parameters that are not a mapping'| 'p.yml'   | 'UTF-8'  | []    | 'name: x\nsteps:\n  - domain.state: DOM\n' || 'must be a mapping'
        'two YAML documents'               | 'p.yml'   | 'UTF-8'  | []    | 'name: x\nsteps:\n  - domain.state: {domain: DOM}\n---\nname: y\n' || 'malformed YAML'
        'an -e without a value'            | 'p.yml'   | 'UTF-8'  | ['novalue'] | 'name: x\nsteps:\n  - domain.state: {domain: DOM}\n' || "-e 'novalue': expected KEY=VALUE"
        'an -e with a bad name'            | 'p.yml'   | 'UTF-8'  | ['1x=3'] | 'name: x\nsteps:\n  - domain.state: {domain: DOM}\n' || 'a variable name is letters'
        'an -e with an empty name'         | 'p.yml'   | 'UTF-8'  | ['=x'] | 'name: x\nsteps:\n  - domain.state: {domain: DOM}\n' || 'expected KEY=VALUE'
        'a required var not given'         | 'p.yml'   | 'UTF-8'  | []    | 'name: x\nvars: { d: null }\nsteps:\n  - domain.state: {domain: "{{ d }}"}\n' || 'needs -e d=VALUE'
        'an undefined variable'            | 'p.yml'   | 'UTF-8'  | []    | 'name: x\nsteps:\n  - domain.state: {domain: "{{ nope }}"}\n' || "'nope' is not defined"
        'a domain name with a newline'     | 'p.yml'   | 'UTF-8'  | ['d=DOM\nrm -rf /'] | 'name: x\nvars: { d: null }\nsteps:\n  - domain.shutdown: {domain: "{{ d }}", force: true}\n' || 'without control characters'
        'a relative path'                  | 'p.yml'   | 'UTF-8'  | ['p=vda.qcow2'] | 'name: x\nvars: { p: null }\nsteps:\n  - image.delete: {path: "{{ p }}"}\n' || 'expected an absolute path'
        'a path with .. segments'          | 'p.yml'   | 'UTF-8'  | ['p=/var/tmp/../etc/passwd'] | 'name: x\nvars: { p: null }\nsteps:\n  - image.delete: {path: "{{ p }}"}\n' || "cannot contain '..' segments"
        'a path with a newline'            | 'p.yml'   | 'UTF-8'  | ['p=/tmp/a\n/etc/passwd'] | 'name: x\nvars: { p: null }\nsteps:\n  - image.delete: {path: "{{ p }}"}\n' || 'cannot contain control characters'
        'a snapshot name with a slash'     | 'p.yml'   | 'UTF-8'  | ['s=../../etc'] | 'name: x\nvars: { s: null }\nsteps:\n  - snapshot.create: {domain: DOM, name: "{{ s }}"}\n' || "cannot contain '/'"
    }

    def "the refusal table: #what is refused by the plan with exit 1, before libvirt would refuse it, and nothing changes"() {
        given:
        refusalVms()
        LabVm lab = [vm: vm, raw: raw, agent: agent, chain: chain][on]
        if (job) {
            startReadyJob()
        }
        Closure<String> fill = { String t ->
            t.replace('DOM', lab.name()).replace('TOP', lab.dir().resolve('vda.s2').toString())
                    .replace('MID', lab.dir().resolve('vda.s1').toString())
                    .replace('BASE', lab.dir().resolve('vda.qcow2').toString()).replace('DIR', lab.dir().toString())
        }
        Path file = dir.resolve('refused.yml')
        Files.writeString(file, 'name: refused\nsteps:\n  - ' + fill(step) + '\n')
        def before = snapshotOfTheWorld(lab)

        when:
        int exit = Main.execute('run', file.toString())
        String message = err.toString(StandardCharsets.UTF_8)

        then: 'the plan names what is wrong, where, and what to do'
        exit == 1
        message.contains(fill(expected))
        message.contains(fill(next))
        snapshotOfTheWorld(lab) == before
        !Files.exists(dir.resolve('state')) || Files.list(dir.resolve('state')).withCloseable { s ->
            s.noneMatch { it.fileName.toString().endsWith('.jsonl') }
        }

        cleanup:
        if (job) {
            abortJob()
        }

        where:
        what                                           | on      | job   | step                                                                       || expected | next
        'an internal snapshot of a raw disk'           | 'raw'   | false | 'snapshot.create: {domain: DOM, name: i1}'                                 || 'disk vda of DOM is raw (DIR/vda.raw); internal snapshots live inside qcow2 images only' | 'image.convert'
        'quiesce without a guest agent channel'        | 'vm'    | false | 'snapshot.create: {domain: DOM, name: q1, disk_only: true, quiesce: true}' || 'domain DOM has no guest agent channel configured' | 'or set quiesce: false'
        'quiesce with no agent on the channel'         | 'agent' | false | 'snapshot.create: {domain: DOM, name: q1, disk_only: true, quiesce: true}' || "no agent is connected to the guest agent channel of domain DOM (the live XML shows its target state='disconnected')" | 'start qemu-guest-agent in the guest'
        'a commit on a disk with a block job'          | 'chain' | true  | 'block.commit: {domain: DOM, active: true, base: MID}'                     || 'disk vda of DOM already has an active_commit block job (ready to pivot): libvirt runs one block job per disk, so the block commit cannot start' | 'virsh blockjob DOM vda --abort'
        'a pull on a disk with a block job'            | 'chain' | true  | 'block.pull: {domain: DOM, base: BASE}'                                    || 'disk vda of DOM already has an active_commit block job (ready to pivot): libvirt runs one block job per disk, so the block pull cannot start' | 'virsh blockjob DOM vda --pivot'
        'a commit of a disk without backing file'      | 'vm'    | false | 'block.commit: {domain: DOM, active: true}'                                || 'disk DOM/vda has no backing file (DIR/vda.qcow2 stands alone): there is nothing to commit' | 'block.commit'
        'a commit top not in the chain'                | 'chain' | false | 'block.commit: {domain: DOM, top: DIR/other.qcow2}'                        || 'top DIR/other.qcow2 is not in the chain of DOM/vda: TOP → MID → BASE' | 'name one of those files'
        'a commit base not in the chain'               | 'chain' | false | 'block.commit: {domain: DOM, active: true, base: DIR/other.qcow2}'         || 'base DIR/other.qcow2 is not in the chain of DOM/vda: TOP → MID → BASE' | 'name one of those files'
        'a commit whose top is its base'               | 'chain' | false | 'block.commit: {domain: DOM, top: MID, base: MID}'                         || 'base MID is not below top MID in the chain of DOM/vda' | 'a commit merges top down into a backing file of it'
        'a commit whose base is above its top'         | 'chain' | false | 'block.commit: {domain: DOM, top: MID, base: TOP}'                         || 'base TOP is not below top MID in the chain of DOM/vda' | 'a commit merges top down into a backing file of it'
        'a commit of the active image without active'  | 'chain' | false | 'block.commit: {domain: DOM, top: TOP, base: MID}'                         || 'top TOP is the active image of DOM/vda: committing it needs active: true' | 'add active: true'
        'a commit of the deepest image'                | 'chain' | false | 'block.commit: {domain: DOM, top: BASE}'                                   || 'top BASE is the deepest image of DOM/vda; there is no base to commit into' | 'chain: TOP → MID → BASE'
        'a pull whose base is not in the chain'        | 'chain' | false | 'block.pull: {domain: DOM, base: DIR/other.qcow2}'                         || 'base DIR/other.qcow2 is not in the chain of DOM/vda: TOP → MID → BASE' | 'leave base out to pull everything'
        'a pull whose base is the active image'        | 'chain' | false | 'block.pull: {domain: DOM, base: TOP}'                                     || 'base TOP is the active image of DOM/vda; a pull copies into the active image from below it' | 'name a backing file as base'
        'a pull whose base is the backing file'        | 'chain' | false | 'block.pull: {domain: DOM, base: MID}'                                     || 'nothing to pull: base MID is already the backing file of the active image of DOM/vda' | 'chain: TOP → MID → BASE'
    }

    def "values with shell and XML metacharacters stay data: a domain named like a command is only looked up"() {
        given:
        def before = snapshotOfTheWorld()
        Path file = dir.resolve('p.yml')
        Files.writeString(file, 'name: x\nvars: { d: null }\nsteps:\n  - domain.state: {domain: "{{ d }}"}\n')
        // no '/' (a name cannot hold one): a shell, if one ran, would create the canary in the working directory
        String canaryName = "sb-canary-${UUID.randomUUID().toString().take(8)}"
        Path canary = Path.of(canaryName).toAbsolutePath()

        when:
        int exit = Main.execute('run', '-e', "d=x'; touch ${canaryName}; <a>&amp;\"\$(touch ${canaryName})`touch ${canaryName}`|| touch ${canaryName}" as String, file.toString())

        then: 'the plan fails on a domain that does not exist, and nothing ran'
        exit == 1
        err.toString(StandardCharsets.UTF_8).contains('does not exist')
        !Files.exists(canary)
        snapshotOfTheWorld() == before
    }
}
