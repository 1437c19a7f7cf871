package dev.snapbook.engine.load;

import dev.snapbook.engine.load.dsl.PlaybookScript;
import dev.snapbook.engine.load.dsl.ScriptEvaluator;
import dev.snapbook.engine.model.Location;
import dev.snapbook.engine.model.Playbook;
import groovy.lang.Binding;
import groovy.lang.GroovyClassLoader;
import groovy.lang.GroovyCodeSource;
import groovy.lang.Script;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import org.codehaus.groovy.GroovyBugError;
import org.codehaus.groovy.control.CompilationFailedException;
import org.codehaus.groovy.control.CompilerConfiguration;
import org.codehaus.groovy.control.MultipleCompilationErrorsException;
import org.codehaus.groovy.control.messages.ExceptionMessage;
import org.codehaus.groovy.control.messages.Message;
import org.codehaus.groovy.control.messages.SyntaxErrorMessage;
import org.codehaus.groovy.runtime.InvokerHelper;
import org.codehaus.groovy.syntax.SyntaxException;

/**
 * Loads a playbook written in the Groovy DSL (see {@link PlaybookScript}): compiles the file with
 * {@link PlaybookScript} as its base class, runs it, and returns the playbook it declared; the model is
 * the same the YAML loader builds from the same playbook.
 *
 * <p>A Groovy playbook is a program and runs with the rights of the user who loads it; nothing here
 * sandboxes it. Like every loader it checks the shape only: step types and parameters are the
 * validator's business.
 */
public final class GroovyLoader implements PlaybookLoader {

    @Override
    public Playbook load(String displayName, String text) throws PlaybookError {
        CompilerConfiguration config = new CompilerConfiguration();
        config.setScriptBaseClass(PlaybookScript.class.getName());
        config.setSourceEncoding("UTF-8");
        try (GroovyClassLoader classLoader = new GroovyClassLoader(GroovyLoader.class.getClassLoader(), config)) {
            Class<?> compiled;
            try {
                // The code source name gives the script's class and file name, seen in stack frames.
                compiled = classLoader.parseClass(new GroovyCodeSource(text, displayName, "/groovy/script"), false);
            } catch (MultipleCompilationErrorsException e) {
                throw compileError(displayName, e);
            } catch (CompilationFailedException e) {
                throw new PlaybookError(new Location(displayName, 0, 0), null, "does not compile: " + e.getMessage());
            } catch (StackOverflowError e) {
                throw new PlaybookError(new Location(displayName, 0, 0), null,
                        "does not compile: the script nests too deeply for the Groovy compiler");
            } catch (GroovyBugError e) {
                // the compiler's own assertion: still this file's problem, and still exit 2
                throw new PlaybookError(new Location(displayName, 0, 0), null, "does not compile: " + e.getBugText());
            }
            Script script;
            try {
                // creating the script runs its field initialisers, which are the user's code
                script = InvokerHelper.createScript(compiled, new Binding());
            } catch (VirtualMachineError e) {
                if (!(e instanceof StackOverflowError)) {
                    throw e;
                }
                throw new PlaybookError(new Location(displayName, 0, 0), null, "the script failed: " + e);
            } catch (RuntimeException | LinkageError | AssertionError e) {
                throw new PlaybookError(new Location(displayName, 0, 0), null, "the script failed: " + e);
            }
            if (!(script instanceof PlaybookScript playbookScript)) {
                throw new PlaybookError(new Location(displayName, 0, 0), null, "the script's base class is "
                        + compiled.getSuperclass().getName() + ", not " + PlaybookScript.class.getName());
            }
            return ScriptEvaluator.evaluate(playbookScript, displayName);
        } catch (IOException e) {
            throw new UncheckedIOException("closing the Groovy class loader", e);
        }
    }

    private static PlaybookError compileError(String displayName, MultipleCompilationErrorsException e) {
        List<? extends Message> errors = e.getErrorCollector().getErrors();
        String more = errors.size() > 1 ? " (and " + (errors.size() - 1) + " more compile errors)" : "";
        Message first = errors.isEmpty() ? null : errors.get(0);
        if (first instanceof SyntaxErrorMessage syntax) {
            SyntaxException cause = syntax.getCause();
            return new PlaybookError(new Location(displayName, cause.getLine(), Math.max(cause.getStartColumn(), 0)),
                    null, "does not compile: " + cause.getOriginalMessage() + more);
        }
        if (first instanceof ExceptionMessage exception) {
            return new PlaybookError(new Location(displayName, 0, 0), null,
                    "does not compile: " + exception.getCause().getMessage() + more);
        }
        return new PlaybookError(new Location(displayName, 0, 0), null, "does not compile: " + e.getMessage());
    }
}
