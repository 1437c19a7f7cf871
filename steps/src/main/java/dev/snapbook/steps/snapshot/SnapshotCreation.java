package dev.snapbook.steps.snapshot;

import dev.snapbook.steps.state.Damage;
import dev.snapbook.steps.state.DiskStates;
import com.fasterxml.jackson.databind.JsonNode;
import dev.snapbook.engine.spi.Outcome;
import dev.snapbook.engine.spi.StepContext;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.engine.spi.Verification;
import dev.snapbook.engine.spi.World;
import dev.snapbook.steps.domain.DiskFacts;
import dev.snapbook.steps.domain.DomainFactSource;
import dev.snapbook.steps.domain.DomainFacts;
import dev.snapbook.steps.domain.Domains;
import dev.snapbook.steps.image.ImageFactSource;
import dev.snapbook.steps.image.FileNames;
import dev.snapbook.steps.image.ImageFacts;
import dev.snapbook.steps.state.DiskState;
import dev.snapbook.steps.image.BackingChain;
import dev.snapbook.steps.image.Qcow2Header;
import dev.snapbook.steps.libvirt.Libvirt;
import dev.snapbook.steps.libvirt.LibvirtRelease;
import dev.snapbook.steps.libvirt.PowerState;
import dev.snapbook.steps.libvirt.XmlView;
import dev.snapbook.steps.qemu.QemuImg;
import dev.snapbook.steps.xml.SafeXml;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

/**
 * The work shared by {@code snapshot.create} and {@code snapshot.create_xml}: resolving what each disk gets,
 * checking the preconditions, building the {@code <domainsnapshot>} with DOM, predicting, verifying and
 * undoing. Package-private.
 */
final class SnapshotCreation {

    /** What one disk should get, as asked: mode {@code internal|external|no}, overlay driver and file. */
    record DiskSpec(String disk, String snapshot, String driver, String file) {
    }

    /**
     * A snapshot to create, as asked. {@code onlyListed}: disks the diskspec does not name get no snapshot
     * (otherwise they get the default). A diskspec entry with {@code disk: all} applies to every disk of
     * device 'disk' that no other entry names.
     */
    record Request(String domain, String name, String description, boolean diskOnly, boolean atomic,
                   boolean quiesce, List<DiskSpec> disks, boolean onlyListed, boolean reuseExternal) {

        Request(String domain, String name, String description, boolean diskOnly, boolean atomic,
                boolean quiesce, List<DiskSpec> disks, boolean onlyListed) {
            this(domain, name, description, diskOnly, atomic, quiesce, disks, onlyListed, false);
        }

        Request(String domain, String name, String description, boolean diskOnly, boolean atomic,
                boolean quiesce, List<DiskSpec> disks) {
            this(domain, name, description, diskOnly, atomic, quiesce, disks, false);
        }
    }

    /** The diskspec {@code disk} value that stands for every disk (device 'disk'). */
    static final String ALL_DISKS = "all";

    /**
     * What one disk will get, resolved against the domain. {@code reused}: the overlay exists already and is
     * taken as it is ({@code reuse_external}); snapbook did not create it and never deletes it.
     */
    record Resolved(String disk, String snapshot, String overlay, String previous, String previousFormat,
                    boolean reused) {

        Resolved(String disk, String snapshot, String overlay, String previous, String previousFormat) {
            this(disk, snapshot, overlay, previous, previousFormat, false);
        }
    }

    /** How facts are read: from the planning world, or from the real system in apply. */
    interface Facts {
        DomainFacts domain(String name) throws StepFailure;

        SnapshotTree tree(String domain) throws StepFailure;

        GuestAgentFacts agent(String domain) throws StepFailure;

        ImageFacts image(String path) throws StepFailure;

        /** The disk-state model at this point. */
        DiskStates states() throws StepFailure;

        /** The libvirt and QEMU the snapshot is taken with. */
        LibvirtRelease release() throws StepFailure;
    }

