package dev.snapbook.engine.cli;

import dev.snapbook.engine.testing.Ledger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line end to end, in-process, with the test steps (found by ServiceLoader in engine tests). */
class CliTest {

    @TempDir
    Path dir;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private PrintStream savedOut;
    private PrintStream savedErr;

    @BeforeEach
    void capture() {
        savedOut = System.out;
        savedErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        System.setProperty("snapbook.state", dir.resolve("state").toString());
        Ledger.SHARED.counters.clear();
        Ledger.SHARED.log.clear();
    }

    @AfterEach
    void restore() {
        System.setOut(savedOut);
        System.setErr(savedErr);
        System.clearProperty("snapbook.state");
    }

    private Path write(String name, String text) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    private String stdout() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String stderr() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void validateOnMalformedYamlExits2NamingFileAndLine() throws Exception {
        Path p = write("bad.yml", "name: x\nsteps:\n  - test.read: { counter: a\n");
        assertEquals(2, Main.execute("validate", p.toString()));
        assertTrue(stderr().contains(p + ":4:1") && stderr().contains("malformed YAML"), stderr());
    }

    @Test
    void validateAcceptsAGoodPlaybook() throws Exception {
        Path p = write("good.yml", "name: x\nsteps:\n  - test.set: { counter: a, value: 1 }\n");
        assertEquals(0, Main.execute("validate", p.toString()));
        assertTrue(stdout().contains("ok"));
    }

    @Test
    void runPrintsOneLinePerStepAndARecap() throws Exception {
        Path p = write("pb.yml", "name: x\nsteps:\n  - test.set: { counter: a, value: 1 }\n  - test.read: { counter: a }\n");
        assertEquals(0, Main.execute("run", p.toString()));
        assertTrue(stdout().contains("changed") && stdout().contains("1. test.set [test.set]"), stdout());
        assertTrue(stdout().contains("recap: ok=1 changed=1"), stdout());
        assertTrue(stdout().contains("run id "), stdout());
        assertEquals(Map.of("a", 1L), Ledger.SHARED.counters);
    }

    @Test
    void aFailedStepExits1AfterRollingBack() throws Exception {
        Path p = write("pb.yml", "name: x\nsteps:\n  - test.set: { counter: a, value: 1 }\n  - test.fail: {}\n");
        assertEquals(1, Main.execute("run", p.toString()));
        assertEquals(Map.of(), Ledger.SHARED.counters);
        assertTrue(stdout().contains("rolled back"), stdout());
    }

    @Test
    void anUncheckedExceptionInAStepExits1AfterRollingBackNotAsAnInternalError() throws Exception {
        Path p = write("pb.yml", "name: x\nsteps:\n  - test.set: { counter: a, value: 1 }\n"
                + "  - test.explode: { counter: b, at: capture }\n");
        assertEquals(1, Main.execute("run", p.toString()));
        assertEquals(Map.of(), Ledger.SHARED.counters);
        assertEquals(List.of("apply a=1", "undo a"), Ledger.SHARED.log);
        assertTrue(stdout().contains("rolled back") && !stderr().contains("internal error"), stdout() + stderr());
    }

    @Test
    void aPlanThatWillFailExits1AndDoesNothing() throws Exception {
        Path p = write("pb.yml", "name: x\nsteps:\n  - test.set: { counter: a, value: 1 }\n  - test.fail: { in_plan: true }\n");
        assertEquals(1, Main.execute("run", p.toString()));
        assertEquals(List.of(), Ledger.SHARED.log);
        assertTrue(stderr().contains("nothing was done"), stderr());
    }

    @Test
    void irreversibleStepsWithoutATerminalOrYesAreRefusedBeforeAnything() throws Exception {
        Ledger.SHARED.counters.put("a", 1L);
        Path p = write("pb.yml", "name: x\nsteps:\n  - test.set: { counter: b, value: 1 }\n  - test.irreversible: { counter: a }\n");
        assertEquals(2, Main.execute("run", p.toString()));
        assertEquals(List.of(), Ledger.SHARED.log);
        assertTrue(stderr().contains("--yes"), stderr());
        assertEquals(0, Main.execute("run", "--yes", p.toString()));
        assertEquals(Map.of("b", 1L), Ledger.SHARED.counters);
    }

