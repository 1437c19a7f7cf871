package dev.snapbook.engine.report;

import dev.snapbook.engine.plan.PlanReport;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.engine.spi.WorldRenderer;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/** The picture of a plan: what the {@link WorldRenderer}s on the class path draw of its world. */
final class Pictures {

    private Pictures() {
    }

    /**
     * The drawings of what {@code plan} changes, today and after the run; empty for a plan without a world.
     * A renderer that fails leaves a drawing that says so, never fails the plan.
     */
    static List<WorldRenderer.Drawing> of(PlanReport plan) {
        List<WorldRenderer.Drawing> drawings = new ArrayList<>();
        if (plan == null || plan.world() == null) {
            return drawings;
        }
        for (WorldRenderer renderer : ServiceLoader.load(WorldRenderer.class)) {
            try {
                drawings.addAll(renderer.render(plan.world()));
            } catch (StepFailure | RuntimeException e) {
                String note = "(cannot draw the predicted state: " + e.getMessage() + ")\n";
                drawings.add(new WorldRenderer.Drawing("the plan's world", note, note));
            }
        }
        return drawings;
    }
}
