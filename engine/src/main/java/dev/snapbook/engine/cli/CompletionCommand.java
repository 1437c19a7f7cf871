package dev.snapbook.engine.cli;

import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/**
 * {@code snapbook completion bash|zsh}: a completion script. The script is bash; zsh loads it through
 * its bash compatibility ({@code bashcompinit}), which the zsh variant enables first.
 */
@Command(name = "completion", mixinStandardHelpOptions = true,
        description = "Print a shell completion script: source <(snapbook completion bash)")
class CompletionCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "SHELL", description = "bash or zsh")
    String shell;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        String script = AutoComplete.bash("snapbook", spec.root().commandLine());
        switch (shell) {
            case "bash" -> System.out.println(script);
            case "zsh" -> System.out.println("autoload -U +X compinit && compinit\nautoload -U +X bashcompinit && bashcompinit\n"
                    + script);
            default -> {
                System.err.println("snapbook: completion for bash or zsh, not '" + shell + "'");
                return 2;
            }
        }
        return 0;
    }
}
