package dev.snapbook.engine.cli;

import dev.snapbook.engine.load.PlaybookError;
import dev.snapbook.engine.load.PlaybookFiles;
import dev.snapbook.engine.load.StepCatalog;
import dev.snapbook.engine.model.Playbook;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code snapbook recipes}: bundled and user recipes, their purpose and parameters. */
@Command(name = "recipes", mixinStandardHelpOptions = true, description = "List recipes with their purpose and parameters.")
class RecipesCommand implements Callable<Integer> {

    @Option(names = "--recipes", paramLabel = "DIR", description = "A directory of your own recipes.")
    List<Path> recipeDirs = new ArrayList<>();

    @Override
    public Integer call() {
        StepCatalog catalog = StepCatalog.load(getClass().getClassLoader());
        PlaybookFiles files = new PlaybookFiles(catalog, PlaybookFiles.recipeDirs(recipeDirs));
        int exit = 0;
        for (String name : files.recipeNames()) {
            try {
                Playbook pb = files.load("recipe:" + name);
                System.out.printf("%-28s %s%n", name, pb.name());
                if (!pb.vars().isEmpty()) {
                    System.out.println("      " + String.join(" ", pb.vars().keySet().stream()
                            .map(k -> pb.vars().get(k) == null ? "-e " + k + "=VALUE" : "[-e " + k + "=" + pb.vars().get(k) + "]")
                            .toList()));
                }
            } catch (PlaybookError e) {
                System.out.printf("%-28s INVALID: %s%n", name, e.getMessage());
                exit = 2;
            }
        }
        return exit;
    }
}
