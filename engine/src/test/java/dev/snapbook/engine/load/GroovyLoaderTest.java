package dev.snapbook.engine.load;

import static dev.snapbook.engine.load.PlaybookPairs.map;
import static dev.snapbook.engine.load.PlaybookPairs.t;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.snapbook.engine.model.Location;
import dev.snapbook.engine.model.Playbook;
import dev.snapbook.engine.model.StepCall;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;
import org.yaml.snakeyaml.Yaml;

class GroovyLoaderTest {

    private final GroovyLoader loader = new GroovyLoader();

    private Playbook load(String text) throws PlaybookError {
        return loader.load("test.groovy", text);
    }

    private PlaybookError failure(String text) {
        return assertThrows(PlaybookError.class, () -> load(text));
    }

    private static void assertProblem(PlaybookError e, int line, String... fragments) {
        assertAll(
                () -> assertEquals(line, e.location().line(), e.getMessage()),
                () -> assertEquals("test.groovy", e.location().file(), e.getMessage()),
                () -> {
                    for (String f : fragments) {
                        assertTrue(e.problem().contains(f), "«" + e.problem() + "» should contain «" + f + "»");
                    }
                });
    }

    @Nested
    class BuildsTheSameModelAsYaml {

        static final List<String> PAIRS = PlaybookPairs.NAMES;

        @ParameterizedTest
        @FieldSource("PAIRS")
        void forEachPair(String pair) throws PlaybookError {
            Playbook loaded = loader.load(pair + ".groovy", PlaybookPairs.text(pair, "groovy"));
            assertEquals(PlaybookPairs.expected(pair), loaded);
            assertEquals(pair + ".groovy", loaded.source());
        }

        /** Until the YAML loader exists: the twin is YAML of the same playbook, with the same steps in order. */
        @ParameterizedTest
        @FieldSource("PAIRS")
        void eachPairHasAYamlTwinWithTheSameSteps(String pair) {
            Map<String, Object> yaml = new Yaml().load(PlaybookPairs.text(pair, "yml"));
            Playbook expected = PlaybookPairs.expected(pair);
            assertAll(
                    () -> assertEquals(expected.name(), yaml.get("name")),
                    () -> assertEquals(expected.vars().keySet(), ((Map<?, ?>) yaml.get("vars")).keySet()),
                    () -> assertEquals(types(expected.steps()), yamlTypes(yaml.get("steps"))),
                    () -> assertEquals(types(expected.onFailure()), yamlTypes(yaml.get("on_failure"))),
                    () -> assertEquals(types(expected.always()), yamlTypes(yaml.get("always"))));
        }

        private static final Set<String> CONTROLS = Set.of("name", "when", "register", "verify", "rollback",
                "retries", "until", "delay", "timeout", "tags");

        /** Step types depth first, rollbacks in brackets after their step. */
        private static List<String> types(List<StepCall> steps) {
            List<String> out = new ArrayList<>();
            for (StepCall s : steps) {
                out.add(s.type());
                if (!s.rollback().isEmpty()) {
                    out.add(types(s.rollback()).toString());
                }
            }
            return out;
        }

        private static List<String> yamlTypes(Object steps) {
            List<String> out = new ArrayList<>();
            if (steps == null) {
                return out;
            }
            for (Object o : (List<?>) steps) {
                Map<?, ?> step = (Map<?, ?>) o;
                step.keySet().stream().map(String::valueOf).filter(k -> !CONTROLS.contains(k)).forEach(out::add);
                if (step.get("rollback") != null) {
                    out.add(yamlTypes(step.get("rollback")).toString());
                }
            }
            return out;
        }

        @Test
        void pairsSetEveryFieldOfAStep() {
            List<StepCall> all = new ArrayList<>();
            PlaybookPairs.NAMES.stream().map(PlaybookPairs::expected).forEach(p -> {
                collect(p.steps(), all);
                collect(p.onFailure(), all);
                collect(p.always(), all);
            });
            assertAll(
                    covered(all, "name", s -> s.name() != null),
                    covered(all, "when", s -> s.when() != null),
                    covered(all, "register", s -> s.register() != null),
                    covered(all, "verify", s -> !s.verify().isEmpty()),
                    covered(all, "rollback", s -> !s.rollback().isEmpty()),
                    covered(all, "nested rollback", s -> s.rollback().stream().anyMatch(r -> !r.rollback().isEmpty())),
                    covered(all, "retries", s -> s.retries() > 0),
                    covered(all, "until", s -> s.until() != null),
                    covered(all, "delay", s -> !s.delay().isZero()),
                    covered(all, "timeout", s -> s.timeout() != null),
                    covered(all, "tags", s -> !s.tags().isEmpty()),
                    () -> assertTrue(PlaybookPairs.NAMES.stream().map(PlaybookPairs::expected)
                            .anyMatch(p -> !p.onFailure().isEmpty()), "on_failure"),
                    () -> assertTrue(PlaybookPairs.NAMES.stream().map(PlaybookPairs::expected)
                            .anyMatch(p -> !p.always().isEmpty()), "always"));
        }

