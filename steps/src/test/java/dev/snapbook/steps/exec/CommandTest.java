package dev.snapbook.steps.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CommandTest {

    @Test
    void passesEachArgumentVerbatimWithoutAShell(@TempDir Path dir) throws IOException {
        Path marker = dir.resolve("pwned");
        String hostile = "$(touch " + marker + "); `touch " + marker + "` 'quoted' \"double\"";

        Command.Result r = Command.of("printf", "%s|", "a b", hostile).run(Duration.ofSeconds(10), l -> { });

        assertTrue(r.succeeded());
        assertEquals("a b|" + hostile + "|", r.stdout());
        assertFalse(Files.exists(marker), "a shell interpreted an argument");
    }

    @Test
    void tracesTheCommandLineWithArgumentsQuotedForReading() throws IOException {
        List<String> traces = new ArrayList<>();

        Command.of("true", "plain", "two words").run(Duration.ofSeconds(10), traces::add);

        assertEquals(List.of("true plain 'two words'"), traces);
    }

    @Test
    void reportsNonZeroExitCodesAndStderrAsAResult() throws IOException {
        Command.Result r = Command.of("ls", "/nonexistent-snapbook").run(Duration.ofSeconds(10), l -> { });

        assertFalse(r.succeeded());
        assertTrue(r.exitCode() != 0);
        assertTrue(r.stderr().contains("nonexistent-snapbook"));
    }

    @Test
    void stopsACommandThatOverrunsItsTimeout() throws IOException {
        Command.Result r = Command.of("sleep", "10").run(Duration.ofMillis(300), l -> { });

        assertTrue(r.timedOut());
        assertFalse(r.succeeded());
    }

    @Test
    void failsToStartAMissingProgram() {
        assertThrows(IOException.class,
                () -> Command.of("no-such-program-snapbook").run(Duration.ofSeconds(5), l -> { }));
    }
}
