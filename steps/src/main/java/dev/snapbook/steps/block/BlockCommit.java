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
import dev.snapbook.steps.domain.DiskFacts;
import dev.snapbook.steps.domain.DomainFacts;
import dev.snapbook.steps.image.ImageFacts;
import dev.snapbook.steps.libvirt.ConnectionHost;
import dev.snapbook.steps.libvirt.Libvirt;
import dev.snapbook.steps.snapshot.SnapshotFacts;
import dev.snapbook.steps.snapshot.SnapshotTree;
import dev.snapbook.steps.state.DiskState;
import dev.snapbook.steps.state.DiskStates;
import dev.snapbook.steps.state.Flatten;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Step {@code block.commit}: merges the layers from {@code top} down to just above {@code base} into
 * {@code base} with a libvirt block commit job ({@code virDomainBlockCommit}) on a running domain.
 *
 * <p>With {@code active: true} the top is the disk's active image: the job mirrors new writes until QEMU
 * reports it ready, which snapbook reads in the domain XML ({@code <mirror ready='yes'>}); only then does it
 * pivot ({@code virDomainBlockJobAbort} with {@code PIVOT}), so the disk runs on {@code base}. With
 * {@code pivot: false} it ends the job without pivoting, like {@code virsh blockcommit --keep-overlay}: base
 * holds the merged data and the disk stays on the top. Without {@code active} the commit is of an inner layer
 * and the image above {@code top} is rebased onto {@code base} by QEMU.
 *
 * <p>Both paths are always passed explicitly: {@code top} defaults to the active image (with {@code active})
 * and {@code base} to the deepest image of the chain. If anything fails while the job runs, it is cancelled
 * without a pivot, so no job is left behind and the disk keeps its image. IRREVERSIBLE: the states held by
 * the merged layers are gone. Once the job has ended (and pivoted), a running domain is paused and resumed at
 * once, which makes QEMU flush the images, so that qemu-img (and a host crash) sees the merged data.
 *
 * <p>Result: {@code {disk, top, base, active_file, chain, merged}}, {@code chain} being the disk's files after the
 * commit, active image first, and {@code merged} the files merged into base that the disk's chain no longer
 * contains (top down to just above base; empty with {@code pivot: false}, where the top stays active). Other
 * images or snapshots may still use them: delete them with {@code image.delete paths: ... skip_used: true}.
 */
public final class BlockCommit implements Step {

    @Override
    public String name() {
        return "block.commit";
    }

    @Override
    public String summary() {
        return "Merges backing layers into a lower one with a libvirt block commit (active: pivots to the base).";
    }

    @Override
    public List<Param> params() {
        return List.of(Blocks.DOMAIN, Blocks.DISK,
                Param.optional("top", ParamType.PATH, null,
                        "the highest image to merge (default with active: the disk's active image)"),
                Param.optional("base", ParamType.PATH, null,
                        "the image to merge into (default: the deepest image of the chain)"),
                Param.optional("active", ParamType.BOOLEAN, false,
                        "top is the active image: commit it and (with pivot) switch the disk to base"),
                Param.optional("pivot", ParamType.BOOLEAN, null,
                        "with active: switch the disk to base once the job is ready (default true); false keeps"
                                + " the top active"),
                Blocks.BANDWIDTH, Blocks.TIMEOUT);
    }

    @Override
    public String preconditions() {
        return "The domain must be running or paused at this point of the plan, and the disk a file disk with a"
                + " backing file; top and base must be in its chain, base below top (default: the deepest image)."
                + " Without active, top is required and must not be the active image; active: true commits the active"
                + " image, and pivot needs it. A disk that already has a block job is refused in the plan, and again"
                + " just before the commit starts.";
    }

    @Override
    public String verifies() {
        return "libvirt must report no block job left on the disk, and the disk's active image (from libvirt) and its"
                + " backing chain (from qemu-img info -U) must be the ones the commit intended.";
    }

    @Override
    public String undoes() {
        return "The states held by the merged layers are gone once merged into base. The chain before the commit is"
                + " recorded in the journal, but snapbook cannot rebuild it. If the run is killed while the job runs,"
                + " snapbook recover --rollback cancels the job without a pivot; --resume awaits it and pivots.";
    }

    @Override
    public Reversibility reversibility(Params params) {
        return Reversibility.IRREVERSIBLE;
    }

    /** What a commit with these parameters does to this chain. */
    record Resolved(Blocks.Chain chain, int top, int base, boolean active, boolean pivot) {

