package dev.snapbook.steps.snapshot;

import dev.snapbook.engine.spi.Params;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Step {@code snapshot.info}: reads one snapshot's facts. <p>Result: {@code {name, parent, description, state, location, memory, disks: [{disk, snapshot, file, driver}], active_files: {disk: file}}}. Read-only.
 */
public final class SnapshotInfo extends SnapshotReading {

    @Override
    public String name() {
        return "snapshot.info";
    }

    @Override
    public String summary() {
        return "Reads one snapshot: parent, state, location, memory, its disks and the files active when it was taken.";
    }

    @Override
    public String verifies() {
        return "Re-reads the snapshot from libvirt: it must still exist with the same facts.";
    }

    @Override
    Map<String, Object> result(SnapshotFacts s) {
        return Snapshots.toMap(s);
    }
}
