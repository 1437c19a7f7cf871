package dev.snapbook.playbooks.safety

import dev.snapbook.playbooks.recipes.ExternalRecipeSupport
import dev.snapbook.steps.lab.LabVm
import dev.snapbook.steps.libvirt.PowerState
import spock.lang.Requires

import dev.snapbook.steps.exec.Command
import dev.snapbook.steps.snapshot.SnapshotFactSource

import java.nio.file.Path
import java.time.Duration

/**
 * A property over random small histories on one lab VM, run through the recipes: writes, internal and external
 * snapshots, reverts (which make branches and kept states), deletes and flattens, in an order drawn from a seed.
 * The spec keeps its own model of which data each state holds. After every run that succeeded, the snapshots
 * libvirt lists are those the model still has; after every refusal, nothing changed (XML, snapshots, file
 * hashes). At the end a revert to every remaining state shows exactly the data the model says it holds; an
 * internal snapshot whose revert is refused (external states read its image) is read in place instead.
 */
@Requires(value = { LabVm.available() || System.getenv('CI') },
        reason = 'needs libvirt: `virsh -c qemu:///system version` must succeed (run scripts/setup)')
class RandomHistorySpec extends ExternalRecipeSupport {

    static final int STEPS = 9

    /** Pattern i is the byte 0x10 + i, written at (i + 1) MiB: every write is a distinct pattern of its own. */
    int patterns = 0
    Set<Integer> current = [] as Set
    Map<String, Set<Integer>> states = [:]
    Map<String, String> location = [:]
    List<String> history = []
    int names = 0

    void writeNext() {
        int i = patterns++
        vm.writePattern(0x10 + i, "${i + 1}M", '64k')
        current << i
    }

    Set<Integer> shows(String image) {
        (0..<patterns).findAll { LabVm.hasPattern(Path.of(image), 0x10 + it, "${it + 1}M", '64k') } as Set
    }

    void ensureRunning() {
        if (vm.state() != PowerState.RUNNING) {
            vm.start()
        }
    }

    /** Runs {@code recipe}; on success applies {@code change} to the model, on a refusal checks nothing changed. */
    int step(String what, String recipe, Map vars, Closure change) {
        def before = world()
        def out = harness.run(recipe, vars)
        history << "${what}: exit ${out.exitCode}"
        if (out.exitCode == 0) {
            change.call(out)
        } else {
            assert out.exitCode == 1: "${what}: ${out.result.message()} ${out.result.run()?.problems()}"
            assert world() == before: "${what} was refused, but changed something"
        }
        // libvirt lists exactly the states the model holds (kept states included)
        assert snapshots() as Set == states.keySet(): "${what}: libvirt has ${snapshots()}, the model ${states.keySet()}"
        out.exitCode
    }

    String newName() {
        "h${names++}"
    }

    /**
     * What the internal snapshot {@code s} holds, read without reverting (a revert is refused while external states
     * read its image): {@code qemu-img convert -l snapshot.name=S} of its image into a scratch file.
     */
    Set<Integer> internalShows(String s) {
        String image = SnapshotFactSource.observe(vm.name(), vm.libvirt()).find(s).activeFiles()['vda']
        Path copy = tmp.resolve("${s}.qcow2")
        def r = Command.of('qemu-img', 'convert', '-U', '-l', "snapshot.name=${s}", '-O', 'qcow2', image, copy.toString())
                .run(Duration.ofSeconds(60), { })
        assert r.succeeded(): r.stderr()
        shows(copy.toString())
    }

    int revertTo(String s) {
        String recipe = location[s] == 'internal' ? 'recipe:internal-snapshot-revert' : 'recipe:external-snapshot-revert'
        Set<String> before = snapshots() as Set
        int rc = step("revert to $s", recipe, location[s] == 'internal' ? [domain: vm.name(), snapshot: s] : vars(snapshot: s)) {
            // the state just before is kept as a new snapshot
            (snapshots() as Set).minus(before).each { k ->
                states[k] = current.clone() as Set
                location[k] = location[s] == 'internal' ? 'internal' : 'external'
            }
            current = states[s].clone() as Set
        }
        ensureRunning()
        rc
    }

    def "a random history (seed #seed) keeps every state it does not drop exactly, and every refusal changes nothing"() {
        given:
        def random = new Random(seed)
        vm.start()
        writeNext()

        when:
        for (int n = 0; n < STEPS; n++) {
            ensureRunning()
            int op = random.nextInt(8)
            List<String> names = states.keySet().sort()
            switch (op) {
                case 0:
                    writeNext()
                    history << 'write'
                    break
                case 1:
                    String s = newName()
                    step("internal snapshot $s", 'recipe:internal-snapshot-create', [domain: vm.name(), name: s]) {
                        states[s] = current.clone() as Set
                        location[s] = 'internal'
                    }
                    writeNext()
                    break
                case 2:
                case 3:
                    String s = newName()
                    step("external snapshot $s", 'recipe:external-snapshot-create', [domain: vm.name(), name: s]) {
                        states[s] = current.clone() as Set
                        location[s] = 'external'
                    }
                    writeNext()
                    break
                case 4:
                    if (names) {
                        revertTo(names[random.nextInt(names.size())])
                        writeNext()
                    }
                    break
                case 5:
                    if (names) {
                        String s = names[random.nextInt(names.size())]
                        String recipe = location[s] == 'internal' ? 'recipe:internal-snapshot-delete' : 'recipe:external-snapshot-delete'
                        step("delete $s", recipe, [domain: vm.name(), snapshot: s]) { states.remove(s) }
                    }
                    break
                default:
                    String recipe = op == 6 ? 'recipe:flatten-commit' : 'recipe:flatten-pull'
                    step(recipe, recipe, [domain: vm.name()]) {
                        states.keySet().retainAll(snapshots())
                    }
                    break
            }
            assert shows(activeFile()) == current: "after ${history}: the disk shows ${shows(activeFile())}, not ${current}"
        }
        println "history (seed ${seed}): ${history.join('; ')}"

        then: 'a revert to every remaining state shows exactly its data'
        for (String s in states.keySet().sort()) {
            if (!states.containsKey(s)) {
                continue
            }
            Set<Integer> expected = states[s]
            if (revertTo(s) == 0) {
                assert shows(activeFile()) == expected: "revert to $s shows ${shows(activeFile())}, not $expected (${history})"
            } else {
                // refused in the plan (nothing changed, checked by step): only an internal snapshot whose image
                // external states read; its data must still be exactly there
                assert location[s] == 'internal': "the revert to $s was refused (${history})"
                assert internalShows(s) == expected: "internal snapshot $s holds ${internalShows(s)}, not $expected"
            }
        }

        where:
        seed << [11L, 23L, 47L]
    }
}
