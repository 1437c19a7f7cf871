package dev.snapbook.steps.domain;

import dev.snapbook.engine.spi.FactKey;
import java.util.List;

/**
 * What snapbook knows of one libvirt domain (fact kind {@code domain}, id = the domain's name). Holds no
 * volatile values (ids, uuids, device aliases) so that a prediction can equal a later observation.
 *
 * @param state      {@code running}, {@code blocked}, {@code paused}, {@code shutdown} (being shut down),
 *                   {@code shutoff}, {@code crashed}, {@code pmsuspended} or {@code nostate}; see
 *                   {@link dev.snapbook.steps.libvirt.PowerState}
 * @param persistent whether the domain has a persistent definition (survives being shut off)
 * @param disks      its disks in XML order, from the live XML when running, else the inactive XML
 */
public record DomainFacts(String name, String state, boolean persistent, List<DiskFacts> disks) {

    public static final String KIND = "domain";

    public DomainFacts {
        disks = List.copyOf(disks);
    }

    /** The key of the fact about the domain named {@code name}. */
    public static FactKey<DomainFacts> key(String name) {
        return new FactKey<>(KIND, name, DomainFacts.class);
    }

    /** The same domain in another state. */
    public DomainFacts withState(String newState) {
        return new DomainFacts(name, newState, persistent, disks);
    }
}