    /** What {@link #verify} checks, for {@code snapbook steps snapshot.create} and {@code snapshot.create_xml}. */
    static final String VERIFIES = "Re-reads the snapshots from libvirt: the new snapshot must exist and be current,"
            + " and a disk-only snapshot must have no internal disk. For each external overlay, the snapshot must"
            + " record it, the domain's disk must now use it, and qemu-img info -U must show it backed by the disk's"
            + " previous file.";

    /** How {@link #undo} puts things back, for {@code snapbook steps snapshot.create} and {@code create_xml}. */
    static final String UNDOES = "An internal snapshot is deleted (virDomainSnapshotDelete). An external one only"
            + " while the domain is shut off: the persistent XML points the disks back at their previous files, the"
            + " snapshot's metadata is deleted, the previously current snapshot is made current again, and the"
            + " overlays are deleted unless a domain uses them, losing what was written to them since.";

    private SnapshotCreation() {
    }

    static Facts of(World world) {
        return new Facts() {
            public DomainFacts domain(String name) throws StepFailure {
                return Domains.require(world, name);
            }

            public SnapshotTree tree(String domain) throws StepFailure {
                return Snapshots.tree(world, domain);
            }

            public GuestAgentFacts agent(String domain) throws StepFailure {
                return world.get(GuestAgentFacts.key(domain));
            }

            public ImageFacts image(String path) throws StepFailure {
                return world.get(ImageFacts.key(path));
            }

            public DiskStates states() throws StepFailure {
                return DiskStates.of(world);
            }

            public LibvirtRelease release() throws StepFailure {
                return LibvirtRelease.require(world);
            }
        };
    }

    static Facts of(StepContext context) throws StepFailure {
        Libvirt libvirt = Libvirt.session(context);
        QemuImg qemuImg = new QemuImg(context::trace);
        return new Facts() {
            public DomainFacts domain(String name) throws StepFailure {
                DomainFacts f = DomainFactSource.observe(name, libvirt);
                if (f == null) {
                    throw new StepFailure("domain '" + name + "' does not exist on " + libvirt.uri(),
                            "check the name with: virsh list --all");
                }
                return f;
            }

            public SnapshotTree tree(String domain) throws StepFailure {
                return SnapshotFactSource.observe(domain, libvirt);
            }

            public GuestAgentFacts agent(String domain) throws StepFailure {
                return new GuestAgentFactSource().observe(domain, context);
            }

            public ImageFacts image(String path) throws StepFailure {
                return ImageFactSource.observe(Path.of(path), qemuImg);
            }

            public DiskStates states() throws StepFailure {
                return DiskStates.now(context);
            }

            public LibvirtRelease release() throws StepFailure {
                return LibvirtRelease.of(libvirt);
            }
        };
    }

