package dev.snapbook.steps.libvirt;

import dev.snapbook.engine.spi.FactKey;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.engine.spi.World;
import dev.snapbook.steps.xml.SafeXml;
import java.util.List;
import java.util.regex.Pattern;
import org.w3c.dom.Element;

/**
 * The libvirt and QEMU a run talks to (fact kind {@code libvirt-release}, id {@code host}), and the one place
 * where snapbook's behaviour depends on their versions. Steps ask it; none compares versions itself.
 *
 * <p>What differs between the versions snapbook is tested on (Debian 12: libvirt 9.0, QEMU 7.2; Debian 13:
 * libvirt 11.3, QEMU 10.0):
 * <ul>
 *   <li>{@link #revertsExternal()}: libvirt that lists {@code <externalSnapshot/>} among a guest's features in its
 *       host capabilities reverts external snapshots itself. It deletes the overlays the disks write to, so the
 *       state just before the revert is lost, and makes new overlays named after the time. Snapbook keeps its
 *       own procedure on every version: that state is kept as a snapshot of its own, and the plan says so
 *       ({@link #externalRevertPath()}).</li>
 *   <li>{@link #deletesExternal()}: libvirt 9.0 and later delete external snapshots themselves (a block commit,
 *       then the metadata). Snapbook's recipes merge with block.commit or block.pull and then delete the
 *       metadata only, which means the same on every version and is verified the same way.</li>
 *   <li>{@link #metadataDeleteMovesDomainToChildren()}: what a metadata-only deletion of an external snapshot does
 *       to its children's records. Libvirt 9.0 gives each child the deleted snapshot's disks in its {@code <domain>},
 *       as if the deleted overlay had been committed down, which is what snapbook's delete recipe does; libvirt
 *       11.3 leaves the children's records as they were, pointing at the overlay the recipe then deletes. Both were
 *       observed. The result does not depend on it: snapbook's snapshot.delete reads each child's record back after
 *       the deletion and redefines the children libvirt left alone. This only says, in the plan, which of the two
 *       libvirt does (taken as 11.3's once libvirt reverts external snapshots itself, 9.0's before).</li>
 *   <li>{@link #requireInternalSnapshotName}: libvirt 11.3 saves, loads and deletes the internal snapshots of a
 *       running domain with QEMU jobs ({@code snapshot-save}, {@code snapshot-load}, {@code snapshot-delete}) whose
 *       ids are {@code internal-snapshot-save-NAME} and so on, and QEMU refuses an id with a space or a non-ASCII
 *       letter ("Invalid job ID"); libvirt 9.0 uses the monitor's {@code savevm}, which takes any name. Observed
 *       on both. A libvirt that reverts external snapshots itself is taken to use the jobs (a name refused there
 *       that would have worked costs a rename; the other way round, a failed step).</li>
 * </ul>
 *
 * @param libvirt    libvirtd's version, {@code major * 1,000,000 + minor * 1,000 + release}
 * @param qemu       the hypervisor's version as libvirtd reports it, in the same encoding
 * @param externalSnapshot whether the host capabilities list {@code <externalSnapshot/>} for a guest
 */
public record LibvirtRelease(long libvirt, long qemu, boolean externalSnapshot) {

    public static final String KIND = "libvirt-release";

    public static FactKey<LibvirtRelease> key() {
        return new FactKey<>(KIND, "host", LibvirtRelease.class);
    }

    /** The release of the world's connection; a world that cannot say (no libvirt to ask) is refused. */
    public static LibvirtRelease require(World world) throws StepFailure {
        LibvirtRelease release = world.get(key());
        if (release == null) {
            throw new StepFailure("the version of libvirt is unknown: libvirtd did not say",
                    "check the connection: virsh version", null);
        }
        return release;
    }

    /** The release {@code libvirt} is connected to (three read-only calls). */
    public static LibvirtRelease of(Libvirt libvirt) throws StepFailure {
        try {
            return of(libvirt.host());
        } catch (SafeXml.Refused e) {
            throw new StepFailure(e.getMessage(),
                    "inspect it with: virsh -c " + libvirt.uri() + " capabilities", e);
        }
    }

