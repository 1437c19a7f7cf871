package dev.snapbook.engine.cli;

import dev.snapbook.engine.journal.Journal;
import dev.snapbook.engine.journal.RunRecord;
import dev.snapbook.engine.load.StepCatalog;
import dev.snapbook.engine.report.Style;
import dev.snapbook.engine.report.TextReporter;
import dev.snapbook.engine.run.Recovery;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

/**
 * {@code snapbook recover RUN_ID}: shows what an interrupted run did; {@code --rollback} undoes it in
 * reverse, {@code --resume} continues from the first step that did not complete. The algorithm is the
 * engine's ({@link Recovery}); this command reads the options, prints, and asks for confirmation.
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
        StepCatalog catalog = StepCatalog.load(getClass().getClassLoader());
        TextReporter reporter = new TextReporter(System.out, Style.detect(), 0);
        Recovery recovery = new Recovery(catalog, Journal.defaultDirectory(), reporter, new Recovery.Notes() {
            @Override
            public void info(String line) {
                System.out.println(line);
            }

            @Override
            public void problem(String line) {
                System.err.println("snapbook: " + line);
            }
        });
        RunRecord record = recovery.find(runId);
        if (record == null) {
            return 2;
        }
        recovery.describe(record);
        if (action == null) {
            recovery.suggest(record);
            return 0;
        }
        return recovery.recover(record, action.rollback ? Recovery.Action.ROLLBACK : Recovery.Action.RESUME,
                () -> yes || confirmOnTerminal(runId)).exitCode();
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

}
