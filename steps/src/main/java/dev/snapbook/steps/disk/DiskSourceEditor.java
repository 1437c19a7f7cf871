package dev.snapbook.steps.disk;

import dev.snapbook.steps.xml.SafeXml;
import dev.snapbook.steps.xml.XmlText;
import java.util.ArrayList;
import java.util.List;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * Points one file disk of a libvirt {@code <domain>} document at another file and format, as a DOM edit
 * (DESIGN.md, safety rule 3). The edit changes exactly: the disk's {@code <source file>}, its
 * {@code <driver type>} (adding {@code <driver type='...'/>} before {@code <source>} when the disk has no
 * driver element), and it removes the disk's {@code <backingStore>} elements, which describe the OLD file's
 * backing chain (libvirt uses a chain given in the XML instead of probing, so a stale one would be wrong);
 * libvirt reads the new file's chain from the image itself. Nothing else in the document changes.
 *
 * <p>Refused, with a message naming the disk and the reason: a disk that does not exist; a disk that is not
 * {@code type='file'} (block, network, volume, dir, nvme, vhost-user, vhost-vdpa); a {@code lun} device; an
 * empty drive; a source with children other than {@code <seclabel>} ({@code <slices>}, {@code <encryption>},
 * {@code <dataStore>}, ... describe the old file's content); a disk with {@code <encryption>} or a
 * {@code <mirror>} (a block job is running on it).
 */
public final class DiskSourceEditor {

    /** What an edit changed. */
    public record Change(String target, String oldFile, String oldFormat, String newFile, String newFormat,
                         int backingStoresRemoved) {

        /** One line for a plan: {@code disk vda: <source file> a → b, <driver type> qcow2 → raw}. */
        public String describe() {
            return "disk " + target + ": <source file> " + oldFile + " → " + newFile + ", <driver type> "
                    + (oldFormat == null ? "(none)" : oldFormat) + " → " + newFormat
                    + (backingStoresRemoved > 0 ? ", drop the old file's <backingStore> chain" : "");
        }
    }

    private DiskSourceEditor() {
    }

    /**
     * Parses {@code xml} (described as {@code what} in errors), edits disk {@code target} and writes the
     * document back.
     */
    public static String swap(String xml, String what, String target, String file, String format)
            throws SafeXml.Refused {
        Document doc = SafeXml.parse(xml, what);
        edit(doc, what, target, file, format);
        return XmlText.write(doc);
    }

    /** Edits {@code doc} in place; returns what changed. */
    public static Change edit(Document doc, String what, String target, String file, String format)
            throws SafeXml.Refused {
        Element disk = disk(doc, what, target);
        Element source = SafeXml.child(disk, "source");
        String oldFile = SafeXml.attr(source, "file");
        Element driver = SafeXml.child(disk, "driver");
        String oldFormat = SafeXml.attr(driver, "type");
        source.setAttribute("file", file);
        if (driver == null) {
            driver = doc.createElement("driver");
            disk.insertBefore(driver, source);
            if (isBlank(driver.getPreviousSibling())) {
                // keep the indentation: the new element gets the same line break and indent as <source>
                disk.insertBefore(driver.getPreviousSibling().cloneNode(false), source);
            }
        }
        driver.setAttribute("type", format);
        List<Element> stores = SafeXml.children(disk, "backingStore");
        for (Element store : stores) {
            if (isBlank(store.getPreviousSibling())) {
                disk.removeChild(store.getPreviousSibling()); // its indentation, so no blank line remains
            }
            disk.removeChild(store);
        }
        return new Change(target, oldFile, oldFormat, file, format, stores.size());
    }

    /** Disk {@code target} of the document, checked to be a file disk this editor can point elsewhere. */
    static Element disk(Document doc, String what, String target) throws SafeXml.Refused {
        Element root = doc.getDocumentElement();
        if (!root.getTagName().equals("domain")) {
            throw refused(what + " is a <" + root.getTagName() + "> document, not a <domain>");
        }
        Element devices = SafeXml.child(root, "devices");
        List<Element> found = new ArrayList<>();
        List<String> targets = new ArrayList<>();
        for (Element disk : devices == null ? List.<Element>of() : SafeXml.children(devices, "disk")) {
            String dev = SafeXml.attr(SafeXml.child(disk, "target"), "dev");
            targets.add(dev);
            if (target.equals(dev)) {
                found.add(disk);
            }
        }
        if (found.isEmpty()) {
            throw refused(what + " has no disk " + target + " (its disks: " + targets + ")");
        }
        if (found.size() > 1) {
            throw refused(what + " has " + found.size() + " disks with target " + target + "; libvirt requires"
                    + " unique targets, so which one to change is ambiguous");
        }
        Element disk = found.get(0);
        String name = "disk " + target + " of " + what;
        String type = SafeXml.attr(disk, "type");
        if (type != null && !type.equals("file")) {
            throw refused(name + " is a '" + type + "' disk; only file disks (type='file') can be pointed at"
                    + " another file");
        }
        if ("lun".equals(SafeXml.attr(disk, "device"))) {
            throw refused(name + " is a SCSI passthrough lun, which needs a block device, not a file");
        }
        Element source = SafeXml.child(disk, "source");
        if (source == null || SafeXml.attr(source, "file") == null || SafeXml.attr(source, "file").isBlank()) {
            throw refused(name + " is an empty drive (no <source file>); nothing to swap");
        }
        if (SafeXml.children(disk, "source").size() > 1) {
            throw refused(name + " has more than one <source>");
        }
        for (Node n = source.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && !e.getTagName().equals("seclabel")) {
                throw refused(name + " has <" + e.getTagName() + "> in its <source>, which describes the old"
                        + " file's contents; swapping the file under it is not safe");
            }
        }
        if (SafeXml.child(disk, "encryption") != null) {
            throw refused(name + " is encrypted (<encryption>); the new file would need the same secret");
        }
        if (SafeXml.child(disk, "mirror") != null) {
            throw refused(name + " has a block job running (<mirror>); finish or abort it first");
        }
        return disk;
    }

    private static boolean isBlank(Node node) {
        return node != null && node.getNodeType() == Node.TEXT_NODE && node.getNodeValue().isBlank();
    }

    private static SafeXml.Refused refused(String message) {
        return new SafeXml.Refused(message, null);
    }
}
