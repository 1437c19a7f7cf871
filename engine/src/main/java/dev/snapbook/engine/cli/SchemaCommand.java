package dev.snapbook.engine.cli;

import dev.snapbook.engine.json.Json;
import dev.snapbook.engine.load.StepCatalog;
import dev.snapbook.engine.schema.PlaybookSchema;
import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/** {@code snapbook schema}: the JSON Schema of YAML playbooks, for editors. */
@Command(name = "schema", mixinStandardHelpOptions = true,
        description = "Print a JSON Schema for YAML playbooks (every step type and parameter), for a YAML language server.")
class SchemaCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        System.out.println(Json.pretty(PlaybookSchema.generate(StepCatalog.load(getClass().getClassLoader()))));
        return 0;
    }
}
