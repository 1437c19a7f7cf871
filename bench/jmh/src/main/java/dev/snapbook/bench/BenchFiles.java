package dev.snapbook.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** The benchmarks' scratch directories: under {@code -Dbench.state} (a real disk, not a tmpfs), removed after. */
final class BenchFiles {

    private BenchFiles() {
    }

    /** A new, empty, absolute directory named {@code prefix...}. */
    static Path newDirectory(String prefix) throws IOException {
        return Files.createTempDirectory(Path.of(System.getProperty("bench.state", "target")).toAbsolutePath(), prefix);
    }

    /** Removes {@code dir} and everything under it. */
    static void delete(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
