package dev.snapbook.engine.testing;

import dev.snapbook.engine.spi.FactKey;
import dev.snapbook.engine.spi.FactSource;
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

import java.util.List;
import java.util.Map;

/**
 * Test-only steps acting on a {@link Ledger}, for unit tests of the engine without VMs. Each records
 * {@code apply NAME} / {@code undo NAME} in the ledger's log.
 */
public final class TestSteps {

    private TestSteps() {
    }

    /** Every test step, for {@code new StepCatalog(TestSteps.all())}. */
    public static List<Step> all() {
        return List.of(new SetCounter(), new ReadCounter(), new Fail(), new BadVerify(), new Irreversible(),
                new Random(), new Explode());
    }

    /** A counter's value as the world sees it. */
    public record Counter(String name, long value) {
    }

    public static FactKey<Counter> key(String name) {
        return new FactKey<>("counter", name, Counter.class);
    }

    static Ledger ledger(StepContext c) {
        return c.resource(Ledger.class, () -> Ledger.SHARED);
    }

    /** Observes counters; a counter never set is absent. */
    public static final class Counters implements FactSource {
        @Override
        public String kind() {
            return "counter";
        }

        @Override
        public Class<?> type() {
            return Counter.class;
        }

        @Override
        public Object observe(String id, StepContext context) {
            ledger(context).observations.incrementAndGet();
            Long v = ledger(context).counters.get(id);
            return v == null ? null : new Counter(id, v);
        }
    }

    /** {@code test.set}: sets a counter; undo puts the old value back (when the outcome says it changed it). */
    public static final class SetCounter implements Step {
        public String name() {
            return "test.set";
        }

        public String summary() {
            return "Set a test counter.";
        }

        public List<Param> params() {
            return List.of(Param.required("counter", ParamType.STRING, "the counter"),
                    Param.required("value", ParamType.INTEGER, "its new value"),
                    Param.optional("domain", ParamType.STRING, null, "a domain name, only to exercise locks"));
        }

        @Override
        public Reversibility reversibility(Params params) {
            return Reversibility.REVERSIBLE;
        }

        public Planned plan(Params p, World world) throws StepFailure {
            Counter before = world.get(key(p.string("counter")));
            world.put(key(p.string("counter")), new Counter(p.string("counter"), p.integer("value")));
            return Planned.change(List.of("set " + p.string("counter") + " from "
                    + (before == null ? "unset" : before.value()) + " to " + p.integer("value")),
                    Map.of("previous", before == null ? -1L : before.value()));
        }

        @Override
        public Map<String, Object> capture(Params p, StepContext c) {
            Long v = ledger(c).counters.get(p.string("counter"));
            return Map.of("previous", v == null ? -1L : v);
        }

        public Outcome apply(Params p, Map<String, Object> captured, StepContext c) {
            ledger(c).log.add("apply " + p.string("counter") + "=" + p.integer("value"));
            ledger(c).counters.put(p.string("counter"), p.integer("value"));
            return Outcome.changed("set", Map.of("previous", captured.get("previous")));
        }

        public Verification verify(Params p, Outcome o, StepContext c) {
            Long v = ledger(c).counters.get(p.string("counter"));
            return Verification.check(v != null && v == p.integer("value"), "counter is " + v);
        }

        @Override
        public void undo(Params p, Map<String, Object> captured, Outcome o, StepContext c) {
            if (!o.changed()) {
                // like the real steps: an outcome that changed nothing has nothing to undo
                ledger(c).log.add("undo " + p.string("counter") + " skipped: unchanged");
                return;
            }
            ledger(c).log.add("undo " + p.string("counter"));
            long previous = ((Number) captured.get("previous")).longValue();
            if (previous < 0) {
                ledger(c).counters.remove(p.string("counter"));
            } else {
                ledger(c).counters.put(p.string("counter"), previous);
            }
        }
    }

    /** {@code test.read}: reads a counter; read-only. */
    public static final class ReadCounter implements Step {
        public String name() {
            return "test.read";
        }

        public String summary() {
            return "Read a test counter.";
        }

