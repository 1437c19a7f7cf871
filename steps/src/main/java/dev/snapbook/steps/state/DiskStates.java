package dev.snapbook.steps.state;

import dev.snapbook.engine.spi.StepContext;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.engine.spi.World;
import dev.snapbook.engine.world.FactSources;
import dev.snapbook.steps.domain.DefinitionFacts;
import dev.snapbook.steps.domain.DiskFacts;
import dev.snapbook.steps.domain.DomainFacts;
import dev.snapbook.steps.domain.DomainListFacts;
import dev.snapbook.steps.image.BackingChain;
import dev.snapbook.steps.image.ImageFacts;
import dev.snapbook.steps.image.Qcow2Header;
import dev.snapbook.steps.libvirt.ConnectionHost;
import dev.snapbook.steps.libvirt.Libvirt;
import dev.snapbook.steps.libvirt.PowerState;
import dev.snapbook.steps.snapshot.SnapshotDisk;
import dev.snapbook.steps.snapshot.SnapshotFacts;
import dev.snapbook.steps.snapshot.SnapshotTree;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * The disk-state model: every state on the connection that someone can still see or go back to, and the files
 * each one's content is read from. It is the one implementation of DESIGN.md's safety rules 1 to 3; every step
 * that deletes, writes or re-points a file asks it, in its plan ({@link #of} the plan's world, which holds the
 * predictions of the steps before it) and again just before it acts ({@link #now}, a world observed afresh
 * through the same fact sources, so both read the same facts).
 *
 * <p>The states are: every file disk of every domain, live and (for a running domain) persistent definitions;
 * every libvirt snapshot's state of each of its disks (the chain of the file its embedded domain used, read as
 * the internal snapshot for an internal one) and each external snapshot's overlay with its chain; and the internal
 * snapshots that the qcow2 files' snapshot tables hold without a libvirt snapshot naming them. A state snapbook
 * keeps (the state just before a revert) is a libvirt snapshot like any other, so it is protected in the same way.
 *
 * <p>The rules, each answered by one method:
 * <ul>
 *   <li>a delete of F breaks every state that contains F ({@link #containing});</li>
 *   <li>a write of F's active content (an internal snapshot revert inside F, a repair, a domain started with F
 *       as its active layer) breaks every state that reads F's active view ({@link #readingActive});</li>
 *   <li>a commit of the run of layers {@code top … above base} into base changes base's content for every state
 *       that reads base without exactly that run above it ({@link #brokenByCommit});</li>
 *   <li>a pull into F (F's backing file changes) breaks the internal snapshots inside F ({@link #internalIn}),
 *       whose unallocated clusters are read through F's backing file.</li>
 * </ul>
 */
public final class DiskStates {

    /** How many of a host's domains are read from libvirt at once. */
    private static final int PARALLEL_READS = 4;

    private final List<DiskState> states;

    private DiskStates(List<DiskState> states) {
        this.states = List.copyOf(states);
    }

    /** Every state, in domain order. */
    public List<DiskState> all() {
        return states;
    }

    /**
     * The states as the world predicts them at this point of a plan (or as observed, for a fresh world).
     *
     * @throws StepFailure when a domain's disk chain cannot be read, so that no state can be ruled out there
     */
    public static DiskStates of(World world) throws StepFailure {
        ConnectionHost.requireLocal(world, "snapbook's model of the disks' states reads every domain's image files");
        List<DiskState> out = new ArrayList<>();
        DomainListFacts all = world.get(DomainListFacts.key());
        List<String> names = all == null ? List.of() : all.names();
        List<dev.snapbook.engine.spi.FactKey<?>> keys = new ArrayList<>();
        for (String name : names) {
            keys.add(DomainFacts.key(name));
            keys.add(SnapshotTree.key(name));
        }
        world.prefetch(keys, PARALLEL_READS);
        for (String name : names) {
            try {
                addDomain(world, name, out);
            } catch (StepFailure e) {
                if (!Libvirt.isNoDomain(e)) {
                    throw e;
                }
                // undefined while we looked: it holds no state any more
            }
        }
        addUnnamedInternal(out);
        return new DiskStates(out);
    }

    /**
     * Adds the internal snapshots that the snapshot tables of the chains' qcow2 files hold and no libvirt snapshot
     * names (made with {@code qemu-img snapshot -c}, or whose metadata was dropped): each is a state of its own,
     * read from the file's table in-process. A file whose header cannot be read adds none; whether it is damaged
     * is for the chain checks to say.
     */
    private static void addUnnamedInternal(List<DiskState> out) {
        java.util.Map<String, DiskState> firstWithFile = new java.util.LinkedHashMap<>();
        java.util.Set<String> named = new java.util.HashSet<>();
        for (DiskState s : out) {
            for (int i = 0; i < s.chain().size(); i++) {
                DiskState.Layer layer = s.chain().get(i);
                firstWithFile.putIfAbsent(layer.file(), s);
                if (!layer.active()) {
                    named.add(layer.file() + "\0" + layer.internalSnapshot());
                }
            }
        }
        List<DiskState> found = new ArrayList<>();
        firstWithFile.forEach((file, holder) -> {
            List<String> names = internalSnapshots(file);
            if (names.isEmpty()) {
                return;
            }
            int at = holder.indexOf(file);
            for (String name : names) {
                if (named.add(file + "\0" + name)) {
                    List<DiskState.Layer> chain = new ArrayList<>();
                    chain.add(new DiskState.Layer(file, name));
                    chain.addAll(holder.chain().subList(at + 1, holder.chain().size()));
                    found.add(new DiskState(DiskState.Kind.INTERNAL, holder.domain(), name, null, false, chain));
                }
            }
        });
        out.addAll(found);
    }

    /** A file's internal snapshot names, by its size and modification time: a plan asks for them several times. */
    private static final java.util.Map<String, java.util.Map.Entry<String, List<String>>> TABLES =
            new java.util.concurrent.ConcurrentHashMap<>();

    /** The names in the snapshot table of {@code file}; none when it is no readable qcow2 file. */
    private static List<String> internalSnapshots(String file) {
        String stamp;
        try {
            java.nio.file.attribute.BasicFileAttributes a = Files.readAttributes(Path.of(file),
                    java.nio.file.attribute.BasicFileAttributes.class);
            stamp = a.size() + ":" + a.lastModifiedTime().toInstant();
        } catch (java.io.IOException e) {
            return List.of();
        }
        java.util.Map.Entry<String, List<String>> known = TABLES.get(file);
        if (known != null && known.getKey().equals(stamp)) {
            return known.getValue();
        }
        List<String> names;
        try {
            names = Qcow2Header.read(Path.of(file)).internalSnapshots();
        } catch (StepFailure e) {
            names = List.of();
        }
        TABLES.put(file, java.util.Map.entry(stamp, List.copyOf(names)));
        return names;
    }

    /** The states on the real system now: {@link #of} a world observed afresh through {@code context}. */
    public static DiskStates now(StepContext context) throws StepFailure {
        return of(FactSources.load(DiskStates.class.getClassLoader()).newWorld(context));
    }

    private static void addDomain(World world, String name, List<DiskState> out) throws StepFailure {
        DomainFacts domain = world.get(DomainFacts.key(name));
        if (domain == null) {
            return;
        }
        boolean running = PowerState.ofLabel(domain.state()).isActive();
        for (DiskFacts disk : domain.disks()) {
            if (isFile(disk)) {
                out.add(new DiskState(DiskState.Kind.DISK, name, null, disk.target(), running,
                        diskChain(world, name, disk)));
            }
        }
        // A step of this plan that re-pointed a disk changes both definitions, as libvirt does for snapshots,
        // pivots and snapbook's disk swaps; only an unchanged domain's persistent definition is read apart.
        boolean predicted = !Objects.equals(domain, world.observed(DomainFacts.key(name)));
        DefinitionFacts definition = running && !predicted ? world.get(DefinitionFacts.key(name)) : null;
        if (definition != null) {
            for (DiskFacts disk : definition.disks()) {
                boolean same = domain.disks().stream().anyMatch(d -> d.target().equals(disk.target())
                        && Objects.equals(d.source(), disk.source()));
                if (isFile(disk) && !same) {
                    out.add(new DiskState(DiskState.Kind.DEFINITION, name, null, disk.target(), false,
                            diskChain(world, name, disk)));
                }
            }
        }
        SnapshotTree tree = world.get(SnapshotTree.key(name));
        if (tree == null) {
            return;
        }
        for (SnapshotFacts s : tree.snapshots()) {
            if (s.memoryFile() != null) {
                out.add(new DiskState(DiskState.Kind.MEMORY, name, s.name(), null, false,
                        List.of(new DiskState.Layer(s.memoryFile(), null))));
            }
            for (SnapshotDisk d : s.disks()) {
                String state = s.activeFiles().get(d.disk());
                if ("external".equals(d.snapshot())) {
                    // The overlay was created over the file that held the state, and its backing link says where
                    // that data is. The record can say otherwise only while libvirt assumes a merge: deleting a
                    // snapshot's metadata gives its children its state files before the overlay is merged down.
                    String backing = d.file() == null ? null : backingOf(world, d.file());
                    if (backing != null) {
                        state = backing;
                    }
                    if (state != null) {
                        out.add(new DiskState(DiskState.Kind.SNAPSHOT, name, s.name(), d.disk(), false,
                                chain(world, state, null)));
                    }
                    if (d.file() != null) {
                        out.add(new DiskState(DiskState.Kind.OVERLAY, name, s.name(), d.disk(), false,
                                chain(world, d.file(), null)));
                    }
                } else if ("internal".equals(d.snapshot()) && state != null) {
                    out.add(new DiskState(DiskState.Kind.SNAPSHOT, name, s.name(), d.disk(), false,
                            chain(world, state, s.name())));
                }
            }
        }
    }

    private static boolean isFile(DiskFacts disk) {
        return "file".equals(disk.type()) && disk.source() != null;
    }

    /**
     * A domain disk's chain. A chain broken by a missing file is known whole: its layers down to the missing one,
     * since nothing below a missing file can be reached. A chain that cannot be read otherwise (a layer whose header
     * is gone) fails, since a use of any file could hide below it.
     */
    private static List<DiskState.Layer> diskChain(World world, String domain, DiskFacts disk) throws StepFailure {
        try {
            return chain(world.get(ImageFacts.key(disk.source())), disk.source(), null);
        } catch (StepFailure e) {
            Damage.Found broken = Damage.find(null, disk.source(), disk.format(), "the definition of domain " + domain);
            if (broken != null && broken.missing()) {
                List<DiskState.Layer> layers = new ArrayList<>();
                broken.above().forEach(f -> layers.add(new DiskState.Layer(f, null)));
                layers.add(new DiskState.Layer(broken.file(), null));
                return layers;
            }
            throw new StepFailure("cannot read the backing chain of " + disk.source() + " (disk " + disk.target()
                    + " of domain " + domain + "), so cannot tell which files its state needs: " + e.getMessage(),
                    "repair or inspect that chain first: qemu-img info -U --backing-chain " + disk.source(), e);
        }
    }

    /** A snapshot file's chain; one that cannot be read still counts by its own name. */
    private static List<DiskState.Layer> chain(World world, String top, String internal) {
        ImageFacts image;
        try {
            image = world.get(ImageFacts.key(top));
        } catch (StepFailure e) {
            image = null;
        }
        return chain(image, top, internal);
    }

    private static List<DiskState.Layer> chain(ImageFacts image, String top, String internal) {
        List<DiskState.Layer> layers = new ArrayList<>();
        layers.add(new DiskState.Layer(top, internal));
        if (image != null) {
            image.backingChain().forEach(l -> layers.add(new DiskState.Layer(l.file(), null)));
        }
        return layers;
    }

    private static String backingOf(World world, String file) {
        try {
            ImageFacts image = world.get(ImageFacts.key(file));
            return image == null || image.backingChain().isEmpty() ? null : image.backingChain().get(0).file();
        } catch (StepFailure e) {
            return null;
        }
    }

    /**
     * Deletes {@code path}, which the calling step created, as an undo; refuses (leaving it) when a state needs
     * it now, and does nothing when it is already gone.
     */
    public static void deleteCreated(String path, StepContext context) throws StepFailure {
        Path file = Path.of(path);
        if (!Files.exists(file)) {
            return;
        }
        List<DiskState> uses = now(context).containing(path);
        if (!uses.isEmpty()) {
            throw new StepFailure("not deleting " + path + " to undo its creation: these states need it:\n"
                    + describe(uses), "undo or detach those uses first, then delete it with image.delete");
        }
        context.trace("delete " + path);
        try {
            Files.delete(file);
        } catch (java.io.IOException e) {
            throw new StepFailure("cannot delete " + path + ": " + e.getMessage(), "check its permissions", e);
        }
    }

    // ---- the rules ----

    /** The states that contain {@code file} in any view: deleting it breaks every one (safety rule 1). */
    public List<DiskState> containing(String file) {
        return states.stream().filter(s -> s.contains(file)).toList();
    }

    /** Whether a state reads disk images: an overlay's entry only names its files, and a memory file is none. */
    private static boolean readsImages(DiskState s) {
        return s.kind() != DiskState.Kind.OVERLAY && s.kind() != DiskState.Kind.MEMORY;
    }

    /**
     * The states whose content reads {@code file}'s active view: writing that (an internal snapshot revert
     * inside it, a repair, a domain started on it) changes what each of them shows (safety rule 2). Internal
     * snapshots inside the file are not among them: qcow2 copies their clusters before a write.
     */
    public List<DiskState> readingActive(String file) {
        return states.stream().filter(DiskStates::readsImages).filter(s -> {
            int at = s.indexOf(file);
            return at >= 0 && s.chain().get(at).active();
        }).toList();
    }

    /** The internal snapshots inside {@code file} (libvirt's and those only its snapshot table names). */
    public List<DiskState> internalIn(String file) {
        return states.stream().filter(DiskStates::readsImages).filter(s -> {
            int at = s.indexOf(file);
            return at == 0 && !s.chain().get(0).active();
        }).toList();
    }

    /**
     * The states a commit of {@code run} (top first, down to just above base) into {@code base} changes: every
     * state that reads base's active view without exactly that run, in active view, right above it. A state that
     * reads the whole run right above base sees the same data after the commit, since every cluster the commit
     * copies into base is shadowed by the layer it came from; layers above the run (which QEMU rebases onto base
     * for an inner commit) shadow as before.
     */
    public List<DiskState> brokenByCommit(List<String> run, String base) {
        return readingActive(base).stream().filter(s -> {
            int at = s.indexOf(base);
            if (at < run.size()) {
                return true;
            }
            for (int i = 0; i < run.size(); i++) {
                DiskState.Layer layer = s.chain().get(at - run.size() + i);
                if (!layer.active() || !BackingChain.sameFile(layer.file(), run.get(i))) {
                    return true;
                }
            }
            return false;
        }).toList();
    }

    /** The states open by a running domain's QEMU that contain {@code file} (safety rule 3). */
    public List<DiskState> openByRunning(String file) {
        return containing(file).stream().filter(DiskState::openByRunningDomain).toList();
    }

    /** The states that are not disk {@code disk} of {@code domain} itself. */
    public static Predicate<DiskState> notDisk(String domain, String disk) {
        return s -> !s.isDisk(domain, disk);
    }

    /** The states for messages, one per line, each with its chain. */
    public static String describe(List<DiskState> states) {
        return named(states).stream().map(s -> "  - " + s).collect(Collectors.joining("\n"));
    }

    /** The states for a one-line message. */
    public static String inline(List<DiskState> states) {
        return named(states).stream().map(DiskState::toString).collect(Collectors.joining("; "));
    }

    /** The states without the overlays of snapshots that are listed themselves: one line a snapshot. */
    private static List<DiskState> named(List<DiskState> states) {
        return states.stream().filter(s -> s.kind() != DiskState.Kind.OVERLAY || states.stream().noneMatch(t ->
                t.kind() == DiskState.Kind.SNAPSHOT && t.domain().equals(s.domain()) && t.name().equals(s.name())))
                .toList();
    }
}
