package dev.snapbook.steps.disk;

import dev.snapbook.steps.libvirt.ConnectionHost;
import dev.snapbook.steps.state.DiskStates;
import dev.snapbook.steps.state.DiskState;
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
import dev.snapbook.steps.domain.DiskReader;
import dev.snapbook.steps.domain.DomainFacts;
import dev.snapbook.steps.image.BackingChain;
import dev.snapbook.steps.image.ImageFacts;
import dev.snapbook.steps.image.ImageMagic;
import dev.snapbook.steps.libvirt.Libvirt;
import dev.snapbook.steps.libvirt.PowerState;
import dev.snapbook.steps.libvirt.XmlView;
import dev.snapbook.steps.xml.SafeXml;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Step {@code disk.swap}: points a file disk of a shut-off, persistent domain at another image file and format,
 * by redefining the domain ({@code virDomainDefineXML}) with exactly that disk's {@code <source file>} and
 * {@code <driver type>} changed ({@link DiskSourceEditor}).
 *
 * <p>Only a shut-off domain is accepted: libvirt cannot change the source of a running domain's non-removable
 * disk ({@code virDomainUpdateDeviceFlags} only changes cdrom/floppy media), and changing only the persistent
 * definition of a running domain would leave it running on the old file until its next boot, unlike what
 * the plan would show. Shut it down first ({@code domain.shutdown}), or use the snapshot and block steps that
 * switch files live.
 *
 * <p>The plan fails when the domain or disk does not exist, the disk is not a file disk, the file does not
 * exist, its contents are not {@code format}, or anything on the connection uses the file already (a disk of
 * any domain, a layer of any chain — pointing a disk at a backing file would let it write under the overlays
 * above it; create an overlay on it with {@code image.create} and swap to that instead). The use check is
 * repeated in full just before redefining.
 *
 * <p>Result: {@code {domain, disk, file, format, previous_file, previous_format}}. Verification re-reads the
 * persistent XML. Undo redefines the domain with the persistent XML captured before; the capture holds no
 * secret (it is read without {@code VIR_DOMAIN_XML_SECURE}), and the display passwords the domain has when
 * undo runs are put back into it ({@link Libvirt#redefineKeepingSecrets}).
 */
public final class DiskSwap implements Step {

    @Override
    public String name() {
        return "disk.swap";
    }

    @Override
    public String summary() {
        return "Points a shut-off domain's file disk at another image file and format (redefines the domain).";
    }

    @Override
    public List<Param> params() {
        return List.of(Param.required("domain", ParamType.NAME, "the libvirt domain's name"),
                Param.optional("disk", ParamType.NAME, "vda", "the disk's target device"),
                Param.required("file", ParamType.PATH, "the image file the disk should use"),
                Param.required("format", ParamType.STRING, "the file's format, checked against its contents")
                        .oneOf("qcow2", "raw"));
    }

    @Override
    public String preconditions() {
        return "The domain must exist at this point of the plan, be persistent and shut off, and have the disk as a"
                + " file disk. The file must be an absolute path to an image that exists at this point of the plan, in"
                + " the given format, and that no domain uses as a disk or in a backing chain; a disk already on that"
                + " file and format is left as it is. State, format (from the file's header) and use (a full scan,"
                + " snapshots included) are checked again just before redefining.";
    }

    @Override
    public String verifies() {
        return "Re-reads the persistent (inactive) XML from libvirt: the disk must use the file, with the format asked"
                + " for.";
    }

    @Override
    public String undoes() {
        return "Redefines the domain with the persistent XML captured before the swap (captured without secrets;"
                + " the display passwords libvirt has at undo time are kept).";
    }

    @Override
    public Reversibility reversibility(Params params) {
        return Reversibility.REVERSIBLE;
    }

    @Override
    public Planned plan(Params params, World world) throws StepFailure {
        ConnectionHost.requireLocalFiles(world, name());
        String name = params.string("domain");
        String target = params.string("disk");
        String file = params.string("file");
        String format = params.string("format");
        DomainFacts domain = world.get(DomainFacts.key(name));
        if (domain == null) {
            throw new StepFailure("domain '" + name + "' does not exist on this connection"
                    + (world.observed(DomainFacts.key(name)) != null ? " at this point of the plan" : ""),
                    "check the name with: virsh list --all");
        }
        refuseState(name, domain.persistent(), PowerState.ofLabel(domain.state()));
        DiskFacts disk = fileDisk(name, target, domain.disks());
        if (!Path.of(file).isAbsolute()) {
            throw new StepFailure("file '" + file + "' is not an absolute path", "give the image's full path");
        }
        ImageFacts image = world.get(ImageFacts.key(file));
        if (image == null) {
            throw new StepFailure("image " + file + " does not exist" + (world.observed(ImageFacts.key(file)) != null
                    ? " at this point of the plan" : ""), "create it first (image.create or image.convert)");
        }
        if (!image.format().equals(format)) {
            throw new StepFailure("image " + file + " is " + image.format() + ", not " + format
                    + "; pointing disk " + target + " of " + name + " at it as " + format + " would be wrong",
                    "set format: " + image.format());
        }
        Map<String, Object> result = result(name, target, file, format, disk.source(), disk.format());
        if (BackingChain.sameFile(disk.source(), file) && format.equals(disk.format())) {
            return Planned.alreadyDone("disk " + target + " of " + name + " already uses " + file + " as " + format,
                    result);
        }
        refuseUsed(DiskStates.of(world).containing(file), file);
        List<DiskFacts> disks = new ArrayList<>();
        for (DiskFacts d : domain.disks()) {
            disks.add(d == disk ? new DiskFacts(d.target(), d.device(), d.type(), file, format, d.bus()) : d);
        }
        world.put(DomainFacts.key(name), new DomainFacts(name, domain.state(), domain.persistent(), disks));
        DiskSourceEditor.Change change = new DiskSourceEditor.Change(target, disk.source(), disk.format(), file,
                format, 0);
        return Planned.change(List.of("virDomainGetXMLDesc(" + name + ", INACTIVE)",
                "edit " + change.describe(), "virDomainDefineXML(" + name + "), keeping its display passwords"),
                result);
    }

    /**
     * The persistent definition as undo must restore it, read without {@code VIR_DOMAIN_XML_SECURE}: the journal
     * never holds a display password. Undo puts back the passwords libvirt has at that time
     * ({@link Libvirt#redefineKeepingSecrets}); disk.swap does not change them.
     */
    @Override
    public Map<String, Object> capture(Params params, StepContext context) throws StepFailure {
        return Map.of("persistent_xml", Libvirt.session(context).xmlDesc(params.string("domain"), XmlView.INACTIVE));
    }

    @Override
    public Outcome apply(Params params, Map<String, Object> captured, StepContext context) throws StepFailure {
        String name = params.string("domain");
        String target = params.string("disk");
        String file = params.string("file");
        String format = params.string("format");
        Libvirt libvirt = Libvirt.session(context);
        refuseState(name, libvirt.persistent(name), libvirt.state(name));
        String xml = libvirt.xmlDesc(name, XmlView.INACTIVE);
        DiskFacts disk = fileDisk(name, target, disks(xml, name));
        if (!Files.isRegularFile(Path.of(file))) {
            throw new StepFailure("image " + file + " does not exist", "create it first");
        }
        String detected;
        try {
            detected = ImageMagic.detect(Path.of(file));
        } catch (IOException e) {
            throw new StepFailure("cannot read " + file + ": " + e.getMessage(), "check its permissions", e);
        }
        if (!detected.equals(format)) {
            throw new StepFailure("image " + file + " is " + detected + ", not " + format, "set format: " + detected);
        }
        Map<String, Object> result = result(name, target, file, format, disk.source(), disk.format());
        if (BackingChain.sameFile(disk.source(), file) && format.equals(disk.format())) {
            return Outcome.unchanged("disk " + target + " of " + name + " already uses " + file, result);
        }
        refuseUsed(DiskStates.now(context).containing(file), file);
        String edited;
        DiskSourceEditor.Change change;
        try {
            org.w3c.dom.Document doc = SafeXml.parse(xml, "the persistent XML of " + name);
            change = DiskSourceEditor.edit(doc, "the persistent XML of " + name, target, file, format);
            edited = dev.snapbook.steps.xml.XmlText.write(doc);
        } catch (SafeXml.Refused e) {
            throw new StepFailure(e.getMessage(), "disk.swap changes file disks only; edit this one with virsh edit "
                    + name, e);
        }
        context.trace("edit " + change.describe());
        libvirt.redefineKeepingSecrets(edited);
        return Outcome.changed("disk " + target + " of " + name + " now uses " + file + " (" + format + "), was "
                + disk.source(), result);
    }

    @Override
    public Verification verify(Params params, Outcome outcome, StepContext context) throws StepFailure {
        String name = params.string("domain");
        String target = params.string("disk");
        Libvirt libvirt = Libvirt.session(context);
        DiskFacts disk = fileDisk(name, target, disks(libvirt.xmlDesc(name, XmlView.INACTIVE), name));
        return Verification.check(params.string("file").equals(disk.source())
                        && params.string("format").equals(disk.format()),
                "disk " + target + " of " + name + " uses " + disk.source() + " (" + disk.format() + "), not "
                        + params.string("file") + " (" + params.string("format") + ")");
    }

    /** Redefines the domain with the persistent XML captured before the swap. */
    @Override
    public void undo(Params params, Map<String, Object> captured, Outcome outcome, StepContext context)
            throws StepFailure {
        if (!outcome.changed()) {
            return;
        }
        String xml = (String) captured.get("persistent_xml");
        if (xml == null) {
            throw new StepFailure("cannot undo disk.swap on " + params.string("domain")
                    + ": the journal has no captured XML", "restore the disk by hand: virsh edit "
                    + params.string("domain"));
        }
        Libvirt.session(context).redefineKeepingSecrets(xml);
    }

    private static void refuseState(String name, boolean persistent, PowerState state) throws StepFailure {
        if (!persistent) {
            throw new StepFailure("domain " + name + " is transient (no persistent definition to change)",
                    "define it first: virsh dumpxml " + name + " > x.xml && virsh define x.xml");
        }
        if (state != PowerState.SHUTOFF) {
            throw new StepFailure("domain " + name + " is " + state.label() + "; disk.swap changes only shut-off"
                    + " domains, because libvirt cannot change a running domain's disk source (only cdrom/floppy"
                    + " media)", "shut it down first (domain.shutdown), swap, then start it (domain.start)");
        }
    }

    private static DiskFacts fileDisk(String name, String target, List<DiskFacts> disks) throws StepFailure {
        DiskFacts disk = disks.stream().filter(d -> d.target().equals(target)).findFirst().orElseThrow(() ->
                new StepFailure("domain " + name + " has no disk " + target,
                        "its disks are: " + disks.stream().map(DiskFacts::target).toList()));
        if (!"file".equals(disk.type()) || disk.source() == null || "lun".equals(disk.device())) {
            throw new StepFailure("disk " + target + " of " + name + " is a " + disk.type() + " " + disk.device()
                    + (disk.source() == null ? " without media" : "") + "; disk.swap changes file disks only",
                    "edit other disks with: virsh edit " + name);
        }
        return disk;
    }

    private static List<DiskFacts> disks(String xml, String name) throws StepFailure {
        try {
            return DiskReader.read(xml, "the domain XML of " + name);
        } catch (SafeXml.Refused e) {
            throw new StepFailure(e.getMessage(), "inspect it with: virsh dumpxml " + name, e);
        }
    }

    private static void refuseUsed(List<DiskState> uses, String file) throws StepFailure {
        if (!uses.isEmpty()) {
            throw new StepFailure("refusing to point a disk at " + file + ": these states already read it:\n"
                    + DiskStates.describe(uses) + "\ntwo writers, or a write under an overlay, would corrupt data",
                    "create a new overlay on it (image.create with backing) and swap to that, or copy it"
                            + " (image.convert)");
        }
    }

    private static Map<String, Object> result(String domain, String disk, String file, String format,
                                              String previousFile, String previousFormat) {
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("domain", domain);
        result.put("disk", disk);
        result.put("file", file);
        result.put("format", format);
        result.put("previous_file", previousFile);
        result.put("previous_format", previousFormat);
        return result;
    }
}
