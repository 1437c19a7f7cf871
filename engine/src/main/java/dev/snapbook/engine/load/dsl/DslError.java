package dev.snapbook.engine.load.dsl;

import dev.snapbook.engine.model.Location;

/**
 * Wrong use of the Groovy DSL, found while the script runs. {@link ScriptEvaluator} turns it into a
 * {@link dev.snapbook.engine.load.PlaybookError} at the script line where it happened.
 */
final class DslError extends RuntimeException {

    private final String field;
    private final String problem;
    private final Location location;

    /** An error located at the script frame of this exception's own stack. */
    DslError(String field, String problem) {
        this(field, problem, null);
    }

    /** An error at a known location (null = where this exception was created). */
    DslError(String field, String problem, Location location) {
        super(problem);
        this.field = field;
        this.problem = problem;
        this.location = location;
    }

    String field() {
        return field;
    }

    String problem() {
        return problem;
    }

    Location location() {
        return location;
    }
}
