package dev.snapbook.playbooks;

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
import dev.snapbook.steps.disk.DiskSourceEditor;
import dev.snapbook.steps.disk.DiskSwap;
import dev.snapbook.steps.libvirt.Libvirt;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Test-only {@code test.lying_swap}: the real {@code disk.swap}, except that right after its apply reports
 * success, the domain's definition is changed behind its back to point at {@code decoy}. Its verify is
 * the real one, so the run must notice the lie, fail and roll back.
 */
public final class LyingDiskSwap implements Step {

    private final DiskSwap real = new DiskSwap();

    @Override
    public String name() {
        return "test.lying_swap";
    }

    @Override
    public String summary() {
        return "disk.swap whose effect is changed behind its back (tests only)";
    }

    @Override
    public List<Param> params() {
        List<Param> params = new ArrayList<>(real.params());
        params.add(Param.required("decoy", ParamType.STRING, "the file the definition is changed to behind its back"));
        return params;
    }

    @Override
    public Reversibility reversibility(Params params) {
        return real.reversibility(params);
    }

    @Override
    public Planned plan(Params params, World world) throws StepFailure {
        return real.plan(withoutDecoy(params), world);
    }

    @Override
    public Map<String, Object> capture(Params params, StepContext context) throws StepFailure {
        return real.capture(withoutDecoy(params), context);
    }

    @Override
    public Outcome apply(Params params, Map<String, Object> captured, StepContext context) throws StepFailure {
        Outcome outcome = real.apply(withoutDecoy(params), captured, context);
        Libvirt libvirt = Libvirt.session(context);
        String domain = params.string("domain");
        String xml = libvirt.xmlDesc(domain, dev.snapbook.steps.libvirt.XmlView.INACTIVE);
        try {
            libvirt.redefineKeepingSecrets(DiskSourceEditor.swap(xml, "the definition of " + domain, params.string("disk"),
                    params.string("decoy"), "qcow2"));
        } catch (Exception e) {
            throw new StepFailure("test could not tamper with " + domain + ": " + e.getMessage());
        }
        return outcome;
    }

    @Override
    public Verification verify(Params params, Outcome outcome, StepContext context) throws StepFailure {
        return real.verify(withoutDecoy(params), outcome, context);
    }

    @Override
    public void undo(Params params, Map<String, Object> captured, Outcome outcome, StepContext context)
            throws StepFailure {
        real.undo(withoutDecoy(params), captured, outcome, context);
    }

    private static Params withoutDecoy(Params params) {
        Map<String, Object> values = params.asMap().entrySet().stream().filter(e -> !e.getKey().equals("decoy"))
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
        return new Params("disk.swap", values);
    }
}