    /** Resolves and checks the request; every refusal names the domain, the disk and what to do. */
    static List<Resolved> resolve(Request r, Facts facts) throws StepFailure {
        DomainFacts dom = facts.domain(r.domain());
        SnapshotTree tree = facts.tree(r.domain());
        String name = r.name();
        if (name == null || name.isBlank() || name.contains("/") || name.startsWith(".")) {
            throw new StepFailure("snapshot name '" + name + "' is not usable: it must be non-empty, contain no '/'"
                    + " and not start with '.' (it becomes part of overlay file names)", "choose another name");
        }
        if (FileNames.bytes(name) > FileNames.SNAPSHOT_NAME_MAX) {
            throw new StepFailure("snapshot name '" + name + "' is " + FileNames.bytes(name) + " bytes in UTF-8;"
                    + " libvirt keeps a snapshot as the file NAME.xml (written as NAME.xml.new first), and file names"
                    + " are at most "
                    + FileNames.NAME_MAX + " bytes", "choose a name of at most " + FileNames.SNAPSHOT_NAME_MAX
                    + " bytes (each non-ASCII letter takes 2 to 4)");
        }
        if (tree.find(name) != null) {
            throw new StepFailure("domain " + r.domain() + " already has a snapshot named '" + name + "'",
                    "choose another name, or delete the old one with snapshot.delete");
        }
        PowerState state = PowerState.ofLabel(dom.state());
        if (r.quiesce()) {
            if (!state.isRunning()) {
                throw new StepFailure("quiesce needs the guest agent of a running domain, but " + r.domain() + " is "
                        + dom.state(), "start it first (domain.start) or set quiesce: false");
            }
            GuestAgentFacts agent = facts.agent(r.domain());
            if (agent == null || !agent.channel()) {
                throw new StepFailure("quiesce needs the QEMU guest agent, but domain " + r.domain()
                        + " has no guest agent channel configured (<channel type='unix'><target type='virtio'"
                        + " name='org.qemu.guest_agent.0'/></channel>)",
                        "add the channel and install qemu-guest-agent in the guest, or set quiesce: false");
            }
            if (agent.disconnected()) {
                throw new StepFailure("quiesce needs the QEMU guest agent, but no agent is connected to the guest"
                        + " agent channel of domain " + r.domain() + " (the live XML shows its target"
                        + " state='disconnected'): qemu-guest-agent is not installed or not running in the guest",
                        "start qemu-guest-agent in the guest (virsh qemu-agent-command " + r.domain()
                                + " '{\"execute\":\"guest-ping\"}' answers once it runs), or set quiesce: false");
            }
            if (!r.diskOnly()) {
                throw new StepFailure("quiesce only applies to disk-only snapshots (libvirt refuses it otherwise)",
                        "set disk_only: true, or quiesce: false");
            }
        }
        Map<String, DiskSpec> specs = new LinkedHashMap<>();
        DiskSpec everyDisk = null;
        for (DiskSpec s : r.disks()) {
            if (s.disk() == null || s.disk().isBlank()) {
                throw new StepFailure("a diskspec entry of snapshot " + name + " names no disk",
                        "give each entry a disk: {disk: vda, snapshot: external}");
            }
            if (s.disk().equals(ALL_DISKS)) {
                if (everyDisk != null) {
                    throw new StepFailure("disk all appears twice in the diskspec", "list it once");
                }
                everyDisk = s;
            } else if (specs.put(s.disk(), s) != null) {
                throw new StepFailure("disk " + s.disk() + " appears twice in the diskspec", "list each disk once");
            }
            if (!s.disk().equals(ALL_DISKS) && dom.disks().stream().noneMatch(d -> d.target().equals(s.disk()))) {
                throw new StepFailure("domain " + r.domain() + " has no disk '" + s.disk() + "'; its disks are "
                        + dom.disks().stream().map(DiskFacts::target).toList(), "check the diskspec");
            }
            if (s.snapshot() != null && !List.of("internal", "external", "no").contains(s.snapshot())) {
                throw new StepFailure("diskspec of " + s.disk() + ": snapshot '" + s.snapshot()
                        + "' is not one of internal, external, no", "fix the diskspec");
            }
            if (s.driver() != null && !s.driver().equals("qcow2")) {
                throw new StepFailure("diskspec of " + s.disk() + ": driver '" + s.driver()
                        + "' is not supported; snapbook creates qcow2 overlays only", "omit driver or use qcow2");
            }
            if (s.file() != null && !Path.of(s.file()).isAbsolute()) {
                throw new StepFailure("diskspec of " + s.disk() + ": file '" + s.file() + "' is not an absolute path",
                        "give the overlay's absolute path");
            }
        }
        List<Resolved> resolved = new ArrayList<>();
        Set<String> overlays = new HashSet<>();
        if (everyDisk != null && everyDisk.file() != null
                && dom.disks().stream().filter(d -> d.device().equals("disk") && !specs.containsKey(d.target()))
                .count() > 1) {
            throw new StepFailure("diskspec disk: all gives one overlay file " + everyDisk.file() + " to several"
                    + " disks of " + r.domain(), "name the disk whose overlay goes to " + everyDisk.file());
        }
        for (DiskFacts d : dom.disks()) {
            boolean isDisk = d.device().equals("disk");
            DiskSpec spec = specs.get(d.target());
            if (spec == null && everyDisk != null && isDisk) {
                spec = everyDisk;
            }
            String mode = spec != null && spec.snapshot() != null ? spec.snapshot()
                    : spec == null && r.onlyListed() ? "no"
                    : !isDisk ? "no"
                    : r.diskOnly() || (spec != null && spec.file() != null) ? "external" : "internal";
            if (mode.equals("no")) {
                resolved.add(new Resolved(d.target(), "no", null, d.source(), d.format()));
                continue;
            }
            if (!isDisk) {
                throw new StepFailure("disk " + d.target() + " of " + r.domain() + " is a " + d.device()
                        + "; only device 'disk' can be snapshotted", "set snapshot: no for it in the diskspec");
            }
            if (d.source() == null) {
                throw new StepFailure("disk " + d.target() + " of " + r.domain() + " has no source", null);
            }
            Damage.refuseDisk(facts::image, r.domain(), d);
            if (mode.equals("internal")) {
                if (r.diskOnly()) {
                    throw new StepFailure("disk " + d.target() + ": a disk-only snapshot cannot be internal",
                            "use snapshot: external for it, or disk_only: false");
                }
                String format = d.format();
                if (format == null && "file".equals(d.type())) {
                    ImageFacts image = facts.image(d.source());
                    format = image == null ? null : image.format();
                }
                if (!"qcow2".equals(format)) {
                    throw new StepFailure("disk " + d.target() + " of " + r.domain() + " is " + format + " ("
                            + d.source() + "); internal snapshots live inside qcow2 images only",
                            "convert it to qcow2 first (image.convert), or take an external snapshot"
                                    + " (disk_only: true)");
                }
                resolved.add(new Resolved(d.target(), "internal", null, d.source(), format));
                continue;
            }
            if (!r.diskOnly()) {
                throw new StepFailure("disk " + d.target() + ": external disk snapshots need disk_only: true"
                        + " (snapbook takes no external memory snapshots)", "set disk_only: true");
            }
            if (!"file".equals(d.type())) {
                throw new StepFailure("disk " + d.target() + " of " + r.domain() + " is a '" + d.type()
                        + "' disk; snapbook creates external overlays for file disks only",
                        "set snapshot: no for it in the diskspec");
            }
            String overlay = spec != null && spec.file() != null ? spec.file() : defaultOverlay(d.source(), name);
            FileNames.requireFits(overlay, "the overlay of disk " + d.target() + " of " + r.domain(),
                    "give a shorter path with diskspec file:");
            if (overlay.equals(d.source()) || !overlays.add(overlay)) {
                throw new StepFailure("overlay " + overlay + " of disk " + d.target() + " is used twice",
                        "give each disk its own file in the diskspec");
            }
            boolean exists = facts.image(overlay) != null || Files.exists(Path.of(overlay));
            if (exists && !r.reuseExternal()) {
                throw new StepFailure("the overlay " + overlay + " for disk " + d.target() + " of " + r.domain()
                        + " already exists; snapbook never overwrites a file",
                        "choose another snapshot name or give a free path with diskspec file:; to take an overlay"
                                + " made beforehand (qemu-img create -b), set reuse_external: true");
            }
            if (!exists && r.reuseExternal()) {
                throw new StepFailure("reuse_external: true takes overlays made beforehand, but " + overlay + " (disk "
                        + d.target() + " of " + r.domain() + ") does not exist",
                        "create it first (qemu-img create -f qcow2 -b " + d.source() + " -F FORMAT " + overlay
                                + "), or leave reuse_external out to let snapbook create it");
            }
            ImageFacts previous = facts.image(d.source());
            if (previous == null) {
                throw new StepFailure("the image " + d.source() + " of disk " + d.target() + " does not exist", null);
            }
            String recorded = d.format() != null ? d.format() : previous.format();
            if (exists) {
                requireReusable(overlay, d, recorded, previous, facts.states(), r.domain());
            }
            resolved.add(new Resolved(d.target(), "external", overlay, d.source(), recorded, exists));
        }
        if (resolved.stream().allMatch(x -> x.snapshot().equals("no"))) {
            throw new StepFailure("snapshot " + name + " of " + r.domain() + " would include no disk",
                    "leave at least one disk with snapshot internal or external");
        }
        if (state.isActive() && resolved.stream().anyMatch(x -> x.snapshot().equals("internal"))) {
            facts.release().requireInternalSnapshotName(name, r.domain(), "save");
        }
        return resolved;
    }

