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

    /**
     * The persistent definition's disks, or null when the domain is gone, shut off or transient, or when they are
     * the live disks (what libvirt keeps for snapshots, pivots and snapbook's swaps): only a difference is a fact.
     */
    public static DefinitionFacts observe(String name, Libvirt libvirt) throws StepFailure {
        if (!libvirt.exists(name) || !libvirt.state(name).isActive() || !libvirt.persistent(name)) {
            return null;
        }
        String xml = libvirt.xmlDesc(name, XmlView.INACTIVE);
        try {
            java.util.List<DiskFacts> disks = DiskReader.read(xml, "the persistent domain XML of " + name);
            java.util.List<DiskFacts> live = DiskReader.read(libvirt.xmlDesc(name, XmlView.LIVE),
                    "the domain XML of " + name);
            return sources(disks).equals(sources(live)) ? null : new DefinitionFacts(name, disks);
        } catch (SafeXml.Refused e) {
            throw new StepFailure(e.getMessage(), "inspect it with: virsh -c " + libvirt.uri() + " dumpxml --inactive "
                    + name, e);
        }
    }

    private static java.util.Map<String, String> sources(java.util.List<DiskFacts> disks) {
        java.util.Map<String, String> out = new java.util.TreeMap<>();
        disks.forEach(d -> out.put(d.target(), String.valueOf(d.source())));
        return out;
    }
}
