package dev.snapbook.steps.snapshot;

import dev.snapbook.engine.spi.StepContext;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.steps.state.DiskState;
import dev.snapbook.steps.state.DiskStates;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The files whose content holds the states of some snapshots, and a fingerprint of each (size and modification
 * time): recorded before the snapshots' metadata is dropped, compared before it is brought back, so that a
 * snapshot whose state a half-done merge wrote into is never restored as if it were exact.
 */
final class StateFiles {

    private StateFiles() {
    }

    /** The files of the states of {@code snapshots} of the tree's domain, by snapshot, read from the real system. */
    static Map<String, Set<String>> of(SnapshotTree tree, List<String> snapshots, StepContext context)
            throws StepFailure {
        Map<String, Set<String>> files = new LinkedHashMap<>();
        for (DiskState s : DiskStates.now(context).all()) {
            if (s.kind() == DiskState.Kind.SNAPSHOT && s.domain().equals(tree.domain()) && snapshots.contains(s.name())) {
                Set<String> set = files.computeIfAbsent(s.name(), k -> new LinkedHashSet<>());
                s.chain().forEach(l -> set.add(l.file()));
            }
        }
        return files;
    }

    /** {snapshot: {file: "size:mtime-nanos"}}, JSON-friendly for the journal; a missing file has no entry. */
    static Map<String, Object> fingerprints(Map<String, Set<String>> files) {
        Map<String, Object> out = new LinkedHashMap<>();
        files.forEach((snapshot, set) -> {
            Map<String, Object> prints = new LinkedHashMap<>();
            for (String file : set) {
                String print = fingerprint(file);
                if (print != null) {
                    prints.put(file, print);
                }
            }
            out.put(snapshot, prints);
        });
        return out;
    }

    /** For each snapshot recorded in {@code fingerprints}: its files whose fingerprint is not the same now. */
    @SuppressWarnings("unchecked")
    static Map<String, List<String>> changed(Map<String, Object> fingerprints) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        fingerprints.forEach((snapshot, prints) -> {
            List<String> files = new ArrayList<>();
            ((Map<String, Object>) prints).forEach((file, print) -> {
                if (!print.equals(fingerprint(file))) {
                    files.add(file);
                }
            });
            out.put(snapshot, files);
        });
        return out;
    }

    private static String fingerprint(String file) {
        try {
            BasicFileAttributes a = Files.readAttributes(Path.of(file), BasicFileAttributes.class);
            return a.size() + ":" + a.lastModifiedTime().toInstant().getEpochSecond() + "."
                    + a.lastModifiedTime().toInstant().getNano();
        } catch (IOException e) {
            return null;
        }
    }
}
