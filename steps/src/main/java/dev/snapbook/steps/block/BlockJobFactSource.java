package dev.snapbook.steps.block;

import dev.snapbook.engine.spi.FactSource;
import dev.snapbook.engine.spi.StepContext;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.steps.libvirt.Libvirt;

/**
 * Observes {@link BlockJobFacts} through libvirt ({@code virDomainGetBlockJobInfo} and the live XML). A domain that
 * does not exist or has no QEMU process has no block job: null, as for a disk without one.
 */
public final class BlockJobFactSource implements FactSource {

    @Override
    public String kind() {
        return BlockJobFacts.KIND;
    }

    @Override
    public Class<?> type() {
        return BlockJobFacts.class;
    }

    @Override
    public BlockJobFacts observe(String id, StepContext context) throws StepFailure {
        int slash = id.indexOf('/');
        if (slash <= 0 || slash == id.length() - 1) {
            throw new StepFailure("a block-job fact is named DOMAIN/DISK, not '" + id + "'", null);
        }
        String domain = id.substring(0, slash);
        String disk = id.substring(slash + 1);
        Libvirt libvirt = Libvirt.session(context);
        if (!libvirt.exists(domain) || !libvirt.state(domain).isActive()) {
            return null;
        }
        return BlockJobFacts.of(domain, disk, libvirt.blockJob(domain, disk));
    }
}
