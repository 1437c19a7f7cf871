package dev.snapbook.steps.lab;

import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.steps.exec.Command;
import dev.snapbook.steps.libvirt.Libvirt;
import dev.snapbook.steps.libvirt.XmlView;
import dev.snapbook.steps.xml.SafeXml;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/**
 * What every throwaway lab VM shares, whether the {@code snapbook lab} command or a test made it: a
 * guest-less domain definition, KVM-or-TCG detection, writing data as a guest would through the QEMU
 * monitor, and reading it back read-only with {@code qemu-io}.
 */
public final class LabMachine {

    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(60);

    private LabMachine() {
    }

    /**
     * The XML of a guest-less domain with one virtio disk {@code vda}; {@code description} marks whose it
     * is (lab VMs are only ever removed when it matches).
     */
    public static String domainXml(String name, Path disk, String format, String description) {
        Document doc = SafeXml.newDocument();
        Element domain = SafeXml.append(doc, doc, "domain");
        domain.setAttribute("type", virtType());
        SafeXml.append(doc, domain, "name").setTextContent(name);
        SafeXml.append(doc, domain, "description").setTextContent(description);
        Element memory = SafeXml.append(doc, domain, "memory");
        memory.setAttribute("unit", "MiB");
        memory.setTextContent("64");
        SafeXml.append(doc, domain, "vcpu").setTextContent("1");
        Element os = SafeXml.append(doc, domain, "os");
        Element type = SafeXml.append(doc, os, "type");
        type.setAttribute("arch", "x86_64");
        type.setAttribute("machine", "pc");
        type.setTextContent("hvm");
        SafeXml.append(doc, domain, "on_poweroff").setTextContent("destroy");
        SafeXml.append(doc, domain, "on_reboot").setTextContent("destroy");
        SafeXml.append(doc, domain, "on_crash").setTextContent("destroy");
        Element devices = SafeXml.append(doc, domain, "devices");
        Element d = SafeXml.append(doc, devices, "disk");
        d.setAttribute("type", "file");
        d.setAttribute("device", "disk");
        Element driver = SafeXml.append(doc, d, "driver");
        driver.setAttribute("name", "qemu");
        driver.setAttribute("type", format);
        SafeXml.append(doc, d, "source").setAttribute("file", disk.toString());
        Element target = SafeXml.append(doc, d, "target");
        target.setAttribute("dev", "vda");
        target.setAttribute("bus", "virtio");
        SafeXml.append(doc, devices, "memballoon").setAttribute("model", "none");
        return dev.snapbook.steps.xml.XmlText.write(doc);
    }

    /**
     * {@code kvm} when QEMU (user libvirt-qemu, group kvm) can open /dev/kvm read-write, else {@code qemu}
     * (TCG). The system property {@code snapbook.lab.virt} overrides.
     */
    public static String virtType() {
        String forced = System.getProperty("snapbook.lab.virt");
        if (forced != null && !forced.isBlank()) {
            return forced;
        }
        try {
            PosixFileAttributes a = Files.readAttributes(Path.of("/dev/kvm"), PosixFileAttributes.class);
            Set<PosixFilePermission> p = a.permissions();
            boolean others = p.contains(PosixFilePermission.OTHERS_READ) && p.contains(PosixFilePermission.OTHERS_WRITE);
            boolean group = a.group().getName().equals("kvm") && p.contains(PosixFilePermission.GROUP_READ)
                    && p.contains(PosixFilePermission.GROUP_WRITE);
            return others || group ? "kvm" : "qemu";
        } catch (IOException | UnsupportedOperationException e) {
            return "qemu";
        }
    }

    /**
     * Writes {@code pattern} (a byte) over {@code length} bytes at {@code offset} of disk {@code target}
     * of the running domain, as its guest would, through QEMU's {@code qemu-io} monitor command on the
     * disk's virtio device, then flushes like a guest's fsync (without it QEMU may keep new qcow2
     * metadata in its cache and a reader outside QEMU sees the old data). Offsets and lengths use
     * qemu-io's syntax: {@code 1M}, {@code 4k}, {@code 512}.
     */
    public static void writePattern(Libvirt libvirt, String domain, String target, int pattern, String offset,
                                    String length) throws StepFailure {
        checkSize(offset);
        checkSize(length);
        String device = qdevPath(libvirt, domain, target);
        monitorQemuIo(libvirt, domain, device, "write -P 0x" + Integer.toHexString(pattern & 0xff) + " " + offset
                + " " + length);
        monitorQemuIo(libvirt, domain, device, "flush");
    }

