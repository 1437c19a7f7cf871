package dev.snapbook.engine.report;

import dev.snapbook.engine.plan.PlanReport;
import dev.snapbook.engine.plan.PlannedStep;
import dev.snapbook.engine.run.RunListener;
import dev.snapbook.engine.run.StepReport;
import dev.snapbook.engine.run.StepStatus;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.engine.spi.WorldRenderer;

import java.io.PrintStream;
import java.util.EnumMap;
import java.util.Map;

/**
 * Prints a plan, and a run as it happens, one line per step, then a recap line. Long work shows a progress
 * bar redrawn in place on a terminal, and plain periodic lines elsewhere. Verbosity 1 ({@code -v}) adds each
 * libvirt call and command line as it happens; 2 ({@code -vv}) also each journal entry as it is written.
 */
public final class TextReporter implements RunListener {

    private final PrintStream out;
    private final Style style;
    private final int verbosity;
    private final ProgressBar bar;
    private JournalTail journal;

    public TextReporter(PrintStream out, Style style, int verbosity) {
        this(out, style, verbosity, false);
    }

    /** With {@code terminal}, progress is a bar redrawn in place (see {@link #isTerminal()}). */
    public TextReporter(PrintStream out, Style style, int verbosity, boolean terminal) {
        this.out = out;
        this.style = style;
        this.verbosity = verbosity;
        this.bar = terminal ? new ProgressBar(out, ProgressBar.terminalColumns()) : null;
    }

    /** Whether standard output is an interactive terminal that can redraw a line: a console, TERM not dumb. */
    public static boolean isTerminal() {
        return System.console() != null && !"dumb".equals(System.getenv("TERM"));
    }

    @Override
    public void onRunStarted(RunStarted e) {
        println(style.bold("RUN " + e.playbook()) + "  run id " + e.runId());
        println(style.dim("journal: " + e.journal()));
        if (verbosity > 1) {
            journal = new JournalTail(java.nio.file.Path.of(e.journal()));
            echoJournal();
        }
    }

    @Override
    public void onStepStarted(StepStarted e) {
        echoJournal();
    }

    @Override
    public void onStepFinished(StepFinished e) {
        echoJournal();
        println(line(e.step()));
    }

    @Override
    public void onStepUndone(StepUndone e) {
        echoJournal();
        println(line(e.step()));
    }

    /** Prints a line, first ending a progress bar's line if one is drawn. */
    private synchronized void println(String line) {
        if (bar != null) {
            bar.end();
        }
        out.println(line);
    }

    /** At -vv: the journal entries written since the last look, one JSON line each. */
    private void echoJournal() {
        if (journal != null) {
            for (String entry : journal.newEntries()) {
                println(style.dim("  journal: " + entry));
            }
        }
    }

    private String lastProgress;
    private long lastProgressAt;

    @Override
    public void onStepProgress(String what, double percent) {
        onStepProgress(new StepProgress(what, percent, -1, -1));
    }

    /** A bar on a terminal; elsewhere plain periodic lines: at most one every 2 seconds per activity, and its end. */
    @Override
    public synchronized void onStepProgress(StepProgress p) {
        if (bar != null) {
            bar.update(p);
            return;
        }
        String what = p.what();
        double percent = p.percent();
        long now = System.nanoTime();
        boolean same = what.equals(lastProgress);
        if (same && percent < 100 && now - lastProgressAt < 2_000_000_000L) {
            return;
        }
        lastProgress = what;
        lastProgressAt = now;
        out.printf("  ... %s %.0f%%%n", what, percent);
    }

    @Override
    public void onTrace(String line) {
        if (verbosity > 0) {
            echoJournal();
            println(style.dim("  > " + line));
        }
    }

