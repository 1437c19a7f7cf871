package dev.snapbook.engine.run;

import com.fasterxml.jackson.databind.JsonNode;
import dev.snapbook.engine.json.Json;
import dev.snapbook.engine.testing.Harness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The saga is total: an unchecked exception at any point of a step's lifecycle ends the run as a step
 * failure does — completed steps undone newest first, then {@code on_failure}, then {@code always}, then
 * {@code run_finished} in the journal, and an exit code that says what happened. The exceptions are
 * injected with {@code test.explode} ({@link dev.snapbook.engine.testing.TestSteps.Explode}), either in a
 * step's own methods or, through the map it registers, inside an expression a later step evaluates.
 */
class SagaTest {

    private final Harness h = new Harness();

    @TempDir
    Path state;

    /** Where the exception is thrown, how a step that throws there is written, and what it did first. */
    enum Point {
        PARAMS("- test.set: { counter: \"{{ r.bomb.x }}\", value: 2 }", List.of()),
        WHEN("- test.set: { counter: b, value: 2 }\n  when: r.bomb.x", List.of()),
        CAPTURE("- test.explode: { counter: b, at: capture }", List.of()),
        APPLY("- test.explode: { counter: b, at: apply }", List.of()),
        UNTIL("- test.set: { counter: b, value: 2 }\n  retries: 1\n  until: r.bomb.x", List.of("apply b=2")),
        VERIFY("- test.explode: { counter: b, at: verify }", List.of("apply explode b")),
        VERIFY_EXPRESSION("- test.set: { counter: b, value: 2 }\n  verify: r.bomb.x", List.of("apply b=2"));

        final String step;
        /** What the step did before the exception: its effect exists, so in the main steps it is undone. */
        final List<String> applied;

        Point(String step, List<String> applied) {
            this.step = step;
            this.applied = applied;
        }

        String at(String indent) {
            return indent + step.replace("\n", "\n" + indent) + "\n";
        }

        List<String> undone() {
            return applied.stream().map(a -> a.startsWith("apply explode ") ? a.replace("apply", "undo")
                    : "undo " + a.substring("apply ".length(), a.indexOf('='))).toList();
        }
    }

    private static final String HANDLERS = """
            on_failure:
              - test.set: { counter: f, value: 1 }
            always:
              - test.set: { counter: w, value: 1 }
            """;

