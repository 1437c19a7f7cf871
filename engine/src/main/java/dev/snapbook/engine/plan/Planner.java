package dev.snapbook.engine.plan;

import dev.snapbook.engine.expr.Expression;
import dev.snapbook.engine.expr.ExpressionError;
import dev.snapbook.engine.load.StepCatalog;
import dev.snapbook.engine.model.Playbook;
import dev.snapbook.engine.model.StepCall;
import dev.snapbook.engine.run.Bindings;
import dev.snapbook.engine.run.Steps;
import dev.snapbook.engine.spi.Params;
import dev.snapbook.engine.spi.Planned;
import dev.snapbook.engine.spi.Reversibility;
import dev.snapbook.engine.spi.Step;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.engine.spi.Unknown;
import dev.snapbook.engine.spi.World;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The dry run: plans every step against the world predicted by the steps before it.
 *
 * <p>The world is observed with read-only calls only, lazily, as steps ask for facts. Each step checks
 * its preconditions and predicts its effect; values known only after a real run are {@link Unknown},
 * and a {@code when} or {@code verify} that depends on them is reported as unknown, never as true.
 */
public final class Planner {

    /** How the notes of a step with an invalid parameter start. */
    static final String INVALID = "invalid parameter: ";

    private final StepCatalog catalog;

    public Planner(StepCatalog catalog) {
        this.catalog = catalog;
    }

    /**
     * Plans {@code playbook}.
     *
     * @param extraVars the {@code -e} values, as data
     * @param tags      the selected tags; empty selects every step
     * @param world     the world to plan against; it is not modified (the plan works on a fork)
     */
    public PlanReport plan(Playbook playbook, Map<String, Object> extraVars, Set<String> tags, World world) {
        World predicted = world.fork();
        Bindings bindings = new Bindings(playbook.vars(), extraVars);
        List<PlannedStep> out = new ArrayList<>();
        String failure = null;
        boolean invalid = false;
        List<StepCall> steps = playbook.steps();
        for (int i = 0; i < steps.size(); i++) {
            StepCall call = steps.get(i);
            if (failure != null) {
                out.add(simple("steps", i, call, PlanStatus.NOT_REACHED, List.of()));
                continue;
            }
            if (!Steps.selected(call, tags)) {
                out.add(simple("steps", i, call, PlanStatus.NOT_SELECTED, List.of()));
                continue;
            }
            PlannedStep p = planOne("steps", i, call, bindings, predicted);
            out.add(p);
            if (p.status() == PlanStatus.WILL_FAIL) {
                failure = "step " + (i + 1) + " (" + call.displayName() + ") will fail: " + String.join("; ", p.notes());
                invalid = p.notes().stream().anyMatch(n -> n.startsWith(INVALID));
            }
        }
        for (int i = 0; i < playbook.onFailure().size(); i++) {
            out.add(simple("on_failure", i, playbook.onFailure().get(i), PlanStatus.ON_FAILURE_ONLY, List.of()));
        }
        for (int i = 0; i < playbook.always().size(); i++) {
            StepCall call = playbook.always().get(i);
            out.add(failure == null
                    ? planOne("always", i, call, bindings, predicted)
                    : simple("always", i, call, PlanStatus.WILL_RUN, List.of("planned only when the steps succeed")));
        }
        return new PlanReport(playbook.name(), out, failure, invalid, predicted);
    }