    /**
     * Refuses an overlay made beforehand unless the guest would see through it exactly the disk's current data: a
     * qcow2 image whose backing file is the disk's current active image, with the format the domain records for
     * it, of the same virtual size, holding no data of its own, and read by no other state. (tp-libvirt's own
     * positive case reuses an overlay without a backing file, under which the guest sees an empty disk.)
     */
    private static void requireReusable(String overlay, DiskFacts d, String recorded, ImageFacts active,
                                        DiskStates states, String domain) throws StepFailure {
        String what = "the overlay " + overlay + " made beforehand for disk " + d.target() + " of " + domain;
        String hint = "create it with: qemu-img create -f qcow2 -b " + d.source() + " -F " + recorded + " " + overlay;
        Qcow2Header header;
        try {
            header = Qcow2Header.read(Path.of(overlay));
        } catch (Qcow2Header.Refused e) {
            throw new StepFailure(what + " is not a qcow2 image snapbook can read: " + e.getMessage(), hint);
        }
        if (header.backingFile() == null) {
            throw new StepFailure(what + " has no backing file: the guest would see its contents instead of the"
                    + " data of " + d.source(), hint);
        }
        String backing = Qcow2Header.hasProtocol(header.backingFile()) ? header.backingFile()
                : Qcow2Header.resolve(overlay, header.backingFile());
        if (!BackingChain.sameFile(backing, d.source())) {
            throw new StepFailure(what + " is backed by " + backing + ", not by the disk's current active image "
                    + d.source(), hint);
        }
        if (!recorded.equals(header.backingFormat())) {
            throw new StepFailure(what + " records its backing file's format as "
                    + (header.backingFormat() == null ? "nothing (qemu would probe it)" : header.backingFormat())
                    + ", but the domain records " + d.source() + " as " + recorded, hint);
        }
        if (header.size() != active.virtualSize()) {
            throw new StepFailure(what + " is " + header.size() + " bytes, but " + d.source() + " is "
                    + active.virtualSize() + ": the guest would see a disk of another size", hint);
        }
        if (Qcow2Header.hasData(header)) {
            throw new StepFailure(what + " already holds data of its own: the guest would see it instead of the"
                    + " data of " + d.source() + " at the snapshot", hint);
        }
        List<DiskState> users = states.containing(overlay);
        if (!users.isEmpty()) {
            throw new StepFailure(what + " is already part of these states:\n" + DiskStates.describe(users),
                    "make a new overlay for the snapshot");
        }
    }

