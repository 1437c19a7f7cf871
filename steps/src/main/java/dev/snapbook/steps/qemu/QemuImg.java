package dev.snapbook.steps.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.steps.exec.Command;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Runs {@code qemu-img} (see qemu-img(1)) as an argument vector and reads its {@code --output=json}. Looks at
 * images pass {@code -U} (force-share) so they work on images a running domain has open, without taking
 * QEMU's write lock. Every failure becomes a {@link StepFailure} naming the file and quoting stderr.
 */
public final class QemuImg {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration TIMEOUT = Duration.ofMinutes(2);

    private final String program;
    private final Consumer<String> trace;

    public QemuImg(Consumer<String> trace) {
        this("qemu-img", trace);
    }

    public QemuImg(String program, Consumer<String> trace) {
        this.program = program;
        this.trace = trace;
    }

    /**
     * {@code qemu-img info -U --output=json FILE}, with {@code --backing-chain} when {@code chain}: one JSON
     * object per image, the file itself first, then its backing file, and so on down to the base.
     */
    public List<JsonNode> info(Path file, boolean chain) throws StepFailure {
        List<String> argv = new ArrayList<>(List.of(program, "info", "-U"));
        if (chain) {
            argv.add("--backing-chain");
        }
        argv.addAll(List.of("--output=json", file.toString()));
        JsonNode json = parse(run(Command.of(argv), file), file);
        List<JsonNode> images = new ArrayList<>();
        if (json.isArray()) {
            json.forEach(images::add);
        } else {
            images.add(json);
        }
        return images;
    }

    /** {@code qemu-img create -f FORMAT FILE SIZE}: a new empty image. */
    public void create(Path file, String format, long sizeBytes) throws StepFailure {
        run(Command.of(program, "create", "-q", "-f", format, file.toString(), Long.toString(sizeBytes)), file);
    }

    /**
     * {@code qemu-img create -f qcow2 -b BACKING -F BACKING_FORMAT FILE}: a new qcow2 overlay whose reads fall
     * through to {@code backing}. The backing format is always given so qemu never probes it.
     */
    public void createOverlay(Path file, Path backing, String backingFormat) throws StepFailure {
        run(Command.of(program, "create", "-q", "-f", "qcow2", "-b", backing.toString(), "-F", backingFormat,
                file.toString()), file);
    }

    private String run(Command command, Path file) throws StepFailure {
        Command.Result result;
        try {
            result = command.run(TIMEOUT, trace);
        } catch (IOException e) {
            throw new StepFailure("cannot run " + program + " for " + file + ": " + e.getMessage(),
                    "install qemu-utils (Debian: apt-get install qemu-utils)", e);
        }
        if (result.timedOut()) {
            throw new StepFailure(program + " did not finish within " + TIMEOUT.toSeconds() + "s on " + file
                    + ": " + command, "check whether the file is on a hung filesystem", null);
        }
        if (!result.succeeded()) {
            throw new StepFailure(program + " failed on " + file + " (exit " + result.exitCode() + "): "
                    + result.stderr().strip(), "the command was: " + command, null);
        }
        return result.stdout();
    }

    private JsonNode parse(String stdout, Path file) throws StepFailure {
        try {
            return JSON.readTree(stdout);
        } catch (IOException e) {
            throw new StepFailure(program + " printed output that is not JSON for " + file + ": "
                    + e.getMessage(), null, e);
        }
    }

    // ---- image family (image.check, image.convert, image.create, image.compare, image.format) ----

    /** What {@code qemu-img check --output=json} said, with its exit code (0 clean, 2 corrupt, 3 leaks). */
    public record CheckReport(int exitCode, JsonNode json) {
        public long corruptions() {
            return json.path("corruptions").asLong(0);
        }

        public long leaks() {
            return json.path("leaks").asLong(0);
        }

        public long checkErrors() {
            return json.path("check-errors").asLong(0);
        }
    }

