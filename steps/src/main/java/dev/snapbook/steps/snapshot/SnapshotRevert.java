package dev.snapbook.steps.snapshot;

import com.fasterxml.jackson.databind.JsonNode;
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
import dev.snapbook.steps.domain.DiskFacts;
import dev.snapbook.steps.domain.DomainFacts;
import dev.snapbook.steps.domain.Domains;
import dev.snapbook.steps.image.FileNames;
import dev.snapbook.steps.image.ImageFacts;
import dev.snapbook.steps.image.Qcow2Header;
import dev.snapbook.steps.libvirt.ConnectionHost;
import dev.snapbook.steps.libvirt.Libvirt;
import dev.snapbook.steps.libvirt.LibvirtRelease;
import dev.snapbook.steps.libvirt.PowerState;
import dev.snapbook.steps.libvirt.XmlView;
import dev.snapbook.steps.qemu.QemuImg;
import dev.snapbook.steps.state.Damage;
import dev.snapbook.steps.state.DiskState;
import dev.snapbook.steps.state.DiskStates;
import dev.snapbook.steps.xml.SafeXml;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Step {@code snapshot.revert}: puts a domain back to a snapshot.
 *
 * <p><b>Internal snapshots</b>: {@code virDomainRevertToSnapshot}. That discards the current state, so by
 * default ({@code safety_snapshot: true}) snapbook first takes an internal snapshot
 * {@code snapbook-before-revert-SNAPSHOT[-n]} of the current state; undo reverts to it and deletes it. After
 * a successful run it stays, named in the result, for the user to delete. With {@code safety_snapshot: false}
 * the step is irreversible.
 *
 * <p><b>External snapshots</b>: snapbook's own revert, on every libvirt version. Libvirt 9.0 refuses to revert
 * them; libvirt that reverts them itself (11.3, say) deletes the overlays the disks write to, losing the state
 * before the revert, so the plan's first line says which libvirt it found and that it keeps its own procedure
 * ({@link LibvirtRelease#externalRevertPath()}). The domain must
 * be shut off. For each disk of the snapshot a NEW qcow2 overlay
 * {@code STATE_DIR/DOMAIN-DISK.revert-SNAPSHOT-N.qcow2} is created on top of the file that held the disk's
 * state at the snapshot ({@code qemu-img create -b STATE -F FORMAT}); the persistent definition is changed
 * (DOM edit of that disk's source and driver type only) to use it; the snapshot becomes current. No existing
 * file is written: every other snapshot stays revertable, and the overlay that was active stays on disk
 * ({@code previous} in the result). That state is kept first-class: with {@code safety_snapshot} (the default)
 * the step first takes the disk-only external snapshot {@code snapbook-before-revert-SNAPSHOT[-n]} of the reverted
 * disks (its state files are the images that were active; its overlays are new and empty), so that libvirt, virsh
 * and snapbook all see it, the disk-state model protects it, and a later revert can go back to it. Undo restores
 * the captured persistent XML, deletes the new overlays and that snapshot with its empty overlays.
 *
 * <p>An internal revert rewrites the active content of the image that holds the internal snapshot; the plan
 * refuses it while any other state reads that content (an external snapshot whose chain is on it, another
 * domain's disk, an overlay the disk runs on, which the safety snapshot could not keep).
 *
 * <p>Result: {@code {snapshot, location, disks: {vda: {source, backing}}, previous: {vda: file},
 * safety_snapshot: name|null, state}}.
 */
public final class SnapshotRevert implements Step {

    private static final String SAFETY_PREFIX = "snapbook-before-revert-";

    /** One disk of an external revert. */
    record DiskRevert(String disk, String state, String stateFormat, String overlay, String previous) {
    }

    @Override
    public String name() {
        return "snapshot.revert";
    }

    @Override
    public String summary() {
        return "Reverts a domain to a snapshot; external ones by a new overlay on the snapshot's state (shut off).";
    }

    @Override
    public List<Param> params() {
        return List.of(Snapshots.DOMAIN, Snapshots.SNAPSHOT,
                Param.optional("running", ParamType.BOOLEAN, null,
                        "internal snapshots: true starts the domain after the revert, false leaves it paused;"
                                + " omitted: the state the snapshot recorded. External: the domain stays shut off"
                                + " (add domain.start after)"),
                Param.optional("safety_snapshot", ParamType.BOOLEAN, true,
                        "first keep the current state as snapshot snapbook-before-revert-SNAPSHOT[-n]: internal"
                                + " snapshots, an internal snapshot (false makes the step irreversible); external ones,"
                                + " a disk-only snapshot whose state is the current image of each reverted disk (false"
                                + " is refused when nothing else names that image)"),
                Param.optional("memory", ParamType.STRING, "restore",
                        "external snapshots that hold the guest's memory (virsh --memspec): restore (the default)"
                                + " is refused, since snapbook cannot restore an external memory state; discard"
                                + " reverts the disks only, so the VM boots from the disk state alone, as after a"
                                + " power cut, and the memory file stays with the snapshot")
                        .oneOf("restore", "discard"));
    }

    @Override
    public String preconditions() {
        return "The domain and the snapshot must exist at this point of the plan, and the snapshot must be wholly"
                + " internal or wholly external. An external revert needs the domain shut off and running not true,"
                + " and for each external disk the file that held its state at the snapshot must exist and the disk"
                + " must still be a file disk of the domain. An internal revert with safety_snapshot also needs what"
                + " an internal snapshot.create needs (qcow2 images).";
    }

    @Override
    public String verifies() {
        return "libvirt must report the snapshot as current and the domain in the state the step reported. For an"
                + " external revert, each disk must use its new overlay, and qemu-img info must show the overlay"
                + " backed by the snapshot's state file.";
    }

    @Override
    public String undoes() {
        return "External (only while the domain is shut off): restores the captured persistent XML and deletes the new"
                + " overlays unless a domain uses them. Internal: reverts to the safety snapshot and deletes it; with"
                + " safety_snapshot: false there is none and the revert is irreversible. Then the previously current"
                + " snapshot is made current again.";
    }

    @Override
    public Reversibility reversibility(Params params) {
        // External reverts are always reversible; an internal one only with the safety snapshot. Which one the
        // snapshot is only the world knows, so without the safety snapshot the answer is the cautious one.
        return params.bool("safety_snapshot") ? Reversibility.REVERSIBLE : Reversibility.IRREVERSIBLE;
    }

    @Override
    public Planned plan(Params params, World world) throws StepFailure {
        ConnectionHost.requireLocalFiles(world, name());
        String domain = params.string("domain");
        SnapshotTree tree = Snapshots.tree(world, domain);
        SnapshotFacts s = Snapshots.snapshot(tree, params.string("snapshot"));
        DomainFacts dom = Domains.require(world, domain);
        Damage.refuseSnapshot(world, domain, s);
        if (s.location().equals("external")) {
            refuseMemory(params, s, domain);
            List<DiskRevert> disks = external(params, s, dom, p -> world.get(ImageFacts.key(p)));
            List<String> actions = new ArrayList<>();
            actions.add(LibvirtRelease.require(world).externalRevertPath());
            if (s.memory()) {
                actions.add("the memory state of " + s.name() + (s.memoryFile() == null ? "" : " (" + s.memoryFile()
                        + ")") + " is not restored (memory: discard): " + domain + " will boot from the disk state"
                        + " alone, as after a power cut; the memory file stays with the snapshot");
            }
            String kept = null;
            if (params.bool("safety_snapshot")) {
                kept = safetyName(tree, s.name());
                actions.addAll(SnapshotCreation.plan(keepRequest(domain, kept, s.name(), disks), world));
                actions.add("the state before the revert is kept as snapshot " + kept + ": its state files are "
                        + disks.stream().map(DiskRevert::previous).toList());
                tree = Snapshots.tree(world, domain);
                dom = Domains.require(world, domain);
            } else {
                refuseUnnamed(DiskStates.of(world), domain, disks);
            }
            DomainFacts after = dom;
            for (DiskRevert d : disks) {
                actions.add("qemu-img create -f qcow2 -b " + d.state() + " -F " + d.stateFormat() + " " + d.overlay());
                ImageFacts state = world.get(ImageFacts.key(d.state()));
                List<ImageFacts.Layer> chain = new ArrayList<>();
                chain.add(new ImageFacts.Layer(d.state(), state.format()));
                chain.addAll(state.backingChain());
                world.put(ImageFacts.key(d.overlay()), new ImageFacts(d.overlay(), "qcow2", state.virtualSize(), chain));
                after = Snapshots.withDisk(after, d.disk(), d.overlay(), "qcow2");
            }
            actions.add("virDomainDefineXML(" + domain + " with " + disks.stream().map(d -> d.disk() + " → "
                    + d.overlay()).toList() + "); the previous files stay on disk");
            actions.add("virDomainSnapshotCreateXML(" + domain + ", <XML of " + s.name() + ">, REDEFINE|CURRENT)");
            world.put(DomainFacts.key(domain), after);
            world.put(SnapshotTree.key(domain), tree.withCurrent(s.name()));
            return Planned.change(actions, externalResult(s, disks, kept));
        }
        if (!s.location().equals("internal")) {
            throw new StepFailure("snapshot " + s.name() + " of " + domain + " is " + s.location()
                    + "; snapbook reverts snapshots that are wholly internal or wholly external",
                    "inspect it with: virsh snapshot-dumpxml " + domain + " " + s.name());
        }
        refuseRewrite(DiskStates.of(world), s, dom, params.bool("safety_snapshot"));
        if (s.memory()) {
            // libvirt starts QEMU and loads a snapshot that holds memory into it, whatever the domain's state now
            LibvirtRelease.require(world).requireInternalSnapshotName(s.name(), domain, "load");
        }
        List<String> actions = new ArrayList<>();
        String safety = null;
        if (params.bool("safety_snapshot")) {
            safety = safetyName(tree, s.name());
            actions.addAll(SnapshotCreation.plan(safetyRequest(domain, safety, s.name()), world));
        }
        String state = expectedState(params, s);
        world.put(DomainFacts.key(domain), Domains.require(world, domain).withState(state));
        world.put(SnapshotTree.key(domain), Snapshots.tree(world, domain).withCurrent(s.name()));
        actions.add("virDomainRevertToSnapshot(" + domain + ", " + s.name() + ", " + revertFlags(params) + ")");
        return Planned.change(actions, internalResult(s, safety, state));
    }

    @Override
    public Map<String, Object> capture(Params params, StepContext context) throws StepFailure {
        Libvirt libvirt = Libvirt.session(context);
        Map<String, Object> captured = new LinkedHashMap<>();
        captured.put("inactive_xml", libvirt.xmlDesc(params.string("domain"), XmlView.INACTIVE));
        captured.put("previous_current", libvirt.snapshotCurrent(params.string("domain")));
        return captured;
    }

    @Override
    public Outcome apply(Params params, Map<String, Object> captured, StepContext context) throws StepFailure {
        String domain = params.string("domain");
        Libvirt libvirt = Libvirt.session(context);
        SnapshotTree tree = SnapshotList.observe(params, context);
        SnapshotFacts s = Snapshots.snapshot(tree, params.string("snapshot"));
        SnapshotCreation.Facts facts = SnapshotCreation.of(context);
        DomainFacts dom = facts.domain(domain);
        Damage.refuseSnapshot(null, domain, s);
        if (s.location().equals("external")) {
            refuseMemory(params, s, domain);
            List<DiskRevert> disks = external(params, s, dom, facts::image);
            String kept = null;
            if (params.bool("safety_snapshot")) {
                kept = safetyName(tree, s.name());
                SnapshotCreation.apply(keepRequest(domain, kept, s.name(), disks), context);
            } else {
                refuseUnnamed(DiskStates.now(context), domain, disks);
            }
            QemuImg qemuImg = new QemuImg(context::trace);
            List<String> created = new ArrayList<>();
            try {
                String xml = libvirt.xmlDesc(domain, XmlView.INACTIVE);
                for (DiskRevert d : disks) {
                    qemuImg.createOverlay(Path.of(d.overlay()), Path.of(d.state()), d.stateFormat());
                    created.add(d.overlay());
                    xml = DomainXml.withDiskSource(xml, d.disk(), d.overlay(), "qcow2",
                            "the persistent XML of " + domain);
                }
                libvirt.redefineKeepingSecrets(xml);
            } catch (SafeXml.Refused | StepFailure e) {
                for (String file : created) {
                    try {
                        DiskStates.deleteCreated(file, context);
                    } catch (StepFailure cleanup) {
                        e.addSuppressed(cleanup);
                    }
                }
                StepFailure failure = e instanceof StepFailure f ? f : new StepFailure(e.getMessage(), null, e);
                if (kept != null) {
                    try {
                        dropKept(libvirt, domain, kept, (String) captured.get("inactive_xml"), context);
                    } catch (StepFailure cleanup) {
                        failure.addSuppressed(cleanup);
                    }
                }
                throw failure;
            }
            SnapshotCurrent.makeCurrent(libvirt, domain, s.name());
            return Outcome.changed("reverted " + domain + " to external snapshot " + s.name() + " through new"
                    + " overlay(s) " + created + (kept == null ? "" : "; the state before is kept as snapshot " + kept),
                    externalResult(s, disks, kept));
        }
        if (!s.location().equals("internal")) {
            throw new StepFailure("snapshot " + s.name() + " of " + domain + " is " + s.location()
                    + "; snapbook reverts wholly internal or wholly external snapshots only", null);
        }
        refuseRewrite(DiskStates.now(context), s, dom, params.bool("safety_snapshot"));
        String safety = null;
        if (params.bool("safety_snapshot")) {
            safety = safetyName(tree, s.name());
            SnapshotCreation.apply(safetyRequest(domain, safety, s.name()), context);
        }
        libvirt.snapshotRevert(domain, s.name(), revertFlags(params));
        return Outcome.changed("reverted " + domain + " to internal snapshot " + s.name()
                        + (safety == null ? "" : "; the state before is kept as snapshot " + safety),
                internalResult(s, safety, libvirt.state(domain).label()));
    }

    @Override
    @SuppressWarnings("unchecked")
    public Verification verify(Params params, Outcome outcome, StepContext context) throws StepFailure {
        String domain = params.string("domain");
        Libvirt libvirt = Libvirt.session(context);
        List<String> problems = new ArrayList<>();
        String current = libvirt.snapshotCurrent(domain);
        if (!params.string("snapshot").equals(current)) {
            problems.add("the current snapshot of " + domain + " is " + current + ", not " + params.string("snapshot"));
        }
        String state = libvirt.state(domain).label();
        if (!state.equals(outcome.data().get("state"))) {
            problems.add(domain + " is " + state + ", not " + outcome.data().get("state"));
        }
        if ("external".equals(outcome.data().get("location"))) {
            DomainFacts dom = SnapshotCreation.of(context).domain(domain);
            QemuImg qemuImg = new QemuImg(context::trace);
            for (Map.Entry<String, Object> e : ((Map<String, Object>) outcome.data().get("disks")).entrySet()) {
                Map<String, Object> d = (Map<String, Object>) e.getValue();
                String source = dom.disks().stream().filter(x -> x.target().equals(e.getKey()))
                        .map(DiskFacts::source).findFirst().orElse(null);
                if (!Objects.equals(source, d.get("source"))) {
                    problems.add("disk " + e.getKey() + " of " + domain + " uses " + source + ", not " + d.get("source"));
                    continue;
                }
                JsonNode info = qemuImg.info(Path.of(source), false).get(0);
                String backing = info.path("full-backing-filename").asText(null);
                if (!Objects.equals(backing, d.get("backing"))) {
                    problems.add("overlay " + source + " is backed by " + backing + ", not " + d.get("backing"));
                }
            }
        }
        return problems.isEmpty() ? Verification.ok() : new Verification(false, problems);
    }

    @Override
    @SuppressWarnings("unchecked")
    public void undo(Params params, Map<String, Object> captured, Outcome outcome, StepContext context)
            throws StepFailure {
        String domain = params.string("domain");
        Libvirt libvirt = Libvirt.session(context);
        if ("external".equals(outcome.data().get("location"))) {
            if (libvirt.state(domain).isActive()) {
                throw new StepFailure("cannot undo the revert of " + domain + " while it runs on the new overlays",
                        "shut it down (domain.shutdown) and undo again");
            }
            libvirt.redefineKeepingSecrets((String) captured.get("inactive_xml"));
            for (Object d : ((Map<String, Object>) outcome.data().get("disks")).values()) {
                DiskStates.deleteCreated((String) ((Map<String, Object>) d).get("source"), context);
            }
            String kept = (String) outcome.data().get("safety_snapshot");
            if (kept != null) {
                dropKept(libvirt, domain, kept, (String) captured.get("inactive_xml"), context);
            }
        } else {
            String safety = (String) outcome.data().get("safety_snapshot");
            if (safety == null) {
                throw new StepFailure("the revert of " + domain + " to " + params.string("snapshot")
                        + " cannot be undone: no safety snapshot was taken", null);
            }
            libvirt.snapshotRevert(domain, safety, EnumSet.noneOf(Libvirt.SnapshotRevertOption.class));
            libvirt.snapshotDelete(domain, safety, EnumSet.noneOf(Libvirt.SnapshotDeleteOption.class));
        }
        String previous = (String) captured.get("previous_current");
        if (previous != null && !previous.equals(libvirt.snapshotCurrent(domain))) {
            SnapshotCurrent.makeCurrent(libvirt, domain, previous);
        }
    }

    /** How snapbook reverts each disk of an external snapshot; checks every precondition. */
    static List<DiskRevert> external(Params params, SnapshotFacts s, DomainFacts dom, ImageLookup images)
            throws StepFailure {
        String domain = dom.name();
        if (PowerState.ofLabel(dom.state()) != PowerState.SHUTOFF) {
            throw new StepFailure("domain " + domain + " is " + dom.state() + "; reverting to the external snapshot "
                    + s.name() + " needs it shut off", "add a domain.shutdown step before snapshot.revert");
        }
        if (Boolean.TRUE.equals(params.get("running"))) {
            throw new StepFailure("running: true is not supported for the external snapshot " + s.name(),
                    "omit running and add a domain.start step after snapshot.revert");
        }
        List<DiskRevert> out = new ArrayList<>();
        for (SnapshotDisk d : s.externalDisks()) {
            String state = s.activeFiles().get(d.disk());
            if (state == null) {
                throw new StepFailure("snapshot " + s.name() + " of " + domain + " does not record which file disk "
                        + d.disk() + " used when it was taken, so its state cannot be found",
                        "inspect it with: virsh snapshot-dumpxml " + domain + " " + s.name());
            }
            ImageFacts stateImage = images.image(state);
            if (stateImage == null) {
                throw new StepFailure("the file holding disk " + d.disk() + " at snapshot " + s.name() + ", " + state
                        + ", does not exist; the snapshot cannot be reverted", null);
            }
            String stateFormat = recordedFormat(d, stateImage);
            DiskFacts current = dom.disks().stream().filter(x -> x.target().equals(d.disk())).findFirst().orElse(null);
            if (current == null || !"file".equals(current.type())) {
                throw new StepFailure("domain " + domain + " has no file disk " + d.disk() + " any more", null);
            }
            String dir = Path.of(state).getParent().toString();
            String overlay;
            int n = 1;
            do {
                overlay = Path.of(dir, FileNames.fit(domain + "-" + d.disk() + ".revert-" + s.name(),
                        "-" + n + ".qcow2", FileNames.NAME_MAX)).toString();
                n++;
            } while (images.image(overlay) != null || Files.exists(Path.of(overlay)));
            FileNames.requireFits(overlay, "the new overlay of disk " + d.disk(), "move the state file "
                    + state + " to a directory with a shorter path");
            out.add(new DiskRevert(d.disk(), state, stateFormat, overlay, current.source()));
        }
        if (out.isEmpty()) {
            throw new StepFailure("snapshot " + s.name() + " of " + domain + " has no external disk", null);
        }
        return out;
    }

    /**
     * The format the state file was recorded as: by the overlay the snapshot created over it (its backing-format
     * field), which is what the new overlay records too; never a probe of the file. {@link Damage} has already
     * refused a state file whose contents or size disagree with that record; an overlay that records no format
     * (made by an old qemu) leaves the file's own format.
     */
    private static String recordedFormat(SnapshotDisk d, ImageFacts stateImage) {
        try {
            Qcow2Header overlay = d.file() == null ? null : Qcow2Header.read(Path.of(d.file()));
            return overlay == null || overlay.backingFormat() == null ? stateImage.format() : overlay.backingFormat();
        } catch (StepFailure e) {
            return stateImage.format(); // no readable overlay left: the file's own format is all there is
        }
    }

    /**
     * An external snapshot with memory state is reverted only with {@code memory: discard}: snapbook reverts its
     * disks, and cannot restore the memory that a resume would need.
     */
    private static void refuseMemory(Params params, SnapshotFacts s, String domain) throws StepFailure {
        if (s.memory() && !"discard".equals(params.string("memory"))) {
            throw new StepFailure("snapshot " + s.name() + " of " + domain + " holds the guest's memory"
                    + (s.memoryFile() == null ? "" : " in " + s.memoryFile()) + "; snapbook reverts an external"
                    + " snapshot's disks and cannot restore its memory, so " + domain + " would boot from the disk"
                    + " state alone, as after a power cut, not resume where it was",
                    "to revert the disks anyway, say so: memory: discard (recipe:external-snapshot-revert -e"
                            + " memory=discard); the memory file stays with the snapshot");
        }
    }

    @FunctionalInterface
    interface ImageLookup {
        ImageFacts image(String path) throws StepFailure;
    }

    /**
     * The disk-only snapshot that keeps the state just before an external revert: an external snapshot of each
     * reverted disk (a new, empty overlay over its current image), no other disk.
     */
    private static SnapshotCreation.Request keepRequest(String domain, String name, String snapshot,
                                                        List<DiskRevert> disks) {
        List<SnapshotCreation.DiskSpec> specs = disks.stream()
                .map(d -> new SnapshotCreation.DiskSpec(d.disk(), "external", "qcow2", null)).toList();
        return new SnapshotCreation.Request(domain, name, "the state of " + domain + " just before snapbook reverted"
                + " it to " + snapshot + ", kept by snapbook", true, true, false, specs, true);
    }

    /**
     * Removes the snapshot that kept the state before a revert that is being undone: the disks are already back on
     * their previous images ({@code inactiveXml}), so its metadata and its empty overlays go.
     */
    @SuppressWarnings("unchecked")
    private static void dropKept(Libvirt libvirt, String domain, String kept, String inactiveXml, StepContext context)
            throws StepFailure {
        SnapshotTree tree = SnapshotFactSource.observe(domain, libvirt);
        SnapshotFacts k = tree == null ? null : tree.find(kept);
        if (k == null) {
            return;
        }
        libvirt.redefineKeepingSecrets(inactiveXml);
        libvirt.snapshotDelete(domain, kept, EnumSet.of(Libvirt.SnapshotDeleteOption.METADATA_ONLY));
        for (SnapshotDisk d : k.externalDisks()) {
            if (d.file() != null) {
                DiskStates.deleteCreated(d.file(), context);
            }
        }
    }

    /**
     * Without the kept snapshot, the images the disks run on now must still be named by some other state after
     * the revert (a snapshot whose state they hold); otherwise the data written since would be in a file no
     * libvirt object names.
     */
    private static void refuseUnnamed(DiskStates states, String domain, List<DiskRevert> disks) throws StepFailure {
        for (DiskRevert d : disks) {
            boolean named = states.containing(d.previous()).stream()
                    .anyMatch(x -> x.kind() == DiskState.Kind.SNAPSHOT || !x.domain().equals(domain)
                            && x.kind() != DiskState.Kind.OVERLAY);
            if (!named) {
                throw new StepFailure("refusing to revert " + domain + " without keeping its current state: "
                        + d.previous() + " (disk " + d.disk() + ") holds what was written since, and after the revert"
                        + " no snapshot or disk would name it", "leave safety_snapshot at true: the state is then"
                        + " kept as a snapshot you can revert to or delete");
            }
        }
    }

    /**
     * An internal revert rewrites the active content of each image that holds the snapshot's internal state: it
     * is refused while any state other than the disk itself reads that content, and, with the safety snapshot,
     * while the disk runs on an overlay above it (the safety snapshot would be taken in that overlay, which reads
     * the very content the revert rewrites).
     */
    private static void refuseRewrite(DiskStates states, SnapshotFacts s, DomainFacts dom, boolean safety)
            throws StepFailure {
        String domain = dom.name();
        for (SnapshotDisk d : s.disks()) {
            String file = s.activeFiles().get(d.disk());
            if (!"internal".equals(d.snapshot()) || file == null) {
                continue;
            }
            List<DiskState> broken = states.readingActive(file).stream()
                    .filter(DiskStates.notDisk(domain, d.disk())).toList();
            if (!broken.isEmpty()) {
                throw new StepFailure("refusing to revert " + domain + " to internal snapshot " + s.name() + ": it"
                        + " lives inside " + file + ", and the revert rewrites that image's content, which these"
                        + " states read:\n" + DiskStates.describe(broken),
                        "delete or flatten those states first (recipe:external-snapshot-delete, recipe:flatten-commit);"
                                + " snapbook never rewrites an image another state reads");
            }
            DiskFacts now = dom.disks().stream().filter(x -> x.target().equals(d.disk())).findFirst().orElse(null);
            if (safety && now != null && now.source() != null && !dev.snapbook.steps.image.BackingChain.sameFile(
                    now.source(), file)) {
                throw new StepFailure("refusing to revert " + domain + " to internal snapshot " + s.name() + ": disk "
                        + d.disk() + " now runs on " + now.source() + ", an overlay above " + file + "; its state"
                        + " reads " + file + ", which the revert rewrites, so no safety snapshot could keep it",
                        "revert to an external snapshot instead, or flatten the disk into " + file
                                + " first (recipe:flatten-commit)");
            }
        }
    }

    private static String safetyName(SnapshotTree tree, String snapshot) {
        String name = FileNames.fitSnapshotName(SAFETY_PREFIX + snapshot, "");
        for (int n = 2; tree.find(name) != null; n++) {
            name = FileNames.fitSnapshotName(SAFETY_PREFIX + snapshot, "-" + n);
        }
        return name;
    }

    private static SnapshotCreation.Request safetyRequest(String domain, String safety, String snapshot) {
        return new SnapshotCreation.Request(domain, safety, "taken by snapbook before reverting to " + snapshot,
                false, true, false, List.of());
    }

    private static String expectedState(Params params, SnapshotFacts s) {
        Object running = params.get("running");
        if (running != null) {
            return (Boolean) running ? PowerState.RUNNING.label() : PowerState.PAUSED.label();
        }
        return s.state().equals("running") || s.state().equals("paused") ? s.state() : PowerState.SHUTOFF.label();
    }

    private static EnumSet<Libvirt.SnapshotRevertOption> revertFlags(Params params) {
        Object running = params.get("running");
        if (running == null) {
            return EnumSet.noneOf(Libvirt.SnapshotRevertOption.class);
        }
        return EnumSet.of((Boolean) running ? Libvirt.SnapshotRevertOption.RUNNING
                : Libvirt.SnapshotRevertOption.PAUSED);
    }

    private static Map<String, Object> externalResult(SnapshotFacts s, List<DiskRevert> disks, String kept) {
        Map<String, Object> ds = new LinkedHashMap<>();
        Map<String, Object> previous = new LinkedHashMap<>();
        for (DiskRevert d : disks) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("source", d.overlay());
            m.put("backing", d.state());
            ds.put(d.disk(), m);
            previous.put(d.disk(), d.previous());
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("snapshot", s.name());
        result.put("location", "external");
        result.put("disks", ds);
        result.put("previous", previous);
        result.put("safety_snapshot", kept);
        result.put("state", PowerState.SHUTOFF.label());
        return result;
    }

    private static Map<String, Object> internalResult(SnapshotFacts s, String safety, String state) {
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("snapshot", s.name());
        result.put("location", "internal");
        result.put("disks", Map.of());
        result.put("previous", Map.of());
        result.put("safety_snapshot", safety);
        result.put("state", state);
        return result;
    }
}
