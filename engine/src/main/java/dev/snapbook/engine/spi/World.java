package dev.snapbook.engine.spi;

import java.util.Collections;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What snapbook knows of the machine while planning: facts observed read-only from the real system,
 * overlaid with the changes that earlier steps of the plan predict.
 *
 * <p>Facts are observed lazily, the first time a step asks, and remembered: the whole plan sees one
 * consistent observation. {@link #fork()} gives an independent copy sharing the observations, so a
 * step's predictions never leak into the world it was planned against.
 */
public final class World {

    /** Observes a fact of the real world, read-only. */
    @FunctionalInterface
    public interface Observer {
        Object observe(FactKey<?> key) throws StepFailure;
    }

    private static final Object ABSENT = new Object() {
        @Override
        public String toString() {
            return "<absent>";
        }
    };

    private final Observer observer;
    private final Map<FactKey<?>, Object> observed;
    private final Map<FactKey<?>, Object> predicted;

    public World(Observer observer) {
        this(observer, new LinkedHashMap<>(), new LinkedHashMap<>());
    }

    private World(Observer observer, Map<FactKey<?>, Object> observed, Map<FactKey<?>, Object> predicted) {
        this.observer = Objects.requireNonNull(observer, "observer");
        this.observed = observed;
        this.predicted = predicted;
    }

    /** The fact as predicted at this point of the plan, or null when it does not (or will not) exist. */
    public <T> T get(FactKey<T> key) throws StepFailure {
        if (predicted.containsKey(key)) {
            return unwrap(key, predicted.get(key));
        }
        return observed(key);
    }

    /** The fact as observed in the real world before any step, or null when it does not exist. */
    public <T> T observed(FactKey<T> key) throws StepFailure {
        synchronized (observed) {
            if (observed.containsKey(key)) {
                return unwrap(key, observed.get(key));
            }
        }
        Object fact = observer.observe(key);
        synchronized (observed) {
            observed.putIfAbsent(key, fact == null ? ABSENT : fact);
            return unwrap(key, observed.get(key));
        }
    }

    /**
     * Observes, on up to {@code threads} threads at once, those of {@code keys} not observed yet, so that the
     * {@link #get}s that follow find them: a plan that reads every domain of a host with a thousand of them waits
     * mostly on libvirt's replies, which libvirtd gives in parallel. An observation that fails is left for the
     * {@code get} that follows to make again, and to report in order.
     */
    public void prefetch(java.util.Collection<? extends FactKey<?>> keys, int threads) {
        List<FactKey<?>> missing = new java.util.ArrayList<>();
        synchronized (observed) {
            for (FactKey<?> key : keys) {
                if (!observed.containsKey(key) && !predicted.containsKey(key)) {
                    missing.add(key);
                }
            }
        }
        if (missing.size() < 2 || threads < 2) {
            return;
        }
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(
                Math.min(threads, missing.size()), r -> {
                    Thread t = new Thread(r, "snapbook-observe");
                    t.setDaemon(true);
                    return t;
                });
        try {
            List<java.util.concurrent.Future<?>> done = new java.util.ArrayList<>();
            for (FactKey<?> key : missing) {
                done.add(pool.submit(() -> {
                    try {
                        observed(key);
                    } catch (StepFailure | RuntimeException e) {
                        // left for the get that follows, which observes it again and reports it in order
                    }
                }));
            }
            for (java.util.concurrent.Future<?> f : done) {
                try {
                    f.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    // cannot happen: each task catches what its observation throws
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            pool.shutdownNow();
        }
    }

    /** Predicts the fact's value after the current step; null predicts that it will not exist. */
    public <T> void put(FactKey<T> key, T fact) {
        predicted.put(key, fact == null ? ABSENT : key.type().cast(fact));
    }

    /** An independent copy that shares the observations made so far and later. */
    public World fork() {
        return new World(observer, observed, new LinkedHashMap<>(predicted));
    }

    /** Every fact observed so far; absent facts map to null. */
    public Map<FactKey<?>, Object> observations() {
        return nullsForAbsent(observed);
    }

    /** Every fact this world predicts differently from the observation; predicted absence maps to null. */
    public Map<FactKey<?>, Object> predictions() {
        return nullsForAbsent(predicted);
    }

    private static Map<FactKey<?>, Object> nullsForAbsent(Map<FactKey<?>, Object> facts) {
        Map<FactKey<?>, Object> copy = new LinkedHashMap<>();
        facts.forEach((k, v) -> copy.put(k, v == ABSENT ? null : v));
        return Collections.unmodifiableMap(copy);
    }

    private static <T> T unwrap(FactKey<T> key, Object fact) {
        return fact == ABSENT ? null : key.type().cast(fact);
    }
}
