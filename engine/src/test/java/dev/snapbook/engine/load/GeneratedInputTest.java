package dev.snapbook.engine.load;

import dev.snapbook.engine.cli.Main;
import dev.snapbook.engine.expr.Expression;
import dev.snapbook.engine.expr.ExpressionError;
import dev.snapbook.engine.expr.Scope;
import dev.snapbook.engine.expr.Templates;
import dev.snapbook.engine.model.Template;
import dev.snapbook.engine.spi.Unknown;
import dev.snapbook.engine.testing.GeneratedInput;
import dev.snapbook.engine.testing.TestSteps;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Property tests over generated input (see {@link GeneratedInput}): whatever text a playbook file or an
 * expression holds, loading, validating, parsing and evaluating it ends normally or with the loader's own
 * located error ({@link PlaybookError}) or the expression language's ({@link ExpressionError}); never with
 * any other exception or error. Each try is one seed, shown in the test's name; {@code -Dsnapbook.seed=N}
 * moves the whole range to explore other inputs. A failure prints the input.
 */
class GeneratedInputTest {

    static final long BASE = Long.getLong("snapbook.seed", 13L) * 1_000_003L;

    static LongStream yamlSeeds() {
        return LongStream.range(BASE, BASE + 500);
    }

    static LongStream expressionSeeds() {
        return LongStream.range(BASE, BASE + 500);
    }

    /** Fewer: each try compiles a Groovy class. */
    static LongStream groovySeeds() {
        return LongStream.range(BASE, BASE + 200);
    }

    private static final StepCatalog CATALOG = new StepCatalog(TestSteps.all());
    private static final PlaybookFiles FILES = new PlaybookFiles(CATALOG, List.of());

    private static final Map<String, Object> VARS = Map.of(
            "domain", "web01", "count", 3L, "x_1", 9007199254740993L,
            "r", Map.of("state", "running", "changed", true, "disks", List.of("vda", "vdb")),
            "later", new Unknown("result of step 2"));
    private static final Scope SCOPE = name -> VARS.containsKey(name) ? VARS.get(name) : Scope.UNDEFINED;

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("yamlSeeds")
    void anyYamlDocumentLoadsOrFailsWithALocatedPlaybookError(long seed) {
        loadsOrFailsCleanly(seed, "generated.yml", false, GeneratedInput::yaml);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("groovySeeds")
    void anyGroovyPlaybookLoadsOrFailsWithALocatedPlaybookError(long seed) {
        loadsOrFailsCleanly(seed, "generated.groovy", true, GeneratedInput::groovy);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("expressionSeeds")
    void anyExpressionParsesAndEvaluatesOrFailsWithAnExpressionError(long seed) {
        String source = GeneratedInput.expression(new Random(seed));
        String template = GeneratedInput.template(new Random(~seed));
        try {
            Object value = Expression.parse(source).evaluate(SCOPE);
            Expression.truthy(value);
        } catch (ExpressionError e) {
            assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), source);
        } catch (Throwable t) {
            fail("seed " + seed + ": expression «" + abbreviate(source) + "» threw " + t, t);
        }
        try {
            Templates.parts(template);
            Templates.render(new Template(template), SCOPE);
        } catch (ExpressionError e) {
            assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), template);
        } catch (Throwable t) {
            fail("seed " + seed + ": template «" + abbreviate(template) + "» threw " + t, t);
        }
    }

    /** Every 25th YAML seed and every 20th Groovy seed, written to a file and given to {@code snapbook validate}. */
    static LongStream commandLineSeeds() {
        return LongStream.concat(yamlSeeds().filter(s -> s % 25 == 0), groovySeeds().filter(s -> s % 20 == 0).map(s -> -s));
    }

    @TempDir
    Path dir;

    /** The same property end to end: the command's exit code is 0 (valid) or 2 (invalid), with no stack trace. */
    @ParameterizedTest(name = "seed {0}")
    @MethodSource("commandLineSeeds")
    void generatedPlaybooksThroughTheCommandLineExitWith0Or2(long signedSeed) throws Exception {
        boolean groovy = signedSeed < 0;
        long seed = Math.abs(signedSeed);
        String text = groovy ? GeneratedInput.groovy(new Random(seed)) : GeneratedInput.yaml(new Random(seed));
        Path file = Files.writeString(dir.resolve(groovy ? "generated.groovy" : "generated.yml"), text);
        PrintStream savedOut = System.out;
        PrintStream savedErr = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit;
        try {
            System.setOut(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            exit = Main.execute("validate", file.toString());
        } finally {
            System.setOut(savedOut);
            System.setErr(savedErr);
        }
        String message = err.toString(StandardCharsets.UTF_8);
        assertTrue(exit == 0 || exit == 2, "seed " + seed + ": exit " + exit + ": " + message + "\n" + abbreviate(text));
        assertTrue(exit == 0 || message.startsWith(file.toString()), "seed " + seed + ": " + message);
        assertTrue(!message.contains("\tat ") && !message.contains("internal error"), "seed " + seed + ": " + message);
    }

    private static void loadsOrFailsCleanly(long seed, String name, boolean groovy, Function<Random, String> generator) {
        String text = generator.apply(new Random(seed));
        try {
            FILES.load(new PlaybookFiles.Source(name, text, groovy));
        } catch (PlaybookError e) {
            assertEquals(name, e.location().file(), e.getMessage());
            assertTrue(e.getMessage().startsWith(e.location().toString()), e.getMessage());
            assertTrue(e.problem() != null && !e.problem().isBlank(), e.getMessage());
        } catch (Throwable t) {
            fail("seed " + seed + ": " + name + " threw " + t + "; the input was:\n" + abbreviate(text), t);
        }
    }

    private static String abbreviate(String text) {
        return text.length() <= 4000 ? text : text.substring(0, 2000) + "\n[...]\n" + text.substring(text.length() - 2000);
    }
}
