package dev.snapbook.engine.spi;

import java.util.List;
import java.util.Map;

/**
 * What a step says it will do, decided during planning.
 *
 * @param actions         the calls, commands or changes it will make, one line each, in order
 * @param changes         whether it changes anything (false for read-only steps)
 * @param predictedResult the result it will return; values known only after running are {@link Unknown}
 */
public record Planned(List<String> actions, boolean changes, Map<String, Object> predictedResult) {

    public Planned {
        actions = List.copyOf(actions);
        predictedResult = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(predictedResult));
    }

    /** A read-only step whose result is predicted as given. */
    public static Planned readOnly(String action, Map<String, Object> predictedResult) {
        return new Planned(List.of(action), false, predictedResult);
    }

    /** A step that changes something. */
    public static Planned change(List<String> actions, Map<String, Object> predictedResult) {
        return new Planned(actions, true, predictedResult);
    }

    /** The same step, predicted to change nothing because the world is already as asked. */
    public static Planned alreadyDone(String why, Map<String, Object> predictedResult) {
        return new Planned(List.of("nothing to do: " + why), false, predictedResult);
    }
}