    /**
     * Like libvirt: the image's path with its extension replaced by the snapshot's name; where that name would be
     * longer than a file name may be, shortened to fit ({@link FileNames#fit}), where libvirt would fail.
     */
    static String defaultOverlay(String source, String snapshot) {
        Path p = Path.of(source);
        String file = p.getFileName().toString();
        int dot = file.lastIndexOf('.');
        String base = dot > 0 ? file.substring(0, dot) : file;
        return p.resolveSibling(FileNames.fit(base + "." + snapshot, "", FileNames.NAME_MAX)).toString();
    }

    /** The {@code <domainsnapshot>} document, built with DOM. */
    static String xml(Request r, List<Resolved> disks) {
        Document doc;
        try {
            doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().newDocument();
        } catch (ParserConfigurationException e) {
            throw new IllegalStateException(e);
        }
        Element root = doc.createElement("domainsnapshot");
        doc.appendChild(root);
        append(doc, root, "name").setTextContent(r.name());
        if (r.description() != null) {
            append(doc, root, "description").setTextContent(r.description());
        }
        if (r.diskOnly()) {
            append(doc, root, "memory").setAttribute("snapshot", "no");
        }
        Element list = append(doc, root, "disks");
        for (Resolved d : disks) {
            Element disk = append(doc, list, "disk");
            disk.setAttribute("name", d.disk());
            disk.setAttribute("snapshot", d.snapshot());
            if (d.snapshot().equals("external")) {
                disk.setAttribute("type", "file");
                append(doc, disk, "driver").setAttribute("type", "qcow2");
                append(doc, disk, "source").setAttribute("file", d.overlay());
            }
        }
        return dev.snapbook.steps.xml.XmlText.write(doc);
    }

