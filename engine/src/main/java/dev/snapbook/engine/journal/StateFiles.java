package dev.snapbook.engine.journal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Creates the state directory and the files in it (journals, locks) private to the user: directories
 * {@code 0700}, files {@code 0600}. Journals hold what steps captured (a domain's XML, for one), which may
 * be secret. The permissions are given at creation, so the path is never open to others even for a moment,
 * and then set again explicitly, because the creation mode passes through the process's umask.
 *
 * <p>Only what this class creates is changed: a directory that already exists keeps its permissions (the
 * user may have chosen them), while every journal created in it is still {@code 0600}. On a file system
 * without POSIX permissions files are created with its defaults.
 */
public final class StateFiles {

    /** {@code rwx------}. */
    public static final Set<PosixFilePermission> DIRECTORY = PosixFilePermissions.fromString("rwx------");
    /** {@code rw-------}. */
    public static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");

    private StateFiles() {
    }

    /**
     * The reason in {@code e}, for a message that names the file itself: a {@link java.nio.file.FileSystemException}'s
     * reason without the path it repeats, else the exception's message ({@code strerror}'s words, for a write).
     */
    public static String reason(IOException e) {
        if (e instanceof java.nio.file.FileSystemException fse && fse.getReason() != null) {
            return fse.getReason();
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    /** {@code directory}, with every missing directory on its path created {@code 0700}. */
    public static Path directory(Path directory) throws IOException {
        Path dir = directory.toAbsolutePath();
        if (!posix(dir)) {
            return Files.createDirectories(directory);
        }
        Deque<Path> missing = new ArrayDeque<>();
        for (Path p = dir; p != null && !Files.isDirectory(p); p = p.getParent()) {
            missing.push(p);
        }
        for (Path p : missing) {
            try {
                Files.createDirectory(p, PosixFilePermissions.asFileAttribute(DIRECTORY));
                Files.setPosixFilePermissions(p, DIRECTORY);
            } catch (FileAlreadyExistsException e) {
                if (!Files.isDirectory(p)) {
                    throw e;
                }
                // made by another process at the same moment: theirs to set
            } catch (IOException e) {
                throw new IOException("cannot create the state directory " + p + ": " + reason(e), e);
            }
        }
        return directory;
    }

    /** Creates {@code file}, which must not exist, {@code 0600}, and opens it with {@code options}. */
    public static FileChannel createFile(Path file, OpenOption... options) throws IOException {
        Set<OpenOption> open = new LinkedHashSet<>(Set.of(options));
        open.add(StandardOpenOption.CREATE_NEW);
        if (!posix(file)) {
            return FileChannel.open(file, open);
        }
        FileChannel channel = FileChannel.open(file, open, privateFile());
        try {
            Files.setPosixFilePermissions(file, FILE);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        return channel;
    }

    /**
     * Opens {@code file} with {@code options}, creating it {@code 0600} when it does not exist (an existing
     * file keeps its permissions).
     */
    public static FileChannel openOrCreate(Path file, OpenOption... options) throws IOException {
        try {
            return createFile(file, options);
        } catch (FileAlreadyExistsException e) {
            return FileChannel.open(file, options);
        }
    }

    private static FileAttribute<Set<PosixFilePermission>> privateFile() {
        return PosixFilePermissions.asFileAttribute(FILE);
    }

    private static boolean posix(Path path) {
        return path.getFileSystem().supportedFileAttributeViews().contains("posix");
    }
}
