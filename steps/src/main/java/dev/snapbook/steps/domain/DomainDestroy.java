package dev.snapbook.steps.domain;

import dev.snapbook.engine.spi.Outcome;
import dev.snapbook.engine.spi.Params;
import dev.snapbook.engine.spi.Param;
import dev.snapbook.engine.spi.Planned;
import dev.snapbook.engine.spi.Reversibility;
import dev.snapbook.engine.spi.Step;
import dev.snapbook.engine.spi.StepContext;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.engine.spi.Verification;
import dev.snapbook.engine.spi.World;
import dev.snapbook.steps.libvirt.Libvirt;
import dev.snapbook.steps.libvirt.PowerState;
import java.util.List;
import java.util.Map;

/**
 * Step {@code domain.destroy}: powers a domain off at once, like pulling the plug ({@code virDomainDestroy});
 * does nothing when it is already shut off. The guest gets no chance to flush its caches: prefer
 * {@code domain.shutdown} with {@code force: true} when the guest might answer ACPI.
 *
 * <p>Result: {@code {state: "shutoff", destroyed: true|false}}. Undo starts the domain again if it was
 * active before; a domain that was paused comes back running. A transient domain ceases to exist when
 * destroyed, so it cannot be started again: the undo then fails, saying so.
 */
public final class DomainDestroy implements Step {

    @Override
    public String name() {
        return "domain.destroy";
    }

    @Override
    public String summary() {
        return "Powers a domain off at once (virDomainDestroy); does nothing when it is already shut off.";
    }

    @Override
    public List<Param> params() {
        return List.of(Domains.DOMAIN);
    }

    @Override
    public String preconditions() {
        return "The domain must exist at this point of the plan; a domain that is already shut off is left as it is.";
    }

    @Override
    public String verifies() {
        return "Re-reads the domain's state from libvirt: it must be shut off, or gone if it was transient.";
    }

    @Override
    public String undoes() {
        return "Starts the domain again (virDomainCreate) if it was active before and this step powered it off; a"
                + " domain that was paused comes back running. A transient domain no longer exists once destroyed, so"
                + " its undo fails.";
    }

    @Override
    public Reversibility reversibility(Params params) {
        return Reversibility.REVERSIBLE;
    }

    @Override
    public Planned plan(Params params, World world) throws StepFailure {
        String name = params.string("domain");
        DomainFacts facts = Domains.require(world, name);
        if (PowerState.ofLabel(facts.state()) == PowerState.SHUTOFF) {
            return Planned.alreadyDone(name + " is already shut off", result(false));
        }
        world.put(DomainFacts.key(name), facts.persistent() ? facts.withState(PowerState.SHUTOFF.label()) : null);
        return Planned.change(List.of("virDomainDestroy(" + name + ")"
                + (facts.persistent() ? "" : ": " + name + " is transient and will no longer exist")), result(true));
    }

    /** Records the state before the step, so undo restarts only a domain that was active. */
    @Override
    public Map<String, Object> capture(Params params, StepContext context) throws StepFailure {
        return Map.of("previous_state", Libvirt.session(context).state(params.string("domain")).label());
    }

    @Override
    public Outcome apply(Params params, Map<String, Object> captured, StepContext context) throws StepFailure {
        String name = params.string("domain");
        Libvirt libvirt = Libvirt.session(context);
        if (libvirt.state(name) == PowerState.SHUTOFF) {
            return Outcome.unchanged(name + " was already shut off", result(false));
        }
        libvirt.destroy(name);
        return Outcome.changed("powered off " + name, result(true));
    }

    @Override
    public Verification verify(Params params, Outcome outcome, StepContext context) throws StepFailure {
        return Domains.verifyShutOff(params.string("domain"), context);
    }

    /** Starts the domain again if this step powered it off. */
    @Override
    public void undo(Params params, Map<String, Object> captured, Outcome outcome, StepContext context)
            throws StepFailure {
        Domains.startAgainIfItWasRunning("domain.destroy", params.string("domain"), captured, outcome, context);
    }

    private static Map<String, Object> result(boolean destroyed) {
        return Map.of("state", PowerState.SHUTOFF.label(), "destroyed", destroyed);
    }
}
