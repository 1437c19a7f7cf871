package dev.snapbook.engine.report;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Follows a run's journal file, read-only: each call returns the complete lines written since the last one.
 * The journal forces every entry to disk before the action it announces, so a reader asking at each event
 * of the run sees the entries in the order they were written, just after they were written.
 */
final class JournalTail {

    private final Path file;
    private long position;
    private final StringBuilder partial = new StringBuilder();

    JournalTail(Path file) {
        this.file = file;
    }

    /** The whole lines appended since the last call; none when the file cannot be read (it is only an echo). */
    List<String> newEntries() {
        List<String> lines = new ArrayList<>();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size <= position) {
                return lines;
            }
            ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(Integer.MAX_VALUE, size - position));
            while (buffer.hasRemaining() && channel.read(buffer, position + buffer.position()) > 0) {
                // read until the buffer is full or the end of file
            }
            position += buffer.position();
            partial.append(new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            return lines;
        }
        int nl;
        while ((nl = partial.indexOf("\n")) >= 0) {
            String line = partial.substring(0, nl);
            partial.delete(0, nl + 1);
            if (!line.isBlank()) {
                lines.add(line);
            }
        }
        return lines;
    }
}