        String topFile() {
            return chain.files().get(top);
        }

        String baseFile() {
            return chain.files().get(base);
        }

        /** The files whose own states are merged away. */
        List<String> merged() {
            return chain.files().subList(top, base);
        }

        /** The disk's chain afterwards, active image first. */
        List<String> newFiles() {
            if (active && !pivot) {
                return chain.files();
            }
            List<String> files = new ArrayList<>(chain.files().subList(0, top));
            files.addAll(chain.files().subList(base, chain.files().size()));
            return files;
        }

        List<String> newFormats() {
            if (active && !pivot) {
                return chain.formats();
            }
            List<String> formats = new ArrayList<>(chain.formats().subList(0, top));
            formats.addAll(chain.formats().subList(base, chain.formats().size()));
            return formats;
        }
    }

    /**
     * What a commit with these parameters does to this chain, checked against every other state on the connection
     * ({@code states}; null only when re-reading a journalled commit, whose checks were made when it started).
     * Without {@code base}, an active commit goes into the lowest layer that no other state reads ({@link
     * Flatten#commit}): a golden image shared by linked clones is never written.
     */
    static Resolved resolve(Params params, Blocks.Chain chain, DiskStates states) throws StepFailure {
        String name = params.string("domain");
        String disk = params.string("disk");
        boolean active = params.bool("active");
        String where = name + "/" + disk;
        if (params.has("pivot") && params.bool("pivot") && !active) {
            throw new StepFailure("pivot: true needs active: true: only an active commit switches the disk to base",
                    "add active: true to commit the active image of " + where);
        }
        if (params.has("bandwidth") && params.integer("bandwidth") < 0) {
            throw new StepFailure("bandwidth must be ≥ 0 MiB/s, got " + params.integer("bandwidth"),
                    "leave it out for no limit");
        }
        if (chain.files().size() < 2) {
            throw new StepFailure("disk " + where + " has no backing file (" + chain.active()
                    + " stands alone): there is nothing to commit", null);
        }
        int top;
        if (params.has("top")) {
            top = chain.indexOf(params.string("top"));
            if (top < 0) {
                throw new StepFailure("top " + params.string("top") + " is not in the chain of " + where + ": "
                        + chain.show(), "name one of those files");
            }
        } else if (active) {
            top = 0;
        } else {
            throw new StepFailure("block.commit needs top, or active: true to commit the active image "
                    + chain.active() + " of " + where, "chain: " + chain.show());
        }
        if (top == 0 && !active) {
            throw new StepFailure("top " + chain.active() + " is the active image of " + where
                    + ": committing it needs active: true (and a pivot to the base)", "add active: true");
        }
        if (top > 0 && active) {
            throw new StepFailure("active: true commits the active image " + chain.active() + " of " + where
                    + ", but top is " + chain.files().get(top), "leave top out, or drop active: true");
        }
        int base;
        if (params.has("base")) {
            base = chain.indexOf(params.string("base"));
            if (base < 0) {
                throw new StepFailure("base " + params.string("base") + " is not in the chain of " + where + ": "
                        + chain.show(), "name one of those files");
            }
            if (base <= top) {
                throw new StepFailure("base " + chain.files().get(base) + " is not below top "
                        + chain.files().get(top) + " in the chain of " + where + ": " + chain.show(),
                        "a commit merges top down into a backing file of it");
            }
        } else if (top == 0 && states != null) {
            base = Flatten.commit(states, name, disk, chain.files(), false).base();
        } else {
            base = chain.files().size() - 1;
            if (base <= top) {
                throw new StepFailure("top " + chain.files().get(top) + " is the deepest image of " + where
                        + "; there is no base to commit into", "chain: " + chain.show());
            }
        }
        boolean pivot = active && (!params.has("pivot") || params.bool("pivot"));
        Resolved r = new Resolved(chain, top, base, active, pivot);
        if (states != null) {
            List<DiskState> broken = states.brokenByCommit(r.merged(), r.baseFile()).stream()
                    .filter(DiskStates.notDisk(name, disk)).toList();
            if (!broken.isEmpty()) {
                throw new StepFailure("refusing to commit " + String.join(", ", r.merged()) + " into " + r.baseFile()
                        + " (disk " + where + "): that changes what these states show:\n" + DiskStates.describe(broken),
                        "commit into a higher layer (base: one of " + chain.files().subList(top + 1, base)
                                + "), or drop or flatten those states first; snapbook never writes a layer another"
                                + " state reads");
            }
        }
        return r;
    }