    /** The release a {@link Libvirt.Host} describes. */
    public static LibvirtRelease of(Libvirt.Host host) throws SafeXml.Refused {
        return new LibvirtRelease(host.libvirtVersion(), host.hypervisorVersion(),
                listsExternalSnapshot(host.capabilities()));
    }

    /** Whether any {@code <guest>} of the capabilities XML has {@code <features><externalSnapshot/>}. */
    static boolean listsExternalSnapshot(String capabilities) throws SafeXml.Refused {
        Element root = SafeXml.parse(capabilities, "libvirt's host capabilities").getDocumentElement();
        for (Element guest : SafeXml.children(root, "guest")) {
            Element features = SafeXml.child(guest, "features");
            if (features != null && SafeXml.child(features, "externalSnapshot") != null) {
                return true;
            }
        }
        return false;
    }

    /** Libvirt can revert to an external snapshot itself (discarding the state before the revert). */
    public boolean revertsExternal() {
        return externalSnapshot;
    }

    /** Libvirt can delete an external snapshot itself, merging its overlay (since 9.0). */
    public boolean deletesExternal() {
        return libvirt >= 9_000_000;
    }

    /**
     * Whether deleting an external snapshot's metadata only gives its children the deleted snapshot's disks in
     * their {@code <domain>} (libvirt 9.0), rather than leaving their records alone (libvirt 11.3); see the class
     * comment.
     */
    public boolean metadataDeleteMovesDomainToChildren() {
        return !externalSnapshot;
    }

    private static final Pattern JOB_ID_CHARS = Pattern.compile("[A-Za-z0-9._-]+");

    /** Whether the internal snapshots of a running domain are saved, loaded and deleted by QEMU jobs named after them. */
    public boolean internalSnapshotJobs() {
        return externalSnapshot;
    }

    /**
     * Refuses {@code name} for an internal snapshot {@code operation} ({@code save}, {@code load} or {@code delete})
     * on running domain {@code domain} when QEMU would refuse the job id made of it; see the class comment.
     */
    public void requireInternalSnapshotName(String name, String domain, String operation)
            throws StepFailure {
        if (!internalSnapshotJobs() || JOB_ID_CHARS.matcher(name).matches()) {
            return;
        }
        throw new StepFailure("the internal snapshot '" + name + "' of running domain " + domain
                + " cannot be " + switch (operation) {
                    case "save" -> "taken";
                    case "load" -> "reverted to";
                    default -> "deleted";
                } + " on libvirt " + version(libvirt) + ": libvirt runs it as the QEMU job internal-snapshot-" + operation
                + "-" + name + ", and QEMU takes only ASCII letters, digits, '-', '.' and '_' in a job's name",
                "shut the domain down first (a shut-off domain's internal snapshots are handled by qemu-img, with any"
                        + " name)" + (operation.equals("save") ? ", or choose such a name" : ""), null);
    }

    /** What an external revert's plan says about the path it takes, and why. */
    public String externalRevertPath() {
        if (revertsExternal()) {
            return "libvirt " + version(libvirt) + " could revert this external snapshot itself, but it would delete"
                    + " the overlays the disks write to now and lose the state before the revert; snapbook reverts"
                    + " with its own procedure instead, which keeps that state";
        }
        return "libvirt " + version(libvirt) + " does not revert external snapshots itself; snapbook reverts with its"
                + " own procedure";
    }

    /** The lines {@code snapbook --version} prints about this release. */
    public List<String> describe(String uri) {
        return List.of(
                "libvirt " + version(libvirt) + " (libvirtd at " + uri + ")",
                "QEMU " + version(qemu) + " (as libvirtd reports it)",
                "external snapshots: " + (revertsExternal()
                        ? "libvirt reverts and deletes them itself; snapbook reverts with its own procedure, which"
                                + " keeps the state before the revert"
                        : deletesExternal() ? "libvirt deletes them itself but does not revert them; snapbook reverts"
                                + " with its own procedure"
                        : "libvirt neither reverts nor deletes them; snapbook does both with its own procedures"));
    }

    /** {@code 11003000} as {@code 11.3.0}. */
    public static String version(long encoded) {
        return encoded / 1_000_000 + "." + encoded / 1_000 % 1_000 + "." + encoded % 1_000;
    }
}