        private static void collect(List<StepCall> steps, List<StepCall> into) {
            for (StepCall s : steps) {
                into.add(s);
                collect(s.rollback(), into);
            }
        }

        private static org.junit.jupiter.api.function.Executable covered(List<StepCall> steps, String field,
                Predicate<StepCall> set) {
            return () -> assertTrue(steps.stream().anyMatch(set), field + " is set by no pair");
        }
    }

    @Nested
    class KeepsVariablesForRunTime {

        @Test
        void aVariableBecomesATemplateNotItsDefaultValue() throws PlaybookError {
            Playbook p = load("playbook('p') { vars domain: 'web01'\n step 'domain.start', domain: domain }");
            assertEquals(t("{{ domain }}"), p.steps().get(0).params().get("domain"));
            assertEquals("web01", p.vars().get("domain"));
        }

        @Test
        void propertyChainsAndIndexesOfARegisteredResultBecomeOneTemplate() throws PlaybookError {
            Playbook p = load("""
                    playbook('p') {
                        step('snapshot.revert') { register 'reverted' }
                        step 'x', a: reverted.disks.vda.source, b: reverted.disks['vdb'], c: reverted.list[0]
                    }
                    """);
            assertEquals(map("a", t("{{ reverted.disks.vda.source }}"), "b", t("{{ reverted.disks['vdb'] }}"),
                    "c", t("{{ reverted.list[0] }}")), p.steps().get(1).params());
        }

        @Test
        void aGStringWithVariablesBecomesATemplateAndOneWithoutStaysAString() throws PlaybookError {
            Playbook p = load("""
                    def dir = '/images'
                    playbook('p') { step 'x', a: "${domain}-snap", b: "${dir}/a.qcow2", c: 'plain', d: '{{ raw }}' }
                    """);
            assertEquals(map("a", t("{{ domain }}-snap"), "b", "/images/a.qcow2", "c", "plain", "d", t("{{ raw }}")),
                    p.steps().get(0).params());
        }

        @Test
        void scriptBindingVariablesAreOrdinaryGroovyValues() throws PlaybookError {
            Playbook p = load("base = '/srv'\nplaybook('p') { step 'x', path: base }");
            assertEquals("/srv", p.steps().get(0).params().get("path"));
        }

        @Test
        void aPlaybookVariableShadowsAScriptVariableOfTheSameName() throws PlaybookError {
            Playbook p = load("domain = 'literal'\nplaybook('p') { vars domain: 'web01'\n step 'x', d: domain }");
            assertEquals(t("{{ domain }}"), p.steps().get(0).params().get("d"));
        }

        @Test
        void numbersWidenLikeYaml() throws PlaybookError {
            Playbook p = load("playbook('p') { step 'x', i: 1, l: 2L, d: 0.25, big: 3G, yes: true, none: null }");
            assertEquals(map("i", 1L, "l", 2L, "d", 0.25, "big", 3L, "yes", true, "none", null),
                    p.steps().get(0).params());
        }

        @Test
        void testingAVariableInGroovyIsRefusedBecauseItsValueIsNotKnownYet() {
            PlaybookError e = failure("""
                    playbook('p') {
                        step('x') { register 'r' }
                        if (r.changed) {
                            step 'y'
                        }
                    }
                    """);
            assertProblem(e, 3, "r.changed", "when 'r.changed'");
        }

        @Test
        void callingAMethodOnAVariableIsRefused() {
            assertProblem(failure("playbook('p') {\n step 'x', d: domain.toUpperCase() }"), 2,
                    "toUpperCase", "`domain`");
        }

        @Test
        void anUnsupportedValueIsRefused() {
            assertProblem(failure("playbook('p') {\n step 'x', d: new Date() }"), 2, "Date", "not a playbook value");
        }
    }

