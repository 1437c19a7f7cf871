package dev.snapbook.steps.domain;

import dev.snapbook.steps.xml.SafeXml;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

/**
 * Reads the {@code <disk>} elements of a libvirt {@code <domain>} document into {@link DiskFacts}. It
 * refuses, with a message naming the document and the disk, what snapbook cannot act on safely: a disk
 * without a target, two disks with the same target, a disk type it does not know.
 */
public final class DiskReader {

    /** The {@code <disk type>} values of libvirt's schema. */
    private static final List<String> KNOWN_TYPES =
            List.of("file", "block", "dir", "network", "volume", "nvme", "vhostuser", "vhostvdpa");

    private DiskReader() {
    }

    /**
     * The disks of the domain XML {@code xml}, described as {@code what} in errors.
     *
     * @throws SafeXml.Refused when the XML is unsafe, not a domain, or has a disk snapbook cannot read
     */
    public static List<DiskFacts> read(String xml, String what) throws SafeXml.Refused {
        Document doc = SafeXml.parse(xml, what);
        Element root = doc.getDocumentElement();
        if (!root.getTagName().equals("domain")) {
            throw refused(what + " is a <" + root.getTagName() + "> document, not a <domain>");
        }
        Element devices = SafeXml.child(root, "devices");
        if (devices == null) {
            return List.of();
        }
        List<DiskFacts> disks = new ArrayList<>();
        Set<String> targets = new HashSet<>();
        int index = 0;
        for (Element disk : SafeXml.children(devices, "disk")) {
            index++;
            DiskFacts facts = disk(disk, index, what);
            if (!targets.add(facts.target())) {
                throw refused(what + ": two disks have target dev '" + facts.target()
                        + "'; libvirt requires unique targets");
            }
            disks.add(facts);
        }
        return List.copyOf(disks);
    }

    private static DiskFacts disk(Element disk, int index, String what) throws SafeXml.Refused {
        Element target = SafeXml.child(disk, "target");
        String dev = SafeXml.attr(target, "dev");
        if (dev == null || dev.isBlank()) {
            throw refused(what + ": disk #" + index + " has no <target dev='...'/>, so it cannot be named");
        }
        // libvirt's defaults when the attributes are omitted
        String type = orDefault(SafeXml.attr(disk, "type"), "file");
        String device = orDefault(SafeXml.attr(disk, "device"), "disk");
        if (!KNOWN_TYPES.contains(type)) {
            throw refused(what + ": disk " + dev + " has type '" + type
                    + "', which snapbook does not know how to read");
        }
        Element source = SafeXml.child(disk, "source");
        String src = source == null ? null : switch (type) {
            case "file" -> SafeXml.attr(source, "file");
            case "block" -> SafeXml.attr(source, "dev");
            case "dir" -> SafeXml.attr(source, "dir");
            case "network" -> network(source);
            case "volume" -> SafeXml.attr(source, "pool") + "/" + SafeXml.attr(source, "volume");
            case "nvme" -> nvme(source);
            case "vhostuser" -> SafeXml.attr(source, "path");
            case "vhostvdpa" -> SafeXml.attr(source, "dev");
            default -> throw new IllegalStateException("unreachable: " + type);
        };
        String format = SafeXml.attr(SafeXml.child(disk, "driver"), "type");
        String bus = SafeXml.attr(target, "bus");
        return new DiskFacts(dev, device, type, src, format, bus);
    }

    /** {@code protocol://host[:port]/name}, {@code protocol+unix://socket/name} or {@code protocol:name}. */
    private static String network(Element source) {
        String protocol = orDefault(SafeXml.attr(source, "protocol"), "unknown");
        String name = SafeXml.attr(source, "name");
        Element host = SafeXml.child(source, "host");
        String path = name == null ? "" : "/" + name;
        if (host != null && SafeXml.attr(host, "socket") != null) {
            return protocol + "+unix://" + SafeXml.attr(host, "socket") + path;
        }
        if (host != null && SafeXml.attr(host, "name") != null) {
            String port = SafeXml.attr(host, "port");
            return protocol + "://" + SafeXml.attr(host, "name") + (port == null ? "" : ":" + port) + path;
        }
        return protocol + ":" + (name == null ? "" : name);
    }

    /** {@code nvme://domain:bus:slot.function/namespace}, the PCI address of the controller. */
    private static String nvme(Element source) {
        Element address = SafeXml.child(source, "address");
        String pci = address == null ? "?" : SafeXml.attr(address, "domain") + ":" + SafeXml.attr(address, "bus")
                + ":" + SafeXml.attr(address, "slot") + "." + SafeXml.attr(address, "function");
        return "nvme://" + pci + "/" + orDefault(SafeXml.attr(source, "namespace"), "1");
    }

    private static String orDefault(String value, String fallback) {
        return value == null || value.isBlank() ? fallback : value;
    }

    private static SafeXml.Refused refused(String message) {
        return new SafeXml.Refused(message, null);
    }
}
