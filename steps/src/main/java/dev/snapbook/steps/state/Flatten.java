package dev.snapbook.steps.state;

import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.steps.image.BackingChain;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Where a flatten of one disk may go without breaking any other state: the one decision that
 * {@code chain.layers} reports, and that {@code block.commit} and {@code block.pull} take when no base is given.
 *
 * <p>A layer of the disk's chain is this disk's own when every state that reads it is the disk itself or a
 * snapshot the flatten may drop. A snapshot may be dropped (only when {@code dropSnapshots}) when it is an
 * external snapshot of this disk alone whose state and overlay both lie on the disk's current chain: its metadata
 * then goes, and nothing of it is lost that the flatten does not merge into the disk. A snapshot on another branch (the
 * state kept by a revert, say), a snapshot that also holds another disk's state, an internal snapshot and any
 * other domain's disk are never dropped: a flatten stops above the first layer they read, and names them.
 *
 * @param chain  the disk's chain, active image first
 * @param base   for a commit: the index of the layer the chain is committed into (the lowest one this disk may
 *               write); for a pull: the index of the new backing file, or {@code chain.size()} when everything
 *               is pulled
 * @param merged the files that leave the disk's chain (top down to just above base for a commit; the pulled
 *               layers for a pull)
 * @param drops  the snapshots whose metadata the flatten drops, because their state is merged away
 * @param stop   why the flatten stops above the layer below base, or null when it goes to the bottom
 */
