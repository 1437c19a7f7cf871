package dev.snapbook.engine.load.dsl;

import groovy.lang.GroovyObjectSupport;

/**
 * The delegate of one closure of the DSL. Reading an unknown name inside any block gives a
 * {@link Ref} to the playbook variable of that name; methods are the block's own (see {@link Grammar}).
 */
public abstract class Block extends GroovyObjectSupport {

    final DslContext ctx;

    Block(DslContext ctx) {
        this.ctx = ctx;
    }

    /** The kind of block, for its vocabulary. */
    abstract Grammar grammar();

    /** This block in an error message, e.g. "the onFailure block". */
    String where() {
        return grammar().where();
    }

    @Override
    public Object getProperty(String name) {
        return ctx.resolve(name);
    }

    /**
     * Refuses a call that reached this block through the closure's owner chain from a block nested in
     * it: {@code step} written inside a step block would otherwise silently add a step to the playbook.
     */
    void checkOpen(String method) {
        ctx.checkInnermost(this, method);
    }
}
