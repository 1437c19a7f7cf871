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
import dev.snapbook.steps.libvirt.PowerState;
import dev.snapbook.steps.libvirt.XmlView;
import dev.snapbook.steps.xml.SafeXml;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.w3c.dom.Element;

/**
 * Step {@code domain.agent}: whether the QEMU guest agent, which {@code --quiesce} snapshots need, is
 * configured and answering. {@code configured}: the live XML has the agent's virtio channel
 * ({@code <channel><target type='virtio' name='org.qemu.guest_agent.0'/>}). {@code answering}: a
 * {@code guest-ping} through libvirt ({@code virDomainQemuAgentCommand}) got a reply within {@code timeout};
 * false when the domain is not running, the channel is missing, or the agent is silent. Read-only.
 *
 * <p>Result: {@code {configured, answering}}; unknown in a plan (only a run can ask the guest).
 */
public final class DomainAgent implements Step {

    static final String AGENT_CHANNEL = "org.qemu.guest_agent.0";
    private static final String PING = "{\"execute\":\"guest-ping\"}";

    @Override
    public String name() {
        return "domain.agent";
    }

    @Override
    public String summary() {
        return "Tells whether the QEMU guest agent is configured in the domain and answers a guest-ping.";
    }

    @Override
    public List<Param> params() {
        return List.of(Domains.DOMAIN, Param.optional("timeout", ParamType.DURATION, Duration.ofSeconds(5),
                "how long to wait for the agent's answer"));
    }

    @Override
    public String preconditions() {
        return "The domain must exist at this point of the plan; whether the agent is configured and answers is only"
                + " known at run time.";
    }

    @Override
    public String verifies() {
        return "Re-reads the live XML: the guest agent channel must still be present, or absent, as reported. The"
                + " guest-ping is not sent again.";
    }

    @Override
    public String undoes() {
        return "It only reads the domain's XML and pings the guest agent.";
    }

    @Override
    public Planned plan(Params params, World world) throws StepFailure {
        String name = params.string("domain");
        Domains.require(world, name);
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("configured", new Unknown("the guest agent channel in the XML of " + name + " at run time"));
        result.put("answering", new Unknown("whether the guest agent of " + name + " answers at run time"));
        return Planned.readOnly("virDomainGetXMLDesc(" + name + "): look for the " + AGENT_CHANNEL
                + " channel; virDomainQemuAgentCommand(" + name + ", guest-ping, " + timeout(params).toSeconds()
                + "s)", result);
    }

    @Override
    public Outcome apply(Params params, Map<String, Object> captured, StepContext context) throws StepFailure {
        String name = params.string("domain");
        Libvirt libvirt = Libvirt.session(context);
        boolean configured = configured(libvirt, name);
        boolean answering = false;
        String why;
        if (!configured) {
            why = "no guest agent channel is configured";
        } else if (!libvirt.state(name).isRunning()) {
            why = "the domain is not running";
        } else {
            try {
                libvirt.qemuAgentCommand(name, PING, (int) Math.max(1, timeout(params).toSeconds()));
                answering = true;
                why = "the agent answered guest-ping";
            } catch (StepFailure e) {
                why = "the agent did not answer: " + e.getMessage();
            }
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("configured", configured);
        result.put("answering", answering);
        return Outcome.unchanged(name + ": " + why, result);
    }

    /** Checks the channel is still as reported; an answer is a moment's observation and is not asked again. */
    @Override
    public Verification verify(Params params, Outcome outcome, StepContext context) throws StepFailure {
        String name = params.string("domain");
        boolean now = configured(Libvirt.session(context), name);
        return Verification.check(Boolean.valueOf(now).equals(outcome.data().get("configured")),
                "the guest agent channel of " + name + " is now " + (now ? "configured" : "absent"));
    }

    static boolean configured(Libvirt libvirt, String name) throws StepFailure {
        try {
            return hasAgentChannel(libvirt.xmlDesc(name, XmlView.LIVE), "the live XML of " + name);
        } catch (SafeXml.Refused e) {
            throw new StepFailure(e.getMessage(), "inspect it with: virsh dumpxml " + name, e);
        }
    }

    /** Whether the domain XML declares the guest agent's virtio channel. */
    static boolean hasAgentChannel(String xml, String what) throws SafeXml.Refused {
        Element devices = SafeXml.child(SafeXml.parse(xml, what).getDocumentElement(), "devices");
        if (devices == null) {
            return false;
        }
        for (Element channel : SafeXml.children(devices, "channel")) {
            Element target = SafeXml.child(channel, "target");
            if ("virtio".equals(SafeXml.attr(target, "type")) && AGENT_CHANNEL.equals(SafeXml.attr(target, "name"))) {
                return true;
            }
        }
        return false;
    }

    private static Duration timeout(Params params) {
        Duration d = params.optDuration("timeout");
        return d == null ? Duration.ofSeconds(5) : d;
    }
}
