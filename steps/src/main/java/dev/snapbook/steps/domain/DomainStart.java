package dev.snapbook.steps.domain;

import dev.snapbook.engine.spi.Outcome;
import dev.snapbook.engine.spi.Param;
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
import dev.snapbook.steps.state.Damage;
import dev.snapbook.steps.state.DiskState;
import dev.snapbook.steps.state.DiskStates;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Step {@code domain.start}: starts a shut-off domain ({@code virDomainCreate}); does nothing when it is
 * already running. A paused or suspended domain is refused: starting is not resuming.
 *
 * <p>Result: {@code {state: "running", started: true|false}}. Undo powers the domain off
 * ({@code virDomainDestroy}), and only when this step started it.
 */
public final class DomainStart implements Step {

    @Override
    public String name() {
        return "domain.start";
    }

    @Override
    public String summary() {
        return "Starts a shut-off domain; does nothing when it is already running.";
    }

    @Override
    public List<Param> params() {
        return List.of(Domains.DOMAIN);
    }

    @Override
    public String preconditions() {
        return "The domain must exist at this point of the plan. A running domain is left as it is; any state other"
                + " than shut off, such as paused or suspended, is refused, since starting is not resuming.";
    }

    @Override
    public String verifies() {
        return "Re-reads the domain's state from libvirt: it must exist and be running.";
    }

    @Override
    public String undoes() {
        return "Powers the domain off (virDomainDestroy), but only if this step started it from shut off and it is"
                + " still active; a domain that was already running is left running.";
    }

    @Override
    public Reversibility reversibility(Params params) {
        return Reversibility.REVERSIBLE;
    }

    @Override
    public Planned plan(Params params, World world) throws StepFailure {
        String name = params.string("domain");
        DomainFacts facts = Domains.require(world, name);
        PowerState state = PowerState.ofLabel(facts.state());
        if (state.isRunning()) {
            return Planned.alreadyDone(name + " is already " + facts.state(), result(false));
        }
        refuseUnstartable(name, state);
        refuseDamaged(world, facts);
        refuseSharedActiveLayer(DiskStates.of(world), facts);
        world.put(DomainFacts.key(name), facts.withState(PowerState.RUNNING.label()));
        return Planned.change(List.of("virDomainCreate(" + name + ")", "check that " + name + " is running"),
                result(true));
    }

    /** Records the state before the step, so undo powers off only a domain this step started. */
    @Override
    public Map<String, Object> capture(Params params, StepContext context) throws StepFailure {
        String name = params.string("domain");
        return Map.of("previous_state", Libvirt.session(context).state(name).label());
    }

    @Override
    public Outcome apply(Params params, Map<String, Object> captured, StepContext context) throws StepFailure {
        String name = params.string("domain");
        Libvirt libvirt = Libvirt.session(context);
        PowerState state = libvirt.state(name);
        if (state.isRunning()) {
            return Outcome.unchanged(name + " was already " + state.label(), result(false));
        }
        refuseUnstartable(name, state);
        DomainFacts facts = DomainFactSource.observe(name, libvirt);
        if (facts != null) {
            refuseDamaged(null, facts);
            refuseSharedActiveLayer(DiskStates.now(context), facts);
        }
        libvirt.create(name);
        return Outcome.changed("started " + name, result(true));
    }

    @Override
    public Verification verify(Params params, Outcome outcome, StepContext context) throws StepFailure {
        String name = params.string("domain");
        PowerState now = Domains.stateOrGone(Libvirt.session(context), name);
        return Verification.check(now != null && now.isRunning(),
                "domain " + name + " should be running but is " + (now == null ? "gone" : now.label()));
    }

    /** Powers the domain off again if, and only if, this step started it from shut off. */
    @Override
    public void undo(Params params, Map<String, Object> captured, Outcome outcome, StepContext context)
            throws StepFailure {
        String name = params.string("domain");
        if (!outcome.changed() || !PowerState.SHUTOFF.label().equals(captured.get("previous_state"))) {
            context.trace("undo domain.start(" + name + "): it was running before this step; left running");
            return;
        }
        Libvirt libvirt = Libvirt.session(context);
        PowerState now = Domains.stateOrGone(libvirt, name);
        if (now != null && now.isActive()) {
            libvirt.destroy(name);
        }
    }

    /**
     * A running domain writes its disks' active images: refused while another state reads one of them (a golden
     * image that linked clones or snapshots are based on, say), since every write would change that state.
     */
    /** No VM boots on a damaged chain: each disk's chain is checked against what recorded its formats. */
    private static void refuseDamaged(World world, DomainFacts domain) throws StepFailure {
        for (DiskFacts disk : domain.disks()) {
            if ("disk".equals(disk.device())) {
                Damage.refuseDisk(world, domain.name(), disk);
            }
        }
    }

    private static void refuseSharedActiveLayer(DiskStates states, DomainFacts domain) throws StepFailure {
        for (DiskFacts disk : domain.disks()) {
            if (!"disk".equals(disk.device()) || !"file".equals(disk.type()) || disk.source() == null) {
                continue;
            }
            List<DiskState> readers = states.readingActive(disk.source()).stream()
                    .filter(DiskStates.notDisk(domain.name(), disk.target())).toList();
            if (!readers.isEmpty()) {
                throw new StepFailure("refusing to start " + domain.name() + ": disk " + disk.target() + " would write"
                        + " into " + disk.source() + ", which these states read:\n" + DiskStates.describe(readers),
                        "give the disk an overlay of its own first (image.create with backing, then disk.swap), or"
                                + " delete those states");
            }
        }
    }

    private static void refuseUnstartable(String name, PowerState state) throws StepFailure {
        if (state != PowerState.SHUTOFF) {
            throw new StepFailure("domain " + name + " is " + state.label() + ", not shut off, so it cannot be started",
                    state == PowerState.PAUSED || state == PowerState.PMSUSPENDED
                            ? "resume it first (virsh resume " + name + ") or shut it down"
                            : "check it with: virsh domstate --reason " + name);
        }
    }

    private static Map<String, Object> result(boolean started) {
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("state", PowerState.RUNNING.label());
        result.put("started", started);
        return result;
    }
}
