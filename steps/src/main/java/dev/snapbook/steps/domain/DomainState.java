package dev.snapbook.steps.domain;

import dev.snapbook.engine.spi.Outcome;
import dev.snapbook.engine.spi.Param;
import dev.snapbook.engine.spi.Params;
import dev.snapbook.engine.spi.Planned;
import dev.snapbook.engine.spi.Step;
import dev.snapbook.engine.spi.StepContext;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.engine.spi.Verification;
import dev.snapbook.engine.spi.World;
import dev.snapbook.steps.libvirt.Libvirt;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Step {@code domain.state}: reads a domain's state and whether it is persistent. Read-only.
 *
 * <p>Result: {@code {state: "running"|"shutoff"|..., persistent: true|false}}.
 */
public final class DomainState implements Step {

    @Override
    public String name() {
        return "domain.state";
    }

    @Override
    public String summary() {
        return "Reads a domain's state (running, shutoff, paused, ...) and whether it is persistent.";
    }

    @Override
    public List<Param> params() {
        return List.of(Domains.DOMAIN);
    }

    @Override
    public String preconditions() {
        return "The domain must exist at this point of the plan.";
    }

    @Override
    public String verifies() {
        return "Re-reads the domain from libvirt: it must still exist and be in the state the step reported.";
    }

    @Override
    public String undoes() {
        return "It only reads the domain's state and whether it is persistent.";
    }

    @Override
    public Planned plan(Params params, World world) throws StepFailure {
        String name = params.string("domain");
        DomainFacts facts = Domains.require(world, name);
        return Planned.readOnly("virDomainGetInfo(" + name + "); virDomainIsPersistent(" + name + ")",
                result(facts.state(), facts.persistent()));
    }

    @Override
    public Outcome apply(Params params, Map<String, Object> captured, StepContext context) throws StepFailure {
        String name = params.string("domain");
        Libvirt libvirt = Libvirt.session(context);
        String state = libvirt.state(name).label();
        boolean persistent = libvirt.persistent(name);
        return Outcome.unchanged(name + " is " + state + (persistent ? "" : " (transient)"),
                result(state, persistent));
    }

    /** Checks that the domain still exists and is in the state reported. */
    @Override
    public Verification verify(Params params, Outcome outcome, StepContext context) throws StepFailure {
        String name = params.string("domain");
        Libvirt libvirt = Libvirt.session(context);
        if (!libvirt.exists(name)) {
            return Verification.failed("domain " + name + " no longer exists");
        }
        String now = libvirt.state(name).label();
        return Verification.check(now.equals(outcome.data().get("state")),
                "domain " + name + " is " + now + " now, but was reported " + outcome.data().get("state"));
    }

    private static Map<String, Object> result(String state, boolean persistent) {
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("state", state);
        result.put("persistent", persistent);
        return result;
    }
}
