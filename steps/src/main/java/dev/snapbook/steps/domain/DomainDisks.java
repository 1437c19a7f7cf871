package dev.snapbook.steps.domain;

import dev.snapbook.engine.spi.Outcome;
import dev.snapbook.engine.spi.Params;
import dev.snapbook.engine.spi.Param;
import dev.snapbook.engine.spi.Planned;
import dev.snapbook.engine.spi.Step;
import dev.snapbook.engine.spi.StepContext;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.engine.spi.Verification;
import dev.snapbook.engine.spi.World;
import dev.snapbook.steps.libvirt.Libvirt;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Step {@code domain.disks}: the domain's disks as {@code virsh domblklist --details} lists them, from the
 * live XML (the persistent one when shut off). Read-only; the plan predicts the list from the world, so a
 * step after a disk swap or a pivot sees the disks as they will be.
 *
 * <p>Result: {@code {disks: [{target, device, type, source, format, bus}, ...]}} in XML order.
 */
public final class DomainDisks implements Step {

    @Override
    public String name() {
        return "domain.disks";
    }

    @Override
    public String summary() {
        return "Lists the domain's disks: target, device, type, source, format and bus (virsh domblklist --details).";
    }

    @Override
    public List<Param> params() {
        return List.of(Domains.DOMAIN);
    }

    @Override
    public String preconditions() {
        return "The domain must exist at this point of the plan. The plan predicts the disks from the world, so they"
                + " include the changes of earlier steps (a disk swap, a pivot).";
    }

    @Override
    public String verifies() {
        return "Reads the domain's disks from libvirt again: they must be exactly the ones reported.";
    }

    @Override
    public String undoes() {
        return "It only reads the domain's XML.";
    }

    @Override
    public Planned plan(Params params, World world) throws StepFailure {
        String name = params.string("domain");
        DomainFacts facts = Domains.require(world, name);
        return Planned.readOnly("virDomainGetXMLDesc(" + name + "): the <disk> elements", result(facts.disks()));
    }

    @Override
    public Outcome apply(Params params, Map<String, Object> captured, StepContext context) throws StepFailure {
        String name = params.string("domain");
        DomainFacts facts = observe(name, context);
        return Outcome.unchanged(name + " has " + facts.disks().size() + " disk(s)", result(facts.disks()));
    }

    /** Reads the disks again and checks they are still those reported. */
    @Override
    public Verification verify(Params params, Outcome outcome, StepContext context) throws StepFailure {
        String name = params.string("domain");
        Map<String, Object> now = result(observe(name, context).disks());
        return Verification.check(now.equals(outcome.data()),
                "the disks of " + name + " are now " + now.get("disks") + ", not " + outcome.data().get("disks"));
    }

    private static DomainFacts observe(String name, StepContext context) throws StepFailure {
        DomainFacts facts = DomainFactSource.observe(name, Libvirt.session(context));
        if (facts == null) {
            throw new StepFailure("domain '" + name + "' does not exist on this connection",
                    "check the name with: virsh list --all");
        }
        return facts;
    }

    static Map<String, Object> result(List<DiskFacts> disks) {
        List<Map<String, Object>> list = new ArrayList<>();
        for (DiskFacts d : disks) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("target", d.target());
            m.put("device", d.device());
            m.put("type", d.type());
            m.put("source", d.source());
            m.put("format", d.format());
            m.put("bus", d.bus());
            list.add(m);
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("disks", list);
        return result;
    }
}
