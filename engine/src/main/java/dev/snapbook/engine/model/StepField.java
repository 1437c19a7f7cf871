package dev.snapbook.engine.model;

import java.util.Arrays;
import java.util.List;

/**
 * The controls a step may have beside its type and parameters ({@code when}, {@code retries}, ...): the one
 * definition of their names, kinds, bounds and descriptions. The YAML loader reads the YAML keys of this
 * list, the Groovy DSL offers a method of the same name for each, the JSON Schema describes each, and
 * {@link StepCall} holds one component for each.
 */
public enum StepField {

    NAME("name", Kind.STRING, "A name shown in plans and reports instead of the step type.",
            "name 'human name'"),
    WHEN("when", Kind.EXPRESSION, "Run the step only when this expression is true.",
            "when 'expression'"),
    REGISTER("register", Kind.VARIABLE, "Store the step's result under this variable name.",
            "register 'variable'"),
    VERIFY("verify", Kind.EXPRESSIONS, "Expressions that must all be true after the step ran.",
            "verify 'expression', ..."),
    ROLLBACK("rollback", Kind.STEPS, "Steps that undo this one if a later step fails.",
            "rollback { step ... }"),
    RETRIES("retries", Kind.COUNT, "How many more times to try when the step fails or 'until' is false.",
            "retries 3"),
    UNTIL("until", Kind.EXPRESSION, "Retry until this expression is true (needs 'retries').",
            "until 'expression'"),
    DELAY("delay", Kind.DURATION, "The wait between tries.",
            "delay '5s'  (250ms, 60s, 5m, 1h or whole seconds)"),
    TIMEOUT("timeout", Kind.DURATION, "The longest the step may take.",
            "timeout '60s'  (250ms, 60s, 5m, 1h or whole seconds)"),
    TAGS("tags", Kind.STRINGS, "Tags selecting the step with --tags.",
            "tags 'a', 'b'");

    /** What a field holds. */
    public enum Kind {
        STRING, VARIABLE, EXPRESSION, EXPRESSIONS, STEPS, COUNT, DURATION, STRINGS
    }

    /**
     * The most {@code retries} a step may have. With the longest delay a playbook can write this is already
     * far more waiting than any recovery needs; a larger number is almost always a typo.
     */
    public static final int MAX_RETRIES = 1000;

    private final String key;
    private final Kind kind;
    private final String description;
    private final String dslUsage;

    StepField(String key, Kind kind, String description, String dslUsage) {
        this.key = key;
        this.kind = kind;
        this.description = description;
        this.dslUsage = dslUsage;
    }

    /** The YAML key, which is also the Groovy DSL method's name. */
    public String key() {
        return key;
    }

    public Kind kind() {
        return kind;
    }

    /** One sentence for the JSON Schema and help texts. */
    public String description() {
        return description;
    }

    /** How the field is written in a Groovy step block. */
    public String dslUsage() {
        return dslUsage;
    }

    /** Every field's key, in the order the fields are documented. */
    public static List<String> keys() {
        return Arrays.stream(values()).map(StepField::key).toList();
    }

    /**
     * Why {@code retries} is not a valid value of {@link #RETRIES}, or null when it is: the one bound both
     * loaders and the model check.
     */
    public static String retriesProblem(long retries) {
        return retries >= 0 && retries <= MAX_RETRIES ? null
                : "expected a whole number from 0 to " + MAX_RETRIES + ", got " + retries;
    }
}
