package dev.snapbook.engine.load.dsl;

import dev.snapbook.engine.expr.Expressions;
import dev.snapbook.engine.model.Location;
import dev.snapbook.engine.model.StepCall;
import dev.snapbook.engine.model.StepField;
import dev.snapbook.engine.spi.Durations;
import groovy.lang.Closure;
import groovy.lang.DelegatesTo;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The block of one step, {@code step('type', param: value) { ... }}: the controls around the step.
 * Each control is given at most once, except {@code verify} and {@code tags}, which add up.
 * Expressions ({@code when}, {@code until}, {@code verify}) are strings, stored without {@code {{ }}},
 * or a variable reference ({@code when reverted.changed}).
 */
public class StepSpec extends Block {

    private final String type;
    private final Location location;
    private final Map<String, Location> fieldLocations = new HashMap<>();
    private Map<String, Object> params = Map.of();
    private String name;
    private String when;
    private String register;
    private final List<String> verify = new ArrayList<>();
    private final StepsSpec rollback;
    private Integer retries;
    private String until;
    private Duration delay;
    private Duration timeout;
    private final List<String> tags = new ArrayList<>();

    StepSpec(DslContext ctx, String type, Location location) {
        super(ctx);
        this.type = type;
        this.location = location;
        this.rollback = new StepsSpec(ctx, "a rollback block");
    }

    @Override
    Grammar grammar() {
        return Grammar.STEP;
    }

    void params(Map<String, Object> params) {
        this.params = params;
    }

    /** The name shown in plans and reports instead of the step type. */
    public void name(String name) {
        this.name = once("name", this.name, name);
    }

    /** The step runs only when {@code expression} is true. */
    public void when(String expression) {
        when = once("when", when, Expressions.bare(expression));
    }

    /** The step runs only when the variable is true: {@code when agent.ready}. */
    public void when(Ref variable) {
        when = once("when", when, variable.path());
    }

    /** Stores the step's result under {@code variable}; later steps read it as {@code variable.field}. */
    public void register(String variable) {
        if (!PlaybookSpec.NAME.matcher(variable).matches()) {
            throw new DslError("register", "`" + variable + "` is not a variable name (letters, digits, _)");
        }
        register = once("register", register, variable);
        ctx.declare(variable);
    }

    /** Expressions that must all be true after the step ran: strings, variable references, or lists of them. */
    public void verify(Object... expressions) {
        mark("verify");
        for (Object e : expressions) {
            if (e instanceof Collection<?> list) {
                list.forEach(x -> verify.add(expression("verify", x)));
            } else {
                verify.add(expression("verify", e));
            }
        }
    }

    /** Steps that undo this one when a later step fails. */
    public void rollback(@DelegatesTo(value = StepsSpec.class, strategy = Closure.DELEGATE_FIRST) Closure<?> body) {
        checkOpen("rollback");
        mark("rollback");
        ctx.run(rollback, body);
    }

    /** How many more times to try when the step fails or {@code until} is false. */
    public void retries(int retries) {
        String problem = StepField.retriesProblem(retries);
        if (problem != null) {
            throw new DslError("retries", problem);
        }
        this.retries = once("retries", this.retries, retries);
    }

    /** The step counts as done only when {@code expression} is true; tried again otherwise. */
    public void until(String expression) {
        until = once("until", until, Expressions.bare(expression));
    }

    /** The step counts as done only when the variable is true: {@code until agent.ready}. */
    public void until(Ref variable) {
        until = once("until", until, variable.path());
    }

    /** The wait between tries: {@code '250ms'}, {@code '5s'}, {@code '5m'}, {@code '1h'}. */
    public void delay(String duration) {
        delay = once("delay", delay, duration("delay", duration));
    }

    /** The wait between tries, in seconds. */
    public void delay(long seconds) {
        delay = once("delay", delay, duration("delay", Long.toString(seconds)));
    }

    /** The longest the step may take: {@code '60s'}, {@code '5m'}, ... */
    public void timeout(String duration) {
        timeout = once("timeout", timeout, duration("timeout", duration));
    }

    /** The longest the step may take, in seconds. */
    public void timeout(long seconds) {
        timeout = once("timeout", timeout, duration("timeout", Long.toString(seconds)));
    }

    /** Tags selecting the step with {@code --tags}: {@code tags 'a', 'b'} or {@code tags(['a', 'b'])}. */
    public void tags(Object... tags) {
        mark("tags");
        for (Object t : tags) {
            if (t instanceof Collection<?> list) {
                list.forEach(x -> this.tags.add(tag(x)));
            } else {
                this.tags.add(tag(t));
            }
        }
    }

    private String tag(Object tag) {
        if (!(tag instanceof CharSequence)) {
            throw new DslError("tags", "a tag is a string, not " + describe(tag));
        }
        return tag.toString();
    }

    private String expression(String field, Object e) {
        if (e instanceof Ref r) {
            return r.path();
        }
        if (e instanceof CharSequence s) {
            return Expressions.bare(s.toString());
        }
        throw new DslError(field, "an expression is a string such as '" + field + " x.changed', not "
                + describe(e) + " (a Groovy comparison is decided now, not when the playbook runs)");
    }

    private static String describe(Object value) {
        return value == null ? "null" : "a " + value.getClass().getSimpleName() + " (" + value + ")";
    }

    private static Duration duration(String field, String text) {
        Duration d = text == null ? null : Durations.parse(text);
        if (d == null) {
            throw new DslError(field, "'" + text + "' is not a duration; write 250ms, 60s, 5m, 1h or whole seconds");
        }
        return d;
    }

    /** Checks the control is given once in this block and records where it is written. */
    private <T> T once(String field, T current, T value) {
        checkOpen(field);
        if (current != null) {
            throw new DslError(field, "`" + field + "` is given twice for this step (first at "
                    + fieldLocations.get(field) + ")");
        }
        fieldLocations.put(field, ctx.here());
        return value;
    }

    private void mark(String field) {
        checkOpen(field);
        fieldLocations.putIfAbsent(field, ctx.here());
    }

    StepCall build() {
        return new StepCall(type, params, name, when, register, verify, rollback.steps(),
                retries == null ? 0 : retries, until, delay, timeout, tags, location, fieldLocations);
    }
}
