package dev.snapbook.steps.snapshot;

import dev.snapbook.engine.spi.Outcome;
import dev.snapbook.engine.spi.Param;
import dev.snapbook.engine.spi.ParamType;
import dev.snapbook.engine.spi.Params;
import dev.snapbook.engine.spi.Planned;
import dev.snapbook.engine.spi.Reversibility;
import dev.snapbook.engine.spi.Step;
import dev.snapbook.engine.spi.StepContext;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.engine.spi.Verification;
import dev.snapbook.engine.spi.World;
import dev.snapbook.steps.libvirt.Libvirt;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Step {@code snapshot.current}: reads the domain's current snapshot, or with {@code set} makes another one
 * current. Setting redefines the snapshot from its own XML with {@code virDomainSnapshotCreateXML(REDEFINE |
 * CURRENT)}, which changes only libvirt's metadata, never an image.
 *
 * <p>Result: {@code {current: name|null, previous: name|null}}. Undo makes the previous current snapshot
 * current again; when there was none, libvirt offers no way to unset it, so undo leaves the new one current
 * and says so in the trace.
 */
public final class SnapshotCurrent implements Step {

    @Override
    public String name() {
        return "snapshot.current";
    }

    @Override
    public String summary() {
        return "Reads the current snapshot of a domain, or makes another snapshot current (set: NAME).";
    }

    @Override
    public List<Param> params() {
        return List.of(Snapshots.DOMAIN, Param.optional("set", ParamType.NAME, null,
                "the snapshot to make current; omit to only read the current one"));
    }

    @Override
    public String preconditions() {
        return "The domain must exist at this point of the plan; with set, so must the named snapshot. A snapshot that"
                + " is already current is left as it is.";
    }

    @Override
    public String verifies() {
        return "Asks libvirt for the current snapshot again: it must be the one reported.";
    }

    @Override
    public String undoes() {
        return "Without set it only reads. With set, makes the previously current snapshot current again (redefined"
                + " from its own XML with REDEFINE|CURRENT); if there was none, libvirt cannot unset it, so the new"
                + " one stays current and the trace says so.";
    }

    @Override
    public Reversibility reversibility(Params params) {
        return params.has("set") ? Reversibility.REVERSIBLE : Reversibility.NOTHING_TO_UNDO;
    }

    @Override
    public Planned plan(Params params, World world) throws StepFailure {
        String domain = params.string("domain");
        SnapshotTree tree = Snapshots.tree(world, domain);
        if (!params.has("set")) {
            return Planned.readOnly("virDomainSnapshotCurrent(" + domain + ")", result(tree.current(), tree.current()));
        }
        String target = Snapshots.snapshot(tree, params.string("set")).name();
        if (target.equals(tree.current())) {
            return Planned.alreadyDone(target + " is already the current snapshot of " + domain,
                    result(target, target));
        }
        world.put(SnapshotTree.key(domain), tree.withCurrent(target));
        return Planned.change(List.of("virDomainSnapshotCreateXML(" + domain + ", <XML of " + target
                + ">, REDEFINE|CURRENT)"), result(target, tree.current()));
    }

    @Override
    public Map<String, Object> capture(Params params, StepContext context) throws StepFailure {
        Map<String, Object> captured = new HashMap<>();
        captured.put("previous", Libvirt.session(context).snapshotCurrent(params.string("domain")));
        return captured;
    }

    @Override
    public Outcome apply(Params params, Map<String, Object> captured, StepContext context) throws StepFailure {
        String domain = params.string("domain");
        Libvirt libvirt = Libvirt.session(context);
        String previous = libvirt.snapshotCurrent(domain);
        if (!params.has("set")) {
            return Outcome.unchanged("current snapshot of " + domain + ": " + previous, result(previous, previous));
        }
        String target = params.string("set");
        if (target.equals(previous)) {
            return Outcome.unchanged(target + " was already current", result(target, previous));
        }
        makeCurrent(libvirt, domain, target);
        return Outcome.changed(target + " is now the current snapshot of " + domain, result(target, previous));
    }

    @Override
    public Verification verify(Params params, Outcome outcome, StepContext context) throws StepFailure {
        String now = Libvirt.session(context).snapshotCurrent(params.string("domain"));
        Object expected = outcome.data().get("current");
        return Verification.check(java.util.Objects.equals(now, expected),
                "the current snapshot of " + params.string("domain") + " is " + now + ", not " + expected);
    }

    @Override
    public void undo(Params params, Map<String, Object> captured, Outcome outcome, StepContext context)
            throws StepFailure {
        String previous = (String) captured.get("previous");
        if (!outcome.changed()) {
            return;
        }
        if (previous == null) {
            context.trace("undo snapshot.current: " + params.string("domain") + " had no current snapshot before;"
                    + " libvirt cannot unset it, so " + params.string("set") + " stays current");
            return;
        }
        makeCurrent(Libvirt.session(context), params.string("domain"), previous);
    }

    /** Makes {@code snapshot} current by redefining it from its own XML (REDEFINE | CURRENT). */
    static void makeCurrent(Libvirt libvirt, String domain, String snapshot) throws StepFailure {
        String xml = libvirt.snapshotXmlDesc(domain, snapshot);
        libvirt.snapshotCreateXml(domain, xml, EnumSet.of(Libvirt.SnapshotCreateOption.REDEFINE,
                Libvirt.SnapshotCreateOption.CURRENT));
    }

    private static Map<String, Object> result(String current, String previous) {
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("current", current);
        result.put("previous", previous);
        return result;
    }
}
