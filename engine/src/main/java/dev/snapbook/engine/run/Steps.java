package dev.snapbook.engine.run;

import dev.snapbook.engine.expr.Scope;
import dev.snapbook.engine.model.StepCall;
import dev.snapbook.engine.spi.Params;
import dev.snapbook.engine.spi.Step;
import dev.snapbook.engine.spi.StepFailure;

import java.util.Set;

/** What the planner and the runner decide alike about a step call. */
public final class Steps {

    private Steps() {
    }

    /** Whether {@code --tags} selects the call: no tags given selects all, else any shared tag does. */
    public static boolean selected(StepCall call, Set<String> tags) {
        return tags.isEmpty() || call.tags().stream().anyMatch(tags::contains) || call.tags().contains("always");
    }

    /** The call's parameters evaluated in {@code scope}, defaulted and converted for {@code step}. */
    public static Params resolve(Step step, StepCall call, Scope scope) throws StepFailure {
        return ParamResolver.resolve(step, call, scope);
    }

    /**
     * Parameters read back from a journal (plain JSON values) converted again to the step's declared
     * types; parameters the step no longer declares are dropped.
     */
    public static Params restore(Step step, java.util.Map<String, Object> journalled) throws StepFailure {
        java.util.Map<String, Object> out = new java.util.LinkedHashMap<>();
        for (dev.snapbook.engine.spi.Param p : step.params()) {
            Object v = journalled.get(p.name());
            if (v == null) {
                continue;
            }
            try {
                out.put(p.name(), p.type() == dev.snapbook.engine.spi.ParamType.EXPRESSIONS ? v : p.type().coerce(v));
            } catch (IllegalArgumentException e) {
                throw new StepFailure("journalled parameter " + p.name() + " of " + step.name() + ": " + e.getMessage());
            }
        }
        return new Params(step.name(), out);
    }
}
