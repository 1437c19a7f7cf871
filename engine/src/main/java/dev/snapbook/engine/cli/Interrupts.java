package dev.snapbook.engine.cli;

import dev.snapbook.engine.run.RunContext;
import sun.misc.Signal;
import sun.misc.SignalHandler;

import java.io.PrintStream;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Ctrl-C and SIGTERM during a run: the first asks the run to stop — the current step finishes or stops
 * cleanly (a block job is cancelled), then completed steps are rolled back; the second stops the process
 * at once, leaving the journal for {@code snapbook recover}.
 *
 * <p>Uses {@code sun.misc.Signal} (module jdk.unsupported), the only way for a Java program to handle a
 * signal without exiting.
 */
final class Interrupts {

    private final SignalHandler previousInt;
    private final SignalHandler previousTerm;

    private Interrupts(SignalHandler previousInt, SignalHandler previousTerm) {
        this.previousInt = previousInt;
        this.previousTerm = previousTerm;
    }

    static Interrupts install(RunContext context, PrintStream err) {
        AtomicInteger count = new AtomicInteger();
        SignalHandler handler = signal -> {
            if (count.incrementAndGet() == 1) {
                err.println();
                err.println("snapbook: SIG" + signal.getName() + ": stopping after the current step, then rolling "
                        + "back what was done; press Ctrl-C again to stop at once (then: snapbook recover)");
                context.cancel();
            } else {
                err.println("snapbook: stopping at once; the journal says what was done: snapbook runs");
                Runtime.getRuntime().halt(130);
            }
        };
        SignalHandler previousInt = Signal.handle(new Signal("INT"), handler);
        SignalHandler previousTerm = Signal.handle(new Signal("TERM"), handler);
        return new Interrupts(previousInt, previousTerm);
    }

    void uninstall() {
        Signal.handle(new Signal("INT"), previousInt);
        Signal.handle(new Signal("TERM"), previousTerm);
    }
}
