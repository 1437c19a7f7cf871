package dev.snapbook.steps.state;

import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.engine.spi.World;
import dev.snapbook.steps.domain.DiskFacts;
import dev.snapbook.steps.image.ImageFacts;
import dev.snapbook.steps.image.ImageMagic;
import dev.snapbook.steps.image.Qcow2Header;
import dev.snapbook.steps.libvirt.ConnectionHost;
import dev.snapbook.steps.snapshot.SnapshotDisk;
import dev.snapbook.steps.snapshot.SnapshotFacts;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Whether a chain of image files is damaged: the one implementation of the rule that snapbook reads and writes
 * nothing through a damaged file, and never boots a VM on one. Every step that reads or writes through a disk's
 * chain or a snapshot's state asks it in its plan, and again just before it acts.
 *
 * <p>A file's format is what recorded it, never a probe: the domain's {@code <driver type>} for its top image, the
 * overlay's backing-format field for a snapshot's state file, the backing-format field of the layer above for every
 * layer below. Reading the file's first bytes only confirms the record. A layer is damaged when:
 * <ul>
 *   <li>it does not exist, though the layer above names it as its backing file;</li>
 *   <li>it is recorded as qcow2 and its contents are not qcow2 (a header overwritten, a wrong file in its
 *       place);</li>
 *   <li>it is qcow2 and its header cannot be read, or the file ends before a table or a cluster its metadata
 *       points at (a truncated file);</li>
 *   <li>it is raw and shorter than the virtual size of the layer above: the guest would read zeros where the
 *       data was. The same shape arises when a disk was grown after its snapshot without its base, which snapbook
 *       cannot tell from a truncation, so it refuses both and says so.</li>
 * </ul>
 * Any content of a raw file is valid raw data: a raw file is never damaged by what it holds. Layers of formats
 * snapbook does not read (and protocol names) end the walk; {@code qemu-img check} judges those.
 */
public final class Damage {

    private static final int MAX_DEPTH = 256;
    /** The offset bits of a standard L1 or L2 entry (qcow2 spec: bits 9 to 55). */
    private static final long OFFSET_MASK = 0x00ff_ffff_ffff_fe00L;
    private static final long COMPRESSED = 1L << 62;
    /** Read at most this much of one chain's L2 tables: 64 MiB covers 4 TiB of 64 KiB clusters. */
    private static final long MAX_L2_BYTES = 64L << 20;

    /**
     * A damaged file of a chain.
     *
     * @param file    the damaged file (or the missing one)
     * @param problem one sentence: what was recorded and what was found
     * @param above   the files of the chain above it, top first, each read whole
     * @param missing whether the file does not exist (then nothing below it can be reached either)
     */
    public record Found(String file, String problem, List<String> above, boolean missing) {

        public Found {
            above = List.copyOf(above);
        }
    }

    /**
     * The image facts of the plan at this point, for the files that earlier steps of the plan create (a plan's world,
     * or a step's own view of it); a file that does not exist and that it knows nothing of is missing.
     */
    @FunctionalInterface
    public interface Planned {
        ImageFacts image(String path) throws StepFailure;

        /** The plan's world; null for what is on disk now, at apply time. */
        static Planned of(World world) throws StepFailure {
            if (world == null) {
                return path -> null;
            }
            ConnectionHost.requireLocal(world, "the check for damaged images reads their files");
            return path -> world.get(ImageFacts.key(path));
        }
    }

    private Damage() {
    }

    /**
     * Refuses when the chain of disk {@code disk} of {@code domain} is damaged. {@code world} is the plan's world
     * (files that earlier steps of the plan create are taken from its predictions), or null to read only what is
     * on disk now.
     */
    public static void refuseDisk(World world, String domain, DiskFacts disk) throws StepFailure {
        refuseDisk(Planned.of(world), domain, disk);
    }

    /** {@link #refuseDisk(World, String, DiskFacts)} with the plan's image facts as {@code planned} gives them. */
    public static void refuseDisk(Planned world, String domain, DiskFacts disk) throws StepFailure {
        if (!"file".equals(disk.type()) || disk.source() == null) {
            return;
        }
        Found found = find(world, disk.source(), disk.format(), "the definition of domain " + domain);
        if (found != null) {
            throw refusal(found, "disk " + disk.target() + " of domain " + domain + " reads through it");
        }
    }

