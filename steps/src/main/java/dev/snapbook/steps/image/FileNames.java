package dev.snapbook.steps.image;

import dev.snapbook.engine.spi.StepFailure;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The limits of file names, for every file name snapbook derives from a domain, disk or snapshot name: Linux file
 * systems (ext4, xfs, btrfs, tmpfs) take names of at most {@value #NAME_MAX} bytes and paths of at most
 * {@value #PATH_MAX}, counted in UTF-8, so 120 non-ASCII letters are already 240 bytes. A derived name is either
 * {@linkplain #fit made to fit} or {@linkplain #requireFits checked in the plan}, so that no run fails half-way
 * with "File name too long".
 */
public final class FileNames {

    /** The longest file name, in bytes ({@code NAME_MAX}). */
    public static final int NAME_MAX = 255;
    /**
     * The longest snapshot name, in bytes: libvirt keeps each snapshot's metadata in a file named {@code NAME.xml},
     * which it writes as {@code NAME.xml.new} first and then renames.
     */
    public static final int SNAPSHOT_NAME_MAX = NAME_MAX - ".xml.new".length();
    /** The longest name a playbook parameter takes ({@code ParamType.NAME}), in characters. */
    public static final int NAME_CHARS = 200;
    /** The longest path, in bytes, without its terminating NUL ({@code PATH_MAX} - 1). */
    public static final int PATH_MAX = 4095;
    /** How a shortened name ends: {@code ~} and the first 8 hex digits of the SHA-256 of the full name. */
    private static final int HASH_CHARS = 8;

    private FileNames() {
    }

    /** The length of {@code text} in UTF-8 bytes, which is how file systems count. */
    public static int bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8).length;
    }

    /**
     * {@code stem + suffix}, unchanged when it is at most {@code max} bytes; else the stem cut at a character
     * boundary and ended with {@code ~} and 8 hex digits of the SHA-256 of the whole stem, so that two long stems
     * that share their start still give two names. The suffix (an extension, a counter) is always kept.
     */
    public static String fit(String stem, String suffix, int max) {
        if (bytes(stem) + bytes(suffix) <= max) {
            return stem + suffix;
        }
        String mark = "~" + sha256(stem).substring(0, HASH_CHARS);
        int room = max - bytes(suffix) - mark.length();
        if (room < 1) {
            throw new IllegalArgumentException("suffix '" + suffix + "' leaves no room in " + max + " bytes");
        }
        StringBuilder kept = new StringBuilder();
        int used = 0;
        for (int i = 0; i < stem.length(); ) {
            int cp = stem.codePointAt(i);
            int n = bytes(new String(Character.toChars(cp)));
            if (used + n > room) {
                break;
            }
            kept.appendCodePoint(cp);
            used += n;
            i += Character.charCount(cp);
        }
        return kept + mark + suffix;
    }

    /**
     * A snapshot name snapbook derives ({@code stem + suffix}) made to fit both libvirt's metadata file
     * ({@link #SNAPSHOT_NAME_MAX} bytes) and a playbook parameter ({@link #NAME_CHARS} characters), so that a later
     * step can name it.
     */
    public static String fitSnapshotName(String stem, String suffix) {
        String name = fit(stem, suffix, SNAPSHOT_NAME_MAX);
        while (name.length() > NAME_CHARS) {
            name = fit(stem, suffix, bytes(name) - 1);
        }
        return name;
    }

    /**
     * Refuses {@code path} when one of its names is longer than {@value #NAME_MAX} bytes or the whole is longer than
     * {@value #PATH_MAX}.
     *
     * @param what what the path is for, for the message ("the overlay of disk vda")
     * @param hint what to do instead
     */
    public static void requireFits(String path, String what, String hint) throws StepFailure {
        if (bytes(path) > PATH_MAX) {
            throw new StepFailure(what + ", " + path + ", is " + bytes(path) + " bytes long; paths are at most "
                    + PATH_MAX + " bytes", hint);
        }
        for (String name : path.split("/")) {
            if (bytes(name) > NAME_MAX) {
                throw new StepFailure(what + " would be named " + name + ", which is " + bytes(name) + " bytes in"
                        + " UTF-8; file names are at most " + NAME_MAX + " bytes", hint);
            }
        }
    }

    private static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