    /** How {@code qemu-img check} may write to the image: not at all, or {@code -r leaks} / {@code -r all}. */
    public enum Repair {
        NONE, LEAKS, ALL;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** The argument vector of {@link #check}, for plans and traces. */
    public List<String> checkArgv(Path file, String format, Repair repair) {
        List<String> argv = new ArrayList<>(List.of(program, "check"));
        if (repair == Repair.NONE) {
            argv.add("-U");
        } else {
            argv.addAll(List.of("-r", repair.label()));
        }
        if (format != null) {
            argv.addAll(List.of("-f", format));
        }
        argv.addAll(List.of("--output=json", file.toString()));
        return argv;
    }

    /**
     * {@code qemu-img check [-U | -r leaks|all] [-f FORMAT] --output=json FILE}. Exit codes 0 (clean), 2
     * (corruptions) and 3 (leaks) carry a JSON report; 1 (check not completed), 63 (format has no check)
     * and others are failures. {@code -U} is passed only when not repairing: a repair must hold the lock.
     */
    public CheckReport check(Path file, String format, Repair repair) throws StepFailure {
        Command command = Command.of(checkArgv(file, format, repair));
        Command.Result result = runAllowing(command, file, Set.of(0, 2, 3));
        return new CheckReport(result.exitCode(), parse(result.stdout(), file));
    }

    /** The argument vector of {@link #compare}. */
    public List<String> compareArgv(Path a, Path b) {
        return List.of(program, "compare", "-U", a.toString(), b.toString());
    }

    /**
     * {@code qemu-img compare -U A B}: whether the guest-visible contents are equal (exit 0) or differ (exit 1);
     * reads through backing chains. As qemu-img defines it, a larger image whose extra part reads as zeros
     * is identical to the smaller one. Any other exit code is a failure.
     */
    public boolean compare(Path a, Path b) throws StepFailure {
        Command.Result result = runAllowing(Command.of(compareArgv(a, b)), a, Set.of(0, 1));
        return result.exitCode() == 0;
    }

    /** The argument vector of {@link #convert}. */
    public List<String> convertArgv(Path source, String sourceFormat, Path target, String format) {
        List<String> argv = new ArrayList<>(List.of(program, "convert", "-p", "-U"));
        if (sourceFormat != null) {
            argv.addAll(List.of("-f", sourceFormat));
        }
        argv.addAll(List.of("-O", format, source.toString(), target.toString()));
        return argv;
    }

    /** {@link #convert(Path, String, Path, String, java.util.function.DoubleConsumer)} without progress reports. */
    public void convert(Path source, String sourceFormat, Path target, String format) throws StepFailure {
        convert(source, sourceFormat, target, format, percent -> { });
    }

    /**
     * {@code qemu-img convert -p -U [-f SRC_FORMAT] -O FORMAT SOURCE TARGET}: a new, standalone image with the
     * source's guest-visible contents (its backing chain flattened in). {@code -U} lets it read a backing
     * layer a running domain has open read-only; callers refuse images that are written while it runs.
     * {@code -p} makes qemu-img print its progress, {@code (12.50/100%)}, which goes to {@code percent} as
     * it comes. Conversions of large images take long: this one may run for {@link #CONVERT_TIMEOUT}.
     */
    public void convert(Path source, String sourceFormat, Path target, String format,
                        java.util.function.DoubleConsumer percent) throws StepFailure {
        Command command = Command.of(convertArgv(source, sourceFormat, target, format));
        Command.Result result;
        try {
            result = command.run(CONVERT_TIMEOUT, trace, piece -> {
                double p = convertProgress(piece);
                if (p >= 0) {
                    percent.accept(p);
                }
            });
        } catch (IOException e) {
            throw new StepFailure("cannot run " + program + " for " + source + ": " + e.getMessage(),
                    "install qemu-utils (Debian: apt-get install qemu-utils)", e);
        }
        if (result.timedOut()) {
            throw new StepFailure(program + " did not finish within " + CONVERT_TIMEOUT.toMinutes() + " minutes on "
                    + source + ": " + command, "check whether the file is on a hung filesystem", null);
        }
        if (!result.succeeded()) {
            throw new StepFailure(program + " failed on " + source + " (exit " + result.exitCode() + "): "
                    + result.stderr().strip(), "the command was: " + command, null);
        }
    }

    /** How long a conversion may run before it is killed. */
    public static final Duration CONVERT_TIMEOUT = Duration.ofHours(2);

    private static final java.util.regex.Pattern CONVERT_PROGRESS =
            java.util.regex.Pattern.compile("\\(\\s*(\\d+(?:\\.\\d+)?)/100%\\)");

    /** The percent in one line of {@code qemu-img convert -p} output, {@code "    (12.50/100%)"}, or -1. */
    static double convertProgress(String piece) {
        java.util.regex.Matcher m = CONVERT_PROGRESS.matcher(piece);
        return m.find() ? Double.parseDouble(m.group(1)) : -1;
    }

    /** The argument vector of {@link #createImage}. */
    public List<String> createArgv(Path file, String format, String size, Path backing, String backingFormat) {
        List<String> argv = new ArrayList<>(List.of(program, "create", "-q", "-f", format));
        if (backing != null) {
            argv.addAll(List.of("-b", backing.toString(), "-F", backingFormat));
        }
        argv.add(file.toString());
        if (size != null) {
            argv.add(size);
        }
        return argv;
    }

    /**
     * {@code qemu-img create -q -f FORMAT [-b BACKING -F BACKING_FORMAT] FILE [SIZE]}; the size may be omitted
     * with a backing file (the overlay takes the backing file's size).
     */
    public void createImage(Path file, String format, String size, Path backing, String backingFormat)
            throws StepFailure {
        run(Command.of(createArgv(file, format, size, backing, backingFormat)), file);
    }

    /** The first line of {@code qemu-img --version}, e.g. {@code qemu-img version 10.0.13 (Debian ...)}. */
    public String version() throws StepFailure {
        String out = run(Command.of(program, "--version"), Path.of(program));
        return out.lines().findFirst().orElse(program + " printed no version").strip();
    }

    private Command.Result runAllowing(Command command, Path file, Set<Integer> exitCodes) throws StepFailure {
        Command.Result result;
        try {
            result = command.run(TIMEOUT, trace);
        } catch (IOException e) {
            throw new StepFailure("cannot run " + program + " for " + file + ": " + e.getMessage(),
                    "install qemu-utils (Debian: apt-get install qemu-utils)", e);
        }
        if (result.timedOut()) {
            throw new StepFailure(program + " did not finish within " + TIMEOUT.toSeconds() + "s on " + file
                    + ": " + command, "check whether the file is on a hung filesystem", null);
        }
        if (!exitCodes.contains(result.exitCode())) {
            throw new StepFailure(program + " failed on " + file + " (exit " + result.exitCode() + "): "
                    + result.stderr().strip(), "the command was: " + command, null);
        }
        return result;
    }

    // ---- end of image family ----
}
