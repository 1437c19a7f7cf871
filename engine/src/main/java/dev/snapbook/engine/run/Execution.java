package dev.snapbook.engine.run;

import dev.snapbook.engine.journal.Journal;
import dev.snapbook.engine.load.StepCatalog;
import dev.snapbook.engine.model.Playbook;
import dev.snapbook.engine.plan.PlanReport;
import dev.snapbook.engine.plan.PlannedStep;
import dev.snapbook.engine.plan.Planner;
import dev.snapbook.engine.world.FactSources;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One {@code snapbook run}: plan against the observed world, refuse if the plan fails or irreversible
 * steps are not confirmed, then run with a journal. Nothing is changed before the plan is feasible and
 * confirmed.
 */
public final class Execution {

    /** Asks the user to confirm irreversible steps; false refuses the run. */
    @FunctionalInterface
    public interface Confirmation {
        boolean confirm(List<PlannedStep> irreversible);
    }

    /** How an execution ended: the plan, and the run when one happened. */
    public record Result(PlanReport plan, RunListener.RunFinished run, RunStatus status, String message) {
        public int exitCode() {
            return status.exitCode();
        }
    }

    private final StepCatalog catalog;
    private final FactSources facts;
    private final RunListener listener;
    private java.time.Duration lockWait = java.time.Duration.ofSeconds(30);

    /** How long a run waits for another run on the same domain to finish (default 30s). */
    public Execution lockWait(java.time.Duration wait) {
        this.lockWait = wait;
        return this;
    }

    public Execution(StepCatalog catalog, FactSources facts, RunListener listener) {
        this.catalog = catalog;
        this.facts = facts;
        this.listener = listener;
    }

    /**
     * What the steps of {@code playbook} lock ({@link dev.snapbook.engine.spi.Step#locks}), as far as their
     * parameters resolve with the playbook's vars and {@code extraVars} alone; steps whose parameters need a
     * registered result are left out (the plan finds theirs).
     */
    java.util.Set<String> lockNamesBeforePlanning(Playbook playbook, Map<String, Object> extraVars, Set<String> tags) {
        java.util.Set<String> names = new java.util.TreeSet<>();
        Bindings bindings = new Bindings(playbook.vars(), extraVars);
        List<dev.snapbook.engine.model.StepCall> calls = new java.util.ArrayList<>(playbook.steps());
        calls.addAll(playbook.onFailure());
        calls.addAll(playbook.always());
        for (dev.snapbook.engine.model.StepCall call : calls) {
            dev.snapbook.engine.spi.Step step = catalog.get(call.type());
            if (step == null || !Steps.selected(call, tags)) {
                continue;
            }
            try {
                names.addAll(step.locks(Steps.resolve(step, call, bindings)));
            } catch (dev.snapbook.engine.spi.StepFailure | RuntimeException e) {
                // its parameters need what an earlier step registers: the plan knows them
            }
        }
        return names;
    }

    /** Plans only; changes nothing. */
    public PlanReport plan(Playbook playbook, Map<String, Object> extraVars, Set<String> tags, RunContext context) {
        return new Planner(catalog).plan(playbook, extraVars, tags, facts.newWorld(context));
    }

    /** Plans, confirms, and runs {@code playbook}, journalling under {@code stateDir}. */
    public Result run(Playbook playbook, Map<String, Object> extraVars, Set<String> tags, RunContext context,
                      Path stateDir, Confirmation confirmation) throws IOException {
        return run(playbook, null, extraVars, tags, context, stateDir, confirmation);
    }

