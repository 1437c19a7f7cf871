package dev.snapbook.steps.image;

import static dev.snapbook.steps.image.QemuImgCli.be64;
import static dev.snapbook.steps.image.QemuImgCli.forgetBackingFormat;
import static dev.snapbook.steps.image.QemuImgCli.patch;
import static dev.snapbook.steps.image.QemuImgCli.run;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.steps.qemu.QemuImg;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The in-process image facts equal what {@code qemu-img info -U --backing-chain} reports ({@link
 * ImageFactSource#withQemuImg}, the path snapbook used before, is the oracle), on chains made by the real
 * {@code qemu-img}; and what the in-process reader leaves to qemu-img is answered by qemu-img.
 */
class ImageFactSourceTest {

    static final QemuImg QEMU_IMG = new QemuImg(line -> { });

    static final String[] DIRS = {"plain", "with space", "ünïcödé ñ", "日本 語", "a b/c d"};
    static final String[] SNAPSHOT_NAMES = {"s1", "before upgrade", "ünïcödé snap", "x".repeat(300),
        "日本語のスナップショット", "with\ttab"};
    static final long[] CLUSTERS = {512, 4096, 65536};

    /** Asserts that the in-process facts exist and equal qemu-img's, and that observe() does not fall back. */
    static ImageFacts assertSameFacts(String top, String layout) throws StepFailure {
        ImageFacts expected = ImageFactSource.withQemuImg(Path.of(top), QEMU_IMG);
        ImageFacts actual = assertDoesNotThrow(() -> ImageFactSource.inProcess(top), layout);
        assertEquals(expected, actual, layout);
        assertEquals(expected, ImageFactSource.observe(Path.of(top), QEMU_IMG,
                why -> fail("fell back to qemu-img: " + why + "\n" + layout)), layout);
        return actual;
    }

    static LongStream seeds() {
        return LongStream.range(0, 48);
    }

    /**
     * One generated layout per seed: a raw or qcow2 base under 0 to 3 qcow2 overlays of either version and
     * various cluster sizes, in directories whose names have spaces and non-ASCII letters, each backing link
     * absolute or relative (with {@code ..} and {@code ./}), its format recorded or not, internal snapshots
     * on some qcow2 layers, and the top named by an absolute or a relative path.
     */
    @ParameterizedTest(name = "generated layout {0}")
    @MethodSource("seeds")
    void inProcessFactsEqualQemuImgsOnGeneratedChains(long seed, @TempDir Path dir) throws Exception {
        Random r = new Random(seed);
        StringBuilder layout = new StringBuilder("seed " + seed + ":");
        Path root = dir.resolve(DIRS[r.nextInt(DIRS.length)]);
        Files.createDirectories(root);
        List<Path> qcow2Layers = new ArrayList<>();
        Path below;
        String belowFormat;
        if (r.nextBoolean()) {
            below = root.resolve("base disk.raw");
            long size = (1L + r.nextInt(16)) << 20;
            if (r.nextInt(3) == 0) {
                size += 1 + r.nextInt(511); // qemu counts the size in whole sectors, rounded up
            }
            try (RandomAccessFile f = new RandomAccessFile(below.toFile(), "rw")) {
                f.setLength(size);
            }
            belowFormat = "raw";
            layout.append(" raw base of ").append(size).append(" bytes");
        } else {
            below = root.resolve("bäse.qcow2");
            String compat = r.nextBoolean() ? "0.10" : "1.1";
            long cluster = CLUSTERS[r.nextInt(CLUSTERS.length)];
            run("create", "-q", "-f", "qcow2", "-o", "compat=" + compat + ",cluster_size=" + cluster,
                    below.toString(), (1 + r.nextInt(16)) + "M");
            qcow2Layers.add(below);
            belowFormat = "qcow2";
            layout.append(" qcow2 base compat=").append(compat).append(" cluster ").append(cluster);
        }
        int overlays = r.nextInt(4);
        int forgottenFormats = 0;
        for (int i = 0; i < overlays; i++) {
            Path where = switch (r.nextInt(3)) {
                case 0 -> root;
                case 1 -> root.resolve("sub " + i);
                default -> root.resolve("öther/dir " + i);
            };
            Files.createDirectories(where);
            Path overlay = where.resolve("läyer " + i + ".qcow2");
            String backing;
            switch (r.nextInt(4)) {
                case 0 -> backing = below.toString();
                case 1 -> backing = "./" + where.relativize(below);
                default -> backing = where.relativize(below).toString();
            }
            String compat = r.nextBoolean() ? "0.10" : "1.1";
            long cluster = CLUSTERS[r.nextInt(CLUSTERS.length)];
            run("create", "-q", "-f", "qcow2", "-o", "compat=" + compat + ",cluster_size=" + cluster,
                    "-b", backing, "-F", belowFormat, overlay.toString());
            boolean forgotten = r.nextInt(4) == 0;
            if (forgotten) {
                forgetBackingFormat(overlay);
                forgottenFormats++;
            }
            layout.append(" <- ").append(root.relativize(overlay)).append(" (compat=").append(compat)
                    .append(" cluster ").append(cluster).append(" backing ").append(backing)
                    .append(forgotten ? ", format not recorded)" : ")");
            qcow2Layers.add(overlay);
            below = overlay;
            belowFormat = "qcow2";
        }
        for (Path layer : qcow2Layers) {
            if (r.nextInt(3) == 0) {
                int n = 1 + r.nextInt(3);
                for (int s = 0; s < n; s++) {
                    String name = SNAPSHOT_NAMES[r.nextInt(SNAPSHOT_NAMES.length)] + " " + s;
                    run("snapshot", "-c", name, layer.toString());
                }
                layout.append("; ").append(n).append(" snapshots in ").append(root.relativize(layer));
            }
        }
        String top = r.nextInt(4) == 0 ? Path.of("").toAbsolutePath().relativize(below).toString()
                : below.toString();
        layout.append("; top named ").append(top);

        ImageFacts facts = assertSameFacts(top, layout.toString());

        // BackingChain walks the same links, in-process too
        List<String> commands = new ArrayList<>();
        BackingChain.Walk walk = BackingChain.walk(new QemuImg(commands::add), Path.of(top), null);
        List<String> expectedFiles = new ArrayList<>(List.of(Path.of(top).toAbsolutePath().normalize().toString()));
        facts.backingChain().forEach(l -> expectedFiles.add(Path.of(l.file()).toAbsolutePath().normalize().toString()));
        assertEquals(expectedFiles, walk.files(), layout.toString());
        assertEquals(List.of(), commands, layout.toString());
        assertEquals(forgottenFormats, walk.problems().size(), layout + ": " + walk.problems());

        // and every qcow2 layer's header says what qemu-img info says of that layer alone
        List<String> files = new ArrayList<>(List.of(top));
        facts.backingChain().forEach(l -> files.add(l.file()));
        for (String file : files) {
            Path path = Path.of(file);
            if (ImageMagic.detect(path).equals("qcow2")) {
                Qcow2HeaderTest.assertHeaderAgreesWithQemuImg(path, layout.toString());
            }
        }
    }

    @Test
    void aRawImageOfOddSizeCountsWholeSectors(@TempDir Path dir) throws Exception {
        Path raw = dir.resolve("odd.raw");
        Files.write(raw, new byte[1000]);
        ImageFacts facts = assertSameFacts(raw.toString(), "raw of 1000 bytes");
        assertEquals(new ImageFacts(raw.toString(), "raw", 1024, List.of()), facts);
    }

    @Test
    void aQcow2SizeThatIsNotWholeSectorsIsRoundedDownAsQemuDoes(@TempDir Path dir) throws Exception {
        Path image = dir.resolve("odd.qcow2");
        run("create", "-q", "-f", "qcow2", image.toString(), "1M");
        patch(image, 24, be64((1L << 20) + 100));
        assertEquals(1L << 20, assertSameFacts(image.toString(), "size 1 MiB + 100").virtualSize());
    }

    @Test
    void aBackingFileRecordedAsRawIsRawEvenWhenItIsQcow2Inside(@TempDir Path dir) throws Exception {
        Path base = dir.resolve("base.qcow2");
        Path mid = dir.resolve("mid.qcow2");
        Path top = dir.resolve("top.qcow2");
        run("create", "-q", "-f", "qcow2", base.toString(), "1M");
        run("create", "-q", "-f", "qcow2", "-b", base.toString(), "-F", "qcow2", mid.toString());
        run("create", "-q", "-f", "qcow2", "-b", mid.toString(), "-F", "raw", top.toString());
        ImageFacts facts = assertSameFacts(top.toString(), "qcow2 recorded as raw");
        assertEquals(List.of(new ImageFacts.Layer(mid.toString(), "raw")), facts.backingChain());
    }

    @Test
    void backingNamesWithDotSegmentsAreGivenAsTheFileTheyReach(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("sub"));
        Path base = dir.resolve("sub/base.raw");
        Files.write(base, new byte[4096]);
        Path top = dir.resolve("top.qcow2");
        run("create", "-q", "-f", "qcow2", "-b", "./sub//base.raw", "-F", "raw", top.toString());
        ImageFacts facts = assertSameFacts(top.toString(), "./sub//base.raw");
        // qemu names it DIR/./sub//base.raw; snapbook, as libvirt, names the file that reaches
        assertEquals(base.toRealPath().toString(), facts.backingChain().get(0).file());
    }

    @Test
    void relativeNamesResolveFromTheDirectoryTheImageWasNamedInEvenThroughSymbolicLinks(@TempDir Path dir)
            throws Exception {
        Files.createDirectories(dir.resolve("real"));
        Files.createDirectories(dir.resolve("sub"));
        Files.write(dir.resolve("base.raw"), new byte[8192]);
        Path top = dir.resolve("real/top.qcow2");
        run("create", "-q", "-f", "qcow2", "-b", "../base.raw", "-F", "raw", top.toString());
        Files.createDirectories(dir.resolve("sub/deeper"));
        Files.createSymbolicLink(dir.resolve("sub/link"), dir.resolve("real"));
        Files.createSymbolicLink(dir.resolve("sub/top-link.qcow2"), top);
        Files.createSymbolicLink(dir.resolve("sub/deeper/top-link.qcow2"), top);
        // through a linked directory: the kernel resolves sub/link/.. to dir, so qemu finds dir/base.raw
        ImageFacts viaDirectory = assertSameFacts(dir + "/sub/link/top.qcow2", "linked directory");
        Path reached = dir.resolve("base.raw").toRealPath();
        assertEquals(reached.toString(), viaDirectory.backingChain().get(0).file()); // qemu: DIR/sub/link/../base.raw
        // through a linked file: the name is resolved from the link's directory, not the target's
        ImageFacts viaFile = assertSameFacts(dir + "/sub/top-link.qcow2", "linked file");
        assertEquals(reached.toString(), viaFile.backingChain().get(0).file()); // qemu: DIR/sub/../base.raw
        // ... so from sub/deeper it names sub/base.raw, which does not exist: qemu-img fails, as before
        Path deeper = dir.resolve("sub/deeper/top-link.qcow2");
        assertThrows(ImageFactSource.NotInProcess.class, () -> ImageFactSource.inProcess(deeper.toString()));
        assertThrows(StepFailure.class, () -> ImageFactSource.observe(deeper, QEMU_IMG));
    }

    @Test
    void dirtyAndCorruptImagesAreReadAsQemuReadsThem(@TempDir Path dir) throws Exception {
        Path base = dir.resolve("base.qcow2");
        Path top = dir.resolve("top.qcow2");
        run("create", "-q", "-f", "qcow2", base.toString(), "1M");
        run("create", "-q", "-f", "qcow2", "-b", base.toString(), "-F", "qcow2", top.toString());
        patch(base, 79, (byte) (Qcow2Header.DIRTY | Qcow2Header.CORRUPT));
        patch(top, 79, (byte) Qcow2Header.DIRTY);
        assertSameFacts(top.toString(), "dirty over dirty+corrupt");
    }

    @Test
    void aFileWhoseMagicWasOverwrittenIsRawToQemuAndToSnapbook(@TempDir Path dir) throws Exception {
        Path image = dir.resolve("damaged.qcow2");
        run("create", "-q", "-f", "qcow2", image.toString(), "1M");
        patch(image, 0, (byte) 'X', (byte) 'X', (byte) 'X', (byte) 'X');
        assertEquals("raw", assertSameFacts(image.toString(), "magic overwritten").format());
    }

    @Nested
    class WhatQemuImgAnswers {

        /** The in-process reader declines, and observe() gives exactly what the qemu-img path gives. */
        void assertLeftToQemuImg(Path top) throws StepFailure {
            assertThrows(ImageFactSource.NotInProcess.class, () -> ImageFactSource.inProcess(top.toString()));
            List<String> traces = new ArrayList<>();
            assertEquals(ImageFactSource.withQemuImg(top, QEMU_IMG),
                    ImageFactSource.observe(top, QEMU_IMG, traces::add));
            assertEquals(1, traces.size(), "the fallback is traced once, with its reason");
        }

        @Test
        void aVmdkLayer(@TempDir Path dir) throws Exception {
            Path base = dir.resolve("base.vmdk");
            Path top = dir.resolve("top.qcow2");
            run("create", "-q", "-f", "vmdk", base.toString(), "1M");
            run("create", "-q", "-f", "qcow2", "-b", base.toString(), "-F", "vmdk", top.toString());
            assertLeftToQemuImg(top);
        }

        @Test
        void aQcowVersion1Layer(@TempDir Path dir) throws Exception {
            Path base = dir.resolve("base.qcow");
            Path top = dir.resolve("top.qcow2");
            run("create", "-q", "-f", "qcow", base.toString(), "1M");
            run("create", "-q", "-f", "qcow2", "-b", base.toString(), "-F", "qcow", top.toString());
            assertLeftToQemuImg(top);
        }

        @Test
        void aTruncatedLayer(@TempDir Path dir) throws Exception {
            Path base = dir.resolve("base.qcow2");
            Path top = dir.resolve("top.qcow2");
            run("create", "-q", "-f", "qcow2", base.toString(), "1M");
            run("create", "-q", "-f", "qcow2", "-b", base.toString(), "-F", "qcow2", top.toString());
            try (RandomAccessFile f = new RandomAccessFile(base.toFile(), "rw")) {
                f.setLength(3 * 65536); // the L1 table starts at the fourth cluster
            }
            assertLeftToQemuImg(top);
        }

        @Test
        void aLuksEncryptedLayer(@TempDir Path dir) throws Exception {
            Path top = dir.resolve("encrypted.qcow2");
            run("create", "-q", "-f", "qcow2", "--object", "secret,id=sec0,data=secret", "-o",
                    "encrypt.format=luks,encrypt.key-secret=sec0", top.toString(), "1M");
            assertEquals(2, Qcow2Header.read(top).cryptMethod());
            assertLeftToQemuImg(top);
        }

        @Test
        void aLayerWithPersistentBitmaps(@TempDir Path dir) throws Exception {
            Path base = dir.resolve("base.qcow2");
            Path top = dir.resolve("top.qcow2");
            run("create", "-q", "-f", "qcow2", base.toString(), "1M");
            run("bitmap", "--add", base.toString(), "b0");
            run("create", "-q", "-f", "qcow2", "-b", base.toString(), "-F", "qcow2", top.toString());
            assertEquals(1, Qcow2Header.read(base).bitmaps());
            assertLeftToQemuImg(top);
        }

        @Test
        void aMissingBackingFileFailsAsItDidWithQemuImg(@TempDir Path dir) throws Exception {
            Path base = dir.resolve("base.qcow2");
            Path top = dir.resolve("top.qcow2");
            run("create", "-q", "-f", "qcow2", base.toString(), "1M");
            run("create", "-q", "-f", "qcow2", "-b", base.toString(), "-F", "qcow2", top.toString());
            Files.delete(base);
            StepFailure old = assertThrows(StepFailure.class, () -> ImageFactSource.withQemuImg(top, QEMU_IMG));
            StepFailure now = assertThrows(StepFailure.class, () -> ImageFactSource.observe(top, QEMU_IMG));
            assertEquals(old.getMessage(), now.getMessage());
        }

        @Test
        void aFileThatMayBeAVmdkDescriptor(@TempDir Path dir) throws Exception {
            Path text = dir.resolve("notes.img");
            Files.writeString(text, "# a text file, not an image\n");
            assertLeftToQemuImg(text);
        }
    }

    @Test
    void aMissingImageHasNoFacts(@TempDir Path dir) throws Exception {
        assertEquals(null, ImageFactSource.observe(dir.resolve("nope.qcow2"), QEMU_IMG));
    }
}
