package dev.snapbook.engine.plan;

import dev.snapbook.engine.spi.World;

import java.util.List;

/**
 * The result of planning a playbook: each step's plan, whether the whole plan is feasible, and the
 * predicted world (observations plus predictions) at its end.
 *
 * @param failure why the plan is not feasible (the first step that will fail), or null
 */
public record PlanReport(String playbook, List<PlannedStep> steps, String failure, World world) {

    public PlanReport {
        steps = List.copyOf(steps);
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
