package dev.snapbook.steps.domain;

import dev.snapbook.engine.spi.FactSource;
import dev.snapbook.engine.spi.StepContext;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.steps.libvirt.Libvirt;
import dev.snapbook.steps.libvirt.XmlView;
import dev.snapbook.steps.xml.SafeXml;

/** Observes {@link DefinitionFacts}: the persistent XML of a running, persistent domain, read-only. */
public final class DefinitionFactSource implements FactSource {

    @Override
    public String kind() {
        return DefinitionFacts.KIND;
    }

    @Override
    public Class<?> type() {
        return DefinitionFacts.class;
    }

    @Override
    public DefinitionFacts observe(String name, StepContext context) throws StepFailure {
        return observe(name, Libvirt.session(context));
    }

    /** The persistent definition's disks, or null when the domain is gone, shut off or transient. */
    public static DefinitionFacts observe(String name, Libvirt libvirt) throws StepFailure {
        if (!libvirt.exists(name) || !libvirt.state(name).isActive() || !libvirt.persistent(name)) {
            return null;
        }
        String xml = libvirt.xmlDesc(name, XmlView.INACTIVE);
        try {
            return new DefinitionFacts(name, DiskReader.read(xml, "the persistent domain XML of " + name));
        } catch (SafeXml.Refused e) {
            throw new StepFailure(e.getMessage(), "inspect it with: virsh -c " + libvirt.uri() + " dumpxml --inactive "
                    + name, e);
        }
    }
}
