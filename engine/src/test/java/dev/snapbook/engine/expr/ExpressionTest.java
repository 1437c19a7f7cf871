package dev.snapbook.engine.expr;

import dev.snapbook.engine.model.Template;
import dev.snapbook.engine.spi.Unknown;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExpressionTest {

    private final Map<String, Object> vars = Map.of(
            "domain", "web01",
            "count", 3L,
            "r", Map.of("state", "running", "disks", List.of("vda", "vdb")),
            "later", new Unknown("result of step 2"));
    private final Scope scope = name -> vars.containsKey(name) ? vars.get(name) : Scope.UNDEFINED;

    private Object eval(String source) {
        return Expression.parse(source).evaluate(scope);
    }

    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {
            "count == 3 ; true",
            "count > 2 and count < 4 ; true",
            "not count == 3 ; false",
            "r.state == 'running' ; true",
            "r['state'] != \"running\" ; false",
            "'vdb' in r.disks ; true",
            "'vdc' not in r.disks ; true",
            "r.disks | length == 2 ; true",
            "missing is defined ; false",
            "r.state is defined ; true",
            "(count + 2) * 2 == 10 ; true",
            "domain | upper == 'WEB01' ; true",
            "missing | default('x') == 'x' ; true",
            "'7' | int == 7 ; true",
            "false or count >= 3 ; true"})
    void evaluatesTheLanguage(String source, boolean expected) {
        assertEquals(expected, eval(source));
    }

    @Test
    void indexesListsFromTheEnd() {
        assertEquals("vdb", eval("r.disks[-1]"));
    }

    @Nested
    class UnknownValues {
        @Test
        void propagateThroughOperations() {
            assertInstanceOf(Unknown.class, eval("later.value == 3"));
            assertInstanceOf(Unknown.class, eval("not later"));
            assertInstanceOf(Unknown.class, eval("later | length"));
        }

        @Test
        void areDecidedByTheOtherSideOfAndOr() {
            assertEquals(false, eval("false and later"));
            assertEquals(true, eval("later or true"));
            assertInstanceOf(Unknown.class, eval("true and later"));
        }
    }

    @Nested
    class Errors {
        @Test
        void nameAnUndefinedVariableAndHowToDefineIt() {
            ExpressionError e = assertThrows(ExpressionError.class, () -> eval("nope == 1"));
            assertTrue(e.getMessage().contains("'nope' is not defined"), e.getMessage());
            assertTrue(e.getMessage().contains("-e nope=VALUE"), e.getMessage());
        }

        @Test
        void nameAMissingFieldAndTheFieldsThereAre() {
            ExpressionError e = assertThrows(ExpressionError.class, () -> eval("r.stat"));
            assertTrue(e.getMessage().contains("no field 'stat'") && e.getMessage().contains("state")
                    && e.getMessage().contains("disks"),
                    e.getMessage());
        }

        @Test
        void sayWhereParsingStopped() {
            ExpressionError e = assertThrows(ExpressionError.class, () -> Expression.parse("count ==* 2"));
            assertTrue(e.getMessage().contains("at character"), e.getMessage());
        }

        @Test
        void suggestAFilterForANearMiss() {
            ExpressionError e = assertThrows(ExpressionError.class, () -> Expression.parse("r | lenght"));
            assertTrue(e.getMessage().contains("did you mean 'length'"), e.getMessage());
        }

        @Test
        void offerNoWayToCallCode() {
            assertThrows(ExpressionError.class, () -> Expression.parse("domain.getClass()"));
            assertThrows(ExpressionError.class, () -> Expression.parse("System.exit(1)"));
        }
    }

    @Nested
    class TemplatesInStrings {
        @Test
        void aWholeExpressionKeepsItsType() {
            assertEquals(3L, Templates.render(new Template("{{ count }}"), scope));
        }

        @Test
        void mixedTextBecomesAString() {
            assertEquals("web01-snap3", Templates.render(new Template("{{ domain }}-snap{{ count }}"), scope));
        }

        @Test
        void valuesThatAreDataAreNeverEvaluated() {
            Map<String, Object> data = Map.of("x", "{{ domain }}");
            Scope s = name -> data.containsKey(name) ? data.get(name) : Scope.UNDEFINED;
            assertEquals("{{ domain }}", Templates.render(new Template("{{ x }}"), s));
            assertEquals("{{ domain }}", Templates.render("{{ domain }}", s));
        }

        @Test
        void anUnclosedBraceIsAnError() {
            assertThrows(ExpressionError.class, () -> Templates.parts("{{ domain "));
        }
    }
}
