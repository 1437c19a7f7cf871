package dev.snapbook.steps.domain;

import dev.snapbook.engine.spi.Outcome;
import dev.snapbook.engine.spi.Param;
import dev.snapbook.engine.spi.ParamType;
import dev.snapbook.engine.spi.Params;
import dev.snapbook.engine.spi.Planned;
import dev.snapbook.engine.spi.Step;
import dev.snapbook.engine.spi.StepContext;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.engine.spi.Unknown;
import dev.snapbook.engine.spi.Verification;
import dev.snapbook.engine.spi.World;
import dev.snapbook.steps.libvirt.Libvirt;
import dev.snapbook.steps.libvirt.XmlView;
import dev.snapbook.steps.xml.SafeXml;
import java.util.List;
import java.util.Map;

/**
 * Step {@code domain.dumpxml}: the domain's XML ({@code virDomainGetXMLDesc}) as {@code virsh dumpxml} prints
 * it: the live definition, or with {@code inactive: true} the persistent one used at the next start.
 * Read-only.
 *
 * <p>Result: {@code {xml}}; unknown in a plan, since only libvirt writes it out (with ids and aliases that
 * change from run to run).
 */
public final class DomainDumpXml implements Step {

    @Override
    public String name() {
        return "domain.dumpxml";
    }

    @Override
    public String summary() {
        return "Returns the domain's XML, live or (inactive: true) the persistent definition.";
    }

    @Override
    public List<Param> params() {
        return List.of(Domains.DOMAIN, Param.optional("inactive", ParamType.BOOLEAN, false,
                "the persistent definition used at the next start, not the live one"));
    }

    @Override
    public String preconditions() {
        return "The domain must exist at this point of the plan; with inactive: true it must also be persistent, since"
                + " a transient domain has no inactive definition.";
    }

    @Override
    public String verifies() {
        return "Parses the XML returned, safely: it must be a <domain> whose <name> is the domain asked for. libvirt"
                + " is not asked again.";
    }

    @Override
    public String undoes() {
        return "It only reads the domain's XML.";
    }

    @Override
    public Planned plan(Params params, World world) throws StepFailure {
        String name = params.string("domain");
        DomainFacts facts = Domains.require(world, name);
        if (params.bool("inactive") && !facts.persistent()) {
            throw new StepFailure("domain " + name + " is transient: it has no persistent (inactive) definition",
                    "leave inactive out to read its live XML");
        }
        return Planned.readOnly("virDomainGetXMLDesc(" + name + ", " + view(params) + ")",
                Map.of("xml", new Unknown("the XML libvirt returns for " + name + " at run time")));
    }

    @Override
    public Outcome apply(Params params, Map<String, Object> captured, StepContext context) throws StepFailure {
        String name = params.string("domain");
        String xml = Libvirt.session(context).xmlDesc(name, view(params));
        return Outcome.unchanged(name + ": " + xml.length() + " characters of "
                + (params.bool("inactive") ? "persistent" : "live") + " XML", Map.of("xml", xml));
    }

    /** Checks that the XML returned is a well-formed {@code <domain>} naming the domain asked for. */
    @Override
    public Verification verify(Params params, Outcome outcome, StepContext context) throws StepFailure {
        String name = params.string("domain");
        try {
            var root = SafeXml.parse((String) outcome.data().get("xml"), "the XML of " + name).getDocumentElement();
            var nameElement = SafeXml.child(root, "name");
            return Verification.check(root.getTagName().equals("domain") && nameElement != null
                    && name.equals(nameElement.getTextContent().strip()),
                    "the XML returned for " + name + " is not a <domain> named " + name);
        } catch (SafeXml.Refused e) {
            return Verification.failed(e.getMessage());
        }
    }

    private static XmlView view(Params params) {
        return params.bool("inactive") ? XmlView.INACTIVE : XmlView.LIVE;
    }
}
