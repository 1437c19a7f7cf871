package dev.snapbook.steps.domain;

import dev.snapbook.engine.spi.FactKey;
import java.util.List;

/**
 * The names of every domain on the connection, running or defined (fact kind {@code domains}, id
 * {@code all}), sorted. Steps that must know who else uses a file (image.delete, see
 * {@link dev.snapbook.steps.state.DiskStates}) walk it and look each domain up as a {@link DomainFacts}.
 */
public record DomainListFacts(List<String> names) {

    public static final String KIND = "domains";
    public static final String ALL = "all";

    public DomainListFacts {
        names = List.copyOf(names);
    }

    /** The key of the one fact of this kind. */
    public static FactKey<DomainListFacts> key() {
        return new FactKey<>(KIND, ALL, DomainListFacts.class);
    }
}
