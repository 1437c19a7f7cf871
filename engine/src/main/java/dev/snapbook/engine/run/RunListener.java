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

    default void onTrace(String line) {
    }

    default void onRunFinished(RunFinished event) {
    }
}