    private static Element append(Document doc, Element parent, String name) {
        Element e = doc.createElement(name);
        parent.appendChild(e);
        return e;
    }

    static EnumSet<Libvirt.SnapshotCreateOption> flags(Request r) {
        EnumSet<Libvirt.SnapshotCreateOption> flags = EnumSet.noneOf(Libvirt.SnapshotCreateOption.class);
        if (r.diskOnly()) {
            flags.add(Libvirt.SnapshotCreateOption.DISK_ONLY);
        }
        if (r.atomic()) {
            flags.add(Libvirt.SnapshotCreateOption.ATOMIC);
        }
        if (r.quiesce()) {
            flags.add(Libvirt.SnapshotCreateOption.QUIESCE);
        }
        if (r.reuseExternal()) {
            flags.add(Libvirt.SnapshotCreateOption.REUSE_EXT);
        }
        return flags;
    }

    /** Plans: the actions, and the world after (domain disks, snapshot tree, new overlays). */
    static List<String> plan(Request r, World world) throws StepFailure {
        Facts facts = of(world);
        List<Resolved> disks = resolve(r, facts);
        DomainFacts dom = facts.domain(r.domain());
        SnapshotTree tree = facts.tree(r.domain());
        List<String> actions = new ArrayList<>();
        actions.add("virDomainSnapshotCreateXML(" + r.domain() + ", " + xml(r, disks) + ", " + flags(r) + ")");
        DomainFacts after = dom;
        for (Resolved d : disks) {
            if (d.snapshot().equals("external")) {
                actions.add(d.disk() + ": " + (d.reused() ? "the overlay made beforehand " + d.overlay()
                        + " (checked: empty, backed by the active image, same format and size)" : "new overlay "
                        + d.overlay()) + " backed by " + d.previous() + " (" + d.previousFormat()
                        + "); the disk switches to it");
                after = Snapshots.withDisk(after, d.disk(), d.overlay(), "qcow2");
                ImageFacts prev = facts.image(d.previous());
                List<ImageFacts.Layer> chain = new ArrayList<>();
                chain.add(new ImageFacts.Layer(d.previous(), prev.format()));
                chain.addAll(prev.backingChain());
                world.put(ImageFacts.key(d.overlay()), new ImageFacts(d.overlay(), "qcow2", prev.virtualSize(), chain));
            }
        }
        world.put(DomainFacts.key(r.domain()), after);
        world.put(SnapshotTree.key(r.domain()), tree.with(predicted(r, dom, tree, disks), r.name()));
        return actions;
    }

