package dev.snapbook.engine.load.dsl;

import dev.snapbook.engine.model.Location;
import groovy.lang.Binding;
import groovy.lang.Closure;
import groovy.lang.DelegatesTo;
import groovy.lang.Script;

/**
 * The base class of every Groovy playbook (set by {@link dev.snapbook.engine.load.GroovyLoader}); its
 * one method, {@link #playbook}, opens the DSL. A playbook file calls it exactly once:
 * <pre>
 * playbook('Revert a VM to an external snapshot') {
 *     vars domain: 'web01', snapshot: 'snap2'
 *     step 'chain.verify', domain: domain, snapshot: snapshot
 *     step('snapshot.revert', domain: domain, snapshot: snapshot) { register 'reverted' }
 * }
 * </pre>
 * The script is an ordinary Groovy program running with the user's rights (it is not sandboxed); the
 * DSL only builds the model, it runs no step.
 *
 * <p>For IDE completion outside the loader, a file may declare
 * {@code @groovy.transform.BaseScript dev.snapbook.engine.load.dsl.PlaybookScript script}.
 */
public abstract class PlaybookScript extends Script {

    private DslContext context;

    protected PlaybookScript() {
    }

    protected PlaybookScript(Binding binding) {
        super(binding);
    }

    void attach(DslContext context) {
        this.context = context;
    }

    /** Declares the playbook: {@code name} says what it does, {@code body} holds its vars and steps. */
    public void playbook(String name,
            @DelegatesTo(value = PlaybookSpec.class, strategy = Closure.DELEGATE_FIRST) Closure<?> body) {
        if (context == null) {
            throw new IllegalStateException("a Groovy playbook is loaded by snapbook's GroovyLoader, not run directly");
        }
        Location at = context.here();
        if (context.insideBlock()) {
            throw new DslError("playbook", "playbook(...) cannot be nested in another block");
        }
        if (context.playbook() != null) {
            throw new DslError("playbook", "a file holds one playbook, and playbook(...) was already called at "
                    + context.playbookAt());
        }
        PlaybookSpec spec = new PlaybookSpec(context, name);
        context.run(spec, body);
        context.setPlaybook(spec.build(), at);
    }
}
