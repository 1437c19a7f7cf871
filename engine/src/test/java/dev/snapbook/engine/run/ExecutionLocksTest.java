package dev.snapbook.engine.run;

import dev.snapbook.engine.testing.Harness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A run whose domain is locked by another run takes the lock before it plans, so it never plans against the
 * other run's half-done state; when the lock stays held, the refusal names the holder.
 */
class ExecutionLocksTest {

    static final String PLAYBOOK = """
            name: set then read
            steps:
              - test.set: { counter: x, value: 5, domain: d1 }
              - test.read: { counter: s1 }
            """;

    @TempDir
    Path state;

    final Harness h = new Harness();

    @Test
    void waitsForTheLockThenPlansTheWorldTheOtherRunLeft() throws Exception {
        h.ledger.counters.put("s1", 1L);
        Locks other = Locks.acquire(state, "test:///", List.of("domain:d1"), "pid 77, playbook 'flatten'",
                Duration.ZERO);
        h.ledger.counters.remove("s1"); // the other run's half-done state: s1 gone for a moment

        CompletableFuture<Execution.Result> run = CompletableFuture.supplyAsync(() -> {
            try (RunContext c = h.context()) {
                return new Execution(h.catalog, h.facts, new RunListener() {
                }).lockWait(Duration.ofSeconds(20)).run(h.load(PLAYBOOK), Map.of(), Set.of(), c, state, s -> true);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(700);
        assertFalse(run.isDone(), "it waits for the lock instead of planning against the missing s1");
        h.ledger.counters.put("s1", 1L); // the other run finishes: s1 is back
        other.close();

        Execution.Result result = run.get(30, TimeUnit.SECONDS);
        assertEquals(RunStatus.SUCCEEDED, result.status(), result.message());
        assertTrue(h.ledger.log.contains("apply x=5"));
    }

    @Test
    void aRunAfterAnEarlierOneOnTheSameDomainTakesTheLocksFirstAndPlansOnce() throws Exception {
        h.ledger.counters.put("s1", 1L);
        assertEquals(RunStatus.SUCCEEDED, runOnce().status());
        int firstRun = h.ledger.observations.getAndSet(0); // no lock file before: one plan, then the run

        h.ledger.counters.remove("x");
        Execution.Result second = runOnce();

        assertEquals(RunStatus.SUCCEEDED, second.status(), second.message());
        assertEquals(firstRun, h.ledger.observations.get(),
                "the lock file exists now: the locks are taken first and the world is read by one plan, not two");
        assertTrue(java.nio.file.Files.list(state.resolve("locks")).count() > 0);
    }

    private Execution.Result runOnce() throws Exception {
        try (RunContext c = h.context()) {
            return new Execution(h.catalog, h.facts, new RunListener() {
            }).lockWait(Duration.ofSeconds(5)).run(h.load(PLAYBOOK), Map.of(), Set.of(), c, state, s -> true);
        }
    }

    @Test
    void aLockStillHeldRefusesTheRunNamingItsHolderAndChangesNothing() throws Exception {
        try (Locks other = Locks.acquire(state, "test:///", List.of("domain:d1"), "pid 77, playbook 'flatten'",
                Duration.ZERO); RunContext c = h.context()) {
            h.ledger.counters.put("s1", 1L);
            Execution.Result result = new Execution(h.catalog, h.facts, new RunListener() {
            }).lockWait(Duration.ofMillis(300)).run(h.load(PLAYBOOK), Map.of(), Set.of(), c, state, s -> true);

            assertEquals(RunStatus.REFUSED, result.status());
            assertNull(result.run());
            assertTrue(result.message().contains("domain:d1") && result.message().contains("pid 77, playbook 'flatten'"),
                    result.message());
            assertTrue(h.ledger.log.isEmpty());
        }
    }
}
