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
import dev.snapbook.steps.domain.Domains;
import dev.snapbook.steps.libvirt.ConnectionHost;
import dev.snapbook.steps.libvirt.Libvirt;
import dev.snapbook.steps.libvirt.LibvirtRelease;
import dev.snapbook.steps.libvirt.PowerState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Step {@code snapshot.delete}: deletes a snapshot ({@code virDomainSnapshotDelete}), or its descendants
 * ({@code children_only}), or both ({@code children}).
 *
 * <p>Internal snapshots are removed from the qcow2 images: irreversible. With {@code metadata_only: true}
 * only libvirt's metadata goes and no file is touched (verified: every overlay and state file of the deleted
 * snapshots still exists); undo then redefines the captured XML. Deleting an external snapshot's data means
 * merging layers, which is the job of {@code block.commit}/{@code block.pull}: without {@code metadata_only}
 * the plan refuses external snapshots and says so.
 *
 * <p>{@code all_external: true} (with {@code metadata_only}, instead of {@code snapshot}) deletes the metadata of
 * every external snapshot of the domain — or of those that made an overlay for {@code disk} — one call per
 * snapshot, leaves first: what a flatten recipe needs once a block commit or pull merged the whole chain.
 *
 * <p>Result: {@code {deleted: [names], current: name|null, kept_files: [files]}}; with {@code metadata_only} the
 * kept files are the deleted snapshots' overlays, state files and memory files.
 */
public final class SnapshotDelete implements Step {

    @Override
    public String name() {
        return "snapshot.delete";
    }

    @Override
    public String summary() {
        return "Deletes a snapshot (and/or its children); external ones only with metadata_only after a merge.";
    }

    @Override
    public List<Param> params() {
        return List.of(Snapshots.DOMAIN,
                Param.optional("snapshot", ParamType.NAME, null,
                        "the snapshot's name (required unless all_external is true)"),
                Param.optional("children", ParamType.BOOLEAN, false, "also delete every descendant"),
                Param.optional("children_only", ParamType.BOOLEAN, false,
                        "delete only the descendants, keep the snapshot itself"),
                Param.optional("metadata_only", ParamType.BOOLEAN, false,
                        "delete libvirt's metadata only, never data or files (after block.commit/block.pull)"),
                Param.optional("all_external", ParamType.BOOLEAN, false,
                        "instead of one snapshot: the metadata of every external snapshot (with disk: those that"
                                + " made an overlay for that disk), leaves first; needs metadata_only: true"),
                Param.optional("disk", ParamType.NAME, null,
                        "with all_external: only the snapshots that made an external overlay for this disk"),
                Param.optional("snapshots", ParamType.LIST, null,
                        "with metadata_only, instead of snapshot: these snapshots' metadata, leaves first (the drops"
                                + " chain.layers reports for a flatten)"));
    }

    @Override
    public String preconditions() {
        return "The domain and the snapshot must exist at this point of the plan, and children and children_only"
                + " cannot both be true. Without metadata_only every snapshot to delete must be internal (or hold no"
                + " data at all): external and mixed ones are refused, since deleting their data means merging layers"
                + " with block.commit or block.pull. With metadata_only the plan does not check that such a merge"
                + " happened.";
    }

    @Override
    public String verifies() {
        return "Re-reads the snapshots from libvirt: none of the deleted ones may remain, and with children_only the"
                + " snapshot itself must still exist. With metadata_only, every overlay and state file of the deleted"
                + " snapshots must still exist.";
    }

    @Override
    public String undoes() {
        return "Without metadata_only the snapshots' data is removed from the qcow2 images and cannot be brought back."
                + " With metadata_only, undo redefines the captured XML of the deleted snapshots and of their direct"
                + " children, parents first, and makes the previously current snapshot current again.";
    }

    @Override
    public Reversibility reversibility(Params params) {
        return params.bool("metadata_only") ? Reversibility.REVERSIBLE : Reversibility.IRREVERSIBLE;
    }

