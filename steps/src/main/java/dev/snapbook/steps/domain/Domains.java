package dev.snapbook.steps.domain;

import dev.snapbook.engine.spi.Param;
import dev.snapbook.engine.spi.ParamType;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.engine.spi.World;
import dev.snapbook.steps.libvirt.Libvirt;
import dev.snapbook.steps.libvirt.PowerState;
import java.time.Duration;
import java.time.Instant;

/** What the {@code domain.*} steps share: the {@code domain} parameter and the checks on it. */
public final class Domains {

    static final Param DOMAIN = Param.required("domain", ParamType.NAME, "the libvirt domain's name");

    private Domains() {
    }

    /**
     * The domain {@code name} as the plan predicts it at this point.
     *
     * @throws StepFailure when there is no such domain (now, or after the steps before)
     */
    public static DomainFacts require(World world, String name) throws StepFailure {
        DomainFacts facts = world.get(DomainFacts.key(name));
        if (facts == null) {
            throw new StepFailure("domain '" + name + "' does not exist on this connection"
                    + (world.observed(DomainFacts.key(name)) != null ? " at this point of the plan" : ""),
                    "check the name with: virsh list --all");
        }
        return facts;
    }

    /** The domain's state now, or null when it no longer exists (a transient domain that stopped). */
    static PowerState stateOrGone(Libvirt libvirt, String name) throws StepFailure {
        return libvirt.exists(name) ? libvirt.state(name) : null;
    }

    /** The earlier of now + {@code timeout} and the step's deadline. */
    static Instant waitUntil(Duration timeout, Instant deadline) {
        Instant end = Instant.now().plus(timeout);
        return deadline != null && deadline.isBefore(end) ? deadline : end;
    }

    /** The verification of the steps that power a domain off: it is shut off now, or gone (transient). */
    static dev.snapbook.engine.spi.Verification verifyShutOff(String name, dev.snapbook.engine.spi.StepContext context)
            throws StepFailure {
        PowerState now = stateOrGone(Libvirt.session(context), name);
        return dev.snapbook.engine.spi.Verification.check(now == null || now == PowerState.SHUTOFF,
                "domain " + name + " should be shut off but is " + (now == null ? "gone" : now.label()));
    }

    /**
     * The undo of the steps that power a domain off: start it again when it was active before the step
     * ({@code captured.previous_state}) and the step changed it.
     */
    static void startAgainIfItWasRunning(String step, String name, java.util.Map<String, Object> captured,
                                         dev.snapbook.engine.spi.Outcome outcome,
                                         dev.snapbook.engine.spi.StepContext context) throws StepFailure {
        Object before = captured.get("previous_state");
        if (!outcome.changed() || before == null || !PowerState.ofLabel(before.toString()).isActive()) {
            context.trace("undo " + step + "(" + name + "): it was not running before this step; left off");
            return;
        }
        Libvirt libvirt = Libvirt.session(context);
        PowerState now = stateOrGone(libvirt, name);
        if (now == null) {
            throw new StepFailure("cannot start " + name + " again: it was transient and no longer exists",
                    "define it again from its XML and start it");
        }
        if (now == PowerState.SHUTOFF) {
            libvirt.create(name);
        }
    }
}
