package dev.snapbook.steps.snapshot;

import dev.snapbook.engine.spi.Outcome;
import dev.snapbook.engine.spi.Params;
import dev.snapbook.engine.spi.Planned;
import dev.snapbook.engine.spi.Reversibility;
import dev.snapbook.engine.spi.Step;
import dev.snapbook.engine.spi.StepContext;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.engine.spi.Verification;
import dev.snapbook.engine.spi.World;
import dev.snapbook.steps.libvirt.ConnectionHost;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The steps that take a snapshot ({@code snapshot.create}, {@code snapshot.create_xml}): each turns its
 * parameters into a {@link SnapshotCreation.Request}; planning, taking, verifying and undoing it are
 * {@link SnapshotCreation}'s, the same for both.
 */
abstract class SnapshotCreating implements Step {

    /** The snapshot these parameters ask for. */
    abstract SnapshotCreation.Request request(Params params) throws StepFailure;

    /** Actions the plan lists before the snapshot's own (none unless a step reads something first). */
    List<String> actionsBefore(Params params) throws StepFailure {
        return List.of();
    }

    @Override
    public String verifies() {
        return SnapshotCreation.VERIFIES;
    }

    @Override
    public String undoes() {
        return SnapshotCreation.UNDOES;
    }

    @Override
    public Reversibility reversibility(Params params) {
        return Reversibility.REVERSIBLE;
    }

    @Override
    public Planned plan(Params params, World world) throws StepFailure {
        ConnectionHost.requireLocalFiles(world, name());
        SnapshotCreation.Request r = request(params);
        Map<String, Object> result = SnapshotCreation.result(r, SnapshotCreation.resolve(r, SnapshotCreation.of(world)));
        List<String> actions = new ArrayList<>(actionsBefore(params));
        actions.addAll(SnapshotCreation.plan(r, world));
        return Planned.change(actions, result);
    }

    @Override
    public Map<String, Object> capture(Params params, StepContext context) throws StepFailure {
        return SnapshotCreation.capture(request(params), context);
    }

    @Override
    public Outcome apply(Params params, Map<String, Object> captured, StepContext context) throws StepFailure {
        return SnapshotCreation.apply(request(params), context);
    }

    @Override
    public Verification verify(Params params, Outcome outcome, StepContext context) throws StepFailure {
        return SnapshotCreation.verify(request(params), outcome, context);
    }

    @Override
    public void undo(Params params, Map<String, Object> captured, Outcome outcome, StepContext context)
            throws StepFailure {
        SnapshotCreation.undo(request(params), captured, outcome, context);
    }
}
