package dev.snapbook.steps.chain;

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
import dev.snapbook.steps.image.BackingChain;
import dev.snapbook.steps.libvirt.ConnectionHost;
import dev.snapbook.steps.state.DiskStates;
import dev.snapbook.steps.state.Flatten;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Step {@code chain.layers}: reads which layers of a disk's chain are the disk's own, that is, how far a flatten
 * by {@code merge: commit} (into the lowest layer only this disk needs) or {@code merge: pull} (of the layers
 * above the first shared one) may go, and which external snapshots it drops because their state is merged away
 * (see {@link Flatten}). Read-only; the flatten recipes pass its {@code base} to the merge and its {@code drops}
 * to {@code snapshot.delete}. A golden image shared by linked clones, a layer another branch's snapshot (the
 * state kept by a revert) reads, and a layer holding another disk's snapshot state are never the disk's own.
 *
 * <p>Result: {@code {disk, merge, chain, base, merged, drops, after, depth_after, virtual_size, format_after, stop}}:
 * {@code base} the commit's target or the pull's new backing file (null when a pull takes everything),
 * {@code merged} the files leaving the chain, {@code after} the chain afterwards and its length {@code depth_after},
 * {@code virtual_size} the size the guest sees,
 * {@code format_after} the recorded format of the image the disk then runs on (so that a recipe runs qemu-img check
 * only on what has metadata), {@code stop} why it stops above the next layer down (null when it reaches the
 * bottom).
 */
public final class ChainLayers implements Step {

    @Override
    public String name() {
        return "chain.layers";
    }

    @Override
    public String summary() {
        return "Reads how far a flatten of a disk may merge without touching a layer another state reads.";
    }

    @Override
    public List<Param> params() {
        return List.of(Param.required("domain", ParamType.NAME, "the domain"),
                Param.optional("disk", ParamType.NAME, "vda", "the disk's target device"),
                Param.optional("merge", ParamType.NAME, "commit", "commit (into a lower layer) or pull (into the"
                        + " active image)"));
    }

    @Override
    public String preconditions() {
        return "The domain must exist at this point of the plan with a file disk that has a backing file, and at"
                + " least its top layer must be mergeable without changing a state that is not the disk's own or a"
                + " snapshot it drops; merge must be commit or pull.";
    }

    @Override
    public String verifies() {
        return "Reads the disk-state model again from libvirt and the images: the answer must be the same.";
    }

    @Override
    public String undoes() {
        return "It only reads.";
    }

    @Override
    public Planned plan(Params params, World world) throws StepFailure {
        ConnectionHost.requireLocalFiles(world, name());
        Map<String, Object> result = analyse(params, world);
        return Planned.readOnly("read every domain's disks and snapshots and their chains (the disk-state model):"
                + " merge " + result.get("merged") + (params.string("merge").equals("commit") ? " into " + result.get("base")
                : (result.get("base") == null ? ", nothing left below" : ", keeping " + result.get("base")))
                + (result.get("stop") == null ? "" : "; stops there: " + result.get("stop"))
                + (((List<?>) result.get("drops")).isEmpty() ? "" : "; drops snapshots " + result.get("drops")), result);
    }

    @Override
    public Outcome apply(Params params, Map<String, Object> captured, StepContext context) throws StepFailure {
        Map<String, Object> result = analyse(params, ChainFacts.now(context));
        return Outcome.unchanged(params.string("domain") + "/" + params.string("disk") + ": merge " + result.get("merged")
                + (result.get("base") == null ? "" : ", base " + result.get("base")), result);
    }

    @Override
    public Verification verify(Params params, Outcome outcome, StepContext context) throws StepFailure {
        Map<String, Object> again = analyse(params, ChainFacts.now(context));
        return Verification.check(again.equals(outcome.data()), "the layout changed meanwhile: " + again);
    }

    static Map<String, Object> analyse(Params params, World world) throws StepFailure {
        String domain = params.string("domain");
        String disk = params.string("disk");
        String merge = params.string("merge");
        if (!merge.equals("commit") && !merge.equals("pull")) {
            throw new StepFailure("merge must be commit or pull, not '" + merge + "'", "write merge: commit");
        }
        ChainFacts.DiskChain disks = ChainFacts.diskChain(world, domain, disk);
        List<String> chain = disks.files();
        DiskStates states = DiskStates.of(world);
        Flatten f = merge.equals("commit") ? Flatten.commit(states, domain, disk, chain, true)
                : Flatten.pull(states, domain, disk, chain, true);
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("disk", disk);
        result.put("merge", merge);
        // file names as a playbook passes them on to block.commit, block.pull and image.delete
        result.put("chain", BackingChain.plain(f.chain()));
        result.put("base", BackingChain.plain(f.baseFile()));
        result.put("merged", BackingChain.plain(f.merged()));
        result.put("drops", f.drops());
        result.put("after", BackingChain.plain(f.after()));
        result.put("depth_after", (long) f.after().size());
        result.put("virtual_size", world.get(dev.snapbook.steps.image.ImageFacts.key(chain.get(0))).virtualSize());
        // the format the disk's active image has afterwards: the base's for a commit, the top's for a pull
        result.put("format_after", merge.equals("commit") ? disks.formats().get(f.base()) : disks.formats().get(0));
        result.put("stop", f.stop());
        return result;
    }
}
