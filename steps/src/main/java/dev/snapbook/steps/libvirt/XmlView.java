package dev.snapbook.steps.libvirt;

/** Which definition {@link Libvirt#xmlDesc} returns (the {@code virDomainXMLFlags} that matter here). */
public enum XmlView {
    /** The XML the domain runs with now (the only one for a shut-off domain). */
    LIVE(0),
    /** The persistent definition used at the next start ({@code VIR_DOMAIN_XML_INACTIVE}). */
    INACTIVE(2);

    final int flag;

    XmlView(int flag) {
        this.flag = flag;
    }
}