    @Nested
    class RecordsWhereThingsAreWritten {

        @Test
        void eachStepIsLocatedAtTheLineOfItsStepCall() throws PlaybookError {
            Playbook p = loader.load("revert.groovy", PlaybookPairs.text("revert-external", "groovy"));
            assertEquals(List.of(3, 4, 5, 9), p.steps().stream().map(s -> s.location().line()).toList());
            assertEquals(new Location("revert.groovy", 13, 0), p.onFailure().get(0).location());
        }

        @Test
        void stepControlsAreLocatedAtTheirOwnLines() throws PlaybookError {
            Playbook p = load("""
                    playbook('p') {
                        step('x') {
                            register 'r'
                            when 'r.ok'
                            rollback {
                                step 'undo'
                            }
                        }
                    }
                    """);
            StepCall s = p.steps().get(0);
            assertAll(
                    () -> assertEquals(3, s.locationOf("register").line()),
                    () -> assertEquals(4, s.locationOf("when").line()),
                    () -> assertEquals(5, s.locationOf("rollback").line()),
                    () -> assertEquals(6, s.rollback().get(0).location().line()),
                    () -> assertEquals(2, s.locationOf("unwritten").line()));
        }
    }

    @Nested
    class ReportsErrorsAtTheirLine {

        @Test
        void aCompileErrorGivesLineColumnAndTheCompilersMessage() {
            PlaybookError e = failure("playbook('p') {\n    step 'x', domain: \n}\n");
            assertEquals(new Location("test.groovy", 3, 1), e.location(), e.getMessage());
            assertTrue(e.problem().startsWith("does not compile: "), e.problem());
        }

        @Test
        void aCompileErrorPointsAtTheBadToken() {
            PlaybookError e = failure("playbook('p') {\n  step 'x'\n  def 1x = 2\n}\n");
            assertEquals(3, e.location().line(), e.getMessage());
        }

        @Test
        void aRuntimeExceptionIsReportedAtTheScriptLineThatThrewIt() {
            PlaybookError e = failure("""
                    playbook('p') {
                        step 'x'
                        def n = 1 / 0
                    }
                    """);
            assertProblem(e, 3, "ArithmeticException", "Division by zero");
            assertInstanceOf(ArithmeticException.class, e.getCause());
        }

        @Test
        void aMisspelledStepControlIsNamedWithItsLineAndTheNearestControl() {
            PlaybookError e = failure("""
                    playbook('p') {
                        step('x') {
                            name 'ok'
                            regsiter 'r'
                        }
                    }
                    """);
            assertProblem(e, 4, "unknown method `regsiter`", "a step block", "did you mean `register`?");
            assertEquals("regsiter", e.field());
        }

        @Test
        void aMisspelledPlaybookMethodSuggestsTheNearestOne() {
            assertProblem(failure("playbook('p') {\n\n  stpe 'x'\n}"), 3, "`stpe`", "did you mean `step`?");
        }

        @Test
        void aMisspelledMethodInARollbackBlockNamesThatBlock() {
            assertProblem(failure("playbook('p') {\n step('x') {\n  rollback {\n   stepp 'y'\n}}}"), 4,
                    "a rollback block", "did you mean `step`?");
        }

        @Test
        void aMisspelledPlaybookCallSuggestsPlaybook() {
            assertProblem(failure("// header\nplaybok('p') {\n}"), 2, "`playbok`", "did you mean `playbook`?");
        }

        @Test
        void aStepControlAtPlaybookLevelSaysWhereItBelongs() {
            assertProblem(failure("playbook('p') {\n  retries 3\n}"), 2, "`retries`", "belongs in a step block");
        }

        @Test
        void aStepInsideAStepBlockIsRefusedInsteadOfJoiningThePlaybook() {
            assertProblem(failure("playbook('p') {\n step('x') {\n  step 'y'\n }\n}"), 3,
                    "`step` cannot be used in a step block");
        }

        @Test
        void wrongArgumentsToAKnownControlShowHowToWriteIt() {
            assertProblem(failure("playbook('p') {\n step('x') {\n  retries 'three'\n }\n}"), 3,
                    "wrong arguments for `retries`", "retries 3");
        }

        @Test
        void aComparisonAsAConditionIsRefused() {
            assertProblem(failure("playbook('p') {\n step('x') {\n  verify domain == 'web01'\n }\n}"), 3,
                    "expression is a string");
        }

