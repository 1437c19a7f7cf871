package dev.snapbook.steps.show;

import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.steps.domain.DiskFacts;
import dev.snapbook.steps.domain.DomainFactSource;
import dev.snapbook.steps.domain.DomainFacts;
import dev.snapbook.steps.image.ImageFactSource;
import dev.snapbook.steps.image.ImageFacts;
import dev.snapbook.steps.libvirt.Libvirt;
import dev.snapbook.steps.qemu.QemuImg;
import dev.snapbook.steps.snapshot.SnapshotFactSource;
import dev.snapbook.steps.snapshot.SnapshotFacts;
import dev.snapbook.steps.snapshot.SnapshotTree;

import dev.snapbook.engine.spi.FactKey;
import dev.snapbook.engine.spi.World;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code snapbook show DOMAIN} draws, observed read-only: the snapshot tree (current marked,
 * internal/external, state) and each disk's backing chain down to the base (active file marked, format,
 * sizes); as a text tree, Graphviz dot, or JSON (the same data).
 */
public record StatePicture(String domain, String state, String current, List<Snapshot> snapshots, List<Disk> disks) {

    /** A snapshot in the tree. */
    public record Snapshot(String name, String parent, String location, String state, boolean current,
                           List<String> children) {
    }

    /** A disk and its chain, active file first. */
    public record Disk(String target, String format, List<Layer> chain) {
    }

    /** One file of a chain. */
    public record Layer(String file, String format, Long virtualSize, Long fileSize, boolean active) {
    }

    /** The snapshots of {@code tree} as the picture shows them (none for a null tree). */
    private static List<Snapshot> snapshots(SnapshotTree tree) {
        List<Snapshot> snapshots = new ArrayList<>();
        if (tree != null) {
            for (SnapshotFacts s : tree.snapshots()) {
                snapshots.add(new Snapshot(s.name(), s.parent(), s.location(), s.state(),
                        s.name().equals(tree.current()), tree.children(s.name())));
            }
        }
        return snapshots;
    }

    /** Observes {@code domain} read-only. */
    public static StatePicture observe(Libvirt libvirt, QemuImg qemuImg, String domain) throws StepFailure {
        DomainFacts facts = DomainFactSource.observe(domain, libvirt);
        if (facts == null) {
            throw new StepFailure("domain '" + domain + "' does not exist on " + libvirt.uri(),
                    "list the domains with: virsh -c " + libvirt.uri() + " list --all");
        }
        SnapshotTree tree = SnapshotFactSource.observe(domain, libvirt);
        List<Snapshot> snapshots = snapshots(tree);
        List<Disk> disks = new ArrayList<>();
        for (DiskFacts d : facts.disks()) {
            if (d.source() == null || !"file".equals(d.type())) {
                continue;
            }
            List<Layer> chain = new ArrayList<>();
            ImageFacts image = ImageFactSource.observe(Path.of(d.source()), qemuImg);
            if (image == null) {
                chain.add(new Layer(d.source(), d.format(), null, null, true));
            } else {
                chain.add(new Layer(image.path(), image.format(), image.virtualSize(), size(image.path()), true));
                for (ImageFacts.Layer l : image.backingChain()) {
                    chain.add(new Layer(l.file(), l.format(), null, size(l.file()), false));
                }
            }
            disks.add(new Disk(d.target(), d.format(), chain));
        }
        return new StatePicture(domain, facts.state(), tree == null ? null : tree.current(), snapshots, disks);
    }

    /**
     * The picture of {@code domain} in a plan's world, read-only: today's ({@link World#observed}) or the
     * predicted one ({@link World#get}); null when the domain does not exist in it. Sizes are left out.
     */
    public static StatePicture of(World world, String domain, boolean predicted) throws StepFailure {
        DomainFacts facts = predicted ? world.get(DomainFacts.key(domain)) : world.observed(DomainFacts.key(domain));
        if (facts == null) {
            return null;
        }
        SnapshotTree tree = predicted ? world.get(SnapshotTree.key(domain)) : world.observed(SnapshotTree.key(domain));
        List<Snapshot> snapshots = snapshots(tree);
        List<Disk> disks = new ArrayList<>();
        for (DiskFacts d : facts.disks()) {
            if (d.source() == null || !"file".equals(d.type())) {
                continue;
            }
            FactKey<ImageFacts> key = ImageFacts.key(d.source());
            ImageFacts image = predicted ? world.get(key) : world.observed(key);
            List<Layer> chain = new ArrayList<>();
            if (image == null) {
                chain.add(new Layer(d.source(), d.format(), null, null, true));
            } else {
                chain.add(new Layer(image.path(), image.format(), image.virtualSize(), null, true));
                for (ImageFacts.Layer l : image.backingChain()) {
                    chain.add(new Layer(l.file(), l.format(), null, null, false));
                }
            }
            disks.add(new Disk(d.target(), d.format(), chain));
        }
        return new StatePicture(domain, facts.state(), tree == null ? null : tree.current(), snapshots, disks);
    }

