package dev.snapbook.engine.testing;

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
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Test-only steps whose effects outlive the process (files), for crash-recovery tests that kill the
 * JVM the way SIGKILL would ({@link Runtime#halt}, no shutdown hooks).
 */
public final class FileSteps {

    private FileSteps() {
    }

    /** {@code test.touch}: writes {@code content} to {@code path}; undo puts back what was there. */
    public static final class Touch implements Step {
        public String name() {
            return "test.touch";
        }

        public String summary() {
            return "Write a file (tests only).";
        }

        public List<Param> params() {
            return List.of(Param.required("path", ParamType.STRING, "the file"),
                    Param.required("content", ParamType.STRING, "what to write"),
                    Param.optional("crash_after_write", ParamType.BOOLEAN, false,
                            "halt the JVM right after writing, before apply returns"),
                    Param.optional("unknown_after_write", ParamType.BOOLEAN, false,
                            "after writing, fail as if contact was lost: outcome unknown"));
        }

        @Override
        public Reversibility reversibility(Params params) {
            return Reversibility.REVERSIBLE;
        }

        public Planned plan(Params p, World world) {
            return Planned.change(List.of("write " + p.string("path")), Map.of());
        }

        @Override
        public Map<String, Object> capture(Params p, StepContext c) {
            Path path = Path.of(p.string("path"));
            Map<String, Object> m = new HashMap<>();
            m.put("existed", Files.exists(path));
            m.put("previous", Files.exists(path) ? read(path) : "");
            return m;
        }

        public Outcome apply(Params p, Map<String, Object> captured, StepContext c) throws StepFailure {
            try {
                Files.writeString(Path.of(p.string("path")), p.string("content"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            if (p.bool("crash_after_write")) {
                Runtime.getRuntime().halt(137);
            }
            if (p.bool("unknown_after_write")) {
                throw new StepFailure.OutcomeUnknown("lost contact while writing " + p.string("path"), null, null);
            }
            return Outcome.changed("written", Map.of("path", p.string("path")));
        }

        public Verification verify(Params p, Outcome o, StepContext c) {
            Path path = Path.of(p.string("path"));
            return Verification.check(Files.exists(path) && read(path).equals(p.string("content")),
                    p.string("path") + " does not hold " + p.string("content"));
        }

        @Override
        public void undo(Params p, Map<String, Object> captured, Outcome o, StepContext c) {
            Path path = Path.of(p.string("path"));
            try {
                if (Boolean.TRUE.equals(captured.get("existed"))) {
                    Files.writeString(path, (String) captured.get("previous"));
                } else {
                    Files.deleteIfExists(path);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private static String read(Path path) {
            try {
                return Files.readString(path);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** {@code test.crash}: halts the JVM like SIGKILL, unless {@code unless_exists} names an existing file. */
    public static final class Crash implements Step {
        public String name() {
            return "test.crash";
        }

        public String summary() {
            return "Kill the process (tests only).";
        }

        public List<Param> params() {
            return List.of(Param.optional("unless_exists", ParamType.STRING, "", "a file whose presence disarms it"));
        }

        public Planned plan(Params p, World world) {
            return Planned.readOnly("maybe crash", Map.of());
        }

        public Outcome apply(Params p, Map<String, Object> captured, StepContext c) {
            String guard = p.string("unless_exists");
            if (guard.isEmpty() || !Files.exists(Path.of(guard))) {
                Runtime.getRuntime().halt(137);
            }
            return Outcome.unchanged("disarmed", Map.of());
        }

        public Verification verify(Params p, Outcome o, StepContext c) {
            return Verification.ok();
        }
    }

    /** {@code test.sleep}: creates {@code started}, then waits up to {@code millis}, stopping early when cancelled. */
    public static final class Sleep implements Step {
        public String name() {
            return "test.sleep";
        }

        public String summary() {
            return "Wait (tests only).";
        }

        public List<Param> params() {
            return List.of(Param.required("started", ParamType.STRING, "a file created when the wait begins"),
                    Param.optional("millis", ParamType.INTEGER, 20000L, "how long"));
        }

        public Planned plan(Params p, World world) {
            return Planned.readOnly("wait", Map.of());
        }

        public Outcome apply(Params p, Map<String, Object> captured, StepContext c) {
            try {
                Files.writeString(Path.of(p.string("started")), "");
                long end = System.currentTimeMillis() + p.integer("millis");
                while (System.currentTimeMillis() < end && !c.cancelled()) {
                    Thread.sleep(50);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Outcome.unchanged(c.cancelled() ? "stopped early" : "waited", Map.of());
        }

        public Verification verify(Params p, Outcome o, StepContext c) {
            return Verification.ok();
        }
    }
}
