package dev.snapbook.engine.run;

import dev.snapbook.engine.spi.StepFailure;

/**
 * A step's parameter is invalid once its expressions were evaluated: a value of the wrong type, a path
 * with {@code ..}, a name with a newline, an undefined variable. Invalid input (exit 2), not a failed
 * precondition: nothing is run.
 */
public final class InvalidParameter extends StepFailure {

    public InvalidParameter(String message) {
        super(message);
    }
}
