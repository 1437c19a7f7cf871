package dev.snapbook.playbooks.show

import com.fasterxml.jackson.databind.JsonNode
import com.fasterxml.jackson.databind.ObjectMapper
import dev.snapbook.engine.cli.Main
import dev.snapbook.playbooks.RecipeHarness
import dev.snapbook.playbooks.recipes.ExternalRecipeSupport
import dev.snapbook.steps.lab.LabVm
import spock.lang.Requires

import java.nio.file.Files
import java.nio.file.Path

/**
 * {@code snapbook show} on a lab VM made with the recipes: an internal snapshot i1 (A written before it), external
 * snapshots e1 (overlay in directory a/) and e2 (in b/), a revert to e1, then e3 (in b/): e2 is left on a
 * branch that is no longer the VM's, with the state just before the revert kept under it as the snapshot
 * snapbook-before-revert-e1; e3 is current. Text, dot and JSON must show the same tree and chain.
 */
@Requires(value = { LabVm.available() }, reason = 'needs libvirt: `virsh -c qemu:///system version` must succeed')
class ShowSpec extends ExternalRecipeSupport {

    Path dirA
    Path dirB

    def setup() {
        dirA = Files.createDirectories(vm.dir().resolve('a'))
        dirB = Files.createDirectories(vm.dir().resolve('b'))
        vm.start()
        write(A)
        ok harness.run('recipe:internal-snapshot-create', [domain: vm.name(), name: 'i1'])
        write(B)
        ok harness.run('recipe:external-snapshot-create', [domain: vm.name(), name: 'e1', disk: 'vda',
                                                         file: dirA.resolve('vda.e1').toString()])
        write(C)
        ok harness.run('recipe:external-snapshot-create', [domain: vm.name(), name: 'e2', disk: 'vda',
                                                         file: dirB.resolve('vda.e2').toString()])
        write(D)
        ok harness.run('recipe:external-snapshot-revert', vars(snapshot: 'e1'))
        write(E)
        ok harness.run('recipe:external-snapshot-create', [domain: vm.name(), name: 'e3', disk: 'vda',
                                                         file: dirB.resolve('vda.e3').toString()])
    }

    static void ok(def out) {
        assert out.exitCode == 0: out.result.message()
    }

    /** What {@code snapbook show DOMAIN --format FORMAT} prints, and its exit code. */
    List show(String format) {
        RecipeHarness.cli('show', vm.name(), '--format', format)
    }

    /** Every file of the VM, in its directory and in a/ and b/, with its hash. */
    @Override
    Map<String, String> hashes() {
        Files.walk(vm.dir()).withCloseable { s -> s.filter { Files.isRegularFile(it) }.sorted().toList() }
                .collectEntries { [vm.dir().relativize(it).toString(), sha(it)] }
    }

    /** The chain's files for humans and assertions: active first. */
    List<String> chain() {
        [dirB.resolve('vda.e3').toString(), file("${vm.name()}-vda.revert-e1-1.qcow2").toString(), vm.disk().toString()]
    }

    def "text: the tree with e3 current and e2 on the branch left by the revert; the chain with the active file marked"() {
        given:
        def before = world()

        when:
        def (exit, text) = show('text')
        List<String> lines = text.readLines()

        then:
        exit == 0
        lines[0] == "${vm.name()} (running)".toString()
        lines[1..6] == ['snapshots:',
                        '  i1  [internal, running]',
                        '  └─ e1  [external, disk-snapshot]',
                        '     ├─ e2  [external, disk-snapshot]',
                        '     │  └─ snapbook-before-revert-e1  [external, shutoff]',
                        '     └─ e3  [external, disk-snapshot]  <- current']
        lines[7..8] == ['disks:', '  vda']
        lines[9] ==~ /    \* ${chain()[0]}  qcow2  64\.0 MiB virtual  [\d.]+ [KM]iB on disk  <- active/
        lines[10] ==~ /    └─ ${chain()[1]}  qcow2  [\d.]+ [KM]iB on disk/
        lines[11] ==~ /       └─ ${chain()[2]}  qcow2  [\d.]+ [KM]iB on disk  \(base\)/
        lines.size() == 12

        and: 'the picture is true: each layer holds what was written while it was active'
        visible(chain()[0]) == [A, B, E] as Set
        visible(dirB.resolve('vda.e2')) == [A, B, C, D] as Set
        visible(dirA.resolve('vda.e1')) == [A, B, C] as Set
        visible(vm.dir().resolve('b').resolve('vda.snapbook-before-revert-e1')) == [A, B, C, D] as Set

        and: 'show changed nothing'
        world() == before
    }

    def "dot: snapshot boxes with parent edges, current in bold; the chain with backing edges, active in bold"() {
        when:
        def (exit, dot) = show('dot')

        then:
        exit == 0
        dot.startsWith("digraph \"${vm.name()}\" {")
        dot.contains('"snap:i1" [shape=box, label="i1\\ninternal, running"];')
        dot.contains('"snap:e1" -> "snap:i1";')
        dot.contains('"snap:e2" -> "snap:e1";')
        dot.contains('"snap:e3" -> "snap:e1";')
        dot.contains('"snap:e3" [shape=box, label="e3\\nexternal, disk-snapshot", style=bold, color=blue];')
        dot.readLines().count { it.contains('style=bold, color=blue') } == 1
        dot.contains("\"vda:${chain()[0]}\" [label=\"${chain()[0]}\\nqcow2\", style=bold, color=red];")
        dot.contains("\"vda:${chain()[0]}\" -> \"vda:${chain()[1]}\" [label=\"backing\"];")
        dot.contains("\"vda:${chain()[1]}\" -> \"vda:${chain()[2]}\" [label=\"backing\"];")
        dot.readLines().count { it.contains('color=red') } == 1
        dot.strip().endsWith('}')
    }

