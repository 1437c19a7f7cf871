package dev.snapbook.steps.image;

import static dev.snapbook.steps.image.QemuImgCli.be64;
import static dev.snapbook.steps.image.QemuImgCli.forgetBackingFormat;
import static dev.snapbook.steps.image.QemuImgCli.patch;
import static dev.snapbook.steps.image.QemuImgCli.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/** {@link Qcow2Header} reads what {@code qemu-img info} reports, and refuses garbage with its own error. */
class Qcow2HeaderTest {

    /** Asserts that the header of {@code file} says what {@code qemu-img info -U} says of it. */
    static Qcow2Header assertHeaderAgreesWithQemuImg(Path file, String layout) throws Exception {
        JsonNode info = QemuImgCli.info(file);
        Qcow2Header h = Qcow2Header.read(file);
        JsonNode data = info.path("format-specific").path("data");
        assertEquals(data.path("compat").asText(), h.version() == 2 ? "0.10" : "1.1", layout);
        assertEquals(info.path("virtual-size").asLong(), h.size() / 512 * 512, layout);
        assertEquals(info.path("cluster-size").asInt(), h.clusterSize(), layout);
        assertEquals(info.path("backing-filename").asText(null), h.backingFile(), layout);
        assertEquals(info.path("full-backing-filename").asText(null), h.resolvedBackingFile(), layout);
        assertEquals(info.path("backing-filename-format").asText(null), h.backingFormat(), layout);
        assertEquals(info.path("dirty-flag").asBoolean(false), h.dirty(), layout);
        assertEquals(data.path("corrupt").asBoolean(false), h.corrupt(), layout);
        List<List<String>> expected = new ArrayList<>();
        info.path("snapshots").forEach(s -> expected.add(List.of(s.path("id").asText(), s.path("name").asText())));
        assertEquals(expected, h.snapshots().stream().map(s -> List.of(s.id(), s.name())).toList(), layout);
        assertEquals(expected.size(), h.snapshotCount(), layout);
        assertFalse(h.truncated(), layout + ": an image qemu-img wrote is not truncated: " + h.truncation());
        return h;
    }

    @ParameterizedTest(name = "compat={0} cluster_size={1} backing={2} format recorded={3}")
    @CsvSource({
        "0.10, 65536,   , true",
        "1.1,  65536,   , true",
        "0.10, 512,     base.qcow2, true",
        "1.1,  512,     base.qcow2, false",
        "1.1,  2097152, ../ünï cödé/base.qcow2, true",
        "0.10, 4096,    ../ünï cödé/base.qcow2, false",
        "1.1,  65536,   ABSOLUTE, true",
        "0.10, 65536,   ABSOLUTE, false",
    })
    void readsWhatQemuImgReports(String compat, int cluster, String backing, boolean recorded, @TempDir Path dir)
            throws Exception {
        Path baseDir = backing != null && backing.startsWith("../") ? dir.resolve("ünï cödé") : dir.resolve("d");
        Files.createDirectories(baseDir);
        Files.createDirectories(dir.resolve("d"));
        Path base = baseDir.resolve("base.qcow2");
        Path image = dir.resolve("d/image.qcow2");
        List<String> args = new ArrayList<>(List.of("create", "-q", "-f", "qcow2", "-o",
                "compat=" + compat + ",cluster_size=" + cluster));
        if (backing != null) {
            run("create", "-q", "-f", "qcow2", base.toString(), "3M");
            args.addAll(List.of("-b", backing.equals("ABSOLUTE") ? base.toString() : backing, "-F", "qcow2"));
            args.add(image.toString());
        } else {
            args.addAll(List.of(image.toString(), "5M"));
        }
        run(args.toArray(String[]::new));
        if (backing != null && !recorded) {
            forgetBackingFormat(image);
        }

        Qcow2Header h = assertHeaderAgreesWithQemuImg(image, "");

        assertEquals(compat.equals("0.10") ? 2 : 3, h.version());
        assertEquals(backing == null ? 5L << 20 : 3L << 20, h.size());
        assertEquals(backing == null ? null : recorded ? "qcow2" : null, h.backingFormat());
        if (backing != null) {
            assertEquals(base, Path.of(h.resolvedBackingFile()).toRealPath());
        }
        assertEquals(List.of(), h.internalSnapshots());
    }