    @Test
    void jsonOutputIsOneDocument() throws Exception {
        Path p = write("pb.yml", "name: x\nsteps:\n  - test.set: { counter: a, value: 1 }\n");
        assertEquals(0, Main.execute("run", "--output", "json", p.toString()));
        var doc = dev.snapbook.engine.json.Json.MAPPER.readTree(stdout());
        assertEquals(1, doc.get("format_version").asInt());
        assertEquals("succeeded", doc.get("status").asText());
        assertEquals("changed", doc.at("/steps/0/status").asText());
        assertEquals("test.set", doc.at("/steps/0/type").asText());
        assertTrue(doc.at("/steps/0/verified").asBoolean());
    }

    @Test
    void invalidInputUnderJsonOutputIsAJsonDocumentToo() throws Exception {
        Path p = write("pb.yml", "name: x\nvars:\n  domain: null\nsteps:\n  - test.set: { counter: a, value: 1 }\n");
        assertEquals(2, Main.execute("run", "--output", "json", p.toString()));
        var doc = dev.snapbook.engine.json.Json.MAPPER.readTree(stdout());
        assertEquals("invalid", doc.get("status").asText());
        assertEquals(2, doc.get("exit_code").asInt());
        assertTrue(doc.get("message").asText().contains("-e domain=VALUE"), doc.toString());
        assertTrue(stderr().contains("-e domain=VALUE"), stderr());
        assertEquals(Map.of(), Ledger.SHARED.counters);
    }

    @Test
    void aRunThatNeedsAttentionNamesItsStepsAndTheRecoverCommandInJson() throws Exception {
        Path p = write("pb.yml", "name: x\nsteps:\n"
                + "  - test.explode: { counter: a, at: undo }\n"
                + "  - test.fail: { message: disk on fire }\n");
        assertEquals(3, Main.execute("run", "--output", "json", p.toString()));
        var doc = dev.snapbook.engine.json.Json.MAPPER.readTree(stdout());
        assertEquals(3, doc.get("exit_code").asInt());
        assertEquals(1, doc.get("attention").size(), doc.toString());
        assertEquals(0, doc.at("/attention/0/index").asInt());
        assertEquals("not_rolled_back", doc.at("/attention/0/status").asText());
        assertEquals("snapbook recover " + doc.get("run_id").asText() + " --rollback", doc.get("recover").asText());
    }

    @Test
    void aSucceededRunHasNoAttention() throws Exception {
        Path p = write("pb.yml", "name: x\nsteps:\n  - test.set: { counter: a, value: 1 }\n");
        assertEquals(0, Main.execute("run", "--output", "json", p.toString()));
        var doc = dev.snapbook.engine.json.Json.MAPPER.readTree(stdout());
        assertTrue(doc.get("attention") == null && doc.get("recover") == null, doc.toString());
    }

    @Test
    void aJsonPlanHasAPicture() throws Exception {
        Path p = write("pb.yml", "name: x\nsteps:\n  - test.set: { counter: a, value: 1 }\n");
        assertEquals(0, Main.execute("plan", "--output", "json", p.toString()));
        var doc = dev.snapbook.engine.json.Json.MAPPER.readTree(stdout());
        // the engine alone has no renderer: the picture is there, and empty
        assertTrue(doc.get("picture").isArray() && doc.get("picture").isEmpty(), doc.toString());
    }

