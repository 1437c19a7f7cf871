package dev.snapbook.engine.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Deep-immutable copies of the plain values a playbook holds: strings, numbers, booleans, lists, maps, templates. */
public final class Values {

    /**
     * How deep a playbook's lists and mappings may nest, counted from the top of the file (the playbook
     * mapping is level 1). Both loaders refuse deeper input with a located error, so that the code walking
     * values recursively (validation, templates, the journal) never runs out of stack.
     */
    public static final int MAX_DEPTH = 50;

    private Values() {
    }

    /** A deep, unmodifiable, order-keeping copy of {@code map}; null becomes an empty map. */
    public static Map<String, Object> freezeMap(Map<String, ?> map) {
        if (map == null) {
            return Map.of();
        }
        Map<String, Object> copy = new LinkedHashMap<>();
        map.forEach((k, v) -> copy.put(k, freeze(v)));
        return Collections.unmodifiableMap(copy);
    }

    /** A deep, unmodifiable copy of a plain value. Integers of every width become {@link Long}. */
    public static Object freeze(Object value) {
        if (value instanceof Map<?, ?> m) {
            Map<String, Object> copy = new LinkedHashMap<>();
            m.forEach((k, v) -> copy.put(String.valueOf(k), freeze(v)));
            return Collections.unmodifiableMap(copy);
        }
        if (value instanceof List<?> l) {
            List<Object> copy = new ArrayList<>(l.size());
            l.forEach(v -> copy.add(freeze(v)));
            return Collections.unmodifiableList(copy);
        }
        if (value instanceof Integer || value instanceof Short || value instanceof Byte) {
            return ((Number) value).longValue();
        }
        if (value instanceof java.math.BigInteger b) {
            return b.longValueExact();
        }
        if (value instanceof Float f) {
            return f.doubleValue();
        }
        return value;
    }
}
