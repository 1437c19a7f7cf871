package dev.snapbook.steps.domain;

import dev.snapbook.engine.spi.FactKey;
import java.util.List;

/**
 * The disks of a running domain's persistent definition (fact kind {@code definition}, id = the domain's name):
 * what the domain will use once it is shut off and started again, which may differ from what it runs on now
 * (a disk hot-swapped with {@code --live} only, an overlay made with {@code --no-metadata}). Absent (null) for a
 * domain that is shut off (its live XML is its definition) or transient (it has none), and when the definition's
 * disk sources are the live ones.
 */
public record DefinitionFacts(String name, List<DiskFacts> disks) {

    public static final String KIND = "definition";

    public DefinitionFacts {
        disks = List.copyOf(disks);
    }

    public static FactKey<DefinitionFacts> key(String name) {
        return new FactKey<>(KIND, name, DefinitionFacts.class);
    }
}
