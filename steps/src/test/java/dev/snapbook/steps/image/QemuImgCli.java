package dev.snapbook.steps.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The real {@code qemu-img}, run from tests to make images and as the oracle; plus header surgery. */
final class QemuImgCli {

    private static final ObjectMapper JSON = new ObjectMapper();

    private QemuImgCli() {
    }

    /** Runs {@code qemu-img ARGS} and returns its standard output; fails the test when it exits non-zero. */
    static String run(String... args) {
        List<String> argv = new ArrayList<>(List.of("qemu-img"));
        argv.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new AssertionError(String.join(" ", argv) + " failed: "
                        + new String(out, StandardCharsets.UTF_8));
            }
            return new String(out, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new AssertionError(String.join(" ", argv) + " could not run", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** {@code qemu-img info -U --output=json FILE} of one image (no backing chain). */
    static JsonNode info(Path file) {
        try {
            return JSON.readTree(run("info", "-U", "--output=json", file.toString()));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * Makes a qcow2 image forget the format of its backing file, as images made before qemu 6.1 without
     * {@code -F} do: the backing-format header extension gets a type no reader knows, which qemu ignores.
     */
    static void forgetBackingFormat(Path file) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            byte[] head = new byte[4096];
            f.readFully(head, 0, (int) Math.min(head.length, f.length()));
            ByteBuffer h = ByteBuffer.wrap(head);
            long offset = h.getInt(4) == 2 ? 72 : Integer.toUnsignedLong(h.getInt(100));
            while (offset + 8 <= head.length) {
                int type = h.getInt((int) offset);
                int length = h.getInt((int) offset + 4);
                if (type == 0) {
                    throw new AssertionError(file + " records no backing format");
                }
                if (type == 0xe2792aca) {
                    f.seek(offset);
                    f.writeInt(0x51ab0001);
                    return;
                }
                offset += 8 + ((length + 7) & ~7);
            }
            throw new AssertionError(file + ": backing format extension not found");
        }
    }

    /** Overwrites the bytes at {@code offset} of {@code file}. */
    static void patch(Path file, long offset, byte... bytes) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(offset);
            f.write(bytes);
        }
    }

    static byte[] be64(long value) {
        return ByteBuffer.allocate(8).putLong(value).array();
    }
}
