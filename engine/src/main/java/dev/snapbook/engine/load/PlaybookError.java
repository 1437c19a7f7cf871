package dev.snapbook.engine.load;

import dev.snapbook.engine.model.Location;

/**
 * A playbook is invalid: malformed, an unknown step type, an unknown, missing or mistyped parameter.
 * The message names the file, line and column, the field, and a did-you-mean where one is near.
 * Nothing runs when a playbook has an error.
 */
public class PlaybookError extends Exception {

    private final Location location;
    private final String field;
    private final String problem;

    /**
     * @param location where the problem is
     * @param field    the field at fault, as a path ({@code steps[2].domain.shutdown.timeout}), or null
     * @param problem  what is wrong, and what to do about it
     */
    public PlaybookError(Location location, String field, String problem) {
        super(location + ": " + (field == null ? "" : field + ": ") + problem);
        this.location = location;
        this.field = field;
        this.problem = problem;
    }

    public Location location() {
        return location;
    }

    public String field() {
        return field;
    }

    public String problem() {
        return problem;
    }
}
