package dev.snapbook.playbooks.safety;

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
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Test-only {@code test.undo_pause}: the boundary between two undos of a rollback, where a crash test kills
 * {@code snapbook recover --rollback} itself. Its apply does nothing; its undo writes {@code reached} (with the
 * process id) and waits — up to five minutes — until {@code unless_exists} names an existing file. It changes
 * nothing, and is reversible only so that a rollback calls its undo.
 */
public final class TestUndoPause implements Step {

    @Override
    public String name() {
        return "test.undo_pause";
    }

    @Override
    public String summary() {
        return "Wait, while being undone, to be killed (tests only).";
    }

    @Override
    public List<Param> params() {
        return List.of(Param.required("reached", ParamType.STRING, "the file written when the undo is reached"),
                Param.optional("unless_exists", ParamType.STRING, "", "a file whose presence disarms it"));
    }

    @Override
    public Reversibility reversibility(Params params) {
        return Reversibility.REVERSIBLE;
    }

    @Override
    public Planned plan(Params p, World world) {
        return Planned.readOnly("pause when undone (tests only)", Map.of());
    }

    @Override
    public Outcome apply(Params p, Map<String, Object> captured, StepContext c) {
        return Outcome.unchanged("armed for the rollback", Map.of());
    }

    @Override
    public Verification verify(Params p, Outcome o, StepContext c) {
        return Verification.ok();
    }

    @Override
    public void undo(Params p, Map<String, Object> captured, Outcome outcome, StepContext c) throws StepFailure {
        String guard = p.string("unless_exists");
        if (!guard.isEmpty() && Files.exists(Path.of(guard))) {
            return;
        }
        try {
            Files.writeString(Path.of(p.string("reached")), Long.toString(ProcessHandle.current().pid()));
            Instant end = Instant.now().plus(Duration.ofMinutes(5));
            while (Instant.now().isBefore(end)) {
                if (!guard.isEmpty() && Files.exists(Path.of(guard))) {
                    return;
                }
                Thread.sleep(100);
            }
        } catch (IOException e) {
            throw new StepFailure("test.undo_pause cannot write " + p.string("reached") + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        throw new StepFailure("test.undo_pause was not killed within five minutes");
    }
}
