package dev.snapbook.engine.world;

import dev.snapbook.engine.spi.FactKey;
import dev.snapbook.engine.spi.FactSource;
import dev.snapbook.engine.spi.StepContext;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.engine.spi.World;

import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

/** Every {@link FactSource} on the class path, by kind; observes facts for a {@link World}. */
public final class FactSources {

    private final Map<String, FactSource> byKind = new TreeMap<>();

    public FactSources(Iterable<? extends FactSource> sources) {
        for (FactSource s : sources) {
            if (byKind.put(s.kind(), s) != null) {
                throw new IllegalStateException("two fact sources observe kind '" + s.kind() + "'");
            }
        }
    }

    public static FactSources load(ClassLoader loader) {
        return new FactSources(ServiceLoader.load(FactSource.class, loader));
    }

    /** The source of {@code kind}, or null. */
    public FactSource get(String kind) {
        return byKind.get(kind);
    }

    /** An observer that reads facts through {@code context} (read-only calls only). */
    public World.Observer observer(StepContext context) {
        return key -> observe(key, context);
    }

    /** A fresh, read-only observation of {@code key}. */
    public Object observe(FactKey<?> key, StepContext context) throws StepFailure {
        FactSource source = byKind.get(key.kind());
        if (source == null) {
            throw new StepFailure("no fact source observes '" + key.kind() + "' facts (asked for " + key + ")",
                    "the jar providing it is missing from the class path");
        }
        return source.observe(key.id(), context);
    }

    /** A new world observing through {@code context}. */
    public World newWorld(StepContext context) {
        return new World(observer(context));
    }
}
