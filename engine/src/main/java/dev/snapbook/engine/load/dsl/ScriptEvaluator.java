package dev.snapbook.engine.load.dsl;

import dev.snapbook.engine.load.PlaybookError;
import dev.snapbook.engine.model.Location;
import dev.snapbook.engine.model.Playbook;
import groovy.lang.MissingMethodException;
import org.codehaus.groovy.runtime.InvokerInvocationException;

/**
 * Runs a compiled playbook script and returns the playbook it declared. Every failure of the script,
 * except the JVM running out of memory, becomes a {@link PlaybookError} at the script line where it
 * happened.
 */
public final class ScriptEvaluator {

    private ScriptEvaluator() {
    }

    /**
     * @param script      a fresh instance of the compiled script
     * @param displayName the file as the user named it, used in every location
     */
    public static Playbook evaluate(PlaybookScript script, String displayName) throws PlaybookError {
        DslContext ctx = new DslContext(displayName, script);
        script.attach(ctx);
        try {
            script.run();
        } catch (DslError e) {
            throw new PlaybookError(e.location() != null ? e.location() : ctx.locate(e), e.field(), e.problem());
        } catch (MissingMethodException e) {
            if (e.getType() != null && PlaybookScript.class.isAssignableFrom(e.getType())) {
                throw new PlaybookError(ctx.locate(e), null,
                        Grammar.SCRIPT.unknownMethod(e.getMethod(), Grammar.SCRIPT.where()));
            }
            throw runtimeError(ctx, e);
        } catch (StackOverflowError e) {
            throw runtimeError(ctx, e);
        } catch (VirtualMachineError e) {
            throw e; // out of memory or a broken JVM: not the playbook's fault, nothing to report here
        } catch (Throwable e) {
            // the script is the user's code: any failure of it, an assert (AssertionError) or a thrown
            // Error included, is a playbook error at its line, never an escape from the loader
            throw runtimeError(ctx, e);
        }
        if (ctx.playbook() == null) {
            throw new PlaybookError(new Location(displayName, 0, 0), null,
                    "no playbook: a Groovy playbook calls playbook('what it does') { ... } once");
        }
        return ctx.playbook();
    }

    private static PlaybookError runtimeError(DslContext ctx, Throwable e) {
        Throwable cause = e instanceof InvokerInvocationException && e.getCause() != null ? e.getCause() : e;
        PlaybookError error = new PlaybookError(ctx.locate(cause), null,
                "the script failed: " + cause.getClass().getSimpleName() + ": " + cause.getMessage());
        error.initCause(cause);
        return error;
    }
}
