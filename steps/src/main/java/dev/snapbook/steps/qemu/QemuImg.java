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
}