    /** The snapshot as libvirt will describe it. */
    static SnapshotFacts predicted(Request r, DomainFacts dom, SnapshotTree tree, List<Resolved> disks) {
        boolean active = PowerState.ofLabel(dom.state()).isActive();
        boolean memory = !r.diskOnly() && active;
        // libvirt records a disk-only snapshot of a running domain as 'disk-snapshot', of a shut-off one as 'shutoff'.
        String state = r.diskOnly() && active ? "disk-snapshot" : dom.state();
        Set<String> modes = new HashSet<>();
        List<SnapshotDisk> sd = new ArrayList<>();
        for (Resolved d : disks) {
            if (!d.snapshot().equals("no")) {
                modes.add(d.snapshot());
            }
            sd.add(new SnapshotDisk(d.disk(), d.snapshot(), d.overlay(), d.overlay() == null ? null : "qcow2"));
        }
        if (memory) {
            modes.add("internal");
        }
        Map<String, String> activeFiles = new LinkedHashMap<>();
        for (DiskFacts d : dom.disks()) {
            if (d.source() != null && ("file".equals(d.type()) || "block".equals(d.type()))) {
                activeFiles.put(d.target(), d.source());
            }
        }
        return new SnapshotFacts(r.name(), tree.current(), r.description(), state,
                modes.size() > 1 ? "mixed" : modes.iterator().next(), memory, sd, activeFiles);
    }

