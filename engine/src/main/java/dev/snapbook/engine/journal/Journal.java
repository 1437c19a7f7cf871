package dev.snapbook.engine.journal;

import dev.snapbook.engine.json.Json;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The journal of one run: a JSON-lines file {@code RUN_ID.jsonl} under the state directory. Every entry
 * is written and forced to disk <em>before</em> the action it announces, so a run killed at any point
 * leaves a journal that says what was done and how to undo it.
 *
 * <p>Each line is an object with {@code v} (the {@link #FORMAT_VERSION format version}), {@code ts},
 * {@code run}, {@code event} and the event's fields.
 */
public final class Journal implements AutoCloseable {

    /**
     * The version of the entries' format, written as {@code "v"} in every entry. Journals written before
     * entries carried it have none and read as version 0, which is the same format; a reader refuses a
     * journal of a version newer than it knows.
     */
    public static final int FORMAT_VERSION = 1;

    private static final DateTimeFormatter ID_TIME =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss").withZone(ZoneOffset.UTC);

    private final String runId;
    private final Path file;
    private final FileChannel channel;

    private Journal(String runId, Path file, FileChannel channel) {
        this.runId = runId;
        this.file = file;
        this.channel = channel;
    }

    /**
     * The state directory: {@code $SNAPBOOK_STATE} (or the system property {@code snapbook.state}), else
     * {@code ~/.local/state/snapbook}.
     */
    public static Path defaultDirectory() {
        String env = System.getProperty("snapbook.state", System.getenv("SNAPBOOK_STATE"));
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        return Path.of(System.getProperty("user.home"), ".local", "state", "snapbook");
    }

    /**
     * Creates the journal of a new run in {@code directory}: the file is {@code 0600}, and the directory,
     * when it has to be created, {@code 0700} (see {@link StateFiles}).
     */
    public static Journal create(Path directory) throws IOException {
        StateFiles.directory(directory);
        String runId = ID_TIME.format(Instant.now()) + "-"
                + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xFFFFFF));
        Path file = directory.resolve(runId + ".jsonl");
        try {
            FileChannel channel = StateFiles.createFile(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
            return new Journal(runId, file, channel);
        } catch (IOException e) {
            throw new IOException("cannot create the journal " + file + ": " + StateFiles.reason(e), e);
        }
    }

    /** Opens the journal of an earlier run to append to it (to record that it was recovered). */
    public static Journal reopen(Path file, String runId) throws IOException {
        FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        return new Journal(runId, file, channel);
    }

    public String runId() {
        return runId;
    }

    public Path file() {
        return file;
    }

    /** Appends one entry and forces it to disk before returning. */
    public void write(JournalEvent event, Map<String, ?> fields) {
        write(event, fields, true);
    }

    /**
     * Appends one entry; with {@code force}, forces it (and every entry before it) to disk before returning.
     * An entry written without force becomes durable with the next forced one: use it only for entries a
     * recovery can do without (those of a step that changed nothing), since forcing costs a disk flush
     * (about a millisecond) each time.
     */
    public synchronized void write(JournalEvent event, Map<String, ?> fields, boolean force) {
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("v", FORMAT_VERSION);
        entry.put("ts", Instant.now().toString());
        entry.put("run", runId);
        entry.put("event", event.wire());
        entry.putAll(fields);
        byte[] line = (Json.line(entry) + "\n").getBytes(StandardCharsets.UTF_8);
        try {
            ByteBuffer buffer = ByteBuffer.wrap(line);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            if (force) {
                channel.force(false);
            }
        } catch (IOException e) {
            throw new JournalException("cannot write the journal " + file + ": " + StateFiles.reason(e)
                    + "; stopping, because a run that cannot be journalled cannot be recovered", e);
        }
    }

    @Override
    public synchronized void close() throws IOException {
        channel.close();
    }

    /** The journal could not be written; the run stops. */
    public static final class JournalException extends RuntimeException {
        public JournalException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
