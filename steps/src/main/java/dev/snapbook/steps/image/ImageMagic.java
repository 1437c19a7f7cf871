package dev.snapbook.steps.image;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Tells an image's format from its first bytes, as QEMU's format probes do: the magic numbers of the
 * formats QEMU knows, and {@code raw} for anything else (a raw image is just bytes). Never trusts a file
 * name or a declared format; that is the point — a file declared raw that is really qcow2 would let a
 * guest read the host's files through a crafted backing file name.
 */
public final class ImageMagic {

    private static final int HEADER = 0x48;

    private ImageMagic() {
    }

    /** The format of the file at {@code path}, detected from its contents. */
    public static String detect(Path path) throws IOException {
        byte[] head = new byte[HEADER];
        int n;
        try (InputStream in = Files.newInputStream(path)) {
            n = in.readNBytes(head, 0, HEADER);
        }
        return detect(Arrays.copyOf(head, n));
    }

    /** The format a file starting with {@code head} has. */
    static String detect(byte[] head) {
        if (startsWith(head, new byte[] {'Q', 'F', 'I', (byte) 0xfb})) {
            // qcow (version 1) and qcow2 (versions 2 and 3) share the magic; the version follows it.
            int version = head.length >= 8 ? ((head[4] & 0xff) << 24) | ((head[5] & 0xff) << 16)
                    | ((head[6] & 0xff) << 8) | (head[7] & 0xff) : -1;
            return version == 1 ? "qcow" : "qcow2";
        }
        if (startsWith(head, new byte[] {'Q', 'F', 'I', 0})) {
            return "qed";
        }
        if (startsWith(head, "KDMV") || startsWith(head, "# Disk DescriptorFile")) {
            return "vmdk";
        }
        if (startsWith(head, "vhdxfile")) {
            return "vhdx";
        }
        if (startsWith(head, "conectix")) {
            return "vpc";
        }
        if (startsWith(head, new byte[] {'L', 'U', 'K', 'S', (byte) 0xba, (byte) 0xbe})) {
            return "luks";
        }
        if (startsWith(head, "WithoutFreeSpace") || startsWith(head, "WithouFreSpacExt")) {
            return "parallels";
        }
        // VDI: signature 0xbeda107f (little-endian) at offset 0x40
        if (head.length >= 0x44 && (head[0x40] & 0xff) == 0x7f && (head[0x41] & 0xff) == 0x10
                && (head[0x42] & 0xff) == 0xda && (head[0x43] & 0xff) == 0xbe) {
            return "vdi";
        }
        return "raw";
    }

    private static boolean startsWith(byte[] head, String magic) {
        return startsWith(head, magic.getBytes(StandardCharsets.US_ASCII));
    }

    private static boolean startsWith(byte[] head, byte[] magic) {
        return head.length >= magic.length && Arrays.equals(head, 0, magic.length, magic, 0, magic.length);
    }
}