    /**
     * Refuses when the state of any disk of snapshot {@code s} of {@code domain} is damaged: for an external disk,
     * the chain of its state file, whose format the snapshot's overlay recorded; for an internal one, its image.
     */
    public static void refuseSnapshot(World plan, String domain, SnapshotFacts s) throws StepFailure {
        Planned world = Planned.of(plan);
        for (SnapshotDisk d : s.disks()) {
            String state = s.activeFiles().get(d.disk());
            Found found = null;
            if ("external".equals(d.snapshot())) {
                // the overlay's backing link and format are the record of where the state is and what it is
                Below recorded = d.file() == null ? null : below(world, d.file());
                if (recorded != null) {
                    found = walk(world, recorded.file(), recorded.format(), d.file(), d.file(), recorded.size());
                } else if (state != null) {
                    found = find(world, state, null, "snapshot " + s.name());
                }
            } else if ("internal".equals(d.snapshot()) && state != null) {
                found = find(world, state, "qcow2", "snapshot " + s.name());
            }
            if (found != null) {
                throw refusal(found, "snapshot " + s.name() + " of domain " + domain + " reads its state of "
                        + d.disk() + " through it");
            }
        }
    }

    /** Refuses when the chain of the image at {@code path} is damaged; {@code format} as recorded, or null. */
    public static void refuseImage(World world, String path, String format) throws StepFailure {
        refuseImage(world, path, format, "the image " + path);
    }

    /** {@link #refuseImage(World, String, String)}, saying {@code what} reads through the damaged file. */
    public static void refuseImage(World world, String path, String format, String what) throws StepFailure {
        Found found = find(Planned.of(world), path, format, format == null ? "the step" : "the record of " + what);
        if (found != null) {
            throw refusal(found, what + " reads through it");
        }
    }

    private static StepFailure refusal(Found found, String who) {
        return new StepFailure(found.file() + " is damaged: " + found.problem() + "; " + who,
                "inspect it (qemu-img check -U " + found.file() + ") and restore it from a backup; snapbook reads"
                        + " and writes nothing through a damaged file and boots no VM on one");
    }

    /**
     * The first damaged file of the chain qemu would open as {@code top}, or null when there is none.
     *
     * @param world      the plan's image facts, for files the plan creates; null for only what is on disk
     * @param format     the format recorded for {@code top}, or null when nothing records it (it is then probed,
     *                   as qemu would)
     * @param recordedBy what recorded {@code top}'s format, for the message
     */
    public static Found find(Planned world, String top, String format, String recordedBy) {
        return walk(world, top, format, recordedBy, null, -1);
    }

    /**
     * {@link #find}, for a chain that {@code namedBy} (of virtual size {@code sizeAbove}) names as its backing
     * file: a snapshot's state file under the overlay the snapshot created.
     */
    private static Found walk(Planned world, String top, String format, String recordedBy, String namedBy,
                              long sizeAbove) {
        String name = top;
        String above = namedBy;
        String by = recordedBy;
        List<String> walked = new ArrayList<>();
        for (int depth = 0; depth < MAX_DEPTH; depth++) {
            Path file = Path.of(name);
            if (!Files.exists(file)) {
                ImageFacts predicted = predicted(world, name);
                if (predicted == null) {
                    return new Found(name, above == null ? "it does not exist"
                            : "it does not exist, but " + above + " names it as its backing file", walked, true);
                }
                if (predicted.backingChain().isEmpty()) {
                    return null;
                }
                ImageFacts.Layer next = predicted.backingChain().get(0);
                walked.add(name);
                above = name;
                by = name;
                sizeAbove = predicted.virtualSize();
                format = next.format();
                name = next.file();
                continue;
            }
            if (!Files.isRegularFile(file)) {
                return null; // a block device or the like: not a file snapbook reads
            }
            String found;
            try {
                found = ImageMagic.detect(file);
            } catch (IOException e) {
                return new Found(name, "it cannot be read: " + e.getMessage(), walked, false);
            }
            if ("qcow2".equals(format) && !"qcow2".equals(found)) {
                return new Found(name, by + " records it as qcow2, but its contents read as " + found
                        + ("raw".equals(found) ? " (its qcow2 header is gone)" : ""), walked, false);
            }
            String is = format != null ? format : found;
            if ("raw".equals(is)) {
                long size;
                try {
                    size = Files.size(file);
                } catch (IOException e) {
                    return new Found(name, "it cannot be read: " + e.getMessage(), walked, false);
                }
                if (sizeAbove > size) {
                    return new Found(name, "it is raw and " + size + " bytes long, but " + above + " above it is "
                            + sizeAbove + " bytes: it was truncated (or " + above + " was grown without it)", walked,
                            false);
                }
                return null;
            }
            if (!"qcow2".equals(is)) {
                return null;
            }
            Qcow2Header header;
            try {
                header = Qcow2Header.read(file);
            } catch (Qcow2Header.Refused e) {
                if (e.reason() == Qcow2Header.Reason.UNSUPPORTED) {
                    return null; // a qcow2 this reader does not interpret: qemu-img check judges it
                }
                return new Found(name, "its qcow2 header cannot be read: " + e.getMessage(), walked, false);
            }
            if (header.truncated()) {
                return new Found(name, "it is truncated: " + String.join("; ", header.truncation()), walked, false);
            }
            String pastEnd = clusterPastEnd(header);
            if (pastEnd != null) {
                return new Found(name, "it is truncated: " + pastEnd, walked, false);
            }
            if (header.backingFile() == null || Qcow2Header.hasProtocol(header.backingFile())) {
                return null;
            }
            walked.add(name);
            above = name;
            by = name;
            sizeAbove = header.size();
            format = header.backingFormat();
            name = Qcow2Header.resolve(name, header.backingFile());
        }
        return null;
    }

