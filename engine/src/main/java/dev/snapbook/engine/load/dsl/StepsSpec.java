package dev.snapbook.engine.load.dsl;

import dev.snapbook.engine.model.StepCall;
import groovy.lang.Closure;
import groovy.lang.DelegatesTo;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A block holding steps: {@code rollback { }}, {@code onFailure { }}, {@code always { }}, and the
 * playbook block itself. Step parameters are Groovy named arguments:
 * <pre>
 * step 'domain.shutdown', domain: domain, timeout: '60s', force: true
 * step('snapshot.revert', domain: domain, snapshot: snapshot) { register 'reverted' }
 * </pre>
 * The step type and parameters are not checked here; the shared validator does that for every loader.
 */
public class StepsSpec extends Block {

    private final String where;
    private final List<StepCall> steps = new ArrayList<>();

    StepsSpec(DslContext ctx, String where) {
        super(ctx);
        this.where = where;
    }

    @Override
    Grammar grammar() {
        return Grammar.STEPS;
    }

    @Override
    String where() {
        return where;
    }

    /** A step without parameters or controls. */
    public void step(String type) {
        add(Map.of(), type, null);
    }

    /** A step with parameters: {@code step 'domain.start', domain: domain}. */
    public void step(Map<String, ?> params, String type) {
        add(params, type, null);
    }

    /** A step without parameters but with controls: {@code step('x') { register 'r' }}. */
    public void step(String type,
            @DelegatesTo(value = StepSpec.class, strategy = Closure.DELEGATE_FIRST) Closure<?> body) {
        add(Map.of(), type, body);
    }

    /** A step with parameters and controls: {@code step('x', domain: domain) { register 'r' }}. */
    public void step(Map<String, ?> params, String type,
            @DelegatesTo(value = StepSpec.class, strategy = Closure.DELEGATE_FIRST) Closure<?> body) {
        add(params, type, body);
    }

    private void add(Map<String, ?> params, String type, Closure<?> body) {
        checkOpen("step");
        StepSpec step = new StepSpec(ctx, type, ctx.here());
        Map<String, Object> values = new LinkedHashMap<>();
        // Groovy's generics are not checked at run time: `step 'x', 1: 2` passes an Integer key
        for (Map.Entry<?, ?> p : params.entrySet()) {
            if (!(p.getKey() instanceof CharSequence)) {
                throw new DslError(type + "." + p.getKey(), "a parameter name is a word, not " + p.getKey());
            }
            String name = p.getKey().toString();
            values.put(name, ModelValues.of(p.getValue(), type + "." + name));
        }
        step.params(values);
        if (body != null) {
            ctx.run(step, body);
        }
        steps.add(step.build());
    }

    List<StepCall> steps() {
        return steps;
    }
}
