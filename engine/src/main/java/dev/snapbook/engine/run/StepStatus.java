package dev.snapbook.engine.run;

/** How one step of a run ended, as the report shows it. */
public enum StepStatus {
    /** Ran, verified, changed nothing. */
    OK("ok"),
    /** Ran, verified, changed something. */
    CHANGED("changed"),
    /** Not run: its {@code when} was false, or its tags were not selected. */
    SKIPPED("skipped"),
    /** Failed to apply, or its verification failed. */
    FAILED("failed"),
    /** Ran, then was undone after a later failure. */
    ROLLED_BACK("rolled back"),
    /** Ran, and a later failure could not undo it. */
    NOT_ROLLED_BACK("NOT rolled back"),
    /** Never started because an earlier step failed. */
    NOT_RUN("not run");

    private final String label;

    StepStatus(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}