    static Map<String, Object> result(Request r, List<Resolved> disks) {
        Map<String, Object> overlays = new LinkedHashMap<>();
        Map<String, Object> backing = new LinkedHashMap<>();
        for (Resolved d : disks) {
            if (d.snapshot().equals("external")) {
                overlays.put(d.disk(), d.overlay());
                backing.put(d.disk(), d.previous());
            }
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("name", r.name());
        result.put("overlays", overlays);
        result.put("backing", backing);
        result.put("reused", disks.stream().filter(Resolved::reused).map(Resolved::overlay).toList());
        return result;
    }

    static Map<String, Object> capture(Request r, StepContext context) throws StepFailure {
        Libvirt libvirt = Libvirt.session(context);
        Map<String, Object> captured = new LinkedHashMap<>();
        captured.put("previous_current", libvirt.snapshotCurrent(r.domain()));
        captured.put("inactive_xml", libvirt.xmlDesc(r.domain(), XmlView.INACTIVE));
        return captured;
    }

    static Outcome apply(Request r, StepContext context) throws StepFailure {
        List<Resolved> disks = resolve(r, of(context));
        Libvirt libvirt = Libvirt.session(context);
        libvirt.snapshotCreateXml(r.domain(), xml(r, disks), flags(r));
        long external = disks.stream().filter(d -> d.snapshot().equals("external")).count();
        return Outcome.changed("created snapshot " + r.name() + " of " + r.domain()
                + (external > 0 ? " with " + external + " external overlay(s)" : " (internal)"), result(r, disks));
    }

    @SuppressWarnings("unchecked")
    static Verification verify(Request r, Outcome outcome, StepContext context) throws StepFailure {
        Libvirt libvirt = Libvirt.session(context);
        List<String> problems = new ArrayList<>();
        SnapshotTree tree = SnapshotFactSource.observe(r.domain(), libvirt);
        SnapshotFacts s = tree == null ? null : tree.find(r.name());
        if (s == null) {
            return Verification.failed("libvirt has no snapshot " + r.name() + " of " + r.domain());
        }
        if (!r.name().equals(tree.current())) {
            problems.add("the current snapshot of " + r.domain() + " is " + tree.current() + ", not " + r.name());
        }
        Map<String, Object> overlays = (Map<String, Object>) outcome.data().get("overlays");
        Map<String, Object> backing = (Map<String, Object>) outcome.data().get("backing");
        DomainFacts dom = DomainFactSource.observe(r.domain(), libvirt);
        QemuImg qemuImg = new QemuImg(context::trace);
        for (Map.Entry<String, Object> e : overlays.entrySet()) {
            String disk = e.getKey();
            SnapshotDisk sd = s.disk(disk);
            if (sd == null || !"external".equals(sd.snapshot()) || !e.getValue().equals(sd.file())) {
                problems.add("snapshot " + r.name() + " does not record " + e.getValue() + " as the overlay of " + disk
                        + ": " + sd);
            }
            String source = dom.disks().stream().filter(d -> d.target().equals(disk)).map(DiskFacts::source)
                    .findFirst().orElse(null);
            if (!e.getValue().equals(source)) {
                problems.add("disk " + disk + " of " + r.domain() + " uses " + source + ", not the overlay "
                        + e.getValue());
            }
            JsonNode info = qemuImg.info(Path.of((String) e.getValue()), false).get(0);
            String actualBacking = info.path("full-backing-filename").asText(null);
            if (!Objects.equals(backing.get(disk), actualBacking)) {
                problems.add("overlay " + e.getValue() + " is backed by " + actualBacking + ", not "
                        + backing.get(disk));
            }
        }
        for (SnapshotDisk sd : s.disks()) {
            if (sd.snapshot().equals("internal") && r.diskOnly()) {
                problems.add("disk " + sd.disk() + " got an internal snapshot in a disk-only snapshot");
            }
        }
        return problems.isEmpty() ? Verification.ok() : new Verification(false, problems);
    }

    /**
     * Internal: deletes the snapshot (libvirt removes it from the qcow2 images). External: points the disks
     * back at their previous files in the persistent definition (the domain must be shut off: libvirt 9.0
     * cannot delete external snapshots in general, and swapping a running disk needs a block job), deletes
     * the snapshot's metadata, then the overlays it created unless a domain uses them. Whatever was written
     * to the overlays after the snapshot is discarded: that is what undoing the snapshot means.
     */
    @SuppressWarnings("unchecked")
    static void undo(Request r, Map<String, Object> captured, Outcome outcome, StepContext context)
            throws StepFailure {
        Libvirt libvirt = Libvirt.session(context);
        SnapshotTree tree = SnapshotFactSource.observe(r.domain(), libvirt);
        if (tree == null || tree.find(r.name()) == null) {
            context.trace("undo snapshot.create: snapshot " + r.name() + " of " + r.domain() + " is already gone");
            return;
        }
        Map<String, Object> overlays = (Map<String, Object>) outcome.data().get("overlays");
        Map<String, Object> backing = (Map<String, Object>) outcome.data().get("backing");
        if (overlays.isEmpty()) {
            libvirt.snapshotDelete(r.domain(), r.name(), EnumSet.noneOf(Libvirt.SnapshotDeleteOption.class));
            return;
        }
        if (libvirt.state(r.domain()).isActive()) {
            throw new StepFailure("cannot undo the external snapshot " + r.name() + " of " + r.domain()
                    + " while it runs: its disks write to " + overlays.values(),
                    "shut it down and run the undo again, or merge the overlays with block.commit (active, pivot)"
                            + " and then snapshot.delete with metadata_only: true");
        }
        DomainFacts dom = DomainFactSource.observe(r.domain(), libvirt);
        String xml = libvirt.xmlDesc(r.domain(), XmlView.INACTIVE);
        try {
            for (Map.Entry<String, Object> e : backing.entrySet()) {
                String previous = (String) e.getValue();
                String format = ImageFactSource.observe(Path.of(previous), new QemuImg(context::trace)).format();
                xml = DomainXml.withDiskSource(xml, e.getKey(), previous, format,
                        "the persistent XML of " + r.domain());
            }
        } catch (SafeXml.Refused ex) {
            throw new StepFailure(ex.getMessage(), null, ex);
        }
        Objects.requireNonNull(dom);
        libvirt.redefineKeepingSecrets(xml);
        libvirt.snapshotDelete(r.domain(), r.name(), EnumSet.of(Libvirt.SnapshotDeleteOption.METADATA_ONLY));
        String previousCurrent = (String) captured.get("previous_current");
        if (previousCurrent != null && !previousCurrent.equals(libvirt.snapshotCurrent(r.domain()))) {
            SnapshotCurrent.makeCurrent(libvirt, r.domain(), previousCurrent);
        }
        List<Object> reused = (List<Object>) outcome.data().getOrDefault("reused", List.of());
        for (Object overlay : overlays.values()) {
            if (!reused.contains(overlay)) {
                DiskStates.deleteCreated((String) overlay, context); // one made beforehand is not ours to delete
            }
        }
    }
}
