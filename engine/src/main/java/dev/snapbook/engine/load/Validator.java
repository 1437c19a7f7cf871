package dev.snapbook.engine.load;

import dev.snapbook.engine.expr.DidYouMeanText;
import dev.snapbook.engine.expr.Expression;
import dev.snapbook.engine.expr.ExpressionError;
import dev.snapbook.engine.expr.Templates;
import dev.snapbook.engine.model.Playbook;
import dev.snapbook.engine.model.StepCall;
import dev.snapbook.engine.model.Template;
import dev.snapbook.engine.spi.Param;
import dev.snapbook.engine.spi.ParamType;
import dev.snapbook.engine.spi.Step;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Checks a loaded playbook against the step catalogue, whichever loader built it: known step types,
 * known and present parameters of the right types, expressions that parse, sensible register names.
 * The first problem is reported with its file, line and column, the field, and a did-you-mean.
 */
public final class Validator {

    private static final Set<String> RESERVED = Set.of("true", "false", "null", "none", "and", "or", "not", "in",
            "is", "vars", "item");

    private final StepCatalog catalog;

    public Validator(StepCatalog catalog) {
        this.catalog = catalog;
    }

    /** Throws the first problem found in {@code playbook}. */
    public void validate(Playbook playbook) throws PlaybookError {
        for (Map.Entry<String, Object> v : playbook.vars().entrySet()) {
            checkTemplates(v.getValue(), null, "vars." + v.getKey(), playbook);
        }
        validateAll(playbook.steps(), "steps");
        validateAll(playbook.onFailure(), "on_failure");
        validateAll(playbook.always(), "always");
    }

    private void validateAll(List<StepCall> calls, String path) throws PlaybookError {
        for (int i = 0; i < calls.size(); i++) {
            validate(calls.get(i), path + "[" + i + "]");
        }
    }

    private void validate(StepCall call, String path) throws PlaybookError {
        Step step = catalog.get(call.type());
        if (step == null) {
            throw new PlaybookError(call.locationOf("type"), path + "." + call.type(),
                    "unknown step type '" + call.type() + "'" + DidYouMeanText.suggest(call.type(), catalog.names())
                            + "; 'snapbook steps' lists them all");
        }
        String stepPath = path + "." + call.type();
        Map<String, Param> declared = step.params().stream()
                .collect(Collectors.toMap(Param::name, p -> p, (a, b) -> a, java.util.LinkedHashMap::new));
        for (Map.Entry<String, Object> p : call.params().entrySet()) {
            Param param = declared.get(p.getKey());
            String field = stepPath + "." + p.getKey();
            if (param == null) {
                throw new PlaybookError(call.locationOf("param:" + p.getKey()), field,
                        "unknown parameter '" + p.getKey() + "' of " + call.type()
                                + DidYouMeanText.suggest(p.getKey(), declared.keySet())
                                + "; it takes " + describe(declared.keySet()));
            }
            checkValue(call, param, p.getValue(), field);
        }
        for (Param param : declared.values()) {
            if (param.required() && call.params().get(param.name()) == null) {
                throw new PlaybookError(call.locationOf("type"), stepPath + "." + param.name(),
                        "missing required parameter '" + param.name() + "' of " + call.type()
                                + " (" + param.description() + ")");
            }
        }
        checkExpression(call, "when", call.when(), path + ".when");
        checkExpression(call, "until", call.until(), path + ".until");
        for (int i = 0; i < call.verify().size(); i++) {
            checkExpression(call, "verify", call.verify().get(i), path + ".verify[" + i + "]");
        }
        if (call.register() != null && (!call.register().matches("[A-Za-z_][A-Za-z0-9_]*")
                || RESERVED.contains(call.register()))) {
            throw new PlaybookError(call.locationOf("register"), path + ".register",
                    "'" + call.register() + "' cannot be a variable name: use letters, digits and '_', "
                            + "not starting with a digit, and not one of " + describe(RESERVED));
        }
        if (call.until() != null && call.retries() == 0) {
            throw new PlaybookError(call.locationOf("until"), path + ".until",
                    "'until' needs 'retries' (how many more tries) to have any effect");
        }
        validateAll(call.rollback(), path + ".rollback");
    }

    private void checkValue(StepCall call, Param param, Object value, String field) throws PlaybookError {
        if (param.type() == ParamType.EXPRESSIONS) {
            List<?> items = value instanceof List<?> l ? l : List.of(value == null ? "" : value);
            for (Object item : items) {
                String text = item instanceof Template t ? t.source() : String.valueOf(item);
                checkExpression(call, "param:" + param.name(), dev.snapbook.engine.expr.Expressions.bare(text), field);
            }
            return;
        }
        if (value instanceof Template) {
            checkTemplates(value, call, field, null);
            return;
        }
        if (value == null) {
            return;
        }
        checkTemplates(value, call, field, null);
        if (Templates.containsTemplate(value)) {
            return;
        }
        try {
            Object coerced = param.type().coerce(value);
            if (!param.choices().isEmpty() && !param.choices().contains(String.valueOf(coerced))) {
                throw new IllegalArgumentException("expected one of " + describe(param.choices()) + ", got "
                        + ParamType.describe(value) + DidYouMeanText.suggest(String.valueOf(value), param.choices()));
            }
        } catch (IllegalArgumentException e) {
            throw new PlaybookError(call.locationOf("param:" + param.name()), field, e.getMessage());
        }
    }

    private void checkTemplates(Object value, StepCall call, String field, Playbook playbook) throws PlaybookError {
        if (value instanceof Template t) {
            try {
                Templates.parts(t.source());
            } catch (ExpressionError e) {
                String name = field.substring(field.lastIndexOf('.') + 1);
                throw new PlaybookError(call == null
                        ? new dev.snapbook.engine.model.Location(playbook.source(), 0, 0)
                        : call.locationOf("param:" + name), field, e.getMessage());
            }
        } else if (value instanceof Map<?, ?> m) {
            for (Object v : m.values()) {
                checkTemplates(v, call, field, playbook);
            }
        } else if (value instanceof List<?> l) {
            for (Object v : l) {
                checkTemplates(v, call, field, playbook);
            }
        }
    }

    private static void checkExpression(StepCall call, String fieldKey, String expression, String field)
            throws PlaybookError {
        if (expression == null) {
            return;
        }
        try {
            Expression.parse(expression);
        } catch (ExpressionError e) {
            throw new PlaybookError(call.locationOf(fieldKey), field, e.getMessage());
        }
    }

    private static String describe(java.util.Collection<String> names) {
        return names.isEmpty() ? "no parameters" : String.join(", ", names);
    }
}
