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
final class Domains {

    static final Param DOMAIN = Param.required("domain", ParamType.NAME, "the libvirt domain's name");

    private Domains() {
    }

    /**
     * The domain {@code name} as the plan predicts it at this point.
     *
     * @throws StepFailure when there is no such domain (now, or after the steps before)
     */
    static DomainFacts require(World world, String name) throws StepFailure {
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
}
