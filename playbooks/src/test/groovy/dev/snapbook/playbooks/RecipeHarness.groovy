package dev.snapbook.playbooks

import dev.snapbook.engine.load.PlaybookFiles
import dev.snapbook.engine.load.StepCatalog
import dev.snapbook.engine.model.Playbook
import dev.snapbook.engine.plan.PlanReport
import dev.snapbook.engine.run.Execution
import dev.snapbook.engine.run.RunContext
import dev.snapbook.engine.run.RunListener
import dev.snapbook.engine.world.FactSources
import dev.snapbook.engine.world.WorldDiff

import java.nio.file.Path

/**
 * Plans and runs recipes in-process the way {@code snapbook run} does, and compares the world observed
 * after a run with the world the plan predicted.
 */
class RecipeHarness {

    static final String URI = 'qemu:///system'

    final StepCatalog catalog = StepCatalog.load(RecipeHarness.classLoader)
    final FactSources facts = FactSources.load(RecipeHarness.classLoader)
    final Path state
    final List<Path> recipeDirs

    RecipeHarness(Path state, List<Path> recipeDirs = []) {
        this.state = state
        this.recipeDirs = recipeDirs
    }

    Playbook load(String ref) {
        new PlaybookFiles(catalog, recipeDirs).load(ref)
    }

    /** The plan of {@code ref} with {@code vars}; changes nothing. */
    PlanReport plan(String ref, Map<String, Object> vars) {
        RunContext ctx = new RunContext(URI, new RunListener() {})
        try {
            new Execution(catalog, facts, new RunListener() {}).plan(load(ref), vars, [] as Set, ctx)
        } finally {
            ctx.close()
        }
    }

    /** What {@code snapbook ARGS} prints on standard output, run in-process, and its exit code: [exit, text]. */
    static List cli(String... args) {
        def bytes = new ByteArrayOutputStream()
        PrintStream saved = System.out
        int exit
        System.setOut(new PrintStream(bytes, true, 'UTF-8'))
        try {
            exit = dev.snapbook.engine.cli.Main.execute(args)
        } finally {
            System.setOut(saved)
        }
        [exit, bytes.toString('UTF-8')]
    }

    /** What happened: the plan, the run's result, and every fact that differs from the plan's prediction. */
    static class Outcome {
        PlanReport plan
        Execution.Result result
        List<WorldDiff.Difference> drift

        int getExitCode() { result.exitCode() }
    }

    /** Runs {@code ref} confirming irreversible steps, then compares the world with the prediction. */
    Outcome run(String ref, Map<String, Object> vars) {
        Playbook pb = load(ref)
        RunContext ctx = new RunContext(URI, new RunListener() {})
        try {
            def execution = new Execution(catalog, facts, new RunListener() {})
            PlanReport plan = execution.plan(pb, vars, [] as Set, ctx)
            Execution.Result result = execution.run(pb, vars, [] as Set, ctx, state, { true } as Execution.Confirmation)
            List<WorldDiff.Difference> drift = []
            if (result.run() != null && result.exitCode() == 0) {
                RunContext fresh = new RunContext(URI, new RunListener() {})
                try {
                    drift = WorldDiff.against(WorldDiff.predictedFacts(plan.world()), facts, fresh)
                } finally {
                    fresh.close()
                }
            }
            new Outcome(plan: plan, result: result, drift: drift)
        } finally {
            ctx.close()
        }
    }

    /**
     * The differences between the world after a run and the plan's prediction that concern one lab VM: its domain,
     * snapshots, block jobs and the images in its directories, and whether it is in the domain list. A plan that
     * reads the disk-state model looks at every domain on the connection; other test runs on the same host create
     * and remove their own lab VMs meanwhile, which no recipe can predict and which are none of its business.
     */
    static List ownDrift(Outcome out, String domain, List<java.nio.file.Path> dirs) {
        out.drift.findAll { d ->
            String key = d.key()
            if (key == 'domains:all') {
                return d.expected().path('names').any { it.asText() == domain } !=
                        d.actual().path('names').any { it.asText() == domain }
            }
            if (key.startsWith('domain:') || key.startsWith('definition:') || key.startsWith('snapshots:')) {
                return key.substring(key.indexOf(':') + 1) == domain
            }
            if (key.startsWith('block-job:')) {
                return key.substring('block-job:'.length()).startsWith(domain + '/')
            }
            if (key.startsWith('image:')) {
                String file = key.substring('image:'.length())
                return dirs.any { it != null && file.startsWith(it.toString()) }
            }
            true
        }
    }
}
