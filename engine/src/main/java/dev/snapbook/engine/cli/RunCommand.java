package dev.snapbook.engine.cli;

import dev.snapbook.engine.journal.Journal;
import dev.snapbook.engine.json.Json;
import dev.snapbook.engine.load.PlaybookError;
import dev.snapbook.engine.load.PlaybookFiles;
import dev.snapbook.engine.load.StepCatalog;
import dev.snapbook.engine.model.Playbook;
import dev.snapbook.engine.plan.PlanReport;
import dev.snapbook.engine.plan.PlannedStep;
import dev.snapbook.engine.plan.SavedPlan;
import dev.snapbook.engine.report.JsonReport;
import dev.snapbook.engine.report.Style;
import dev.snapbook.engine.report.Tee;
import dev.snapbook.engine.report.TextReporter;
import dev.snapbook.engine.run.Execution;
import dev.snapbook.engine.run.RunContext;
import dev.snapbook.engine.run.RunListener;
import dev.snapbook.engine.run.RunStatus;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.engine.world.FactSources;
import dev.snapbook.engine.world.WorldDiff;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.BufferedReader;
import java.io.Console;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/** {@code snapbook run PLAYBOOK|recipe:NAME|FILE.plan}: plan, confirm, run with journal and rollback. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Plan, then run a playbook, a recipe (recipe:NAME) or a saved plan (FILE.plan).")
class RunCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "PLAYBOOK", description = "A .yml/.groovy file, recipe:NAME, or a .plan file.")
    String playbook;

    @Mixin
    Common common;

    @Option(names = "--dry-run", description = "Only plan: observe read-only and show what would happen.")
    boolean dryRun;

    @Option(names = "--yes", description = "Confirm irreversible steps without asking.")
    boolean yes;

    @Option(names = "--out", paramLabel = "FILE", description = "With --dry-run: save the plan to FILE (run it later with 'run FILE').")
    Path out;

    PrintStream stdout = System.out;
    PrintStream stderr = System.err;

    @Override
    public Integer call() {
        try {
            return execute();
        } catch (Common.UsageError | PlaybookError | java.io.IOException e) {
            return refused(2, "invalid", e.getMessage());
        } catch (Journal.JournalException e) {
            return refused(3, "journal_error", e.getMessage());
        } catch (Exception e) {
            // a bug, not the user's input: show it whole so it can be reported
            stderr.println("snapbook: internal error before anything was run: " + e);
            e.printStackTrace(stderr);
            if (jsonAsked()) {
                stdout.println(Json.pretty(JsonReport.refused("internal_error", 2,
                        "internal error before anything was run: " + e)));
            }
            return 2;
        }
    }

    /** Whether {@code --output json} was asked for; an invalid --output is not. */
    private boolean jsonAsked() {
        try {
            return common.json();
        } catch (Common.UsageError e) {
            return false;
        }
    }

    /**
     * Says on stderr why the command stopped before a plan or a run could report, and, with {@code --output json},
     * also as a JSON document on stdout (so that a caller reading the JSON always gets one).
     */
    private int refused(int exitCode, String status, String message) {
        stderr.println("snapbook: " + message);
        if (jsonAsked()) {
            stdout.println(Json.pretty(JsonReport.refused(status, exitCode, message)));
        }
        return exitCode;
    }

    private Integer execute() throws Exception {
        boolean json = common.json();
        StepCatalog catalog = StepCatalog.load(getClass().getClassLoader());
        FactSources facts = FactSources.load(getClass().getClassLoader());
        PlaybookFiles files = common.files(catalog);
        Map<String, Object> extraVars = common.extraVarMap();
        Set<String> tags = common.tags;
        String uri = common.connectionUri();
        PlaybookFiles.Source source;
        SavedPlan saved = null;
        if (playbook.endsWith(".plan") && !playbook.startsWith("recipe:")) {
            try {
                saved = SavedPlan.read(Path.of(playbook), facts);
            } catch (java.nio.file.NoSuchFileException e) {
                throw new Common.UsageError(playbook + ": no such file");
            } catch (IllegalArgumentException e) {
                throw new Common.UsageError(e.getMessage());
            }
            source = saved.source();
            if (!common.extraVars.isEmpty() || !tags.isEmpty() || common.connection != null) {
                throw new Common.UsageError("a saved plan carries its own -e, --tags and connection; "
                        + "plan again to change them");
            }
            extraVars = saved.extraVars();
            tags = saved.tags();
            uri = saved.connection();
        } else {
            source = files.read(playbook);
        }
        Playbook pb = files.load(source);
        Map<String, Object> given = extraVars;
        List<String> missing = pb.vars().entrySet().stream()
                .filter(v -> v.getValue() == null && !given.containsKey(v.getKey()))
                .map(Map.Entry::getKey).toList();
        if (!missing.isEmpty()) {
            throw new Common.UsageError(source.displayName() + " needs " + String.join(" ", missing.stream()
                    .map(k -> "-e " + k + "=VALUE").toList()) + " (its vars without a default)");
        }
        if (out != null && !dryRun) {
            throw new Common.UsageError("--out saves a plan: use it with 'plan' or 'run --dry-run'");
        }

        TextReporter text = new TextReporter(json ? nullStream() : stdout, Style.detect(), common.verbose.length,
                !json && stdout == System.out && TextReporter.isTerminal());
        PrintStream logStream = openLog();
        TextReporter logText = logStream == null ? null : new TextReporter(logStream, new Style(false), 2);
        RunListener listener = logText == null ? text : new Tee(List.of(text, logText));
        Execution execution = new Execution(catalog, facts, listener).lockWait(common.lockWait());
        try (logStream; RunContext context = new RunContext(uri, listener)) {
            if (logText != null) {
                logStream.println("snapbook " + (dryRun ? "plan " : "run ") + playbook + " (connection " + uri
                        + ", started " + java.time.Instant.now() + ")");
            }
            if (saved != null) {
                List<WorldDiff.Difference> drift;
                try {
                    drift = WorldDiff.against(saved.observations(), facts, context);
                } catch (StepFailure e) {
                    stderr.println("snapbook: cannot re-observe the world of the saved plan: " + e.getMessage());
                    return 1;
                }
                if (!drift.isEmpty()) {
                    stderr.println("snapbook: refusing to apply " + playbook + ": the world changed since it was planned:");
                    drift.forEach(d -> stderr.println("  " + d));
                    stderr.println("Plan again.");
                    return RunStatus.PLAN_FAILED.exitCode();
                }
            }
            if (dryRun) {
                PlanReport plan = execution.plan(pb, extraVars, tags, context);
                if (json) {
                    stdout.println(Json.pretty(JsonReport.of(plan)));
                } else {
                    text.printPlan(plan, uri);
                }
                if (logText != null) {
                    logText.printPlan(plan, uri);
                }
                if (out != null) {
                    SavedPlan.write(out, source, extraVars, tags, uri, plan);
                    if (!json) {
                        stdout.println("plan saved to " + out + "; apply it with: snapbook run " + out);
                    }
                }
                return plan.exitCode();
            }
            Interrupts interrupts = Interrupts.install(context, stderr);
            Execution.Result result;
            try {
                result = execution.run(pb, source, extraVars, tags, context, Journal.defaultDirectory(), this::confirm);
            } finally {
                interrupts.uninstall();
            }
            if (result.run() == null) {
                if (!json) {
                    text.printPlan(result.plan(), uri);
                }
                if (logText != null) {
                    logText.printPlan(result.plan(), uri);
                    logStream.println("snapbook: " + result.message());
                }
                stderr.println("snapbook: " + result.message());
            }
            if (json) {
                stdout.println(Json.pretty(JsonReport.of(result)));
            }
            return result.exitCode();
        }
    }

    /** The --log file, replaced, or null without --log; a file that cannot be written is a usage error. */
    private PrintStream openLog() {
        if (common.log == null) {
            return null;
        }
        try {
            return new PrintStream(java.nio.file.Files.newOutputStream(common.log), true,
                    java.nio.charset.StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new Common.UsageError("--log " + common.log + ": cannot write it: " + e.getMessage());
        }
    }

    private boolean confirm(List<PlannedStep> irreversible) {
        if (yes) {
            return true;
        }
        Console console = System.console();
        if (console == null) {
            stderr.println("snapbook: " + irreversible.size() + " irreversible step(s) and no terminal to ask: "
                    + "refusing before doing anything; pass --yes to confirm");
            return false;
        }
        console.printf("These steps cannot be undone:%n");
        for (PlannedStep s : irreversible) {
            console.printf("  %d. %s [%s]%n", s.index() + 1, s.name(), s.type());
        }
        String answer = console.readLine("Type 'yes' to run them: ");
        return answer != null && answer.strip().equals("yes");
    }

    private static PrintStream nullStream() {
        return new PrintStream(java.io.OutputStream.nullOutputStream());
    }
}
