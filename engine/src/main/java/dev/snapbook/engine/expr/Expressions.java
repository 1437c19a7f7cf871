package dev.snapbook.engine.expr;

/** Helpers shared by the loaders for expressions written bare ({@code when: x.changed}) or in braces. */
public final class Expressions {

    private Expressions() {
    }

    /**
     * The expression without surrounding {@code {{ }}} and blanks: {@code "{{ x.changed }}"} and
     * {@code "x.changed"} both give {@code "x.changed"}. Null stays null.
     */
    public static String bare(String expression) {
        if (expression == null) {
            return null;
        }
        String s = expression.strip();
        if (s.startsWith("{{") && s.endsWith("}}") && s.indexOf("{{", 2) < 0) {
            s = s.substring(2, s.length() - 2).strip();
        }
        return s;
    }
}