    @Override
    public Planned plan(Params params, World world) throws StepFailure {
        ConnectionHost.requireLocalFiles(world, name());
        String domain = params.string("domain");
        SnapshotTree tree = Snapshots.tree(world, domain);
        List<String> deleted = affected(params, tree);
        if (deleted.isEmpty()) {
            return Planned.alreadyDone(params.has("snapshots") ? "no snapshot to delete"
                    : params.bool("all_external") ? domain + " has no external snapshot"
                    + (params.has("disk") ? " of disk " + params.string("disk") : "")
                    : params.string("snapshot") + " has no children to delete",
                    result(List.of(), tree.current(), List.of()));
        }
        if (!params.bool("metadata_only")) {
            for (String name : deleted) {
                SnapshotFacts s = tree.find(name);
                if (!s.location().equals("internal") && !s.location().equals("none")) {
                    throw new StepFailure("snapshot " + name + " of " + domain + " is " + s.location()
                            + "; deleting an external snapshot means merging its overlay into another layer,"
                            + " which snapshot.delete does not do",
                            "merge first with block.commit (or block.pull), then snapshot.delete with metadata_only:"
                                    + " true to drop the metadata");
                }
                if (s.location().equals("internal")
                        && PowerState.ofLabel(Domains.require(world, domain).state()).isActive()) {
                    LibvirtRelease.require(world).requireInternalSnapshotName(name, domain, "delete");
                }
            }
        }
        SnapshotTree after = without(tree, deleted, params.bool("metadata_only"));
        world.put(SnapshotTree.key(domain), after);
        if (params.bool("all_external") || params.has("snapshots")) {
            List<String> actions = new ArrayList<>();
            for (String name : leavesFirst(tree, deleted)) {
                actions.add("virDomainSnapshotDelete(" + domain + ", " + name + ", " + flags(params) + ")");
            }
            actions.add("no file is touched: merge the overlays (block.commit / block.pull) in the same playbook");
            return Planned.change(actions, result(deleted, after.current(), keptFiles(params, tree, deleted)));
        }
        return Planned.change(List.of("virDomainSnapshotDelete(" + domain + ", " + params.string("snapshot") + ", "
                        + flags(params) + ") removes " + deleted
                        + (!params.bool("metadata_only") ? " and their data in the images"
                        : "; no file is touched; the deleted snapshots' state files become their children's, which"
                        + " is right only after block.commit merged their overlays down ("
                        + (LibvirtRelease.require(world).metadataDeleteMovesDomainToChildren()
                        ? "libvirt " + release(world) + " records them itself"
                        : "libvirt " + release(world) + " leaves the children's records alone: snapbook redefines"
                        + " them") + ")")),
                result(deleted, after.current(), keptFiles(params, tree, deleted)));
    }

    @Override
    public Map<String, Object> capture(Params params, StepContext context) throws StepFailure {
        String domain = params.string("domain");
        Libvirt libvirt = Libvirt.session(context);
        SnapshotTree tree = SnapshotList.observe(params, context);
        List<String> deleted = affected(params, tree);
        // The deleted snapshots and their direct children, whose parent libvirt rewrites, in tree order.
        Set<String> touched = new LinkedHashSet<>();
        for (String name : tree.names()) {
            SnapshotFacts s = tree.find(name);
            if (deleted.contains(name) || deleted.contains(s.parent())) {
                touched.add(name);
            }
        }
        Map<String, Object> xmls = new LinkedHashMap<>();
        for (String name : touched) {
            xmls.put(name, libvirt.snapshotXmlDesc(domain, name));
        }
        Map<String, Object> captured = new LinkedHashMap<>();
        captured.put("current", tree.current());
        captured.put("xml", xmls);
        if (params.bool("metadata_only")) {
            captured.put("state_files", StateFiles.fingerprints(StateFiles.of(tree, deleted, context)));
        }
        return captured;
    }

    @Override
    @SuppressWarnings("unchecked")
    public Outcome apply(Params params, Map<String, Object> captured, StepContext context) throws StepFailure {
        String domain = params.string("domain");
        SnapshotTree tree = SnapshotList.observe(params, context);
        List<String> deleted = affected(params, tree);
        if (deleted.isEmpty()) {
            return Outcome.unchanged("nothing to delete", result(List.of(), tree.current(), List.of()));
        }
        Libvirt libvirt = Libvirt.session(context);
        if (params.bool("all_external") || params.has("snapshots")) {
            // One at a time, leaves first, so libvirt never rewrites a child that is still to be deleted; a
            // failure part-way leaves the rest, and undo redefines the captured ones.
            for (String name : leavesFirst(tree, deleted)) {
                libvirt.snapshotDelete(domain, name, flags(params));
            }
        } else {
            libvirt.snapshotDelete(domain, params.string("snapshot"), flags(params));
        }
        if (params.bool("metadata_only")) {
            recordStateInChildren(libvirt, domain, tree, deleted, (Map<String, Object>) captured.get("xml"));
        }
        return Outcome.changed("deleted " + deleted + " of " + domain
                        + (params.bool("metadata_only") ? " (metadata only)" : ""),
                result(deleted, libvirt.snapshotCurrent(domain), keptFiles(params, tree, deleted)));
    }