    @Override
    public Planned plan(Params params, World world) throws StepFailure {
        ConnectionHost.requireLocalFiles(world, name());
        String name = params.string("domain");
        String disk = params.string("disk");
        Resolved r = resolve(params, Blocks.plannedChain(world, name, disk, "block commit"), DiskStates.of(world));
        Blocks.requireNoJob(world, name, disk, "block commit");
        long bw = Blocks.bandwidth(params);
        List<String> actions = new ArrayList<>();
        actions.add("virDomainBlockCommit(" + name + ", " + disk + ", base=" + r.baseFile() + ", top=" + r.topFile()
                + ", bandwidth=" + Blocks.bandwidthText(bw) + ", flags=" + (r.active() ? "ACTIVE" : "0") + ")");
        actions.add("wait on libvirt's block-job events for " + disk + ", reading virDomainGetBlockJobInfo(" + name
                + ", " + disk + ") at each (and every 0.5s) until "
                + (r.active() ? "the domain XML shows <mirror ready='yes'> on " + disk : "the job ends")
                + ", at most " + params.duration("timeout").toSeconds() + "s");
        if (r.pivot()) {
            actions.add("virDomainBlockJobAbort(" + name + ", " + disk + ", PIVOT): " + disk + " then runs on "
                    + r.baseFile());
        } else if (r.active()) {
            actions.add("virDomainBlockJobAbort(" + name + ", " + disk + ", 0): " + r.baseFile()
                    + " holds the merged data, " + disk + " stays on " + r.topFile());
        }
        actions.add("irreversible: the states held by " + String.join(", ", r.merged()) + " are merged into "
                + r.baseFile());
        actions.add("virDomainSuspend(" + name + ") + virDomainResume(" + name + ") when running: QEMU flushes the"
                + " merged data and metadata to " + r.baseFile());
        actions.add("on failure: virDomainBlockJobAbort(" + name + ", " + disk + ", 0), no pivot; " + r.baseFile()
                + " then holds part of the merged data, so the snapshots dropped before the merge whose state it holds"
                + " are not restored (exit 3): " + droppedStates(world, name, r.baseFile()));
        Blocks.requireSpace(r.baseFile(), r.merged(), "block commit");
        predict(world, r);
        return Planned.change(actions, result(params, r));
    }

    /**
     * The snapshots of the domain that the plan dropped before this commit although their state reads
     * {@code base} (as observed before the plan): the ones a commit that stops part-way leaves inexact.
     */
    private static String droppedStates(World world, String domain, String base) throws StepFailure {
        SnapshotTree before = world.observed(SnapshotTree.key(domain));
        SnapshotTree now = world.get(SnapshotTree.key(domain));
        if (before == null) {
            return "none";
        }
        List<String> names = new ArrayList<>();
        for (SnapshotFacts s : before.snapshots()) {
            if ((now == null || now.find(s.name()) == null) && s.activeFiles().values().stream().anyMatch(f -> {
                try {
                    ImageFacts image = world.get(ImageFacts.key(f));
                    return dev.snapbook.steps.image.BackingChain.sameFile(f, base) || image != null
                            && image.backingChain().stream().anyMatch(l -> dev.snapbook.steps.image.BackingChain
                            .sameFile(l.file(), base));
                } catch (StepFailure e) {
                    return false;
                }
            })) {
                names.add(s.name());
            }
        }
        return names.isEmpty() ? "none" : String.join(", ", names);
    }

    /** The disk and images after the commit, as libvirt and qemu-img will report them. */
    private static void predict(World world, Resolved r) throws StepFailure {
        if (r.active() && !r.pivot()) {
            return;
        }
        Blocks.Chain chain = r.chain();
        if (r.pivot()) {
            DomainFacts domain = chain.domain();
            List<DiskFacts> disks = new ArrayList<>();
            for (DiskFacts d : domain.disks()) {
                disks.add(d.target().equals(chain.disk().target())
                        ? new DiskFacts(d.target(), d.device(), d.type(), r.baseFile(),
                        chain.formats().get(r.base()), d.bus())
                        : d);
            }
            world.put(DomainFacts.key(domain.name()),
                    new DomainFacts(domain.name(), domain.state(), domain.persistent(), disks));
            return;
        }
        // An inner commit: every image above top now has base (and what is below it) as its chain.
        List<String> files = r.newFiles();
        List<String> formats = r.newFormats();
        for (int i = 0; i < r.top(); i++) {
            ImageFacts current = world.get(ImageFacts.key(files.get(i)));
            if (current != null) {
                world.put(ImageFacts.key(files.get(i)), chain.imageWithBacking(current,
                        files.subList(i + 1, files.size()), formats.subList(i + 1, formats.size())));
            }
        }
    }

