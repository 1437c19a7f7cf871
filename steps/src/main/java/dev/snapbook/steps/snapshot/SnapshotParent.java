package dev.snapbook.steps.snapshot;

import dev.snapbook.engine.spi.Params;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Step {@code snapshot.parent}: reads a snapshot's parent. <p>Result: {@code {parent: name|null}}. Read-only.
 */
public final class SnapshotParent extends SnapshotReading {

    @Override
    public String name() {
        return "snapshot.parent";
    }

    @Override
    public String summary() {
        return "Reads the name of a snapshot's parent (null for a root snapshot).";
    }

    @Override
    public String verifies() {
        return "Re-reads the snapshot from libvirt: it must still exist with the same parent.";
    }

    @Override
    Map<String, Object> result(SnapshotFacts s) {
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("parent", s.parent());
        return result;
    }
}