    private PlannedStep planOne(String section, int index, StepCall call, Bindings bindings, World world) {
        Step step = catalog.get(call.type());
        List<String> notes = new ArrayList<>();
        PlanStatus status = PlanStatus.WILL_RUN;
        if (call.when() != null) {
            Object cond;
            try {
                cond = Expression.parse(call.when()).evaluate(bindings);
            } catch (ExpressionError e) {
                return failed(section, index, call, INVALID + "when: " + e.getMessage());
            }
            if (cond instanceof Unknown u) {
                status = PlanStatus.CONDITION_UNKNOWN;
                notes.add("when '" + call.when() + "' is unknown until run (" + u.origin()
                        + "); planned as if it runs");
            } else if (!Expression.truthy(cond)) {
                register(call, bindings, Map.of("skipped", true, "changed", false));
                return simple(section, index, call, PlanStatus.WILL_SKIP, List.of("when '" + call.when() + "' is false"));
            }
        }
        Params params;
        try {
            params = Steps.resolve(step, call, bindings);
        } catch (StepFailure e) {
            return failed(section, index, call, (e instanceof dev.snapbook.engine.run.InvalidParameter ? INVALID : "")
                    + e.getMessage());
        }
        Unknown origin = firstUnknown(params.asMap());
        if (origin != null) {
            register(call, bindings, new Unknown("result of " + call.displayName() + ", which is unplannable"));
            notes.add("parameters depend on " + origin.origin() + "; the step is checked only when it runs");
            boolean irreversible = step.reversibility(params) == Reversibility.IRREVERSIBLE;
            return new PlannedStep(section, index, call.displayName(), call.type(), PlanStatus.UNPLANNABLE,
                    List.of(), true, irreversible, notes, call.location().toString(), Set.of());
        }
        Planned planned;
        try {
            planned = step.plan(params, world);
        } catch (StepFailure e) {
            return failed(section, index, call, e.getMessage() + (e.hint() != null ? " — " + e.hint() : ""));
        } catch (RuntimeException e) {
            return failed(section, index, call, "step " + call.type() + " failed to plan: " + e);
        }
        Map<String, Object> result = new LinkedHashMap<>(planned.predictedResult());
        result.put("changed", planned.changes());
        result.put("skipped", false);
        Object registered = status == PlanStatus.CONDITION_UNKNOWN
                ? new Unknown("result of " + call.displayName() + ", whose condition is unknown")
                : result;
        register(call, bindings, registered);
        for (String v : call.verify()) {
            Object ok;
            try {
                ok = Expression.parse(v).evaluate(bindings);
            } catch (ExpressionError e) {
                return failed(section, index, call, "verify: " + e.getMessage());
            }
            if (ok instanceof Unknown u) {
                notes.add("verify '" + v + "' is unknown until run (" + u.origin() + ")");
            } else if (!Expression.truthy(ok)) {
                return failed(section, index, call, "verify '" + v + "' would be false");
            }
        }
        boolean irreversible = planned.changes() && step.reversibility(params) == Reversibility.IRREVERSIBLE;
        return new PlannedStep(section, index, call.displayName(), call.type(), status, planned.actions(),
                planned.changes(), irreversible, notes, call.location().toString(), step.locks(params));
    }

    private static void register(StepCall call, Bindings bindings, Object value) {
        if (call.register() != null) {
            bindings.register(call.register(), value);
        }
    }

    private static Unknown firstUnknown(Object value) {
        if (value instanceof Unknown u) {
            return u;
        }
        if (value instanceof Map<?, ?> m) {
            for (Object v : m.values()) {
                Unknown u = firstUnknown(v);
                if (u != null) {
                    return u;
                }
            }
        }
        if (value instanceof List<?> l) {
            for (Object v : l) {
                Unknown u = firstUnknown(v);
                if (u != null) {
                    return u;
                }
            }
        }
        return null;
    }

    private static PlannedStep failed(String section, int index, StepCall call, String why) {
        return new PlannedStep(section, index, call.displayName(), call.type(), PlanStatus.WILL_FAIL, List.of(),
                false, false, List.of(why), call.location().toString(), Set.of());
    }

    private static PlannedStep simple(String section, int index, StepCall call, PlanStatus status, List<String> notes) {
        return new PlannedStep(section, index, call.displayName(), call.type(), status, List.of(), false, false,
                notes, call.location().toString(), Set.of());
    }
}
