package dev.snapbook.engine.run;

import java.util.List;

/**
 * Observes a run as it happens (the text reporter, the journal's readers, tests). Every method has a
 * no-op default; new events are added as new methods.
 */
public interface RunListener {

    /** Emitted once, before the first step, when the journal exists. */
    record RunStarted(String runId, String playbook, String journal) {
    }

    /** Emitted when a step (of any section) is about to apply. */
    record StepStarted(String section, int index, String name, String type) {
    }

    /** Emitted after a step ended, with its final status for now (a later rollback may change it). */
    record StepFinished(StepReport step) {
    }

    /** Emitted while a completed step is being undone. */
    record StepUndone(StepReport step, boolean succeeded, String message) {
    }

    /**
     * Emitted while long work goes on: percent 0..100, and when the work is measured in bytes, {@code done}
     * of {@code total} (both -1 when it is not).
     */
    record StepProgress(String what, double percent, long done, long total) {

        public boolean inBytes() {
            return total > 0 && done >= 0;
        }
    }

    /** Emitted once at the end, after on_failure and always. */
    record RunFinished(String runId, RunStatus status, List<StepReport> steps, List<String> problems,
                       String journal) {
    }

    default void onRunStarted(RunStarted event) {
    }

    default void onStepStarted(StepStarted event) {
    }

    default void onStepFinished(StepFinished event) {
    }

    default void onStepUndone(StepUndone event) {
    }

    default void onStepProgress(String what, double percent) {
    }

    /** Progress measured in bytes; the default passes the percent on to {@link #onStepProgress(String, double)}. */
    default void onStepProgress(StepProgress event) {
        onStepProgress(event.what(), event.percent());
    }

    default void onTrace(String line) {
    }

    default void onRunFinished(RunFinished event) {
    }
}