public record Flatten(String domain, String disk, boolean commit, List<String> chain, int base,
                      List<String> merged, List<String> drops, String stop) {

    public Flatten {
        chain = List.copyOf(chain);
        merged = List.copyOf(merged);
        drops = List.copyOf(drops);
    }

    /** The base file (commit target, or the new backing file of a pull), or null when a pull takes everything. */
    public String baseFile() {
        return base < chain.size() ? chain.get(base) : null;
    }

    /** The disk's chain afterwards, active image first. */
    public List<String> after() {
        List<String> files = new ArrayList<>();
        if (!commit) {
            files.add(chain.get(0));
        }
        files.addAll(chain.subList(base, chain.size()));
        return files;
    }

    /** The deepest layer a commit of the disk's active image may go into. */
    public static Flatten commit(DiskStates states, String domain, String disk, List<String> chain,
                                 boolean dropSnapshots) throws StepFailure {
        Set<String> droppable = dropSnapshots ? droppable(states, domain, disk, chain) : Set.of();
        String where = requireBacking(domain, disk, chain, "commit");
        for (int k = 1; k < chain.size(); k++) {
            List<DiskState> broken = others(states.brokenByCommit(chain.subList(0, k), chain.get(k)), domain, disk);
            List<DiskState> kept = broken.stream().filter(s -> !droppedBy(s, domain, droppable)).toList();
            if (!kept.isEmpty()) {
                if (k == 1) {
                    throw new StepFailure("refusing to commit disk " + where + ": even a commit of " + chain.get(0)
                            + " into " + chain.get(1) + " would change what these states show:\n"
                            + DiskStates.describe(kept), hint(kept));
                }
                return commitInto(states, domain, disk, chain, k - 1,
                        chain.get(k) + " is also read by " + DiskStates.inline(kept));
            }
        }
        return commitInto(states, domain, disk, chain, chain.size() - 1, null);
    }

    private static Flatten commitInto(DiskStates states, String domain, String disk, List<String> chain, int k,
                                      String stop) {
        Set<String> drops = new LinkedHashSet<>();
        for (DiskState s : others(states.brokenByCommit(chain.subList(0, k), chain.get(k)), domain, disk)) {
            drops.add(s.name());
        }
        // A droppable snapshot whose state (below base) the commit leaves intact stays; its overlay, if merged
        // away, is kept on disk by image.delete's skip_used, since the snapshot still names it.
        return new Flatten(domain, disk, true, chain, k, chain.subList(0, k), List.copyOf(drops), stop);
    }

    /** The layers of the disk's own that a pull may copy into the active image, stopping at the first shared one. */
    public static Flatten pull(DiskStates states, String domain, String disk, List<String> chain,
                               boolean dropSnapshots) throws StepFailure {
        Set<String> droppable = dropSnapshots ? droppable(states, domain, disk, chain) : Set.of();
        String where = requireBacking(domain, disk, chain, "pull");
        refusePullInto(states, chain.get(0), where);
        int base = chain.size();
        String stop = null;
        for (int i = 1; i < chain.size(); i++) {
            List<DiskState> readers = others(states.containing(chain.get(i)), domain, disk).stream()
                    .filter(s -> !droppedBy(s, domain, droppable)).toList();
            if (!readers.isEmpty()) {
                base = i;
                stop = chain.get(i) + " is also read by " + DiskStates.inline(readers);
                break;
            }
        }
        if (base == 1) {
            throw new StepFailure("nothing of disk " + where + " can be pulled: its backing file " + chain.get(1)
                    + " is not its own (" + stop + ")", "the disk already stands on a shared layer; leave it as it is");
        }
        List<String> pulled = chain.subList(1, base);
        Set<String> drops = new LinkedHashSet<>();
        for (String file : pulled) {
            for (DiskState s : others(states.containing(file), domain, disk)) {
                drops.add(s.name());
            }
        }
        return new Flatten(domain, disk, false, chain, base, pulled, List.copyOf(drops), stop);
    }

    /** The disk's name for messages; refuses a chain without a backing file, where there is nothing to merge. */
    private static String requireBacking(String domain, String disk, List<String> chain, String merge)
            throws StepFailure {
        String where = domain + "/" + disk;
        if (chain.size() < 2) {
            throw new StepFailure("disk " + where + " has no backing file (" + chain.get(0)
                    + " stands alone): there is nothing to " + merge, null);
        }
        return where;
    }

    /**
     * Refuses a pull into {@code top} when internal snapshots live inside it: they read their unwritten clusters
     * through its backing file, which the pull replaces.
     */
    public static void refusePullInto(DiskStates states, String top, String where) throws StepFailure {
        List<DiskState> inside = states.internalIn(top);
        if (!inside.isEmpty()) {
            throw new StepFailure("refusing to pull into " + top + " (disk " + where + "): these internal snapshots"
                    + " inside it read their unwritten clusters through its backing file, which the pull replaces:\n"
                    + DiskStates.describe(inside),
                    "delete them first (recipe:internal-snapshot-delete), or flatten by commit (recipe:flatten-commit)");
        }
    }

    /**
     * The snapshots a flatten of {@code disk} may drop: external snapshots of {@code domain} whose every state is
     * of this disk and lies on its current chain (their state file's chain is the bottom of the disk's chain), and
     * that hold no memory state.
     */
    static Set<String> droppable(DiskStates states, String domain, String disk, List<String> chain) {
        Set<String> names = new LinkedHashSet<>();
        Set<String> refused = new LinkedHashSet<>();
        for (DiskState s : states.all()) {
            if (s.kind() == DiskState.Kind.MEMORY && s.domain().equals(domain)) {
                refused.add(s.name()); // dropping it would orphan its memory file and the state it resumes
                continue;
            }
            if (s.kind() != DiskState.Kind.SNAPSHOT && s.kind() != DiskState.Kind.OVERLAY
                    || !s.domain().equals(domain)) {
                continue;
            }
            // its state and its overlay both lie on the current chain: an overlay off the chain holds writes made
            // after the snapshot that the chain does not have (before a revert, say), which dropping would orphan
            boolean ok = disk.equals(s.disk()) && s.chain().stream().allMatch(DiskState.Layer::active)
                    && isSuffix(s, chain);
            (ok ? names : refused).add(s.name());
        }
        names.removeAll(refused);
        return names;
    }

    private static boolean isSuffix(DiskState s, List<String> chain) {
        int offset = chain.size() - s.chain().size();
        if (offset < 0) {
            return false;
        }
        for (int i = 0; i < s.chain().size(); i++) {
            if (!BackingChain.sameFile(s.chain().get(i).file(), chain.get(offset + i))) {
                return false;
            }
        }
        return true;
    }

    private static boolean droppedBy(DiskState s, String domain, Set<String> droppable) {
        return (s.kind() == DiskState.Kind.SNAPSHOT || s.kind() == DiskState.Kind.OVERLAY)
                && s.domain().equals(domain) && droppable.contains(s.name());
    }

    private static List<DiskState> others(List<DiskState> states, String domain, String disk) {
        return states.stream().filter(DiskStates.notDisk(domain, disk)).toList();
    }

    private static String hint(List<DiskState> kept) {
        return "delete or flatten those states first (recipe:external-snapshot-delete, recipe:internal-snapshot-delete),"
                + " or, for another domain's disk, leave this chain as it is: snapbook never writes a layer another"
                + " state reads";
    }
}