    @ParameterizedTest(name = "{0} snapshots")
    @CsvSource({"0", "1", "2", "4"})
    void findsInternalSnapshotsMadeWithoutLibvirt(int count, @TempDir Path dir) throws Exception {
        Path image = dir.resolve("image.qcow2");
        run("create", "-q", "-f", "qcow2", "-o", "cluster_size=512", image.toString(), "1M");
        List<String> names = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            // names of different lengths, so that the entries need different padding; qemu-img keeps at
            // most 255 bytes of a name
            String name = i % 2 == 0 ? "long name " + "ä".repeat(100 + i) : "n" + "x".repeat(i);
            run("snapshot", "-c", name, image.toString());
            names.add(name);
        }
        Qcow2Header h = assertHeaderAgreesWithQemuImg(image, count + " snapshots");
        assertEquals(names, h.internalSnapshots());
        assertEquals(IntStream.rangeClosed(1, count).mapToObj(Integer::toString).toList(),
                h.snapshots().stream().map(Qcow2Header.Snapshot::id).toList());
        h.snapshots().forEach(s -> assertEquals(1L << 20, s.diskSize()));
    }

    @Test
    void reportsTheDirtyAndCorruptBits(@TempDir Path dir) throws Exception {
        Path image = dir.resolve("image.qcow2");
        run("create", "-q", "-f", "qcow2", image.toString(), "1M");
        assertFalse(Qcow2Header.read(image).dirty());
        patch(image, 79, (byte) 1);
        assertTrue(Qcow2Header.read(image).dirty());
        assertFalse(Qcow2Header.read(image).corrupt());
        patch(image, 79, (byte) 2);
        assertTrue(assertHeaderAgreesWithQemuImg(image, "corrupt").corrupt());
    }

    @Nested
    class Refuses {

        Qcow2Header.Refused refused(Path file, Qcow2Header.Reason reason) {
            Qcow2Header.Refused e = assertThrows(Qcow2Header.Refused.class, () -> Qcow2Header.read(file));
            assertEquals(reason, e.reason(), e.getMessage());
            assertTrue(e.getMessage().startsWith(file + " "), e.getMessage());
            return e;
        }

        @Test
        void aFileWhoseMagicWasOverwrittenAsNotQcow2(@TempDir Path dir) throws Exception {
            Path image = dir.resolve("image.qcow2");
            run("create", "-q", "-f", "qcow2", image.toString(), "1M");
            patch(image, 0, (byte) 0, (byte) 0, (byte) 0, (byte) 0);
            refused(image, Qcow2Header.Reason.NOT_QCOW2);
            assertEquals("raw", ImageMagic.detect(image));
        }

        @Test
        void aBitmapsExtensionThatQemuRefuses(@TempDir Path dir) throws Exception {
            Path image = dir.resolve("image.qcow2");
            run("create", "-q", "-f", "qcow2", image.toString(), "1M");
            run("bitmap", "--add", image.toString(), "b0");
            assertEquals(1, Qcow2Header.read(image).bitmaps());
            // the extensions: the feature name table (its length rounded up to 8), then the bitmaps
            byte[] head = Arrays.copyOf(Files.readAllBytes(image), 4096);
            ByteBuffer h = ByteBuffer.wrap(head);
            int ext = h.getInt(100);
            while (h.getInt(ext) != 0x23852875) {
                ext += 8 + ((h.getInt(ext + 4) + 7) & ~7);
            }
            patch(image, ext + 8, (byte) 0, (byte) 0, (byte) 0, (byte) 0); // zero bitmaps: qemu refuses it
            assertTrue(refused(image, Qcow2Header.Reason.INVALID).getMessage().contains("bitmaps"));
            assertThrows(AssertionError.class, () -> QemuImgCli.info(image));
        }

        @Test
        void aLuksHeaderExtensionOnAnImageThatSaysItIsNotEncrypted(@TempDir Path dir) throws Exception {
            Path image = dir.resolve("image.qcow2");
            run("create", "-q", "-f", "qcow2", "--object", "secret,id=sec0,data=secret", "-o",
                    "encrypt.format=luks,encrypt.key-secret=sec0", image.toString(), "1M");
            patch(image, 32, (byte) 0, (byte) 0, (byte) 0, (byte) 0); // crypt_method 0: qemu refuses it
            assertTrue(refused(image, Qcow2Header.Reason.INVALID).getMessage().contains("LUKS"));
            assertThrows(AssertionError.class, () -> QemuImgCli.info(image));
        }

        @Test
        void whatIsNoRegularFileAsUnreadable(@TempDir Path dir) throws Exception {
            refused(dir, Qcow2Header.Reason.UNREADABLE);
            refused(dir.resolve("missing.qcow2"), Qcow2Header.Reason.UNREADABLE);
            Path fifo = dir.resolve("fifo");
            new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor();
            refused(fifo, Qcow2Header.Reason.UNREADABLE); // without blocking on the open
        }

        @Test
        void emptyAndTinyFilesAsNotQcow2(@TempDir Path dir) throws Exception {
            Path empty = Files.write(dir.resolve("empty"), new byte[0]);
            refused(empty, Qcow2Header.Reason.NOT_QCOW2);
            Path magicOnly = Files.write(dir.resolve("magic"), new byte[] {'Q', 'F', 'I', (byte) 0xfb, 0});
            refused(magicOnly, Qcow2Header.Reason.TRUNCATED);
        }

        @ParameterizedTest(name = "version {0}")
        @CsvSource({"0", "1", "4", "-1"})
        void versionsOtherThan2And3(int version, @TempDir Path dir) throws Exception {
            Path image = dir.resolve("image.qcow2");
            run("create", "-q", "-f", "qcow2", image.toString(), "1M");
            patch(image, 4, (byte) (version >>> 24), (byte) (version >>> 16), (byte) (version >>> 8),
                    (byte) version);
            assertTrue(refused(image, Qcow2Header.Reason.UNSUPPORTED).getMessage().contains("version"));
        }

        @ParameterizedTest(name = "{0}")
        @CsvSource({
            "cluster_bits 8,               20, 0x0000000000000008",
            "cluster_bits 22,              20, 0x0000001600000000",
            "virtual size 2^63,            24, 0x8000000000000000",
            "virtual size 2^62,            24, 0x4000000000000000",
            "L1 offset unaligned,          40, 0x0000000000030001",
            "L1 offset past 2^63,          40, 0xffffffffffff0000",
            "refcount table offset,        48, 0x0000000000000007",
            "2^32-1 snapshots,             60, 0xffffffff00000000",
            "snapshot table offset,        64, 0x0000000000000003",
            "backing file offset past the first cluster, 8, 0x0000000000100000",
            "unknown incompatible feature, 72, 0x0000000000000020",
        })
        void absurdFields(String what, long offset, String value, @TempDir Path dir) throws Exception {
            Path image = dir.resolve("image.qcow2");
            run("create", "-q", "-f", "qcow2", image.toString(), "1M");
            byte[] bytes = be64(Long.parseUnsignedLong(value.substring(2), 16));
            if (offset == 20) { // cluster_bits is 32 bits, followed by the size; keep the size
                patch(image, offset, bytes[4], bytes[5], bytes[6], bytes[7]);
            } else if (offset == 60) { // nb_snapshots is 32 bits
                patch(image, offset, bytes[0], bytes[1], bytes[2], bytes[3]);
            } else {
                patch(image, offset, bytes);
            }
            Qcow2Header.Refused e = assertThrows(Qcow2Header.Refused.class, () -> Qcow2Header.read(image), what);
            assertTrue(e.reason() == Qcow2Header.Reason.INVALID || e.reason() == Qcow2Header.Reason.UNSUPPORTED,
                    e.getMessage());
        }
    }

    @Test
    void readsTheLargestSnapshotTableQemuAllowsAndRefusesOneMore(@TempDir Path dir) throws Exception {
        Path image = dir.resolve("image.qcow2");
        run("create", "-q", "-f", "qcow2", image.toString(), "1M");
        long table = 4 * 65536; // after the L1 table's cluster: 65536 empty 40-byte entries
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(table + 65536L * 40);
        }
        patch(image, 60, (byte) 0, (byte) 1, (byte) 0, (byte) 0);
        patch(image, 64, be64(table));
        Qcow2Header h = Qcow2Header.read(image);
        assertEquals(65536, h.snapshots().size());
        assertFalse(h.truncated());
        patch(image, 60, (byte) 0, (byte) 1, (byte) 0, (byte) 1);
        assertThrows(Qcow2Header.Refused.class, () -> Qcow2Header.read(image));
    }

    @Nested
    class Truncation {

        Path withSnapshots(Path dir) {
            Path image = dir.resolve("image.qcow2");
            run("create", "-q", "-f", "qcow2", "-o", "cluster_size=512", image.toString(), "1M");
            for (String name : List.of("one", "two", "three")) {
                run("snapshot", "-c", name, image.toString());
            }
            return image;
        }

        void truncate(Path file, long length) throws IOException {
            try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
                f.setLength(length);
            }
        }

        @Test
        void aFileCutInsideItsHeaderIsRefusedAsTruncated(@TempDir Path dir) throws Exception {
            Path image = withSnapshots(dir);
            truncate(image, 90);
            Qcow2Header.Refused e = assertThrows(Qcow2Header.Refused.class, () -> Qcow2Header.read(image));
            assertEquals(Qcow2Header.Reason.TRUNCATED, e.reason());
        }

        @Test
        void aFileShorterThanItsL1TableIsReported(@TempDir Path dir) throws Exception {
            Path image = dir.resolve("image.qcow2");
            run("create", "-q", "-f", "qcow2", image.toString(), "1M");
            long l1 = Qcow2Header.read(image).l1TableOffset();
            truncate(image, l1);
            Qcow2Header h = Qcow2Header.read(image);
            assertTrue(h.truncated());
            assertTrue(h.truncation().get(0).contains("L1 table"), h.truncation().toString());
        }

        @Test
        void aFileCutInsideItsSnapshotTableIsReportedWithTheEntriesBeforeTheCut(@TempDir Path dir)
                throws Exception {
            Path image = withSnapshots(dir);
            Qcow2Header whole = Qcow2Header.read(image);
            assertEquals(List.of("one", "two", "three"), whole.internalSnapshots());
            assertTrue(whole.snapshotsOffset() + 3 * 48 <= whole.fileSize());
            // the table is the last thing qemu wrote: cut the file inside its last entry
            truncate(image, whole.fileSize() - 2);
            Qcow2Header cut = Qcow2Header.read(image);
            assertTrue(cut.truncated());
            assertEquals(3, cut.snapshotCount());
            assertEquals(List.of("one", "two"), cut.internalSnapshots());
            assertTrue(cut.truncation().stream().anyMatch(t -> t.contains("snapshot table")),
                    cut.truncation().toString());
        }
    }

    @ParameterizedTest(name = "resolve({0}, {1}) = {2}")
    @CsvSource({
        "/a/b/top.qcow2, base.qcow2,     /a/b/base.qcow2",
        "/a/b/top.qcow2, ../c/base,      /a/b/../c/base",
        "/a/b/top.qcow2, /x/base,        /x/base",
        "top.qcow2,      base.qcow2,     base.qcow2",
        "d e/top.qcow2,  ./f//base.raw,  d e/./f//base.raw",
    })
    void resolvesBackingNamesAsQemuCombinesThem(String image, String backing, String expected) {
        assertEquals(expected, Qcow2Header.resolve(image, backing));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource({"nbd:localhost:10809, true", "json:{}, true", "a:b.qcow2, true", "dir/a:b.qcow2, false",
        "/abs/a:b, false", "plain.qcow2, false"})
    void tellsProtocolNamesAsQemuDoes(String name, boolean protocol) {
        assertEquals(protocol, Qcow2Header.hasProtocol(name));
    }

    /**
     * Random damage to real images: bytes flipped in the header area and anywhere, fields overwritten with
     * extreme values, truncations. The reader returns a header or throws its own {@link Qcow2Header.Refused},
     * never anything else (an unchecked exception or an error fails the test); and when the in-process
     * image facts accept the damaged file, as the top image (format probed) or as the backing file of an
     * overlay that records it as qcow2, they are the facts qemu-img gives.
     */
    @Nested
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class Mutations {

        Path dir;
        final List<byte[]> originals = new ArrayList<>();
        int read;
        int refused;
        int comparedWithQemuImg;

        @BeforeAll
        void images(@TempDir Path tempDir) throws Exception {
            dir = tempDir;
            Path base = dir.resolve("base.qcow2");
            run("create", "-q", "-f", "qcow2", "-o", "cluster_size=512", base.toString(), "1M");
            Path v3 = dir.resolve("v3.qcow2");
            run("create", "-q", "-f", "qcow2", "-o", "cluster_size=512", "-b", "base.qcow2", "-F", "qcow2",
                    v3.toString());
            run("snapshot", "-c", "first", v3.toString());
            run("snapshot", "-c", "second with a longer name", v3.toString());
            Path v2 = dir.resolve("v2.qcow2");
            run("create", "-q", "-f", "qcow2", "-o", "compat=0.10,cluster_size=4096", "-b", base.toString(),
                    "-F", "qcow2", v2.toString());
            run("snapshot", "-c", "ü".repeat(200), v2.toString());
            Path bitmaps = dir.resolve("bitmaps.qcow2");
            run("create", "-q", "-f", "qcow2", "-o", "cluster_size=512", bitmaps.toString(), "1M");
            run("bitmap", "--add", bitmaps.toString(), "b0");
            originals.add(Files.readAllBytes(v3));
            originals.add(Files.readAllBytes(v2));
            originals.add(Files.readAllBytes(bitmaps));
            // an overlay that records its backing file "damaged base.qcow2" as qcow2; each mutant is also
            // written there, so that it is read as a backing file whose format is recorded, not probed
            run("create", "-q", "-f", "qcow2", "-u", "-b", "damaged base.qcow2", "-F", "qcow2",
                    dir.resolve("over damaged.qcow2").toString(), "1M");
        }

        Stream<Arguments> seeds() {
            return IntStream.range(0, 1000).mapToObj(i -> Arguments.of(i));
        }

        @AfterAll
        void everyOutcomeWasReached() {
            System.out.printf("qcow2 mutations: %d read, %d refused, %d read in-process and compared with qemu-img%n",
                    read, refused, comparedWithQemuImg);
            assertTrue(read > 100 && refused > 100 && comparedWithQemuImg > 500,
                    read + " read, " + refused + " refused, " + comparedWithQemuImg + " compared");
        }

        @ParameterizedTest(name = "mutation {0}")
        @MethodSource("seeds")
        void damageIsRefusedWithTheReadersOwnErrorOrReadAsQemuReadsIt(int seed) throws Exception {
            Random r = new Random(seed);
            byte[] bytes = originals.get(seed % originals.size()).clone();
            int kind = r.nextInt(10);
            if (kind < 6) { // a few bytes of the header area
                for (int i = 0, n = 1 + r.nextInt(4); i < n; i++) {
                    bytes[r.nextInt(Math.min(bytes.length, 512))] = (byte) r.nextInt(256);
                }
            } else if (kind < 7) { // anywhere, snapshot table included
                for (int i = 0, n = 1 + r.nextInt(8); i < n; i++) {
                    bytes[r.nextInt(bytes.length)] = (byte) r.nextInt(256);
                }
            } else if (kind < 9) { // a header field, 32 or 64 bits, set to an extreme value
                long[] extremes = {0, -1, Long.MAX_VALUE, Long.MIN_VALUE, 0xffffffffL, 0x7fffffffL, 1L << 40,
                    r.nextLong()};
                long v = extremes[r.nextInt(extremes.length)];
                int at = 4 * r.nextInt(26);
                int width = r.nextBoolean() ? 4 : 8;
                for (int i = 0; i < width && at + i < bytes.length; i++) {
                    bytes[at + i] = (byte) (v >>> (8 * (width - 1 - i)));
                }
            } else { // a truncation
                bytes = Arrays.copyOf(bytes, r.nextInt(bytes.length));
            }
            Path file = dir.resolve("mutant " + seed + ".qcow2");
            Files.write(file, bytes);
            try {
                try {
                    Qcow2Header h = Qcow2Header.read(file);
                    assertNotNull(h.snapshots());
                    read++;
                } catch (Qcow2Header.Refused e) {
                    refused++;
                    assertNotNull(e.reason());
                    assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
                }
                Path base = dir.resolve("damaged base.qcow2");
                Files.write(base, bytes);
                compareWithQemuImg(file, seed);
                compareWithQemuImg(dir.resolve("over damaged.qcow2"), seed);
            } finally {
                Files.delete(file);
            }
        }

        /** When the in-process facts accept {@code top}, qemu-img gives the same ones (and does not fail). */
        void compareWithQemuImg(Path top, int seed) throws Exception {
            ImageFacts inProcess;
            try {
                inProcess = ImageFactSource.inProcess(top.toString());
            } catch (ImageFactSource.NotInProcess e) {
                return;
            }
            ImageFacts qemu = ImageFactSource.withQemuImg(top, ImageFactSourceTest.QEMU_IMG);
            assertEquals(qemu, inProcess, "mutation " + seed + " read as " + top);
            comparedWithQemuImg++;
        }
    }

    @Test
    void anImageWithoutBackingFileHasNone(@TempDir Path dir) throws Exception {
        Path image = dir.resolve("image.qcow2");
        run("create", "-q", "-f", "qcow2", image.toString(), "1M");
        assertNull(Qcow2Header.read(image).backingFile());
        assertNull(Qcow2Header.read(image).resolvedBackingFile());
    }
}
