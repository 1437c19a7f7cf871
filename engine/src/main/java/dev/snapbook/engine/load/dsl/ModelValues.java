package dev.snapbook.engine.load.dsl;

import dev.snapbook.engine.model.Template;
import dev.snapbook.engine.model.Values;
import java.lang.reflect.Array;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns the values a Groovy script passes to the DSL into the values YAML gives for the same text:
 * strings (a {@link Template} when they hold {@code {{ }}}), integers, doubles, booleans, null, lists
 * and maps. {@link Ref}s and GStrings holding them become templates. {@code Values.freeze} (called by
 * the model) then makes them immutable and widens integers to {@code Long}.
 */
final class ModelValues {

    private ModelValues() {
    }

    /**
     * The model value of {@code value}.
     *
     * @param field where the value is written, for the error message
     * @throws DslError for a value YAML could not hold (a closure, a date, a file...), and for lists and
     *                  maps nested deeper than {@link Values#MAX_DEPTH} (a list that contains itself is one)
     */
    static Object of(Object value, String field) {
        return of(value, field, 1);
    }

    private static Object of(Object value, String field, int depth) {
        if ((value instanceof Double || value instanceof Float) && !Double.isFinite(((Number) value).doubleValue())) {
            throw new DslError(field, value + " is not a finite number; YAML refuses it too");
        }
        if (value == null || value instanceof Boolean || value instanceof Long || value instanceof Integer
                || value instanceof Short || value instanceof Byte || value instanceof Double
                || value instanceof Float) {
            return value;
        }
        if (value instanceof Ref r) {
            return new Template(r.toString());
        }
        if (value instanceof CharSequence || value instanceof Character) {
            return Template.of(value.toString()); // a GString prints its Refs as {{ path }}
        }
        if (value instanceof BigDecimal d) {
            double v = d.doubleValue(); // Groovy's 0.5 is a BigDecimal; YAML's is a double
            if (!Double.isFinite(v)) {
                throw new DslError(field, d + " is too large for a 64-bit floating point number");
            }
            return v;
        }
        if (value instanceof BigInteger b) {
            if (b.bitLength() >= Long.SIZE) {
                throw new DslError(field, b + " does not fit in a 64-bit integer");
            }
            return b.longValue();
        }
        if ((value instanceof Map<?, ?> || value instanceof Collection<?> || value.getClass().isArray())
                && depth > Values.MAX_DEPTH) {
            throw new DslError(field, "lists and maps nest more than " + Values.MAX_DEPTH
                    + " levels deep here (or one contains itself)");
        }
        if (value instanceof Map<?, ?> m) {
            Map<String, Object> copy = new LinkedHashMap<>();
            m.forEach((k, v) -> {
                String key = String.valueOf(k);
                copy.put(key, of(v, field + "." + key, depth + 1));
            });
            return copy;
        }
        if (value instanceof Collection<?> c) {
            List<Object> copy = new ArrayList<>(c.size());
            int i = 0;
            for (Object v : c) {
                copy.add(of(v, field + "[" + i++ + "]", depth + 1));
            }
            return copy;
        }
        if (value.getClass().isArray()) {
            List<Object> copy = new ArrayList<>();
            for (int i = 0; i < Array.getLength(value); i++) {
                copy.add(of(Array.get(value, i), field + "[" + i + "]", depth + 1));
            }
            return copy;
        }
        throw new DslError(field, "a " + value.getClass().getSimpleName() + " is not a playbook value;"
                + " use strings, numbers, booleans, lists and maps, as in YAML");
    }
}
