package dev.snapbook.steps.flow;

import dev.snapbook.engine.spi.Outcome;
import dev.snapbook.engine.spi.Param;
import dev.snapbook.engine.spi.ParamType;
import dev.snapbook.engine.spi.Params;
import dev.snapbook.engine.spi.Planned;
import dev.snapbook.engine.spi.Step;
import dev.snapbook.engine.spi.StepContext;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.engine.spi.Verification;
import dev.snapbook.engine.spi.World;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code assert}: fails the run unless every expression holds. In a plan, an expression on values known
 * only after a real run makes the step unplannable (reported, never taken as true).
 */
public final class Assert implements Step {

    @Override
    public String name() {
        return "assert";
    }

    @Override
    public String summary() {
        return "Fail unless every expression is true (e.g. that: [\"state.state == 'running'\"]).";
    }

    @Override
    public List<Param> params() {
        return List.of(
                Param.required("that", ParamType.EXPRESSIONS, "the expressions that must all be true"),
                Param.optional("msg", ParamType.STRING, null, "what to say when one is false"));
    }

    @Override
    public String preconditions() {
        return "Every expression in that must be true with the values the plan predicts; one that depends on a value"
                + " only known at run time fails the plan instead of being taken as true.";
    }

    @Override
    public String verifies() {
        return "Nothing more: the expressions are evaluated again when the step runs, and the step fails if one is"
                + " false.";
    }

    @Override
    public String undoes() {
        return "It only evaluates expressions.";
    }

    @Override
    public Planned plan(Params params, World world) throws StepFailure {
        List<String> failing = failing(params);
        if (!failing.isEmpty()) {
            throw new StepFailure(message(params, failing));
        }
        return Planned.readOnly("check " + String.join(", ", expressions(params)), Map.of());
    }

    @Override
    public Outcome apply(Params params, Map<String, Object> captured, StepContext context) throws StepFailure {
        List<String> failing = failing(params);
        if (!failing.isEmpty()) {
            throw new StepFailure(message(params, failing));
        }
        return Outcome.unchanged("all " + expressions(params).size() + " assertion(s) hold", Map.of());
    }

    @Override
    public Verification verify(Params params, Outcome outcome, StepContext context) {
        return Verification.ok();
    }

    @SuppressWarnings("unchecked")
    private static List<String> failing(Params params) {
        List<String> out = new ArrayList<>();
        for (Object o : params.list("that")) {
            Map<String, Object> e = (Map<String, Object>) o;
            if (!Boolean.TRUE.equals(e.get("value"))) {
                out.add((String) e.get("expr"));
            }
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static List<String> expressions(Params params) {
        return params.list("that").stream().map(o -> (String) ((Map<String, Object>) o).get("expr")).toList();
    }

    private static String message(Params params, List<String> failing) {
        String msg = params.optString("msg");
        return (msg != null ? msg + ": " : "") + "assertion failed: " + String.join(", ", failing);
    }
}
