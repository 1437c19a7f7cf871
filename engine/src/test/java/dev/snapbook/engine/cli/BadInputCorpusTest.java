package dev.snapbook.engine.cli;

import dev.snapbook.engine.testing.Ledger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The engine's bad-input corpus: playbooks that once crashed a loader or the expression parser (issue
 * 13), run through the command line with the test steps. Each must end with exit 2 and one located message,
 * no stack trace, nothing run and no journal. The playbooks module's {@code BadInputCorpusSpec} holds the
 * corpus that needs a lab VM.
 */
class BadInputCorpusTest {

    /** One bad input: a file name and body, and what the message must contain (FILE = the file's path). */
    record Row(String what, String name, String body, String expected) {
        @Override
        public String toString() {
            return what;
        }
    }

    static final String STEP = "  - test.set: { counter: a, value: 1 }\n";

    static Stream<Row> corpus() {
        String parens = "(".repeat(5000) + "1" + ")".repeat(5000);
        return Stream.of(
                new Row("a recursive YAML alias", "p.yml", "name: x\nvars:\n  a: &a [*a]\nsteps:\n" + STEP,
                        "FILE:3:6: vars.a[0]: a recursive alias"),
                new Row("a recursive alias of a step list", "p.yml",
                        "name: x\nsteps: &s\n  - test.set: { counter: a, value: 1 }\n    rollback: *s\n",
                        "FILE:2:8: steps[0].rollback: a recursive alias"),
                new Row("5000 nested YAML lists", "p.yml",
                        "name: x\nvars:\n  a: " + "[".repeat(5000) + "]".repeat(5000) + "\nsteps:\n" + STEP,
                        "FILE:3:54: malformed YAML: Nesting Depth exceeded"),
                new Row("5000 nested parentheses in when", "p.yml",
                        "name: x\nsteps:\n" + STEP + "    when: \"" + parens + "\"\n",
                        "FILE:4:5: steps[0].when: cannot parse"),
                new Row("5000 nested parentheses in a template", "p.yml",
                        "name: x\nsteps:\n  - test.set: { counter: \"{{ " + parens + " }}\", value: 1 }\n",
                        "nests more than 100 levels deep"),
                new Row("a chain of 5000 operators", "p.yml",
                        "name: x\nsteps:\n" + STEP + "    when: \"1" + " + 1".repeat(5000) + " > 0\"\n",
                        "FILE:4:5: steps[0].when: cannot parse"),
                new Row("a whole number beyond 64 bits", "p.yml",
                        "name: x\nsteps:\n" + STEP + "    when: 9223372036854775808 > 0\n", "number too large"),
                new Row("a boolean tag on a word", "p.yml", "name: x\nvars: { f: !!bool maybe }\nsteps:\n" + STEP,
                        "FILE:2:12: vars.f: 'maybe' is not a boolean"),
                new Row("an infinite float", "p.yml", "name: x\nvars: { f: 1.0e+999 }\nsteps:\n" + STEP,
                        "FILE:2:12: vars.f: '1.0e+999' is not a finite number"),
                new Row("an unclosed string inside a template", "p.yml",
                        "name: x\nsteps:\n  - test.set: { counter: \"{{ 'a }}\", value: 1 }\n", "string is not closed"),
                new Row("digits of another script", "p.yml",
                        "name: x\nsteps:\n" + STEP + "    when: \"\u0661.\u0662 > 0\"\n", "FILE:4:5: steps[0].when"),
                new Row("too many retries in YAML", "p.yml", "name: x\nsteps:\n" + STEP + "    retries: 5000\n",
                        "FILE:4:14: steps[0].retries: expected a whole number from 0 to 1000"),
                new Row("too many retries in Groovy", "p.groovy",
                        "playbook('x') {\n  step('test.set', counter: 'a', value: 1) {\n    retries 5000\n  }\n}\n",
                        "FILE:3: retries: expected a whole number from 0 to 1000"),
                new Row("5000 nested parentheses in Groovy", "p.groovy",
                        "playbook('x') {\n  step('test.set', counter: 'a', value: 1) {\n    when '" + parens + "'\n  }\n}\n",
                        "nests more than 100 levels deep"),
                new Row("a failed assert in Groovy", "p.groovy",
                        "playbook('x') {\n  step 'test.set', counter: 'a', value: 1\n  assert 1 == 2\n}\n",
                        "FILE:3: the script failed"),
                new Row("a Groovy list that contains itself", "p.groovy",
                        "def l = []\nl << l\nplaybook('x') {\n  step 'test.set', counter: 'a', value: 1, v: l\n}\n",
                        "FILE:4: test.set.v[0]"));
    }

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

    @ParameterizedTest(name = "{0}")
    @MethodSource("corpus")
    void isRefusedWithExit2AndOneLocatedMessage(Row row) throws Exception {
        Path file = dir.resolve(row.name());
        Files.writeString(file, row.body());
        for (String command : List.of("validate", "run")) {
            err.reset();
            int exit = Main.execute(command, file.toString());
            String message = err.toString(StandardCharsets.UTF_8);
            assertEquals(2, exit, command + ": " + message);
            assertTrue(message.contains(row.expected().replace("FILE", file.toString())), command + ": " + message);
            assertFalse(message.contains("\tat ") || message.contains("internal error"), command + ": " + message);
        }
        assertEquals(List.of(), Ledger.SHARED.log, "nothing ran");
        if (Files.exists(dir.resolve("state"))) {
            try (Stream<Path> files = Files.list(dir.resolve("state"))) {
                assertFalse(files.anyMatch(p -> p.toString().endsWith(".jsonl")), "no journal");
            }
        }
    }
}
