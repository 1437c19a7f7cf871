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
import dev.snapbook.engine.spi.Unknown;
import dev.snapbook.engine.spi.Verification;
import dev.snapbook.engine.spi.World;
import dev.snapbook.steps.libvirt.Libvirt;
import dev.snapbook.steps.libvirt.PowerState;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Step {@code domain.shutdown}: asks the guest to shut down (ACPI, {@code virDomainShutdown}) and waits up to
 * {@code timeout} for the domain to be shut off. If it is still running then, it is powered off
 * ({@code virDomainDestroy}) when {@code force} is true, else the step fails. Does nothing when the domain is
 * already shut off.
 *
 * <p>Result: {@code {state: "shutoff", forced: true|false}} ({@code forced} is unknown in a plan with
 * {@code force: true}: only the guest decides whether it honours ACPI). Undo starts the domain again if it
 * was active before; a domain that was paused comes back running.
 */
public final class DomainShutdown implements Step {

    private static final Duration POLL = Duration.ofMillis(200);

    @Override
    public String name() {
        return "domain.shutdown";
    }

    @Override
    public String summary() {
        return "Shuts a domain down gracefully (ACPI), powering it off after the timeout if force is true.";
    }

    @Override
    public List<Param> params() {
        return List.of(Domains.DOMAIN,
                Param.optional("timeout", ParamType.DURATION, Duration.ofSeconds(60),
                        "how long to wait for the guest to shut down"),
                Param.optional("force", ParamType.BOOLEAN, false,
                        "power the domain off (virDomainDestroy) if it is still running after the timeout"));
    }

    @Override
    public String preconditions() {
        return "The domain must exist at this point of the plan; a domain that is already shut off is left as it is.";
    }

    @Override
    public String verifies() {
        return "Re-reads the domain's state from libvirt: it must be shut off, or gone if it was transient.";
    }

    @Override
    public String undoes() {
        return "Starts the domain again (virDomainCreate) if it was active before and this step stopped it; a domain"
                + " that was paused comes back running. A transient domain no longer exists once stopped, so its undo"
                + " fails.";
    }

    @Override
    public Reversibility reversibility(Params params) {
        return Reversibility.REVERSIBLE;
    }

    @Override
    public Planned plan(Params params, World world) throws StepFailure {
        String name = params.string("domain");
        Duration timeout = timeout(params);
        boolean force = params.bool("force");
        DomainFacts facts = Domains.require(world, name);
        if (PowerState.ofLabel(facts.state()) == PowerState.SHUTOFF) {
            return Planned.alreadyDone(name + " is already shut off", result(false));
        }
        List<String> actions = new ArrayList<>();
        actions.add("virDomainShutdown(" + name + ")");
        actions.add("wait ≤" + seconds(timeout) + " for shutoff");
        actions.add(force ? "then virDomainDestroy(" + name + ") if still running"
                : "then fail if still running (force is false)");
        // A transient domain ceases to exist once it stops.
        world.put(DomainFacts.key(name), facts.persistent() ? facts.withState(PowerState.SHUTOFF.label()) : null);
        return Planned.change(actions, result(force
                ? new Unknown("whether " + name + " ignores the ACPI shutdown request for " + seconds(timeout))
                : false));
    }

    /** Records the state before the step, so undo restarts only a domain that was active. */
    @Override
    public Map<String, Object> capture(Params params, StepContext context) throws StepFailure {
        String name = params.string("domain");
        return Map.of("previous_state", Libvirt.session(context).state(name).label());
    }

    @Override
    public Outcome apply(Params params, Map<String, Object> captured, StepContext context) throws StepFailure {
        String name = params.string("domain");
        Duration timeout = timeout(params);
        Libvirt libvirt = Libvirt.session(context);
        PowerState state = libvirt.state(name);
        if (state == PowerState.SHUTOFF) {
            return Outcome.unchanged(name + " was already shut off", result(false));
        }
        Instant start = Instant.now();
        libvirt.shutdown(name);
        if (waitForShutoff(libvirt, name, timeout, context)) {
            return Outcome.changed(name + " shut down", result(false));
        }
        Instant deadline = context.deadline();
        if (deadline != null && deadline.isBefore(start.plus(timeout))) {
            // The run's deadline cut the wait short: forcing now would power off a guest the user
            // agreed to give the whole timeout.
            throw new StepFailure("the step's deadline passed while waiting for " + name + " to shut down, before"
                    + " the " + seconds(timeout) + " timeout; it is still " + stateText(libvirt, name),
                    "raise the run's time limit or lower timeout");
        }
        if (!params.bool("force")) {
            throw new StepFailure("domain " + name + " did not stop within " + seconds(timeout)
                    + " after the ACPI shutdown request; it is still " + stateText(libvirt, name),
                    "pass force: true to power it off after the timeout, or a longer timeout if the guest is slow");
        }
        libvirt.destroy(name);
        return Outcome.changed(name + " ignored the shutdown request for " + seconds(timeout)
                + "; powered off with virDomainDestroy", result(true));
    }

    @Override
    public Verification verify(Params params, Outcome outcome, StepContext context) throws StepFailure {
        return Domains.verifyShutOff(params.string("domain"), context);
    }

    /** Starts the domain again if it was active before this step and this step stopped it. */
    @Override
    public void undo(Params params, Map<String, Object> captured, Outcome outcome, StepContext context)
            throws StepFailure {
        Domains.startAgainIfItWasRunning("domain.shutdown", params.string("domain"), captured, outcome, context);
    }

    /** Polls until the domain is shut off (or gone); false when the timeout or the step's deadline passed. */
    private static boolean waitForShutoff(Libvirt libvirt, String name, Duration timeout, StepContext context)
            throws StepFailure {
        Instant start = Instant.now();
        Instant until = Domains.waitUntil(timeout, context.deadline());
        while (true) {
            PowerState now = Domains.stateOrGone(libvirt, name);
            if (now == null || now == PowerState.SHUTOFF) {
                return true;
            }
            Instant t = Instant.now();
            if (!t.isBefore(until)) {
                return false;
            }
            long total = Math.max(1, Duration.between(start, until).toMillis());
            context.progress("waiting for " + name + " to shut down",
                    Math.min(100.0, 100.0 * Duration.between(start, t).toMillis() / total));
            try {
                Thread.sleep(Math.min(POLL.toMillis(), Duration.between(t, until).toMillis() + 1));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StepFailure("interrupted while waiting for " + name + " to shut down", null, e);
            }
        }
    }

    private static String stateText(Libvirt libvirt, String name) throws StepFailure {
        PowerState now = Domains.stateOrGone(libvirt, name);
        return now == null ? "gone" : now.label();
    }

    /** {@code 60s}, {@code 2s}, {@code 500ms}: seconds as operators write timeouts, not {@code 1m}. */
    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }

    private static Duration timeout(Params params) {
        Duration d = params.optDuration("timeout");
        return d == null ? Duration.ofSeconds(60) : d;
    }

    private static Map<String, Object> result(Object forced) {
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("state", PowerState.SHUTOFF.label());
        result.put("forced", forced);
        return result;
    }
}
