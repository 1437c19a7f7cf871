package dev.snapbook.steps.libvirt;

import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.engine.spi.VersionReport;
import dev.snapbook.steps.qemu.QemuImg;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code snapbook --version} says of the libvirt and QEMU it finds: libvirtd's and the hypervisor's
 * versions and how snapbook treats external snapshots there ({@link LibvirtRelease}), this machine's libvirt client
 * library and qemu-img. What it cannot reach it says, and goes on.
 */
public final class LibvirtVersionReport implements VersionReport {

    @Override
    public List<String> lines(String uri) {
        List<String> lines = new ArrayList<>();
        try (Libvirt libvirt = Libvirt.open(uri, call -> { })) {
            lines.addAll(LibvirtRelease.of(libvirt).describe(uri));
        } catch (StepFailure e) {
            lines.add("libvirt: not reachable at " + uri + ": " + e.getMessage());
        } catch (RuntimeException | LinkageError e) {
            lines.add("libvirt: not reachable at " + uri + ": " + e);
        }
        try {
            lines.add("libvirt client library " + LibvirtRelease.version(org.libvirt.Library.getVersion()));
        } catch (org.libvirt.LibvirtException | RuntimeException | LinkageError e) {
            lines.add("libvirt client library: not loaded: " + e.getMessage());
        }
        try {
            lines.add(new QemuImg(call -> { }).version());
        } catch (StepFailure e) {
            lines.add("qemu-img: " + e.getMessage());
        }
        return lines;
    }
}
