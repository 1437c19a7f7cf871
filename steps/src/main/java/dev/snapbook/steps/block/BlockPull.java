package dev.snapbook.steps.block;

import dev.snapbook.engine.spi.Outcome;
import dev.snapbook.engine.spi.Param;
import dev.snapbook.engine.spi.ParamType;
import dev.snapbook.engine.spi.Params;
import dev.snapbook.engine.spi.Planned;
import dev.snapbook.engine.spi.Reversibility;
import dev.snapbook.engine.spi.Step;
import dev.snapbook.engine.spi.StepContext;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.engine.spi.Verification;
import dev.snapbook.engine.spi.World;
import dev.snapbook.steps.image.BackingChain;
import dev.snapbook.steps.image.ImageFacts;
import dev.snapbook.steps.libvirt.ConnectionHost;
import dev.snapbook.steps.libvirt.Libvirt;
import dev.snapbook.steps.state.DiskStates;
import dev.snapbook.steps.state.Flatten;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Step {@code block.pull}: copies the data of the backing layers into the disk's active image with a libvirt
 * block pull job on a running domain — all of them ({@code virDomainBlockPull}), after which the active image
 * has no backing file, or those above {@code base} ({@code virDomainBlockRebase}), after which its backing
 * file is {@code base}. The job ends by itself; if it fails or times out it is cancelled, so no job is left
 * behind. IRREVERSIBLE: the active image no longer depends on the layers pulled, and its former chain cannot
 * be restored by snapbook. Once the job has ended, a running domain is paused and resumed at once, which makes
 * QEMU flush the image, so that qemu-img (and a host crash) sees the pulled data before anything relies on it.
 *
 * <p>Result: {@code {disk, base, active_file, chain, pulled}}, {@code chain} being the disk's files afterwards,
 * active image first ({@code base} is null when the whole chain was pulled), and {@code pulled} the former
 * backing files the active image no longer depends on (other images or snapshots may still use them).
 */
public final class BlockPull implements Step {

    @Override
    public String name() {
        return "block.pull";
    }

    @Override
    public String summary() {
        return "Copies backing layers into the active image with a libvirt block pull (optionally down to a base).";
    }

    @Override
    public List<Param> params() {
        return List.of(Blocks.DOMAIN, Blocks.DISK,
                Param.optional("base", ParamType.PATH, null,
                        "keep this image (and those below) as backing; default: pull everything"),
                Blocks.BANDWIDTH, Blocks.TIMEOUT);
    }

    @Override
    public String preconditions() {
        return "The domain must be running or paused at this point of the plan, and the disk a file disk with a"
                + " backing file. base, when given, must be in its chain below the active image's direct backing file."
                + " A disk that already has a block job is refused in the plan, and again just before the pull starts.";
    }

    @Override
    public String verifies() {
        return "libvirt must report no block job left on the disk, and the disk's active image (from libvirt) and its"
                + " backing chain (from qemu-img info -U) must be the ones the pull intended.";
    }

    @Override
    public String undoes() {
        return "The active image takes in the data of the pulled layers and no longer depends on them. The chain"
                + " before the pull is recorded in the journal, but snapbook cannot restore it. If the run is killed"
                + " while the job runs, snapbook recover --rollback cancels the job; --resume awaits its end.";
    }

    @Override
    public Reversibility reversibility(Params params) {
        return Reversibility.IRREVERSIBLE;
    }

    /**
     * The index of base in the chain (the chain's length when everything is pulled), checked against every other
     * state on the connection ({@code states}; null only when re-reading a journalled pull). Without {@code base},
     * only the layers no other state reads are pulled ({@link Flatten#pull}): a shared image stays the backing file.
     */
    static int resolve(Params params, Blocks.Chain chain, DiskStates states) throws StepFailure {
        String where = params.string("domain") + "/" + params.string("disk");
        if (params.has("bandwidth") && params.integer("bandwidth") < 0) {
            throw new StepFailure("bandwidth must be ≥ 0 MiB/s, got " + params.integer("bandwidth"),
                    "leave it out for no limit");
        }
        if (chain.files().size() < 2) {
            throw new StepFailure("disk " + where + " has no backing file (" + chain.active()
                    + " stands alone): there is nothing to pull", null);
        }
        if (states != null) {
            Flatten.refusePullInto(states, chain.active(), where);
        }
        if (!params.has("base")) {
            return states == null ? chain.files().size()
                    : Flatten.pull(states, params.string("domain"), params.string("disk"), chain.files(), false).base();
        }
        int base = chain.indexOf(params.string("base"));
        if (base < 0) {
            throw new StepFailure("base " + params.string("base") + " is not in the chain of " + where + ": "
                    + chain.show(), "name one of those files, or leave base out to pull everything");
        }
        if (base == 0) {
            throw new StepFailure("base " + chain.active() + " is the active image of " + where
                    + "; a pull copies into the active image from below it", "name a backing file as base");
        }
        if (base == 1) {
            throw new StepFailure("nothing to pull: base " + chain.files().get(1) + " is already the backing file"
                    + " of the active image of " + where, "chain: " + chain.show());
        }
        return base;
    }

