package dev.snapbook.steps.lab;

import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.steps.libvirt.Libvirt;
import dev.snapbook.steps.libvirt.XmlView;
import dev.snapbook.steps.qemu.QemuImg;
import dev.snapbook.steps.xml.SafeXml;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;

/**
 * Throwaway lab VMs to practise on: guest-less domains named {@code snapbook-lab-NAME} with small images
 * in {@code LAB_DIR/NAME}. Only domains carrying the lab mark in their description, and only directories
 * under the lab directory, are ever removed.
 */
public final class Lab {

    /** Every lab domain's name starts with this. */
    public static final String PREFIX = "snapbook-lab-";
    static final String MARK = "snapbook lab VM; 'snapbook lab down' removes it with its files";

    /** A lab VM. */
    public record Machine(String name, String domain, Path dir, Path disk, String format) {
    }

    private final Libvirt libvirt;
    private final Path root;

    public Lab(Libvirt libvirt, Path root) {
        this.libvirt = libvirt;
        this.root = root;
    }

    /** The lab directory: {@code $SNAPBOOK_LAB_DIR}, else {@code /var/lib/snapbook/lab}. */
    public static Path defaultRoot() {
        String env = System.getenv("SNAPBOOK_LAB_DIR");
        return env != null && !env.isBlank() ? Path.of(env) : Path.of("/var/lib/snapbook/lab");
    }

    /**
     * Defines and starts lab VM {@code name} with a {@code format} disk of {@code size} (qemu-img's
     * syntax, e.g. {@code 256M}). An existing lab VM of that name is started if needed and returned.
     */
    public Machine up(String name, String format, String size) throws StepFailure, IOException {
        checkName(name);
        if (!format.equals("qcow2") && !format.equals("raw")) {
            throw new IllegalArgumentException("--format must be qcow2 or raw, not '" + format + "'");
        }
        String domain = PREFIX + name;
        Path dir = root.resolve(name);
        if (libvirt.exists(domain)) {
            requireLab(domain);
            Path disk = LabMachine.activeFile(libvirt, domain, "vda");
            if (!libvirt.state(domain).isActive()) {
                libvirt.create(domain);
            }
            return new Machine(name, domain, dir, disk, format);
        }
        createDirectories(dir);
        Path disk = dir.resolve("vda." + format);
        if (Files.exists(disk)) {
            throw new IllegalStateException(disk + " exists but no lab domain uses it; remove it with "
                    + "'snapbook lab down " + name + "' first");
        }
        new QemuImg(line -> { }).create(disk, format, parseSize(size));
        libvirt.defineXml(LabMachine.domainXml(domain, disk, format, MARK));
        libvirt.create(domain);
        return new Machine(name, domain, dir, disk, format);
    }

    /** Removes lab VM {@code name}: its domain (with snapshot metadata) and its directory. */
    public void down(String name) throws StepFailure, IOException {
        checkName(name);
        String domain = PREFIX + name;
        if (libvirt.exists(domain)) {
            requireLab(domain);
            if (libvirt.state(domain).isActive()) {
                libvirt.destroy(domain);
            }
            libvirt.undefine(domain, EnumSet.of(Libvirt.UndefineOption.SNAPSHOTS_METADATA,
                    Libvirt.UndefineOption.MANAGED_SAVE));
        }
        LabMachine.deleteTree(root.resolve(name));
    }

    /** Removes every lab VM and every lab directory; returns the names removed. */
    public List<String> downAll() throws StepFailure, IOException {
        List<String> names = new ArrayList<>();
        for (String domain : libvirt.domainNames()) {
            if (domain.startsWith(PREFIX) && isLab(domain)) {
                names.add(domain.substring(PREFIX.length()));
            }
        }
        if (Files.isDirectory(root)) {
            try (var dirs = Files.list(root)) {
                dirs.filter(Files::isDirectory).map(p -> p.getFileName().toString())
                        .filter(n -> n.matches(NAME) && !names.contains(n)).forEach(names::add);
            }
        }
        for (String n : names) {
            down(n);
        }
        return names;
    }

    /** The lab VMs defined now. */
    public List<String> list() throws StepFailure {
        List<String> out = new ArrayList<>();
        for (String domain : libvirt.domainNames()) {
            if (domain.startsWith(PREFIX) && isLab(domain)) {
                out.add(domain.substring(PREFIX.length()) + "  " + libvirt.state(domain).label()
                        + "  " + LabMachine.activeFile(libvirt, domain, "vda"));
            }
        }
        return out;
    }

    /** Writes a pattern into the running lab VM's disk, as its guest would. */
    public void write(String name, String disk, int pattern, String offset, String length) throws StepFailure {
        checkName(name);
        requireLab(PREFIX + name);
        LabMachine.writePattern(libvirt, PREFIX + name, disk, pattern, offset, length);
    }

    /** Whether the pattern is visible in the lab VM's disk now (through its active file's chain). */
    public boolean read(String name, String disk, int pattern, String offset, String length)
            throws StepFailure, IOException {
        checkName(name);
        requireLab(PREFIX + name);
        return LabMachine.hasPattern(LabMachine.activeFile(libvirt, PREFIX + name, disk), pattern, offset, length);
    }

    private static final String NAME = "[a-z0-9][a-z0-9-]{0,39}";

    private static void checkName(String name) {
        if (!name.matches(NAME)) {
            throw new IllegalArgumentException("a lab VM name is 1 to 40 lower-case letters, digits and '-', not '"
                    + name + "'");
        }
    }

    private void requireLab(String domain) throws StepFailure {
        if (!isLab(domain)) {
            throw new StepFailure("domain " + domain + " exists but is not a snapbook lab VM; not touching it",
                    "choose another lab name");
        }
    }

    private boolean isLab(String domain) throws StepFailure {
        try {
            var doc = SafeXml.parse(libvirt.xmlDesc(domain, XmlView.INACTIVE), "XML of " + domain);
            var description = SafeXml.child(doc.getDocumentElement(), "description");
            return description != null && MARK.equals(description.getTextContent());
        } catch (SafeXml.Refused e) {
            return false;
        }
    }

    private static void createDirectories(Path dir) throws IOException {
        Path p = dir;
        List<Path> missing = new ArrayList<>();
        while (p != null && !Files.exists(p)) {
            missing.add(0, p);
            p = p.getParent();
        }
        for (Path m : missing) {
            Files.createDirectory(m);
            // QEMU runs as libvirt-qemu under qemu:///system and must reach the images
            Files.setPosixFilePermissions(m, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    static long parseSize(String size) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d{1,9})([KMG]?)").matcher(size.strip().toUpperCase());
        if (!m.matches()) {
            throw new IllegalArgumentException("size '" + size + "' is not like 64M or 1G");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "K" -> n << 10;
            case "M" -> n << 20;
            case "G" -> n << 30;
            default -> n;
        };
    }
}
