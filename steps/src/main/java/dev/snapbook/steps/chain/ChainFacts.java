package dev.snapbook.steps.chain;

import dev.snapbook.engine.spi.StepContext;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.engine.spi.World;
import dev.snapbook.engine.world.FactSources;
import dev.snapbook.steps.domain.DiskFacts;
import dev.snapbook.steps.domain.DomainFacts;
import dev.snapbook.steps.image.ImageFacts;
import dev.snapbook.steps.state.Damage;
import java.util.ArrayList;
import java.util.List;

/** What the {@code chain.*} steps read from a world: a disk's chain, and a world observed afresh. */
final class ChainFacts {

    private ChainFacts() {
    }

    /** A world observed from the real system now, through the fact sources on the class path. */
    static World now(StepContext context) {
        return FactSources.load(ChainFacts.class.getClassLoader()).newWorld(context);
    }

    /**
     * A disk's chain: its files, active image first, and the format each is recorded as (the top's by the
     * domain's {@code <driver type>}, each lower one's by the layer above it).
     */
    record DiskChain(List<String> files, List<String> formats) {
    }

    /** The chain of disk {@code target} of {@code domain}, as the world has it. */
    static DiskChain diskChain(World world, String domain, String target) throws StepFailure {
        DomainFacts facts = world.get(DomainFacts.key(domain));
        if (facts == null) {
            throw new StepFailure("domain '" + domain + "' does not exist on this connection"
                    + (world.observed(DomainFacts.key(domain)) != null ? " at this point of the plan" : ""),
                    "check the name with: virsh list --all");
        }
        DiskFacts disk = facts.disks().stream().filter(d -> d.target().equals(target)).findFirst().orElseThrow(() ->
                new StepFailure("domain " + domain + " has no disk " + target + "; it has "
                        + facts.disks().stream().map(DiskFacts::target).toList(), "name one of those"));
        if (!"file".equals(disk.type()) || disk.source() == null) {
            throw new StepFailure("disk " + target + " of " + domain + " is not a file disk (" + disk.type() + ")",
                    "snapbook merges file-backed chains only");
        }
        Damage.refuseDisk(world, domain, disk);
        ImageFacts image = world.get(ImageFacts.key(disk.source()));
        if (image == null) {
            throw new StepFailure("the active image of " + domain + "/" + target + ", " + disk.source()
                    + ", does not exist", "check the domain's disks with: virsh domblklist --details " + domain);
        }
        List<String> files = new ArrayList<>(List.of(disk.source()));
        List<String> formats = new ArrayList<>();
        formats.add(disk.format() != null ? disk.format() : image.format());
        image.backingChain().forEach(l -> {
            files.add(l.file());
            formats.add(l.format());
        });
        return new DiskChain(List.copyOf(files), java.util.Collections.unmodifiableList(formats));
    }
}
