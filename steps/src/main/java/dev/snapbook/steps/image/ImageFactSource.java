package dev.snapbook.steps.image;

import com.fasterxml.jackson.databind.JsonNode;
import dev.snapbook.engine.spi.FactSource;
import dev.snapbook.engine.spi.StepContext;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.steps.libvirt.ConnectionHost;
import dev.snapbook.steps.qemu.QemuImg;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Observes {@link ImageFacts}: in-process from the qcow2 headers ({@link Qcow2Header}) and raw file sizes of
 * the chain when every layer is qcow2 or raw, else with {@code qemu-img info -U --backing-chain
 * --output=json}. The in-process reading gives the facts {@code qemu-img} gives, string for string (file
 * names as qemu combines them, formats, virtual sizes); whatever it does not read exactly as qemu would (other
 * formats, protocol names, encryption, external data files, zstd compression, persistent dirty bitmaps, a
 * truncated or damaged header, a missing link, a loop) is left to {@code qemu-img}, so the answer, or the
 * error, is the one {@code qemu-img} gives. One difference, on both paths: a backing file name that qemu joined
 * across directories ({@code /a/else/../vm/base.img}) is given as the file it reaches ({@link BackingChain#plain}),
 * as libvirt names it, so that every step and the disk-state model spell each file one way.
 */
public final class ImageFactSource implements FactSource {

    /** qemu's format probes look at the first 512 bytes ({@code BLOCK_PROBE_BUF_SIZE}). */
    private static final int PROBE_BYTES = 512;
    private static final int SECTOR = 512;
    private static final int MAX_DEPTH = 256;

    @Override
    public String kind() {
        return ImageFacts.KIND;
    }

    @Override
    public Class<?> type() {
        return ImageFacts.class;
    }

    @Override
    public ImageFacts observe(String path, StepContext context) throws StepFailure {
        ConnectionHost.requireLocalFiles(context, "snapbook would read the image " + path + " on this machine");
        return observe(Path.of(path), new QemuImg(context::trace), context::trace);
    }

    /** The facts of the image at {@code path}, or null when no such file exists. */
    public static ImageFacts observe(Path path, QemuImg qemuImg) throws StepFailure {
        return observe(path, qemuImg, why -> { });
    }

    /**
     * The facts of the image at {@code path}, or null when no such file exists; {@code trace} is told why,
     * when {@code qemu-img} has to answer.
     */
    public static ImageFacts observe(Path path, QemuImg qemuImg, Consumer<String> trace) throws StepFailure {
        if (!Files.exists(path)) {
            return null;
        }
        try {
            return inProcess(path.toString());
        } catch (NotInProcess e) {
            trace.accept("image facts of " + path + " from qemu-img: " + e.getMessage());
            return withQemuImg(path, qemuImg);
        }
    }

    /** The facts as {@code qemu-img info -U --backing-chain} reports them (one process for the chain). */
    static ImageFacts withQemuImg(Path path, QemuImg qemuImg) throws StepFailure {
        return from(path.toString(), qemuImg.info(path, true));
    }

    /** Builds the facts from qemu-img's JSON for the chain, the image itself first. */
    static ImageFacts from(String path, List<JsonNode> chain) {
        JsonNode top = chain.get(0);
        List<ImageFacts.Layer> layers = new ArrayList<>();
        for (JsonNode image : chain.subList(1, chain.size())) {
            layers.add(new ImageFacts.Layer(BackingChain.plain(image.path("filename").asText()),
                    image.path("format").asText()));
        }
        return new ImageFacts(path, top.path("format").asText(), top.path("virtual-size").asLong(), layers);
    }

    /** Why the facts of an image are left to {@code qemu-img}. */
    static final class NotInProcess extends Exception {
        NotInProcess(String why) {
            super(why, null, false, false);
        }
    }

    /**
     * The facts of the image qemu would open as {@code top}, read in-process, following the chain as qemu does:
     * a format recorded by the layer above is used as recorded; where none is recorded (the top image, old
     * overlays) the format is probed like qemu probes. A qcow2 layer's virtual size is its header's, a raw
     * layer's its file size, both in whole 512-byte sectors as qemu counts them (a qcow2 size rounded down,
     * a raw size rounded up).
     */
    static ImageFacts inProcess(String top) throws NotInProcess {
        if (Qcow2Header.hasProtocol(top)) {
            throw new NotInProcess(top + " reads as a protocol name");
        }
        String topFormat = null;
        long topSize = 0;
        List<ImageFacts.Layer> layers = new ArrayList<>();
        Set<Path> seen = new HashSet<>();
        String name = top;
        String format = null;
        while (true) {
            Path file;
            try {
                file = Path.of(name);
            } catch (InvalidPathException e) {
                throw new NotInProcess(name + " is not a file name: " + e.getMessage());
            }
            if (!Files.isRegularFile(file)) {
                throw new NotInProcess(name + " is not a regular file");
            }
            if (!seen.add(BackingChain.realPath(file))) {
                throw new NotInProcess("the chain loops at " + name);
            }
            if (seen.size() > MAX_DEPTH) {
                throw new NotInProcess("the chain is deeper than " + MAX_DEPTH + " images");
            }
            if (format == null) {
                format = probe(name, file);
            }
            long virtualSize;
            String backing;
            String backingFormat;
            switch (format) {
                case "raw" -> {
                    virtualSize = roundUp(size(file));
                    backing = null;
                    backingFormat = null;
                }
                case "qcow2" -> {
                    Qcow2Header header = qcow2(file);
                    virtualSize = header.size() / SECTOR * SECTOR;
                    backing = header.backingFile();
                    backingFormat = header.backingFormat();
                }
                default -> throw new NotInProcess(name + " is " + format + ", which only qemu-img reads");
            }
            if (topFormat == null) {
                topFormat = format;
                topSize = virtualSize;
            } else {
                layers.add(new ImageFacts.Layer(BackingChain.plain(name), format));
            }
            if (backing == null) {
                return new ImageFacts(top, topFormat, topSize, layers);
            }
            if (Qcow2Header.hasProtocol(backing)) {
                throw new NotInProcess(name + " has the backing file " + backing + ", a protocol name");
            }
            name = Qcow2Header.resolve(name, backing);
            format = backingFormat;
        }
    }

    /** A qcow2 header that the chain's facts can be read from exactly as qemu reads them. */
    private static Qcow2Header qcow2(Path file) throws NotInProcess {
        Qcow2Header header;
        try {
            header = Qcow2Header.read(file);
        } catch (Qcow2Header.Refused e) {
            throw new NotInProcess(e.getMessage());
        }
        if (header.truncated()) {
            throw new NotInProcess(file + " is truncated: " + String.join("; ", header.truncation()));
        }
        if (header.cryptMethod() != 0) {
            throw new NotInProcess(file + " is encrypted");
        }
        if ((header.incompatibleFeatures() & Qcow2Header.EXTERNAL_DATA_FILE) != 0 || header.dataFile() != null) {
            throw new NotInProcess(file + " has an external data file");
        }
        if ((header.incompatibleFeatures() & Qcow2Header.COMPRESSION_TYPE) != 0) {
            throw new NotInProcess(file + " is compressed with zstd, which this qemu may not support");
        }
        if (header.bitmaps() > 0) {
            // qemu checks the bitmap directory when it opens the image, and refuses it when it is damaged
            throw new NotInProcess(file + " has persistent dirty bitmaps");
        }
        return header;
    }

    /**
     * The format qemu's probe finds for the file opened as {@code name}: qcow2, raw, or a refusal for any
     * other. Raw is what qemu concludes when no other probe claims the file, and {@link ImageMagic} knows
     * the magic numbers but not every probe: a {@code .dmg} name, VMDK3's {@code COWD}, Bochs images and
     * text that may be a VMDK descriptor (a first line that is a comment, blank, or {@code version=}) are
     * left to qemu-img rather than guessed.
     */
    static String probe(String name, Path file) throws NotInProcess {
        byte[] head;
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(PROBE_BYTES);
        } catch (IOException e) {
            throw new NotInProcess(name + " cannot be read: " + e.getMessage());
        }
        String detected = ImageMagic.detect(head);
        if (!detected.equals("raw")) {
            return detected;
        }
        boolean doubtful = name.toLowerCase(Locale.ROOT).endsWith(".dmg")
                || startsWith(head, "COWD") || startsWith(head, "Bochs Virtual HD Image")
                || (head.length > 0 && (head[0] == '#' || head[0] == ' ' || head[0] == 'v'));
        if (doubtful) {
            throw new NotInProcess(name + " may be a format that qemu probes but snapbook does not");
        }
        return "raw";
    }

    private static boolean startsWith(byte[] head, String magic) {
        if (head.length < magic.length()) {
            return false;
        }
        for (int i = 0; i < magic.length(); i++) {
            if (head[i] != magic.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private static long size(Path file) throws NotInProcess {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new NotInProcess(file + " cannot be read: " + e.getMessage());
        }
    }

    private static long roundUp(long bytes) {
        return (bytes + SECTOR - 1) / SECTOR * SECTOR;
    }
}