        public List<Param> params() {
            return List.of(Param.required("counter", ParamType.STRING, "the counter"));
        }

        public Planned plan(Params p, World world) throws StepFailure {
            Counter c = world.get(key(p.string("counter")));
            if (c == null) {
                throw new StepFailure("counter " + p.string("counter") + " is not set");
            }
            return Planned.readOnly("read " + p.string("counter"), Map.of("value", c.value()));
        }

        public Outcome apply(Params p, Map<String, Object> captured, StepContext c) throws StepFailure {
            Long v = ledger(c).counters.get(p.string("counter"));
            if (v == null) {
                throw new StepFailure("counter " + p.string("counter") + " is not set");
            }
            ledger(c).log.add("apply read " + p.string("counter"));
            return Outcome.unchanged("read", Map.of("value", v));
        }

        public Verification verify(Params p, Outcome o, StepContext c) {
            return Verification.ok();
        }
    }

    /** {@code test.random}: returns a value known only at run time (Unknown in the plan). */
    public static final class Random implements Step {
        public String name() {
            return "test.random";
        }

        public String summary() {
            return "Return a number known only at run time.";
        }

        public List<Param> params() {
            return List.of(Param.optional("value", ParamType.INTEGER, 4L, "what it returns at run time"));
        }

        public Planned plan(Params p, World world) {
            return Planned.readOnly("draw a number", Map.of("value", new Unknown("the number test.random draws")));
        }

        public Outcome apply(Params p, Map<String, Object> captured, StepContext c) {
            ledger(c).log.add("apply random");
            return Outcome.unchanged("drawn", Map.of("value", p.integer("value")));
        }

        public Verification verify(Params p, Outcome o, StepContext c) {
            return Verification.ok();
        }
    }

    /** {@code test.fail}: plans fine, fails when applied (or in the plan with {@code in_plan}). */
    public static final class Fail implements Step {
        public String name() {
            return "test.fail";
        }

        public String summary() {
            return "Fail.";
        }

        public List<Param> params() {
            return List.of(Param.optional("message", ParamType.STRING, "injected failure", "why"),
                    Param.optional("in_plan", ParamType.BOOLEAN, false, "fail already when planned"));
        }

        public Planned plan(Params p, World world) throws StepFailure {
            if (p.bool("in_plan")) {
                throw new StepFailure(p.string("message"));
            }
            return Planned.change(List.of("fail at run time"), Map.of());
        }

        public Outcome apply(Params p, Map<String, Object> captured, StepContext c) throws StepFailure {
            ledger(c).log.add("apply fail");
            throw new StepFailure(p.string("message"));
        }

        public Verification verify(Params p, Outcome o, StepContext c) {
            return Verification.ok();
        }
    }

    /** {@code test.badverify}: sets a counter, then its verification fails; undo removes it. */
    public static final class BadVerify implements Step {
        public String name() {
            return "test.badverify";
        }

        public String summary() {
            return "Apply, then fail verification.";
        }

        public List<Param> params() {
            return List.of(Param.required("counter", ParamType.STRING, "the counter it sets to 1"));
        }

        @Override
        public Reversibility reversibility(Params params) {
            return Reversibility.REVERSIBLE;
        }

        public Planned plan(Params p, World world) {
            return Planned.change(List.of("set " + p.string("counter")), Map.of());
        }

        public Outcome apply(Params p, Map<String, Object> captured, StepContext c) {
            ledger(c).log.add("apply badverify " + p.string("counter"));
            ledger(c).counters.put(p.string("counter"), 1L);
            return Outcome.changed("set", Map.of());
        }

        public Verification verify(Params p, Outcome o, StepContext c) {
            return Verification.failed("the system does not show the change");
        }

        @Override
        public void undo(Params p, Map<String, Object> captured, Outcome o, StepContext c) {
            ledger(c).log.add("undo badverify " + p.string("counter"));
            ledger(c).counters.remove(p.string("counter"));
        }
    }

    /** {@code test.irreversible}: deletes a counter; cannot be undone. */
    public static final class Irreversible implements Step {
        public String name() {
            return "test.irreversible";
        }

