package dev.snapbook.engine.spi;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A step's parameters after expressions were evaluated and defaults applied, converted to the declared
 * {@link ParamType}s. During planning a value may be {@link Unknown}; the engine only plans a step whose
 * parameters are all known.
 */
public final class Params {

    private final String stepType;
    private final Map<String, Object> values;

    public Params(String stepType, Map<String, Object> values) {
        this.stepType = stepType;
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    /** The step type these parameters are for ({@code block.commit}). */
    public String stepType() {
        return stepType;
    }

    public Map<String, Object> asMap() {
        return values;
    }

    public boolean has(String name) {
        return values.get(name) != null;
    }

    public String string(String name) {
        return (String) require(name);
    }

    /** The string, or null when the parameter was not given and has no default. */
    public String optString(String name) {
        return (String) values.get(name);
    }

    public long integer(String name) {
        return (Long) require(name);
    }

    public boolean bool(String name) {
        Object v = values.get(name);
        return v != null && (Boolean) v;
    }

    public Duration duration(String name) {
        return (Duration) require(name);
    }

    public Duration optDuration(String name) {
        return (Duration) values.get(name);
    }

    @SuppressWarnings("unchecked")
    public List<Object> list(String name) {
        Object v = values.get(name);
        return v == null ? List.of() : (List<Object>) v;
    }

    @SuppressWarnings("unchecked")
    public Map<String, Object> map(String name) {
        Object v = values.get(name);
        return v == null ? Map.of() : (Map<String, Object>) v;
    }

    public Object get(String name) {
        return values.get(name);
    }

    private Object require(String name) {
        Object v = values.get(name);
        if (v == null) {
            throw new IllegalStateException("step " + stepType + ": parameter '" + name + "' has no value");
        }
        return v;
    }

    @Override
    public String toString() {
        return values.toString();
    }
}