    @Override
    public void onRunFinished(RunFinished e) {
        echoJournal();
        if (bar != null) {
            bar.end();
        }
        Map<StepStatus, Integer> counts = new EnumMap<>(StepStatus.class);
        for (StepReport s : e.steps()) {
            counts.merge(s.status(), 1, Integer::sum);
        }
        StringBuilder recap = new StringBuilder("recap:");
        for (StepStatus s : StepStatus.values()) {
            recap.append(' ').append(s.label().replace(' ', '_')).append('=').append(counts.getOrDefault(s, 0));
        }
        out.println(recap + "  => " + colour(e.status().exitCode(), e.status().label()));
        if (!e.problems().isEmpty()) {
            out.println(style.red("first failure: ") + e.problems().get(0));
            for (String p : e.problems().subList(1, e.problems().size())) {
                out.println(style.red("also: ") + p);
            }
        }
        if (e.status().exitCode() == 3) {
            out.println(style.red("ATTENTION: the rollback did not complete. Steps marked 'NOT rolled back' "
                    + "need a look; the journal " + e.journal() + " records what was done and the state before it."));
        }
    }

    /** Prints a plan: each step, what it would do, irreversible marks, unknowns; then a summary. */
    public void printPlan(PlanReport plan, String connection) {
        if (bar != null) {
            bar.end();
        }
        out.println(style.bold("PLAN " + plan.playbook()) + "  (connection " + connection + "; nothing is changed)");
        for (PlannedStep s : plan.steps()) {
            String head = String.format("  %-17s %s%d. %s [%s]", label(s), s.section().equals("steps") ? ""
                    : s.section() + " ", s.index() + 1, s.name(), s.type());
            if (s.irreversible()) {
                head += " " + style.red("IRREVERSIBLE");
            }
            out.println(head);
            for (String a : s.actions()) {
                out.println("        - " + a);
            }
            for (String n : s.notes()) {
                out.println("        ! " + n);
            }
        }
        long irreversible = plan.irreversibleSteps().size();
        if (plan.feasible()) {
            printPicture(plan);
            out.println("plan: feasible" + (irreversible > 0 ? ", " + irreversible
                    + " irreversible step(s): run needs --yes or a typed yes" : ""));
        } else {
            out.println(style.red("plan: NOT feasible: ") + plan.failure());
        }
    }

    /**
     * What the plan changes, today and after the run, as the {@link WorldRenderer}s on the class path draw it
     * (snapshot trees and backing chains); see {@link Pictures}.
     */
    private void printPicture(PlanReport plan) {
        java.util.List<String> lines = new java.util.ArrayList<>();
        for (WorldRenderer.Drawing d : Pictures.of(plan)) {
            lines.add("today:");
            d.today().lines().forEach(l -> lines.add("  " + l));
            lines.add("after the run:");
            d.after().lines().forEach(l -> lines.add("  " + l));
        }
        if (!lines.isEmpty()) {
            out.println(style.bold("today -> after the run:"));
            lines.forEach(l -> out.println("  " + l));
        }
    }

    private String label(PlannedStep s) {
        String l = s.status().label();
        return switch (s.status()) {
            case WILL_FAIL -> style.red(pad(l));
            case CONDITION_UNKNOWN, UNPLANNABLE -> style.yellow(pad(l));
            case WILL_RUN -> s.changes() ? style.yellow(pad("will change")) : style.green(pad(l));
            default -> style.dim(pad(l));
        };
    }

    private static String pad(String s) {
        return String.format("%-17s", s);
    }

    private String line(StepReport s) {
        String label = String.format("%-15s", s.status().label());
        label = switch (s.status()) {
            case OK -> style.green(label);
            case CHANGED -> style.yellow(label);
            case FAILED, NOT_ROLLED_BACK -> style.red(label);
            case ROLLED_BACK -> style.cyan(label);
            default -> style.dim(label);
        };
        String where = s.section().equals("steps") ? "" : s.section() + " ";
        String msg = s.message() == null || s.message().isEmpty() ? "" : "  " + s.message();
        return "  " + label + " " + where + (s.index() + 1) + ". " + s.name() + " [" + s.type() + "]" + msg;
    }

    private String colour(int exit, String text) {
        return exit == 0 ? style.green(text) : style.red(text);
    }
}
