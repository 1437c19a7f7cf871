package dev.snapbook.engine.spi;

import java.util.List;

/**
 * Lines that {@code snapbook --version} prints after its own version: what snapbook finds it talks to (the
 * steps module reports libvirt's and QEMU's versions). Found with {@link java.util.ServiceLoader}
 * ({@code META-INF/services/dev.snapbook.engine.spi.VersionReport}), so the engine stays free of libvirt. A
 * report never throws: what it cannot read, it says in a line.
 */
public interface VersionReport {

    /** The lines about {@code connectionUri} ({@code $LIBVIRT_DEFAULT_URI}, else {@code qemu:///system}). */
    List<String> lines(String connectionUri);
}
