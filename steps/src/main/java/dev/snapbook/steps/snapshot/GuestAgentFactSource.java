package dev.snapbook.steps.snapshot;

import dev.snapbook.engine.spi.FactSource;
import dev.snapbook.engine.spi.StepContext;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.steps.libvirt.Libvirt;
import dev.snapbook.steps.libvirt.XmlView;
import dev.snapbook.steps.xml.SafeXml;

/** Observes {@link GuestAgentFacts} from the domain's live XML. */
public final class GuestAgentFactSource implements FactSource {

    @Override
    public String kind() {
        return GuestAgentFacts.KIND;
    }

    @Override
    public Class<?> type() {
        return GuestAgentFacts.class;
    }

    @Override
    public GuestAgentFacts observe(String domain, StepContext context) throws StepFailure {
        Libvirt libvirt = Libvirt.session(context);
        if (!libvirt.exists(domain)) {
            return null;
        }
        String xml = libvirt.xmlDesc(domain, XmlView.LIVE);
        try {
            org.w3c.dom.Document doc = SafeXml.parse(xml, "the domain XML of " + domain);
            return new GuestAgentFacts(domain, DomainXml.hasGuestAgentChannel(doc), DomainXml.guestAgentState(doc));
        } catch (SafeXml.Refused e) {
            throw new StepFailure(e.getMessage(), "inspect it with: virsh dumpxml " + domain, e);
        }
    }
}
