package dev.snapbook.steps.lab;

import dev.snapbook.engine.spi.FactSource;
import dev.snapbook.engine.spi.Param;
import dev.snapbook.engine.spi.Params;
import dev.snapbook.engine.spi.Step;
import dev.snapbook.engine.spi.StepContext;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.engine.spi.World;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.function.Supplier;

/**
 * A {@link StepContext} for tests: shares resources between the steps a test runs, records trace lines,
 * and closes the resources, newest first, in {@link #close()}. Also builds a planning {@link World} from
 * the {@link FactSource}s on the class path, and {@link Params} with defaults applied.
 */
public final class TestStepContext implements StepContext, AutoCloseable {

    private final String uri;
    private final Map<Class<?>, AutoCloseable> resources = new LinkedHashMap<>();
    private final List<String> traces = Collections.synchronizedList(new ArrayList<>());
    private Instant deadline;

    public TestStepContext() {
        this("qemu:///system");
    }

    public TestStepContext(String uri) {
        this.uri = uri;
    }

    @Override
    public String connectionUri() {
        return uri;
    }

    @Override
    public synchronized <T extends AutoCloseable> T resource(Class<T> type, Supplier<T> factory) {
        AutoCloseable existing = resources.get(type);
        if (existing == null) {
            existing = factory.get();
            resources.put(type, existing);
        }
        return type.cast(existing);
    }

    @Override
    public Instant deadline() {
        return deadline;
    }

    public void deadline(Instant when) {
        this.deadline = when;
    }

    private final List<String> progress = Collections.synchronizedList(new ArrayList<>());

    @Override
    public void progress(String what, double percent) {
        progress.add(what + ": " + Math.round(percent) + "%");
    }

    /** Every progress report so far, as {@code what: N%}, in order. */
    public List<String> progressReports() {
        return List.copyOf(progress);
    }

    @Override
    public void trace(String line) {
        traces.add(line);
    }

    /** Every trace line so far, in order. */
    public List<String> traces() {
        return List.copyOf(traces);
    }

    /** A fresh planning world that observes facts through the {@link FactSource}s found by ServiceLoader. */
    public World world() {
        Map<String, FactSource> sources = new LinkedHashMap<>();
        ServiceLoader.load(FactSource.class).forEach(s -> sources.put(s.kind(), s));
        return new World(key -> {
            FactSource source = sources.get(key.kind());
            if (source == null) {
                throw new StepFailure("no fact source for kind '" + key.kind() + "'");
            }
            return source.observe(key.id(), this);
        });
    }

    /** The step's parameters from {@code given}, with defaults applied and values coerced to their types. */
    public static Params params(Step step, Map<String, ?> given) {
        Map<String, Object> values = new LinkedHashMap<>();
        for (Param p : step.params()) {
            Object v = given.containsKey(p.name()) ? given.get(p.name()) : p.defaultValue();
            if (v == null && p.required()) {
                throw new IllegalArgumentException(step.name() + " needs parameter " + p.name());
            }
            values.put(p.name(), v == null ? null : p.type().coerce(v));
        }
        for (String name : given.keySet()) {
            if (!values.containsKey(name)) {
                throw new IllegalArgumentException(step.name() + " has no parameter " + name);
            }
        }
        return new Params(step.name(), values);
    }

    /** Closes every resource, newest first; the first failure is thrown with the others suppressed. */
    @Override
    public synchronized void close() throws Exception {
        List<AutoCloseable> open = new ArrayList<>(resources.values());
        Collections.reverse(open);
        resources.clear();
        Exception first = null;
        for (AutoCloseable r : open) {
            try {
                r.close();
            } catch (Exception e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
