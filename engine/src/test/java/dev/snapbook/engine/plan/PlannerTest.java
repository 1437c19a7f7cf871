package dev.snapbook.engine.plan;

import dev.snapbook.engine.spi.World;
import dev.snapbook.engine.testing.Harness;
import dev.snapbook.engine.testing.TestSteps;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PlannerTest {

    private final Harness h = new Harness();

    private static List<PlanStatus> statuses(PlanReport r) {
        return r.steps().stream().map(PlannedStep::status).toList();
    }

    @Test
    void plansEachStepAgainstTheWorldPredictedByTheStepsBeforeIt() throws Exception {
        PlanReport r = h.plan("""
                name: p
                steps:
                  - test.set: { counter: a, value: 5 }
                  - test.read: { counter: a }
                    register: got
                    verify: "got.value == 5"
                """, Map.of());
        assertTrue(r.feasible(), r.failure());
        assertEquals(List.of(PlanStatus.WILL_RUN, PlanStatus.WILL_RUN), statuses(r));
        assertEquals(List.of("set a from unset to 5"), r.steps().get(0).actions());
        assertEquals(new TestSteps.Counter("a", 5), r.world().get(TestSteps.key("a")));
    }

    @Test
    void changesNothingInTheRealSystem() throws Exception {
        h.ledger.counters.put("a", 1L);
        h.plan("""
                name: p
                steps:
                  - test.set: { counter: a, value: 5 }
                  - test.irreversible: { counter: a }
                """, Map.of());
        assertEquals(Map.of("a", 1L), h.ledger.counters);
        assertEquals(List.of(), h.ledger.log);
    }

    @Test
    void failsAtTheFirstStepWhosePreconditionDoesNotHold() throws Exception {
        PlanReport r = h.plan("""
                name: p
                steps:
                  - test.irreversible: { counter: a }
                  - test.read: { counter: a }
                  - test.set: { counter: b, value: 1 }
                """, Map.of());
        assertFalse(r.feasible());
        assertEquals(List.of(PlanStatus.WILL_RUN, PlanStatus.WILL_FAIL, PlanStatus.NOT_REACHED), statuses(r));
        assertTrue(r.failure().contains("step 2") && r.failure().contains("counter a is not set"), r.failure());
    }

    @Test
    void reportsConditionsOnRunTimeValuesAsUnknownNeverAsTrue() throws Exception {
        PlanReport r = h.plan("""
                name: p
                steps:
                  - test.random: {}
                    register: n
                    verify: "n.value > 3"
                  - test.set: { counter: a, value: 1 }
                    when: "n.value > 3"
                  - test.set: { counter: b, value: "{{ n.value }}" }
                """, Map.of());
        assertTrue(r.feasible(), r.failure());
        assertEquals(List.of(PlanStatus.WILL_RUN, PlanStatus.CONDITION_UNKNOWN, PlanStatus.UNPLANNABLE), statuses(r));
        assertTrue(r.steps().get(0).notes().get(0).contains("verify 'n.value > 3' is unknown until run"));
        assertTrue(r.steps().get(2).notes().get(0).contains("the number test.random draws"));
    }

    @Test
    void skipsAStepWhoseConditionIsFalseInThePredictedWorld() throws Exception {
        PlanReport r = h.plan("""
                name: p
                vars: { go: false }
                steps:
                  - test.set: { counter: a, value: 1 }
                    when: go
                  - test.read: { counter: a }
                """, Map.of());
        assertEquals(List.of(PlanStatus.WILL_SKIP, PlanStatus.WILL_FAIL), statuses(r));
    }

    @Test
    void aVerificationThatWouldBeFalseFailsThePlan() throws Exception {
        PlanReport r = h.plan("""
                name: p
                steps:
                  - test.set: { counter: a, value: 2 }
                    register: s
                    verify: "s.previous == 7"
                """, Map.of());
        assertFalse(r.feasible());
        assertTrue(r.failure().contains("verify 's.previous == 7' would be false"), r.failure());
    }

    @Test
    void extraVarsOverridePlaybookVarsAndStayData() throws Exception {
        PlanReport r = h.plan("""
                name: p
                vars: { target: a }
                steps:
                  - test.set: { counter: "{{ target }}", value: 1 }
                """, Map.of("target", "{{ 7 * 6 }}"));
        assertEquals(List.of("set {{ 7 * 6 }} from unset to 1"), r.steps().get(0).actions());
    }

    @Test
    void marksIrreversibleSteps() throws Exception {
        h.ledger.counters.put("a", 1L);
        PlanReport r = h.plan("""
                name: p
                steps:
                  - test.irreversible: { counter: a }
                """, Map.of());
        assertEquals(1, r.irreversibleSteps().size());
        World w = r.world();
        assertNull(w.get(TestSteps.key("a")));
    }
}
