package dev.snapbook.engine.spi;

import java.util.Map;

/**
 * What a step's {@link Step#apply} returned.
 *
 * @param changed whether it changed anything
 * @param data    the values it exposes to later steps through {@code register}; plain values only
 * @param message one line for the report
 */
public record Outcome(boolean changed, Map<String, Object> data, String message) {

    public Outcome {
        data = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(data));
    }

    public static Outcome unchanged(String message, Map<String, Object> data) {
        return new Outcome(false, data, message);
    }

    public static Outcome changed(String message, Map<String, Object> data) {
        return new Outcome(true, data, message);
    }
}