    @Test
    void aSavedPlanRunsLaterAndIsRefusedWhenTheWorldDrifted() throws Exception {
        Ledger.SHARED.counters.put("a", 1L);
        Path p = write("pb.yml", "name: x\nsteps:\n  - test.read: { counter: a }\n  - test.set: { counter: a, value: 2 }\n");
        Path plan = dir.resolve("x.plan");
        assertEquals(0, Main.execute("plan", "--out", plan.toString(), p.toString()));
        assertTrue(Files.exists(plan));
        Ledger.SHARED.counters.put("a", 5L);
        assertEquals(1, Main.execute("run", plan.toString()));
        assertTrue(stderr().contains("changed since it was planned") && stderr().contains("counter:a"), stderr());
        assertEquals(List.of(), Ledger.SHARED.log);
        Ledger.SHARED.counters.put("a", 1L);
        assertEquals(0, Main.execute("run", plan.toString()));
        assertEquals(Map.of("a", 2L), Ledger.SHARED.counters);
    }

    @Test
    void extraVarsAreDataNeverCode() throws Exception {
        Path p = write("pb.yml", "name: x\nvars: { c: a }\nsteps:\n  - test.set: { counter: \"{{ c }}\", value: 1 }\n");
        assertEquals(0, Main.execute("run", "-e", "c={{ 6 * 7 }}", p.toString()));
        assertEquals(Map.of("{{ 6 * 7 }}", 1L), Ledger.SHARED.counters);
    }

    @Test
    void aMalformedExtraVarIsAUsageError() throws Exception {
        Path p = write("pb.yml", "name: x\nsteps:\n  - test.set: { counter: a, value: 1 }\n");
        assertEquals(2, Main.execute("run", "-e", "novalue", p.toString()));
        assertEquals(List.of(), Ledger.SHARED.log);
    }

    @Test
    void stepsDescribesParameters() {
        assertEquals(0, Main.execute("steps", "test.set"));
        assertTrue(stdout().contains("counter") && stdout().contains("required"), stdout());
        assertEquals(2, Main.execute("steps", "test.sett"));
        assertTrue(stderr().contains("did you mean 'test.set'"), stderr());
    }

    @Test
    void aVarWithoutDefaultMustBeGivenWithE() throws Exception {
        Path p = write("pb.yml", "name: x\nvars: { c: null }\nsteps:\n  - test.set: { counter: \"{{ c }}\", value: 1 }\n");
        assertEquals(2, Main.execute("run", p.toString()));
        assertTrue(stderr().contains("needs -e c=VALUE"), stderr());
        assertEquals(List.of(), Ledger.SHARED.log);
        assertEquals(0, Main.execute("run", "-e", "c=z", p.toString()));
        assertEquals(Map.of("z", 1L), Ledger.SHARED.counters);
    }

    @Test
    void aSecondRunOnTheSameDomainWaitsThenRefusesNamingTheHolder() throws Exception {
        Path p = write("pb.yml", "name: x\nsteps:\n  - test.set: { counter: a, value: 1, domain: web01 }\n");
        Path state = dir.resolve("state");
        try (var held = dev.snapbook.engine.run.Locks.acquire(state, "qemu:///system", List.of("domain:web01"),
                "run 20260101T000000-abcdef (pid 1)", java.time.Duration.ZERO)) {
            assertEquals(2, Main.execute("run", "--lock-timeout", "1s", p.toString()));
            assertTrue(stderr().contains("domain:web01") && stderr().contains("run 20260101T000000-abcdef"), stderr());
            assertEquals(List.of(), Ledger.SHARED.log);
        }
        assertEquals(0, Main.execute("run", p.toString()), "free again once the holder is gone");
    }

    @Test
    void aLockFileLeftByADeadProcessIsTakenOver() throws Exception {
        Path p = write("pb.yml", "name: x\nsteps:\n  - test.set: { counter: a, value: 1, domain: web01 }\n");
        Path locks = dir.resolve("state").resolve("locks");
        Files.createDirectories(locks);
        // what a process killed while holding the lock leaves: the file, but no OS lock
        try (var held = dev.snapbook.engine.run.Locks.acquire(dir.resolve("state"), "qemu:///system",
                List.of("domain:web01"), "pid 999999 (dead)", java.time.Duration.ZERO)) {
            // released below without deleting the file
        }
        try (var files = Files.list(locks)) {
            assertEquals(1, files.count());
        }
        assertEquals(0, Main.execute("run", "--lock-timeout", "0s", p.toString()));
    }
}