    /**
     * What libvirt 9.0 does itself on a metadata-only deletion, done where libvirt did not: each surviving child of a
     * deleted external snapshot whose record does not name that snapshot's state files (read back after the
     * deletion, whatever the libvirt version) is redefined with that snapshot's disks (file and format, from its
     * captured record) in its {@code <domain>}, as {@link #without} predicts. The current snapshot stays current.
     */
    private static void recordStateInChildren(Libvirt libvirt, String domain, SnapshotTree before, List<String> deleted,
                                              Map<String, Object> capturedXml) throws StepFailure {
        String current = libvirt.snapshotCurrent(domain);
        for (SnapshotFacts child : before.snapshots()) {
            SnapshotFacts parent = child.parent() == null ? null : before.find(child.parent());
            if (deleted.contains(child.name()) || parent == null || !deleted.contains(parent.name())
                    || parent.externalDisks().isEmpty()) {
                continue;
            }
            String what = "the record of snapshot " + child.name() + " of " + domain;
            List<String> disks = parent.externalDisks().stream().map(SnapshotDisk::disk).toList();
            String xml;
            try {
                String now = libvirt.snapshotXmlDesc(domain, child.name());
                Map<String, String> recorded = SnapshotReader.read(now, what).activeFiles();
                if (disks.stream().allMatch(d -> java.util.Objects.equals(recorded.get(d), parent.activeFiles().get(d)))) {
                    continue; // libvirt recorded them itself (libvirt 9.0 does)
                }
                xml = SnapshotRecords.withDisksOf(now, (String) capturedXml.get(parent.name()), disks, what);
            } catch (dev.snapbook.steps.xml.SafeXml.Refused e) {
                throw new StepFailure(e.getMessage(), "inspect it with: virsh snapshot-dumpxml " + domain + " "
                        + child.name(), e);
            }
            EnumSet<Libvirt.SnapshotCreateOption> flags = EnumSet.of(Libvirt.SnapshotCreateOption.REDEFINE);
            if (child.name().equals(current)) {
                flags.add(Libvirt.SnapshotCreateOption.CURRENT);
            }
            libvirt.snapshotCreateXml(domain, xml, flags);
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public Verification verify(Params params, Outcome outcome, StepContext context) throws StepFailure {
        SnapshotTree tree = SnapshotList.observe(params, context);
        List<String> problems = new ArrayList<>();
        for (Object name : (List<Object>) outcome.data().get("deleted")) {
            if (tree.find((String) name) != null) {
                problems.add("snapshot " + name + " of " + params.string("domain") + " still exists");
            }
        }
        if (params.bool("children_only") && tree.find(params.string("snapshot")) == null) {
            problems.add("snapshot " + params.string("snapshot") + " was deleted, but only its children should be");
        }
        for (Object file : (List<Object>) outcome.data().get("kept_files")) {
            if (!Files.exists(Path.of((String) file))) {
                problems.add("file " + file + " is gone, but metadata_only must not delete files");
            }
        }
        return problems.isEmpty() ? Verification.ok() : new Verification(false, problems);
    }

    /** Redefines the captured snapshots, parents first, and makes the previous current snapshot current again. */
    @Override
    @SuppressWarnings("unchecked")
    public void undo(Params params, Map<String, Object> captured, Outcome outcome, StepContext context)
            throws StepFailure {
        if (!outcome.changed()) {
            return;
        }
        String domain = params.string("domain");
        Libvirt libvirt = Libvirt.session(context);
        // A snapshot whose state files changed since its metadata was dropped (a merge into them stopped part-way)
        // no longer holds its state exactly: it is not brought back as if it did.
        Map<String, Object> fingerprints = (Map<String, Object>) captured.getOrDefault("state_files", Map.of());
        Map<String, List<String>> changed = StateFiles.changed(fingerprints);
        List<String> notExact = new ArrayList<>();
        Map<String, Object> xmls = (Map<String, Object>) captured.get("xml");
        for (Map.Entry<String, Object> e : xmls.entrySet()) {
            List<String> files = changed.get(e.getKey());
            if (files != null && !files.isEmpty()) {
                notExact.add(e.getKey() + " (" + String.join(", ", files) + " changed)");
                continue;
            }
            libvirt.snapshotCreateXml(domain, (String) e.getValue(), EnumSet.of(Libvirt.SnapshotCreateOption.REDEFINE));
        }
        String current = (String) captured.get("current");
        if (current != null && xmls.containsKey(current) && changed.containsKey(current)
                && !changed.get(current).isEmpty()) {
            current = null;
        }
        if (current != null) {
            SnapshotCurrent.makeCurrent(libvirt, domain, current);
        }
        if (!notExact.isEmpty()) {
            throw new StepFailure("not restoring snapshot(s) " + String.join("; ", notExact) + " of " + domain
                    + ": their state files were written after their metadata was dropped (a merge into them stopped"
                    + " part-way), so they no longer hold their state exactly; the disk itself shows all its data",
                    "run the flatten again to finish the merge (recipe:flatten-commit), or restore those files from a"
                            + " backup; the dropped snapshots' XML is in this run's journal");
        }
    }

    private static List<String> affected(Params params, SnapshotTree tree) throws StepFailure {
        if (params.bool("all_external")) {
            return allExternal(params, tree);
        }
        if (params.has("snapshots")) {
            return listed(params, tree);
        }
        if (!params.has("snapshot")) {
            throw new StepFailure("snapshot.delete needs snapshot: NAME (or all_external: true)", null);
        }
        Snapshots.snapshot(tree, params.string("snapshot"));
        String name = params.string("snapshot");
        if (params.bool("children") && params.bool("children_only")) {
            throw new StepFailure("children and children_only cannot both be true",
                    "children: true deletes the snapshot and its descendants; children_only: true keeps the snapshot");
        }
        List<String> out = new ArrayList<>();
        if (!params.bool("children_only")) {
            out.add(name);
        }
        if (params.bool("children") || params.bool("children_only")) {
            out.addAll(tree.descendants(name));
        }
        return out;
    }

    /** Every external snapshot (of {@code disk} when given), in tree order; checks the parameters allow it. */
    private static List<String> allExternal(Params params, SnapshotTree tree) throws StepFailure {
        if (params.has("snapshot") || params.bool("children") || params.bool("children_only")) {
            throw new StepFailure("all_external: true deletes every external snapshot; it takes no snapshot,"
                    + " children or children_only", "leave those out");
        }
        if (!params.bool("metadata_only")) {
            throw new StepFailure("all_external: true needs metadata_only: true: deleting external snapshots'"
                    + " data means merging their overlays (block.commit / block.pull) first",
                    "add metadata_only: true after the merge");
        }
        String disk = params.optString("disk");
        List<String> out = new ArrayList<>();
        for (SnapshotFacts s : tree.snapshots()) {
            boolean external = disk == null ? !s.externalDisks().isEmpty()
                    : s.externalDisks().stream().anyMatch(d -> d.disk().equals(disk));
            if (external) {
                out.add(s.name());
            }
        }
        return out;
    }

    /**
     * The snapshots named in {@code snapshots}, in tree order; checks the parameters allow it. An external snapshot
     * whose child is not deleted too is refused: libvirt would record the deleted one's state files as the child's
     * (it assumes its overlay was merged down), which is wrong unless that merge is what the playbook does.
     */
    private static List<String> listed(Params params, SnapshotTree tree) throws StepFailure {
        if (params.has("snapshot") || params.bool("all_external") || params.bool("children")
                || params.bool("children_only")) {
            throw new StepFailure("snapshots: [...] names the snapshots to delete; it takes no snapshot, all_external,"
                    + " children or children_only", "leave those out");
        }
        if (!params.bool("metadata_only")) {
            throw new StepFailure("snapshots: [...] needs metadata_only: true", "add metadata_only: true");
        }
        Set<String> names = new LinkedHashSet<>();
        for (Object o : params.list("snapshots")) {
            names.add(Snapshots.snapshot(tree, String.valueOf(o)).name());
        }
        for (String name : names) {
            SnapshotFacts s = tree.find(name);
            if (s.externalDisks().isEmpty()) {
                continue;
            }
            for (String child : tree.children(name)) {
                if (!names.contains(child)) {
                    throw new StepFailure("refusing to drop the metadata of snapshot " + name + " of " + tree.domain()
                            + " without its child " + child + ": libvirt would record " + name + "'s state files as "
                            + child + "'s, and " + child + " would then show other data",
                            "drop " + child + " too, or keep " + name);
                }
            }
        }
        return tree.names().stream().filter(names::contains).toList();
    }

    /** {@code deleted} ordered so that each snapshot comes after all its deleted descendants. */
    private static List<String> leavesFirst(SnapshotTree tree, List<String> deleted) {
        List<String> inTreeOrder = new ArrayList<>(tree.names().stream().filter(deleted::contains).toList());
        java.util.Collections.reverse(inTreeOrder);
        return inTreeOrder;
    }

    /**
     * The tree without {@code deleted}: orphans move up to the nearest surviving ancestor, as libvirt does. With
     * {@code metadataOnly} the children of a deleted external snapshot also take its disks' files as theirs (libvirt
     * 9.0 records that itself; on other versions {@link #recordStateInChildren} does).
     */
    static SnapshotTree without(SnapshotTree tree, List<String> deleted, boolean metadataOnly) {
        List<SnapshotFacts> kept = new ArrayList<>();
        for (SnapshotFacts s : tree.snapshots()) {
            if (!deleted.contains(s.name())) {
                SnapshotFacts moved = s.withParent(survivor(tree, s.parent(), deleted));
                SnapshotFacts parent = s.parent() == null ? null : tree.find(s.parent());
                if (metadataOnly && parent != null && deleted.contains(parent.name())
                        && !parent.externalDisks().isEmpty()) {
                    // the children of a deleted external snapshot get its disks' files: the parent's overlay was
                    // merged down (block.commit), so the child's state now lives in the parent's state files
                    java.util.Map<String, String> active = new java.util.TreeMap<>(moved.activeFiles());
                    active.putAll(parent.activeFiles());
                    moved = new SnapshotFacts(moved.name(), moved.parent(), moved.description(), moved.state(),
                            moved.location(), moved.memory(), moved.disks(), active, moved.memoryFile());
                }
                kept.add(moved);
            }
        }
        String current = tree.current() == null ? null : survivor(tree, tree.current(), deleted);
        return new SnapshotTree(tree.domain(), current, kept);
    }

    private static String survivor(SnapshotTree tree, String name, List<String> deleted) {
        while (name != null && deleted.contains(name)) {
            name = tree.find(name).parent();
        }
        return name;
    }

    private static List<String> keptFiles(Params params, SnapshotTree tree, List<String> deleted) {
        if (!params.bool("metadata_only")) {
            return List.of();
        }
        Set<String> files = new LinkedHashSet<>();
        for (String name : deleted) {
            SnapshotFacts s = tree.find(name);
            s.externalDisks().forEach(d -> {
                if (d.file() != null) {
                    files.add(d.file());
                }
            });
            s.disks().forEach(d -> {
                if (!d.snapshot().equals("no") && s.activeFiles().containsKey(d.disk())) {
                    files.add(s.activeFiles().get(d.disk()));
                }
            });
            if (s.memoryFile() != null) {
                files.add(s.memoryFile());
            }
        }
        return List.copyOf(files);
    }

    private static String release(World world) throws StepFailure {
        return LibvirtRelease.version(LibvirtRelease.require(world).libvirt());
    }

    private static EnumSet<Libvirt.SnapshotDeleteOption> flags(Params params) {
        EnumSet<Libvirt.SnapshotDeleteOption> flags = EnumSet.noneOf(Libvirt.SnapshotDeleteOption.class);
        if (params.bool("children")) {
            flags.add(Libvirt.SnapshotDeleteOption.CHILDREN);
        }
        if (params.bool("children_only")) {
            flags.add(Libvirt.SnapshotDeleteOption.CHILDREN_ONLY);
        }
        if (params.bool("metadata_only")) {
            flags.add(Libvirt.SnapshotDeleteOption.METADATA_ONLY);
        }
        return flags;
    }

    private static Map<String, Object> result(List<String> deleted, String current, List<String> kept) {
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("deleted", deleted);
        result.put("current", current);
        result.put("kept_files", kept);
        return result;
    }
}
