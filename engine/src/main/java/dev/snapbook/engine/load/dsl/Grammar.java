package dev.snapbook.engine.load.dsl;

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
    STEP("a step block", ordered(
            "name", "name 'human name'",
            "when", "when 'expression'",
            "register", "register 'variable'",
            "verify", "verify 'expression', ...",
            "rollback", "rollback { step ... }",
            "retries", "retries 3",
            "until", "until 'expression'",
            "delay", "delay '5s'  (250ms, 60s, 5m, 1h or whole seconds)",
            "timeout", "timeout '60s'  (250ms, 60s, 5m, 1h or whole seconds)",
            "tags", "tags 'a', 'b'"));

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
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : usages.keySet()) {
            int d = distance(method.toLowerCase(), candidate.toLowerCase());
            if (d < bestDistance) {
                best = candidate;
                bestDistance = d;
            }
        }
        return bestDistance <= Math.max(2, method.length() / 3) ? Optional.ofNullable(best) : Optional.empty();
    }

    /** Damerau-Levenshtein distance (optimal string alignment): a swapped pair of letters counts 1. */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
