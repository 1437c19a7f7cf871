package dev.snapbook.engine.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The {@code snapbook} command line. Exit codes: 0 success; 1 a step or a planned precondition failed
 * and everything done was rolled back; 2 invalid input or usage, nothing was executed; 3 failed and the
 * rollback did not complete.
 */
@Command(name = "snapbook", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Runs playbooks of snapshot operations on libvirt/QEMU VMs: planned, verified, rolled back.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:success",
            "1:a step or a planned precondition failed; everything done was rolled back",
            "2:invalid input or usage; nothing was executed",
            "3:failed and the rollback did not complete; see the journal named in the output"})
public final class Main {

    public static final int EXIT_USAGE = 2;

    /** The commands that plan or run playbooks, for which {@link WarmUps} prepares while picocli parses. */
    private static final java.util.Set<String> WARMED_UP = java.util.Set.of("run", "plan", "recover", "show");

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the command line and returns its exit code (for tests and the launcher). */
    public static int execute(String... args) {
        // picocli's default factory otherwise probes for groovy.lang.Closure, which initialises the whole
        // Groovy runtime (about 0.4 s of start-up) even for a YAML playbook; no command here is a closure.
        if (System.getProperty("picocli.disable.closures") == null) {
            System.setProperty("picocli.disable.closures", "true");
        }
        String first = args.length == 0 ? null : args[0];
        WarmUps warmUps = WARMED_UP.contains(first) ? WarmUps.start() : WarmUps.none();
        CommandLine cli = commandLine(first);
        cli.setExitCodeExceptionMapper(e -> EXIT_USAGE);
        cli.setParameterExceptionHandler((e, a) -> {
            e.getCommandLine().getErr().println("snapbook: " + e.getMessage());
            e.getCommandLine().getErr().println("Try '" + e.getCommandLine().getCommandSpec().qualifiedName()
                    + " --help'.");
            return EXIT_USAGE;
        });
        cli.setExecutionExceptionHandler((e, c, p) -> {
            c.getErr().println("snapbook: internal error: " + e);
            e.printStackTrace(c.getErr());
            return 3;
        });
        cli.setExecutionStrategy(parsed -> {
            warmUps.await();
            return new CommandLine.RunLast().execute(parsed);
        });
        return cli.execute(args);
    }

    /** The whole command tree: the built-in commands and those of {@link CommandExtension}s on the classpath. */
    static CommandLine commandLine() {
        return commandLine(null);
    }

    /**
     * The command tree for a command line whose first argument is {@code first}. picocli reads a command's
     * annotations when it is added (about 30 ms for the whole tree, at every start); so when {@code first}
     * names a subcommand only that one is added. Anything else ({@code --help}, {@code help},
     * {@code completion}, a mistyped name that needs its did-you-mean) gets the whole tree.
     */
    static CommandLine commandLine(String first) {
        Map<String, Object> commands = subcommands();
        CommandLine cli = new CommandLine(new Main());
        Object only = "help".equals(first) || "completion".equals(first) ? null : commands.get(first);
        if (only != null) {
            cli.addSubcommand(first, only);
        } else {
            commands.forEach(cli::addSubcommand);
        }
        return cli;
    }

    /** Every subcommand, by name, in the order of the help: new objects, which picocli has not read yet. */
    private static Map<String, Object> subcommands() {
        List<Object> all = new ArrayList<>(List.of(new RunCommand(), new PlanCommand(), new ValidateCommand(),
                new StepsCommand(), new RecipesCommand(), new RunsCommand(), new RecoverCommand(),
                new SchemaCommand(), new CompletionCommand(), new CommandLine.HelpCommand()));
        for (CommandExtension extension : java.util.ServiceLoader.load(CommandExtension.class)) {
            all.add(extension.command());
        }
        Map<String, Object> byName = new LinkedHashMap<>();
        for (Object command : all) {
            Command annotation = command.getClass().getAnnotation(Command.class);
            if (annotation == null || annotation.name().isEmpty()) {
                throw new IllegalStateException(command.getClass().getName() + " has no @Command name");
            }
            byName.put(annotation.name(), command);
        }
        return byName;
    }

    /** Reads the version written at build time. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws Exception {
            Properties p = new Properties();
            try (InputStream in = Main.class.getResourceAsStream("/snapbook/version.properties")) {
                if (in != null) {
                    p.load(in);
                }
            }
            return new String[] {"snapbook " + p.getProperty("version", "unknown"),
                    "Java " + System.getProperty("java.version")};
        }
    }
}
