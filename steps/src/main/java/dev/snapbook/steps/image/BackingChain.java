package dev.snapbook.steps.image;

import com.fasterxml.jackson.databind.JsonNode;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.steps.qemu.QemuImg;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Walks an image's backing chain one link at a time (a qcow2 link's header read in-process, any other link
 * with {@code qemu-img info -U} without {@code --backing-chain}, which opens no backing file), so that a
 * broken chain is still read up to the break and every problem is named: a missing or unreadable link, a
 * declared format that is not the one the file's contents show, a format left for qemu to probe, a loop.
 */
public final class BackingChain {

    /**
     * One image of the chain.
     *
     * @param file           its absolute path
     * @param declaredFormat the format the layer above records for it ({@code backing-filename-format}), or the
     *                       format the caller declared for the top image; null when none was recorded
     * @param detectedFormat the format its contents show ({@link ImageMagic}), null when it could not be read
     */
    public record Link(String file, String declaredFormat, String detectedFormat) {
    }

    /** The links read, top first, and the problems found on the way (empty when the chain is sound). */
    public record Walk(List<Link> links, List<String> problems) {
        public Walk {
            links = List.copyOf(links);
            problems = List.copyOf(problems);
        }

        public boolean sound() {
            return problems.isEmpty();
        }

        /** The absolute paths of the links, top first. */
        public List<String> files() {
            return links.stream().map(Link::file).toList();
        }
    }

    private static final int MAX_DEPTH = 256;

    private BackingChain() {
    }

    /**
     * Walks the chain from {@code top} (declared as {@code topFormat}, or null when nobody declared it).
     * Stops at the first link that is missing, unreadable, or already seen.
     */
    public static Walk walk(QemuImg qemuImg, Path top, String topFormat) throws StepFailure {
        List<Link> links = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        Set<Path> seen = new HashSet<>();
        Path file = top.toAbsolutePath().normalize();
        String declared = topFormat;
        String above = null;
        while (file != null) {
            String role = above == null ? "image " + file : "backing file " + file + " of " + above;
            if (!Files.exists(file)) {
                problems.add(role + " does not exist");
                break;
            }
            if (!Files.isReadable(file) || Files.isDirectory(file)) {
                problems.add(role + " is not a readable file");
                break;
            }
            Path real = realPath(file);
            if (!seen.add(real)) {
                problems.add("the chain loops: " + role + " is already in the chain above it");
                break;
            }
            if (links.size() >= MAX_DEPTH) {
                problems.add("the chain is deeper than " + MAX_DEPTH + " images; stopped at " + file);
                break;
            }
            String detected;
            try {
                detected = ImageMagic.detect(file);
            } catch (IOException e) {
                problems.add(role + " cannot be read: " + e.getMessage());
                break;
            }
            links.add(new Link(file.toString(), declared, detected));
            if (declared == null && above != null) {
                problems.add(above + " does not record the format of its backing file " + file
                        + ", so qemu would probe it (libvirt refuses to)");
            } else if (declared != null && !declared.equals(detected)) {
                problems.add(role + " is declared " + declared + " but its contents are " + detected);
            }
            if (!detected.equals("qcow2") && !detected.equals("qed") && !detected.equals("vmdk")) {
                break; // formats without backing files end the chain
            }
            Read read = read(qemuImg, file, detected);
            if (!read.format().equals(detected)) {
                problems.add("qemu-img reads " + file + " as " + read.format() + " but its header says " + detected);
            }
            if (read.backing() == null) {
                break;
            }
            Path next = Path.of(read.backing());
            if (!next.isAbsolute()) {
                next = file.getParent().resolve(next);
            }
            above = file.toString();
            declared = read.backingFormat();
            file = next.normalize();
        }
        return new Walk(links, problems);
    }

    /** What one link says of itself: the format qemu reads it as, its backing file and that file's format. */
    private record Read(String format, String backing, String backingFormat) {
    }

    /**
     * Reads one link: a qcow2 header in-process ({@link Qcow2Header}; qemu probes a file with its magic as
     * qcow2 too), anything else, or a qcow2 header that is refused, truncated or needs more than the header
     * to open (encryption, an external data file, zstd, persistent bitmaps, whose directory qemu checks),
     * with {@code qemu-img info -U}, which then reports what it makes of the file or fails as it did before.
     */
    private static Read read(QemuImg qemuImg, Path file, String detected) throws StepFailure {
        if (detected.equals("qcow2")) {
            try {
                Qcow2Header h = Qcow2Header.read(file);
                boolean plain = !h.truncated() && h.cryptMethod() == 0 && h.dataFile() == null && h.bitmaps() == 0
                        && (h.incompatibleFeatures() & (Qcow2Header.EXTERNAL_DATA_FILE
                        | Qcow2Header.COMPRESSION_TYPE)) == 0;
                if (plain && (h.backingFile() == null || !Qcow2Header.hasProtocol(h.backingFile()))) {
                    return new Read("qcow2", h.resolvedBackingFile(), h.backingFormat());
                }
            } catch (Qcow2Header.Refused e) {
                // qemu-img says what is wrong with it, as before
            }
        }
        JsonNode info = qemuImg.info(file, false).get(0);
        String backing = info.hasNonNull("full-backing-filename") ? info.get("full-backing-filename").asText()
                : info.hasNonNull("backing-filename") ? info.get("backing-filename").asText() : null;
        return new Read(info.path("format").asText(), backing, info.path("backing-filename-format").asText(null));
    }

    /** The canonical path of an existing file (symbolic links resolved), else the normalised absolute path. */
    public static Path realPath(Path file) {
        try {
            return file.toRealPath();
        } catch (IOException e) {
            return file.toAbsolutePath().normalize();
        }
    }

    /**
     * {@code name} as a playbook can pass it on: a name with {@code .} or {@code ..} segments (qemu joins a relative
     * backing name to the directory of the layer above without resolving them: {@code /a/else/../vm/base.img}) is
     * given as the file it reaches ({@link #realPath}), since path parameters refuse {@code ..}; any other name as it
     * is. Null stays null.
     */
    public static String plain(String name) {
        if (name == null || !(name.contains("/../") || name.contains("/./") || name.endsWith("/..")
                || name.endsWith("/."))) {
            return name;
        }
        return realPath(Path.of(name)).toString();
    }

    /** {@link #plain} of each name. */
    public static java.util.List<String> plain(java.util.List<String> names) {
        return names.stream().map(BackingChain::plain).toList();
    }

    /** Whether {@code a} and {@code b} name the same file (after resolving symbolic links when they exist). */
    public static boolean sameFile(String a, String b) {
        if (a == null || b == null) {
            return false;
        }
        return realPath(Path.of(a)).equals(realPath(Path.of(b)));
    }
}
