package dev.snapbook.engine.load.dsl;

import dev.snapbook.engine.model.StepField;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The DSL's vocabulary: which methods each kind of block offers and how each is written. Used for the
 * error messages (wrong arguments, unknown method, did-you-mean, "belongs in another block").
 */
enum Grammar {

    SCRIPT("the top level of the script", Map.of(
            "playbook", "playbook('what it does') { ... }")),
    PLAYBOOK("the playbook block", ordered(
            "vars", "vars name: value, ...",
            "step", "step 'type', param: value, ...  or  step('type', param: value) { step block }",
            "onFailure", "onFailure { step ... }",
            "always", "always { step ... }")),
    STEPS("a block of steps", Map.of(
            "step", "step 'type', param: value, ...  or  step('type', param: value) { step block }")),
    STEP("a step block", stepFields());

    private final String where;
    private final Map<String, String> usages;

    Grammar(String where, Map<String, String> usages) {
        this.where = where;
        this.usages = usages;
    }

    private static Map<String, String> ordered(String... pairs) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put(pairs[i], pairs[i + 1]);
        }
        return m;
    }

    /** A step block offers one method per {@link StepField}, named by its key. */
    private static Map<String, String> stepFields() {
        Map<String, String> m = new LinkedHashMap<>();
        for (StepField f : StepField.values()) {
            m.put(f.key(), f.dslUsage());
        }
        return m;
    }

    String where() {
        return where;
    }

    /**
     * What is wrong with calling {@code method} in this kind of block, which has no matching method:
     * wrong arguments to a known method, or an unknown method with the nearest known one.
     */
    String unknownMethod(String method, String where) {
        String usage = usages.get(method);
        if (usage != null) {
            return "wrong arguments for `" + method + "` in " + where + "; write: " + usage;
        }
        StringBuilder problem = new StringBuilder("unknown method `" + method + "` in " + where);
        Optional<String> near = nearest(method);
        if (near.isPresent()) {
            return problem.append("; did you mean `").append(near.get()).append("`?").toString();
        }
        for (Grammar other : values()) {
            String elsewhere = other.usages.get(method);
            if (other != this && elsewhere != null) {
                problem.append("; `").append(method).append("` belongs in ").append(other.where);
                if (other == STEP) {
                    problem.append(": step('type', param: value) { ").append(elsewhere).append(" }");
                }
                return problem.toString();
            }
        }
        return problem.append(" (").append(where).append(" offers: ")
                .append(String.join(", ", usages.keySet())).append(')').toString();
    }

    /** The method of this block nearest to {@code method} by edit distance, when it is near enough. */
    Optional<String> nearest(String method) {
        return dev.snapbook.engine.expr.DidYouMeanText.nearest(method, usages.keySet());
    }
}
