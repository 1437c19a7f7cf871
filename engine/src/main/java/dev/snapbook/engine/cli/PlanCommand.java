package dev.snapbook.engine.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code snapbook plan}: the same as {@code run --dry-run}. */
@Command(name = "plan", mixinStandardHelpOptions = true,
        description = "Show what a playbook would do, simulated against the observed state; changes nothing.")
class PlanCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "PLAYBOOK", description = "A .yml/.groovy file or recipe:NAME.")
    String playbook;

    @Mixin
    Common common;

    @Option(names = "--out", paramLabel = "FILE", description = "Save the plan to FILE; apply it later with 'snapbook run FILE'.")
    Path out;

    @Override
    public Integer call() {
        RunCommand run = new RunCommand();
        run.playbook = playbook;
        run.common = common;
        run.dryRun = true;
        run.out = out;
        return run.call();
    }
}
