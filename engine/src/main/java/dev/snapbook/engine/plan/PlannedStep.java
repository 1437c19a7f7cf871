package dev.snapbook.engine.plan;

import java.util.List;

/**
 * What the plan says of one step.
 *
 * @param section      {@code steps}, {@code on_failure} or {@code always}
 * @param actions      exactly what it would do, in order
 * @param changes      whether it would change anything
 * @param irreversible whether it destroys state that cannot be restored (needs confirmation)
 * @param notes        what the plan cannot know yet (unknown conditions and verifications), or why it fails
 * @param locks        what the step works on ({@link dev.snapbook.engine.spi.Step#locks}), locked during the run
 */
public record PlannedStep(String section, int index, String name, String type, PlanStatus status,
                          List<String> actions, boolean changes, boolean irreversible, List<String> notes,
                          String location, java.util.Set<String> locks) {

    public PlannedStep {
        actions = List.copyOf(actions);
        notes = List.copyOf(notes);
        locks = locks == null ? java.util.Set.of() : java.util.Set.copyOf(locks);
    }
}
