package dev.snapbook.engine.cli;

import dev.snapbook.engine.expr.DidYouMeanText;
import dev.snapbook.engine.load.StepCatalog;
import dev.snapbook.engine.spi.Param;
import dev.snapbook.engine.spi.Step;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

/** {@code snapbook steps [NAME]}: the step catalogue, or one step's parameters. */
@Command(name = "steps", mixinStandardHelpOptions = true, description = "List step types, or describe one.")
class StepsCommand implements Callable<Integer> {

    @Parameters(index = "0", arity = "0..1", paramLabel = "NAME", description = "A step type, e.g. domain.shutdown.")
    String name;

    @Override
    public Integer call() {
        StepCatalog catalog = StepCatalog.load(getClass().getClassLoader());
        if (name == null) {
            for (Step s : catalog.all()) {
                System.out.printf("%-20s %s%n", s.name(), s.summary());
            }
            return 0;
        }
        Step s = catalog.get(name);
        if (s == null) {
            System.err.println("snapbook: unknown step type '" + name + "'" + DidYouMeanText.suggest(name, catalog.names()));
            return 2;
        }
        System.out.println(s.name() + " — " + s.summary());
        System.out.println("parameters:");
        for (Param p : s.params()) {
            Object def = p.defaultValue() instanceof java.time.Duration d
                    ? dev.snapbook.engine.spi.Durations.format(d) : p.defaultValue();
            String req = p.required() ? "required" : def == null ? "optional" : "optional, default " + def;
            String choices = p.choices().isEmpty() ? "" : ", one of " + String.join("|", p.choices());
            System.out.printf("  %-12s %s (%s%s)%n      %s%n", p.name(), p.type().label(), req, choices, p.description());
        }
        return 0;
    }
}
