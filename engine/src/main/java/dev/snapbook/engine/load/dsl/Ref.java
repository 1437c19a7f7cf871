package dev.snapbook.engine.load.dsl;

import groovy.lang.GroovyObjectSupport;

/**
 * A variable of the playbook read inside the DSL ({@code domain}, {@code reverted.disks.vda.source}).
 * Its value is only known when the playbook runs, so the DSL keeps the reference itself: used as a
 * parameter value it becomes the template {@code {{ path }}}, and inside a GString it prints as
 * {@code {{ path }}}, so {@code "${domain}-snap"} becomes {@code {{ domain }}-snap}.
 *
 * <p>Anything that would need the value now (a Groovy {@code if}, a method call) is an error, because
 * the answer would be made up: conditions belong in {@code when 'expression'}.
 */
public final class Ref extends GroovyObjectSupport {

    private final String path;

    Ref(String path) {
        this.path = path;
    }

    /** The expression this reference stands for, e.g. {@code reverted.disks.vda.source}. */
    public String path() {
        return path;
    }

    /** {@code ref.name}: the member {@code name} of this variable's value. */
    @Override
    public Object getProperty(String name) {
        return new Ref(path + "." + name);
    }

    @Override
    public void setProperty(String name, Object value) {
        throw new DslError(path, "cannot assign to `" + path + "." + name + "`: playbook variables are set"
                + " with vars or register, not assigned");
    }

    /** {@code ref['key']}: an entry of this variable's value (declared so it wins over Groovy's getAt(String)). */
    public Ref getAt(String key) {
        return getAt((Object) key);
    }

    /** {@code ref['key']}, {@code ref[0]} or {@code ref[other]}: an element of this variable's value. */
    public Ref getAt(Object key) {
        if (key instanceof Ref r) {
            return new Ref(path + "[" + r.path + "]");
        }
        if (key instanceof Number n) {
            return new Ref(path + "[" + n + "]");
        }
        return new Ref(path + "['" + String.valueOf(key).replace("\\", "\\\\").replace("'", "\\'") + "']");
    }

    /** Groovy truth of a value only known at run time: refused, so no condition is silently decided now. */
    public boolean asBoolean() {
        throw new DslError(path, "`" + path + "` is only known when the playbook runs, so Groovy cannot test it"
                + " while loading; write the condition as an expression string: when '" + path + "'");
    }

    /** Any other method: refused for the same reason as {@link #asBoolean()}. */
    public Object methodMissing(String name, Object args) {
        throw new DslError(path, "cannot call " + name + "() on `" + path + "`: its value is only known when the"
                + " playbook runs; use it as a parameter value, in a GString (\"${" + path + "}-suffix\"),"
                + " or inside an expression string");
    }

    @Override
    public String toString() {
        return "{{ " + path + " }}";
    }
}