    /**
     * Whether {@code image} holds {@code pattern} over the range, read-only and without QEMU's lock
     * ({@code qemu-io -r -U -c "read -P ..."}, exit 0 = present); reads through the backing chain.
     */
    public static boolean hasPattern(Path image, int pattern, String offset, String length) throws IOException {
        checkSize(offset);
        checkSize(length);
        Command.Result r = Command.of("qemu-io", "-r", "-U", "-c",
                "read -P 0x" + Integer.toHexString(pattern & 0xff) + " " + offset + " " + length, image.toString())
                .run(COMMAND_TIMEOUT, l -> { });
        if (r.succeeded()) {
            return true;
        }
        if (r.stdout().contains("Pattern verification failed")) {
            return false;
        }
        throw new IllegalStateException("qemu-io could not read " + image + " (exit " + r.exitCode() + "): "
                + r.stderr().strip() + r.stdout().strip());
    }

    /** The file disk {@code target} of the domain has open now (its live XML's source). */
    public static Path activeFile(Libvirt libvirt, String domain, String target) throws StepFailure {
        Element disk = disk(libvirt, domain, target, XmlView.LIVE);
        String file = SafeXml.attr(SafeXml.child(disk, "source"), "file");
        if (file == null) {
            throw new StepFailure(domain + " disk " + target + " has no source file");
        }
        return Path.of(file);
    }

    /** Deletes {@code dir} and what is in it, without following symbolic links out of it. */
    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        List<Path> paths;
        try (Stream<Path> walk = Files.walk(dir)) {
            paths = walk.sorted(Comparator.reverseOrder()).toList();
        }
        for (Path p : paths) {
            Files.deleteIfExists(p);
        }
    }

    /** Sizes and offsets are qemu-io numbers with an optional unit; nothing else reaches the monitor. */
    private static void checkSize(String size) {
        if (!size.matches("\\d{1,12}[kKmMgG]?")) {
            throw new IllegalArgumentException("'" + size + "' is not a size like 512, 4k, 1M or 1G");
        }
    }

    private static void monitorQemuIo(Libvirt libvirt, String domain, String device, String qemuIoCommand)
            throws StepFailure {
        String out = libvirt.qemuMonitorCommandHmp(domain, "qemu-io -d " + device + " \"" + qemuIoCommand + "\"");
        String lower = out.toLowerCase(Locale.ROOT);
        if (lower.contains("error") || lower.contains("failed") || lower.contains("could not")) {
            throw new StepFailure("qemu-io '" + qemuIoCommand + "' on " + domain + " failed: " + out.strip());
        }
    }

    /** The QOM path of the virtio backend of disk {@code target}, from its alias in the live XML. */
    private static String qdevPath(Libvirt libvirt, String domain, String target) throws StepFailure {
        String alias = SafeXml.attr(SafeXml.child(disk(libvirt, domain, target, XmlView.LIVE), "alias"), "name");
        if (alias == null) {
            throw new StepFailure(domain + " has no device alias for " + target, "start the domain first");
        }
        return "/machine/peripheral/" + alias + "/virtio-backend";
    }

    private static Element disk(Libvirt libvirt, String domain, String target, XmlView view) throws StepFailure {
        try {
            Element devices = SafeXml.child(SafeXml.parse(libvirt.xmlDesc(domain, view), "XML of " + domain)
                    .getDocumentElement(), "devices");
            for (Element disk : SafeXml.children(devices, "disk")) {
                if (target.equals(SafeXml.attr(SafeXml.child(disk, "target"), "dev"))) {
                    return disk;
                }
            }
        } catch (SafeXml.Refused e) {
            throw new StepFailure(e.getMessage());
        }
        throw new StepFailure(domain + " has no disk " + target);
    }
}
