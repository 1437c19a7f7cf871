package dev.snapbook.engine.run;

import com.fasterxml.jackson.databind.JsonNode;
import dev.snapbook.engine.journal.Journal;
import dev.snapbook.engine.journal.JournalEvent;
import dev.snapbook.engine.journal.RunRecord;
import dev.snapbook.engine.json.Json;
import dev.snapbook.engine.load.PlaybookError;
import dev.snapbook.engine.load.PlaybookFiles;
import dev.snapbook.engine.load.StepCatalog;
import dev.snapbook.engine.model.Playbook;
import dev.snapbook.engine.spi.Outcome;
import dev.snapbook.engine.spi.Params;
import dev.snapbook.engine.spi.Reversibility;
import dev.snapbook.engine.spi.Step;
import dev.snapbook.engine.spi.StepFailure;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;

/**
 * The recovery of a run that did not finish, from its journal ({@code snapbook recover}): a rollback undoes
 * what it did, newest first; a resume continues from the first step that did not complete.
 *
 * <p>Before either, the step that was in progress when the run stopped ends what it left going without the
 * process ({@link Step#settle}: a block job is cancelled for a rollback, awaited for a resume), then it is
 * re-verified against the real system: when its effect is there it counts as done <em>and changed</em>, so a
 * rollback undoes it (its undo decides from what {@link Step#capture} recorded before it acted, e.g. whether a
 * domain was running); otherwise it counts as not done. A rollback is refused once an irreversible step has
 * completed, because undoing the steps before it would restore what it consumed.
 *
 * <p>A recovery is a run with a journal of its own, as recoverable as any: its {@code run_started} holds the
 * playbook's text and names the run it recovers ({@code rollback_of} or {@code resumed_from}). The recovered
 * run's journal says {@code run_recovering} (by whom) before anything is done, and {@code run_recovered} once
 * the recovery has finished. A run whose recovery was itself interrupted is recovered through that recovery:
 * {@code snapbook recover RECOVERY_ID --rollback} finishes the rollback (the steps its journal lists and has not
 * yet undone), and on success both journals are marked recovered. Recovery holds the same locks as a run.
 */
public final class Recovery {

    /** What to do with the interrupted run. */
    public enum Action {
        ROLLBACK, RESUME;

        String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Where recovery tells the user what it found and did; {@code problem} lines go to standard error. */
    public interface Notes {
        void info(String line);

        void problem(String line);
    }

    /**
     * How a recovery ended.
     *
     * @param exitCode the CLI's exit code: that of the recovery run, or 2 when nothing was done
     * @param runId    the recovery run's id, or null when none was started
     */
    public record Result(int exitCode, String runId) {
        static Result nothingDone() {
            return new Result(2, null);
        }
    }

    private final StepCatalog catalog;
    private final Path stateDir;
    private final RunListener listener;
    private final Notes notes;
    private Duration lockWait = Duration.ofSeconds(30);

    public Recovery(StepCatalog catalog, Path stateDir, RunListener listener, Notes notes) {
        this.catalog = catalog;
        this.stateDir = stateDir;
        this.listener = listener;
        this.notes = notes;
    }

    /** How long recovery waits for a run holding the same locks (default 30s). */
    public Recovery lockWait(Duration wait) {
        this.lockWait = wait;
        return this;
    }

    /** The journal of run {@code runId}, read; null (with a note) when there is none. */
    public RunRecord find(String runId) throws IOException {
        if (!runId.matches("[0-9]{8}T[0-9]{6}-[0-9a-f]{6}")) {
            notes.problem("'" + runId + "' is not a run id; 'snapbook runs' lists them");
            return null;
        }
        Path file = stateDir.resolve(runId + ".jsonl");
        if (!Files.exists(file)) {
            notes.problem("no journal " + file);
            return null;
        }
        return RunRecord.read(file);
    }

    /** Tells what the run did, step by step. */
    public void describe(RunRecord record) {
        notes.info("run " + record.runId() + " (" + record.playbook() + "): " + record.status());
        for (RunRecord.StepRecord s : record.steps()) {
            String state = s.undone() ? "undone" : !s.applied() ? "started, did not finish"
                    : s.verified() == null ? "applied, not verified"
                    : s.verified() ? "done" : "applied, verification FAILED";
            notes.info(String.format("  %d. %s [%s]: %s", s.index() + 1, s.name(), s.type(), state));
        }
    }

