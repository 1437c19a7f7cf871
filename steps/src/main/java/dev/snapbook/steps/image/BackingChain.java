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
 * Walks an image's backing chain one link at a time ({@code qemu-img info -U} without
 * {@code --backing-chain}, which opens no backing file), so that a broken chain is still read up to the
 * break and every problem is named: a missing or unreadable link, a declared format that is not the one the
 * file's contents show, a format left for qemu to probe, a loop.
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
            JsonNode info = qemuImg.info(file, false).get(0);
            if (!info.path("format").asText().equals(detected)) {
                problems.add("qemu-img reads " + file + " as " + info.path("format").asText()
                        + " but its header says " + detected);
            }
            String backing = info.hasNonNull("full-backing-filename") ? info.get("full-backing-filename").asText()
                    : info.hasNonNull("backing-filename") ? info.get("backing-filename").asText() : null;
            if (backing == null) {
                break;
            }
            Path next = Path.of(backing);
            if (!next.isAbsolute()) {
                next = file.getParent().resolve(next);
            }
            above = file.toString();
            declared = info.path("backing-filename-format").asText(null);
            file = next.normalize();
        }
        return new Walk(links, problems);
    }

    /** The canonical path of an existing file (symbolic links resolved), else the normalised absolute path. */
    public static Path realPath(Path file) {
        try {
            return file.toRealPath();
        } catch (IOException e) {
            return file.toAbsolutePath().normalize();
        }
    }

    /** Whether {@code a} and {@code b} name the same file (after resolving symbolic links when they exist). */
    public static boolean sameFile(String a, String b) {
        if (a == null || b == null) {
            return false;
        }
        return realPath(Path.of(a)).equals(realPath(Path.of(b)));
    }
}