    /** An overlay's record of the file below it: its name, its format (null when none), the overlay's size. */
    private record Below(String file, String format, long size) {
    }

    /**
     * What the overlay {@code overlay} records of its backing file, from its header (or from the plan's prediction
     * for an overlay the plan creates); null when it has none or cannot be read.
     */
    private static Below below(Planned world, String overlay) {
        Path file = Path.of(overlay);
        if (!Files.exists(file)) {
            ImageFacts predicted = predicted(world, overlay);
            return predicted == null || predicted.backingChain().isEmpty() ? null : new Below(
                    predicted.backingChain().get(0).file(), predicted.backingChain().get(0).format(),
                    predicted.virtualSize());
        }
        try {
            Qcow2Header header = Qcow2Header.read(file);
            if (header.backingFile() == null || Qcow2Header.hasProtocol(header.backingFile())) {
                return null;
            }
            return new Below(Qcow2Header.resolve(overlay, header.backingFile()), header.backingFormat(),
                    header.size());
        } catch (Qcow2Header.Refused e) {
            return null;
        }
    }

    /** The facts an earlier step of the plan predicts for a file that does not exist yet, or null. */
    private static ImageFacts predicted(Planned world, String name) {
        if (world == null) {
            return null;
        }
        try {
            return world.image(name);
        } catch (StepFailure e) {
            return null;
        }
    }

    /**
     * The first L2 table or data cluster of the active view that starts past the end of the file, said in one
     * sentence; null when all start inside (qemu may leave the last cluster of a file short). Compressed clusters are not followed; images with extended L2 entries
     * read their first 8 bytes, which hold the offset the same way.
     */
    static String clusterPastEnd(Qcow2Header header) {
        long clusterSize = header.clusterSize();
        long fileSize = header.fileSize();
        boolean extended = (header.incompatibleFeatures() & Qcow2Header.EXTENDED_L2) != 0;
        int entryBytes = extended ? 16 : 8;
        long read = 0;
        try (FileChannel ch = FileChannel.open(header.file(), StandardOpenOption.READ)) {
            ByteBuffer l1 = ByteBuffer.allocate((int) Math.min(header.l1Size() * 8, Integer.MAX_VALUE - 8));
            ch.read(l1, header.l1TableOffset());
            l1.flip();
            ByteBuffer l2 = ByteBuffer.allocate((int) clusterSize);
            for (int i = 0; l1.remaining() >= 8; i++) {
                long l2Offset = l1.getLong() & OFFSET_MASK;
                if (l2Offset == 0) {
                    continue;
                }
                if (l2Offset >= fileSize) {
                    return "L2 table " + i + " at " + l2Offset + " starts past the end of the file (" + fileSize
                            + " bytes)";
                }
                if (read >= MAX_L2_BYTES) {
                    continue; // the tables' places are checked; their entries only up to the bound
                }
                l2.clear();
                ch.read(l2, l2Offset);
                read += clusterSize;
                l2.flip();
                while (l2.remaining() >= entryBytes) {
                    long entry = l2.getLong();
                    if (extended) {
                        l2.getLong();
                    }
                    long offset = entry & OFFSET_MASK;
                    if ((entry & COMPRESSED) == 0 && offset != 0 && offset >= fileSize) {
                        return "a data cluster at " + offset + " starts past the end of the file (" + fileSize
                                + " bytes)";
                    }
                }
            }
        } catch (IOException e) {
            return "it cannot be read: " + e.getMessage();
        }
        return null;
    }
}