        @Test
        void aBadDurationIsRefused() {
            PlaybookError e = failure("playbook('p') {\n step('x') {\n  delay '5 parsecs'\n }\n}");
            assertProblem(e, 3, "'5 parsecs' is not a duration");
            assertEquals("delay", e.field());
        }

        @Test
        void tooManyRetriesAreRefusedAsInYaml() {
            PlaybookError e = failure("playbook('p') {\n step('x') {\n  retries 5000\n }\n}");
            assertProblem(e, 3, "from 0 to 1000", "5000");
            assertEquals("retries", e.field());
            assertProblem(failure("playbook('p') {\n step('x') {\n  retries(-1)\n }\n}"), 3, "from 0 to 1000");
        }

        @Test
        void aFailedAssertIsAPlaybookErrorAtItsLine() {
            PlaybookError e = failure("playbook('p') {\n step 'x'\n assert 1 == 2\n}");
            assertProblem(e, 3, "the script failed", "assert");
        }

        @Test
        void anErrorThrownByTheScriptIsAPlaybookError() {
            assertProblem(failure("playbook('p') {\n step 'x'\n throw new Error('boom')\n}"), 3, "Error: boom");
        }

        @Test
        void aListThatContainsItselfIsRefusedNotFollowedForever() {
            PlaybookError e = failure("def l = []\nl << l\nplaybook('p') {\n step 'x', v: l\n}");
            assertProblem(e, 4, "nest more than 50 levels deep");
        }

        @Test
        void aParameterOrVariableNamedByANumberIsRefused() {
            assertProblem(failure("playbook('p') {\n step 'x', 1: 2\n}"), 2, "a parameter name is a word, not 1");
            assertProblem(failure("playbook('p') {\n vars 1: 2\n step 'x'\n}"), 2, "is not a variable name");
        }

        @Test
        void aNumberThatIsNotFiniteIsRefusedAsInYaml() {
            assertProblem(failure("playbook('p') {\n step 'x', v: 1e400\n}"), 2, "too large");
            assertProblem(failure("playbook('p') {\n step 'x', v: Double.NaN\n}"), 2, "not a finite number");
        }

        @Test
        void blocksNestedTooDeeplyAreRefused() {
            String open = "step('x') { rollback {\n".repeat(40);
            PlaybookError e = failure("playbook('p') {\n" + open + " step 'y'\n" + "} }\n".repeat(40) + "}");
            assertTrue(e.problem().contains("blocks nest more than 50 levels deep"), e.problem());
        }

        @Test
        void aControlGivenTwiceIsRefused() {
            assertProblem(failure("playbook('p') {\n step('x') {\n  when 'a'\n  when 'b'\n }\n}"), 4,
                    "`when` is given twice", "test.groovy:3");
        }

        @Test
        void aVariableDeclaredTwiceIsRefused() {
            assertProblem(failure("playbook('p') {\n vars a: 1\n vars a: 2\n}"), 3, "`a` is declared twice");
        }

        @Test
        void aScriptWithoutPlaybookIsRefused() {
            PlaybookError e = failure("def x = 1\n");
            assertTrue(e.problem().contains("no playbook"), e.problem());
            assertEquals("test.groovy", e.location().file());
        }

        @Test
        void aSecondPlaybookIsRefusedAtItsLine() {
            assertProblem(failure("playbook('a') {\n}\nplaybook('b') {\n}\n"), 3, "one playbook", "test.groovy:1");
        }
    }

    @Nested
    class LeavesValidationToTheValidator {

        @Test
        void unknownStepTypesAndParametersLoad() throws PlaybookError {
            Playbook p = load("playbook('p') { step 'no.such.step', bogus: [1, 2] }");
            assertEquals("no.such.step", p.steps().get(0).type());
            assertEquals(map("bogus", List.of(1L, 2L)), p.steps().get(0).params());
        }
    }

    @Nested
    class HelpsIdes {

        @Test
        void aScriptMayDeclareTheBaseClassForCompletion() throws PlaybookError {
            Playbook p = load("""
                    @groovy.transform.BaseScript dev.snapbook.engine.load.dsl.PlaybookScript script
                    playbook('p') {
                        step 'x', d: domain
                    }
                    """);
            assertEquals(List.of(3), p.steps().stream().map(s -> s.location().line()).toList());
            assertEquals(Duration.ZERO, p.steps().get(0).delay());
        }
    }
}
