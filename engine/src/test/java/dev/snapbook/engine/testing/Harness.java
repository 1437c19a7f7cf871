package dev.snapbook.engine.testing;

import dev.snapbook.engine.journal.Journal;
import dev.snapbook.engine.load.StepCatalog;
import dev.snapbook.engine.load.Validator;
import dev.snapbook.engine.load.YamlLoader;
import dev.snapbook.engine.model.Playbook;
import dev.snapbook.engine.plan.PlanReport;
import dev.snapbook.engine.plan.Planner;
import dev.snapbook.engine.run.RunContext;
import dev.snapbook.engine.run.RunListener;
import dev.snapbook.engine.run.Runner;
import dev.snapbook.engine.world.FactSources;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Loads, plans and runs YAML playbooks of test steps against one {@link Ledger}, for engine unit tests. */
public final class Harness {

    public final StepCatalog catalog = new StepCatalog(TestSteps.all());
    public final FactSources facts = new FactSources(List.of(new TestSteps.Counters()));
    public final Ledger ledger = new Ledger();

    public Playbook load(String yaml) throws Exception {
        Playbook pb = new YamlLoader(catalog.names()).load("test.yml", yaml);
        new Validator(catalog).validate(pb);
        return pb;
    }

    public RunContext context() {
        RunContext c = new RunContext("test:///", new RunListener() {
        });
        c.resource(Ledger.class, () -> ledger);
        return c;
    }

    public PlanReport plan(String yaml, Map<String, Object> extraVars) throws Exception {
        try (RunContext c = context()) {
            return new Planner(catalog).plan(load(yaml), extraVars, Set.of(), facts.newWorld(c));
        }
    }

    public RunListener.RunFinished run(String yaml, Path stateDir) throws Exception {
        try (RunContext c = context(); Journal j = Journal.create(stateDir)) {
            return new Runner(catalog, new RunListener() {
            }).run(load(yaml), Map.of(), Set.of(), c, j);
        }
    }
}
