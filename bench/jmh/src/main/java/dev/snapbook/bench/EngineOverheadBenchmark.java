package dev.snapbook.bench;

import dev.snapbook.engine.load.StepCatalog;
import dev.snapbook.engine.load.Validator;
import dev.snapbook.engine.load.YamlLoader;
import dev.snapbook.engine.model.Playbook;
import dev.snapbook.engine.plan.PlanReport;
import dev.snapbook.engine.run.Execution;
import dev.snapbook.engine.run.RunContext;
import dev.snapbook.engine.run.RunListener;
import dev.snapbook.engine.run.RunStatus;
import dev.snapbook.engine.world.FactSources;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The engine's own cost per step: a playbook of {@value #STEPS} {@code bench.noop} steps (each with a
 * templated parameter and a registered result) loaded, planned, then run with journal, locks and
 * verification, in-process. Scores are per step ({@link OperationsPerInvocation}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgs = {"-XX:+UseSerialGC"})
public class EngineOverheadBenchmark {

    static final int STEPS = 1000;

    private final StepCatalog catalog = new StepCatalog(List.of(new NoopStep()));
    private final FactSources facts = new FactSources(List.of());
    private final RunListener quiet = new RunListener() {
    };
    private String yaml;
    private Playbook playbook;
    private Path stateDir;

    @Setup
    public void setUp() throws Exception {
        StringBuilder b = new StringBuilder("name: one thousand trivial steps\nvars:\n  word: hello\nsteps:\n");
        for (int i = 0; i < STEPS; i++) {
            b.append("  - name: step ").append(i).append('\n')
                    .append("    bench.noop: { value: \"{{ word }} ").append(i).append("\" }\n")
                    .append("    register: r").append(i % 10).append('\n');
        }
        yaml = b.toString();
        playbook = load();
        // the journal goes to the same kind of disk as a real run's (not a tmpfs)
        stateDir = BenchFiles.newDirectory("state-");
    }

    @TearDown
    public void tearDown() throws IOException {
        BenchFiles.delete(stateDir);
    }

    private Playbook load() throws Exception {
        Playbook pb = new YamlLoader(catalog.names()).load("bench.yml", yaml);
        new Validator(catalog).validate(pb);
        return pb;
    }

    /** Parsing and validating the YAML. */
    @Benchmark
    @OperationsPerInvocation(STEPS)
    public Playbook loadPerStep() throws Exception {
        return load();
    }

    /** The dry run: expressions resolved, every step planned against the predicted world. */
    @Benchmark
    @OperationsPerInvocation(STEPS)
    public PlanReport planPerStep() throws Exception {
        try (RunContext context = new RunContext("test:///", quiet)) {
            PlanReport plan = new Execution(catalog, facts, quiet).plan(playbook, Map.of(), Set.of(), context);
            if (!plan.feasible()) {
                throw new IllegalStateException(plan.failure());
            }
            return plan;
        }
    }

    /** What {@code snapbook run} does after loading: plan, locks, journal, apply, verify every step. */
    @Benchmark
    @OperationsPerInvocation(STEPS)
    public Execution.Result runPerStep() throws Exception {
        try (RunContext context = new RunContext("test:///", quiet)) {
            Execution.Result result = new Execution(catalog, facts, quiet)
                    .run(playbook, Map.of(), Set.of(), context, stateDir, irreversible -> true);
            if (result.status() != RunStatus.SUCCEEDED) {
                throw new IllegalStateException(result.message());
            }
            return result;
        }
    }
}
