package dev.snapbook.engine.load.dsl;

import dev.snapbook.engine.model.Location;
import dev.snapbook.engine.model.Playbook;
import dev.snapbook.engine.model.Values;
import groovy.lang.Closure;
import groovy.lang.MissingMethodException;
import groovy.lang.Script;
import java.lang.reflect.Field;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/** The state of one evaluation of a playbook script: open blocks, known variables, the result. */
final class DslContext {

    private final String file;
    private final Script script;
    private final String scriptClass;
    private final Set<String> variables = new HashSet<>();
    private final Deque<Block> open = new ArrayDeque<>();
    private Playbook playbook;
    private Location playbookAt;

    DslContext(String file, Script script) {
        this.file = file;
        this.script = script;
        this.scriptClass = script.getClass().getName();
    }

    String file() {
        return file;
    }

    /** Declares a playbook variable (from {@code vars} or {@code register}). */
    void declare(String name) {
        variables.add(name);
    }

    /**
     * The value of a name read inside a block: a {@link Ref} for a playbook variable or any unknown
     * name; the script's own variable (binding or {@code @Field}) when it has one of that name, so
     * plain Groovy helpers keep working.
     */
    Object resolve(String name) {
        if (!variables.contains(name)) {
            if (script.getBinding().hasVariable(name)) {
                return script.getBinding().getVariable(name);
            }
            Optional<Field> field = scriptField(name);
            if (field.isPresent()) {
                return script.getProperty(name);
            }
        }
        return new Ref(name);
    }

    private Optional<Field> scriptField(String name) {
        for (Class<?> c = script.getClass(); c != null && c != PlaybookScript.class; c = c.getSuperclass()) {
            try {
                return Optional.of(c.getDeclaredField(name));
            } catch (NoSuchFieldException e) {
                // look in the superclass
            }
        }
        return Optional.empty();
    }

    /** Runs {@code body} with {@code block} as its delegate, turning an unknown method into a DSL error. */
    void run(Block block, Closure<?> body) {
        if (open.size() >= Values.MAX_DEPTH) {
            throw new DslError(block.grammar().name().toLowerCase(java.util.Locale.ROOT),
                    "blocks nest more than " + Values.MAX_DEPTH + " levels deep here");
        }
        Closure<?> c = (Closure<?>) body.clone();
        c.setDelegate(block);
        c.setResolveStrategy(Closure.DELEGATE_FIRST);
        open.push(block);
        try {
            c.call();
        } catch (MissingMethodException e) {
            // Closure delegation rethrows the delegate's exception after the owners failed too.
            if (e.getType() == block.getClass()) {
                throw new DslError(e.getMethod(), block.grammar().unknownMethod(e.getMethod(), block.where()),
                        locate(e));
            }
            throw e;
        } finally {
            open.pop();
        }
    }

    void checkInnermost(Block block, String method) {
        Block current = open.peek();
        if (current != block) {
            String hint = method.equals("step")
                    ? "; steps go in the playbook block, rollback { }, onFailure { } or always { }"
                    : "; it belongs in " + block.where();
            throw new DslError(method, "`" + method + "` cannot be used in "
                    + (current == null ? "this place" : current.where()) + hint);
        }
    }

    boolean insideBlock() {
        return !open.isEmpty();
    }

    void setPlaybook(Playbook playbook, Location at) {
        this.playbook = playbook;
        this.playbookAt = at;
    }

    Playbook playbook() {
        return playbook;
    }

    Location playbookAt() {
        return playbookAt;
    }

    /** The script line now being run: the innermost frame of the script or one of its closures. */
    Location here() {
        return StackWalker.getInstance()
                .walk(frames -> frames.filter(f -> isScript(f.getClassName()) && f.getLineNumber() > 0)
                        .findFirst())
                .map(f -> new Location(file, f.getLineNumber(), 0))
                .orElse(new Location(file, 0, 0));
    }

    /** The script line where {@code error} (or its first located cause) was thrown. */
    Location locate(Throwable error) {
        Set<Throwable> seen = new HashSet<>();
        for (Throwable t = error; t != null && seen.add(t); t = t.getCause()) {
            for (StackTraceElement f : t.getStackTrace()) {
                if (isScript(f.getClassName()) && f.getLineNumber() > 0) {
                    return new Location(file, f.getLineNumber(), 0);
                }
            }
        }
        return new Location(file, 0, 0);
    }

    /** The script class and its closures ({@code Name$_run_closure1$_closure2}). */
    boolean isScript(String className) {
        return className.equals(scriptClass) || className.startsWith(scriptClass + "$");
    }
}
