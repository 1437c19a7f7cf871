package dev.snapbook.steps.snapshot;

import java.util.List;
import java.util.Map;

/**
 * One libvirt snapshot of a domain, from its {@code <domainsnapshot>} XML. Holds no timestamps, so that a
 * prediction can equal a later observation.
 *
 * @param parent      the parent snapshot's name, or null for a root
 * @param description the {@code <description>}, or null
 * @param state       the domain's state when it was taken: {@code running}, {@code shutoff}, {@code paused},
 *                    {@code disk-snapshot} (a disk-only snapshot of a running domain), ...
 * @param location    {@code internal}, {@code external} or {@code mixed}, from its disks (and memory);
 *                    {@code none} when it holds no data at all (every disk {@code snapshot='no'})
 * @param memory      whether it holds the guest's memory (a full system snapshot)
 * @param disks       its disks in XML order
 * @param activeFiles the file each disk used when the snapshot was taken (from the {@code <domain>} embedded
 *                    in the snapshot XML), by target: for an external snapshot, the files that hold the
 *                    disk state at the snapshot; empty when the XML embeds no domain
 * @param memoryFile  the file holding the guest's memory of an external full snapshot ({@code <memory
 *                    snapshot='external' file='...'>}), or null when the memory is internal or not kept
 */
public record SnapshotFacts(String name, String parent, String description, String state, String location,
                            boolean memory, List<SnapshotDisk> disks, Map<String, String> activeFiles,
                            String memoryFile) {

    /** A snapshot without an external memory file. */
    public SnapshotFacts(String name, String parent, String description, String state, String location,
                         boolean memory, List<SnapshotDisk> disks, Map<String, String> activeFiles) {
        this(name, parent, description, state, location, memory, disks, activeFiles, null);
    }

    public SnapshotFacts {
        disks = List.copyOf(disks);
        activeFiles = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(activeFiles));
    }

    /** The disk named {@code target}, or null. */
    public SnapshotDisk disk(String target) {
        return disks.stream().filter(d -> d.disk().equals(target)).findFirst().orElse(null);
    }

    /** The disks this snapshot made an external overlay for. */
    public List<SnapshotDisk> externalDisks() {
        return disks.stream().filter(d -> "external".equals(d.snapshot())).toList();
    }

    /** The same snapshot under another parent. */
    public SnapshotFacts withParent(String newParent) {
        return new SnapshotFacts(name, newParent, description, state, location, memory, disks, activeFiles,
                memoryFile);
    }
}
