package dev.snapbook.steps.lab;

import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.steps.exec.Command;
import dev.snapbook.steps.libvirt.Libvirt;
import dev.snapbook.steps.libvirt.PowerState;
import dev.snapbook.steps.libvirt.XmlView;
import dev.snapbook.steps.qemu.QemuImg;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A throw-away libvirt domain for tests: a persistent domain {@code snapbook-test-<random>} with no guest OS,
 * one 64 MiB qcow2 disk {@code vda} (virtio) in its own directory under {@code /var/tmp}, and no network.
 * {@link #close()} destroys and undefines the domain (with its snapshot metadata) and deletes the directory,
 * and touches nothing else: it only acts on the domain name and directory it created itself.
 *
 * <pre>{@code
 * try (LabVm vm = LabVm.create()) {
 *     vm.start();
 *     vm.writePattern(0x22, "1M", "1M");           // as the guest would, through the QEMU monitor
 *     assert vm.hasPattern(vm.disk(), 0x22, "1M", "1M");
 * }
 * }</pre>
 *
 * <p>The directory is mode 0755 under {@code /var/tmp} (not a JUnit {@code @TempDir}, whose 0700 parent
 * would stop QEMU, which {@code qemu:///system} runs as {@code libvirt-qemu}); libvirt's dynamic ownership
 * chowns the images to that user while the domain runs. KVM is used when QEMU can open {@code /dev/kvm},
 * else TCG; {@code -Dsnapbook.lab.virt=qemu|kvm} overrides.
 */
public final class LabVm implements AutoCloseable {

    /** The connection every lab VM lives on. */
    public static final String URI = "qemu:///system";
    private static final String NAME_PREFIX = "snapbook-test-";
    private static String unavailable;
    private static boolean probed;

    private final String name;
    private final Path dir;
    private final Path disk;
    private final Libvirt libvirt;
    private final QemuImg qemuImg;
    private boolean defined;
    private boolean closed;

    private final String format;

    private LabVm(String name, Path dir, Libvirt libvirt, String format) {
        this.name = name;
        this.dir = dir;
        this.format = format;
        this.disk = dir.resolve("vda." + format);
        this.libvirt = libvirt;
        this.qemuImg = new QemuImg(line -> { });
    }

    /**
     * Why lab VMs cannot run here ({@code virsh -c qemu:///system version} failed, with its output), or null
     * when they can. Tests use it to skip with that message.
     */
    public static synchronized String unavailableReason() {
        if (!probed) {
            probed = true;
            try {
                Command.Result r = Command.of("virsh", "-c", URI, "version").run(Duration.ofSeconds(30), l -> { });
                if (!r.succeeded()) {
                    unavailable = "libvirt is not available: virsh -c " + URI + " version failed: "
                            + r.stderr().strip();
                }
            } catch (IOException e) {
                unavailable = "libvirt is not available: cannot run virsh: " + e.getMessage();
            }
        }
        return unavailable;
    }

    public static boolean available() {
        return unavailableReason() == null;
    }

    /** Creates the directory and disk and defines the domain (shut off). Cleans up after itself on failure. */
    public static LabVm create() throws StepFailure, IOException {
        return create("qcow2");
    }

    /** Like {@link #create()}, with the disk {@code vda.FORMAT} in {@code format} ({@code qcow2} or {@code raw}). */
    public static LabVm create(String format) throws StepFailure, IOException {
        return create(format, "");
    }

    /**
     * Like {@link #create(String)}, the domain named {@code snapbook-test-HEX-SUFFIX} (a long or non-ASCII name
     * for the specs of names); still under the prefix that cleanup and CI's leftover check look for.
     */
    public static LabVm create(String format, String suffix) throws StepFailure, IOException {
        String reason = unavailableReason();
        if (reason != null) {
            throw new IllegalStateException(reason);
        }
        byte[] random = new byte[4];
        new SecureRandom().nextBytes(random);
        String name = NAME_PREFIX + HexFormat.of().formatHex(random) + (suffix.isEmpty() ? "" : "-" + suffix);
        Path dir = Files.createTempDirectory(Path.of("/var/tmp"), NAME_PREFIX);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Libvirt libvirt;
        try {
            libvirt = Libvirt.open(URI, line -> { });
        } catch (StepFailure e) {
            deleteTree(dir);
            throw e;
        }
        LabVm vm = new LabVm(name, dir, libvirt, format);
        try {
            vm.qemuImg.create(vm.disk, format, 64L << 20);
            if (libvirt.exists(name)) {
                // Never redefine someone else's domain, however unlikely the name clash.
                throw new IllegalStateException("a domain named " + name + " already exists; not touching it");
            }
            String defined = libvirt.defineXml(vm.domainXml());
            vm.defined = true;
            if (!defined.equals(name)) {
                throw new IllegalStateException("libvirt defined " + defined + " instead of " + name);
            }
            return vm;
        } catch (RuntimeException | StepFailure e) {
            try {
                vm.close();
            } catch (Exception cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    public String name() {
        return name;
    }

    /** The directory holding the VM's images; tests may create more files in it, deleted by {@link #close()}. */
    public Path dir() {
        return dir;
    }

    /** The image file behind {@code vda}. */
    public Path disk() {
        return disk;
    }

    /** The lab's own libvirt session (not the one steps use). */
    public Libvirt libvirt() {
        return libvirt;
    }

    public QemuImg qemuImg() {
        return qemuImg;
    }

    public void start() throws StepFailure {
        libvirt.create(name);
    }

    /** Powers the domain off at once when it is running. */
    public void destroy() throws StepFailure {
        if (libvirt.state(name).isActive()) {
            libvirt.destroy(name);
        }
    }

    public PowerState state() throws StepFailure {
        return libvirt.state(name);
    }

    public String xml(XmlView view) throws StepFailure {
        return libvirt.xmlDesc(name, view);
    }

    /**
     * Writes {@code pattern} (a byte) over {@code length} bytes at {@code offset} of {@code vda} of the
     * running domain, as the guest would, through QEMU's {@code qemu-io} monitor command on the disk's
     * virtio device, and flushes it so the image file shows it at once. Offsets and lengths use qemu-io's syntax: {@code 1M}, {@code 4k}, {@code 512}.
     */
    /** Writes {@code pattern} into {@code vda} of the running domain as its guest would; see {@link LabMachine#writePattern}. */
    public void writePattern(int pattern, String offset, String length) throws StepFailure {
        LabMachine.writePattern(libvirt, name, "vda", pattern, offset, length);
    }



    /**
     * Whether {@code image} holds {@code pattern} over the range, read-only and without taking QEMU's lock
     * ({@code qemu-io -r -U -c "read -P ..."}, exit 0 = present); reads through the backing chain.
     */
    /** Whether {@code image} holds {@code pattern} over the range; see {@link LabMachine#hasPattern}. */
    public static boolean hasPattern(Path image, int pattern, String offset, String length) throws IOException {
        return LabMachine.hasPattern(image, pattern, offset, length);
    }

    /**
     * Destroys and undefines the domain (with snapshot metadata) and deletes its directory. Safe to call
     * twice and after a failed {@link #create()}; all cleanup is attempted even when a part fails.
     */
    @Override
    public void close() throws Exception {
        if (closed) {
            return;
        }
        closed = true;
        Exception first = null;
        if (defined) {
            try {
                try {
                    removeDomain();
                } catch (StepFailure.OutcomeUnknown e) {
                    // libvirtd restarted under the call (a test of that may run at the same time): the
                    // session has reconnected; look again and finish
                    removeDomain();
                }
                defined = false;
            } catch (Exception e) {
                first = e;
            }
        }
        try {
            deleteTree(dir);
        } catch (IOException e) {
            first = chain(first, e);
        }
        try {
            libvirt.close();
        } catch (Exception e) {
            first = chain(first, e);
        }
        if (first != null) {
            throw first;
        }
    }

    private void removeDomain() throws StepFailure {
        if (libvirt.exists(name)) {
            if (libvirt.state(name).isActive()) {
                try {
                    libvirt.destroy(name);
                } catch (StepFailure e) {
                    // it may have stopped between the two calls (after a libvirtd restart, QEMU is
                    // reconnected asynchronously): only a domain still running is a failure
                    if (libvirt.state(name).isActive()) {
                        throw e;
                    }
                }
            }
            libvirt.undefine(name, EnumSet.of(Libvirt.UndefineOption.SNAPSHOTS_METADATA,
                    Libvirt.UndefineOption.MANAGED_SAVE));
        }
    }

    private static Exception chain(Exception first, Exception next) {
        if (first == null) {
            return next;
        }
        first.addSuppressed(next);
        return first;
    }

    private String domainXml() {
        return LabMachine.domainXml(name, disk, format, "snapbook test VM; deleted by the test that created it");
    }

    /** {@code kvm} when QEMU (user libvirt-qemu, group kvm) can open /dev/kvm read-write, else {@code qemu}. */
    static String virtType() {
        return LabMachine.virtType();
    }

    /** Deletes {@code dir} and what is in it, without following symbolic links out of it. */
    private static void deleteTree(Path dir) throws IOException {
        LabMachine.deleteTree(dir);
    }
}
