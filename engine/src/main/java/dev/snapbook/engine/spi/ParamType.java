package dev.snapbook.engine.spi;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The type of a step parameter. Strings given where another type is expected (for example from
 * {@code -e key=value}) are converted when unambiguous: {@code "true"} to a boolean, {@code "30"} to an
 * integer, {@code "60s"} to a duration.
 */
public enum ParamType {
    /** Any text without control characters other than tab and newline. */
    STRING("string"),
    /**
     * The name of a domain, snapshot or disk: one line of at most 200 characters, no control characters,
     * no {@code /}. Shell or XML special characters are kept as data (no shell is ever used, XML is built
     * with a DOM).
     */
    NAME("name"),
    /** An absolute file path without {@code .} or {@code ..} segments, without control characters. */
    PATH("absolute path"),
    INTEGER("integer"),
    BOOLEAN("boolean"),
    /** A duration: an integer number of seconds, or a string like {@code 500ms}, {@code 60s}, {@code 5m}, {@code 1h}. */
    DURATION("duration"),
    LIST("list"),
    MAP("map"),
    /**
     * One expression or a list of them, written bare ({@code x > 1}) or in braces. The engine evaluates
     * them and hands the step a list of maps {@code {expr: source, value: Boolean or Unknown}}.
     */
    EXPRESSIONS("expression or list of expressions"),
    ANY("any value");

    private final String label;

    ParamType(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    /**
     * Converts {@code value} to this type.
     *
     * @throws IllegalArgumentException saying what was expected and what was found
     */
    public Object coerce(Object value) {
        switch (this) {
            case STRING -> {
                if (value instanceof String || value instanceof Number || value instanceof Boolean) {
                    String text = String.valueOf(value);
                    if (text.chars().anyMatch(c -> c < 0x20 && c != '\t' && c != '\n' || c == 0x7f)) {
                        throw new IllegalArgumentException("control characters are not allowed in "
                                + describe(value));
                    }
                    return text;
                }
            }
            case NAME -> {
                if (value instanceof String || value instanceof Number) {
                    String text = String.valueOf(value);
                    if (text.isEmpty() || text.length() > 200) {
                        throw new IllegalArgumentException("a name is 1 to 200 characters, got " + describe(value));
                    }
                    if (text.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
                        throw new IllegalArgumentException("a name is one line without control characters, got "
                                + describe(value));
                    }
                    if (text.contains("/")) {
                        throw new IllegalArgumentException("a name cannot contain '/', got " + describe(value));
                    }
                    return text;
                }
            }
            case PATH -> {
                if (value instanceof String text) {
                    if (text.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
                        throw new IllegalArgumentException("a path cannot contain control characters or newlines, got "
                                + describe(value));
                    }
                    if (!text.startsWith("/")) {
                        throw new IllegalArgumentException("expected an absolute path (starting with /), got "
                                + describe(value));
                    }
                    for (String segment : text.split("/")) {
                        if (segment.equals("..") || segment.equals(".")) {
                            throw new IllegalArgumentException("a path cannot contain '" + segment
                                    + "' segments, got " + describe(value));
                        }
                    }
                    return text;
                }
            }
            case INTEGER -> {
                if (value instanceof Long || value instanceof Integer) {
                    return ((Number) value).longValue();
                }
                if (value instanceof String s && s.strip().matches("-?\\d{1,18}")) {
                    return Long.parseLong(s.strip());
                }
            }
            case BOOLEAN -> {
                if (value instanceof Boolean) {
                    return value;
                }
                if (value instanceof String s) {
                    String t = s.strip().toLowerCase(java.util.Locale.ROOT);
                    if (t.equals("true") || t.equals("yes")) {
                        return true;
                    }
                    if (t.equals("false") || t.equals("no")) {
                        return false;
                    }
                }
            }
            case DURATION -> {
                if (value instanceof Duration) {
                    return value;
                }
                if (value instanceof Long || value instanceof Integer) {
                    long seconds = ((Number) value).longValue();
                    if (seconds >= 0) {
                        return Duration.ofSeconds(seconds);
                    }
                }
                if (value instanceof String s) {
                    Duration d = Durations.parse(s);
                    if (d != null) {
                        return d;
                    }
                }
            }
            case LIST -> {
                if (value instanceof List<?>) {
                    return value;
                }
            }
            case MAP -> {
                if (value instanceof Map<?, ?>) {
                    return value;
                }
            }
            case EXPRESSIONS -> {
                if (value instanceof List<?>) {
                    return value;
                }
            }
            case ANY -> {
                return value;
            }
        }
        throw new IllegalArgumentException("expected " + article(label) + ", got " + describe(value));
    }

    /** A short description of a value's type for error messages, e.g. {@code a list [1, 2]}. */
    public static String describe(Object value) {
        if (value == null) {
            return "null";
        }
        String kind;
        if (value instanceof String) {
            kind = "string";
        } else if (value instanceof Boolean) {
            kind = "boolean";
        } else if (value instanceof Long || value instanceof Integer) {
            kind = "integer";
        } else if (value instanceof Number) {
            kind = "number";
        } else if (value instanceof List<?>) {
            kind = "list";
        } else if (value instanceof Map<?, ?>) {
            kind = "map";
        } else {
            kind = value.getClass().getSimpleName();
        }
        String shown = value instanceof String s ? '"' + s + '"' : String.valueOf(value);
        if (shown.length() > 60) {
            shown = shown.substring(0, 57) + "...";
        }
        return article(kind) + " " + shown;
    }

    private static String article(String noun) {
        return ("aeiou".indexOf(noun.charAt(0)) >= 0 ? "an " : "a ") + noun;
    }
}
