package dev.snapbook.steps.snapshot;

import dev.snapbook.engine.spi.FactKey;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The snapshots of one libvirt domain (fact kind {@code snapshots}, id = the domain's name).
 *
 * @param current   the current snapshot's name, or null when there is none
 * @param snapshots every snapshot in tree order: roots by name, each followed depth-first by its children,
 *                  siblings by name. Deterministic without timestamps, so a plan can predict it.
 */
public record SnapshotTree(String domain, String current, List<SnapshotFacts> snapshots) {

    public static final String KIND = "snapshots";

    public SnapshotTree {
        snapshots = inTreeOrder(snapshots);
    }

    public static FactKey<SnapshotTree> key(String domain) {
        return new FactKey<>(KIND, domain, SnapshotTree.class);
    }

    /** The snapshot named {@code name}, or null. */
    public SnapshotFacts find(String name) {
        return snapshots.stream().filter(s -> s.name().equals(name)).findFirst().orElse(null);
    }

    /** The names of the direct children of {@code name}, by name. */
    public List<String> children(String name) {
        return snapshots.stream().filter(s -> name.equals(s.parent())).map(SnapshotFacts::name).sorted().toList();
    }

    /** The names of every descendant of {@code name}, in tree order. */
    public List<String> descendants(String name) {
        List<String> out = new ArrayList<>();
        for (String child : children(name)) {
            out.add(child);
            out.addAll(descendants(child));
        }
        return out;
    }

    public List<String> names() {
        return snapshots.stream().map(SnapshotFacts::name).toList();
    }

    /** This tree with {@code snapshot} added (or replaced) and {@code newCurrent} as the current one. */
    public SnapshotTree with(SnapshotFacts snapshot, String newCurrent) {
        List<SnapshotFacts> all = new ArrayList<>(snapshots.stream()
                .filter(s -> !s.name().equals(snapshot.name())).toList());
        all.add(snapshot);
        return new SnapshotTree(domain, newCurrent, all);
    }

    public SnapshotTree withCurrent(String newCurrent) {
        return new SnapshotTree(domain, newCurrent, snapshots);
    }

    private static List<SnapshotFacts> inTreeOrder(List<SnapshotFacts> all) {
        List<SnapshotFacts> sorted = new ArrayList<>(all);
        sorted.sort(Comparator.comparing(SnapshotFacts::name));
        java.util.Set<String> names = new java.util.HashSet<>();
        sorted.forEach(s -> names.add(s.name()));
        List<SnapshotFacts> out = new ArrayList<>();
        // Roots: no parent, or a parent that is not in the tree (never seen from libvirt; kept safe anyway).
        for (SnapshotFacts s : sorted) {
            if (s.parent() == null || !names.contains(s.parent())) {
                visit(s, sorted, out);
            }
        }
        if (out.size() != sorted.size()) {
            throw new IllegalArgumentException("snapshot parents form a cycle: " + sorted);
        }
        return List.copyOf(out);
    }

    private static void visit(SnapshotFacts s, List<SnapshotFacts> sorted, List<SnapshotFacts> out) {
        out.add(s);
        for (SnapshotFacts c : sorted) {
            if (s.name().equals(c.parent())) {
                visit(c, sorted, out);
            }
        }
    }
}
