package dev.snapbook.engine.report;

/** ANSI colour for terminals; plain text when not on a terminal or when {@code NO_COLOR} is set. */
public final class Style {

    private final boolean colour;

    public Style(boolean colour) {
        this.colour = colour;
    }

    /** Colour only on a terminal, and never with {@code NO_COLOR} (https://no-color.org). */
    public static Style detect() {
        String noColor = System.getenv("NO_COLOR");
        return new Style(System.console() != null && (noColor == null || noColor.isEmpty())
                && !"dumb".equals(System.getenv("TERM")));
    }

    public String green(String s) {
        return wrap("32", s);
    }

    public String yellow(String s) {
        return wrap("33", s);
    }

    public String red(String s) {
        return wrap("31;1", s);
    }

    public String cyan(String s) {
        return wrap("36", s);
    }

    public String bold(String s) {
        return wrap("1", s);
    }

    public String dim(String s) {
        return wrap("2", s);
    }

    private String wrap(String code, String s) {
        return colour ? "\u001b[" + code + "m" + s + "\u001b[0m" : s;
    }
}
