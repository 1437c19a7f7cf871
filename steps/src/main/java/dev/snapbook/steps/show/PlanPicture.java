package dev.snapbook.steps.show;

import dev.snapbook.engine.spi.FactKey;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.engine.spi.World;
import dev.snapbook.engine.spi.WorldRenderer;
import dev.snapbook.steps.domain.DomainFacts;
import dev.snapbook.steps.image.ImageFacts;
import dev.snapbook.steps.snapshot.SnapshotTree;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The end of {@code snapbook plan}: for each domain whose definition, snapshots or disk images the plan
 * changes, its snapshot tree and disks' backing chains today and as predicted after the run, drawn as
 * {@code snapbook show} draws them (without sizes, which only a run knows).
 */
public final class PlanPicture implements WorldRenderer {

    @Override
    public List<Drawing> render(World world) throws StepFailure {
        List<Drawing> drawings = new ArrayList<>();
        for (String domain : touched(world)) {
            StatePicture today = StatePicture.of(world, domain, false);
            StatePicture after = StatePicture.of(world, domain, true);
            String todayText = today == null ? "(does not exist)\n" : today.text(false);
            String afterText = after == null ? "(does not exist)\n" : after.text(false);
            if (!todayText.equals(afterText)) {
                drawings.add(new Drawing("domain " + domain, todayText, afterText));
            }
        }
        return drawings;
    }

    /** The domains the plan predicts a change for: their definition, snapshots, or an image of their chains. */
    static Set<String> touched(World world) throws StepFailure {
        Set<String> domains = new LinkedHashSet<>();
        Set<String> images = new LinkedHashSet<>();
        for (FactKey<?> key : world.predictions().keySet()) {
            switch (key.kind()) {
                case DomainFacts.KIND, SnapshotTree.KIND -> domains.add(key.id());
                case ImageFacts.KIND -> images.add(key.id());
                default -> { }
            }
        }
        if (!images.isEmpty()) {
            for (Map.Entry<FactKey<?>, Object> e : world.observations().entrySet()) {
                if (e.getKey().kind().equals(DomainFacts.KIND) && e.getValue() instanceof DomainFacts d
                        && usesAny(world, d, images)) {
                    domains.add(d.name());
                }
            }
        }
        return domains;
    }

    private static boolean usesAny(World world, DomainFacts domain, Set<String> images) throws StepFailure {
        for (var disk : domain.disks()) {
            if (disk.source() == null) {
                continue;
            }
            if (images.contains(disk.source())) {
                return true;
            }
            ImageFacts image = world.observed(ImageFacts.key(disk.source()));
            if (image != null && image.backingChain().stream().anyMatch(l -> images.contains(l.file()))) {
                return true;
            }
        }
        return false;
    }
}
