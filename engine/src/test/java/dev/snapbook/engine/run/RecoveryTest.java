package dev.snapbook.engine.run;

import dev.snapbook.engine.journal.JournalEvent;
import dev.snapbook.engine.journal.Journal;
import dev.snapbook.engine.journal.RunRecord;
import dev.snapbook.engine.load.StepCatalog;
import dev.snapbook.engine.testing.Ledger;
import dev.snapbook.engine.testing.TestSteps;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Recovery} on journals of runs that died, with the test-only steps of {@link TestSteps} acting on
 * {@link Ledger#SHARED}. A killed run is written as the runner writes one (its process gone); a killed rollback
 * is a real one, stopped by a listener that throws an {@link Error} after its first undo, which nothing in the
 * engine catches there, like a SIGKILL between two undos.
 */
class RecoveryTest {

    static final String PLAYBOOK = """
            name: three counters
            steps:
              - test.set: { counter: a, value: 1, domain: d1 }
              - test.set: { counter: b, value: 2, domain: d1 }
              - test.set: { counter: c, value: 3, domain: d1 }
            """;

    @TempDir
    Path state;

    final StepCatalog catalog = new StepCatalog(TestSteps.all());
    final List<String> out = new ArrayList<>();
    final List<String> err = new ArrayList<>();
    final Ledger ledger = Ledger.SHARED;
    long deadPid;

    @BeforeEach
    void fresh() throws Exception {
        ledger.counters.clear();
        ledger.log.clear();
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        deadPid = p.pid();
    }

    Recovery recovery(RunListener listener) {
        return new Recovery(catalog, state, listener, new Recovery.Notes() {
            @Override
            public void info(String line) {
                out.add(line);
            }

            @Override
            public void problem(String line) {
                err.add(line);
            }
        });
    }

    Recovery recovery() {
        return recovery(new RunListener() {
        });
    }

    /**
     * The journal of a run of {@link #PLAYBOOK} killed inside step {@code stoppedIn} (0-based): the steps
     * before it applied and verified, that one started (its capture journalled), its process dead.
     */
    RunRecord killedRun(int stoppedIn) throws Exception {
        try (Journal j = Journal.create(state)) {
            Map<String, Object> start = new LinkedHashMap<>();
            start.put("playbook", "three counters");
            start.put("source", "test.yml");
            start.put("extra_vars", Map.of());
            start.put("tags", List.of());
            start.put("connection", "test:///");
            start.put("pid", deadPid);
            start.put("playbook_file", "test.yml");
            start.put("playbook_groovy", false);
            start.put("playbook_text", PLAYBOOK);
            j.write(JournalEvent.RUN_STARTED, start);
            String[] names = {"a", "b", "c"};
            for (int i = 0; i <= stoppedIn; i++) {
                Long before = ledger.counters.get(names[i]);
                j.write(JournalEvent.STEP_STARTED, Map.of("section", "steps", "index", i, "type", "test.set", "name", "test.set",
                        "params", Map.of("counter", names[i], "value", i + 1, "domain", "d1"),
                        "captured", Map.of("previous", before == null ? -1L : before), "reversibility", "reversible"));
                if (i == stoppedIn) {
                    break;
                }
                ledger.counters.put(names[i], (long) (i + 1));
                j.write(JournalEvent.STEP_APPLIED, Map.of("section", "steps", "index", i, "type", "test.set", "changed", true,
                        "data", Map.of(), "message", "set"));
                j.write(JournalEvent.STEP_VERIFIED, Map.of("section", "steps", "index", i, "type", "test.set", "passed", true,
                        "problems", List.of()));
            }
            return RunRecord.read(j.file());
        }
    }

    int recover(Recovery r, String runId, Recovery.Action action) throws Exception {
        RunRecord record = r.find(runId);
        assertNotNull(record, String.join("\n", err));
        return r.recover(record, action, () -> true).exitCode();
    }

    @Nested
    class TheStepItStoppedIn {

        @Test
        void isUndoneWhenReverifiedAsDoneBecauseItsEffectIsThere() throws Exception {
            RunRecord run = killedRun(1);
            ledger.counters.put("b", 2L); // the kill came after the effect, before the journal heard back

            assertEquals(1, recover(recovery(), run.runId(), Recovery.Action.ROLLBACK));

            assertEquals(List.of("undo b", "undo a"), ledger.log);
            assertFalse(ledger.counters.containsKey("a") || ledger.counters.containsKey("b"), ledger.counters.toString());
            assertTrue(out.contains("  re-verified 2. test.set: its effect is there"), out.toString());
        }

        @Test
        void isLeftAloneWhenItsEffectIsNotThere() throws Exception {
            RunRecord run = killedRun(1);

            assertEquals(1, recover(recovery(), run.runId(), Recovery.Action.ROLLBACK));

            assertEquals(List.of("undo a"), ledger.log);
            assertTrue(ledger.counters.isEmpty());
        }

        @Test
        void countsAsDoneForAResumeWhenItsEffectIsThere() throws Exception {
            RunRecord run = killedRun(1);
            ledger.counters.put("b", 2L);

            assertEquals(0, recover(recovery(), run.runId(), Recovery.Action.RESUME));

            assertEquals(List.of("apply c=3"), ledger.log, "only the step after it runs");
            assertEquals(Map.of("a", 1L, "b", 2L, "c", 3L), Map.copyOf(ledger.counters));
        }
    }

    @Nested
    class ARecoveryJournal {

        @Test
        void holdsThePlaybookAndNamesTheRunItRollsBack_whichSaysItIsRecovered() throws Exception {
            RunRecord run = killedRun(2);

            assertEquals(1, recover(recovery(), run.runId(), Recovery.Action.ROLLBACK));

            RunRecord original = RunRecord.read(run.file());
            assertTrue(original.status().startsWith("recovered (rollback by run "), original.status());
            RunRecord rollback = RunRecord.read(state.resolve(original.recoveryRun() + ".jsonl"));
            assertEquals(run.runId(), rollback.rollbackOf());
            assertEquals(PLAYBOOK, rollback.start().path("playbook_text").asText());
            assertEquals("rolled back", rollback.status());
            assertEquals(List.of(0, 1), rollback.steps().stream().filter(RunRecord.StepRecord::undone)
                    .map(RunRecord.StepRecord::index).toList(), "undo entries name their step");
        }

        @Test
        void ofARollbackKilledHalfWayIsRecovered_finishingTheRollbackWithoutUndoingTwice() throws Exception {
            RunRecord run = killedRun(2); // a and b done, c started without effect
            final class Killed extends Error {
            }
            Recovery dying = recovery(new RunListener() {
                @Override
                public void onStepUndone(StepUndone event) {
                    throw new Killed();
                }
            });
            RunRecord record = dying.find(run.runId());
            assertThrows(Killed.class, () -> dying.recover(record, Recovery.Action.ROLLBACK, () -> true));
            assertEquals(List.of("undo b"), ledger.log);

            RunRecord original = RunRecord.read(run.file());
            String rollbackId = original.recoveryRun();
            assertEquals(RunRecord.BEING_RECOVERED + rollbackId, original.status());
            Path rollbackFile = state.resolve(rollbackId + ".jsonl");
            // its process is gone, as after SIGKILL
            Files.writeString(rollbackFile, Files.readString(rollbackFile)
                    .replace("\"pid\":" + ProcessHandle.current().pid(), "\"pid\":" + deadPid));
            assertEquals("interrupted", RunRecord.read(rollbackFile).status());

            // the original points at its interrupted rollback; resuming the rollback is refused
            assertEquals(2, recover(recovery(), run.runId(), Recovery.Action.ROLLBACK));
            assertTrue(err.get(err.size() - 1).contains("snapbook recover " + rollbackId + " --rollback"), err.toString());
            assertEquals(2, recover(recovery(), rollbackId, Recovery.Action.RESUME));

            assertEquals(1, recover(recovery(), rollbackId, Recovery.Action.ROLLBACK));

            assertEquals(List.of("undo b", "undo a"), ledger.log, "b is not undone a second time");
            assertTrue(ledger.counters.isEmpty());
            assertTrue(RunRecord.read(rollbackFile).status().startsWith("recovered (rollback by run "));
            assertTrue(RunRecord.read(run.file()).status().startsWith("recovered (rollback by run "),
                    RunRecord.read(run.file()).status());
            assertEquals(2, recover(recovery(), run.runId(), Recovery.Action.ROLLBACK), "not recovered twice");
        }
    }

    @Test
    void aRunWhoseLockIsHeldIsNotTouchedAndTheMessageNamesTheHolder() throws Exception {
        RunRecord run = killedRun(1);
        try (Locks held = Locks.acquire(state, "test:///", List.of("domain:d1"), "pid 4242, playbook 'other'",
                java.time.Duration.ZERO)) {
            assertEquals(2, recover(recovery().lockWait(java.time.Duration.ofMillis(300)), run.runId(),
                    Recovery.Action.ROLLBACK));
        }
        assertTrue(err.get(err.size() - 1).contains("pid 4242, playbook 'other'"), err.toString());
        assertTrue(ledger.log.isEmpty());
        assertEquals("interrupted", RunRecord.read(run.file()).status());
    }
}
