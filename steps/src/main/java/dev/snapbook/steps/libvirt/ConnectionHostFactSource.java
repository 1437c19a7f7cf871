package dev.snapbook.steps.libvirt;

import dev.snapbook.engine.spi.FactSource;
import dev.snapbook.engine.spi.StepContext;

/** Observes the {@link ConnectionHost} of the run's connection URI: no call to libvirt, no name lookup. */
public final class ConnectionHostFactSource implements FactSource {

    @Override
    public String kind() {
        return ConnectionHost.KIND;
    }

    @Override
    public Class<?> type() {
        return ConnectionHost.class;
    }

    @Override
    public ConnectionHost observe(String id, StepContext context) {
        return ConnectionHost.of(context.connectionUri());
    }
}
