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
}
