package dev.snapbook.steps.image;

import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.engine.spi.World;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What the {@code image.*} steps share: existence checks in plans, sizes, and deleting what they created. */
final class Images {

    private static final Pattern SIZE = Pattern.compile("(\\d{1,15})\\s*([kKmMgGtT]?)[bB]?");

    private Images() {
    }

    /** The image at {@code path} as the plan predicts it here; fails when it does not (or will not) exist. */
    static ImageFacts require(World world, String path, String role) throws StepFailure {
        ImageFacts facts = world.get(ImageFacts.key(path));
        if (facts == null) {
            throw new StepFailure(role + " " + path + " does not exist" + (world.observed(ImageFacts.key(path)) != null
                    ? " at this point of the plan" : ""), "check the path; it must name an existing image file");
        }
        return facts;
    }

    /** Fails when something exists at {@code path} (now, or predicted by an earlier step). */
    static void requireAbsent(World world, String path, String role) throws StepFailure {
        boolean exists;
        try {
            exists = world.get(ImageFacts.key(path)) != null;
        } catch (StepFailure unreadable) {
            exists = true; // something is there that qemu-img cannot read (a directory, a broken chain)
        }
        if (exists) {
            throw new StepFailure(role + " " + path + " already exists; snapbook never overwrites a file",
                    "choose a new file name, or delete the old file first (image.delete)");
        }
        Path parent = Path.of(path).toAbsolutePath().getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            throw new StepFailure("the directory of " + role + " " + path + " does not exist",
                    "create the directory first");
        }
    }

    /** Fails unless {@code path} is absolute: relative image paths mean different files to qemu and to us. */
    static void requireAbsolute(String path, String param) throws StepFailure {
        if (!Path.of(path).isAbsolute()) {
            throw new StepFailure(param + " '" + path + "' is not an absolute path",
                    "give the full path; qemu resolves a relative backing file against the image's directory");
        }
    }

    /** Bytes named by a qemu-img size ({@code 1G}, {@code 512M}, {@code 65536}), or -1 when it is not one. */
    static long parseSize(String size) {
        Matcher m = SIZE.matcher(size.strip());
        if (!m.matches()) {
            return -1;
        }
        long n = Long.parseLong(m.group(1));
        int shift = switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "k" -> 10;
            case "m" -> 20;
            case "g" -> 30;
            case "t" -> 40;
            default -> 0;
        };
        return n << shift;
    }

    /** qemu-img rounds image sizes up to whole 512-byte sectors. */
    static long roundToSector(long bytes) {
        return (bytes + 511) / 512 * 512;
    }

    /** The format the file's contents show ({@link ImageMagic}); fails naming the file when it cannot be read. */
    static String detect(String path) throws StepFailure {
        try {
            return ImageMagic.detect(Path.of(path));
        } catch (IOException e) {
            throw new StepFailure("cannot read " + path + ": " + e.getMessage(),
                    "check that it exists and is readable", e);
        }
    }
}
