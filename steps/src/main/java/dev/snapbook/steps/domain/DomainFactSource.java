package dev.snapbook.steps.domain;

import dev.snapbook.engine.spi.FactSource;
import dev.snapbook.engine.spi.StepContext;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.steps.libvirt.Libvirt;
import dev.snapbook.steps.xml.SafeXml;

/** Observes {@link DomainFacts} through libvirt: lookup, state, persistence and the live domain XML. */
public final class DomainFactSource implements FactSource {

    @Override
    public String kind() {
        return DomainFacts.KIND;
    }

    @Override
    public Class<?> type() {
        return DomainFacts.class;
    }

    @Override
    public DomainFacts observe(String name, StepContext context) throws StepFailure {
        return observe(name, Libvirt.session(context));
    }

    /** The facts of the domain {@code name}, or null when no domain has that name. */
    public static DomainFacts observe(String name, Libvirt libvirt) throws StepFailure {
        Libvirt.DomainSummary summary = libvirt.summary(name);
        if (summary == null) {
            return null;
        }
        // The live XML is what the domain uses now; for a shut-off domain it is the persistent definition.
        try {
            return new DomainFacts(name, summary.state().label(), summary.persistent(),
                    DiskReader.read(summary.liveXml(), "the domain XML of " + name));
        } catch (SafeXml.Refused e) {
            throw new StepFailure(e.getMessage(), "inspect it with: virsh -c " + libvirt.uri() + " dumpxml " + name,
                    e);
        }
    }
}