    /** Says how to recover the run, when it is interrupted. */
    public void suggest(RunRecord record) {
        if (record.status().equals("interrupted")) {
            notes.info("recover it with: snapbook recover " + record.runId()
                    + (record.rollbackOf() != null ? " --rollback   (it finishes the rollback of run "
                    + record.rollbackOf() + ")" : " --rollback   (or --resume --yes)"));
        }
    }

    /**
     * Rolls back or resumes {@code record}'s run. {@code confirmResume} is asked, before anything is touched,
     * whether resuming (which continues a half-done change without a fresh plan) is confirmed.
     */
    public Result recover(RunRecord record, Action action, BooleanSupplier confirmResume) throws Exception {
        String runId = record.runId();
        if (record.status().equals("running")) {
            notes.problem("run " + runId + " is still running (pid " + record.start().path("pid").asLong()
                    + "); wait for it or stop it first");
            return Result.nothingDone();
        }
        if (record.status().startsWith(RunRecord.BEING_RECOVERED) && !recoveryNeverStarted(record)) {
            return refuseBeingRecovered(record);
        }
        boolean interrupted = record.status().equals("interrupted")
                || record.status().startsWith(RunRecord.BEING_RECOVERED);
        if (!interrupted && (action == Action.RESUME || record.status().startsWith("recovered"))) {
            notes.problem("run " + runId + " " + record.status() + "; only an interrupted run can be resumed");
            return Result.nothingDone();
        }
        if (record.rollbackOf() != null && action == Action.RESUME) {
            notes.problem("run " + runId + " rolls back run " + record.rollbackOf() + "; it can only be finished:"
                    + " snapbook recover " + runId + " --rollback");
            return Result.nothingDone();
        }
        JsonNode start = record.start();
        if (!start.hasNonNull("playbook_text")) {
            notes.problem("the journal of " + runId + " does not hold the playbook; cannot recover it");
            return Result.nothingDone();
        }
        Playbook playbook;
        try {
            playbook = new PlaybookFiles(catalog, List.of()).load(source(start, runId));
        } catch (PlaybookError e) {
            notes.problem("the journalled playbook no longer loads: " + e.getMessage());
            return Result.nothingDone();
        }
        Map<String, Object> extraVars = new LinkedHashMap<>();
        start.path("extra_vars").fields().forEachRemaining(e -> extraVars.put(e.getKey(), e.getValue().asText()));
        Set<String> tags = new LinkedHashSet<>();
        start.path("tags").forEach(t -> tags.add(t.asText()));
        String uri = start.path("connection").asText("qemu:///system");

        Locks locks;
        try {
            locks = Locks.acquire(stateDir, uri, lockNames(record), "pid " + ProcessHandle.current().pid()
                    + ", recovering run " + runId + ", since " + Instant.now(), lockWait);
        } catch (Locks.Busy e) {
            notes.problem("nothing was done: " + e.getMessage());
            return Result.nothingDone();
        }
        try (locks; RunContext context = new RunContext(uri, listener)) {
            if (action == Action.RESUME && !confirmResume.getAsBoolean()) {
                notes.problem("resuming continues a half-done change without a fresh plan; pass --yes to confirm");
                return Result.nothingDone();
            }
            Reconciled found;
            try {
                found = reconcile(record, action, context);
            } catch (StepFailure e) {
                return new Result(3, null);
            }
            if (action == Action.ROLLBACK) {
                for (Runner.Completed c : found.completed()) {
                    RunRecord.StepRecord s = stepOf(record, c.index());
                    if (c.changed() && irreversible(s, c)) {
                        notes.problem("run " + runId + " completed step " + (c.index() + 1) + " (" + s.name() + ", "
                                + s.type() + "), which is irreversible: a rollback cannot undo it, and undoing the"
                                + " steps before it would restore what it consumed; nothing was done. Finish the run"
                                + " instead: snapbook recover " + runId + " --resume --yes");
                        return Result.nothingDone();
                    }
                }
            }
            Runner runner = new Runner(catalog, listener);
            Runner.Resume resume = new Runner.Resume(runId, found.next(), found.completed());
            Map<String, Object> origin = new LinkedHashMap<>();
            origin.put("playbook_file", start.path("playbook_file").asText(runId));
            origin.put("playbook_groovy", start.path("playbook_groovy").asBoolean());
            origin.put("playbook_text", start.path("playbook_text").asText());
            RunListener.RunFinished finished;
            try (Journal journal = Journal.create(stateDir)) {
                markRecovering(record, action, journal.runId());
                finished = action == Action.ROLLBACK
                        ? runner.rollBack(playbook, extraVars, context, journal, origin, resume)
                        : runner.run(playbook, extraVars, tags, context, journal, origin, resume);
            }
            markRecovered(record, action, finished);
            return new Result(finished.status().exitCode(), finished.runId());
        }
    }