    /** Records the chain before the merge, for the journal: once merged, it cannot be read back. */
    @Override
    public Map<String, Object> capture(Params params, StepContext context) throws StepFailure {
        Resolved r = resolve(params, Blocks.currentChain(context, params.string("domain"), params.string("disk"),
                "block commit"), DiskStates.now(context));
        return Blocks.captureMerge(r.chain(), r.baseFile());
    }

    @Override
    public Outcome apply(Params params, Map<String, Object> captured, StepContext context) throws StepFailure {
        String name = params.string("domain");
        String disk = params.string("disk");
        Resolved r = resolve(params, Blocks.currentChain(context, name, disk, "block commit"),
                DiskStates.now(context));
        Libvirt libvirt = Libvirt.session(context);
        Blocks.requireNoJob(libvirt, name, disk, "block commit");
        Blocks.requireSpace(r.baseFile(), r.merged(), "block commit");
        String what = "block commit of " + r.topFile() + " into " + r.baseFile();
        libvirt.blockCommit(name, disk, r.baseFile(), r.topFile(), Blocks.bandwidth(params),
                r.active() ? EnumSet.of(Libvirt.CommitOption.ACTIVE) : EnumSet.noneOf(Libvirt.CommitOption.class));
        try {
            Blocks.await(libvirt, context, name, disk, what, r.active(), params.duration("timeout"),
                    List.of(r.baseFile()));
            if (r.active()) {
                libvirt.blockJobAbort(name, disk, r.pivot());
                context.progress(what, 100);
            }
        } catch (StepFailure | RuntimeException e) {
            Blocks.abortAfter(e, libvirt, name, disk);
            throw e;
        }
        Blocks.flush(libvirt, context, name);
        return Outcome.changed(what + (r.pivot() ? "; " + disk + " now runs on " + r.baseFile() : ""),
                result(params, r));
    }

    /**
     * The run was killed while the commit applied; the job may still run in QEMU. Rolling back cancels it
     * without a pivot (the disk keeps its top image, which still shows every write; the base has received part
     * of the merged data, so a snapshot whose state is the base no longer holds exactly that state — as with
     * any commit that fails half-way). Resuming waits for the job and pivots as apply would. Either way, a
     * commit that had already pivoted is complete and reported so (then a rollback cannot undo it).
     */
    @Override
    public Outcome settle(Params params, Map<String, Object> captured, boolean resuming, StepContext context)
            throws StepFailure {
        List<String> before = Blocks.chainBefore(captured);
        if (before == null) {
            return null;
        }
        Resolved r = resolve(Blocks.withJournalledBase(params, captured), Blocks.journalled(before), null);
        String name = params.string("domain");
        String disk = params.string("disk");
        boolean complete = Blocks.settle(Libvirt.session(context), context, name, disk, before, r.newFiles(),
                java.util.Set.of(dev.snapbook.steps.libvirt.BlockJobInfo.Type.COMMIT,
                        dev.snapbook.steps.libvirt.BlockJobInfo.Type.ACTIVE_COMMIT),
                r.active(), r.pivot(), resuming, params.duration("timeout"), "block commit");
        if (!complete) {
            return null;
        }
        return Outcome.changed("block commit of " + r.topFile() + " into " + r.baseFile() + " completed"
                + (r.pivot() ? "; " + disk + " runs on " + r.baseFile() : ""), result(params, r));
    }

    /**
     * Checks with libvirt and qemu-img now: no job left on the disk, the disk's active image and its backing
     * chain are those intended.
     */
    @Override
    public Verification verify(Params params, Outcome outcome, StepContext context) throws StepFailure {
        return Blocks.verifyChain(params, outcome, context, "block commit");
    }

    private static Map<String, Object> result(Params params, Resolved r) {
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("disk", params.string("disk"));
        result.put("top", BackingChain.plain(r.topFile()));
        result.put("base", BackingChain.plain(r.baseFile()));
        result.put("active_file", r.newFiles().get(0));
        result.put("chain", List.copyOf(r.newFiles()));
        result.put("merged", r.active() && !r.pivot() ? List.of() : BackingChain.plain(r.merged()));
        return result;
    }
}
