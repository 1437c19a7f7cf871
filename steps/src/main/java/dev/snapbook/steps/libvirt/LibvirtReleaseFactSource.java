package dev.snapbook.steps.libvirt;

import dev.snapbook.engine.spi.FactSource;
import dev.snapbook.engine.spi.StepContext;
import dev.snapbook.engine.spi.StepFailure;

/** Observes the {@link LibvirtRelease} of the run's connection: three read-only calls, once per run. */
public final class LibvirtReleaseFactSource implements FactSource {

    @Override
    public String kind() {
        return LibvirtRelease.KIND;
    }

    @Override
    public Class<?> type() {
        return LibvirtRelease.class;
    }

    @Override
    public LibvirtRelease observe(String id, StepContext context) throws StepFailure {
        return LibvirtRelease.of(Libvirt.session(context));
    }
}
