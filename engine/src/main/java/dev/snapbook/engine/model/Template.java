package dev.snapbook.engine.model;

import java.util.Objects;

/**
 * A string value of a playbook that contains at least one {@code {{ expr }}} part, kept unevaluated
 * until the step runs (or is planned). Plain strings without braces are kept as {@link String}.
 *
 * <p>A template that is exactly one expression ({@code "{{ count }}"}) evaluates to the expression's
 * value with its type; any other template evaluates to a string.
 */
public record Template(String source) {

    public Template {
        Objects.requireNonNull(source, "source");
    }

    /** True when {@code text} holds an expression opening, so it must be kept as a template. */
    public static boolean isTemplate(String text) {
        return text != null && text.contains("{{");
    }

    /** Keeps {@code text} as a {@link Template} when it holds an expression, else as the plain string. */
    public static Object of(String text) {
        return isTemplate(text) ? new Template(text) : text;
    }

    @Override
    public String toString() {
        return source;
    }
}
