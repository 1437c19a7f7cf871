package dev.snapbook.steps.snapshot;

import dev.snapbook.engine.spi.Outcome;
import dev.snapbook.engine.spi.Param;
import dev.snapbook.engine.spi.Params;
import dev.snapbook.engine.spi.Planned;
import dev.snapbook.engine.spi.Step;
import dev.snapbook.engine.spi.StepContext;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.engine.spi.Verification;
import dev.snapbook.engine.spi.World;

import java.util.List;
import java.util.Map;

/**
 * What the read-only steps about one snapshot share ({@code snapshot.info}, {@code snapshot.parent},
 * {@code snapshot.source}): the plan reads the snapshot from the world, apply from libvirt, and verify
 * checks that libvirt still reports the same; they take the same parameters and preconditions. Each says
 * which part of the snapshot it returns.
 */
abstract class SnapshotReading implements Step {

    /** The part of the snapshot's facts this step returns. */
    abstract Map<String, Object> result(SnapshotFacts s);

    @Override
    public List<Param> params() {
        return List.of(Snapshots.DOMAIN, Snapshots.SNAPSHOT);
    }

    @Override
    public String preconditions() {
        return "The domain must exist and have the snapshot at this point of the plan.";
    }

    @Override
    public String undoes() {
        return "It only reads the snapshot's XML.";
    }

    @Override
    public Planned plan(Params params, World world) throws StepFailure {
        String domain = params.string("domain");
        SnapshotFacts s = Snapshots.snapshot(Snapshots.tree(world, domain), params.string("snapshot"));
        return Planned.readOnly("virDomainSnapshotGetXMLDesc(" + domain + ", " + s.name() + ")", result(s));
    }

    @Override
    public Outcome apply(Params params, Map<String, Object> captured, StepContext context) throws StepFailure {
        SnapshotFacts s = Snapshots.snapshot(SnapshotList.observe(params, context), params.string("snapshot"));
        return Outcome.unchanged("snapshot " + s.name() + " of " + params.string("domain"), result(s));
    }

    @Override
    public Verification verify(Params params, Outcome outcome, StepContext context) throws StepFailure {
        SnapshotFacts s = SnapshotList.observe(params, context).find(params.string("snapshot"));
        return Verification.check(s != null && result(s).equals(outcome.data()),
                "snapshot " + params.string("snapshot") + " of " + params.string("domain") + " changed meanwhile");
    }
}