        public String summary() {
            return "Delete a counter for good.";
        }

        public List<Param> params() {
            return List.of(Param.required("counter", ParamType.STRING, "the counter to delete"));
        }

        @Override
        public Reversibility reversibility(Params params) {
            return Reversibility.IRREVERSIBLE;
        }

        public Planned plan(Params p, World world) {
            world.put(key(p.string("counter")), null);
            return Planned.change(List.of("delete " + p.string("counter")), Map.of());
        }

        public Outcome apply(Params p, Map<String, Object> captured, StepContext c) {
            ledger(c).log.add("apply delete " + p.string("counter"));
            ledger(c).counters.remove(p.string("counter"));
            return Outcome.changed("deleted", Map.of());
        }

        public Verification verify(Params p, Outcome o, StepContext c) {
            return Verification.check(!ledger(c).counters.containsKey(p.string("counter")), "still there");
        }
    }

    /**
     * {@code test.explode}: sets a counter to 1 like {@code test.set}, and throws an unchecked
     * {@link IllegalStateException} in the lifecycle method named by {@code at} ({@code capture},
     * {@code apply} before it changes anything, {@code verify}, {@code undo}; {@code none} never throws).
     * Its result registers {@code bomb}, a map whose every lookup throws the same way, so that a later
     * step's {@code when}, {@code until}, {@code verify} or parameter that reads {@code r.bomb.x} throws an
     * unchecked exception from inside the expression language.
     */
    public static final class Explode implements Step {
        public String name() {
            return "test.explode";
        }

        public String summary() {
            return "Set a test counter, throwing an unchecked exception where told.";
        }

        public List<Param> params() {
            return List.of(Param.required("counter", ParamType.STRING, "the counter it sets to 1"),
                    Param.optional("at", ParamType.STRING, "none", "capture, apply, verify, undo or none"));
        }

        @Override
        public Reversibility reversibility(Params params) {
            return Reversibility.REVERSIBLE;
        }

        private static void explodeIf(Params p, String point) {
            if (p.string("at").equals(point)) {
                throw new IllegalStateException("injected in " + point);
            }
        }

        public Planned plan(Params p, World world) throws StepFailure {
            world.put(key(p.string("counter")), new Counter(p.string("counter"), 1));
            return Planned.change(List.of("set " + p.string("counter") + " to 1"), Map.of());
        }

        @Override
        public Map<String, Object> capture(Params p, StepContext c) {
            explodeIf(p, "capture");
            Long v = ledger(c).counters.get(p.string("counter"));
            return Map.of("previous", v == null ? -1L : v);
        }

        public Outcome apply(Params p, Map<String, Object> captured, StepContext c) {
            explodeIf(p, "apply");
            ledger(c).log.add("apply explode " + p.string("counter"));
            ledger(c).counters.put(p.string("counter"), 1L);
            return Outcome.changed("set", Map.of("bomb", new Bomb()));
        }

        public Verification verify(Params p, Outcome o, StepContext c) {
            explodeIf(p, "verify");
            return Verification.check(Long.valueOf(1L).equals(ledger(c).counters.get(p.string("counter"))), "not set");
        }

        @Override
        public void undo(Params p, Map<String, Object> captured, Outcome o, StepContext c) {
            explodeIf(p, "undo");
            ledger(c).log.add("undo explode " + p.string("counter"));
            long previous = ((Number) captured.get("previous")).longValue();
            if (previous < 0) {
                ledger(c).counters.remove(p.string("counter"));
            } else {
                ledger(c).counters.put(p.string("counter"), previous);
            }
        }
    }

    /** A map that is empty when listed (so the journal can write it) and throws when looked into. */
    public static final class Bomb extends java.util.AbstractMap<String, Object> {
        @Override
        public java.util.Set<Entry<String, Object>> entrySet() {
            return java.util.Set.of();
        }

        @Override
        public boolean containsKey(Object key) {
            throw new IllegalStateException("injected in a lookup of '" + key + "'");
        }

        @Override
        public Object get(Object key) {
            throw new IllegalStateException("injected in a lookup of '" + key + "'");
        }
    }
}
