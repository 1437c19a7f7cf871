package dev.snapbook.steps.snapshot;

import dev.snapbook.steps.xml.SafeXml;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

import java.util.Collection;

/**
 * DOM edit of the domain a snapshot records ({@code <domain>}, and {@code <inactiveDomain>} when there is one):
 * the edit a metadata-only deletion of an external snapshot makes to its children, done by snapbook where libvirt
 * does not make it itself ({@link dev.snapbook.steps.libvirt.LibvirtRelease#metadataDeleteMovesDomainToChildren()}).
 * Package-private; DESIGN.md safety rule 3: never text substitution.
 */
final class SnapshotRecords {

    private SnapshotRecords() {
    }

    /**
     * {@code childXml} with, for each disk in {@code targets}, the {@code <source file>} and {@code <driver type>}
     * that {@code parentXml}'s recorded domain has for that disk: the child's state is now read from its parent's
     * state files. The disk's {@code <backingStore>} is removed (it described the old file's chain). Nothing else
     * changes.
     *
     * @throws SafeXml.Refused when either document cannot be parsed, records no domain, or lacks a file disk of
     *                         {@code targets}
     */
    static String withDisksOf(String childXml, String parentXml, Collection<String> targets, String what)
            throws SafeXml.Refused {
        Document child = SafeXml.parse(childXml, what);
        Document parent = SafeXml.parse(parentXml, what + " (its parent's record)");
        Element parentDomain = SafeXml.child(parent.getDocumentElement(), "domain");
        if (parentDomain == null) {
            throw new SafeXml.Refused(what + ": its parent's record has no <domain>", null);
        }
        boolean edited = false;
        for (String element : new String[] {"domain", "inactiveDomain"}) {
            Element domain = SafeXml.child(child.getDocumentElement(), element);
            if (domain == null) {
                continue;
            }
            Element parentOwn = SafeXml.child(parent.getDocumentElement(), element);
            Element from = parentOwn != null ? parentOwn : parentDomain;
            for (String target : targets) {
                Element to = fileDisk(domain, target, what + " <" + element + ">");
                Element source = fileDisk(from, target, what + " (its parent's <" + element + ">)");
                copy(child, to, source);
            }
            edited = true;
        }
        if (!edited) {
            throw new SafeXml.Refused(what + " records no <domain>", null);
        }
        return dev.snapbook.steps.xml.XmlText.write(child);
    }

    private static Element fileDisk(Element domain, String target, String what) throws SafeXml.Refused {
        Element devices = SafeXml.child(domain, "devices");
        if (devices != null) {
            for (Element disk : SafeXml.children(devices, "disk")) {
                if (target.equals(SafeXml.attr(SafeXml.child(disk, "target"), "dev"))) {
                    String type = SafeXml.attr(disk, "type");
                    if (type != null && !type.equals("file")) {
                        throw new SafeXml.Refused(what + ": disk " + target + " is of type '" + type + "', not a file",
                                null);
                    }
                    if (SafeXml.attr(SafeXml.child(disk, "source"), "file") == null) {
                        throw new SafeXml.Refused(what + ": disk " + target + " has no source file", null);
                    }
                    return disk;
                }
            }
        }
        throw new SafeXml.Refused(what + " has no disk with target dev '" + target + "'", null);
    }

    /** {@code to}'s source file and driver type set to {@code from}'s; its backing chain description removed. */
    private static void copy(Document doc, Element to, Element from) {
        SafeXml.child(to, "source").setAttribute("file", SafeXml.attr(SafeXml.child(from, "source"), "file"));
        String format = SafeXml.attr(SafeXml.child(from, "driver"), "type");
        if (format != null) {
            Element driver = SafeXml.child(to, "driver");
            if (driver == null) {
                driver = doc.createElement("driver");
                driver.setAttribute("name", "qemu");
                to.insertBefore(driver, SafeXml.child(to, "source"));
            }
            driver.setAttribute("type", format);
        }
        for (Element backing : SafeXml.children(to, "backingStore")) {
            to.removeChild(backing);
        }
    }
}
