package dev.snapbook.steps.snapshot;

import dev.snapbook.engine.spi.Outcome;
import dev.snapbook.engine.spi.Param;
import dev.snapbook.engine.spi.ParamType;
import dev.snapbook.engine.spi.Params;
import dev.snapbook.engine.spi.Planned;
import dev.snapbook.engine.spi.Step;
import dev.snapbook.engine.spi.StepContext;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.engine.spi.Verification;
import dev.snapbook.engine.spi.World;
import dev.snapbook.engine.world.FactSources;
import dev.snapbook.steps.domain.DiskFacts;
import dev.snapbook.steps.domain.DomainFacts;
import dev.snapbook.steps.domain.Domains;
import dev.snapbook.steps.image.BackingChain;
import dev.snapbook.steps.image.ImageFacts;
import dev.snapbook.steps.libvirt.ConnectionHost;
import dev.snapbook.steps.state.DiskState;
import dev.snapbook.steps.state.DiskStates;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Step {@code snapshot.layer}: reads, read-only, what deleting one external snapshot S merges, and refuses the
 * layouts where that merge would change data some other snapshot or disk still needs.
 *
 * <p>S's overlay O (the file S created; it holds the writes made after S) is merged down into S's state file X
 * (the file that was active when S was taken; O's backing file) by a block commit — an active commit with a
 * pivot when O is the disk's active image, an inner commit otherwise — and S's metadata is deleted after it;
 * libvirt then records X as the state of S's children, which is right because X then holds O's data. So the
 * step requires, for {@code disk}:
 * <ul>
 *   <li>O is in the disk's current backing chain, directly above X (a block job can only merge the live
 *       chain; after a revert, S's overlay is no longer in it);</li>
 *   <li>every child snapshot of S has O as its state file (a child taken after a revert to S has the revert
 *       overlay as its state, which libvirt would replace by X: that child's state would be lost);</li>
 *   <li>no other snapshot's state and no other disk reads X without going through O: O's clusters hide X's,
 *       so a chain through O reads the same data after the merge, any other chain would not.</li>
 * </ul>
 * Files no libvirt object names (an overlay kept by an earlier revert, for example) cannot be seen and are not
 * protected: check with {@code qemu-img info -U --backing-chain} before deleting a snapshot they build on.
 *
 * <p>Result: {@code {snapshot, disk, overlay, state_file, active, parent, children}}, {@code active} telling
 * whether the overlay is the disk's active image (then the commit is an active one, with a pivot).
 */
public final class SnapshotLayer implements Step {

    @Override
    public String name() {
        return "snapshot.layer";
    }

    @Override
    public String summary() {
        return "Reads what deleting an external snapshot merges (its overlay into its state file); refuses unsafe layouts.";
    }

    @Override
    public List<Param> params() {
        return List.of(Snapshots.DOMAIN, Snapshots.SNAPSHOT,
                Param.optional("disk", ParamType.NAME, null,
                        "the disk whose layer to read (default: the snapshot's only external disk)"));
    }

    @Override
    public String preconditions() {
        return "The domain and the external snapshot must exist and cover only this disk; the snapshot's overlay must"
                + " be in the disk's current chain directly above its state file; every child snapshot must have that"
                + " overlay as its state file; and no other snapshot or disk may read the state file without the"
                + " overlay on top. Files no libvirt object names are not seen.";
    }

    @Override
    public String verifies() {
        return "Nothing beyond the plan's checks: it only reads, and its result is what the plan predicted.";
    }

    @Override
    public String undoes() {
        return "Nothing to undo: it only reads.";
    }

    @Override
    public Planned plan(Params params, World world) throws StepFailure {
        ConnectionHost.requireLocalFiles(world, name());
        Map<String, Object> result = analyse(params, world);
        return Planned.readOnly("read the snapshots of " + params.string("domain") + ", the chain of disk "
                + result.get("disk") + " and every disk using " + result.get("state_file") + "; "
                + result.get("overlay") + " merges into " + result.get("state_file")
                + (Boolean.TRUE.equals(result.get("active")) ? " (active image: active commit and pivot)"
                : " (inner layer)"), result);
    }

    @Override
    public Outcome apply(Params params, Map<String, Object> captured, StepContext context) throws StepFailure {
        Map<String, Object> result = analyse(params, now(context));
        return Outcome.unchanged("snapshot " + params.string("snapshot") + ": " + result.get("overlay")
                + " merges into " + result.get("state_file"), result);
    }

    @Override
    public Verification verify(Params params, Outcome outcome, StepContext context) throws StepFailure {
        Map<String, Object> again = analyse(params, now(context));
        return Verification.check(again.equals(outcome.data()), "the layout changed meanwhile: " + again);
    }

    /** A world observed from the real system now, through the fact sources on the class path. */
    private static World now(StepContext context) {
        return FactSources.load(SnapshotLayer.class.getClassLoader()).newWorld(context);
    }

    static Map<String, Object> analyse(Params params, World world) throws StepFailure {
        String domain = params.string("domain");
        SnapshotTree tree = Snapshots.tree(world, domain);
        SnapshotFacts s = Snapshots.snapshot(tree, params.string("snapshot"));
        String refused = "refusing to delete snapshot " + s.name() + " of " + domain + ": ";
        if (!s.location().equals("external")) {
            throw new StepFailure(refused + "it is " + s.location() + ", not external",
                    "internal snapshots are deleted with snapshot.delete (recipe internal-snapshot-delete)");
        }
        String requested = params.optString("disk");
        String disk = requested;
        if (disk == null) {
            if (s.externalDisks().size() != 1) {
                throw new StepFailure(refused + "it has " + s.externalDisks().size() + " external disks "
                        + s.externalDisks().stream().map(SnapshotDisk::disk).toList()
                        + "; snapbook merges one disk's layer at a time", "name the disk with disk: vda");
            }
            disk = s.externalDisks().get(0).disk();
        }
        if (s.externalDisks().size() != 1) {
            throw new StepFailure(refused + "it made overlays for several disks "
                    + s.externalDisks().stream().map(SnapshotDisk::disk).toList() + "; merging only " + disk
                    + " would leave the snapshot half deleted", "merge each disk with block.commit yourself");
        }
        SnapshotDisk sd = s.disk(disk);
        if (sd == null || !"external".equals(sd.snapshot()) || sd.file() == null) {
            throw new StepFailure(refused + "it made no external overlay for disk " + disk, null);
        }
        String overlay = sd.file();
        String state = s.activeFiles().get(disk);
        if (state == null) {
            throw new StepFailure(refused + "its XML does not record which file disk " + disk
                    + " used when it was taken", "inspect it with: virsh snapshot-dumpxml " + domain + " " + s.name());
        }
        DomainFacts dom = Domains.require(world, domain);
        String target = disk;
        DiskFacts d = dom.disks().stream().filter(x -> x.target().equals(target)).findFirst().orElseThrow(() ->
                new StepFailure(refused + domain + " has no disk " + target + " any more", null));
        List<String> chain = chain(world, d.source());
        int at = indexOf(chain, overlay);
        if (at < 0) {
            throw new StepFailure(refused + "its overlay " + overlay + " is not in the current chain of disk "
                    + disk + " (" + String.join(" → ", chain) + "): the VM was reverted since, or the layer was"
                    + " merged already; a block commit only merges the live chain",
                    "revert to a snapshot on that branch first, or drop only the metadata with snapshot.delete"
                            + " metadata_only: true if nothing needs the snapshot's state");
        }
        if (at + 1 >= chain.size() || !BackingChain.sameFile(chain.get(at + 1), state)) {
            throw new StepFailure(refused + "its overlay " + overlay + " is backed by "
                    + (at + 1 < chain.size() ? chain.get(at + 1) : "nothing") + ", not by its state file " + state,
                    "inspect the chain: qemu-img info -U --backing-chain " + d.source());
        }
        List<String> children = tree.children(s.name());
        // Merging the overlay into the state file changes that file for every state that reads it without the
        // overlay right above it: another branch's snapshot, another domain's disk, a child whose state is not
        // this overlay. The snapshot itself goes; the disk itself keeps the overlay's data.
        List<DiskState> broken = DiskStates.of(world).brokenByCommit(List.of(overlay), state).stream()
                .filter(DiskStates.notDisk(domain, disk)).filter(x -> !x.ofSnapshot(domain, s.name())).toList();
        if (!broken.isEmpty()) {
            throw new StepFailure(refused + "merging " + overlay + " into " + state + " would change what these"
                    + " states show:\n" + DiskStates.describe(broken),
                    "delete or keep them too; snapbook will not change another state's data");
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("snapshot", s.name());
        result.put("disk", disk);
        result.put("overlay", overlay);
        result.put("state_file", state);
        result.put("active", at == 0);
        result.put("parent", s.parent());
        result.put("children", children);
        return result;
    }

    private static List<String> chain(World world, String top) throws StepFailure {
        List<String> files = new ArrayList<>(List.of(top));
        ImageFacts image = world.get(ImageFacts.key(top));
        if (image != null) {
            image.backingChain().forEach(l -> files.add(l.file()));
        }
        return files;
    }

    private static int indexOf(List<String> files, String file) {
        for (int i = 0; i < files.size(); i++) {
            if (BackingChain.sameFile(files.get(i), file)) {
                return i;
            }
        }
        return -1;
    }
}
