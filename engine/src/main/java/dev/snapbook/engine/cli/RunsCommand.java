package dev.snapbook.engine.cli;

import dev.snapbook.engine.journal.Journal;
import dev.snapbook.engine.journal.RunRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code snapbook runs}: recent runs from their journals, with their state. */
@Command(name = "runs", mixinStandardHelpOptions = true,
        description = "List recent runs: completed, rolled back, failed, running or interrupted.")
class RunsCommand implements Callable<Integer> {

    @Option(names = "--last", defaultValue = "20", description = "How many runs to show (default 20).")
    int last;

    @Override
    public Integer call() throws IOException {
        List<RunRecord> runs = RunRecord.all(Journal.defaultDirectory());
        if (runs.isEmpty()) {
            System.out.println("no runs in " + Journal.defaultDirectory());
            return 0;
        }
        System.out.printf("%-24s %-20s %-6s %s%n", "RUN ID", "STATE", "STEPS", "PLAYBOOK");
        for (RunRecord r : runs.subList(0, Math.min(last, runs.size()))) {
            long applied = r.steps().stream().filter(RunRecord.StepRecord::applied).count();
            System.out.printf("%-24s %-20s %-6s %s%n", r.runId(), r.status(), applied + "/" + r.steps().size(),
                    r.playbook());
        }
        if (runs.stream().anyMatch(r -> r.status().equals("interrupted"))) {
            System.out.println("an interrupted run can be inspected and rolled back or resumed: snapbook recover RUN_ID");
        }
        return 0;
    }
}
