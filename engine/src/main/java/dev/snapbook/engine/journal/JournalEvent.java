package dev.snapbook.engine.journal;

import java.util.Locale;

/**
 * The kinds of journal entry, each written as its lower-case name in the entry's {@code event} field. A reader of
 * format version {@link Journal#FORMAT_VERSION} knows every one of them; {@link RunRecord} and recovery match on
 * these constants, never on text.
 */
public enum JournalEvent {
    /** The run began: its playbook text, variables, plan and process. Always the first entry. */
    RUN_STARTED,
    /** A step is about to act; its parameters and what its undo needs (captured) are recorded. */
    STEP_STARTED,
    /** A recovery re-verified the step that was running when the run was killed: its effect as found. */
    STEP_RESTORED,
    /** A step's apply returned: whether it changed something, and its result. */
    STEP_APPLIED,
    /** A step's verification: passed or not, and the problems. */
    STEP_VERIFIED,
    /** A step failed. */
    STEP_FAILED,
    /** A step's {@code until} did not hold yet; it runs again. */
    STEP_RETRY,
    /** The undo of the step with this index began. */
    UNDO_STARTED,
    /** The undo of the step with this index ended, ok or not. */
    UNDO_FINISHED,
    /** The run stopped at a step whose effect is unknown; {@code snapbook recover} takes it from here. */
    RUN_STOPPED,
    /** The user stopped the run. */
    RUN_CANCELLED,
    /** The run ended with a {@link dev.snapbook.engine.run.RunStatus}. Always the last entry of a finished run. */
    RUN_FINISHED,
    /** A recovery run started on this (interrupted) run. */
    RUN_RECOVERING,
    /** A recovery run finished this run. */
    RUN_RECOVERED;

    /** The name as written in the journal: {@code run_started}. */
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The event written as {@code wire}, or null when there is none of that name. */
    public static JournalEvent of(String wire) {
        for (JournalEvent e : values()) {
            if (e.wire().equals(wire)) {
                return e;
            }
        }
        return null;
    }
}
