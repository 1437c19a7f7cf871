package dev.snapbook.engine.model;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One step of a playbook as written: the step type, its parameters (plain values, lists, maps and
 * {@link Template}s), and the optional controls around it.
 *
 * <p>The controls beside type and parameters are the {@link StepField}s, one component each.
 *
 * <p>Equality ignores {@link #location()}: the same step written in YAML and in the Groovy DSL is equal.
 *
 * @param type      dotted step type, e.g. {@code domain.shutdown}
 * @param params    parameters in the order written; values are immutable
 * @param name      a human name, or null
 * @param when      an expression; the step runs only when it is true; null = always
 * @param register  the variable name the step's result is stored under, or null
 * @param verify    expressions that must all be true after the step ran
 * @param rollback  steps run to undo this one if a later step fails
 * @param retries   how many more times to try when the step fails or {@code until} is false, from 0 to
 *                  {@link StepField#MAX_RETRIES}
 * @param until     an expression that must be true for the step to count as done, or null
 * @param delay     the wait between tries
 * @param timeout   the longest the step may take, or null for no limit
 * @param tags      tags selecting the step with {@code --tags}
 * @param location  where the step starts in its file
 * @param fieldLocations where each field of the step ({@code when}, a parameter name, ...) is written,
 *                  when the loader knows it; missing fields fall back to {@code location}
 */
public record StepCall(
        String type,
        Map<String, Object> params,
        String name,
        String when,
        String register,
        List<String> verify,
        List<StepCall> rollback,
        int retries,
        String until,
        Duration delay,
        Duration timeout,
        List<String> tags,
        Location location,
        Map<String, Location> fieldLocations) {

    public StepCall {
        Objects.requireNonNull(type, "type");
        String retriesProblem = StepField.retriesProblem(retries);
        if (retriesProblem != null) {
            // both loaders refuse this with a location first; reaching here is a loader's bug
            throw new IllegalArgumentException("retries: " + retriesProblem);
        }
        params = Values.freezeMap(params);
        verify = List.copyOf(verify);
        rollback = List.copyOf(rollback);
        tags = List.copyOf(tags);
        delay = delay == null ? Duration.ZERO : delay;
        location = location == null ? Location.UNKNOWN : location;
        fieldLocations = fieldLocations == null ? Map.of() : Map.copyOf(fieldLocations);
    }

    /** Where {@code field} is written, or where the step starts when that is not known. */
    public Location locationOf(String field) {
        return fieldLocations.getOrDefault(field, location);
    }

    /** The name shown in reports: the given name, or the step type. */
    public String displayName() {
        return name != null ? name : type;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StepCall s
                && type.equals(s.type) && params.equals(s.params)
                && Objects.equals(name, s.name) && Objects.equals(when, s.when)
                && Objects.equals(register, s.register) && verify.equals(s.verify)
                && rollback.equals(s.rollback) && retries == s.retries
                && Objects.equals(until, s.until) && delay.equals(s.delay)
                && Objects.equals(timeout, s.timeout) && tags.equals(s.tags);
    }

    @Override
    public int hashCode() {
        return Objects.hash(type, params, name, when, register, verify, rollback, retries, until, delay, timeout, tags);
    }
}
