package dev.snapbook.steps.snapshot;

import dev.snapbook.engine.spi.Outcome;
import dev.snapbook.engine.spi.Param;
import dev.snapbook.engine.spi.Params;
import dev.snapbook.engine.spi.Planned;
import dev.snapbook.engine.spi.Step;
import dev.snapbook.engine.spi.StepContext;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.engine.spi.Unknown;
import dev.snapbook.engine.spi.Verification;
import dev.snapbook.engine.spi.World;
import dev.snapbook.steps.libvirt.Libvirt;
import java.util.List;
import java.util.Map;

/**
 * Step {@code snapshot.dumpxml}: the snapshot's XML as libvirt returns it
 * ({@code virDomainSnapshotGetXMLDesc}). Read-only.
 *
 * <p>Result: {@code {xml: "<domainsnapshot>..."}}; unknown in a plan (the text, with its timestamps, is only
 * known when libvirt is asked), but the plan checks that the snapshot exists.
 */
public final class SnapshotDumpxml implements Step {

    @Override
    public String name() {
        return "snapshot.dumpxml";
    }

    @Override
    public String summary() {
        return "Returns a snapshot's XML as libvirt describes it (virsh snapshot-dumpxml).";
    }

    @Override
    public List<Param> params() {
        return List.of(Snapshots.DOMAIN, Snapshots.SNAPSHOT);
    }

    @Override
    public String preconditions() {
        return "The domain must exist and have the snapshot at this point of the plan.";
    }

    @Override
    public String verifies() {
        return "Asks libvirt for the snapshot's XML again: it must be the same text.";
    }

    @Override
    public String undoes() {
        return "It only reads the snapshot's XML.";
    }

    @Override
    public Planned plan(Params params, World world) throws StepFailure {
        String domain = params.string("domain");
        SnapshotFacts s = Snapshots.snapshot(Snapshots.tree(world, domain), params.string("snapshot"));
        return Planned.readOnly("virDomainSnapshotGetXMLDesc(" + domain + ", " + s.name() + ")",
                Map.of("xml", new Unknown("the XML libvirt returns for snapshot " + s.name())));
    }

    @Override
    public Outcome apply(Params params, Map<String, Object> captured, StepContext context) throws StepFailure {
        String domain = params.string("domain");
        Snapshots.snapshot(SnapshotList.observe(params, context), params.string("snapshot"));
        String xml = Libvirt.session(context).snapshotXmlDesc(domain, params.string("snapshot"));
        return Outcome.unchanged("XML of snapshot " + params.string("snapshot") + " of " + domain
                + " (" + xml.length() + " characters)", Map.of("xml", xml));
    }

    @Override
    public Verification verify(Params params, Outcome outcome, StepContext context) throws StepFailure {
        String xml = Libvirt.session(context).snapshotXmlDesc(params.string("domain"), params.string("snapshot"));
        return Verification.check(xml.equals(outcome.data().get("xml")),
                "the XML of snapshot " + params.string("snapshot") + " changed meanwhile");
    }
}
