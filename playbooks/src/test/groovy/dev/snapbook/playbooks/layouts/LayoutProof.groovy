package dev.snapbook.playbooks.layouts

import dev.snapbook.playbooks.RecipeHarness

import java.nio.file.Path

/**
 * The proofs of a lab's data against its model, shared by the layout matrix and the mixed-use spec: the disks and
 * every snapshot's state files show exactly their patterns, and a revert to every state shows it.
 */
final class LayoutProof {

    /** An assertion whose message is only {@code message} (the matrix quotes its first line). */
    static void must(boolean condition, Closure message) {
        if (!condition) {
            throw new AssertionError(String.valueOf(message()))
        }
    }

    static String why(def out) {
        "${out.plan.failure() ?: out.result.message()} ${out.result.run()?.problems() ?: ''}".trim()
    }

    static void ok(LayoutLab lab, def out, String what) {
        must(out.exitCode == 0) { "${what}: exit ${out.exitCode}: ${why(out)}" }
        def drift = lab.ownDrift(out)
        must(drift.isEmpty()) { "${what}: the world differs from the plan's prediction: ${drift}" }
    }

    /**
     * The disks show exactly the current data and the state files of every remaining snapshot exactly its state's;
     * the snapshots libvirt lists are those of the model. Returns how many states were proven (the current one
     * included).
     */
    static int prove(LayoutLab lab) {
        must(lab.snapshots() as Set == lab.states.keySet()) { "libvirt lists ${lab.snapshots()}, the model ${lab.states.keySet()}" }
        int n = proveCurrent(lab)
        for (String s in lab.states.keySet().sort()) {
            Map<String, String> files = lab.stateFiles(s)
            for (String t in lab.targets) {
                Set<Integer> shown = lab.shows(Path.of(files[t]))
                must(shown == lab.states[s]) { "the state of ${s} (${t}: ${files[t]}) shows ${shown}, not ${lab.states[s]}" }
            }
            n++
        }
        n
    }

    static int proveCurrent(LayoutLab lab) {
        for (String t in lab.targets) {
            Set<Integer> shown = lab.shows(lab.active(t))
            must(shown == lab.current) { "disk ${t} (${lab.active(t)}) shows ${shown}, not ${lab.current}" }
        }
        1
    }

    /**
     * A revert to every state of the model, the VM shut off first (a revert of a running guest-less VM only adds a
     * forced shutdown): each shows exactly its data on every disk. The state before the first revert is kept by it
     * and reverted to last. With no snapshot left, the disk's data is proven. Returns how many states were proven.
     */
    static int revertToEvery(RecipeHarness harness, LayoutLab lab) {
        lab.vm.destroy()
        if (lab.states.isEmpty()) {
            return proveCurrent(lab) // no snapshot left to revert to: the disk alone is proven
        }
        int n = 0
        String keptCurrent = null
        Set<Integer> wasCurrent = lab.current.clone() as Set
        for (String s in lab.states.keySet().sort()) {
            Set<String> before = lab.snapshots() as Set
            def out = harness.run('recipe:external-snapshot-revert', [domain: lab.vm.name(), snapshot: s, timeout: '1s'])
            ok(lab, out, "revert to ${s}")
            if (keptCurrent == null) {
                keptCurrent = ((lab.snapshots() as Set) - before)[0]
            }
            for (String t in lab.targets) {
                Set<Integer> shown = lab.shows(lab.active(t))
                must(shown == lab.states[s]) { "after a revert to ${s}, ${t} shows ${shown}, not ${lab.states[s]}" }
            }
            n++
        }
        def out = harness.run('recipe:external-snapshot-revert', [domain: lab.vm.name(), snapshot: keptCurrent, timeout: '1s'])
        ok(lab, out, "revert to ${keptCurrent}")
        for (String t in lab.targets) {
            Set<Integer> shown = lab.shows(lab.active(t))
            must(shown == wasCurrent) { "after a revert to ${keptCurrent}, ${t} shows ${shown}, not ${wasCurrent}" }
        }
        n + 1
    }
}
