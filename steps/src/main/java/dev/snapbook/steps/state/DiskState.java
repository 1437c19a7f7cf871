package dev.snapbook.steps.state;

import dev.snapbook.steps.image.BackingChain;
import java.util.List;
import java.util.stream.Collectors;

/**
 * One state of a disk that someone can still see or go back to, and the files its guest-visible content is read
 * from: the chain from its top layer down to the base.
 *
 * @param kind    what holds the state
 * @param domain  the domain it belongs to
 * @param name    the snapshot's name for {@link Kind#SNAPSHOT} and {@link Kind#OVERLAY}; the internal snapshot's
 *                name for {@link Kind#INTERNAL}; null for a domain's own disk
 * @param disk    the disk's target ({@code vda}); null for {@link Kind#INTERNAL}, which is found in a file
 * @param running for {@link Kind#DISK}: whether a QEMU process has the chain open now
 * @param chain   the layers the content is read from, top first
 */
public record DiskState(Kind kind, String domain, String name, String disk, boolean running, List<Layer> chain) {

    /** What holds a state. */
    public enum Kind {
        /** A domain's disk as it runs now (or, shut off, as it will start): the live definition. */
        DISK,
        /** A running domain's persistent definition of the disk, where it differs from the live one. */
        DEFINITION,
        /** A libvirt snapshot's state of one disk: its state file (external) or its image (internal). */
        SNAPSHOT,
        /**
         * The overlay a libvirt external snapshot created, with its chain. Its own content is a later state
         * (held by the disk or by a child snapshot); it is listed so that no file a snapshot names is deleted.
         */
        OVERLAY,
        /** An internal snapshot found in a qcow2 file's snapshot table that no libvirt snapshot names. */
        INTERNAL,
        /**
         * The memory file of a libvirt external full snapshot ({@code --memspec}): one of the snapshot's files,
         * its chain that one file. It holds no disk's content; it is listed so that it is deleted only with its
         * snapshot, and so that a flatten never drops a snapshot whose memory it would orphan.
         */
        MEMORY
    }

    /**
     * One layer: a file, read in its active view ({@code internalSnapshot} null) or as the internal snapshot
     * of that name inside it (only ever the top layer).
     */
    public record Layer(String file, String internalSnapshot) {

        public boolean active() {
            return internalSnapshot == null;
        }

        @Override
        public String toString() {
            return internalSnapshot == null ? file : file + " (internal snapshot " + internalSnapshot + ")";
        }
    }

    public DiskState {
        chain = List.copyOf(chain);
    }

    /** The position of {@code file} in the chain (the same file, links resolved), or -1. */
    public int indexOf(String file) {
        for (int i = 0; i < chain.size(); i++) {
            if (BackingChain.sameFile(chain.get(i).file(), file)) {
                return i;
            }
        }
        return -1;
    }

    public boolean contains(String file) {
        return indexOf(file) >= 0;
    }

    /** Whether this is disk {@code target} of domain {@code name} itself (live or persistent definition). */
    public boolean isDisk(String domainName, String target) {
        return (kind == Kind.DISK || kind == Kind.DEFINITION) && domain.equals(domainName) && target.equals(disk);
    }

    /** Whether this state is one of the snapshot {@code snapshot} of {@code domainName} (any disk, overlay too). */
    public boolean ofSnapshot(String domainName, String snapshot) {
        return (kind == Kind.SNAPSHOT || kind == Kind.OVERLAY || kind == Kind.MEMORY) && domain.equals(domainName)
                && snapshot.equals(name);
    }

    /** Whether a QEMU process has this chain open: a running domain's live disk. */
    public boolean openByRunningDomain() {
        return kind == Kind.DISK && running;
    }

    /** The chain for humans: {@code top.qcow2 → base.img}. */
    public String showChain() {
        return chain.stream().map(Layer::toString).collect(Collectors.joining(" → "));
    }

    @Override
    public String toString() {
        return switch (kind) {
            case DISK -> "disk " + disk + " of domain " + domain + (running ? " (running)" : "") + " (" + showChain() + ")";
            case DEFINITION -> "the persistent definition of disk " + disk + " of domain " + domain + " ("
                    + showChain() + ")";
            case SNAPSHOT -> "snapshot " + name + " of domain " + domain + " (its state of " + disk + ": "
                    + showChain() + ")";
            case OVERLAY -> "the overlay of snapshot " + name + " of domain " + domain + " for " + disk + " ("
                    + showChain() + ")";
            case INTERNAL -> "internal snapshot " + name + " inside " + chain.get(0).file()
                    + " (no libvirt snapshot names it)";
            case MEMORY -> "the memory state of snapshot " + name + " of domain " + domain + " ("
                    + chain.get(0).file() + ")";
        };
    }
}