    def "json: the same tree and chain as data"() {
        when:
        def (exit, text) = show('json')
        JsonNode json = new ObjectMapper().readTree(text)
        def snaps = json.path('snapshots').collectEntries { [it.path('name').asText(), it] }

        then:
        exit == 0
        json.path('format_version').asInt() == 1
        json.path('domain').asText() == vm.name()
        json.path('state').asText() == 'running'
        json.path('current').asText() == 'e3'
        snaps.keySet() == ['i1', 'e1', 'e2', 'snapbook-before-revert-e1', 'e3'] as Set
        snaps['snapbook-before-revert-e1'].path('parent').asText() == 'e2'
        snaps.i1.path('location').asText() == 'internal'
        snaps.i1.path('parent').isNull()
        ['e1', 'e2', 'e3'].every { snaps[it].path('location').asText() == 'external' }
        snaps.e1.path('children')*.asText() == ['e2', 'e3']
        snaps.e2.path('parent').asText() == 'e1'
        snaps.findAll { k, v -> v.path('current').asBoolean() }.keySet() == ['e3'] as Set

        and:
        json.path('disks').size() == 1
        def vda = json.path('disks').get(0)
        vda.path('target').asText() == 'vda'
        vda.path('chain')*.path('file')*.asText() == chain()
        vda.path('chain')*.path('format')*.asText() == ['qcow2'] * 3
        vda.path('chain')*.path('active')*.asBoolean() == [true, false, false]
        vda.path('chain').get(0).path('virtualSize').asLong() == 64L * 1024 * 1024
    }

    def "plan ends with the tree and chain today and as predicted after the run, for the domain it changes"() {
        given:
        def before = world()
        String e4 = dirA.resolve('vda.e4').toString()

        when:
        def (int exit, String text) = RecipeHarness.cli('plan', 'recipe:external-snapshot-create', '-e', 'domain=' + vm.name(),
                '-e', 'name=e4', '-e', 'disk=vda', '-e', 'file=' + e4)
        List<String> lines = text.readLines()
        int pic = lines.indexOf('today -> after the run:')
        List<String> today = lines.subList(lines.indexOf('  today:') + 1, lines.indexOf('  after the run:'))
        List<String> after = lines.subList(lines.indexOf('  after the run:') + 1, lines.size() - 1)

        then: 'the picture comes after the steps, before the verdict'
        exit == 0
        pic > 0 && lines.last() == 'plan: feasible'

        and: 'today: e3 current, the VM on e3 over the revert overlay and the base'
        today.contains('         └─ e3  [external, disk-snapshot]  <- current')
        today.contains("        * ${chain()[0]}  qcow2  <- active".toString())

        and: 'after: e4 under e3 and current, the VM on the new overlay in a/ over the same chain'
        after.contains('         └─ e3  [external, disk-snapshot]')
        after.contains('            └─ e4  [external, disk-snapshot]  <- current')
        after.contains("        * ${e4}  qcow2  <- active".toString())
        after.contains("        └─ ${chain()[0]}  qcow2".toString())
        after.any { it.contains(chain()[2]) && it.endsWith('(base)') }

        and: 'planning changed nothing'
        world() == before
    }

    def "plan --output json gives the same picture as data: the domain, today and after the run"() {
        given:
        String e4 = dirA.resolve('vda.e4').toString()
        def args = ['plan', 'recipe:external-snapshot-create', '-e', 'domain=' + vm.name(),
                    '-e', 'name=e4', '-e', 'disk=vda', '-e', 'file=' + e4]

        when:
        def (int textExit, String text) = RecipeHarness.cli(*args)
        def (int jsonExit, String out) = RecipeHarness.cli(*(args + ['--output', 'json']))
        def picture = new com.fasterxml.jackson.databind.ObjectMapper().readTree(out).path('picture')
        List<String> lines = text.readLines()
        String today = lines.subList(lines.indexOf('  today:') + 1, lines.indexOf('  after the run:'))
                .collect { it.substring(4) + '\n' }.join('')
        String after = lines.subList(lines.indexOf('  after the run:') + 1, lines.size() - 1)
                .collect { it.substring(4) + '\n' }.join('')

        then:
        textExit == 0 && jsonExit == 0
        picture.size() == 1
        picture.get(0).path('subject').asText() == 'domain ' + vm.name()
        picture.get(0).path('today').asText() == today
        picture.get(0).path('after').asText() == after
        picture.get(0).path('after').asText().contains("* ${e4}  qcow2  <- active".toString())
    }

    def "an unknown domain is an error with exit 1"() {
        expect:
        show('text')[0] == 0
        Main.execute('show', 'snapbook-test-no-such-domain') == 1
        Main.execute('show', vm.name(), '--format', 'svg') == 2
    }
}