    /**
     * Plans, confirms, and runs {@code playbook}, journalling under {@code stateDir}; the journal keeps
     * {@code source}'s text so that an interrupted run can be resumed ({@code snapbook recover}).
     */
    public Result run(Playbook playbook, dev.snapbook.engine.load.PlaybookFiles.Source source,
                      Map<String, Object> extraVars, Set<String> tags, RunContext context,
                      Path stateDir, Confirmation confirmation) throws IOException {
        // The plan that counts is made while the run holds the locks of the domains it works on: a plan made
        // while another run works on the same domain would see that run's half-done state (a snapshot it
        // dropped for a moment) and fail, or plan against it. The lock names come from each step's parameters
        // resolved with the playbook's vars, and from the plan for the steps whose parameters need an earlier
        // result.
        java.util.Set<String> names = lockNamesBeforePlanning(playbook, extraVars, tags);
        String holder = "pid " + ProcessHandle.current().pid() + ", playbook '" + playbook.name() + "', since "
                + java.time.Instant.now();
        PlanReport plan;
        Locks locks;
        if (!names.isEmpty() && Locks.allExist(stateDir, context.connectionUri(), names)) {
            // Every lock file exists already (an earlier run on these domains made it): taking the locks creates
            // nothing, so they are taken first and the world is planned once, under them.
            try {
                locks = Locks.acquire(stateDir, context.connectionUri(), names, holder, lockWait);
            } catch (Locks.Busy e) {
                return new Result(plan(playbook, extraVars, tags, context), null, RunStatus.REFUSED,
                        "nothing was done: " + e.getMessage());
            }
            try {
                plan = plan(playbook, extraVars, tags, context);
                plan = lockWhatThePlanNames(plan, names, locks, playbook, extraVars, tags, context, stateDir, holder);
            } catch (Locks.Busy e) {
                locks.close();
                return new Result(plan(playbook, extraVars, tags, context), null, RunStatus.REFUSED,
                        "nothing was done: " + e.getMessage());
            } catch (IOException | RuntimeException e) {
                locks.close();
                throw e;
            }
        } else {
            // A first run on a domain: the plan is made before any lock file is, so that a plan that fails, or
            // refuses the input, is reported without creating anything. It is the one used when no run can have
            // held any of the locks while it was made (no lock file existed before it, nor after it; a run
            // creates its lock file before it acts); otherwise the run plans again under the locks.
            boolean nobodyBefore = Locks.noneExist(stateDir, context.connectionUri(), names);
            plan = plan(playbook, extraVars, tags, context);
            if (plan.invalidInput()) {
                return new Result(plan, null, RunStatus.REFUSED, "nothing was done: " + plan.failure());
            }
            plan.steps().forEach(s -> names.addAll(s.locks()));
            boolean clean = nobodyBefore && Locks.noneExist(stateDir, context.connectionUri(), names);
            if (!plan.feasible() && clean) {
                return new Result(plan, null, RunStatus.PLAN_FAILED, "nothing was done: " + plan.failure());
            }
            try {
                locks = Locks.acquire(stateDir, context.connectionUri(), names, holder, lockWait);
            } catch (Locks.Busy e) {
                return new Result(plan, null, RunStatus.REFUSED, "nothing was done: " + e.getMessage());
            }
            try {
                if (!clean || locks.waited()) {
                    plan = plan(playbook, extraVars, tags, context);
                    plan = lockWhatThePlanNames(plan, names, locks, playbook, extraVars, tags, context, stateDir,
                            holder);
                }
            } catch (Locks.Busy e) {
                locks.close();
                return new Result(plan, null, RunStatus.REFUSED, "nothing was done: " + e.getMessage());
            } catch (IOException | RuntimeException e) {
                locks.close();
                throw e;
            }
        }
        if (!plan.feasible()) {
            locks.close();
            return new Result(plan, null, plan.invalidInput() ? RunStatus.REFUSED : RunStatus.PLAN_FAILED,
                    "nothing was done: " + plan.failure());
        }
        List<PlannedStep> irreversible = plan.irreversibleSteps();
        if (!irreversible.isEmpty() && !confirmation.confirm(irreversible)) {
            locks.close();
            return new Result(plan, null, RunStatus.REFUSED, "nothing was done: " + irreversible.size()
                    + " irreversible step(s) were not confirmed; pass --yes, or answer 'yes' at the prompt");
        }
        try (locks; Journal journal = Journal.create(stateDir)) {
            Map<String, Object> origin = new java.util.LinkedHashMap<>();
            if (source != null) {
                origin.put("playbook_file", source.displayName());
                origin.put("playbook_groovy", source.groovy());
                origin.put("playbook_text", source.text());
            }
            RunListener.RunFinished run = new Runner(catalog, listener)
                    .run(playbook, extraVars, tags, context, journal, origin, null);
            return new Result(plan, run, run.status(), run.status().label());
        }
    }

    /**
     * Takes the locks that {@code plan} names beyond {@code held} (steps whose parameters needed an earlier
     * result). A lock that was not held while the plan was made may have been held by another run then: unless
     * its file did not exist (no run ever held it), the plan is made again under it; should that plan name
     * still more and taking them wait, once more. Returns the plan to run.
     */
    private PlanReport lockWhatThePlanNames(PlanReport plan, java.util.Set<String> held, Locks locks, Playbook playbook,
                                            Map<String, Object> extraVars, Set<String> tags, RunContext context,
                                            Path stateDir, String holder) throws IOException, Locks.Busy {
        java.util.Set<String> more = new java.util.TreeSet<>();
        plan.steps().forEach(s -> more.addAll(s.locks()));
        more.removeAll(held);
        if (more.isEmpty()) {
            return plan;
        }
        boolean neverHeld = Locks.noneExist(stateDir, context.connectionUri(), more);
        boolean waitedBefore = locks.waited();
        locks.acquireMore(stateDir, context.connectionUri(), more, holder, lockWait);
        held.addAll(more);
        if (neverHeld && locks.waited() == waitedBefore) {
            return plan;
        }
        plan = plan(playbook, extraVars, tags, context);
        java.util.Set<String> planned = new java.util.TreeSet<>();
        plan.steps().forEach(s -> planned.addAll(s.locks()));
        waitedBefore = locks.waited();
        locks.acquireMore(stateDir, context.connectionUri(), planned, holder, lockWait);
        held.addAll(planned);
        if (locks.waited() && !waitedBefore) {
            plan = plan(playbook, extraVars, tags, context);
        }
        return plan;
    }
}
