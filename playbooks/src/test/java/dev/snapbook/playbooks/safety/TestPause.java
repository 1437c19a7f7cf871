package dev.snapbook.playbooks.safety;

import dev.snapbook.engine.spi.Outcome;
import dev.snapbook.engine.spi.Param;
import dev.snapbook.engine.spi.ParamType;
import dev.snapbook.engine.spi.Params;
import dev.snapbook.engine.spi.Planned;
import dev.snapbook.engine.spi.Step;
import dev.snapbook.engine.spi.StepContext;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.engine.spi.Verification;
import dev.snapbook.engine.spi.World;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Test-only {@code test.pause}: a step boundary where a crash test kills the process. When applied, it writes
 * {@code reached} (with the process id) and then waits — up to five minutes, the test kills it with SIGKILL
 * long before — until {@code unless_exists} names an existing file (so that a resumed run passes through,
 * and a paused run can be let go on).
 * It changes nothing, so a recipe copy with it inserted plans and verifies like the recipe.
 */
public final class TestPause implements Step {

    @Override
    public String name() {
        return "test.pause";
    }

    @Override
    public String summary() {
        return "Announce a step boundary in a file and wait there to be killed (tests only).";
    }

    @Override
    public List<Param> params() {
        return List.of(Param.required("reached", ParamType.STRING, "the file written when the pause is reached"),
                Param.optional("unless_exists", ParamType.STRING, "", "a file whose presence disarms it"));
    }

    @Override
    public Planned plan(Params p, World world) {
        return Planned.readOnly("pause at a step boundary (tests only)", Map.of());
    }

    @Override
    public Outcome apply(Params p, Map<String, Object> captured, StepContext c) throws StepFailure {
        String guard = p.string("unless_exists");
        if (!guard.isEmpty() && Files.exists(Path.of(guard))) {
            return Outcome.unchanged("disarmed", Map.of());
        }
        try {
            Files.writeString(Path.of(p.string("reached")), Long.toString(ProcessHandle.current().pid()));
            Instant end = Instant.now().plus(Duration.ofMinutes(5));
            while (Instant.now().isBefore(end)) {
                if (!guard.isEmpty() && Files.exists(Path.of(guard))) {
                    return Outcome.unchanged("released", Map.of());
                }
                Thread.sleep(100);
            }
        } catch (IOException e) {
            throw new StepFailure("test.pause cannot write " + p.string("reached") + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        throw new StepFailure("test.pause was not killed within five minutes");
    }

    @Override
    public Verification verify(Params p, Outcome o, StepContext c) {
        return Verification.ok();
    }
}
