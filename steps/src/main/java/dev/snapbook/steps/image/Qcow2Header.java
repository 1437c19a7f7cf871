package dev.snapbook.steps.image;

import dev.snapbook.engine.spi.StepFailure;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The header of a qcow2 image (versions 2 and 3), read in-process, without a {@code qemu-img} process: what
 * the file says about itself, its backing file and its internal snapshot table. The layout is QEMU's
 * {@code docs/interop/qcow2.txt}. The limits checked are the ones QEMU's qcow2 driver checks when it opens an
 * image ({@code block/qcow2.c}), so a header that qemu refuses for its fields is refused here too, plus two of
 * this reader's own: a snapshot's L1 table must be cluster-aligned, and snapshot names are bounded.
 *
 * <p>{@link #read(Path)} reads only the header, its extensions, the backing file name and the snapshot table
 * (never an L1, L2 or refcount table), each read bounded before it is made by the format's own limits, so a
 * hostile file costs no more than its snapshot table (at most 64 MiB, QEMU's limit, and at most 24 MiB of
 * names and ids kept).
 *
 * @param file                 the file read
 * @param version              2 ({@code compat=0.10}) or 3 ({@code compat=1.1})
 * @param size                 the virtual size recorded in the header, in bytes
 * @param clusterBits          log2 of the cluster size (9 to 21)
 * @param backingFile          the backing file name exactly as stored (maybe relative to the directory of
 *                             this file, see {@link #resolve}), or null when the image has none
 * @param backingFormat        the backing format from the backing-format header extension, or null when the
 *                             image does not record one (qemu would then probe the backing file)
 * @param incompatibleFeatures the incompatible feature bits ({@link #DIRTY}, {@link #CORRUPT}, ...); 0 in v2
 * @param cryptMethod          0 unencrypted, 1 AES, 2 LUKS
 * @param dataFile             the external data file name from its header extension, or null
 * @param bitmaps              how many persistent dirty bitmaps the bitmaps extension declares, when qemu uses
 *                             them (the autoclear bit is set); 0 when there are none (their directory, which
 *                             qemu checks when it opens the image, is not read here)
 * @param l1TableOffset        where the active L1 table starts
 * @param l1Size               the number of entries of the active L1 table
 * @param snapshotCount        {@code nb_snapshots}: how many internal snapshots the header claims
 * @param snapshotsOffset      where the snapshot table starts
 * @param snapshots            the snapshot table entries that lie inside the file, in table order
 * @param fileSize             the length of the file when it was read
 * @param truncation           what the header claims that lies past the end of the file (the L1 table, a
 *                             snapshot table entry, a snapshot's L1 table), one sentence each; empty when
 *                             the file is long enough
 */
public record Qcow2Header(Path file, int version, long size, int clusterBits, String backingFile,
        String backingFormat, long incompatibleFeatures, int cryptMethod, String dataFile, int bitmaps,
        long l1TableOffset, long l1Size, long snapshotCount, long snapshotsOffset, List<Snapshot> snapshots,
        long fileSize, List<String> truncation) {

    /** Incompatible feature bit 0: the image was not closed cleanly and its refcounts may be wrong. */
    public static final long DIRTY = 1L;
    /** Incompatible feature bit 1: qemu found the metadata corrupt; the image may only be opened read-only. */
    public static final long CORRUPT = 1L << 1;
    /** Incompatible feature bit 2: guest data lives in an external data file. */
    public static final long EXTERNAL_DATA_FILE = 1L << 2;
    /** Incompatible feature bit 3: the compression type field is not zlib. */
    public static final long COMPRESSION_TYPE = 1L << 3;
    /** Incompatible feature bit 4: L2 entries are 128 bits with subcluster allocation. */
    public static final long EXTENDED_L2 = 1L << 4;

    /** The incompatible feature bits this reader (and qemu 7.2 to 10) knows; any other one is refused. */
    static final long KNOWN_INCOMPATIBLE = DIRTY | CORRUPT | EXTERNAL_DATA_FILE | COMPRESSION_TYPE | EXTENDED_L2;

    /**
     * One entry of the internal snapshot table ({@code qemu-img snapshot -l} lists the same entries).
     *
     * @param id            the unique id string ({@code 1}, {@code 2}, ... as qemu numbers them)
     * @param name          the snapshot's name (what {@code qemu-img snapshot -c NAME} and libvirt set)
     * @param l1TableOffset where the snapshot's own L1 table starts
     * @param l1Size        the number of entries of that L1 table
     * @param vmStateSize   the bytes of saved VM state (0 for a disk-only snapshot)
     * @param diskSize      the virtual size at the time of the snapshot, or -1 when the entry does not
     *                      record it (images written by qemu before 1.x)
     */
    public record Snapshot(String id, String name, long l1TableOffset, long l1Size, long vmStateSize,
            long diskSize) {
    }

    /**
     * Why a file was not read as a qcow2 image. Every refusal of {@link #read(Path)} is one of these, named in
     * its message together with the file.
     */
    public enum Reason {
        /** The file does not start with the qcow2 magic {@code QFI\xfb}: it is some other format, or raw. */
        NOT_QCOW2,
        /**
         * A qcow2 (or qcow) file this reader does not interpret: a version other than 2 and 3, unknown
         * incompatible features, a compression type other than zlib and zstd.
         */
        UNSUPPORTED,
        /** A field is out of the bounds that the format, qemu or this reader allow: garbage or damage. */
        INVALID,
        /** The file ends inside the header, its extensions or the backing file name. */
        TRUNCATED,
        /** The file could not be read at all (missing, a directory, a device or FIFO, an I/O error). */
        UNREADABLE
    }

    /** {@link #read(Path)} refused the file; {@link #reason()} says in which way. */
    public static final class Refused extends StepFailure {
        private final Reason reason;

        Refused(Path file, Reason reason, String what) {
            this(file, reason, what, null);
        }

        Refused(Path file, Reason reason, String what, Throwable cause) {
            super(file + " is not a readable qcow2 image: " + what, null, cause);
            this.reason = reason;
        }

        public Reason reason() {
            return reason;
        }
    }

    private static final int MAGIC = 0x514649fb; // "QFI\xfb"
    private static final int V2_HEADER_LENGTH = 72;
    private static final int V3_HEADER_LENGTH = 104;
    private static final int MIN_CLUSTER_BITS = 9;
    private static final int MAX_CLUSTER_BITS = 21;
    private static final long MAX_L1_BYTES = 32L << 20;
    private static final long MAX_REFTABLE_BYTES = 8L << 20;
    private static final long MAX_SNAPSHOTS = 65536;
    private static final long MAX_SNAPSHOT_TABLE_BYTES = 1024 * MAX_SNAPSHOTS;
    private static final int MAX_SNAPSHOT_EXTRA_DATA = 1024;
    private static final int SNAPSHOT_ENTRY_HEADER = 40;
    /**
     * The most bytes of snapshot ids and names kept in memory: 384 per snapshot for the most snapshots qemu
     * allows, which holds what qemu writes (it keeps an id to 127 bytes and a name to 255). A table that qemu
     * would open but whose names are longer is refused rather than held as up to 64 MiB of text.
     */
    private static final long MAX_SNAPSHOT_TEXT = 384 * MAX_SNAPSHOTS;
    private static final int MAX_BACKING_NAME = 1023;
    private static final int MAX_FORMAT_NAME = 15; // qemu keeps the backing format in a 16-byte C string

    private static final int EXT_END = 0;
    private static final int EXT_BACKING_FORMAT = 0xe2792aca;
    private static final int EXT_DATA_FILE = 0x44415441;
    private static final int EXT_BITMAPS = 0x23852875;
    private static final int EXT_CRYPTO = 0x0537be77;
    private static final long AUTOCLEAR_BITMAPS = 1L;
    private static final long MAX_BITMAPS = 65535;
    private static final long MAX_BITMAP_DIRECTORY_BYTES = 1024 * MAX_BITMAPS;

    public Qcow2Header {
        snapshots = List.copyOf(snapshots);
        truncation = List.copyOf(truncation);
    }

    /** The cluster size in bytes. */
    public int clusterSize() {
        return 1 << clusterBits;
    }

    /** Whether the dirty bit is set (a v3 image with lazy refcounts that was not closed cleanly). */
    public boolean dirty() {
        return (incompatibleFeatures & DIRTY) != 0;
    }

    /** Whether qemu marked the image corrupt. */
    public boolean corrupt() {
        return (incompatibleFeatures & CORRUPT) != 0;
    }

    /** Whether the file is shorter than the tables its header points at ({@link #truncation} says which). */
    public boolean truncated() {
        return !truncation.isEmpty();
    }

    /**
     * Whether the image holds data of its own in its active view: an L2 table is allocated (its active L1 table has
     * an entry). A new overlay ({@code qemu-img create -b}) has none; the first guest write allocates one.
     *
     * @throws StepFailure when the L1 table cannot be read
     */
    public static boolean hasData(Qcow2Header header) throws StepFailure {
        if (header.truncated()) {
            throw new StepFailure(header.file() + " is truncated: " + String.join("; ", header.truncation()),
                    "check it with: qemu-img check " + header.file());
        }
        try (FileChannel ch = FileChannel.open(header.file(), StandardOpenOption.READ)) {
            ByteBuffer l1 = ByteBuffer.allocate((int) Math.min(header.l1Size() * 8, 1 << 26));
            ch.read(l1, header.l1TableOffset());
            l1.flip();
            while (l1.remaining() >= 8) {
                if ((l1.getLong() & 0x00ff_ffff_ffff_fe00L) != 0) {
                    return true;
                }
            }
            return false;
        } catch (IOException e) {
            throw new StepFailure("cannot read the L1 table of " + header.file() + ": " + e.getMessage(), null, e);
        }
    }

    /**
     * The names of the internal snapshots, in table order. These are found whether libvirt made them (it
     * keeps metadata of its own besides) or {@code qemu-img snapshot -c} did (then the file is the only
     * record). Complete only when the file is not {@link #truncated()}.
     */
    public List<String> internalSnapshots() {
        return snapshots.stream().map(Snapshot::name).toList();
    }

    /**
     * The backing file name as qemu opens it, relative names resolved against the directory of this image
     * ({@link #resolve}), or null when the image has no backing file.
     */
    public String resolvedBackingFile() {
        return backingFile == null ? null : resolve(file.toString(), backingFile);
    }

    /**
     * The name qemu gives the backing file {@code backing} of the image it opened as {@code image}: an
     * absolute name as it is, a relative one appended to everything of {@code image} up to its last
     * {@code /} (no normalisation: {@code /a/b/../c} stays so, as in {@code qemu-img info}'s
     * {@code full-backing-filename} and in the {@code filename} of the backing image). Mirrors QEMU's
     * {@code path_combine} for names without a protocol prefix; callers must check {@link #hasProtocol}
     * first.
     */
    public static String resolve(String image, String backing) {
        if (backing.startsWith("/")) {
            return backing;
        }
        return image.substring(0, image.lastIndexOf('/') + 1) + backing;
    }

    /**
     * Whether qemu reads {@code name} as {@code protocol:rest} rather than as a file name: a colon before the
     * first slash (QEMU's {@code path_has_protocol}), e.g. {@code nbd:...}, {@code json:{...}}, or a plain
     * relative file name such as {@code a:b.qcow2}.
     */
    public static boolean hasProtocol(String name) {
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '/') {
                return false;
            }
            if (c == ':') {
                return true;
            }
        }
        return false;
    }

    /**
     * Reads the header of the qcow2 image at {@code file}.
     *
     * @throws Refused when the file is not qcow2 ({@link Reason#NOT_QCOW2}), is a qcow2 this reader does not
     *                 interpret, is damaged or garbage, ends inside its header, or cannot be read (also when it
     *                 is no regular file: a block device, a FIFO); never an unchecked exception for any
     *                 content of the file
     */
    public static Qcow2Header read(Path file) throws Refused {
        // Only regular files: opening a FIFO would block, and a block device's size is not what stat says.
        if (!Files.isRegularFile(file)) {
            throw new Refused(file, Reason.UNREADABLE, Files.exists(file) ? "not a regular file" : "no such file");
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            return new Reader(file, channel).header();
        } catch (IOException e) {
            throw new Refused(file, Reason.UNREADABLE, "cannot be read: " + e.getMessage(), e);
        }
    }

    /** One read of one file: positional reads, each bounded before it is made. */
    private static final class Reader {
        private final Path file;
        private final FileChannel channel;
        private final long fileSize;

        Reader(Path file, FileChannel channel) throws IOException {
            this.file = file;
            this.channel = channel;
            this.fileSize = channel.size();
        }

        Qcow2Header header() throws IOException, Refused {
            if (fileSize < 8) {
                ByteBuffer head = bytes(0, (int) fileSize, "the magic");
                if (fileSize >= 4 && head.getInt(0) == MAGIC) {
                    throw refuse(Reason.TRUNCATED, "the file is " + fileSize + " bytes, too short for a header");
                }
                throw refuse(Reason.NOT_QCOW2, "no qcow2 magic (the file is " + fileSize + " bytes)");
            }
            ByteBuffer h = bytes(0, (int) Math.min(fileSize, V3_HEADER_LENGTH + 1), "the header");
            if (h.getInt(0) != MAGIC) {
                throw refuse(Reason.NOT_QCOW2, "no qcow2 magic");
            }
            int version = h.getInt(4);
            if (version != 2 && version != 3) {
                throw refuse(Reason.UNSUPPORTED, "qcow2 version " + Integer.toUnsignedString(version)
                        + " (only 2 and 3 are read)");
            }
            int fixed = version == 2 ? V2_HEADER_LENGTH : V3_HEADER_LENGTH;
            if (fileSize < fixed) {
                throw refuse(Reason.TRUNCATED, "the file is " + fileSize + " bytes, shorter than a version "
                        + version + " header (" + fixed + " bytes)");
            }
            long backingOffset = h.getLong(8);
            long backingSize = Integer.toUnsignedLong(h.getInt(16));
            int clusterBits = h.getInt(20);
            long size = h.getLong(24);
            int cryptMethod = h.getInt(32);
            long l1Size = Integer.toUnsignedLong(h.getInt(36));
            long l1Offset = h.getLong(40);
            long refcountOffset = h.getLong(48);
            long refcountClusters = Integer.toUnsignedLong(h.getInt(56));
            long nbSnapshots = Integer.toUnsignedLong(h.getInt(60));
            long snapshotsOffset = h.getLong(64);
            long incompatible = 0;
            long autoclear = 0;
            int refcountOrder = 4;
            long headerLength = V2_HEADER_LENGTH;
            if (version == 3) {
                incompatible = h.getLong(72);
                autoclear = h.getLong(88);
                refcountOrder = h.getInt(96);
                headerLength = Integer.toUnsignedLong(h.getInt(100));
            }

            if (clusterBits < MIN_CLUSTER_BITS || clusterBits > MAX_CLUSTER_BITS) {
                throw refuse(Reason.INVALID, "cluster_bits " + Integer.toUnsignedString(clusterBits)
                        + " (qemu allows 9 to 21)");
            }
            long clusterSize = 1L << clusterBits;
            if (headerLength < fixed) {
                throw refuse(Reason.INVALID, "header_length " + headerLength + " is less than " + fixed);
            }
            if (headerLength > clusterSize) {
                throw refuse(Reason.INVALID, "header_length " + headerLength + " exceeds the cluster size "
                        + clusterSize);
            }
            if (headerLength > fileSize) {
                throw refuse(Reason.TRUNCATED, "the file is " + fileSize + " bytes, shorter than its header ("
                        + headerLength + " bytes)");
            }
            int compressionType = headerLength > V3_HEADER_LENGTH ? Byte.toUnsignedInt(h.get(V3_HEADER_LENGTH)) : 0;
            if (compressionType > 1) {
                throw refuse(Reason.UNSUPPORTED, "compression type " + compressionType + " (0 zlib, 1 zstd)");
            }
            if ((compressionType != 0) != ((incompatible & COMPRESSION_TYPE) != 0)) {
                throw refuse(Reason.INVALID, "compression type " + compressionType + " disagrees with the"
                        + " compression type feature bit");
            }
            if ((incompatible & ~KNOWN_INCOMPATIBLE) != 0) {
                throw refuse(Reason.UNSUPPORTED, "unknown incompatible feature bits 0x"
                        + Long.toHexString(incompatible & ~KNOWN_INCOMPATIBLE));
            }
            if (refcountOrder < 0 || refcountOrder > 6) {
                throw refuse(Reason.INVALID, "refcount_order " + Integer.toUnsignedString(refcountOrder)
                        + " (at most 6)");
            }
            if (cryptMethod < 0 || cryptMethod > 2) {
                throw refuse(Reason.INVALID, "crypt_method " + Integer.toUnsignedString(cryptMethod));
            }
            if (refcountClusters == 0) {
                throw refuse(Reason.INVALID, "no refcount table (refcount_table_clusters is 0)");
            }
            if (refcountClusters > (MAX_REFTABLE_BYTES >> clusterBits)) {
                throw refuse(Reason.INVALID, "refcount table of " + refcountClusters + " clusters (at most "
                        + (MAX_REFTABLE_BYTES >> clusterBits) + ")");
            }
            table("refcount table", refcountOffset, refcountClusters, clusterSize, clusterSize);
            if (size < 0) {
                throw refuse(Reason.INVALID, "virtual size " + Long.toUnsignedString(size) + " is too big");
            }
            int l2Bits = clusterBits - ((incompatible & EXTENDED_L2) != 0 ? 4 : 3);
            int shift = clusterBits + l2Bits;
            long l1Needed = (size >>> shift) + ((size & ((1L << shift) - 1)) != 0 ? 1 : 0);
            if (l1Needed > Integer.MAX_VALUE) {
                throw refuse(Reason.INVALID, "virtual size " + size + " is too big");
            }
            if (l1Size > MAX_L1_BYTES / 8) {
                throw refuse(Reason.INVALID, "L1 table of " + l1Size + " entries (at most " + MAX_L1_BYTES / 8
                        + ")");
            }
            if (l1Size < l1Needed) {
                throw refuse(Reason.INVALID, "L1 table of " + l1Size + " entries is too small for the virtual size "
                        + size + " (needs " + l1Needed + ")");
            }
            table("L1 table", l1Offset, l1Size, 8, clusterSize);
            if (nbSnapshots > MAX_SNAPSHOTS) {
                throw refuse(Reason.INVALID, nbSnapshots + " snapshots (at most " + MAX_SNAPSHOTS + ")");
            }
            table("snapshot table", snapshotsOffset, nbSnapshots, SNAPSHOT_ENTRY_HEADER, clusterSize);

            // Header extensions run from the end of the header to the backing file name, or to the end of
            // the first cluster when there is none (as qemu reads them).
            if (backingOffset < 0 || backingOffset > clusterSize) {
                throw refuse(Reason.INVALID, "backing_file_offset " + Long.toUnsignedString(backingOffset)
                        + " is outside the first cluster");
            }
            long extEnd = backingOffset != 0 ? backingOffset : clusterSize;
            String backingFormat = null;
            String dataFile = null;
            int bitmaps = 0;
            long offset = headerLength;
            while (offset < extEnd) {
                ByteBuffer ext = bytes(offset, 8, "a header extension");
                int type = ext.getInt(0);
                long length = Integer.toUnsignedLong(ext.getInt(4));
                offset += 8;
                // qemu checks the length before it looks at the type, the end marker's included
                if (offset > extEnd || length > extEnd - offset) {
                    throw refuse(Reason.INVALID, "header extension 0x" + Integer.toHexString(type) + " of "
                            + length + " bytes runs past the end of the header area at " + extEnd);
                }
                if (type == EXT_END) {
                    break;
                }
                if (type == EXT_BACKING_FORMAT) {
                    if (length > MAX_FORMAT_NAME) {
                        throw refuse(Reason.INVALID, "backing format extension of " + length + " bytes");
                    }
                    String what = "the backing format";
                    backingFormat = cString(bytes(offset, (int) length, what), what);
                    if (backingFormat.isEmpty()) {
                        backingFormat = null; // qemu too probes when the recorded format is empty
                    }
                } else if (type == EXT_DATA_FILE) {
                    // The name is at most what the first cluster holds (2 MiB), bounded by extEnd above.
                    String what = "the data file name";
                    dataFile = cString(bytes(offset, (int) length, what), what);
                } else if (type == EXT_CRYPTO) {
                    if (cryptMethod != 2 || length != 16) {
                        throw refuse(Reason.INVALID, "a LUKS header extension of " + length + " bytes on an image"
                                + " with crypt_method " + cryptMethod);
                    }
                } else if (type == EXT_BITMAPS) {
                    bitmaps = bitmaps(offset, length, (autoclear & AUTOCLEAR_BITMAPS) != 0, clusterSize);
                }
                offset += (length + 7) & ~7L;
            }

            String backingFile = null;
            if (backingOffset != 0) {
                if (backingSize > Math.min(MAX_BACKING_NAME, clusterSize - backingOffset)) {
                    throw refuse(Reason.INVALID, "backing file name of " + backingSize + " bytes (at most "
                            + Math.min(MAX_BACKING_NAME, clusterSize - backingOffset) + ")");
                }
                String name = cString(bytes(backingOffset, (int) backingSize, "the backing file name"),
                        "the backing file name");
                backingFile = name.isEmpty() ? null : name; // qemu too reads an empty name as "no backing file"
            }

            List<String> truncation = new ArrayList<>();
            if (l1Offset + l1Size * 8 > fileSize) {
                truncation.add("the L1 table (" + l1Size + " entries at " + l1Offset + ") ends past the end of"
                        + " the file (" + fileSize + " bytes)");
            }
            List<Snapshot> snapshots = snapshots(nbSnapshots, snapshotsOffset, clusterSize, truncation);
            return new Qcow2Header(file, version, size, clusterBits, backingFile, backingFormat, incompatible,
                    cryptMethod, dataFile, bitmaps, l1Offset, l1Size, nbSnapshots, snapshotsOffset, snapshots,
                    fileSize, truncation);
        }

        /**
         * The snapshot table's entries. Each is 40 bytes, then extra data, the id and the name, padded to a
         * multiple of 8; entries the file does not hold are named in {@code truncation} and left out.
         */
        private List<Snapshot> snapshots(long count, long tableOffset, long clusterSize, List<String> truncation)
                throws IOException, Refused {
            List<Snapshot> snapshots = new ArrayList<>();
            long offset = tableOffset;
            long text = 0;
            for (long i = 0; i < count; i++) {
                offset = (offset + 7) & ~7L;
                if (offset + SNAPSHOT_ENTRY_HEADER > fileSize) {
                    truncation.add(cutAt(i, count, offset));
                    break;
                }
                ByteBuffer e = bytes(offset, SNAPSHOT_ENTRY_HEADER, "a snapshot table entry");
                long l1Offset = e.getLong(0);
                long l1Size = Integer.toUnsignedLong(e.getInt(8));
                int idSize = Short.toUnsignedInt(e.getShort(12));
                int nameSize = Short.toUnsignedInt(e.getShort(14));
                long vmState = Integer.toUnsignedLong(e.getInt(32));
                long extraSize = Integer.toUnsignedLong(e.getInt(36));
                if (extraSize > MAX_SNAPSHOT_EXTRA_DATA) {
                    throw refuse(Reason.INVALID, "snapshot table entry " + (i + 1) + " has " + extraSize
                            + " bytes of extra data (at most " + MAX_SNAPSHOT_EXTRA_DATA + ")");
                }
                long entryEnd = offset + SNAPSHOT_ENTRY_HEADER + extraSize + idSize + nameSize;
                if (entryEnd - tableOffset > MAX_SNAPSHOT_TABLE_BYTES) {
                    throw refuse(Reason.INVALID, "the snapshot table is larger than " + MAX_SNAPSHOT_TABLE_BYTES
                            + " bytes");
                }
                text += idSize + nameSize;
                if (text > MAX_SNAPSHOT_TEXT) {
                    throw refuse(Reason.INVALID, "the snapshot ids and names take more than " + MAX_SNAPSHOT_TEXT
                            + " bytes");
                }
                if (entryEnd > fileSize) {
                    truncation.add(cutAt(i, count, offset));
                    break;
                }
                long diskSize = -1;
                if (extraSize >= 8) {
                    vmState = bytes(offset + 40, 8, "snapshot extra data").getLong(0);
                }
                if (extraSize >= 16) {
                    diskSize = bytes(offset + 48, 8, "snapshot extra data").getLong(0);
                }
                long at = offset + SNAPSHOT_ENTRY_HEADER + extraSize;
                String id = text(bytes(at, idSize, "a snapshot id"));
                String name = text(bytes(at + idSize, nameSize, "a snapshot name"));
                if (l1Offset < 0 || l1Size > MAX_L1_BYTES / 8 || (l1Offset & (clusterSize - 1)) != 0) {
                    throw refuse(Reason.INVALID, "snapshot " + name + " has an invalid L1 table (" + l1Size
                            + " entries at " + Long.toUnsignedString(l1Offset) + ")");
                }
                if (l1Offset > fileSize - l1Size * 8) {
                    truncation.add("the L1 table of snapshot " + name + " ends past the end of the file ("
                            + fileSize + " bytes)");
                }
                snapshots.add(new Snapshot(id, name, l1Offset, l1Size, vmState, diskSize));
                offset = entryEnd;
            }
            return snapshots;
        }

        /**
         * The number of bitmaps the bitmaps extension at {@code offset} declares, checked as qemu checks it
         * when it opens the image; 0 when qemu ignores the bitmaps ({@code inUse} false: a program without
         * bitmap support cleared the autoclear bit, so they are stale).
         */
        private int bitmaps(long offset, long length, boolean inUse, long clusterSize) throws IOException, Refused {
            if (length != 24) {
                throw refuse(Reason.INVALID, "bitmaps extension of " + length + " bytes (24 expected)");
            }
            if (!inUse) {
                return 0;
            }
            ByteBuffer ext = bytes(offset, 24, "the bitmaps extension");
            long count = Integer.toUnsignedLong(ext.getInt(0));
            long directorySize = ext.getLong(8);
            long directoryOffset = ext.getLong(16);
            if (ext.getInt(4) != 0) {
                throw refuse(Reason.INVALID, "bitmaps extension: the reserved field is not zero");
            }
            if (count == 0 || count > MAX_BITMAPS) {
                throw refuse(Reason.INVALID, "bitmaps extension declares " + count + " bitmaps (1 to "
                        + MAX_BITMAPS + ")");
            }
            if ((directoryOffset & (clusterSize - 1)) != 0) {
                throw refuse(Reason.INVALID, "bitmaps extension: the directory offset "
                        + Long.toUnsignedString(directoryOffset) + " is not aligned to a cluster");
            }
            if (directorySize < 0 || directorySize > MAX_BITMAP_DIRECTORY_BYTES) {
                throw refuse(Reason.INVALID, "bitmaps extension: a directory of "
                        + Long.toUnsignedString(directorySize) + " bytes (at most " + MAX_BITMAP_DIRECTORY_BYTES
                        + ")");
            }
            return (int) count;
        }

        private String cutAt(long index, long count, long offset) {
            return "the snapshot table ends past the end of the file (" + fileSize + " bytes): entry "
                    + (index + 1) + " of " + count + " would start at " + offset;
        }

        /** Refuses a table of {@code entries} × {@code entryBytes} at {@code offset} as qemu does at open. */
        private void table(String what, long offset, long entries, long entryBytes, long clusterSize)
                throws Refused {
            // entries ≤ 2^32 and entryBytes ≤ 2^21, so the product cannot overflow
            long bytes = entries * entryBytes;
            if (offset < 0 || Long.MAX_VALUE - bytes < offset || (offset & (clusterSize - 1)) != 0) {
                throw refuse(Reason.INVALID, what + " offset " + Long.toUnsignedString(offset) + " is invalid"
                        + ((offset & (clusterSize - 1)) != 0 ? " (not aligned to a cluster)" : ""));
            }
        }

        /** Exactly {@code n} bytes at {@code offset}; {@link Reason#TRUNCATED} when the file ends before. */
        private ByteBuffer bytes(long offset, int n, String what) throws IOException, Refused {
            if (offset < 0 || n < 0 || offset > fileSize - n) {
                throw refuse(Reason.TRUNCATED, what + " (" + n + " bytes at " + offset
                        + ") lies past the end of the file (" + fileSize + " bytes)");
            }
            ByteBuffer buffer = ByteBuffer.allocate(n);
            while (buffer.hasRemaining()) {
                if (channel.read(buffer, offset + buffer.position()) < 0) {
                    throw refuse(Reason.TRUNCATED, what + " lies past the end of the file (it shrank while it"
                            + " was read)");
                }
            }
            return buffer.flip();
        }

        /** Bytes that qemu keeps as a C string, so up to the first NUL; a name that is not UTF-8 is refused. */
        private String cString(ByteBuffer bytes, String what) throws Refused {
            int end = 0;
            while (end < bytes.limit() && bytes.get(end) != 0) {
                end++;
            }
            try {
                return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(bytes.limit(end)).toString();
            } catch (CharacterCodingException e) {
                throw refuse(Reason.INVALID, what + " is not UTF-8");
            }
        }

        private Refused refuse(Reason reason, String what) {
            return new Refused(file, reason, what);
        }
    }

    /** A snapshot id or name, decoded as UTF-8; bytes that are not valid UTF-8 become U+FFFD. */
    private static String text(ByteBuffer bytes) {
        return StandardCharsets.UTF_8.decode(bytes).toString();
    }
}
