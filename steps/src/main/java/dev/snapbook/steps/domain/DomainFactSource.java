package dev.snapbook.steps.domain;

import dev.snapbook.engine.spi.FactSource;
import dev.snapbook.engine.spi.StepContext;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.steps.libvirt.Libvirt;
import dev.snapbook.steps.libvirt.PowerState;
import dev.snapbook.steps.libvirt.XmlView;
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
        if (!libvirt.exists(name)) {
            return null;
        }
        PowerState state = libvirt.state(name);
        boolean persistent = libvirt.persistent(name);
        // The live XML is what the domain uses now; for a shut-off domain it is the persistent definition.
        String xml = libvirt.xmlDesc(name, XmlView.LIVE);
        try {
            return new DomainFacts(name, state.label(), persistent,
                    DiskReader.read(xml, "the domain XML of " + name));
        } catch (SafeXml.Refused e) {
            throw new StepFailure(e.getMessage(), "inspect it with: virsh -c " + libvirt.uri() + " dumpxml " + name,
                    e);
        }
    }
}
