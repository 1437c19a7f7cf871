package dev.snapbook.engine.expr;

import dev.snapbook.engine.model.Template;
import dev.snapbook.engine.spi.Unknown;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Evaluates the {@link Template}s inside a value. Values that are not templates, including every value
 * given with {@code -e}, are returned as they are: data is never evaluated.
 */
public final class Templates {

    private Templates() {
    }

    /** {@code value} with every template inside it (deeply) evaluated against {@code scope}. */
    public static Object render(Object value, Scope scope) {
        if (value instanceof Template t) {
            return renderTemplate(t.source(), scope);
        }
        if (value instanceof Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>();
            m.forEach((k, v) -> out.put(String.valueOf(k), render(v, scope)));
            return out;
        }
        if (value instanceof List<?> l) {
            List<Object> out = new ArrayList<>(l.size());
            l.forEach(v -> out.add(render(v, scope)));
            return out;
        }
        return value;
    }

    /** True when {@code value} holds a {@link Template} anywhere inside. */
    public static boolean containsTemplate(Object value) {
        if (value instanceof Template) {
            return true;
        }
        if (value instanceof Map<?, ?> m) {
            return m.values().stream().anyMatch(Templates::containsTemplate);
        }
        if (value instanceof List<?> l) {
            return l.stream().anyMatch(Templates::containsTemplate);
        }
        return false;
    }

    /** True when {@code value} holds an {@link Unknown} anywhere inside. */
    public static boolean containsUnknown(Object value) {
        if (value instanceof Unknown) {
            return true;
        }
        if (value instanceof Map<?, ?> m) {
            return m.values().stream().anyMatch(Templates::containsUnknown);
        }
        if (value instanceof List<?> l) {
            return l.stream().anyMatch(Templates::containsUnknown);
        }
        return false;
    }

    /**
     * The parts of a template source: literal strings and parsed {@link Expression}s, in order. Each
     * <code>{{</code> opens an expression that the expression grammar reads to its end; the <code>}}</code> after it
     * closes it. So braces inside a string literal (<code>{{ 'a}}b' }}</code>) are part of the string.
     *
     * @throws ExpressionError for an expression that does not parse or is not closed, and for nothing else
     */
    public static List<Object> parts(String source) {
        List<Object> parts = new ArrayList<>();
        int pos = 0;
        while (pos < source.length()) {
            int open = source.indexOf("{{", pos);
            if (open < 0) {
                parts.add(source.substring(pos));
                break;
            }
            if (open > pos) {
                parts.add(source.substring(pos, open));
            }
            int inner = open + 2;
            while (inner < source.length() && Character.isWhitespace(source.charAt(inner))) {
                inner++;
            }
            if (source.startsWith("}}", inner)) {
                throw new ExpressionError("empty expression '{{ }}' in \"" + source + "\"");
            }
            Expression.Embedded e = Expression.parseEmbedded(source, open + 2);
            parts.add(e.expression());
            pos = e.end();
        }
        return parts;
    }

    private static Object renderTemplate(String source, Scope scope) {
        List<Object> parts = parts(source);
        if (parts.size() == 1 && parts.get(0) instanceof Expression e) {
            return e.evaluate(scope);
        }
        StringBuilder sb = new StringBuilder();
        for (Object part : parts) {
            if (part instanceof Expression e) {
                Object v = e.evaluate(scope);
                if (v instanceof Unknown) {
                    return v;
                }
                sb.append(v == null ? "" : v);
            } else {
                sb.append(part);
            }
        }
        return sb.toString();
    }
}
