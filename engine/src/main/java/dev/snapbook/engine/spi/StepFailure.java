package dev.snapbook.engine.spi;

/**
 * A step could not do what it was asked: a precondition failed in the plan, or an action failed for real.
 * The message says what happened and to what; {@link #hint()} says what to do next, when there is advice.
 */
public class StepFailure extends Exception {

    private final String hint;

    public StepFailure(String message) {
        this(message, null, null);
    }

    public StepFailure(String message, String hint) {
        this(message, hint, null);
    }

    public StepFailure(String message, String hint, Throwable cause) {
        super(message, cause);
        this.hint = hint;
    }

    /**
     * The step lost contact with the system it acts on (libvirtd went away) during an action that may have
     * taken effect or not; repeating it blindly could do it twice. The run stops here, without a rollback
     * built on a guess, and its journal says where: {@code snapbook recover} then re-verifies this step and
     * rolls back or resumes.
     */
    public static final class OutcomeUnknown extends StepFailure {
        public OutcomeUnknown(String message, String hint, Throwable cause) {
            super(message, hint, cause);
        }
    }

    /** What the user can do about it, or null. */
    public String hint() {
        return hint;
    }
}