    private List<JsonNode> journal() throws Exception {
        try (Stream<Path> files = Files.list(state)) {
            Path file = files.filter(p -> p.toString().endsWith(".jsonl")).findFirst().orElseThrow();
            List<JsonNode> out = new ArrayList<>();
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                out.add(Json.MAPPER.readTree(line));
            }
            return out;
        }
    }

    private static List<String> events(List<JsonNode> journal, String event) {
        return journal.stream().filter(e -> e.path("event").asText().equals(event))
                .map(e -> e.path("type").asText()).toList();
    }

    @ParameterizedTest
    @EnumSource(Point.class)
    void anExceptionAfterASuccessfulStepRollsItBackThenRunsTheHandlers(Point point) throws Exception {
        RunListener.RunFinished r = h.run("name: p\nsteps:\n"
                + "  - test.explode: { counter: a }\n    register: r\n"
                + point.at("  ")
                + "  - test.set: { counter: c, value: 3 }\n" + HANDLERS, state);

        List<String> expected = new ArrayList<>(List.of("apply explode a"));
        expected.addAll(point.applied);
        expected.addAll(point.undone());
        expected.addAll(List.of("undo explode a", "apply f=1", "apply w=1"));
        List<JsonNode> journal = journal();
        JsonNode last = journal.get(journal.size() - 1);
        List<String> undos = new ArrayList<>(point.applied.isEmpty() ? List.of() : List.of(
                point.step.contains("explode") ? "test.explode" : "test.set"));
        undos.add("test.explode");
        assertAll(
                () -> assertEquals(expected, h.ledger.log, "undo newest first, then on_failure, then always"),
                () -> assertEquals(Map.of("f", 1L, "w", 1L), h.ledger.counters),
                () -> assertEquals(RunStatus.ROLLED_BACK, r.status(), r.problems().toString()),
                () -> assertEquals(1, r.status().exitCode()),
                () -> assertTrue(r.problems().get(0).startsWith("step 2 ") && r.problems().get(0).contains("injected"),
                        r.problems().toString()),
                () -> assertEquals(StepStatus.ROLLED_BACK, r.steps().get(0).status()),
                () -> assertEquals(StepStatus.NOT_RUN, r.steps().get(2).status()),
                () -> assertEquals(List.of(point.step.contains("explode") ? "test.explode" : "test.set"),
                        events(journal, "step_failed")),
                () -> assertEquals(undos, events(journal, "undo_started")),
                () -> assertEquals("run_finished", last.path("event").asText()),
                () -> assertEquals("rolled_back", last.path("status").asText()));
    }

    @ParameterizedTest
    @EnumSource(Point.class)
    void anExceptionInARollbackStepAfterAFailureStillUndoesTheRestAndRunsTheHandlers(Point point)
            throws Exception {
        RunListener.RunFinished r = h.run("name: p\nsteps:\n"
                + "  - test.explode: { counter: a }\n    register: r\n    rollback:\n"
                + point.at("      ")
                + "      - test.set: { counter: e, value: 5 }\n"
                + "  - test.set: { counter: c, value: 3 }\n"
                + "  - test.fail: { message: disk on fire }\n" + HANDLERS, state);

        List<String> expected = new ArrayList<>(List.of("apply explode a", "apply c=3", "apply fail", "undo c",
                "undo explode a"));
        expected.addAll(point.applied); // a rollback step's own effect is not undone: it is the undo
        expected.addAll(List.of("apply e=5", "apply f=1", "apply w=1"));
        List<JsonNode> journal = journal();
        JsonNode last = journal.get(journal.size() - 1);
        assertAll(
                () -> assertEquals(expected, h.ledger.log),
                () -> assertEquals(RunStatus.ROLLBACK_INCOMPLETE, r.status(), r.problems().toString()),
                () -> assertEquals(3, r.status().exitCode()),
                () -> assertTrue(r.problems().get(0).contains("disk on fire"), r.problems().toString()),
                () -> assertTrue(r.problems().stream().anyMatch(p -> p.startsWith("rollback step 1 of test.explode")
                        && p.contains("injected")), r.problems().toString()),
                () -> assertEquals(List.of(StepStatus.NOT_ROLLED_BACK, StepStatus.ROLLED_BACK, StepStatus.FAILED),
                        r.steps().stream().filter(s -> s.section().equals("steps")).map(StepReport::status).toList()),
                () -> assertEquals(List.of("test.set", "test.explode"), events(journal, "undo_started")),
                () -> assertEquals("run_finished", last.path("event").asText()),
                () -> assertEquals("rollback_incomplete", last.path("status").asText()));
    }

    @Test
    void anExceptionInAnUndoLeavesThatStepAndUndoesTheOthers() throws Exception {
        RunListener.RunFinished r = h.run("name: p\nsteps:\n"
                + "  - test.set: { counter: a, value: 1 }\n"
                + "  - test.explode: { counter: b, at: undo }\n"
                + "  - test.set: { counter: c, value: 3 }\n"
                + "  - test.fail: {}\n" + HANDLERS, state);
        JsonNode last = journal().get(journal().size() - 1);
        assertAll(
                () -> assertEquals(List.of("apply a=1", "apply explode b", "apply c=3", "apply fail", "undo c", "undo a",
                        "apply f=1", "apply w=1"), h.ledger.log),
                () -> assertEquals(Map.of("b", 1L, "f", 1L, "w", 1L), h.ledger.counters),
                () -> assertEquals(RunStatus.ROLLBACK_INCOMPLETE, r.status()),
                () -> assertTrue(r.problems().stream().anyMatch(p -> p.contains("injected in undo")), r.problems().toString()),
                () -> assertEquals("rollback_incomplete", last.path("status").asText()));
    }

    @Test
    void anExceptionInAnOnFailureStepStillRunsAlways() throws Exception {
        RunListener.RunFinished r = h.run("""
                name: p
                steps:
                  - test.set: { counter: a, value: 1 }
                  - test.fail: {}
                on_failure:
                  - test.explode: { counter: f, at: capture }
                  - test.set: { counter: g, value: 1 }
                always:
                  - test.set: { counter: w, value: 1 }
                """, state);
        assertEquals(List.of("apply a=1", "apply fail", "undo a", "apply g=1", "apply w=1"), h.ledger.log);
        assertEquals(RunStatus.ROLLBACK_INCOMPLETE, r.status());
        assertEquals("run_finished", journal().get(journal().size() - 1).path("event").asText());
    }

    /** The probe of issue 13: an overflow in 'when' after a step that changed something. */
    @Test
    void anOverflowInWhenAfterAChangeRollsTheChangeBack() throws Exception {
        RunListener.RunFinished r = h.run("""
                name: p
                steps:
                  - test.set: { counter: a, value: 1 }
                    register: s
                  - test.set: { counter: b, value: 2 }
                    when: "s.changed and 9223372036854775807 + 1 > 0"
                """, state);
        assertEquals(RunStatus.ROLLED_BACK, r.status());
        assertEquals(List.of("apply a=1", "undo a"), h.ledger.log);
        assertTrue(r.problems().get(0).contains("does not fit in a 64-bit integer"), r.problems().toString());
        assertEquals("rolled_back", journal().get(journal().size() - 1).path("status").asText());
    }

    @Test
    void anExpressionErrorInUntilUndoesTheStepThatApplied() throws Exception {
        RunListener.RunFinished r = h.run("""
                name: p
                steps:
                  - test.set: { counter: a, value: 1 }
                    retries: 1
                    until: "nope.x"
                """, state);
        assertEquals(RunStatus.ROLLED_BACK, r.status());
        assertEquals(List.of("apply a=1", "undo a"), h.ledger.log);
        assertEquals(Map.of(), h.ledger.counters);
    }
}
