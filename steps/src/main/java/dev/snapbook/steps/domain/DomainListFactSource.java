package dev.snapbook.steps.domain;

import dev.snapbook.engine.spi.FactSource;
import dev.snapbook.engine.spi.StepContext;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.steps.libvirt.Libvirt;

/** Observes {@link DomainListFacts}: every domain name on the connection, read-only. */
public final class DomainListFactSource implements FactSource {

    @Override
    public String kind() {
        return DomainListFacts.KIND;
    }

    @Override
    public Class<?> type() {
        return DomainListFacts.class;
    }

    @Override
    public DomainListFacts observe(String id, StepContext context) throws StepFailure {
        if (!DomainListFacts.ALL.equals(id)) {
            throw new StepFailure("the '" + DomainListFacts.KIND + "' fact has only the id '" + DomainListFacts.ALL
                    + "', not '" + id + "'");
        }
        return new DomainListFacts(Libvirt.session(context).domainNames());
    }
}
