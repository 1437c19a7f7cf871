package dev.snapbook.engine.load;

import dev.snapbook.engine.model.Playbook;
import dev.snapbook.engine.model.StepCall;
import dev.snapbook.engine.model.Template;
import dev.snapbook.engine.testing.TestSteps;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class YamlLoaderTest {

    private final StepCatalog catalog = new StepCatalog(TestSteps.all());

    private Playbook load(String text) throws PlaybookError {
        Playbook pb = new YamlLoader(catalog.names()).load("pb.yml", text);
        new Validator(catalog).validate(pb);
        return pb;
    }

    @Nested
    class Loading {
        @Test
        void readsEveryFieldOfAStep() throws Exception {
            Playbook pb = load("""
                    name: Every field
                    vars:
                      target: a
                    steps:
                      - name: Set it
                        test.set: { counter: "{{ target }}", value: 3 }
                        when: "{{ target == 'a' }}"
                        register: r
                        verify: ["r.changed", "r.previous == -1"]
                        rollback:
                          - test.set: { counter: b, value: 0 }
                        retries: 2
                        until: r.changed
                        delay: 250ms
                        timeout: 1m
                        tags: [setup, fast]
                    on_failure:
                      - test.read: { counter: a }
                    always:
                      - test.read: { counter: a }
                    """);
            StepCall s = pb.steps().get(0);
            assertEquals("test.set", s.type());
            assertEquals(Map.of("counter", new Template("{{ target }}"), "value", 3L), s.params());
            assertEquals("Set it", s.name());
            assertEquals("target == 'a'", s.when());
            assertEquals("r", s.register());
            assertEquals(List.of("r.changed", "r.previous == -1"), s.verify());
            assertEquals("test.set", s.rollback().get(0).type());
            assertEquals(2, s.retries());
            assertEquals("r.changed", s.until());
            assertEquals(Duration.ofMillis(250), s.delay());
            assertEquals(Duration.ofMinutes(1), s.timeout());
            assertEquals(List.of("setup", "fast"), s.tags());
            assertEquals(1, pb.onFailure().size());
            assertEquals(1, pb.always().size());
            assertEquals(5, s.location().line());
            assertEquals(5, s.location().column());
        }

        @Test
        void aStepWithoutParametersIsAllowed() throws Exception {
            Playbook pb = new YamlLoader(java.util.Set.of()).load("pb.yml", "name: x\nsteps:\n  - some.step:\n");
            assertEquals(Map.of(), pb.steps().get(0).params());
            assertNull(pb.steps().get(0).name());
        }

    }

    /** One bad playbook: its text, and the location, field and words its error must name. */
    record Bad(String what, String text, String location, String field, String words) {
        @Override
        public String toString() {
            return what;
        }
    }

    static Stream<Bad> badPlaybooks() {
        return Stream.of(
                new Bad("malformed YAML", "name: x\nsteps:\n  - test.read: { counter: a\n", "pb.yml:4:1", null,
                        "malformed YAML"),
                new Bad("tab indentation", "name: x\nsteps:\n\t- test.read: {counter: a}\n", "pb.yml:3:1", null,
                        "malformed YAML"),
                new Bad("empty file", "", "pb.yml:1:1", null, "empty"),
                new Bad("not a mapping", "- a\n- b\n", "pb.yml:1:1", null, "must be a mapping"),
                new Bad("unknown top field", "name: x\nstep:\n  - test.read: {counter: a}\n", "pb.yml:2:1", "step",
                        "did you mean 'steps'"),
                new Bad("missing name", "steps:\n  - test.read: {counter: a}\n", "pb.yml:1:1", "name", "missing"),
                new Bad("missing steps", "name: x\n", "pb.yml:1:1", "steps", "missing"),
                new Bad("unknown step type", "name: x\nsteps:\n  - test.sett: {counter: a, value: 1}\n",
                        "pb.yml:3:5", "steps[0].test.sett", "did you mean 'test.set'"),
                new Bad("unknown parameter", "name: x\nsteps:\n  - test.read: {countr: a}\n", "pb.yml:3:17",
                        "steps[0].test.read.countr", "did you mean 'counter'"),
                new Bad("missing parameter", "name: x\nsteps:\n  - test.set: {counter: a}\n", "pb.yml:3:5",
                        "steps[0].test.set.value", "missing required parameter 'value'"),
                new Bad("wrong type", "name: x\nsteps:\n  - test.set: {counter: a, value: [1]}\n", "pb.yml:3:28",
                        "steps[0].test.set.value", "expected an integer, got a list"),
                new Bad("misspelled step field", "name: x\nsteps:\n  - test.read: {counter: a}\n    regsiter: r\n",
                        "pb.yml:4:5", "steps[0].regsiter", "did you mean 'register'"),
                new Bad("two step types", "name: x\nsteps:\n  - test.read: {counter: a}\n    test.set: {counter: a, value: 1}\n",
                        "pb.yml:4:5", "steps[0].test.set", "one step type"),
                new Bad("duplicate key", "name: x\nname: y\nsteps: []\n", "pb.yml:2:1", "name", "duplicate key"),
                new Bad("bad expression", "name: x\nsteps:\n  - test.read: {counter: a}\n    when: a ==\n",
                        "pb.yml:4:5", "steps[0].when", "cannot parse"),
                new Bad("bad template", "name: x\nsteps:\n  - test.read: {counter: \"{{ a \"}\n", "pb.yml:3:17",
                        "steps[0].test.read.counter", "not closed"),
                new Bad("bad duration", "name: x\nsteps:\n  - test.read: {counter: a}\n    timeout: soon\n",
                        "pb.yml:4:14", "steps[0].timeout", "expected a duration"),
                new Bad("java object tag", "name: x\nsteps:\n  - test.read: {counter: !!javax.script.ScriptEngineManager [] }\n",
                        "pb.yml:3:26", null, "not allowed"),
                new Bad("nested rollback error", "name: x\nsteps:\n  - test.read: {counter: a}\n    rollback:\n      - test.nope: {}\n",
                        "pb.yml:5:9", "steps[0].rollback[0].test.nope", "unknown step type"),
                new Bad("reserved register name", "name: x\nsteps:\n  - test.read: {counter: a}\n    register: true\n",
                        "pb.yml:4:5", "steps[0].register", "cannot be a variable name"),
                // issue 13: inputs that crashed the loader or were misread
                new Bad("recursive alias", "name: x\nvars:\n  a: &a [*a]\nsteps:\n  - test.read: {counter: a}\n",
                        "pb.yml:3:6", "vars.a[0]", "recursive alias"),
                new Bad("recursive alias of a step list", "name: x\nsteps: &s\n  - test.read: {counter: a}\n"
                        + "    rollback: *s\n", "pb.yml:2:8", "steps[0].rollback", "recursive alias"),
                new Bad("recursive alias of a mapping", "name: x\nvars: &v\n  me: *v\nsteps:\n  - test.read: {counter: a}\n",
                        "pb.yml:2:7", "vars.me", "recursive alias"),
                new Bad("5000 nested lists", "name: x\nvars:\n  a: " + "[".repeat(5000) + "]".repeat(5000)
                        + "\nsteps:\n  - test.read: {counter: a}\n", "pb.yml:3:54", null, "Nesting Depth exceeded"),
                new Bad("nesting made deep by aliases", "name: x\nvars:\n  a: &a " + "[".repeat(30) + "]".repeat(30)
                        + "\n  b: " + "[".repeat(30) + "*a" + "]".repeat(30) + "\nsteps:\n  - test.read: {counter: a}\n",
                        "pb.yml:3:27", null, "nest more than 50 levels deep"),
                new Bad("a boolean tag on a word", "name: x\nvars: { f: !!bool maybe }\nsteps:\n  - test.read: {counter: a}\n",
                        "pb.yml:2:12", "vars.f", "'maybe' is not a boolean"),
                new Bad("an infinite float", "name: x\nvars: { f: 1.0e+999 }\nsteps:\n  - test.read: {counter: a}\n",
                        "pb.yml:2:12", "vars.f", "not a finite number"),
                new Bad("too many retries", "name: x\nsteps:\n  - test.read: {counter: a}\n    retries: 5000\n",
                        "pb.yml:4:14", "steps[0].retries", "from 0 to 1000"),
                new Bad("5000 nested parentheses", "name: x\nsteps:\n  - test.read: {counter: a}\n    when: \""
                        + "(".repeat(5000) + "1" + ")".repeat(5000) + "\"\n", "pb.yml:4:5", "steps[0].when",
                        "nests more than 100 levels deep"),
                new Bad("5000 nested parentheses in a template", "name: x\nsteps:\n  - test.read: {counter: \"{{ "
                        + "(".repeat(5000) + "1" + ")".repeat(5000) + " }}\"}\n", "pb.yml:3:17",
                        "steps[0].test.read.counter", "nests more than 100 levels deep"),
                new Bad("a whole number beyond 64 bits", "name: x\nsteps:\n  - test.read: {counter: a}\n"
                        + "    when: 9223372036854775808 > 0\n", "pb.yml:4:5", "steps[0].when", "number too large"),
                new Bad("an unclosed string in a template", "name: x\nsteps:\n  - test.read: {counter: \"{{ 'a }}\"}\n",
                        "pb.yml:3:17", "steps[0].test.read.counter", "string is not closed"),
                new Bad("digits of another script", "name: x\nsteps:\n  - test.read: {counter: a}\n"
                        + "    when: \"\u0661.\u0662 > 0\"\n", "pb.yml:4:5", "steps[0].when", "cannot parse"),
                new Bad("too many aliases", "name: x\nvars:\n  a: &a [x]\n  b: [" + "*a, ".repeat(30)
                        + "*a]\nsteps:\n  - test.read: {counter: a}\n", "pb.yml:4:87", null,
                        "Number of aliases for non-scalar nodes exceeds"),
                new Bad("a merge key", "name: x\nvars: &v { a: 1 }\nsteps:\n  - <<: *v\n    test.read: {counter: a}\n",
                        "pb.yml:5:5", "steps[0].test.read", "already calls '<<'"),
                new Bad("a duplicate parameter", "name: x\nsteps:\n  - test.read: {counter: a, counter: b}\n",
                        "pb.yml:3:29", "steps[0].test.read.counter", "duplicate key"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badPlaybooks")
    void everyErrorNamesFileLineColumnFieldAndProblem(Bad bad) {
        PlaybookError e = assertThrows(PlaybookError.class, () -> load(bad.text()));
        assertEquals(bad.location(), e.location().toString(), e.getMessage());
        if (bad.field() != null) {
            assertEquals(bad.field(), e.field(), e.getMessage());
        }
        assertTrue(e.getMessage().contains(bad.words()), e.getMessage());
        assertTrue(e.getMessage().startsWith(bad.location()), e.getMessage());
    }
}
