package dev.snapbook.engine.model;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A loaded playbook: the immutable model that both loaders (YAML and the Groovy DSL) build and that
 * everything downstream uses without knowing where it came from.
 *
 * <p>Equality ignores {@link #source()}.
 *
 * @param name       what the playbook does
 * @param vars       default variables, overridden by {@code -e}
 * @param steps      the steps, in order
 * @param onFailure  steps run after a failure, once completed steps were undone
 * @param always     steps run at the end whatever happened
 * @param source     the file the playbook was loaded from, as the user named it
 */
public record Playbook(
        String name,
        Map<String, Object> vars,
        List<StepCall> steps,
        List<StepCall> onFailure,
        List<StepCall> always,
        String source) {

    public Playbook {
        Objects.requireNonNull(name, "name");
        vars = Values.freezeMap(vars);
        steps = List.copyOf(steps);
        onFailure = List.copyOf(onFailure);
        always = List.copyOf(always);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Playbook p && name.equals(p.name) && vars.equals(p.vars)
                && steps.equals(p.steps) && onFailure.equals(p.onFailure) && always.equals(p.always);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, vars, steps, onFailure, always);
    }
}
