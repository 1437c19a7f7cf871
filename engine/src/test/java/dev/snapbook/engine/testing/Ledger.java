package dev.snapbook.engine.testing;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The in-memory "system" the test steps act on: named counters, and the log of every apply and undo,
 * so tests can check what ran and in which order. Tests share one ledger through the run context.
 */
public final class Ledger implements AutoCloseable {

    /** The ledger of runs started through the CLI, which cannot be handed one. */
    public static final Ledger SHARED = new Ledger();

    public final Map<String, Long> counters = Collections.synchronizedMap(new LinkedHashMap<>());
    public final List<String> log = Collections.synchronizedList(new ArrayList<>());
    /** How many times a counter was observed (a plan, or a step reading the system), for tests that count reads. */
    public final java.util.concurrent.atomic.AtomicInteger observations = new java.util.concurrent.atomic.AtomicInteger();

    @Override
    public void close() {
        // nothing to release; the test keeps reading it after the run
    }
}
