package dev.snapbook.steps.libvirt;

import dev.snapbook.steps.xml.SafeXml;
import dev.snapbook.steps.xml.XmlText;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

/**
 * The secret values of a domain definition, put back into a definition read without them. libvirt writes
 * them only with {@code VIR_DOMAIN_XML_SECURE}: the {@code passwd} attribute of each {@code <graphics>}
 * element (VNC, SPICE, RDP). Snapbook never reads a definition with that flag to keep it (a journal, a log
 * or a trace would then hold the password); a step that redefines a domain from such a definition asks
 * libvirt for the current secrets at that moment and re-inserts them here, so the redefinition does not
 * drop them.
 *
 * <p>A {@code <graphics>} element is matched by its {@code type} and its position among the elements of that
 * type: the n-th SPICE display of the current definition gives its password to the n-th SPICE display of the
 * definition being restored. A display the current definition lacks gets none; an attribute the definition
 * being restored has already is kept.
 */
final class DomainSecrets {

    private static final String PASSWD = "passwd";

    private DomainSecrets() {
    }

    /**
     * {@code xml} with the passwords of {@code secureXml} (the current definition, read with
     * {@code VIR_DOMAIN_XML_SECURE}) re-inserted; {@code xml} itself when it has no display to give one to.
     */
    static String reinsert(String xml, String secureXml, String what) throws SafeXml.Refused {
        Map<String, List<Element>> current = displays(SafeXml.parse(secureXml, "the current definition of " + what));
        if (current.values().stream().flatMap(List::stream).noneMatch(g -> g.hasAttribute(PASSWD))) {
            return xml;
        }
        Document doc = SafeXml.parse(xml, what);
        Map<String, List<Element>> restored = displays(doc);
        boolean changed = false;
        for (Map.Entry<String, List<Element>> e : restored.entrySet()) {
            List<Element> from = current.getOrDefault(e.getKey(), List.of());
            for (int i = 0; i < e.getValue().size() && i < from.size(); i++) {
                Element target = e.getValue().get(i);
                if (!target.hasAttribute(PASSWD) && from.get(i).hasAttribute(PASSWD)) {
                    target.setAttribute(PASSWD, from.get(i).getAttribute(PASSWD));
                    changed = true;
                }
            }
        }
        return changed ? XmlText.write(doc) : xml;
    }

    /** Whether {@code xml} holds a secret (a {@code passwd} attribute on a display). */
    static boolean hasSecret(String xml, String what) throws SafeXml.Refused {
        return displays(SafeXml.parse(xml, what)).values().stream().flatMap(List::stream)
                .anyMatch(g -> g.hasAttribute(PASSWD));
    }

    private static Map<String, List<Element>> displays(Document doc) {
        Map<String, List<Element>> byType = new TreeMap<>();
        Element devices = SafeXml.child(doc.getDocumentElement(), "devices");
        if (devices == null) {
            return byType;
        }
        for (Element g : SafeXml.children(devices, "graphics")) {
            byType.computeIfAbsent(g.getAttribute("type"), t -> new ArrayList<>()).add(g);
        }
        return byType;
    }
}
