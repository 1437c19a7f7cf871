package dev.snapbook.steps.snapshot;

import dev.snapbook.engine.spi.Param;
import dev.snapbook.engine.spi.ParamType;
import dev.snapbook.engine.spi.Params;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.steps.xml.SafeXml;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

/**
 * Step {@code snapshot.create_xml}: takes a snapshot described by a {@code <domainsnapshot>} file, like
 * {@code virsh snapshot-create DOMAIN FILE}. The file is parsed with {@link SafeXml} (a doctype is refused);
 * its name, description and disks (mode, overlay file, driver) are read and the snapshot is then planned,
 * built (with DOM), verified and undone exactly as {@code snapshot.create} does. Elements snapbook cannot
 * honour (an external memory file, a redefinition with {@code <domain>}, non-file overlays) are refused.
 *
 * <p>Result: as {@code snapshot.create}.
 */
public final class SnapshotCreateXml extends SnapshotCreating {

    @Override
    public String name() {
        return "snapshot.create_xml";
    }

    @Override
    public String summary() {
        return "Takes a snapshot described by a <domainsnapshot> XML file (virsh snapshot-create).";
    }

    @Override
    public List<Param> params() {
        return List.of(Snapshots.DOMAIN,
                Param.required("file", ParamType.PATH, "the <domainsnapshot> XML file"),
                Param.optional("disk_only", ParamType.BOOLEAN, false,
                        "an external disk-only snapshot; also implied by <memory snapshot='no'/> in the file"),
                Param.optional("atomic", ParamType.BOOLEAN, true, "all disks or none"),
                Param.optional("quiesce", ParamType.BOOLEAN, false,
                        "freeze the guest's filesystems through the guest agent"));
    }

    @Override
    public String preconditions() {
        return "The file must parse safely as a named <domainsnapshot> that is not a redefinition (no <domain>,"
                + " <parent>, <state>, ...), asks for no external memory and has no disk with snapshot='manual'. Then"
                + " the checks of snapshot.create apply: the domain exists without a snapshot of that name, internal"
                + " snapshots need qcow2 images, external overlay files must not exist, and quiesce needs disk_only"
                + " and a running domain with a guest agent channel that an agent has open.";
    }

    @Override
    List<String> actionsBefore(Params params) {
        return List.of("read " + params.string("file"));
    }

    @Override
    SnapshotCreation.Request request(Params params) throws StepFailure {
        String file = params.string("file");
        String text;
        try {
            text = Files.readString(Path.of(file));
        } catch (IOException e) {
            throw new StepFailure("cannot read snapshot XML file " + file + ": " + e.getMessage(),
                    "check the path", e);
        }
        try {
            return request(params, SafeXml.parse(text, "snapshot XML file " + file), file);
        } catch (SafeXml.Refused e) {
            throw new StepFailure(e.getMessage(), "fix the file; see virsh snapshot-create and libvirt's"
                    + " formatsnapshot documentation", e);
        }
    }

    static SnapshotCreation.Request request(Params params, Document doc, String file) throws SafeXml.Refused {
        String what = "snapshot XML file " + file;
        SnapshotFacts facts = SnapshotReader.read(doc, what);
        Element root = doc.getDocumentElement();
        for (String unsupported : List.of("domain", "inactiveDomain", "parent", "creationTime", "state", "active",
                "cookie")) {
            if (SafeXml.child(root, unsupported) != null) {
                throw new SafeXml.Refused(what + " has <" + unsupported + ">, which only a redefinition carries;"
                        + " snapbook creates new snapshots from it, it does not redefine", null);
            }
        }
        Element memory = SafeXml.child(root, "memory");
        String memoryMode = SafeXml.attr(memory, "snapshot");
        if ("external".equals(memoryMode)) {
            throw new SafeXml.Refused(what + " asks for an external memory snapshot, which snapbook does not take",
                    null);
        }
        List<SnapshotCreation.DiskSpec> specs = new ArrayList<>();
        for (SnapshotDisk d : facts.disks()) {
            if (d.snapshot().equals("manual")) {
                throw new SafeXml.Refused(what + ": disk " + d.disk() + " has snapshot='manual', which snapbook"
                        + " does not support", null);
            }
            specs.add(new SnapshotCreation.DiskSpec(d.disk(), d.snapshot(), d.driver(), d.file()));
        }
        boolean diskOnly = params.bool("disk_only") || "no".equals(memoryMode);
        return new SnapshotCreation.Request(params.string("domain"), facts.name(), facts.description(), diskOnly,
                params.bool("atomic"), params.bool("quiesce"), specs);
    }
}
