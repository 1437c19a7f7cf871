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
import dev.snapbook.steps.libvirt.Libvirt;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Step {@code snapshot.list}: lists a domain's snapshots. Read-only.
 *
 * <p>Result: {@code {snapshots: [names in tree order], current: name|null,
 * tree: [{name, parent, location, children: [names]}]}}; tree order is roots by name, each followed
 * depth-first by its children, siblings by name.
 */
public final class SnapshotList implements Step {

    @Override
    public String name() {
        return "snapshot.list";
    }

    @Override
    public String summary() {
        return "Lists a domain's snapshots in tree order, with the current one and each one's parent and children.";
    }

    @Override
    public List<Param> params() {
        return List.of(Snapshots.DOMAIN);
    }

    @Override
    public String preconditions() {
        return "The domain must exist at this point of the plan. The plan predicts the list from the world, so it"
                + " includes snapshots created or deleted by earlier steps.";
    }

    @Override
    public String verifies() {
        return "Re-reads the domain's snapshots from libvirt: the names, the current snapshot and the tree must be"
                + " unchanged.";
    }

    @Override
    public String undoes() {
        return "It only reads the snapshots' metadata.";
    }

    @Override
    public Planned plan(Params params, World world) throws StepFailure {
        String domain = params.string("domain");
        return Planned.readOnly("virDomainSnapshotListNames(" + domain + "); virDomainSnapshotGetXMLDesc of each",
                result(Snapshots.tree(world, domain)));
    }

    @Override
    public Outcome apply(Params params, Map<String, Object> captured, StepContext context) throws StepFailure {
        Map<String, Object> result = result(observe(params, context));
        return Outcome.unchanged(params.string("domain") + " has " + ((List<?>) result.get("snapshots")).size()
                + " snapshot(s), current: " + result.get("current"), result);
    }

    @Override
    public Verification verify(Params params, Outcome outcome, StepContext context) throws StepFailure {
        Map<String, Object> now = result(observe(params, context));
        return Verification.check(now.equals(outcome.data()),
                "the snapshots of " + params.string("domain") + " changed meanwhile: " + now.get("snapshots"));
    }

    static SnapshotTree observe(Params params, StepContext context) throws StepFailure {
        String domain = params.string("domain");
        SnapshotTree tree = SnapshotFactSource.observe(domain, Libvirt.session(context));
        if (tree == null) {
            throw new StepFailure("domain '" + domain + "' does not exist on " + context.connectionUri(),
                    "check the name with: virsh list --all");
        }
        return tree;
    }

    static Map<String, Object> result(SnapshotTree tree) {
        List<Map<String, Object>> nodes = new ArrayList<>();
        for (SnapshotFacts s : tree.snapshots()) {
            Map<String, Object> node = new LinkedHashMap<>();
            node.put("name", s.name());
            node.put("parent", s.parent());
            node.put("location", s.location());
            node.put("children", tree.children(s.name()));
            nodes.add(node);
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("snapshots", tree.names());
        result.put("current", tree.current());
        result.put("tree", nodes);
        return result;
    }
}
