package dev.snapbook.engine.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.snapbook.engine.journal.Journal;
import dev.snapbook.engine.journal.RunRecord;
import dev.snapbook.engine.json.Json;
import dev.snapbook.engine.load.PlaybookError;
import dev.snapbook.engine.load.PlaybookFiles;
import dev.snapbook.engine.load.StepCatalog;
import dev.snapbook.engine.model.Playbook;
import dev.snapbook.engine.report.Style;
import dev.snapbook.engine.report.TextReporter;
import dev.snapbook.engine.run.RunContext;
import dev.snapbook.engine.run.RunListener;
import dev.snapbook.engine.run.Runner;
import dev.snapbook.engine.run.Steps;
import dev.snapbook.engine.spi.Outcome;
import dev.snapbook.engine.spi.Params;
import dev.snapbook.engine.spi.Step;
import dev.snapbook.engine.spi.StepFailure;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code snapbook recover RUN_ID}: shows what an interrupted run did; {@code --rollback} undoes it in
 * reverse, {@code --resume} continues from the first step that did not complete. The step that was in
 * progress when the run stopped is re-verified against the real system first: if its effect is there
 * it counts as done (and is undone by a rollback), otherwise it is treated as not done. Before that, the step
 * ends what it left going without the process ({@link dev.snapbook.engine.spi.Step#settle}: a block job is
 * cancelled for a rollback, awaited for a resume). Recovery holds the same locks as a run. A rollback is refused
 * once an irreversible step has completed: undoing the steps before it would restore what it consumed.
 */
@Command(name = "recover", mixinStandardHelpOptions = true,
        description = "Inspect an interrupted run; roll it back (--rollback) or resume it (--resume).")
class RecoverCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "RUN_ID", description = "The run, as 'snapbook runs' lists it.")
    String runId;

    @ArgGroup(exclusive = true)
    Action action;

    static final class Action {
        @Option(names = "--rollback", description = "Undo what the run did, newest first.")
        boolean rollback;

        @Option(names = "--resume", description = "Continue from the first step that did not complete.")
        boolean resume;
    }

    @Option(names = "--yes", description = "Confirm resuming without a fresh plan.")
    boolean yes;

    @Override
    public Integer call() throws Exception {
        if (!runId.matches("[0-9]{8}T[0-9]{6}-[0-9a-f]{6}")) {
            System.err.println("snapbook: '" + runId + "' is not a run id; 'snapbook runs' lists them");
            return 2;
        }
        Path file = Journal.defaultDirectory().resolve(runId + ".jsonl");
        if (!Files.exists(file)) {
            System.err.println("snapbook: no journal " + file);
            return 2;
        }
        RunRecord record = RunRecord.read(file);
        System.out.println("run " + record.runId() + " (" + record.playbook() + "): " + record.status());
        for (RunRecord.StepRecord s : record.steps()) {
            String state = s.undone() ? "undone" : !s.applied() ? "started, did not finish"
                    : s.verified() == null ? "applied, not verified" : s.verified() ? "done" : "applied, verification FAILED";
            System.out.printf("  %d. %s [%s]: %s%n", s.index() + 1, s.name(), s.type(), state);
        }
        if (action == null) {
            if (record.status().equals("interrupted")) {
                System.out.println("recover it with: snapbook recover " + runId + " --rollback   (or --resume --yes)");
            }
            return 0;
        }
        if (record.status().equals("running")) {
            System.err.println("snapbook: run " + runId + " is still running (pid " + record.start().path("pid").asLong()
                    + "); wait for it or stop it first");
            return 2;
        }
        if (!record.status().equals("interrupted") && (action.resume || record.status().startsWith("recovered"))) {
            System.err.println("snapbook: run " + runId + " " + record.status() + "; only an interrupted run can be resumed");
            return 2;
        }
        JsonNode start = record.start();
        if (!start.hasNonNull("playbook_text")) {
            System.err.println("snapbook: the journal of " + runId + " does not hold the playbook; cannot recover it");
            return 2;
        }
        StepCatalog catalog = StepCatalog.load(getClass().getClassLoader());
        Playbook playbook;
        try {
            playbook = new PlaybookFiles(catalog, List.of()).load(new PlaybookFiles.Source(
                    start.path("playbook_file").asText(runId), start.path("playbook_text").asText(),
                    start.path("playbook_groovy").asBoolean()));
        } catch (PlaybookError e) {
            System.err.println("snapbook: the journalled playbook no longer loads: " + e.getMessage());
            return 2;
        }
        Map<String, Object> extraVars = new LinkedHashMap<>();
        start.path("extra_vars").fields().forEachRemaining(e -> extraVars.put(e.getKey(), e.getValue().asText()));
        Set<String> tags = new LinkedHashSet<>();
        start.path("tags").forEach(t -> tags.add(t.asText()));
        String uri = start.path("connection").asText("qemu:///system");

        Set<String> lockNames = new java.util.TreeSet<>();
        for (RunRecord.StepRecord s : record.steps()) {
            Step step = catalog.get(s.type());
            if (step != null) {
                try {
                    lockNames.addAll(step.locks(Steps.restore(step, plain(s.params()))));
                } catch (StepFailure e) {
                    // a step whose journalled parameters no longer restore locks nothing more than the others
                }
            }
        }
        dev.snapbook.engine.run.Locks locks;
        try {
            locks = dev.snapbook.engine.run.Locks.acquire(Journal.defaultDirectory(), uri, lockNames,
                    "pid " + ProcessHandle.current().pid() + ", recovering run " + runId + ", since "
                            + java.time.Instant.now(), java.time.Duration.ofSeconds(30));
        } catch (dev.snapbook.engine.run.Locks.Busy e) {
            System.err.println("snapbook: nothing was done: " + e.getMessage());
            return 2;
        }
        TextReporter reporter = new TextReporter(System.out, Style.detect(), 0);
        try (locks; RunContext context = new RunContext(uri, reporter)) {
            // asked before anything is touched: resuming may finish a merge the killed run started
            if (action.resume && !yes && !confirmOnTerminal(runId)) {
                System.err.println("snapbook: resuming continues a half-done change without a fresh plan; "
                        + "pass --yes to confirm");
                return 2;
            }
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
                        settled = settle(catalog, s, !action.rollback, context);
                    } catch (StepFailure e) {
                        System.err.println("snapbook: step " + (s.index() + 1) + " (" + s.name() + ") left work going"
                                + " that could not be ended: " + e.getMessage()
                                + (e.hint() != null ? " — " + e.hint() : "") + "; nothing else was done");
                        return 3;
                    }
                    if (settled != null) {
                        changed = settled.changed();
                        data = settled.data();
                    }
                }
                if (!done) {
                    done = reverify(catalog, s, data, context);
                    System.out.println("  re-verified " + (s.index() + 1) + ". " + s.name() + ": "
                            + (done ? "its effect is there" : "its effect is not there"));
                }
                if (done || (action.rollback && s.applied())) {
                    completed.add(new Runner.Completed(s.index(), plain(s.params()), plain(s.captured()), changed,
                            data));
                }
                if (done) {
                    next = s.index() + 1;
                }
            }
            if (action.rollback) {
                for (Runner.Completed c : completed) {
                    StepCallInfo info = irreversibleChange(catalog, record, c);
                    if (info != null) {
                        System.err.println("snapbook: run " + runId + " completed step " + (c.index() + 1) + " ("
                                + info.name + ", " + info.type + "), which is irreversible: a rollback cannot undo it,"
                                + " and undoing the steps before it would restore what it consumed; nothing was done."
                                + " Finish the run instead: snapbook recover " + runId + " --resume --yes");
                        return 2;
                    }
                }
            }
            Runner runner = new Runner(catalog, reporter);
            Runner.Resume resume = new Runner.Resume(runId, next, completed);
            RunListener.RunFinished finished;
            try (Journal journal = Journal.create(Journal.defaultDirectory())) {
                if (action.rollback) {
                    finished = runner.rollBack(playbook, extraVars, context, journal, resume);
                } else {
                    Map<String, Object> origin = new LinkedHashMap<>();
                    origin.put("playbook_file", start.path("playbook_file").asText());
                    origin.put("playbook_groovy", start.path("playbook_groovy").asBoolean());
                    origin.put("playbook_text", start.path("playbook_text").asText());
                    finished = runner.run(playbook, extraVars, tags, context, journal, origin, resume);
                }
            }
            try (Journal original = Journal.reopen(file, runId)) {
                original.write("run_recovered", Map.of("action", action.rollback ? "rollback" : "resume",
                        "by", finished.runId(), "status", finished.status().name().toLowerCase(java.util.Locale.ROOT)));
            }
            return finished.status().exitCode();
        }
    }

    private static boolean confirmOnTerminal(String runId) {
        java.io.Console console = System.console();
        if (console == null) {
            return false;
        }
        String answer = console.readLine("Resume run %s after its last completed step, without a fresh plan? "
                + "Type 'yes': ", runId);
        return answer != null && answer.strip().equals("yes");
    }

    private record StepCallInfo(String name, String type) {
    }

    /** The completed step {@code c} when it changed something irreversibly, else null. */
    private static StepCallInfo irreversibleChange(StepCatalog catalog, RunRecord record, Runner.Completed c) {
        if (!c.changed()) {
            return null;
        }
        for (RunRecord.StepRecord s : record.steps()) {
            if (s.index() == c.index()) {
                Step step = catalog.get(s.type());
                try {
                    if (step != null && step.reversibility(Steps.restore(step, c.params()))
                            == dev.snapbook.engine.spi.Reversibility.IRREVERSIBLE) {
                        return new StepCallInfo(s.name(), s.type());
                    }
                } catch (StepFailure e) {
                    return null;
                }
            }
        }
        return null;
    }

    /** Whether the step's effect is there now, by its own verify; any failure to verify counts as no. */
    private static boolean reverify(StepCatalog catalog, RunRecord.StepRecord s, Map<String, Object> data,
                                    RunContext context) {
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

    /**
     * Lets the step that was applying when the run stopped end what it left going (a block job: finished
     * when resuming, cancelled when rolling back); its outcome when that completed it, else null.
     */
    private static Outcome settle(StepCatalog catalog, RunRecord.StepRecord s, boolean resuming, RunContext context)
            throws StepFailure {
        Step step = catalog.get(s.type());
        if (step == null) {
            return null;
        }
        Outcome o = step.settle(Steps.restore(step, plain(s.params())), plain(s.captured()), resuming, context);
        if (o != null) {
            System.out.println("  settled " + (s.index() + 1) + ". " + s.name() + ": " + o.message());
        }
        return o;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> plain(JsonNode node) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            return Map.of();
        }
        return Json.MAPPER.convertValue(node, LinkedHashMap.class);
    }
}
