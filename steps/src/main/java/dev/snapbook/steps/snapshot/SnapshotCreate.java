package dev.snapbook.steps.snapshot;

import dev.snapbook.engine.spi.Param;
import dev.snapbook.engine.spi.ParamType;
import dev.snapbook.engine.spi.Params;
import dev.snapbook.engine.spi.StepFailure;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Step {@code snapshot.create}: takes a snapshot ({@code virDomainSnapshotCreateXML}), like
 * {@code virsh snapshot-create-as}.
 *
 * <p>Without {@code disk_only} the snapshot is internal (inside the qcow2 images; with the guest's memory if
 * it runs): the plan fails on any disk that is not qcow2, naming it and pointing at {@code image.convert}.
 * With {@code disk_only: true} every disk gets an external qcow2 overlay, by default next to its image
 * ({@code /images/vda.qcow2} → {@code /images/vda.NAME}, as libvirt names it) or at the diskspec's
 * {@code file}; the plan fails if an overlay file already exists. Disks other than {@code device='disk'}
 * (cdroms) are left out. A diskspec entry {@code disk: all} applies to every disk no other entry names;
 * {@code only_listed: true} leaves the disks the diskspec does not name out; an empty {@code description}
 * or diskspec {@code file} counts as not given.
 *
 * <p>Result: {@code {name, overlays: {disk: overlay}, backing: {disk: previous file}}}. Undo deletes an
 * internal snapshot; for an external one (domain shut off) it points the disks back at the previous files,
 * deletes the snapshot's metadata and the overlays it created (only if nothing uses them).
 */
public final class SnapshotCreate extends SnapshotCreating {

    private static final Set<String> DISKSPEC_KEYS = Set.of("disk", "snapshot", "driver", "file");

    @Override
    public String name() {
        return "snapshot.create";
    }

    @Override
    public String summary() {
        return "Takes an internal snapshot, or with disk_only an external one (a new qcow2 overlay per disk).";
    }

    @Override
    public List<Param> params() {
        return List.of(Snapshots.DOMAIN,
                Param.required("name", ParamType.NAME, "the new snapshot's name"),
                Param.optional("description", ParamType.STRING, null, "the snapshot's description"),
                Param.optional("disk_only", ParamType.BOOLEAN, false,
                        "take an external disk-only snapshot (new qcow2 overlays, no memory); false: internal"),
                Param.optional("atomic", ParamType.BOOLEAN, true,
                        "all disks or none (VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC)"),
                Param.optional("quiesce", ParamType.BOOLEAN, false,
                        "freeze the guest's filesystems through the QEMU guest agent (needs disk_only and a"
                                + " guest agent channel)"),
                Param.optional("diskspec", ParamType.LIST, List.of(),
                        "per disk: [{disk: vda, snapshot: external|internal|no, driver: qcow2,"
                                + " file: /path/overlay}]; disks not listed get the default; disk: all stands for"
                                + " every disk not listed; file: \"\" means the default overlay path"),
                Param.optional("only_listed", ParamType.BOOLEAN, false,
                        "true: disks the diskspec does not name get no snapshot (snapshot: no)"),
                Param.optional("reuse_external", ParamType.BOOLEAN, false,
                        "take overlay files made beforehand (virsh --reuse-external): each external disk's file"
                                + " must exist, be an empty qcow2 image backed by the disk's current active image,"
                                + " record that image's format and have its virtual size; undo never deletes it"));
    }

    @Override
    public String preconditions() {
        return "The domain must exist at this point of the plan without a snapshot of that name, which must not"
                + " contain '/' or start with '.'; each diskspec entry must name one of its disks once. An internal"
                + " snapshot needs qcow2 images; with disk_only each snapshotted disk must be a file disk whose image"
                + " exists and whose overlay file does not, and quiesce needs disk_only, a running domain and a guest"
                + " agent channel that an agent has open. At least one disk must be included; all this is checked"
                + " again against libvirt just"
                + " before the snapshot is taken.";
    }

    @Override
    SnapshotCreation.Request request(Params params) throws StepFailure {
        List<SnapshotCreation.DiskSpec> specs = new ArrayList<>();
        for (Object o : params.list("diskspec")) {
            if (!(o instanceof Map<?, ?> m)) {
                throw new StepFailure("snapshot.create: each diskspec entry must be a map like {disk: vda,"
                        + " snapshot: external}, got " + ParamType.describe(o), null);
            }
            for (Object key : m.keySet()) {
                if (!DISKSPEC_KEYS.contains(String.valueOf(key))) {
                    throw new StepFailure("snapshot.create: diskspec entry " + m + " has an unknown key '" + key
                            + "'", "use only disk, snapshot, driver and file");
                }
            }
            specs.add(new SnapshotCreation.DiskSpec(str(m.get("disk")), str(m.get("snapshot")),
                    str(m.get("driver")), blankToNull(str(m.get("file")))));
        }
        return new SnapshotCreation.Request(params.string("domain"), params.string("name"),
                blankToNull(params.optString("description")), params.bool("disk_only"), params.bool("atomic"),
                params.bool("quiesce"), specs, params.bool("only_listed"), params.bool("reuse_external"));
    }

    /**
     * An empty description or overlay file means "none given": recipes pass their optional parameters
     * through as {@code ""} (a playbook cannot leave a parameter out conditionally), and libvirt would
     * otherwise record an empty description.
     */
    private static String blankToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    private static String str(Object o) {
        return o == null ? null : String.valueOf(o);
    }
}
