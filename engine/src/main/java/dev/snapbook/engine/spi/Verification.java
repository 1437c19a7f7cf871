package dev.snapbook.engine.spi;

import java.util.List;

/**
 * The answer of {@link Step#verify}: ok, or failed with what was found instead of what was expected.
 */
public record Verification(boolean passed, List<String> problems) {

    public Verification {
        problems = List.copyOf(problems);
    }

    public static Verification ok() {
        return new Verification(true, List.of());
    }

    public static Verification failed(String problem) {
        return new Verification(false, List.of(problem));
    }

    /** OK when {@code condition} holds, else failed with {@code problem}. */
    public static Verification check(boolean condition, String problem) {
        return condition ? ok() : failed(problem);
    }
}