    @Override
    public Planned plan(Params params, World world) throws StepFailure {
        ConnectionHost.requireLocalFiles(world, name());
        String name = params.string("domain");
        String disk = params.string("disk");
        Blocks.Chain chain = Blocks.plannedChain(world, name, disk, "block pull");
        int base = resolve(params, chain, DiskStates.of(world));
        Blocks.requireNoJob(world, name, disk, "block pull");
        long bw = Blocks.bandwidth(params);
        List<String> actions = new ArrayList<>();
        actions.add(base == chain.files().size()
                ? "virDomainBlockPull(" + name + ", " + disk + ", bandwidth=" + Blocks.bandwidthText(bw) + ", 0)"
                : "virDomainBlockRebase(" + name + ", " + disk + ", base=" + chain.files().get(base) + ", bandwidth="
                + Blocks.bandwidthText(bw) + ", 0)");
        actions.add("wait on libvirt's block-job events for " + disk + ", reading virDomainGetBlockJobInfo(" + name
                + ", " + disk + ") at each (and every 0.5s) until the job ends, at most "
                + params.duration("timeout").toSeconds() + "s");
        actions.add("irreversible: " + chain.active() + " takes in the data of "
                + String.join(", ", chain.files().subList(1, base)) + " and then "
                + (base == chain.files().size() ? "has no backing file" : "is backed by " + chain.files().get(base)));
        actions.add("virDomainSuspend(" + name + ") + virDomainResume(" + name + ") when running: QEMU flushes the"
                + " pulled data and metadata to " + chain.active());
        actions.add("on failure: virDomainBlockJobAbort(" + name + ", " + disk + ", 0)");
        Blocks.requireSpace(chain.active(), chain.files().subList(1, base), "block pull");
        ImageFacts top = world.get(ImageFacts.key(chain.active()));
        List<String> files = newFiles(chain, base);
        world.put(ImageFacts.key(chain.active()), chain.imageWithBacking(top,
                files.subList(1, files.size()), newFormats(chain, base).subList(1, files.size())));
        return Planned.change(actions, result(params, chain, base));
    }

    /** Records the chain before the pull, for the journal. */
    @Override
    public Map<String, Object> capture(Params params, StepContext context) throws StepFailure {
        Blocks.Chain chain = Blocks.currentChain(context, params.string("domain"), params.string("disk"), "block pull");
        int base = resolve(params, chain, DiskStates.now(context));
        return Blocks.captureMerge(chain, base < chain.files().size() ? chain.files().get(base) : null);
    }

    @Override
    public Outcome apply(Params params, Map<String, Object> captured, StepContext context) throws StepFailure {
        String name = params.string("domain");
        String disk = params.string("disk");
        Blocks.Chain chain = Blocks.currentChain(context, name, disk, "block pull");
        int base = resolve(params, chain, DiskStates.now(context));
        String baseFile = base == chain.files().size() ? null : chain.files().get(base);
        Libvirt libvirt = Libvirt.session(context);
        Blocks.requireNoJob(libvirt, name, disk, "block pull");
        Blocks.requireSpace(chain.active(), chain.files().subList(1, base), "block pull");
        String what = "block pull into " + chain.active();
        libvirt.blockPull(name, disk, baseFile, Blocks.bandwidth(params));
        try {
            Blocks.await(libvirt, context, name, disk, what, false, params.duration("timeout"),
                    List.of(chain.active()));
        } catch (StepFailure | RuntimeException e) {
            Blocks.abortAfter(e, libvirt, name, disk);
            throw e;
        }
        Blocks.flush(libvirt, context, name);
        return Outcome.changed(what + (baseFile == null ? "; it has no backing file now"
                : "; it is backed by " + baseFile + " now"), result(params, chain, base));
    }

    /**
     * The run was killed while the pull applied; the job may still run in QEMU. Rolling back cancels it (the
     * active image keeps the clusters already copied, which the backing files also hold: the data it shows is
     * unchanged); resuming waits for it to end. A pull that had ended is complete and reported so.
     */
    @Override
    public Outcome settle(Params params, Map<String, Object> captured, boolean resuming, StepContext context)
            throws StepFailure {
        List<String> before = Blocks.chainBefore(captured);
        if (before == null) {
            return null;
        }
        Blocks.Chain chain = Blocks.journalled(before);
        int base = resolve(Blocks.withJournalledBase(params, captured), chain, null);
        boolean complete = Blocks.settle(Libvirt.session(context), context, params.string("domain"),
                params.string("disk"), before, newFiles(chain, base),
                java.util.Set.of(dev.snapbook.steps.libvirt.BlockJobInfo.Type.PULL), false, false, resuming,
                params.duration("timeout"), "block pull");
        return complete ? Outcome.changed("block pull into " + chain.active() + " completed",
                result(params, chain, base)) : null;
    }

    @Override
    public Verification verify(Params params, Outcome outcome, StepContext context) throws StepFailure {
        return Blocks.verifyChain(params, outcome, context, "block pull");
    }

    private static List<String> newFiles(Blocks.Chain chain, int base) {
        List<String> files = new ArrayList<>(List.of(chain.active()));
        files.addAll(chain.files().subList(base, chain.files().size()));
        return files;
    }

    private static List<String> newFormats(Blocks.Chain chain, int base) {
        List<String> formats = new ArrayList<>(List.of(chain.formats().get(0)));
        formats.addAll(chain.formats().subList(base, chain.formats().size()));
        return formats;
    }

    private static Map<String, Object> result(Params params, Blocks.Chain chain, int base) {
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("disk", params.string("disk"));
        result.put("base", base == chain.files().size() ? null : BackingChain.plain(chain.files().get(base)));
        result.put("active_file", chain.active());
        result.put("chain", List.copyOf(newFiles(chain, base)));
        result.put("pulled", BackingChain.plain(chain.files().subList(1, base)));
        return result;
    }
}
