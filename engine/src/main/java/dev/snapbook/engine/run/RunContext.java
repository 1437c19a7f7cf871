package dev.snapbook.engine.run;

import dev.snapbook.engine.spi.StepContext;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The {@link StepContext} of one plan or run: one set of shared resources (one libvirt connection per
 * run), closed in reverse order of creation when the run ends.
 */
public final class RunContext implements StepContext, AutoCloseable {

    private final String connectionUri;
    private final RunListener listener;
    private final Map<Class<?>, AutoCloseable> resources = new LinkedHashMap<>();
    private final Deque<AutoCloseable> closeOrder = new ArrayDeque<>();
    private volatile Instant deadline;
    private final java.util.concurrent.atomic.AtomicBoolean cancelled = new java.util.concurrent.atomic.AtomicBoolean();

    public RunContext(String connectionUri, RunListener listener) {
        this.connectionUri = connectionUri;
        this.listener = listener;
    }

    @Override
    public String connectionUri() {
        return connectionUri;
    }

    @Override
    public synchronized <T extends AutoCloseable> T resource(Class<T> type, Supplier<T> factory) {
        AutoCloseable r = resources.get(type);
        if (r == null) {
            r = factory.get();
            resources.put(type, r);
            closeOrder.push(r);
        }
        return type.cast(r);
    }

    @Override
    public Instant deadline() {
        return deadline;
    }

    void deadline(Instant newDeadline) {
        this.deadline = newDeadline;
    }

    @Override
    public boolean cancelled() {
        return cancelled.get();
    }

    /** Asks the run to stop: the current step finishes or stops cleanly, then completed steps are undone. */
    public void cancel() {
        cancelled.set(true);
    }

    @Override
    public void progress(String what, double percent) {
        listener.onStepProgress(what, percent);
    }

    @Override
    public void progress(String what, long done, long total) {
        double percent = total > 0 ? Math.min(100.0, 100.0 * done / total) : 0;
        listener.onStepProgress(new RunListener.StepProgress(what, percent, done, total));
    }

    @Override
    public void trace(String line) {
        listener.onTrace(line);
    }

    /** Closes every resource; failures to close are attached to the first one thrown. */
    @Override
    public synchronized void close() throws Exception {
        Exception first = null;
        while (!closeOrder.isEmpty()) {
            try {
                closeOrder.pop().close();
            } catch (Exception e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        resources.clear();
        if (first != null) {
            throw first;
        }
    }
}
