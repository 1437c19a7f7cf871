package dev.snapbook.engine.cli;

import dev.snapbook.engine.load.PlaybookError;
import dev.snapbook.engine.load.PlaybookFiles;
import dev.snapbook.engine.load.StepCatalog;
import dev.snapbook.engine.model.Playbook;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code snapbook validate}: load and check playbooks without touching anything. */
@Command(name = "validate", mixinStandardHelpOptions = true,
        description = "Check playbooks (syntax, step types, parameters, expressions) without connecting to libvirt.")
class ValidateCommand implements Callable<Integer> {

    @Parameters(arity = "1..*", paramLabel = "PLAYBOOK", description = "Files or recipe:NAME.")
    List<String> playbooks;

    @Option(names = "--recipes", paramLabel = "DIR", description = "A directory of your own recipes.")
    List<Path> recipeDirs = new ArrayList<>();

    @Override
    public Integer call() {
        StepCatalog catalog = StepCatalog.load(getClass().getClassLoader());
        PlaybookFiles files = new PlaybookFiles(catalog, PlaybookFiles.recipeDirs(recipeDirs));
        int exit = 0;
        for (String ref : playbooks) {
            try {
                Playbook pb = files.load(ref);
                System.out.println(ref + ": ok (" + pb.name() + ", " + pb.steps().size() + " steps)");
            } catch (PlaybookError e) {
                System.err.println(e.getMessage());
                exit = 2;
            }
        }
        return exit;
    }
}
