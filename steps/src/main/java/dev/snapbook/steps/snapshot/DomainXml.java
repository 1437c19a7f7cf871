package dev.snapbook.steps.snapshot;

import dev.snapbook.steps.xml.SafeXml;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * DOM edits of libvirt domain XML for the snapshot steps (package-private; DESIGN.md safety rule 3: never
 * text substitution). {@link #withDiskSource} is the "swap one disk's source" edit snapshot.revert and the
 * undo of snapshot.create need.
 */
final class DomainXml {

    private DomainXml() {
    }

    /**
     * {@code domainXml} with the {@code <source file>} of the disk {@code target} set to {@code file} and its
     * {@code <driver type>} to {@code format}; nothing else changes. The disk's {@code <backingStore>} is
     * removed, since it described the old file's chain (libvirt probes the new one).
     *
     * @throws SafeXml.Refused when the XML cannot be parsed or has no file disk {@code target}
     */
    static String withDiskSource(String domainXml, String target, String file, String format, String what)
            throws SafeXml.Refused {
        Document doc = SafeXml.parse(domainXml, what);
        Element disk = disk(doc, target);
        if (disk == null) {
            throw new SafeXml.Refused(what + " has no disk with target dev '" + target + "'", null);
        }
        String type = SafeXml.attr(disk, "type");
        if (type != null && !type.equals("file")) {
            throw new SafeXml.Refused(what + ": disk " + target + " is of type '" + type + "', not a file", null);
        }
        Element source = SafeXml.child(disk, "source");
        if (source == null) {
            source = doc.createElement("source");
            disk.insertBefore(source, SafeXml.child(disk, "target"));
        }
        source.setAttribute("file", file);
        Element driver = SafeXml.child(disk, "driver");
        if (driver == null) {
            driver = doc.createElement("driver");
            driver.setAttribute("name", "qemu");
            disk.insertBefore(driver, source);
        }
        driver.setAttribute("type", format);
        for (Element backing : SafeXml.children(disk, "backingStore")) {
            disk.removeChild(backing);
        }
        return dev.snapbook.steps.xml.XmlText.write(doc);
    }

    /** The {@code <disk>} element whose {@code <target dev>} is {@code target}, or null. */
    static Element disk(Document doc, String target) {
        Element devices = SafeXml.child(doc.getDocumentElement(), "devices");
        if (devices == null) {
            return null;
        }
        for (Element disk : SafeXml.children(devices, "disk")) {
            if (target.equals(SafeXml.attr(SafeXml.child(disk, "target"), "dev"))) {
                return disk;
            }
        }
        return null;
    }

    /** Whether the domain has a virtio-serial channel to the QEMU guest agent. */
    static boolean hasGuestAgentChannel(Document doc) {
        return guestAgentTarget(doc) != null;
    }

    /**
     * The {@code state} libvirt gives the guest agent channel's target in a live XML ({@code connected} once an
     * agent in the guest opened it, else {@code disconnected}), or null: no channel, or no state reported.
     */
    static String guestAgentState(Document doc) {
        Element target = guestAgentTarget(doc);
        String state = target == null ? null : SafeXml.attr(target, "state");
        return state == null || state.isEmpty() ? null : state;
    }

    private static Element guestAgentTarget(Document doc) {
        Element devices = SafeXml.child(doc.getDocumentElement(), "devices");
        if (devices == null) {
            return null;
        }
        for (Element channel : SafeXml.children(devices, "channel")) {
            Element target = SafeXml.child(channel, "target");
            if ("unix".equals(SafeXml.attr(channel, "type")) && "virtio".equals(SafeXml.attr(target, "type"))
                    && "org.qemu.guest_agent.0".equals(SafeXml.attr(target, "name"))) {
                return target;
            }
        }
        return null;
    }

}
