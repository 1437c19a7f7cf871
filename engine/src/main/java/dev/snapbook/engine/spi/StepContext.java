package dev.snapbook.engine.spi;

import java.time.Instant;
import java.util.function.Supplier;

/**
 * What a step sees of the run while it applies, verifies or undoes: the connection, shared resources,
 * the deadline, and where to report progress.
 */
public interface StepContext {

    /** The libvirt connection URI this run works on, e.g. {@code qemu:///system}. */
    String connectionUri();

    /**
     * A resource shared by all steps of the run (a libvirt connection, say), created on first use and
     * closed when the run ends.
     */
    <T extends AutoCloseable> T resource(Class<T> type, Supplier<T> factory);

    /** When the current step must finish, or null for no limit. Long waits stop at this instant. */
    Instant deadline();

    /** Reports progress of long work (percent 0..100) and notes, shown to the user. */
    void progress(String what, double percent);

    /**
     * Reports progress of long work measured in bytes ({@code done} of {@code total}), so a terminal can show
     * the rate and the time left. The default reports the percent only.
     */
    default void progress(String what, long done, long total) {
        progress(what, total > 0 ? Math.min(100.0, 100.0 * done / total) : 0);
    }

    /** Prints a detail line at {@code -v}: each libvirt call and command line. */
    void trace(String line);

    /**
     * Whether the user asked the run to stop (Ctrl-C, SIGTERM). Long waits check it and stop cleanly (a
     * block job is cancelled, not left behind) by failing; the run then rolls back what was done.
     */
    default boolean cancelled() {
        return false;
    }
}
