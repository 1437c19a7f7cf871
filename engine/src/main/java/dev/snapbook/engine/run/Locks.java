package dev.snapbook.engine.run;

import dev.snapbook.engine.journal.StateFiles;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeSet;

/**
 * One run per domain: an exclusive lock per name (e.g. {@code domain:web01}) and connection, held for
 * the whole run. Locks are operating-system file locks under {@code STATE/locks}, so the lock of a process
 * that died is released by the kernel: a stale lock file is simply taken over. The file holds who has the
 * lock, for the message of whoever waits for it. The directory and the lock files are created private to
 * the user ({@link StateFiles}).
 */
public final class Locks implements AutoCloseable {

    /** The lock is held by another run and did not come free within the wait. */
    public static final class Busy extends Exception {
        public Busy(String message) {
            super(message);
        }
    }

    private final List<FileChannel> channels = new ArrayList<>();
    private final List<FileLock> held = new ArrayList<>();
    private final java.util.Set<String> heldNames = new java.util.HashSet<>();
    private boolean waited;

    private Locks() {
    }

    /**
     * Takes every lock of {@code names} on {@code connection}, in sorted order (so two runs never deadlock),
     * waiting up to {@code wait} for each.
     *
     * @param holder who takes them, written into each lock file (run id, pid, playbook)
     */
    public static Locks acquire(Path stateDir, String connection, Iterable<String> names, String holder, Duration wait)
            throws IOException, Busy {
        Locks locks = new Locks();
        try {
            locks.acquireMore(stateDir, connection, names, holder, wait);
            return locks;
        } catch (IOException | Busy | RuntimeException e) {
            locks.close();
            throw e;
        }
    }

    /**
     * Takes, in addition to those held, every lock of {@code names} not held yet, in sorted order, waiting up
     * to {@code wait} for each; on failure the locks held before are still held (the caller closes them).
     */
    public void acquireMore(Path stateDir, String connection, Iterable<String> names, String holder, Duration wait)
            throws IOException, Busy {
        Path dir = StateFiles.directory(stateDir.resolve("locks"));
        for (String name : new TreeSet<String>(toList(names))) {
            if (!heldNames.add(connection + "|" + name)) {
                continue;
            }
            Path file = dir.resolve(fileName(connection, name));
            try {
                take(file, connection, name, holder, wait);
            } catch (IOException e) {
                // the JDK's message is strerror alone ("No space left on device"): say which file
                heldNames.remove(connection + "|" + name);
                throw new IOException("cannot write the lock file " + file + " (for " + name + "): "
                        + StateFiles.reason(e), e);
            } catch (Busy e) {
                heldNames.remove(connection + "|" + name);
                throw e;
            }
        }
    }

    private void take(Path file, String connection, String name, String holder, Duration wait)
            throws IOException, Busy {
        FileChannel channel = StateFiles.openOrCreate(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        Instant deadline = Instant.now().plus(wait);
        while (true) {
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null; // held by another run in this same process
            } catch (IOException e) {
                channel.close();
                throw e;
            }
            if (lock != null) {
                try {
                    channel.truncate(0);
                    channel.write(ByteBuffer.wrap((holder + "\n").getBytes(StandardCharsets.UTF_8)), 0);
                    channel.force(false);
                } catch (IOException e) {
                    // a full file system: release the lock and the file, which nothing else would close
                    channel.close();
                    throw e;
                }
                channels.add(channel);
                held.add(lock);
                return;
            }
            waited = true;
            if (!Instant.now().isBefore(deadline)) {
                String owner = Files.readString(file, StandardCharsets.UTF_8).strip();
                channel.close();
                throw new Busy(name + " on " + connection + " is in use by another snapbook run ("
                        + (owner.isEmpty() ? "unknown" : owner) + "); waited " + wait.toSeconds()
                        + "s; wait for it to finish, or raise --lock-timeout");
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                channel.close();
                throw new Busy("interrupted while waiting for " + name);
            }
        }
    }

    /**
     * Whether the lock file of every one of {@code names} exists already (an earlier run made it): taking those
     * locks then creates nothing. Creates nothing.
     */
    public static boolean allExist(Path stateDir, String connection, Iterable<String> names) {
        Path dir = stateDir.resolve("locks");
        for (String name : names) {
            if (!Files.exists(dir.resolve(fileName(connection, name)))) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether no lock file exists yet for any of {@code names}: then no run holds any of them, since a run
     * creates the file before it takes the lock and before it acts, and the files are never removed. Creates
     * nothing.
     */
    public static boolean noneExist(Path stateDir, String connection, Iterable<String> names) {
        Path dir = stateDir.resolve("locks");
        for (String name : names) {
            if (Files.exists(dir.resolve(fileName(connection, name)))) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether a lock was held by another run when this one asked for it: the world may have changed while it
     * waited, so what was planned before must be planned again.
     */
    public boolean waited() {
        return waited;
    }

    /** Releases every lock. */
    @Override
    public void close() throws IOException {
        IOException first = null;
        for (int i = held.size() - 1; i >= 0; i--) {
            try {
                held.get(i).release();
                channels.get(i).close();
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        held.clear();
        channels.clear();
        heldNames.clear();
        if (first != null) {
            throw first;
        }
    }

    private static String fileName(String connection, String name) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest((connection + "|" + name).getBytes(StandardCharsets.UTF_8));
            String readable = name.replaceAll("[^A-Za-z0-9._-]", "_");
            return (readable.length() > 40 ? readable.substring(0, 40) : readable) + "-"
                    + HexFormat.of().formatHex(digest, 0, 8) + ".lock";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<String> toList(Iterable<String> names) {
        List<String> out = new ArrayList<>();
        names.forEach(out::add);
        return out;
    }
}
