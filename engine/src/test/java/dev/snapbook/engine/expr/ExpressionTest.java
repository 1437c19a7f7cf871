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

    /** A playbook's expressions are parsed when it is loaded; plan and run get the same trees back. */
    @Test
    void aSourceIsParsedOnceAndItsTreeReused() {
        Expression first = Expression.parse("r.changed and (n + 1) * 2 > 3");
        org.junit.jupiter.api.Assertions.assertSame(first, Expression.parse("r.changed and (n + 1) * 2 > 3"));
        Map<String, Object> changed = Map.of("r", Map.of("changed", true), "n", 2);
        Map<String, Object> unchanged = Map.of("r", Map.of("changed", false), "n", 2);
        assertEquals(true, first.evaluate(name -> changed.getOrDefault(name, Scope.UNDEFINED)));
        assertEquals(false, Expression.parse("r.changed and (n + 1) * 2 > 3")
                .evaluate(name -> unchanged.getOrDefault(name, Scope.UNDEFINED)));
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

    @Nested
    class TemplatesSplitByTheGrammar {
        @Test
        void closingBracesInsideAStringBelongToTheString() {
            assertEquals("a}}b", Templates.render(new Template("{{ 'a}}b' }}"), scope));
            assertEquals("<}}>web01", Templates.render(new Template("<{{ \"}}\" }}>{{ domain }}"), scope));
        }

        @Test
        void bareTakesTheBracesOffByTheGrammarToo() {
            assertEquals("'a}}b'", Expressions.bare("{{ 'a}}b' }}"));
            assertEquals("{{ a }} and {{ b }}", Expressions.bare("{{ a }} and {{ b }}"));
            assertEquals("a ==", Expressions.bare("{{ a == }}"), "an unparsable one still loses its braces");
        }

        @Test
        void anExpressionNotFollowedByClosingBracesSaysWhatWasFound() {
            ExpressionError e = assertThrows(ExpressionError.class, () -> Templates.parts("{{ domain ) }}"));
            assertTrue(e.getMessage().contains("expected '}}'"), e.getMessage());
            e = assertThrows(ExpressionError.class, () -> Templates.parts("{{ 'a }}"));
            assertTrue(e.getMessage().contains("string is not closed"), e.getMessage());
        }
    }

    @Nested
    class NumbersAreExact {
        @ParameterizedTest
        @CsvSource(delimiter = ';', value = {
                "9007199254740993 == 9007199254740992 ; false",
                "9007199254740993 != 9007199254740992 ; true",
                "9007199254740993 > 9007199254740992 ; true",
                "9223372036854775807 > 9223372036854775806 ; true",
                "9007199254740993 == 9007199254740992.0 ; false",
                "9007199254740992 == 9007199254740992.0 ; true",
                "1 == 1.0 ; true",
                "2 > 1.5 ; true",
                "0.1 + 0.2 == 0.3 ; false",
                "9007199254740993 in [9007199254740992] ; false",
                "-9223372036854775807 - 1 < -9223372036854775807 ; true"})
        void comparesWithoutRoundingToDouble(String source, boolean expected) {
            assertEquals(expected, eval(source));
        }

        @Test
        void comparesNarrowerWholeNumbersFromStepResultsExactly() {
            Scope s = name -> name.equals("i") ? Integer.valueOf(7) : Scope.UNDEFINED;
            assertEquals(true, Expression.parse("i == 7").evaluate(s));
            assertEquals(-7L, Expression.parse("-i").evaluate(s));
        }

        @ParameterizedTest
        @CsvSource(delimiter = ';', value = {
                "9223372036854775807 + 1",
                "-9223372036854775807 - 2",
                "9223372036854775807 * 2",
                "(-9223372036854775807 - 1) / -1",
                "-(-9223372036854775807 - 1)"})
        void overflowIsAnExpressionErrorNeverAWrongNumber(String source) {
            ExpressionError e = assertThrows(ExpressionError.class, () -> eval(source));
            assertTrue(e.getMessage().contains("does not fit in a 64-bit integer"), e.getMessage());
        }

        @Test
        void literalsTooLargeAreRefusedWhenParsed() {
            assertThrows(ExpressionError.class, () -> Expression.parse("9223372036854775808"));
            assertThrows(ExpressionError.class, () -> Expression.parse("1" + "0".repeat(400) + ".5"));
        }

        @Test
        void onlyAsciiDigitsMakeANumber() {
            ExpressionError e = assertThrows(ExpressionError.class, () -> Expression.parse("\u0661.\u0662 > 0"));
            assertTrue(e.getMessage().contains("at character 1"), e.getMessage());
        }

        @Test
        void divisionByZeroIsAnErrorForDecimalsToo() {
            assertThrows(ExpressionError.class, () -> eval("1 / 0"));
            assertThrows(ExpressionError.class, () -> eval("1.5 / 0"));
            assertThrows(ExpressionError.class, () -> eval("1.5 % 0.0"));
        }

        @Test
        void aListIndexIsAWholeNumberWithinTheList() {
            assertThrows(ExpressionError.class, () -> eval("r.disks[4294967297]"), "not list[1] by wrapping");
            assertThrows(ExpressionError.class, () -> eval("r.disks[0.5]"));
        }

        @Test
        void intOfAHugeDecimalIsAnError() {
            assertThrows(ExpressionError.class, () -> eval("1" + "0".repeat(30) + ".0 | int"));
            assertEquals(-2L, eval("-2.7 | int"));
        }
    }

    @Nested
    class NestingIsBounded {
        @Test
        void fiveThousandParenthesesAreAParseError() {
            String deep = "(".repeat(5000) + "1" + ")".repeat(5000);
            ExpressionError e = assertThrows(ExpressionError.class, () -> Expression.parse(deep));
            assertTrue(e.getMessage().contains("nests more than " + Expression.MAX_DEPTH), e.getMessage());
        }

        @Test
        void aLongChainOfOperatorsIsAParseErrorNotADeepEvaluation() {
            ExpressionError e = assertThrows(ExpressionError.class,
                    () -> Expression.parse("1" + " + 1".repeat(5000)));
            assertTrue(e.getMessage().contains("chain of operators"), e.getMessage());
            assertThrows(ExpressionError.class, () -> Expression.parse("r" + ".a".repeat(5000)));
            assertThrows(ExpressionError.class, () -> Expression.parse("not ".repeat(5000) + "true"));
            assertThrows(ExpressionError.class, () -> Expression.parse("-".repeat(5000) + "1"));
            assertThrows(ExpressionError.class, () -> Expression.parse("[".repeat(5000) + "]".repeat(5000)));
            assertThrows(ExpressionError.class, () -> Templates.parts("{{ " + "(".repeat(5000) + " }}"));
        }

        @Test
        void nestingWithinTheBoundParsesAndEvaluates() {
            int n = Expression.MAX_DEPTH - 10;
            assertEquals(1L, eval("(".repeat(n) + "1" + ")".repeat(n)));
            assertEquals((long) n, eval("0" + " + 1".repeat(n)));
        }
    }
}
