package dev.snapbook.steps.block;

import dev.snapbook.engine.spi.Outcome;
import dev.snapbook.engine.spi.Param;
import dev.snapbook.engine.spi.ParamType;
import dev.snapbook.engine.spi.Params;
import dev.snapbook.engine.spi.Planned;
import dev.snapbook.engine.spi.Step;
import dev.snapbook.engine.spi.StepContext;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.engine.spi.Unknown;
import dev.snapbook.engine.spi.Verification;
import dev.snapbook.engine.spi.World;
import dev.snapbook.steps.libvirt.BlockJobInfo;
import dev.snapbook.steps.libvirt.Libvirt;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Step {@code block.job}: reports the block job on a disk ({@code virDomainGetBlockJobInfo} and the domain
 * XML's {@code <mirror ready>}), or with {@code action: abort} cancels it without a pivot
 * ({@code virDomainBlockJobAbort}, flags 0), leaving the disk on the image it uses now.
 *
 * <p>Result: {@code {active, type, cur, end, ready}} — the job as it was before an abort — plus
 * {@code aborted} for {@code action: abort}. A job's progress exists only at run time, so the plan predicts
 * these as unknown. Nothing to undo: a cancelled job cannot be resumed, and cancelling changes no data the
 * guest sees (what a commit already copied into its base stays there).
 */
public final class BlockJob implements Step {

    @Override
    public String name() {
        return "block.job";
    }

    @Override
    public String summary() {
        return "Reports the block job on a disk, or aborts it without pivoting (action: abort).";
    }

    @Override
    public List<Param> params() {
        return List.of(Blocks.DOMAIN, Blocks.DISK,
                Param.optional("action", ParamType.STRING, "status", "status: report the job; abort: cancel it")
                        .oneOf("status", "abort"));
    }

    @Override
    public String preconditions() {
        return "The domain must be running or paused at this point of the plan, and the disk a file disk whose active"
                + " image exists. Whether a job runs is only known at run time; an abort with no job does nothing.";
    }

    @Override
    public String verifies() {
        return "With action: abort, libvirt must report no block job left on the disk. For a status, a job reported"
                + " and still there must be of the same type; a job that started or ended since is accepted.";
    }

    @Override
    public String undoes() {
        return "A status only reads. An aborted job cannot be resumed, but aborting changes no data the guest sees:"
                + " what a commit already copied into its base stays there.";
    }

    @Override
    public Planned plan(Params params, World world) throws StepFailure {
        String name = params.string("domain");
        String disk = params.string("disk");
        // The disk must exist and the domain run (a shut-off domain has no jobs to ask about).
        Blocks.plannedChain(world, name, disk, "block job");
        Map<String, Object> result = new LinkedHashMap<>();
        for (String key : List.of("active", "type", "cur", "end", "ready")) {
            result.put(key, new Unknown("the block job on " + name + "/" + disk + " at run time"));
        }
        if (abort(params)) {
            // whatever job there is, none is left afterwards: a merge planned after this step may start
            world.put(BlockJobFacts.key(name, disk), null);
            result.put("aborted", new Unknown("whether a job is running on " + name + "/" + disk + " at run time"));
            return Planned.change(List.of("virDomainGetBlockJobInfo(" + name + ", " + disk + ")",
                    "virDomainBlockJobAbort(" + name + ", " + disk + ", 0) if a job is running"), result);
        }
        return Planned.readOnly("virDomainGetBlockJobInfo(" + name + ", " + disk + ")", result);
    }

    @Override
    public Outcome apply(Params params, Map<String, Object> captured, StepContext context) throws StepFailure {
        String name = params.string("domain");
        String disk = params.string("disk");
        Libvirt libvirt = Libvirt.session(context);
        BlockJobInfo job = libvirt.blockJob(name, disk);
        Map<String, Object> result = result(job);
        if (!abort(params)) {
            return Outcome.unchanged(job == null ? "no block job on " + name + "/" + disk
                    : describe(job) + " on " + name + "/" + disk, result);
        }
        if (job == null) {
            result.put("aborted", false);
            return Outcome.unchanged("no block job on " + name + "/" + disk + " to abort", result);
        }
        libvirt.blockJobAbort(name, disk, false);
        result.put("aborted", true);
        return Outcome.changed("aborted the " + describe(job) + " on " + name + "/" + disk, result);
    }

    /** For an abort, checks that no job remains on the disk; a status is checked for the job's type. */
    @Override
    public Verification verify(Params params, Outcome outcome, StepContext context) throws StepFailure {
        String name = params.string("domain");
        String disk = params.string("disk");
        BlockJobInfo now = Libvirt.session(context).blockJob(name, disk);
        if (abort(params)) {
            return Verification.check(now == null, "a " + (now == null ? "" : now.type().label())
                    + " block job is still on " + name + "/" + disk + " after the abort");
        }
        if (Boolean.TRUE.equals(outcome.data().get("active")) && now != null) {
            return Verification.check(now.type().label().equals(outcome.data().get("type")),
                    "the block job on " + name + "/" + disk + " is now a " + now.type().label() + " job, not "
                            + outcome.data().get("type"));
        }
        // A job reported absent may have been started since, and one reported running may have ended:
        // both are what a status can legitimately observe.
        return Verification.ok();
    }

    private static boolean abort(Params params) {
        return "abort".equals(params.string("action"));
    }

    private static String describe(BlockJobInfo job) {
        return job.type().label() + " job (" + Math.round(job.percent()) + "%" + (job.ready() ? ", ready" : "")
                + ")";
    }

    private static Map<String, Object> result(BlockJobInfo job) {
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("active", job != null);
        result.put("type", job == null ? null : job.type().label());
        result.put("cur", job == null ? 0L : job.cur());
        result.put("end", job == null ? 0L : job.end());
        result.put("ready", job != null && job.ready());
        return result;
    }
}
