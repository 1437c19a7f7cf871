package dev.snapbook.engine.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
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
        Handlers handlers = new Handlers(warmUps);
        cli.setExitCodeExceptionMapper(handlers);
        cli.setParameterExceptionHandler(handlers);
        cli.setExecutionExceptionHandler(handlers);
        cli.setExecutionStrategy(handlers);
        return cli.execute(args);
    }

    /**
     * How the command line reacts to bad usage and internal errors, and runs the command once the warm-ups
     * are done. A named class rather than lambdas: a lambda implementing a picocli interface has the
     * class-data sharing dump link that interface, and a linked class of picocli's old class-file version
     * (Java 5) is then left out of the archive and loaded, slowly, at every start (src/cds/train).
     */
    private static final class Handlers implements CommandLine.IExitCodeExceptionMapper,
            CommandLine.IParameterExceptionHandler, CommandLine.IExecutionExceptionHandler,
            CommandLine.IExecutionStrategy {

        private final WarmUps warmUps;

        Handlers(WarmUps warmUps) {
            this.warmUps = warmUps;
        }

        @Override
        public int getExitCode(Throwable exception) {
            return EXIT_USAGE;
        }

        @Override
        public int handleParseException(CommandLine.ParameterException e, String[] args) {
            e.getCommandLine().getErr().println("snapbook: " + e.getMessage());
            e.getCommandLine().getErr().println("Try '" + e.getCommandLine().getCommandSpec().qualifiedName()
                    + " --help'.");
            return EXIT_USAGE;
        }

        @Override
        public int handleExecutionException(Exception e, CommandLine command, CommandLine.ParseResult parsed) {
            command.getErr().println("snapbook: internal error: " + e);
            e.printStackTrace(command.getErr());
            return 3;
        }

        @Override
        public int execute(CommandLine.ParseResult parsed) {
            warmUps.await();
            return new CommandLine.RunLast().execute(parsed);
        }
    }

    /** The whole command tree: the built-in commands and those of {@link CommandExtension}s on the classpath. */
    static CommandLine commandLine() {
        return commandLine(null);
    }

    /**
     * The command tree for a command line whose first argument is {@code first}. picocli reads a command's
     * annotations when it is added, and finding the extensions scans every jar: together about 50 ms of each
     * start. So when {@code first} names a subcommand only that one is made and added. Anything else
     * ({@code --help}, {@code help}, {@code completion}, a mistyped name that needs its did-you-mean) gets the
     * whole tree.
     */
    static CommandLine commandLine(String first) {
        CommandLine cli = new CommandLine(new Main());
        boolean wholeTree = first == null || first.equals("help") || first.equals("completion");
        Supplier<Object> builtIn = wholeTree ? null : BUILT_IN.get(first);
        if (builtIn != null) {
            cli.addSubcommand(first, builtIn.get());
            return cli;
        }
        Map<String, Object> extensions = extensions();
        if (!wholeTree && extensions.containsKey(first)) {
            cli.addSubcommand(first, extensions.get(first));
            return cli;
        }
        for (Map.Entry<String, Supplier<Object>> command : BUILT_IN.entrySet()) {
            cli.addSubcommand(command.getKey(), command.getValue().get());
        }
        for (Map.Entry<String, Object> command : extensions.entrySet()) {
            cli.addSubcommand(command.getKey(), command.getValue());
        }
        return cli;
    }

    /** The built-in subcommands by name, in the order of the help (each name is its {@code @Command} name). */
    static final Map<String, Supplier<Object>> BUILT_IN = builtIn();

    private static Map<String, Supplier<Object>> builtIn() {
        Map<String, Supplier<Object>> m = new LinkedHashMap<>();
        m.put("run", RunCommand::new);
        m.put("plan", PlanCommand::new);
        m.put("validate", ValidateCommand::new);
        m.put("steps", StepsCommand::new);
        m.put("recipes", RecipesCommand::new);
        m.put("runs", RunsCommand::new);
        m.put("recover", RecoverCommand::new);
        m.put("schema", SchemaCommand::new);
        m.put("completion", CompletionCommand::new);
        m.put("help", () -> new CommandLine.HelpCommand()); // not HelpCommand::new: see Handlers
        return java.util.Collections.unmodifiableMap(m);
    }

    /** The subcommands of {@link CommandExtension}s on the class path, by their {@code @Command} name. */
    private static Map<String, Object> extensions() {
        Map<String, Object> byName = new LinkedHashMap<>();
        for (CommandExtension extension : java.util.ServiceLoader.load(CommandExtension.class)) {
            Object command = extension.command();
            byName.put(commandName(command.getClass()), command);
        }
        return byName;
    }

    /** The name in {@code type}'s {@code @Command} annotation. */
    static String commandName(Class<?> type) {
        Command annotation = type.getAnnotation(Command.class);
        if (annotation == null || annotation.name().isEmpty()) {
            throw new IllegalStateException(type.getName() + " has no @Command name");
        }
        return annotation.name();
    }

    /**
     * Snapbook's version (written at build time) and Java's, then what each {@link
     * dev.snapbook.engine.spi.VersionReport} finds: the libvirt and QEMU that {@code $LIBVIRT_DEFAULT_URI} (else
     * {@code qemu:///system}) reaches.
     */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws Exception {
            Properties p = new Properties();
            try (InputStream in = Main.class.getResourceAsStream("/snapbook/version.properties")) {
                if (in != null) {
                    p.load(in);
                }
            }
            java.util.List<String> lines = new java.util.ArrayList<>(java.util.List.of(
                    "snapbook " + p.getProperty("version", "unknown"), "Java " + System.getProperty("java.version")));
            String uri = CommandExtension.connectionUri(null);
            for (dev.snapbook.engine.spi.VersionReport report
                    : java.util.ServiceLoader.load(dev.snapbook.engine.spi.VersionReport.class)) {
                lines.addAll(report.lines(uri));
            }
            return lines.toArray(String[]::new);
        }
    }
}
