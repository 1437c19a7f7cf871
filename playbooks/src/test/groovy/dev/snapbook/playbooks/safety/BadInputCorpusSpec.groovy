package dev.snapbook.playbooks.safety

import dev.snapbook.engine.cli.Main
import dev.snapbook.steps.lab.LabVm
import dev.snapbook.steps.libvirt.XmlView
import spock.lang.Requires
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.charset.StandardCharsets
import java.nio.file.Files
import java.nio.file.Path

/**
 * Malformed and hostile playbooks and -e values: each is refused with exit 2 and a clear message (file
 * and line where there is one), and no domain or file is touched.
 */
@Requires(value = { LabVm.available() || System.getenv('CI') },
        reason = 'needs libvirt: `virsh -c qemu:///system version` must succeed (run scripts/setup)')
class BadInputCorpusSpec extends Specification {

    @Shared
    LabVm vm

    @TempDir
    Path dir

    ByteArrayOutputStream err = new ByteArrayOutputStream()
    PrintStream savedErr

    def setupSpec() {
        vm = LabVm.create()
        vm.start()
    }

    def cleanupSpec() {
        vm?.close()
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

    /** Everything the inputs could damage: the VM's definition and state, its files, all domains. */
    Map snapshotOfTheWorld() {
        [xml   : vm.xml(XmlView.INACTIVE), live: vm.xml(XmlView.LIVE), state: vm.state(),
         files : Files.list(vm.dir()).withCloseable { s -> s.collect { it.fileName.toString() }.sort() },
         sizes : Files.list(vm.dir()).withCloseable { s -> s.collect { Files.size(it) } },
         defined: vm.libvirt().exists(vm.name()), state_dir: Files.exists(dir.resolve('state/locks')) ? 'locks' : 'none']
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
