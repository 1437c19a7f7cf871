package dev.snapbook.engine.run;

/** How a whole run ended, and the exit code the CLI returns for it. */
public enum RunStatus {
    /** Every step ran and verified. */
    SUCCEEDED(0, "succeeded"),
    /** A planned precondition failed; nothing was done. */
    PLAN_FAILED(1, "plan failed, nothing was done"),
    /** A step failed and everything done was undone. */
    ROLLED_BACK(1, "failed, rolled back"),
    /** The steps succeeded but an {@code always} step failed; nothing needed undoing. */
    FAILED(1, "failed"),
    /** Refused before doing anything: irreversible steps not confirmed, or the world drifted. */
    REFUSED(2, "refused, nothing was done"),
    /**
     * A step lost contact with the system during an action whose effect is unknown: the run stopped there,
     * nothing was rolled back, and {@code snapbook recover} takes it from its journal.
     */
    STOPPED(3, "STOPPED: a step's effect is unknown; recover it with snapbook recover"),
    /** A step failed and the rollback did not complete: something needs attention. */
    ROLLBACK_INCOMPLETE(3, "failed, rollback INCOMPLETE");

    private final int exitCode;
    private final String label;

    RunStatus(int exitCode, String label) {
        this.exitCode = exitCode;
        this.label = label;
    }

    public int exitCode() {
        return exitCode;
    }

    public String label() {
        return label;
    }

    /** The status as a journal's {@code run_finished} entry writes it: {@code rolled_back}. */
    public String wire() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The status written as {@code wire}, or null when there is none of that name. */
    public static RunStatus ofWire(String wire) {
        for (RunStatus s : values()) {
            if (s.wire().equals(wire)) {
                return s;
            }
        }
        return null;
    }
}
