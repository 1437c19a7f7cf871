package dev.snapbook.engine.plan;

import dev.snapbook.engine.spi.World;

import java.util.List;

/**
 * The result of planning a playbook: each step's plan, whether the whole plan is feasible, and the
 * predicted world (observations plus predictions) at its end.
 *
 * @param failure      why the plan is not feasible (the first step that will fail), or null
 * @param invalidInput whether that failure is invalid input (a parameter's value), rather than a
 *                     precondition of the world
 */
public record PlanReport(String playbook, List<PlannedStep> steps, String failure, boolean invalidInput,
                         World world) {

    public PlanReport {
        steps = List.copyOf(steps);
    }

    /** The exit code of {@code snapbook plan}: 0 feasible, 2 invalid input, 1 a precondition fails. */
    public int exitCode() {
        return feasible() ? 0 : invalidInput ? 2 : 1;
    }

    public boolean feasible() {
        return failure == null;
    }

    /** The steps that will run and cannot be undone. */
    public List<PlannedStep> irreversibleSteps() {
        return steps.stream()
                .filter(s -> s.irreversible() && (s.status() == PlanStatus.WILL_RUN
                        || s.status() == PlanStatus.CONDITION_UNKNOWN || s.status() == PlanStatus.UNPLANNABLE))
                .toList();
    }
}
