package dev.snapbook.engine.load.dsl;

import dev.snapbook.engine.model.Playbook;
import groovy.lang.Closure;
import groovy.lang.DelegatesTo;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The block of {@code playbook('name') { ... }}: variables, steps, and the failure and final handlers.
 * <pre>
 * playbook('Revert a VM to an external snapshot') {
 *     vars domain: 'web01', snapshot: 'snap2'
 *     step 'domain.shutdown', domain: domain, timeout: '60s', force: true
 *     onFailure { step 'domain.start', domain: domain }
 * }
 * </pre>
 */
public class PlaybookSpec extends StepsSpec {

    static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private final String name;
    private final Map<String, Object> vars = new LinkedHashMap<>();
    private final StepsSpec onFailure;
    private final StepsSpec always;

    PlaybookSpec(DslContext ctx, String name) {
        super(ctx, Grammar.PLAYBOOK.where());
        this.name = name;
        this.onFailure = new StepsSpec(ctx, "the onFailure block");
        this.always = new StepsSpec(ctx, "the always block");
    }

    @Override
    Grammar grammar() {
        return Grammar.PLAYBOOK;
    }

    /**
     * Default variables, overridden by {@code -e} when the playbook runs. After this, reading a name
     * gives a reference to the variable, never its default value.
     */
    public void vars(Map<String, ?> values) {
        checkOpen("vars");
        ((Map<?, ?>) values).forEach((key, v) -> {
            // Groovy's generics are not checked at run time: `vars 1: 2` passes an Integer key
            String k = String.valueOf(key);
            if (!(key instanceof CharSequence) || !NAME.matcher(k).matches()) {
                throw new DslError("vars." + k, "`" + k + "` is not a variable name (letters, digits, _)");
            }
            if (vars.containsKey(k)) {
                throw new DslError("vars." + k, "variable `" + k + "` is declared twice");
            }
            vars.put(k, ModelValues.of(v, "vars." + k));
            ctx.declare(k);
        });
    }

    /** Steps run after a failure, once the completed steps were undone. */
    public void onFailure(@DelegatesTo(value = StepsSpec.class, strategy = Closure.DELEGATE_FIRST) Closure<?> body) {
        checkOpen("onFailure");
        ctx.run(onFailure, body);
    }

    /** Steps run at the end, whatever happened. */
    public void always(@DelegatesTo(value = StepsSpec.class, strategy = Closure.DELEGATE_FIRST) Closure<?> body) {
        checkOpen("always");
        ctx.run(always, body);
    }

    Playbook build() {
        return new Playbook(name, vars, steps(), onFailure.steps(), always.steps(), ctx.file());
    }
}
