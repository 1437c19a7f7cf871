package dev.snapbook.steps.snapshot;

/**
 * One {@code <disk>} of a {@code <domainsnapshot>}: what the snapshot did to that disk.
 *
 * @param disk     the disk's target ({@code vda}), as libvirt names it in the snapshot
 * @param snapshot {@code internal}, {@code external} or {@code no}
 * @param file     for {@code external}: the overlay the snapshot created (it holds the writes made after the
 *                 snapshot, not the state at it); null otherwise
 * @param driver   for {@code external}: the overlay's format ({@code qcow2}); null otherwise or when unset
 */
public record SnapshotDisk(String disk, String snapshot, String file, String driver) {
}
