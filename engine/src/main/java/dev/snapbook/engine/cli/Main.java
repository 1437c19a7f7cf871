package dev.snapbook.engine.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.InputStream;
import java.util.Properties;

/**
 * The {@code snapbook} command line. Exit codes: 0 success; 1 a step or a planned precondition failed
 * and everything done was rolled back; 2 invalid input or usage, nothing was executed; 3 failed and the
 * rollback did not complete.
 */
@Command(name = "snapbook", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Runs playbooks of snapshot operations on libvirt/QEMU VMs: planned, verified, rolled back.",
        subcommands = {RunCommand.class, PlanCommand.class, ValidateCommand.class, StepsCommand.class,
                RecipesCommand.class, RunsCommand.class, RecoverCommand.class, SchemaCommand.class, CompletionCommand.class,
                CommandLine.HelpCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:success",
            "1:a step or a planned precondition failed; everything done was rolled back",
            "2:invalid input or usage; nothing was executed",
            "3:failed and the rollback did not complete; see the journal named in the output"})
public final class Main {

    public static final int EXIT_USAGE = 2;

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
        CommandLine cli = commandLine();
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
        return cli.execute(args);
    }

    /** The whole command tree: the built-in commands and those of {@link CommandExtension}s on the classpath. */
    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Main());
        for (CommandExtension extension : java.util.ServiceLoader.load(CommandExtension.class)) {
            cli.addSubcommand(extension.command());
        }
        return cli;
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
