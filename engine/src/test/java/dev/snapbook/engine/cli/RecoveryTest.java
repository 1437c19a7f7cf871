package dev.snapbook.engine.cli;

import dev.snapbook.engine.journal.RunRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs killed like SIGKILL (the JVM halts, no shutdown hooks) in a child process, then inspected, rolled
 * back and resumed from their journals.
 */
class RecoveryTest {

    @TempDir
    Path dir;

    Path state;

    @BeforeEach
    void state() {
        state = dir.resolve("state");
        System.setProperty("snapbook.state", state.toString());
    }

    @AfterEach
    void clear() {
        System.clearProperty("snapbook.state");
    }

    private int runInChild(Path playbook) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dsnapbook.state=" + state, "-cp", System.getProperty("java.class.path"),
                "dev.snapbook.engine.cli.Main", "run", "--yes", playbook.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve("child.log").toFile()).start();
        return p.waitFor();
    }

    private Path playbook(boolean crashInsideStep) throws Exception {
        Path p = dir.resolve("pb.yml");
        Files.writeString(p, "name: touch three files\nsteps:\n"
                + "  - test.touch: { path: \"" + dir.resolve("a") + "\", content: one }\n"
                + "  - test.touch: { path: \"" + dir.resolve("b") + "\", content: two, crash_after_write: "
                + crashInsideStep + " }\n"
                + "  - test.crash: { unless_exists: \"" + dir.resolve("disarm") + "\" }\n"
                + "  - test.touch: { path: \"" + dir.resolve("c") + "\", content: three }\n");
        return p;
    }

    private RunRecord onlyRun() throws Exception {
        List<RunRecord> runs = RunRecord.all(state);
        assertEquals(1, runs.size());
        return runs.get(0);
    }

    @Test
    void aKilledRunIsListedAsInterruptedAndRollsBackInReverse() throws Exception {
        assertEquals(137, runInChild(playbook(false)));
        assertTrue(Files.exists(dir.resolve("a")) && Files.exists(dir.resolve("b")));
        RunRecord run = onlyRun();
        assertEquals("interrupted", run.status());

        assertEquals(1, Main.execute("recover", run.runId(), "--rollback"));

        assertFalse(Files.exists(dir.resolve("a")));
        assertFalse(Files.exists(dir.resolve("b")));
        assertFalse(Files.exists(dir.resolve("c")));
        assertTrue(RunRecord.read(run.file()).status().startsWith("recovered (rollback by run"),
                RunRecord.read(run.file()).status());
        assertEquals(1, RunRecord.all(state).stream().filter(r -> r.status().equals("rolled back")).count());
        assertEquals(2, Main.execute("recover", run.runId(), "--rollback"), "a recovered run is not recovered twice");
    }

    @Test
    void aKilledRunResumesFromTheFirstStepThatDidNotComplete() throws Exception {
        assertEquals(137, runInChild(playbook(false)));
        RunRecord run = onlyRun();
        Files.writeString(dir.resolve("a"), "one");
        Files.createFile(dir.resolve("disarm"));

        assertEquals(2, Main.execute("recover", run.runId(), "--resume"), "needs --yes without a terminal");
        assertEquals(0, Main.execute("recover", run.runId(), "--resume", "--yes"));

        assertEquals("three", Files.readString(dir.resolve("c")));
        assertEquals(1, RunRecord.all(state).stream().filter(r -> r.status().equals("completed")).count());
    }

    @Test
    void aStepKilledAfterItsEffectButBeforeReturningIsReverifiedThenUndone() throws Exception {
        assertEquals(137, runInChild(playbook(true)));
        RunRecord run = onlyRun();
        assertFalse(run.steps().get(1).applied(), "the journal never heard back from step 2");
        assertTrue(Files.exists(dir.resolve("b")));

        assertEquals(1, Main.execute("recover", run.runId(), "--rollback"));

        assertFalse(Files.exists(dir.resolve("a")));
        assertFalse(Files.exists(dir.resolve("b")), "re-verified as done, so undone");
    }

    @Test
    void aStepWhoseOutcomeIsUnknownStopsTheRunWithExit3WithoutRollbackThenRecovers() throws Exception {
        Path p = dir.resolve("lost.yml");
        Files.writeString(p, "name: lost contact\nsteps:\n"
                + "  - test.touch: { path: \"" + dir.resolve("a") + "\", content: one }\n"
                + "  - test.touch: { path: \"" + dir.resolve("b") + "\", content: two, unknown_after_write: true }\n"
                + "  - test.touch: { path: \"" + dir.resolve("c") + "\", content: three }\n");

        assertEquals(3, Main.execute("run", p.toString()));

        assertTrue(Files.exists(dir.resolve("a")), "not rolled back on a guess");
        assertTrue(Files.exists(dir.resolve("b")));
        assertFalse(Files.exists(dir.resolve("c")), "stopped there");
        RunRecord run = onlyRun();
        assertEquals("interrupted", run.status(), "recoverable");
        String journal = Files.readString(run.file());
        assertTrue(journal.contains("\"event\":\"run_stopped\"") && journal.contains("\"index\":1"), journal);

        assertEquals(1, Main.execute("recover", run.runId(), "--rollback"));
        assertFalse(Files.exists(dir.resolve("b")), "re-verified as done, so undone");
        assertFalse(Files.exists(dir.resolve("a")));
    }

    @Test
    void aFinishedRunCannotBeResumed() throws Exception {
        Path p = dir.resolve("ok.yml");
        Files.writeString(p, "name: ok\nsteps:\n  - test.touch: { path: \"" + dir.resolve("a") + "\", content: x }\n");
        assertEquals(0, Main.execute("run", p.toString()));
        RunRecord run = onlyRun();
        assertEquals("completed", run.status());
        assertEquals(2, Main.execute("recover", run.runId(), "--resume", "--yes"));
        assertEquals(0, Main.execute("runs"));
    }

    @Test
    void sigtermStopsAfterTheCurrentStepAndRollsBack() throws Exception {
        Path p = dir.resolve("slow.yml");
        Files.writeString(p, "name: slow\nsteps:\n"
                + "  - test.touch: { path: \"" + dir.resolve("a") + "\", content: one }\n"
                + "  - test.sleep: { started: \"" + dir.resolve("sleeping") + "\" }\n"
                + "  - test.touch: { path: \"" + dir.resolve("b") + "\", content: two }\n");
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dsnapbook.state=" + state, "-cp", System.getProperty("java.class.path"),
                "dev.snapbook.engine.cli.Main", "run", p.toString());
        Process child = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve("child.log").toFile()).start();
        for (int i = 0; i < 200 && !Files.exists(dir.resolve("sleeping")); i++) {
            Thread.sleep(50);
        }
        assertTrue(Files.exists(dir.resolve("a")), "the first step ran");
        child.destroy(); // SIGTERM

        assertEquals(1, child.waitFor(), Files.readString(dir.resolve("child.log")));
        assertFalse(Files.exists(dir.resolve("a")), "rolled back");
        assertFalse(Files.exists(dir.resolve("b")), "never run");
        assertTrue(Files.readString(dir.resolve("child.log")).contains("stopping after the current step"));
        assertEquals("rolled back", onlyRun().status());
    }
}
