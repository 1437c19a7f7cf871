package dev.snapbook.engine.spi;

import java.util.List;

/**
 * A step parameter: its name, type, whether it is required, its default and a description.
 *
 * @param choices allowed values for a {@link ParamType#STRING}, empty when any string is allowed
 */
public record Param(String name, ParamType type, boolean required, Object defaultValue, String description,
                    List<String> choices) {

    public Param {
        choices = List.copyOf(choices);
    }

    public static Param required(String name, ParamType type, String description) {
        return new Param(name, type, true, null, description, List.of());
    }

    public static Param optional(String name, ParamType type, Object defaultValue, String description) {
        return new Param(name, type, false, defaultValue, description, List.of());
    }

    /** A copy that only accepts one of {@code allowed}. */
    public Param oneOf(String... allowed) {
        return new Param(name, type, required, defaultValue, description, List.of(allowed));
    }
}
