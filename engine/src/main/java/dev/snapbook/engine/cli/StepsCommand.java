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

    private static void section(String title, String text) {
        if (!text.isEmpty()) {
            System.out.println(title + ":");
            System.out.println(wrap(text, "      ", 100));
        }
    }

    /** {@code text} wrapped at word boundaries to {@code width} columns, each line indented. */
    static String wrap(String text, String indent, int width) {
        StringBuilder out = new StringBuilder();
        StringBuilder line = new StringBuilder(indent);
        for (String word : text.split(" ")) {
            if (line.length() > indent.length() && line.length() + 1 + word.length() > width) {
                out.append(line).append('\n');
                line = new StringBuilder(indent);
            }
            if (line.length() > indent.length()) {
                line.append(' ');
            }
            line.append(word);
        }
        return out.append(line).toString();
    }

    /** The step's reversibility with its default parameters; some steps decide from their parameters. */
    private static String reversibility(Step s) {
        java.util.Map<String, Object> defaults = new java.util.LinkedHashMap<>();
        for (Param p : s.params()) {
            if (p.defaultValue() != null) {
                defaults.put(p.name(), p.defaultValue());
            }
        }
        try {
            return switch (s.reversibility(new dev.snapbook.engine.spi.Params(s.name(), defaults))) {
                case REVERSIBLE -> "can be undone";
                case NOTHING_TO_UNDO -> "nothing to undo (read-only)";
                case IRREVERSIBLE -> "IRREVERSIBLE (needs --yes or a typed yes)";
            };
        } catch (RuntimeException e) {
            return "depends on its parameters";
        }
    }

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
        section("preconditions (checked in the plan)", s.preconditions());
        section("verifies (against libvirt and qemu-img after it ran)", s.verifies());
        System.out.println("undo: " + reversibility(s));
        if (!s.undoes().isEmpty()) {
            System.out.println(wrap(s.undoes(), "      ", 100));
        }
        return 0;
    }
}