    /** The steps the run completed, the one it stopped in re-verified, and the first step a resume runs. */
    private record Reconciled(List<Runner.Completed> completed, int next) {
    }

    private Reconciled reconcile(RunRecord record, Action action, RunContext context) throws StepFailure {
        List<Runner.Completed> completed = new ArrayList<>();
        int next = 0;
        for (RunRecord.StepRecord s : record.steps()) {
            if (s.undone()) {
                continue;
            }
            boolean done = s.applied() && Boolean.TRUE.equals(s.verified());
            boolean changed = s.changed();
            Map<String, Object> data = plain(s.data());
            if (!s.applied()) {
                Outcome settled;
                try {
                    settled = settle(s, action == Action.RESUME, context);
                } catch (StepFailure e) {
                    notes.problem("step " + (s.index() + 1) + " (" + s.name() + ") left work going that could not be"
                            + " ended: " + e.getMessage() + (e.hint() != null ? " — " + e.hint() : "")
                            + "; nothing else was done");
                    throw e;
                }
                if (settled != null) {
                    changed = settled.changed();
                    data = settled.data();
                }
            }
            if (!done) {
                done = reverify(s, data, context);
                notes.info("  re-verified " + (s.index() + 1) + ". " + s.name() + ": "
                        + (done ? "its effect is there" : "its effect is not there"));
                if (done && !s.applied()) {
                    // The run was killed inside this step's apply, after its capture was journalled: the effect
                    // found now is this step's, so its undo must run (the undo compares with what capture saw).
                    changed = true;
                }
            }
            if (done || (action == Action.ROLLBACK && s.applied())) {
                completed.add(new Runner.Completed(s.index(), plain(s.params()), plain(s.captured()), changed, data));
            }
            if (done) {
                next = s.index() + 1;
            }
        }
        return new Reconciled(completed, next);
    }

    /** Whether the step's effect is there now, by its own verify; any failure to verify counts as no. */
    private boolean reverify(RunRecord.StepRecord s, Map<String, Object> data, RunContext context) {
        Step step = catalog.get(s.type());
        if (step == null) {
            return false;
        }
        try {
            Params params = Steps.restore(step, plain(s.params()));
            return step.verify(params, new Outcome(true, data, "re-verified"), context).passed();
        } catch (StepFailure | RuntimeException e) {
            return false;
        }
    }

    /** Lets the interrupted step end what it left going; its outcome when that completed it, else null. */
    private Outcome settle(RunRecord.StepRecord s, boolean resuming, RunContext context) throws StepFailure {
        Step step = catalog.get(s.type());
        if (step == null) {
            return null;
        }
        Outcome o = step.settle(Steps.restore(step, plain(s.params())), plain(s.captured()), resuming, context);
        if (o != null) {
            notes.info("  settled " + (s.index() + 1) + ". " + s.name() + ": " + o.message());
        }
        return o;
    }

    private boolean irreversible(RunRecord.StepRecord s, Runner.Completed c) {
        Step step = s == null ? null : catalog.get(s.type());
        try {
            return step != null && step.reversibility(Steps.restore(step, c.params())) == Reversibility.IRREVERSIBLE;
        } catch (StepFailure e) {
            return false;
        }
    }

