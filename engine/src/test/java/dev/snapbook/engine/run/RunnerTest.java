package dev.snapbook.engine.run;

import com.fasterxml.jackson.databind.JsonNode;
import dev.snapbook.engine.json.Json;
import dev.snapbook.engine.testing.Harness;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunnerTest {

    private final Harness h = new Harness();

    @TempDir
    Path state;

    private static List<StepStatus> statuses(RunListener.RunFinished r) {
        return r.steps().stream().map(StepReport::status).toList();
    }

    @Test
    void runsAndVerifiesEveryStep() throws Exception {
        RunListener.RunFinished r = h.run("""
                name: p
                steps:
                  - test.set: { counter: a, value: 5 }
                  - test.read: { counter: a }
                    register: got
                    verify: "got.value == 5"
                """, state);
        assertEquals(RunStatus.SUCCEEDED, r.status());
        assertEquals(List.of(StepStatus.CHANGED, StepStatus.OK), statuses(r));
        assertEquals(Map.of("a", 5L), h.ledger.counters);
    }

    @Test
    void rollsBackCompletedStepsInReverseOrder() throws Exception {
        h.ledger.counters.put("a", 1L);
        RunListener.RunFinished r = h.run("""
                name: p
                steps:
                  - test.set: { counter: a, value: 2 }
                  - test.set: { counter: b, value: 3 }
                  - test.fail: { message: disk on fire }
                  - test.set: { counter: c, value: 4 }
                """, state);
        assertEquals(RunStatus.ROLLED_BACK, r.status());
        assertEquals(1, r.status().exitCode());
        assertEquals(List.of("apply a=2", "apply b=3", "apply fail", "undo b", "undo a"), h.ledger.log);
        assertEquals(Map.of("a", 1L), h.ledger.counters);
        assertEquals(List.of(StepStatus.ROLLED_BACK, StepStatus.ROLLED_BACK, StepStatus.FAILED, StepStatus.NOT_RUN),
                statuses(r));
        assertTrue(r.problems().get(0).contains("disk on fire"));
    }

    @Test
    void undoesAStepWhoseVerificationFailedBecauseItsEffectExists() throws Exception {
        RunListener.RunFinished r = h.run("""
                name: p
                steps:
                  - test.set: { counter: a, value: 2 }
                  - test.badverify: { counter: z }
                """, state);
        assertEquals(RunStatus.ROLLED_BACK, r.status());
        assertEquals(List.of("apply a=2", "apply badverify z", "undo badverify z", "undo a"), h.ledger.log);
        assertEquals(Map.of(), h.ledger.counters);
        assertTrue(r.problems().get(0).contains("the system does not show the change"), r.problems().get(0));
    }

    @Test
    void runsTheStepsOwnRollbackStepsAfterItsBuiltInUndo() throws Exception {
        RunListener.RunFinished r = h.run("""
                name: p
                steps:
                  - test.set: { counter: a, value: 2 }
                    rollback:
                      - test.set: { counter: note, value: 9 }
                  - test.fail: {}
                """, state);
        assertEquals(RunStatus.ROLLED_BACK, r.status());
        assertEquals(List.of("apply a=2", "apply fail", "undo a", "apply note=9"), h.ledger.log);
    }

    @Test
    void runsOnFailureThenAlwaysAfterTheRollback() throws Exception {
        RunListener.RunFinished r = h.run("""
                name: p
                steps:
                  - test.set: { counter: a, value: 2 }
                  - test.fail: {}
                on_failure:
                  - test.set: { counter: f, value: 1 }
                always:
                  - test.set: { counter: g, value: 1 }
                """, state);
        assertEquals(List.of("apply a=2", "apply fail", "undo a", "apply f=1", "apply g=1"), h.ledger.log);
        assertEquals(RunStatus.ROLLED_BACK, r.status());
    }

    @Test
    void alwaysRunsOnSuccessToo() throws Exception {
        h.run("""
                name: p
                steps:
                  - test.set: { counter: a, value: 2 }
                on_failure:
                  - test.set: { counter: f, value: 1 }
                always:
                  - test.set: { counter: g, value: 1 }
                """, state);
        assertEquals(List.of("apply a=2", "apply g=1"), h.ledger.log);
    }

    @Test
    void anIrreversibleStepLeavesTheRollbackIncompleteAndEveryFailureReported() throws Exception {
        h.ledger.counters.put("a", 1L);
        RunListener.RunFinished r = h.run("""
                name: p
                steps:
                  - test.set: { counter: b, value: 2 }
                  - test.irreversible: { counter: a }
                  - test.fail: { message: first }
                on_failure:
                  - test.fail: { message: second }
                """, state);
        assertEquals(RunStatus.ROLLBACK_INCOMPLETE, r.status());
        assertEquals(3, r.status().exitCode());
        assertEquals(List.of(StepStatus.ROLLED_BACK, StepStatus.NOT_ROLLED_BACK, StepStatus.FAILED, StepStatus.FAILED),
                statuses(r));
        assertEquals(3, r.problems().size(), r.problems().toString());
        assertTrue(r.problems().get(0).contains("first"));
        assertTrue(r.problems().get(1).contains("irreversible"));
        assertTrue(r.problems().get(2).contains("second"));
    }

    @Test
    void retriesUntilTheConditionHolds() throws Exception {
        RunListener.RunFinished r = h.run("""
                name: p
                steps:
                  - test.random: { value: 4 }
                    register: n
                    retries: 2
                    until: "n.value == 5"
                """, state);
        assertEquals(RunStatus.ROLLED_BACK, r.status());
        assertEquals(List.of("apply random", "apply random", "apply random"), h.ledger.log);
        assertTrue(r.problems().get(0).contains("still false after 3 tries"));
    }

    @Nested
    class TheJournal {
        @Test
        void recordsUndoDataBeforeEachActionAndTheOutcome() throws Exception {
            h.ledger.counters.put("a", 1L);
            RunListener.RunFinished r = h.run("""
                    name: p
                    steps:
                      - test.set: { counter: a, value: 2 }
                      - test.fail: {}
                    """, state);
            Path file = Path.of(r.journal());
            assertEquals(state, file.getParent());
            List<JsonNode> lines = new ArrayList<>();
            for (String line : Files.readAllLines(file)) {
                lines.add(Json.MAPPER.readTree(line));
            }
            List<String> events = lines.stream().map(l -> l.get("event").asText()).toList();
            assertEquals(List.of("run_started", "step_started", "step_applied", "step_verified", "step_started",
                    "step_failed", "undo_started", "undo_finished", "run_finished"), events);
            JsonNode started = lines.get(1);
            assertEquals(1, started.at("/captured/previous").asInt());
            assertEquals("reversible", started.get("reversibility").asText());
            assertEquals(r.runId(), started.get("run").asText());
            assertEquals("rolled_back", lines.get(lines.size() - 1).get("status").asText());
        }
    }
}
