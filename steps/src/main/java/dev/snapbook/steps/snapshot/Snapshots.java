package dev.snapbook.steps.snapshot;

import dev.snapbook.engine.spi.Param;
import dev.snapbook.engine.spi.ParamType;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.engine.spi.World;
import dev.snapbook.steps.domain.DiskFacts;
import dev.snapbook.steps.domain.DomainFacts;
import dev.snapbook.steps.domain.Domains;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What the {@code snapshot.*} steps share: parameters, lookups in the world, result maps. */
final class Snapshots {

    static final Param DOMAIN = Param.required("domain", ParamType.NAME, "the libvirt domain's name");
    static final Param SNAPSHOT = Param.required("snapshot", ParamType.NAME, "the snapshot's name");

    private Snapshots() {
    }

    static SnapshotTree tree(World world, String domain) throws StepFailure {
        Domains.require(world, domain);
        SnapshotTree tree = world.get(SnapshotTree.key(domain));
        if (tree == null) {
            throw new StepFailure("domain '" + domain + "' has no snapshot information", null);
        }
        return tree;
    }

    static SnapshotFacts snapshot(SnapshotTree tree, String name) throws StepFailure {
        SnapshotFacts s = tree.find(name);
        if (s == null) {
            throw new StepFailure("domain " + tree.domain() + " has no snapshot '" + name + "'"
                    + (tree.snapshots().isEmpty() ? " (it has no snapshots)" : "; it has: "
                    + String.join(", ", tree.names())),
                    "list them with: virsh snapshot-list --tree " + tree.domain());
        }
        return s;
    }

    /** The snapshot as a plain map, the shape snapshot.info returns. */
    static Map<String, Object> toMap(SnapshotFacts s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", s.name());
        m.put("parent", s.parent());
        m.put("description", s.description());
        m.put("state", s.state());
        m.put("location", s.location());
        m.put("memory", s.memory());
        List<Map<String, Object>> disks = new ArrayList<>();
        for (SnapshotDisk d : s.disks()) {
            Map<String, Object> dm = new LinkedHashMap<>();
            dm.put("disk", d.disk());
            dm.put("snapshot", d.snapshot());
            dm.put("file", d.file());
            dm.put("driver", d.driver());
            disks.add(dm);
        }
        m.put("disks", disks);
        m.put("active_files", new LinkedHashMap<>(s.activeFiles()));
        return m;
    }

    /** The domain with the disk {@code target} now backed by {@code file} in {@code format}. */
    static DomainFacts withDisk(DomainFacts facts, String target, String file, String format) {
        List<DiskFacts> disks = new ArrayList<>();
        for (DiskFacts d : facts.disks()) {
            disks.add(d.target().equals(target)
                    ? new DiskFacts(d.target(), d.device(), "file", file, format, d.bus()) : d);
        }
        return new DomainFacts(facts.name(), facts.state(), facts.persistent(), disks);
    }
}
