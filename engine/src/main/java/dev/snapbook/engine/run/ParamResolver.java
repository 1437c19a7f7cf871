package dev.snapbook.engine.run;

import dev.snapbook.engine.expr.Expression;
import dev.snapbook.engine.expr.ExpressionError;
import dev.snapbook.engine.expr.Expressions;
import dev.snapbook.engine.expr.Scope;
import dev.snapbook.engine.expr.Templates;
import dev.snapbook.engine.model.StepCall;
import dev.snapbook.engine.model.Template;
import dev.snapbook.engine.spi.Param;
import dev.snapbook.engine.spi.ParamType;
import dev.snapbook.engine.spi.Params;
import dev.snapbook.engine.spi.Step;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.engine.spi.Unknown;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a step call's written parameters into the {@link Params} the step gets: templates evaluated,
 * defaults applied, values converted to the declared types, {@link ParamType#EXPRESSIONS} evaluated.
 */
final class ParamResolver {

    private ParamResolver() {
    }

    static Params resolve(Step step, StepCall call, Scope scope) throws StepFailure {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Param param : step.params()) {
            Object written = call.params().get(param.name());
            Object value;
            try {
                value = param.type() == ParamType.EXPRESSIONS
                        ? evaluateConditions(written, scope)
                        : Templates.render(written, scope);
            } catch (ExpressionError e) {
                throw new InvalidParameter(call.location() + ": " + call.type() + "." + param.name() + ": " + e.getMessage());
            }
            if (value == null) {
                value = param.defaultValue();
            }
            if (value == null) {
                if (param.required()) {
                    throw new InvalidParameter(call.location() + ": " + call.type() + "." + param.name()
                            + ": required parameter evaluated to null");
                }
                continue;
            }
            if (!Templates.containsUnknown(value)) {
                try {
                    value = param.type().coerce(value);
                    if (!param.choices().isEmpty() && !param.choices().contains(String.valueOf(value))) {
                        throw new IllegalArgumentException("expected one of " + String.join(", ", param.choices())
                                + ", got " + ParamType.describe(value));
                    }
                } catch (IllegalArgumentException e) {
                    throw new InvalidParameter(call.location() + ": " + call.type() + "." + param.name() + ": "
                            + e.getMessage());
                }
            }
            out.put(param.name(), value);
        }
        return new Params(call.type(), out);
    }

    private static Object evaluateConditions(Object written, Scope scope) {
        if (written == null) {
            return null;
        }
        List<?> items = written instanceof List<?> l ? l : List.of(written);
        List<Object> out = new ArrayList<>();
        for (Object item : items) {
            String source = Expressions.bare(item instanceof Template t ? t.source() : String.valueOf(item));
            Object v = Expression.parse(source).evaluate(scope);
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("expr", source);
            entry.put("value", v instanceof Unknown ? v : Expression.truthy(v));
            out.add(entry);
        }
        return out;
    }
}