    private static Long size(String file) {
        try {
            return Files.size(Path.of(file));
        } catch (IOException e) {
            return null;
        }
    }

    /** The text tree for a terminal. */
    public String text() {
        return text(true);
    }

    /** The text tree; without {@code sizes}, files are shown without their sizes (for predicted states). */
    public String text(boolean sizes) {
        StringBuilder out = new StringBuilder();
        out.append(domain).append(" (").append(state).append(")\n");
        out.append("snapshots:");
        if (snapshots.isEmpty()) {
            out.append(" none\n");
        } else {
            out.append('\n');
            for (Snapshot s : snapshots) {
                if (s.parent() == null) {
                    snapshotText(out, s, "  ", true, true);
                }
            }
        }
        out.append("disks:\n");
        for (Disk d : disks) {
            out.append("  ").append(d.target()).append('\n');
            String indent = "    ";
            for (int i = 0; i < d.chain().size(); i++) {
                Layer l = d.chain().get(i);
                out.append(indent).append(i == 0 ? "* " : "└─ ").append(l.file()).append("  ").append(l.format());
                if (sizes && l.virtualSize() != null) {
                    out.append("  ").append(human(l.virtualSize())).append(" virtual");
                }
                if (sizes && l.fileSize() != null) {
                    out.append("  ").append(human(l.fileSize())).append(" on disk");
                } else if (sizes) {
                    out.append("  MISSING");
                }
                if (l.active()) {
                    out.append("  <- active");
                }
                if (i == d.chain().size() - 1 && d.chain().size() > 1) {
                    out.append("  (base)");
                }
                out.append('\n');
                indent = i == 0 ? "    " : indent + "   ";
            }
        }
        return out.toString();
    }

    private void snapshotText(StringBuilder out, Snapshot s, String indent, boolean root, boolean last) {
        out.append(indent).append(root ? "" : last ? "└─ " : "├─ ").append(s.name())
                .append("  [").append(s.location()).append(", ").append(s.state()).append(']')
                .append(s.current() ? "  <- current" : "").append('\n');
        String childIndent = root ? indent : indent + (last ? "   " : "│  ");
        for (int i = 0; i < s.children().size(); i++) {
            Snapshot child = byName(s.children().get(i));
            if (child != null) {
                snapshotText(out, child, childIndent, false, i == s.children().size() - 1);
            }
        }
    }

    private Snapshot byName(String name) {
        return snapshots.stream().filter(s -> s.name().equals(name)).findFirst().orElse(null);
    }

    /** Graphviz dot: snapshots as boxes with parent edges, each disk's chain as ellipses with backing edges. */
    public String dot() {
        StringBuilder out = new StringBuilder("digraph \"" + esc(domain) + "\" {\n  rankdir=BT;\n");
        out.append("  subgraph cluster_snapshots {\n    label=\"snapshots\";\n");
        for (Snapshot s : snapshots) {
            out.append("    \"snap:").append(esc(s.name())).append("\" [shape=box, label=\"").append(esc(s.name()))
                    .append("\\n").append(esc(s.location())).append(", ").append(esc(s.state())).append('"')
                    .append(s.current() ? ", style=bold, color=blue" : "").append("];\n");
            if (s.parent() != null) {
                out.append("    \"snap:").append(esc(s.name())).append("\" -> \"snap:").append(esc(s.parent()))
                        .append("\";\n");
            }
        }
        out.append("  }\n");
        for (Disk d : disks) {
            out.append("  subgraph \"cluster_").append(esc(d.target())).append("\" {\n    label=\"")
                    .append(esc(d.target())).append("\";\n");
            for (int i = 0; i < d.chain().size(); i++) {
                Layer l = d.chain().get(i);
                out.append("    \"").append(esc(d.target())).append(':').append(esc(l.file())).append("\" [label=\"")
                        .append(esc(l.file())).append("\\n").append(esc(String.valueOf(l.format()))).append('"')
                        .append(l.active() ? ", style=bold, color=red" : "").append("];\n");
                if (i > 0) {
                    out.append("    \"").append(esc(d.target())).append(':').append(esc(d.chain().get(i - 1).file()))
                            .append("\" -> \"").append(esc(d.target())).append(':').append(esc(l.file()))
                            .append("\" [label=\"backing\"];\n");
                }
            }
            out.append("  }\n");
        }
        return out.append("}\n").toString();
    }

    /** The same data as a map, for JSON. */
    public Map<String, Object> json() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format_version", 1);
        m.put("domain", domain);
        m.put("state", state);
        m.put("current", current);
        m.put("snapshots", snapshots);
        m.put("disks", disks);
        return m;
    }

    private static String esc(String s) {
        return s == null ? "" : s.replace("\\", "\\\\").replace("\"", "\\\"");
    }

    static String human(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? bytes + " B" : String.format(java.util.Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
