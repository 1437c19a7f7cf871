package dev.snapbook.steps.snapshot;

import dev.snapbook.engine.spi.FactSource;
import dev.snapbook.engine.spi.StepContext;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.steps.libvirt.Libvirt;
import dev.snapbook.steps.xml.SafeXml;
import java.util.ArrayList;
import java.util.List;

/** Observes {@link SnapshotTree}s through libvirt: the snapshot names, each one's XML, and the current one. */
public final class SnapshotFactSource implements FactSource {

    @Override
    public String kind() {
        return SnapshotTree.KIND;
    }

    @Override
    public Class<?> type() {
        return SnapshotTree.class;
    }

    @Override
    public SnapshotTree observe(String domain, StepContext context) throws StepFailure {
        return observe(domain, Libvirt.session(context));
    }

    /** How often the tree is read again when a snapshot goes away while it is read. */
    private static final int READS = 3;

    /**
     * The snapshot tree of {@code domain}, or null when no domain has that name. The tree is several calls; a
     * domain undefined meanwhile has none (null), and a snapshot deleted meanwhile makes the tree be read again,
     * so that what is returned is one tree libvirt had.
     */
    public static SnapshotTree observe(String domain, Libvirt libvirt) throws StepFailure {
        for (int attempt = 1; ; attempt++) {
            try {
                return readTree(domain, libvirt);
            } catch (StepFailure e) {
                if (Libvirt.isNoDomain(e)) {
                    return null;
                }
                if (!Libvirt.isNoSnapshot(e) || attempt == READS) {
                    throw e;
                }
            }
        }
    }

    private static SnapshotTree readTree(String domain, Libvirt libvirt) throws StepFailure {
        List<String> names = libvirt.snapshotNames(domain);
        if (names.isEmpty()) {
            return new SnapshotTree(domain, null, List.of()); // no snapshot, so no current one: one call less
        }
        List<SnapshotFacts> all = new ArrayList<>();
        for (String name : names) {
            all.add(read(libvirt, domain, name));
        }
        return new SnapshotTree(domain, libvirt.snapshotCurrent(domain), all);
    }

    /** The facts of one snapshot, read from libvirt now. */
    static SnapshotFacts read(Libvirt libvirt, String domain, String snapshot) throws StepFailure {
        try {
            return SnapshotReader.read(libvirt.snapshotXmlDesc(domain, snapshot),
                    "the XML of snapshot " + snapshot + " of " + domain);
        } catch (SafeXml.Refused e) {
            throw new StepFailure(e.getMessage(), "inspect it with: virsh -c " + libvirt.uri()
                    + " snapshot-dumpxml " + domain + " " + snapshot, e);
        }
    }
}
