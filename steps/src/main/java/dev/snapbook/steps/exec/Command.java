package dev.snapbook.steps.exec;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.apache.commons.exec.CommandLine;
import org.apache.commons.exec.DefaultExecutor;
import org.apache.commons.exec.ExecuteWatchdog;
import org.apache.commons.exec.PumpStreamHandler;

/**
 * An external command given as an argument vector, run with Commons Exec and never through a shell,
 * so no argument (a file name from a playbook, say) is ever interpreted by one (DESIGN.md, safety rule 4).
 */
public final class Command {

    /** What a finished command printed and returned. */
    public record Result(int exitCode, String stdout, String stderr, boolean timedOut) {

        public boolean succeeded() {
            return exitCode == 0 && !timedOut;
        }
    }

    private final List<String> argv;

    private Command(List<String> argv) {
        if (argv.isEmpty()) {
            throw new IllegalArgumentException("a command needs at least a program name");
        }
        this.argv = List.copyOf(argv);
    }

    /** The command {@code program args...}; each element is passed to the program as one argument. */
    public static Command of(String program, String... args) {
        return new Command(concat(program, args));
    }

    public static Command of(List<String> argv) {
        return new Command(argv);
    }

    public List<String> argv() {
        return argv;
    }

    /**
     * Runs the command to completion and returns its exit code and output; a non-zero exit code is not an
     * error here (callers decide what it means). The trace gets the command line before it runs.
     *
     * @throws IOException when the program cannot be started (not installed, not executable)
     */
    public Result run(Duration timeout, Consumer<String> trace) throws IOException {
        return run(timeout, trace, piece -> { });
    }

    /**
     * Runs the command like {@link #run(Duration, Consumer)}, and also hands each piece of standard output
     * to {@code output} as it arrives, split at carriage returns and newlines (progress meters, such as
     * {@code qemu-img convert -p}, redraw one line with {@code \r}).
     */
    public Result run(Duration timeout, Consumer<String> trace, Consumer<String> output) throws IOException {
        trace.accept(toString());
        CommandLine line = new CommandLine(argv.get(0));
        // handleQuoting=false: Commons Exec would otherwise wrap arguments containing spaces in quotes,
        // which the program would receive literally since there is no shell to strip them.
        argv.subList(1, argv.size()).forEach(arg -> line.addArgument(arg, false));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        ExecuteWatchdog watchdog = ExecuteWatchdog.builder().setTimeout(timeout).get();
        DefaultExecutor executor = DefaultExecutor.builder().get();
        executor.setStreamHandler(new PumpStreamHandler(new Pieces(out, output), err));
        executor.setWatchdog(watchdog);
        executor.setExitValues(null); // every exit code is a result, not an exception
        int exit = executor.execute(line);
        return new Result(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8),
                watchdog.killedProcess());
    }

    /** Copies everything to {@code copy} and hands each line, ended by {@code \r} or {@code \n}, to a consumer. */
    private static final class Pieces extends java.io.OutputStream {
        private final ByteArrayOutputStream copy;
        private final Consumer<String> consumer;
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();

        Pieces(ByteArrayOutputStream copy, Consumer<String> consumer) {
            this.copy = copy;
            this.consumer = consumer;
        }

        @Override
        public void write(int b) {
            copy.write(b);
            if (b == '\r' || b == '\n') {
                if (line.size() > 0) {
                    consumer.accept(line.toString(StandardCharsets.UTF_8));
                    line.reset();
                }
            } else {
                line.write(b);
            }
        }

        @Override
        public void close() {
            if (line.size() > 0) {
                consumer.accept(line.toString(StandardCharsets.UTF_8));
                line.reset();
            }
        }
    }

    /** The command line for humans, with arguments that contain spaces or quotes shown quoted. */
    @Override
    public String toString() {
        return argv.stream().map(Command::quoteForDisplay).collect(Collectors.joining(" "));
    }

    private static String quoteForDisplay(String arg) {
        if (!arg.isEmpty() && arg.chars().noneMatch(c -> " \t\n'\"\\$`*?;&|<>()".indexOf(c) >= 0)) {
            return arg;
        }
        return "'" + arg.replace("'", "'\\''") + "'";
    }

    private static List<String> concat(String first, String[] rest) {
        String[] all = new String[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return List.of(all);
    }
}
