package dev.snapbook.steps.snapshot;

import dev.snapbook.steps.xml.SafeXml;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

/**
 * Reads a libvirt {@code <domainsnapshot>} document into {@link SnapshotFacts}, through {@link SafeXml}. It
 * refuses, naming the document and the disk, what snapbook cannot act on safely: a snapshot without a name,
 * a disk without a name or listed twice, an unknown snapshot mode, an external disk that is not a plain
 * file (snapbook creates and reverts file overlays only).
 */
public final class SnapshotReader {

    private static final List<String> MODES = List.of("internal", "external", "no", "manual");

    private SnapshotReader() {
    }

    /** The facts of the snapshot XML {@code xml}, described as {@code what} in errors. */
    public static SnapshotFacts read(String xml, String what) throws SafeXml.Refused {
        return read(SafeXml.parse(xml, what), what);
    }

    static SnapshotFacts read(Document doc, String what) throws SafeXml.Refused {
        Element root = doc.getDocumentElement();
        if (!root.getTagName().equals("domainsnapshot")) {
            throw refused(what + " is a <" + root.getTagName() + "> document, not a <domainsnapshot>");
        }
        String name = text(root, "name");
        if (name == null || name.isBlank()) {
            throw refused(what + " has no <name>; snapbook only reads snapshots libvirt has named");
        }
        Element parentEl = SafeXml.child(root, "parent");
        String parent = parentEl == null ? null : text(parentEl, "name");
        Element memoryEl = SafeXml.child(root, "memory");
        String memoryMode = SafeXml.attr(memoryEl, "snapshot");
        Map<String, String> active = activeFiles(root, what);
        List<SnapshotDisk> disks = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        Element disksEl = SafeXml.child(root, "disks");
        if (disksEl != null) {
            int index = 0;
            for (Element disk : SafeXml.children(disksEl, "disk")) {
                index++;
                SnapshotDisk d = disk(disk, index, what, active);
                if (!seen.add(d.disk())) {
                    throw refused(what + ": disk " + d.disk() + " is listed twice; libvirt requires one entry per"
                            + " disk");
                }
                disks.add(d);
            }
        }
        String state = text(root, "state");
        boolean memory = "internal".equals(memoryMode) || "external".equals(memoryMode)
                || (memoryMode == null && "running".equals(state) && disks.stream()
                .noneMatch(d -> d.snapshot().equals("external")));
        String memoryFile = "external".equals(memoryMode) ? SafeXml.attr(memoryEl, "file") : null;
        return new SnapshotFacts(name, parent, text(root, "description"), state,
                location(disks, memoryMode), memory, disks, active, memoryFile);
    }

    private static SnapshotDisk disk(Element disk, int index, String what, Map<String, String> active)
            throws SafeXml.Refused {
        String name = SafeXml.attr(disk, "name");
        if (name == null || name.isBlank()) {
            throw refused(what + ": disk #" + index + " has no name");
        }
        // libvirt accepts a disk's source path as its name; use the target when the embedded domain says which.
        for (Map.Entry<String, String> e : active.entrySet()) {
            if (name.equals(e.getValue())) {
                name = e.getKey();
            }
        }
        Element source = SafeXml.child(disk, "source");
        Element driver = SafeXml.child(disk, "driver");
        String mode = SafeXml.attr(disk, "snapshot");
        if (mode == null) {
            // libvirt's default: external when an overlay is named, else the domain's default (internal).
            mode = source != null || driver != null ? "external" : "internal";
        }
        if (!MODES.contains(mode)) {
            throw refused(what + ": disk " + name + " has snapshot mode '" + mode + "'; libvirt knows "
                    + String.join(", ", MODES));
        }
        if (!mode.equals("external")) {
            return new SnapshotDisk(name, mode, null, null);
        }
        String type = SafeXml.attr(disk, "type");
        if (type != null && !type.equals("file")) {
            throw refused(what + ": disk " + name + " is an external snapshot on a '" + type + "' source;"
                    + " snapbook supports external snapshots into files only");
        }
        String file = SafeXml.attr(source, "file");
        if (source != null && SafeXml.child(source, "seclabel") != null) {
            throw refused(what + ": disk " + name + " has a <seclabel> inside <source>, which libvirt rejects for"
                    + " snapshot overlays");
        }
        if (source != null && SafeXml.attr(source, "startupPolicy") != null) {
            throw refused(what + ": disk " + name + " has a startupPolicy on its overlay, which libvirt rejects"
                    + " for snapshot overlays");
        }
        return new SnapshotDisk(name, mode, file, SafeXml.attr(driver, "type"));
    }

    /** The disk sources of the {@code <domain>} embedded in the snapshot, by target. */
    private static Map<String, String> activeFiles(Element root, String what) throws SafeXml.Refused {
        Map<String, String> files = new LinkedHashMap<>();
        Element domain = SafeXml.child(root, "domain");
        Element devices = domain == null ? null : SafeXml.child(domain, "devices");
        if (devices == null) {
            // libvirt also stores the domain under <inactiveDomain> for offline snapshots; <domain> is enough.
            return files;
        }
        for (Element disk : SafeXml.children(devices, "disk")) {
            String dev = SafeXml.attr(SafeXml.child(disk, "target"), "dev");
            Element source = SafeXml.child(disk, "source");
            if (dev == null || source == null) {
                continue;
            }
            String type = SafeXml.attr(disk, "type");
            String file = type == null || type.equals("file") ? SafeXml.attr(source, "file")
                    : type.equals("block") ? SafeXml.attr(source, "dev") : null;
            if (file != null) {
                if (files.put(dev, file) != null) {
                    throw refused(what + ": its domain has two disks with target dev '" + dev + "'");
                }
            }
        }
        return files;
    }

    private static String location(List<SnapshotDisk> disks, String memoryMode) {
        Set<String> modes = new HashSet<>();
        disks.forEach(d -> {
            if (d.snapshot().equals("internal") || d.snapshot().equals("external")) {
                modes.add(d.snapshot());
            }
        });
        if ("internal".equals(memoryMode) || "external".equals(memoryMode)) {
            modes.add(memoryMode);
        }
        if (modes.isEmpty()) {
            return disks.isEmpty() && !"no".equals(memoryMode) ? "internal" : "none";
        }
        return modes.size() > 1 ? "mixed" : modes.iterator().next();
    }

    private static String text(Element parent, String name) {
        Element e = SafeXml.child(parent, name);
        return e == null ? null : e.getTextContent().strip();
    }

    private static SafeXml.Refused refused(String message) {
        return new SafeXml.Refused(message, null);
    }
}
