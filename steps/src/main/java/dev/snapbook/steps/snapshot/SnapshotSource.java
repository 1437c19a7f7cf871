package dev.snapbook.steps.snapshot;

import dev.snapbook.engine.spi.Params;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Step {@code snapshot.source}: reads which files belong to a snapshot. <p>Result: {@code {overlays: {disk: file}, state_files: {disk: file}}}: {@code overlays} are the files an external snapshot created (they hold the writes made <em>after</em> it); {@code state_files} are the files that were active when it was taken, which hold the disk state <em>at</em> it (for an internal snapshot, the image that contains it). Read-only.
 */
public final class SnapshotSource extends SnapshotReading {

    @Override
    public String name() {
        return "snapshot.source";
    }

    @Override
    public String summary() {
        return "Reads the overlays a snapshot created and the files that hold the disk state at it.";
    }

    @Override
    public String verifies() {
        return "Re-reads the snapshot from libvirt: it must still exist with the same overlays and state files.";
    }

    @Override
    Map<String, Object> result(SnapshotFacts s) {
        Map<String, Object> overlays = new LinkedHashMap<>();
        for (SnapshotDisk d : s.externalDisks()) {
            overlays.put(d.disk(), d.file());
        }
        Map<String, Object> state = new LinkedHashMap<>();
        for (SnapshotDisk d : s.disks()) {
            if (!d.snapshot().equals("no") && s.activeFiles().containsKey(d.disk())) {
                state.put(d.disk(), s.activeFiles().get(d.disk()));
            }
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("overlays", overlays);
        result.put("state_files", state);
        return result;
    }
}