    private Set<String> lockNames(RunRecord record) {
        Set<String> names = new TreeSet<>();
        for (RunRecord.StepRecord s : record.steps()) {
            Step step = catalog.get(s.type());
            if (step != null) {
                try {
                    names.addAll(step.locks(Steps.restore(step, plain(s.params()))));
                } catch (StepFailure e) {
                    // a step whose journalled parameters no longer restore locks nothing more than the others
                }
            }
        }
        return names;
    }

    /**
     * Whether the recovery named by {@code record} never got as far as journalling its start (killed between
     * creating its journal and writing to it): then it did nothing, and the run is interrupted as before.
     */
    private boolean recoveryNeverStarted(RunRecord record) {
        Path file = stateDir.resolve(record.recoveryRun() + ".jsonl");
        try {
            RunRecord.read(file);
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    private Result refuseBeingRecovered(RunRecord record) throws IOException {
        RunRecord recovery = RunRecord.read(stateDir.resolve(record.recoveryRun() + ".jsonl"));
        String status = recovery.status();
        if (status.equals("running")) {
            notes.problem("run " + record.runId() + " is being recovered by run " + recovery.runId() + " (pid "
                    + recovery.start().path("pid").asLong() + "); wait for it to finish");
        } else if (status.equals("interrupted") || status.startsWith(RunRecord.BEING_RECOVERED)) {
            notes.problem("run " + record.runId() + " was being recovered by run " + recovery.runId() + ", which was"
                    + " itself interrupted; recover that one: snapbook recover " + recovery.runId()
                    + (recovery.rollbackOf() != null ? " --rollback" : " --rollback   (or --resume --yes)"));
        } else {
            notes.problem("run " + record.runId() + " was recovered by run " + recovery.runId() + " (" + status + ")");
        }
        return Result.nothingDone();
    }

    /** Writes {@code run_recovering} into the recovered run's journal, before the recovery acts. */
    private void markRecovering(RunRecord record, Action action, String by) throws IOException {
        try (Journal original = Journal.reopen(record.file(), record.runId())) {
            original.write(JournalEvent.RUN_RECOVERING, Map.of("action", action.label(), "by", by));
        }
    }

    /**
     * Writes {@code run_recovered} into the recovered run's journal, and into the journal of the run it
     * was itself recovering (a rollback or resume finished by this recovery), so that both read as recovered.
     */
    private void markRecovered(RunRecord record, Action action, RunListener.RunFinished finished) throws IOException {
        Map<String, Object> entry = Map.of("action", action.label(), "by", finished.runId(),
                "status", finished.status().wire());
        try (Journal original = Journal.reopen(record.file(), record.runId())) {
            original.write(JournalEvent.RUN_RECOVERED, entry);
        }
        String root = record.rollbackOf() != null ? record.rollbackOf() : record.resumedFrom();
        if (root == null) {
            return;
        }
        Path rootFile = stateDir.resolve(root + ".jsonl");
        if (!Files.exists(rootFile)) {
            return;
        }
        RunRecord rootRecord = RunRecord.read(rootFile);
        if (record.runId().equals(rootRecord.recoveryRun()) && rootRecord.status().startsWith(RunRecord.BEING_RECOVERED)) {
            try (Journal original = Journal.reopen(rootFile, root)) {
                original.write(JournalEvent.RUN_RECOVERED, Map.of("action", record.rollbackOf() != null ? "rollback" : "resume",
                        "by", finished.runId(), "status", finished.status().wire()));
            }
        }
    }

    private static RunRecord.StepRecord stepOf(RunRecord record, int index) {
        return record.steps().stream().filter(s -> s.index() == index).findFirst().orElse(null);
    }

    private static PlaybookFiles.Source source(JsonNode start, String runId) {
        return new PlaybookFiles.Source(start.path("playbook_file").asText(runId), start.path("playbook_text").asText(),
                start.path("playbook_groovy").asBoolean());
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> plain(JsonNode node) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            return Map.of();
        }
        return Json.MAPPER.convertValue(node, LinkedHashMap.class);
    }
}
