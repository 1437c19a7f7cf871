package dev.snapbook.steps.domain;

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
import dev.snapbook.steps.libvirt.PowerState;
import dev.snapbook.steps.libvirt.XmlView;
import dev.snapbook.steps.xml.SafeXml;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.w3c.dom.Element;

/**
 * Step {@code domain.define}: defines a domain, or redefines an existing one, from a {@code <domain>} XML
 * file ({@code virDomainDefineXML}). The file is parsed with {@link SafeXml} first (a doctype is refused)
 * and its disks read, so a file libvirt would take but snapbook could not act on safely is refused before
 * anything changes. A running domain keeps running on its current definition; the new one applies at its
 * next start.
 *
 * <p>Result: {@code {name, created: true|false}}. Undo restores the previous persistent definition, or
 * undefines the domain when this step created it (a running domain that was transient becomes transient
 * again).
 */
public final class DomainDefine implements Step {

    @Override
    public String name() {
        return "domain.define";
    }

    @Override
    public String summary() {
        return "Defines or redefines a domain from a <domain> XML file (parsed safely first); undo restores the old one.";
    }

    @Override
    public List<Param> params() {
        return List.of(Param.required("xml_file", ParamType.PATH, "the file holding the <domain> XML"));
    }

    @Override
    public String preconditions() {
        return "The xml_file must be readable and parse safely (no doctype) as a <domain> with a non-empty <name>,"
                + " whose disks each have a unique target and a disk type snapbook knows. A domain of that name is"
                + " redefined, else a new one is defined.";
    }

    @Override
    public String verifies() {
        return "Re-reads the persistent (inactive) definition from libvirt: the domain must be defined persistently,"
                + " and its disks' targets and sources must be the file's, in the same order.";
    }

    @Override
    public String undoes() {
        return "Redefines the domain from the persistent XML captured before the step, or undefines it when it had no"
                + " persistent definition before (a running transient domain then becomes transient again).";
    }

    @Override
    public Reversibility reversibility(Params params) {
        return Reversibility.REVERSIBLE;
    }

    /** A definition file read and checked: its XML, the domain's name and its disks. */
    record Definition(String xml, String name, List<DiskFacts> disks) {
    }

    /** Reads and checks the file; the same checks in plan and in apply. */
    static Definition read(String file) throws StepFailure {
        Path path = Path.of(file);
        String xml;
        try {
            xml = Files.readString(path);
        } catch (IOException e) {
            throw new StepFailure("cannot read the domain XML file " + file + ": " + e.getMessage(),
                    "check the path (xml_file) and that snapbook may read it", e);
        }
        String what = "the domain XML file " + file;
        try {
            Element root = SafeXml.parse(xml, what).getDocumentElement();
            if (!root.getTagName().equals("domain")) {
                throw new StepFailure(what + " holds a <" + root.getTagName() + "> document, not a <domain>",
                        "give a file written like virsh dumpxml --inactive writes them");
            }
            Element name = SafeXml.child(root, "name");
            if (name == null || name.getTextContent().isBlank()) {
                throw new StepFailure(what + " has no <name>", "add <name>...</name> to the <domain>");
            }
            return new Definition(xml, name.getTextContent().strip(), DiskReader.read(xml, what));
        } catch (SafeXml.Refused e) {
            throw new StepFailure(e.getMessage(), "fix the file; snapbook refuses doctypes and entities", e);
        }
    }

    @Override
    public Planned plan(Params params, World world) throws StepFailure {
        String file = params.string("xml_file");
        Definition def = read(file);
        DomainFacts existing = world.get(DomainFacts.key(def.name()));
        DomainFacts predicted;
        String action;
        if (existing == null) {
            predicted = new DomainFacts(def.name(), PowerState.SHUTOFF.label(), true, def.disks());
            action = "virDomainDefineXML(" + file + "): defines the new domain " + def.name();
        } else {
            boolean active = PowerState.ofLabel(existing.state()).isActive();
            // A running domain keeps its live disks until it is restarted with the new definition.
            predicted = new DomainFacts(def.name(), existing.state(), true, active ? existing.disks() : def.disks());
            action = "virDomainDefineXML(" + file + "): replaces the " + (existing.persistent() ? "persistent"
                    : "missing persistent") + " definition of " + def.name()
                    + (active ? " (used from its next start; it is " + existing.state() + ")" : "");
        }
        world.put(DomainFacts.key(def.name()), predicted);
        return Planned.change(List.of(action), result(def.name(), existing == null));
    }

    /** Records whether the domain exists and its persistent definition, so undo can put it back. */
    @Override
    public Map<String, Object> capture(Params params, StepContext context) throws StepFailure {
        Definition def = read(params.string("xml_file"));
        Libvirt libvirt = Libvirt.session(context);
        Map<String, Object> captured = new HashMap<>();
        captured.put("name", def.name());
        captured.put("existed", libvirt.exists(def.name()));
        if (libvirt.exists(def.name()) && libvirt.persistent(def.name())) {
            captured.put("previous_xml", libvirt.xmlDesc(def.name(), XmlView.INACTIVE));
        }
        return captured;
    }

    @Override
    public Outcome apply(Params params, Map<String, Object> captured, StepContext context) throws StepFailure {
        Definition def = read(params.string("xml_file"));
        Libvirt libvirt = Libvirt.session(context);
        boolean created = !libvirt.exists(def.name());
        String defined = libvirt.defineXml(def.xml());
        if (!defined.equals(def.name())) {
            throw new StepFailure("libvirt defined a domain named " + defined + " from " + params.string("xml_file")
                    + ", not " + def.name(), "check the file's <name>");
        }
        return Outcome.changed((created ? "defined " : "redefined ") + def.name(), result(def.name(), created));
    }

    /** Checks that the domain is persistent and its persistent definition has the file's disks. */
    @Override
    public Verification verify(Params params, Outcome outcome, StepContext context) throws StepFailure {
        Definition def = read(params.string("xml_file"));
        Libvirt libvirt = Libvirt.session(context);
        if (!libvirt.exists(def.name()) || !libvirt.persistent(def.name())) {
            return Verification.failed("domain " + def.name() + " is not defined persistently");
        }
        List<DiskFacts> now;
        try {
            now = DiskReader.read(libvirt.xmlDesc(def.name(), XmlView.INACTIVE), "the definition of " + def.name());
        } catch (SafeXml.Refused e) {
            return Verification.failed(e.getMessage());
        }
        // libvirt fills in defaults (a bus, a driver), so compare what the file says: targets and sources.
        List<String> wanted = def.disks().stream().map(d -> d.target() + "=" + d.source()).toList();
        List<String> found = now.stream().map(d -> d.target() + "=" + d.source()).toList();
        return Verification.check(wanted.equals(found), "the definition of " + def.name() + " has disks " + found
                + ", the file " + wanted);
    }

    /** Restores the previous persistent definition, or undefines a domain this step made persistent. */
    @Override
    public void undo(Params params, Map<String, Object> captured, Outcome outcome, StepContext context)
            throws StepFailure {
        String name = (String) captured.get("name");
        Libvirt libvirt = Libvirt.session(context);
        Object previous = captured.get("previous_xml");
        if (previous != null) {
            libvirt.redefineKeepingSecrets((String) previous);
        } else if (libvirt.exists(name)) {
            libvirt.undefine(name, EnumSet.noneOf(Libvirt.UndefineOption.class));
        }
    }

    private static Map<String, Object> result(String name, boolean created) {
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("name", name);
        result.put("created", created);
        return result;
    }
}
