package dev.snapbook.bench;

import dev.snapbook.engine.spi.Outcome;
import dev.snapbook.engine.spi.Param;
import dev.snapbook.engine.spi.ParamType;
import dev.snapbook.engine.spi.Params;
import dev.snapbook.engine.spi.Planned;
import dev.snapbook.engine.spi.Step;
import dev.snapbook.engine.spi.StepContext;
import dev.snapbook.engine.spi.Verification;
import dev.snapbook.engine.spi.World;

import java.util.List;
import java.util.Map;

/**
 * {@code bench.noop}: a step that does nothing but go through the whole lifecycle (typed parameter,
 * plan, capture, apply, verify), so that a playbook of them measures the engine alone. Bench-only.
 */
public final class NoopStep implements Step {

    @Override
    public String name() {
        return "bench.noop";
    }

    @Override
    public String summary() {
        return "Does nothing (benchmarks only).";
    }

    @Override
    public List<Param> params() {
        return List.of(Param.required("value", ParamType.STRING, "any text; returned as the result"));
    }

    @Override
    public Planned plan(Params params, World world) {
        return Planned.readOnly("nothing", Map.of("value", params.string("value")));
    }

    @Override
    public Outcome apply(Params params, Map<String, Object> captured, StepContext context) {
        return Outcome.unchanged("nothing", Map.of("value", params.string("value")));
    }

    @Override
    public Verification verify(Params params, Outcome outcome, StepContext context) {
        return Verification.check(params.string("value").equals(outcome.data().get("value")), "value changed");
    }
}
