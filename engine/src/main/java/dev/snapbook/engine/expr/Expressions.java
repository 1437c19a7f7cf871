package dev.snapbook.engine.expr;

import java.util.List;

/** Helpers shared by the loaders for expressions written bare ({@code when: x.changed}) or in braces. */
public final class Expressions {

    private Expressions() {
    }

    /**
     * The expression without surrounding {@code {{ }}} and blanks: {@code "{{ x.changed }}"} and
     * {@code "x.changed"} both give {@code "x.changed"}. Null stays null.
     *
     * <p>The braces are found by the expression grammar ({@link Templates#parts}), so
     * <code>"{{ 'a}}b' }}"</code> gives <code>"'a}}b'"</code>. Text that is not one braced expression is returned
     * stripped but otherwise as written, for the validator to report; an unparsable braced expression
     * loses its braces so that the report quotes only the expression.
     */
    public static String bare(String expression) {
        if (expression == null) {
            return null;
        }
        String s = expression.strip();
        if (!s.startsWith("{{")) {
            return s;
        }
        try {
            List<Object> parts = Templates.parts(s);
            return parts.size() == 1 && parts.get(0) instanceof Expression e ? e.source() : s;
        } catch (ExpressionError e) {
            if (s.endsWith("}}") && s.indexOf("{{", 2) < 0) {
                return s.substring(2, s.length() - 2).strip();
            }
            return s;
        }
    }
}
