package dev.snapbook.engine.run;

import dev.snapbook.engine.expr.Expression;
import dev.snapbook.engine.expr.ExpressionError;
import dev.snapbook.engine.journal.Journal;
import dev.snapbook.engine.journal.JournalEvent;
import dev.snapbook.engine.load.StepCatalog;
import dev.snapbook.engine.model.Playbook;
import dev.snapbook.engine.model.StepCall;
import dev.snapbook.engine.spi.Outcome;
import dev.snapbook.engine.spi.Params;
import dev.snapbook.engine.spi.Reversibility;
import dev.snapbook.engine.spi.Step;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.engine.spi.Verification;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs a playbook for real, as a saga: for each step, journal its undo data, apply it, verify it against
 * the real system. When a step fails to apply or verify, the completed steps are undone in reverse
 * order (the step's built-in undo, then its own {@code rollback:} steps), then {@code on_failure} runs,
 * then {@code always}. Every failure is reported: the first one, and every later one with it.
 *
 * <p>An unchecked exception or error thrown anywhere in a step's lifecycle — its {@code when}, the
 * evaluation of its parameters, its capture, apply, {@code until} or verification — is such a failure:
 * the step is undone too when its effect exists. Only a journal that cannot be written, and the JVM
 * running out of memory, end a run otherwise.
 *
 * <p>The runner does not plan or ask for confirmation; {@link Execution} does that before calling it.
 */
public final class Runner {

    private final StepCatalog catalog;
    private final RunListener listener;

    public Runner(StepCatalog catalog, RunListener listener) {
        this.catalog = catalog;
        this.listener = listener;
    }

    /** A completed (or applied-then-failed) step, with what is needed to undo it. */
    private record Done(int reportIndex, StepCall call, Step step, Params params, Map<String, Object> captured,
                        Outcome outcome) {
    }

    /** A step failed; {@code applied} is the step as far as it got when its effect exists. */
    private static final class Failed extends Exception {
        final Done applied;

        Failed(String message, Done applied, Throwable cause) {
            super(message, cause);
            this.applied = applied;
        }
    }

    /**
     * Where a resumed run starts: the steps completed before the interruption (undone if a later step
     * fails), the results they registered, and the first step to run.
     *
     * @param resumedFrom the interrupted run's id
     */
    public record Resume(String resumedFrom, int nextStep, List<Completed> completed) {
    }

    /** A step completed by an interrupted run, as its journal recorded it. */
    public record Completed(int index, Map<String, Object> params, Map<String, Object> captured, boolean changed,
                            Map<String, Object> data) {
    }

    /** Runs {@code playbook}; the journal must be open and the context's resources fresh. */
    public RunListener.RunFinished run(Playbook playbook, Map<String, Object> extraVars, Set<String> tags,
                                       RunContext context, Journal journal) {
        return run(playbook, extraVars, tags, context, journal, Map.of(), null);
    }

    /**
     * Runs {@code playbook}, or resumes it when {@code resume} is given.
     *
     * @param origin more fields for the journal's {@code run_started} entry (the playbook's text, so that
     *               {@code snapbook recover} can resume it)
     */
    public RunListener.RunFinished run(Playbook playbook, Map<String, Object> extraVars, Set<String> tags,
                                       RunContext context, Journal journal, Map<String, Object> origin,
                                       Resume resume) {
        Bindings bindings = new Bindings(playbook.vars(), extraVars);
        List<StepReport> reports = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        Deque<Done> done = new ArrayDeque<>();
        Map<String, Object> start = new LinkedHashMap<>();
        start.put("playbook", playbook.name());
        start.put("source", playbook.source());
        start.put("extra_vars", extraVars);
        start.put("tags", List.copyOf(tags));
        start.put("connection", context.connectionUri());
        start.put("pid", ProcessHandle.current().pid());
        start.putAll(origin);
        if (resume != null) {
            start.put("resumed_from", resume.resumedFrom());
        }
        journal.write(JournalEvent.RUN_STARTED, start);
        listener.onRunStarted(new RunListener.RunStarted(journal.runId(), playbook.name(), journal.file().toString()));

        int first = 0;
        if (resume != null) {
            first = resume.nextStep();
            try {
                for (Done d : restore(playbook, resume, bindings, journal, reports)) {
                    done.push(d);
                }
            } catch (StepFailure e) {
                problems.add("cannot resume: " + e.getMessage());
                first = playbook.steps().size();
            }
        }
        boolean failed = !problems.isEmpty();
        int stoppedAt = -1;
        for (int i = first; i < playbook.steps().size(); i++) {
            StepCall call = playbook.steps().get(i);
            if (failed) {
                reports.add(report("steps", i, call, StepStatus.NOT_RUN, false, false, "an earlier step failed"));
                continue;
            }
            if (!Steps.selected(call, tags)) {
                reports.add(report("steps", i, call, StepStatus.SKIPPED, false, false, "not selected by --tags"));
                continue;
            }
            if (context.cancelled()) {
                failed = true;
                problems.add("stopped by the user before step " + (i + 1) + " (" + call.displayName() + ")");
                journal.write(JournalEvent.RUN_CANCELLED, Map.of("before_index", i));
                reports.add(report("steps", i, call, StepStatus.NOT_RUN, false, false, "stopped by the user"));
                continue;
            }
            try {
                Done d = runStep("steps", i, call, bindings, context, journal, reports);
                if (d != null) {
                    done.push(d);
                }
            } catch (Failed f) {
                failed = true;
                problems.add(describe("step " + (i + 1) + " (" + call.displayName() + ")", f));
                if (f.getCause() instanceof StepFailure.OutcomeUnknown) {
                    stoppedAt = i;
                    journal.write(JournalEvent.RUN_STOPPED, Map.of("index", i, "type", call.type(), "name", call.displayName(),
                            "reason", f.getMessage()));
                } else if (f.applied != null) {
                    done.push(f.applied);
                }
            }
        }

        if (stoppedAt >= 0) {
            problems.add("stopped at step " + (stoppedAt + 1) + " without rolling back: recover the run with "
                    + "snapbook recover " + journal.runId() + " (it re-verifies the step, then --rollback or --resume)");
            journal.write(JournalEvent.RUN_FINISHED, Map.of("status", RunStatus.STOPPED.wire(), "problems", problems));
            RunListener.RunFinished finished = new RunListener.RunFinished(journal.runId(), RunStatus.STOPPED, reports,
                    problems, journal.file().toString());
            listener.onRunFinished(finished);
            return finished;
        }
        boolean incomplete = false;
        if (failed) {
            incomplete = rollback(done, bindings, context, journal, reports, problems);
            incomplete |= !runSection("on_failure", playbook.onFailure(), bindings, context, journal, reports, problems);
        }
        boolean alwaysOk = runSection("always", playbook.always(), bindings, context, journal, reports, problems);

        RunStatus status;
        if (!failed) {
            status = alwaysOk ? RunStatus.SUCCEEDED : RunStatus.FAILED;
        } else {
            status = incomplete ? RunStatus.ROLLBACK_INCOMPLETE : RunStatus.ROLLED_BACK;
        }
        return finish(journal, status, reports, problems);
    }

    /**
     * Undoes, newest first, the steps an interrupted run completed, then runs {@code on_failure}: what
     * {@code snapbook recover --rollback} does. The journal's {@code run_started} names the run rolled back
     * ({@code rollback_of}) and holds {@code origin} (the playbook's text), and each step to undo is journalled
     * ({@code step_restored}) before the first undo: a rollback killed half-way is itself recoverable.
     */
    public RunListener.RunFinished rollBack(Playbook playbook, Map<String, Object> extraVars, RunContext context,
                                            Journal journal, Map<String, Object> origin, Resume resume) {
        Bindings bindings = new Bindings(playbook.vars(), extraVars);
        List<StepReport> reports = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        Deque<Done> done = new ArrayDeque<>();
        Map<String, Object> start = new LinkedHashMap<>();
        start.put("playbook", playbook.name());
        start.put("source", String.valueOf(playbook.source()));
        start.put("extra_vars", extraVars);
        start.put("connection", context.connectionUri());
        start.put("rollback_of", resume.resumedFrom());
        start.put("pid", ProcessHandle.current().pid());
        start.putAll(origin);
        journal.write(JournalEvent.RUN_STARTED, start);
        listener.onRunStarted(new RunListener.RunStarted(journal.runId(), playbook.name(), journal.file().toString()));
        boolean incomplete;
        try {
            for (Done d : restore(playbook, resume, bindings, journal, reports)) {
                done.push(d);
            }
            incomplete = rollback(done, bindings, context, journal, reports, problems);
            incomplete |= !runSection("on_failure", playbook.onFailure(), bindings, context, journal, reports, problems);
        } catch (StepFailure e) {
            problems.add("cannot roll back: " + e.getMessage());
            incomplete = true;
        }
        RunStatus status = incomplete ? RunStatus.ROLLBACK_INCOMPLETE : RunStatus.ROLLED_BACK;
        return finish(journal, status, reports, problems);
    }

    /** Journals how the run ended and tells the listener. */
    private RunListener.RunFinished finish(Journal journal, RunStatus status, List<StepReport> reports,
                                           List<String> problems) {
        journal.write(JournalEvent.RUN_FINISHED, Map.of("status", status.wire(),
                "problems", problems));
        RunListener.RunFinished finished = new RunListener.RunFinished(journal.runId(), status, reports, problems,
                journal.file().toString());
        listener.onRunFinished(finished);
        return finished;
    }

    /** The completed steps of {@code resume} as undoable entries, their results registered again. */
    private List<Done> restore(Playbook playbook, Resume resume, Bindings bindings, Journal journal,
                               List<StepReport> reports) throws StepFailure {
        List<Done> out = new ArrayList<>();
        for (Completed c : resume.completed()) {
            if (c.index() < 0 || c.index() >= playbook.steps().size()) {
                throw new StepFailure("the journal names step " + (c.index() + 1) + ", which the playbook does not have");
            }
            StepCall call = playbook.steps().get(c.index());
            Step step = catalog.get(call.type());
            if (step == null) {
                throw new StepFailure("step type " + call.type() + " is not installed");
            }
            Params params = Steps.restore(step, c.params());
            Outcome outcome = new Outcome(c.changed(), c.data(), "completed by run " + resume.resumedFrom());
            register(call, bindings, result(outcome));
            int reportIndex = reports.size();
            reports.add(report("steps", c.index(), call, c.changed() ? StepStatus.CHANGED : StepStatus.OK, c.changed(),
                    true, "completed by run " + resume.resumedFrom()));
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("section", "steps");
            entry.put("index", c.index());
            entry.put("type", call.type());
            entry.put("name", call.displayName());
            entry.put("params", c.params());
            entry.put("captured", c.captured());
            entry.put("changed", c.changed());
            entry.put("data", c.data());
            journal.write(JournalEvent.STEP_RESTORED, entry);
            out.add(new Done(reportIndex, call, step, params, c.captured(), outcome));
        }
        return out;
    }

    /**
     * Runs one step: when, capture (journalled), apply with retries and timeout, verify. Returns what is
     * needed to undo it, or null when it was skipped.
     */
    private Done runStep(String section, int index, StepCall call, Bindings bindings, RunContext context,
                         Journal journal, List<StepReport> reports) throws Failed {
        int reportIndex = reports.size();
        reports.add(report(section, index, call, StepStatus.NOT_RUN, false, false, "started"));
        String phase = "when";
        Done applied = null;
        try {
            if (call.when() != null) {
                boolean run;
                try {
                    run = Expression.truthy(Expression.parse(call.when()).evaluate(bindings));
                } catch (ExpressionError e) {
                    throw new Failed("when: " + e.getMessage(), null, null);
                }
                if (!run) {
                    register(call, bindings, Map.of("skipped", true, "changed", false));
                    reports.set(reportIndex, report(section, index, call, StepStatus.SKIPPED, false, false,
                            "when '" + call.when() + "' is false"));
                    listener.onStepFinished(new RunListener.StepFinished(reports.get(reportIndex)));
                    return null;
                }
            }
            Step step = catalog.get(call.type());
            Params params;
            Map<String, Object> captured;
            try {
                phase = "its parameters";
                params = Steps.resolve(step, call, bindings);
                phase = "capture";
                captured = step.capture(params, context);
            } catch (StepFailure e) {
                throw new Failed(e.getMessage(), null, e);
            }
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("section", section);
            entry.put("index", index);
            entry.put("type", call.type());
            entry.put("name", call.displayName());
            entry.put("params", params.asMap());
            entry.put("captured", captured);
            Reversibility reversibility = step.reversibility(params);
            entry.put("reversibility", reversibility.name().toLowerCase(java.util.Locale.ROOT));
            // A step with nothing to undo needs no durable record before it acts: recovery has nothing to
            // undo for it, and a later forced entry flushes this one too (the journal is append-only).
            boolean mayNeedUndo = reversibility != Reversibility.NOTHING_TO_UNDO;
            journal.write(JournalEvent.STEP_STARTED, entry, mayNeedUndo);
            listener.onStepStarted(new RunListener.StepStarted(section, index, call.displayName(), call.type()));

            phase = "apply";
            Outcome outcome = applyWithRetries(reportIndex, call, step, params, captured, bindings, context, journal);
            applied = new Done(reportIndex, call, step, params, captured, outcome);
            phase = "verify";
            boolean durable = mayNeedUndo || outcome.changed();
            journal.write(JournalEvent.STEP_APPLIED, Map.of("section", section, "index", index, "type", call.type(),
                    "changed", outcome.changed(),
                    "data", outcome.data(), "message", nullToEmpty(outcome.message())), durable);

            List<String> verifyProblems = verify(call, step, params, outcome, bindings, context);
            journal.write(JournalEvent.STEP_VERIFIED, Map.of("section", section, "index", index, "type", call.type(),
                    "passed", verifyProblems.isEmpty(), "problems", verifyProblems), durable || !verifyProblems.isEmpty());
            if (!verifyProblems.isEmpty()) {
                reports.set(reportIndex, report(section, index, call, StepStatus.FAILED, outcome.changed(), false,
                        "verification failed: " + String.join("; ", verifyProblems)));
                listener.onStepFinished(new RunListener.StepFinished(reports.get(reportIndex)));
                throw new Failed("verification failed: " + String.join("; ", verifyProblems), applied, null);
            }
            reports.set(reportIndex, report(section, index, call,
                    outcome.changed() ? StepStatus.CHANGED : StepStatus.OK, outcome.changed(), true,
                    nullToEmpty(outcome.message())));
            listener.onStepFinished(new RunListener.StepFinished(reports.get(reportIndex)));
            return applied;
        } catch (Failed | RuntimeException | Error e) {
            Failed f = e instanceof Failed failed ? failed : crashed(call, phase, applied, e);
            if (reports.get(reportIndex).status() != StepStatus.FAILED) {
                reports.set(reportIndex, report(section, index, call, StepStatus.FAILED, false, false, f.getMessage()));
                listener.onStepFinished(new RunListener.StepFinished(reports.get(reportIndex)));
                journal.write(JournalEvent.STEP_FAILED, Map.of("section", section, "index", index, "type", call.type(),
                        "message", f.getMessage()));
            } else {
                journal.write(JournalEvent.STEP_FAILED, Map.of("section", section, "index", index, "type", call.type(),
                        "message", f.getMessage()));
            }
            throw f;
        }
    }

    /**
     * A step's unchecked exception or error as a step failure, so that the saga goes on as for any other
     * failure: {@code applied} (null when the step's effect does not exist yet) is undone with the others.
     * The journal's own failure and the JVM running out of resources are not turned into step failures: they
     * are rethrown, since neither a journal that cannot be written nor a JVM without memory can roll back.
     */
    private static Failed crashed(StepCall call, String phase, Done applied, Throwable e) {
        if (e instanceof Journal.JournalException je) {
            throw je;
        }
        if (e instanceof VirtualMachineError vm && !(e instanceof StackOverflowError)) {
            throw vm;
        }
        return new Failed(call.type() + " crashed in " + phase + ": " + e, applied, e);
    }

    private Outcome applyWithRetries(int reportIndex, StepCall call, Step step, Params params, Map<String, Object> captured,
                                     Bindings bindings, RunContext context, Journal journal) throws Failed {
        int attempts = call.retries() + 1;
        for (int attempt = 1; ; attempt++) {
            Outcome outcome;
            try {
                outcome = applyWithTimeout(call, step, params, captured, context);
            } catch (StepFailure e) {
                if (attempt >= attempts || e instanceof StepFailure.OutcomeUnknown) {
                    throw new Failed(e.getMessage() + (e.hint() != null ? " — " + e.hint() : ""), null, e);
                }
                journal.write(JournalEvent.STEP_RETRY, Map.of("type", call.type(), "attempt", attempt, "reason", e.getMessage()));
                sleep(call.delay());
                continue;
            }
            register(call, bindings, result(outcome));
            if (call.until() == null) {
                return outcome;
            }
            boolean done;
            try {
                done = Expression.truthy(Expression.parse(call.until()).evaluate(bindings));
            } catch (ExpressionError e) {
                // the step applied: its effect exists and is undone with the others
                throw new Failed("until: " + e.getMessage(), new Done(reportIndex, call, step, params, captured, outcome),
                        null);
            } catch (RuntimeException | Error e) {
                throw crashed(call, "until", new Done(reportIndex, call, step, params, captured, outcome), e);
            }
            if (done) {
                return outcome;
            }
            if (attempt >= attempts) {
                throw new Failed("until '" + call.until() + "' was still false after " + attempts + " tries",
                        new Done(reportIndex, call, step, params, captured, outcome), null);
            }
            journal.write(JournalEvent.STEP_RETRY, Map.of("type", call.type(), "attempt", attempt,
                    "reason", "until '" + call.until() + "' is false"));
            sleep(call.delay());
        }
    }

    private Outcome applyWithTimeout(StepCall call, Step step, Params params, Map<String, Object> captured,
                                     RunContext context) throws StepFailure {
        Duration timeout = call.timeout();
        if (timeout == null) {
            context.deadline(null);
            return guard(call, () -> step.apply(params, captured, context));
        }
        context.deadline(Instant.now().plus(timeout));
        ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "snapbook-step-" + call.type());
            t.setDaemon(true);
            return t;
        });
        try {
            Future<Outcome> f = executor.submit(() -> step.apply(params, captured, context));
            return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new StepFailure(call.type() + " did not finish within its timeout of "
                    + dev.snapbook.engine.spi.Durations.format(timeout), "raise 'timeout:' on the step if it needs longer");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof StepFailure sf) {
                throw sf;
            }
            throw new StepFailure(call.type() + " crashed: " + e.getCause(), null, e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StepFailure(call.type() + " was interrupted");
        } finally {
            executor.shutdownNow();
            context.deadline(null);
        }
    }

    private interface Action {
        Outcome run() throws StepFailure;
    }

    private static Outcome guard(StepCall call, Action action) throws StepFailure {
        try {
            return action.run();
        } catch (RuntimeException e) {
            throw new StepFailure(call.type() + " crashed: " + e, null, e);
        }
    }

    private List<String> verify(StepCall call, Step step, Params params, Outcome outcome, Bindings bindings,
                                RunContext context) {
        List<String> problems = new ArrayList<>();
        try {
            Verification v = step.verify(params, outcome, context);
            problems.addAll(v.problems());
            if (!v.passed() && v.problems().isEmpty()) {
                problems.add(call.type() + " did not verify");
            }
        } catch (StepFailure | RuntimeException e) {
            problems.add("could not verify " + call.type() + ": " + e.getMessage());
        }
        for (String expr : call.verify()) {
            try {
                if (!Expression.truthy(Expression.parse(expr).evaluate(bindings))) {
                    problems.add("verify '" + expr + "' is false");
                }
            } catch (ExpressionError e) {
                problems.add("verify '" + expr + "': " + e.getMessage());
            }
        }
        return problems;
    }

    /** Undoes {@code done} newest first. Returns true when the rollback is incomplete. */
    private boolean rollback(Deque<Done> done, Bindings bindings, RunContext context, Journal journal,
                             List<StepReport> reports, List<String> problems) {
        boolean incomplete = false;
        while (!done.isEmpty()) {
            Done d = done.pop();
            Reversibility reversibility = d.step().reversibility(d.params());
            boolean hasRollbackSteps = !d.call().rollback().isEmpty();
            if (reversibility == Reversibility.NOTHING_TO_UNDO && !hasRollbackSteps) {
                continue;
            }
            // the step's section and index, so that a recovery of this journal knows which step was undone
            StepReport undoing = d.reportIndex() >= 0 ? reports.get(d.reportIndex()) : null;
            Map<String, Object> which = new LinkedHashMap<>();
            which.put("type", d.call().type());
            which.put("name", d.call().displayName());
            if (undoing != null) {
                which.put("section", undoing.section());
                which.put("index", undoing.index());
            }
            Map<String, Object> started = new LinkedHashMap<>(which);
            started.put("captured", d.captured());
            journal.write(JournalEvent.UNDO_STARTED, started);
            List<String> undoProblems = new ArrayList<>();
            if (reversibility == Reversibility.REVERSIBLE) {
                try {
                    d.step().undo(d.params(), d.captured(), d.outcome(), context);
                } catch (StepFailure | RuntimeException e) {
                    undoProblems.add("undo of " + d.call().displayName() + " failed: " + e.getMessage());
                }
            } else if (reversibility == Reversibility.IRREVERSIBLE && d.outcome().changed()) {
                undoProblems.add(d.call().displayName() + " is irreversible and was not undone");
            }
            for (int i = 0; i < d.call().rollback().size(); i++) {
                try {
                    runStep("rollback", i, d.call().rollback().get(i), bindings, context, journal, reports);
                } catch (Failed f) {
                    undoProblems.add(describe("rollback step " + (i + 1) + " of " + d.call().displayName(), f));
                }
            }
            boolean ok = undoProblems.isEmpty();
            Map<String, Object> finished = new LinkedHashMap<>(which);
            finished.put("ok", ok);
            finished.put("problems", undoProblems);
            journal.write(JournalEvent.UNDO_FINISHED, finished);
            incomplete |= !ok;
            problems.addAll(undoProblems);
            if (d.reportIndex() >= 0) {
                StepReport r = reports.get(d.reportIndex());
                StepReport updated = r.withStatus(ok ? StepStatus.ROLLED_BACK : StepStatus.NOT_ROLLED_BACK,
                        ok ? r.message() : String.join("; ", undoProblems));
                reports.set(d.reportIndex(), updated);
                listener.onStepUndone(new RunListener.StepUndone(updated, ok, updated.message()));
            }
        }
        return incomplete;
    }

    /** Runs on_failure or always steps; failures are recorded, not undone. Returns true when all passed. */
    private boolean runSection(String section, List<StepCall> calls, Bindings bindings, RunContext context,
                               Journal journal, List<StepReport> reports, List<String> problems) {
        boolean ok = true;
        for (int i = 0; i < calls.size(); i++) {
            try {
                runStep(section, i, calls.get(i), bindings, context, journal, reports);
            } catch (Failed f) {
                ok = false;
                problems.add(describe(section + " step " + (i + 1) + " (" + calls.get(i).displayName() + ")", f));
            }
        }
        return ok;
    }

    private static Map<String, Object> result(Outcome outcome) {
        Map<String, Object> r = new LinkedHashMap<>(outcome.data());
        r.put("changed", outcome.changed());
        r.put("skipped", false);
        return r;
    }

    private static void register(StepCall call, Bindings bindings, Object value) {
        if (call.register() != null) {
            bindings.register(call.register(), value);
        }
    }

    private static StepReport report(String section, int index, StepCall call, StepStatus status, boolean changed,
                                     boolean verified, String message) {
        return new StepReport(section, index, call.displayName(), call.type(), status, changed, verified, message);
    }

    private static String describe(String what, Failed f) {
        return what + ": " + f.getMessage();
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
