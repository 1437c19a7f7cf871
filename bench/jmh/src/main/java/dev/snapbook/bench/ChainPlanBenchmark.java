package dev.snapbook.bench;

import dev.snapbook.engine.load.StepCatalog;
import dev.snapbook.engine.load.Validator;
import dev.snapbook.engine.load.YamlLoader;
import dev.snapbook.engine.model.Playbook;
import dev.snapbook.engine.plan.PlanReport;
import dev.snapbook.engine.run.Execution;
import dev.snapbook.engine.run.RunContext;
import dev.snapbook.engine.run.RunListener;
import dev.snapbook.engine.world.FactSources;
import dev.snapbook.steps.exec.Command;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The plan of {@code chain.verify} on a qcow2 chain of {@code depth} images, in-process: the same step
 * and fact sources as {@code snapbook plan} (one {@code qemu-img info --backing-chain}, then the checks of
 * the observed chain), without the JVM start that dominates the command's wall time. Its growth with the
 * depth is what the wall-clock figures of benchmark 3 are too noisy to show.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1)
public class ChainPlanBenchmark {

    @Param({"10", "50", "200"})
    public int depth;

    private final StepCatalog catalog = StepCatalog.load(ChainPlanBenchmark.class.getClassLoader());
    private final FactSources facts = FactSources.load(ChainPlanBenchmark.class.getClassLoader());
    private final RunListener quiet = new RunListener() {
    };
    private Path dir;
    private Path top;
    private Playbook playbook;

    @Setup
    public void setUp() throws Exception {
        dir = BenchFiles.newDirectory("chain-");
        qemuImg("create", "-q", "-f", "qcow2", dir.resolve("l0.qcow2").toString(), "16M");
        for (int i = 1; i < depth; i++) {
            qemuImg("create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", "l" + (i - 1) + ".qcow2",
                    dir.resolve("l" + i + ".qcow2").toString());
        }
        top = dir.resolve("l" + (depth - 1) + ".qcow2");
        String yaml = "name: chain plan\nvars:\n  image: null\nsteps:\n  - chain.verify: { image: \"{{ image }}\" }\n";
        playbook = new YamlLoader(catalog.names()).load("chain.yml", yaml);
        new Validator(catalog).validate(playbook);
    }

    private static void qemuImg(String... args) throws IOException {
        Command.Result r = Command.of("qemu-img", args).run(Duration.ofMinutes(1), line -> { });
        if (!r.succeeded()) {
            throw new IOException("qemu-img " + String.join(" ", args) + " failed: " + r.stderr());
        }
    }

    @TearDown
    public void tearDown() throws IOException {
        BenchFiles.delete(dir);
    }

    /** One plan: a fresh world observes the chain and chain.verify checks it. */
    @Benchmark
    public PlanReport planChain() throws Exception {
        try (RunContext context = new RunContext("test:///default", quiet)) {
            PlanReport plan = new Execution(catalog, facts, quiet)
                    .plan(playbook, Map.of("image", top.toString()), Set.of(), context);
            if (!plan.feasible()) {
                throw new IllegalStateException(plan.failure());
            }
            return plan;
        }
    }
}
