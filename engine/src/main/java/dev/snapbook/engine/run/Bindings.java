package dev.snapbook.engine.run;

import dev.snapbook.engine.expr.ExpressionError;
import dev.snapbook.engine.expr.Scope;
import dev.snapbook.engine.expr.Templates;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The variables expressions see during one plan or run. Extra variables ({@code -e}) win over registered
 * results, which win over the playbook's {@code vars}. Playbook vars may themselves hold templates and
 * are evaluated when read; extra variables are data and are never evaluated.
 */
public final class Bindings implements Scope {

    private final Map<String, Object> playbookVars;
    private final Map<String, Object> extraVars;
    private final Map<String, Object> registered = new LinkedHashMap<>();
    private final Set<String> evaluating = new HashSet<>();

    public Bindings(Map<String, Object> playbookVars, Map<String, Object> extraVars) {
        this.playbookVars = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(playbookVars));
        this.extraVars = new LinkedHashMap<>(extraVars);
    }

    /** Stores a step's result under its {@code register} name. */
    public void register(String name, Object value) {
        registered.put(name, value);
    }

    public Map<String, Object> registered() {
        return java.util.Collections.unmodifiableMap(registered);
    }

    @Override
    public Object lookup(String name) {
        if (extraVars.containsKey(name)) {
            return extraVars.get(name);
        }
        if (registered.containsKey(name)) {
            return registered.get(name);
        }
        if (playbookVars.containsKey(name)) {
            if (!evaluating.add(name)) {
                throw new ExpressionError("variable '" + name + "' refers to itself");
            }
            try {
                return Templates.render(playbookVars.get(name), this);
            } finally {
                evaluating.remove(name);
            }
        }
        return UNDEFINED;
    }
}
