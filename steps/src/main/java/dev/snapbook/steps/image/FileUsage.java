package dev.snapbook.steps.image;

import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.engine.spi.World;
import dev.snapbook.steps.domain.DiskFacts;
import dev.snapbook.steps.domain.DiskReader;
import dev.snapbook.steps.domain.DomainFacts;
import dev.snapbook.steps.domain.DomainListFacts;
import dev.snapbook.steps.libvirt.Libvirt;
import dev.snapbook.steps.libvirt.PowerState;
import dev.snapbook.steps.libvirt.XmlView;
import dev.snapbook.steps.qemu.QemuImg;
import dev.snapbook.steps.xml.SafeXml;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * Who uses a file on the connection: the one place that enforces DESIGN.md's first safety rule (no file is
 * deleted while a domain uses it as a disk or any image of any domain uses it as a backing file) and the
 * second (no qemu-img write on an image a running domain has open). Every step that deletes or writes an
 * image asks here, in its plan ({@link #planned}, from the world's facts, including earlier steps'
 * predictions) and again just before acting ({@link #now}, a full scan of the real system).
 *
 * <p>The full scan reads, for every domain on the connection, the live XML and (for a running persistent
 * domain) the persistent XML, walks each file disk's whole backing chain link by link, and reads the files
 * named in every snapshot's XML (the overlays it created and the disks of its embedded domain), with their
 * chains. Files are compared by canonical path, so a symbolic link to a used file counts as used.
 */
public final class FileUsage {

    /** How a domain uses a file. */
    public enum Role {
        /** It is a disk's active image (the top of the chain), which QEMU writes while the domain runs. */
        DISK,
        /** It is in a disk's backing chain below the active image; QEMU opens it read-only. */
        BACKING,
        /** A snapshot's XML names it, or it is in the chain of a file a snapshot names. */
        SNAPSHOT
    }

    /**
     * One use of the file.
     *
     * @param running whether the domain is active now (its QEMU has the file open for roles DISK/BACKING)
     * @param via     the disk's active image, through whose chain the file is used (the file itself for DISK)
     */
    public record Use(String domain, String disk, Role role, boolean running, String via) {

        /** Whether a running QEMU has the file open: a running domain's disk or backing layer. */
        public boolean openByRunningDomain() {
            return running && role != Role.SNAPSHOT;
        }

        @Override
        public String toString() {
            return switch (role) {
                case DISK -> "disk " + disk + " of domain " + domain + (running ? " (running)" : "");
                case BACKING -> "the backing chain of disk " + disk + " (" + via + ") of domain " + domain
                        + (running ? " (running)" : "");
                case SNAPSHOT -> "snapshot " + disk + " of domain " + domain + " (through " + via + ")";
            };
        }
    }

    private FileUsage() {
    }

    /**
     * The uses of {@code path} the world predicts at this point of a plan, from the {@code domains},
     * {@code domain}, {@code snapshots} and {@code image} facts (the live disks of each domain, the files of
     * each snapshot, and their backing chains). A running domain's persistent definition is only read by
     * {@link #now}.
     *
     * @throws StepFailure when a domain's disk chain cannot be read, so that the file's use cannot be ruled out
     */
    public static List<Use> planned(World world, String path) throws StepFailure {
        List<Use> uses = new ArrayList<>();
        DomainListFacts all = world.get(DomainListFacts.key());
        for (String name : all == null ? List.<String>of() : all.names()) {
            DomainFacts domain;
            try {
                domain = world.get(DomainFacts.key(name));
            } catch (StepFailure e) {
                if (Libvirt.isNoDomain(e)) {
                    continue; // undefined while we looked: it uses nothing any more
                }
                throw e;
            }
            if (domain == null) {
                continue;
            }
            boolean running = PowerState.ofLabel(domain.state()).isActive();
            for (DiskFacts disk : domain.disks()) {
                if (!"file".equals(disk.type()) || disk.source() == null) {
                    continue;
                }
                if (BackingChain.sameFile(disk.source(), path)) {
                    uses.add(new Use(name, disk.target(), Role.DISK, running, disk.source()));
                }
                ImageFacts image;
                try {
                    image = world.get(ImageFacts.key(disk.source()));
                } catch (StepFailure e) {
                    if (!Files.exists(Path.of(disk.source()))) {
                        continue; // deleted while we looked
                    }
                    throw new StepFailure("cannot read the backing chain of " + disk.source() + " (disk "
                            + disk.target() + " of domain " + name + "), so cannot rule out that it uses " + path
                            + ": " + e.getMessage(), "repair or inspect that chain first: qemu-img info -U"
                            + " --backing-chain " + disk.source(), e);
                }
                if (image == null) {
                    continue;
                }
                for (ImageFacts.Layer layer : image.backingChain()) {
                    if (BackingChain.sameFile(layer.file(), path)) {
                        uses.add(new Use(name, disk.target(), Role.BACKING, running, disk.source()));
                    }
                }
            }
            plannedSnapshotUses(world, name, running, path, uses);
        }
        return List.copyOf(new LinkedHashSet<>(uses));
    }

    /**
     * The uses of {@code path} by the snapshots of {@code domain} as the world predicts them (an earlier
     * {@code snapshot.delete} of the plan removes them): the overlays each snapshot created and the files that
     * hold its disk state, with their chains. So a plan refuses what {@link #now} would refuse at run time.
     */
    private static void plannedSnapshotUses(World world, String domain, boolean running, String path, List<Use> uses)
            throws StepFailure {
        dev.snapbook.steps.snapshot.SnapshotTree tree;
        try {
            tree = world.get(dev.snapbook.steps.snapshot.SnapshotTree.key(domain));
        } catch (StepFailure e) {
            if (Libvirt.isNoDomain(e)) {
                return; // undefined while we looked
            }
            throw e;
        }
        if (tree == null) {
            return;
        }
        for (dev.snapbook.steps.snapshot.SnapshotFacts s : tree.snapshots()) {
            Set<String> files = new LinkedHashSet<>(s.activeFiles().values());
            s.externalDisks().forEach(d -> {
                if (d.file() != null) {
                    files.add(d.file());
                }
            });
            for (String file : files) {
                List<String> chain = new ArrayList<>(List.of(file));
                ImageFacts image;
                try {
                    image = world.get(ImageFacts.key(file));
                } catch (StepFailure e) {
                    image = null; // a snapshot file whose chain is unreadable still counts by its own name
                }
                if (image != null) {
                    image.backingChain().forEach(l -> chain.add(l.file()));
                }
                if (chain.stream().anyMatch(f -> BackingChain.sameFile(f, path))) {
                    uses.add(new Use(domain, s.name(), Role.SNAPSHOT, running, file));
                }
            }
        }
    }

    /**
     * The uses of {@code path} on the real system now: every domain's live and persistent disks with their
     * full chains, and every snapshot's files with theirs. A domain that disappears during the scan is
     * skipped; anything else that cannot be read fails, since a use could hide there.
     */
    public static List<Use> now(Libvirt libvirt, QemuImg qemuImg, String path) throws StepFailure {
        return now(libvirt, qemuImg, List.of(path)).get(path);
    }

    /**
     * The uses of each of {@code paths} on the real system now, from one scan of the connection (as
     * {@link #now(Libvirt, QemuImg, String)} for each): every path is a key, with no uses when nothing uses it.
     */
    public static java.util.Map<String, List<Use>> now(Libvirt libvirt, QemuImg qemuImg, java.util.Collection<String> paths)
            throws StepFailure {
        java.util.Map<String, Set<Use>> uses = new java.util.LinkedHashMap<>();
        paths.forEach(p -> uses.put(p, new LinkedHashSet<>()));
        for (String name : libvirt.domainNames()) {
            try {
                scanDomain(libvirt, qemuImg, name, uses);
            } catch (StepFailure e) {
                if (!Libvirt.isNoDomain(e) && libvirt.exists(name)) {
                    throw e;
                }
                // undefined while we looked: it uses nothing any more
            }
        }
        java.util.Map<String, List<Use>> out = new java.util.LinkedHashMap<>();
        uses.forEach((p, u) -> out.put(p, List.copyOf(u)));
        return out;
    }

    /** Adds to {@code uses} (keyed by the paths asked about) every use domain {@code name} makes of them. */
    private static void scanDomain(Libvirt libvirt, QemuImg qemuImg, String name, java.util.Map<String, Set<Use>> uses)
            throws StepFailure {
        boolean running = libvirt.state(name).isActive();
        List<String> xmls = new ArrayList<>();
        xmls.add(libvirt.xmlDesc(name, XmlView.LIVE));
        if (running && libvirt.persistent(name)) {
            xmls.add(libvirt.xmlDesc(name, XmlView.INACTIVE));
        }
        for (String xml : xmls) {
            List<DiskFacts> disks;
            try {
                disks = DiskReader.read(xml, "the domain XML of " + name);
            } catch (SafeXml.Refused e) {
                throw new StepFailure(e.getMessage() + "; cannot rule out that it uses " + String.join(", ",
                        uses.keySet()), "inspect it with: virsh -c " + libvirt.uri() + " dumpxml " + name, e);
            }
            for (DiskFacts disk : disks) {
                if (!"file".equals(disk.type()) || disk.source() == null) {
                    continue;
                }
                List<String> chain = chainFiles(qemuImg, disk.source(), disk.format());
                for (int i = 0; i < chain.size(); i++) {
                    for (var entry : uses.entrySet()) {
                        if (BackingChain.sameFile(chain.get(i), entry.getKey())) {
                            entry.getValue().add(new Use(name, disk.target(), i == 0 ? Role.DISK : Role.BACKING,
                                    running, disk.source()));
                        }
                    }
                }
            }
        }
        for (String snapshot : libvirt.snapshotNames(name)) {
            String xml;
            try {
                xml = libvirt.snapshotXmlDesc(name, snapshot);
            } catch (StepFailure e) {
                if (Libvirt.isNoSnapshot(e)) {
                    continue; // deleted while we looked
                }
                throw e;
            }
            for (String file : snapshotFiles(xml, name, snapshot)) {
                List<String> chain = chainFiles(qemuImg, file, null);
                for (var entry : uses.entrySet()) {
                    if (chain.stream().anyMatch(f -> BackingChain.sameFile(f, entry.getKey()))) {
                        entry.getValue().add(new Use(name, snapshot, Role.SNAPSHOT, running, file));
                    }
                }
            }
        }
    }

    /** The files of the chain from {@code top}, top first; a missing top gives just itself. */
    private static List<String> chainFiles(QemuImg qemuImg, String top, String format) throws StepFailure {
        if (!Files.exists(Path.of(top))) {
            return List.of(top);
        }
        try {
            return BackingChain.walk(qemuImg, Path.of(top), format).files();
        } catch (StepFailure e) {
            // Another run may have replaced a link between our existence check and qemu-img's read: look once
            // more; a second failure is real.
            return BackingChain.walk(qemuImg, Path.of(top), format).files();
        }
    }

    /** Every {@code <source file>} in a {@code <domainsnapshot>} document: its overlays and its domain's disks. */
    static List<String> snapshotFiles(String xml, String domain, String snapshot) throws StepFailure {
        Element root;
        try {
            root = SafeXml.parse(xml, "the XML of snapshot " + snapshot + " of " + domain).getDocumentElement();
        } catch (SafeXml.Refused e) {
            throw new StepFailure(e.getMessage(), "inspect it with: virsh snapshot-dumpxml " + domain + " "
                    + snapshot, e);
        }
        List<String> files = new ArrayList<>();
        NodeList sources = root.getElementsByTagName("source");
        for (int i = 0; i < sources.getLength(); i++) {
            String file = SafeXml.attr((Element) sources.item(i), "file");
            if (file != null && !file.isBlank()) {
                files.add(file);
            }
        }
        return files;
    }

    /** The uses that make deleting the file unsafe: all of them. A one-line list for messages. */
    public static String describe(List<Use> uses) {
        return uses.stream().map(Use::toString).collect(Collectors.joining("; "));
    }

    /** The uses by a running domain that has the file open (disk or backing layer). */
    public static List<Use> openByRunning(List<Use> uses) {
        return uses.stream().filter(Use::openByRunningDomain).toList();
    }
}
