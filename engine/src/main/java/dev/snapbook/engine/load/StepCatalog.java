package dev.snapbook.engine.load;

import dev.snapbook.engine.spi.Step;

import java.util.Collection;
import java.util.Collections;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeMap;

/** Every step type on the class path, found with {@link ServiceLoader}, by dotted name. */
public final class StepCatalog {

    private final TreeMap<String, Step> steps = new TreeMap<>();

    /** The catalogue of the given steps; a name given twice is an error. */
    public StepCatalog(Iterable<? extends Step> found) {
        for (Step s : found) {
            Step previous = steps.put(s.name(), s);
            if (previous != null) {
                throw new IllegalStateException("two step implementations are named '" + s.name() + "': "
                        + previous.getClass().getName() + " and " + s.getClass().getName()
                        + "; remove one of their jars from the class path");
            }
        }
    }

    /** The steps found on the class path of {@code loader}. */
    public static StepCatalog load(ClassLoader loader) {
        return new StepCatalog(ServiceLoader.load(Step.class, loader));
    }

    /** The step named {@code name}, or null. */
    public Step get(String name) {
        return steps.get(name);
    }

    public Set<String> names() {
        return Collections.unmodifiableSet(steps.keySet());
    }

    public Collection<Step> all() {
        return Collections.unmodifiableCollection(steps.values());
    }
}
