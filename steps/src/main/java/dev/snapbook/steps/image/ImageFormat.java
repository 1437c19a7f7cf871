package dev.snapbook.steps.image;

import dev.snapbook.engine.spi.Outcome;
import dev.snapbook.engine.spi.Param;
import dev.snapbook.engine.spi.ParamType;
import dev.snapbook.engine.spi.Params;
import dev.snapbook.engine.spi.Planned;
import dev.snapbook.engine.spi.Step;
import dev.snapbook.engine.spi.StepContext;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.engine.spi.Verification;
import dev.snapbook.engine.spi.World;
import dev.snapbook.steps.libvirt.ConnectionHost;
import dev.snapbook.steps.qemu.QemuImg;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Step {@code image.format}: the format a file's contents show, whatever its name says: the magic number
 * in its header ({@code QFI\xfb} for qcow2, and the other formats QEMU probes), else {@code raw}, cross-checked
 * with qemu-img's own probe ({@code qemu-img info -U}). Read-only.
 *
 * <p>Result: {@code {format}}. The step fails when the header and qemu-img disagree. Verification detects
 * again and expects the same format.
 */
public final class ImageFormat implements Step {

    @Override
    public String name() {
        return "image.format";
    }

    @Override
    public String summary() {
        return "Detects an image's format from its contents (header magic, cross-checked with qemu-img info).";
    }

    @Override
    public List<Param> params() {
        return List.of(Param.required("path", ParamType.PATH, "the file"));
    }

    @Override
    public String preconditions() {
        return "The image must exist at this point of the plan.";
    }

    @Override
    public String verifies() {
        return "Reads the file's header and qemu-img info -U again: both must still show the format reported.";
    }

    @Override
    public String undoes() {
        return "It only reads the file's header and runs qemu-img info -U.";
    }

    @Override
    public Planned plan(Params params, World world) throws StepFailure {
        ConnectionHost.requireLocalFiles(world, name());
        String path = params.string("path");
        ImageFacts facts = Images.require(world, path, "image");
        return Planned.readOnly("read the header of " + path + "; qemu-img info -U --output=json " + path,
                Map.of("format", facts.format()));
    }

    @Override
    public Outcome apply(Params params, Map<String, Object> captured, StepContext context) throws StepFailure {
        String path = params.string("path");
        String format = detect(path, context);
        return Outcome.unchanged(path + " is " + format, Map.of("format", format));
    }

    @Override
    public Verification verify(Params params, Outcome outcome, StepContext context) throws StepFailure {
        String now = detect(params.string("path"), context);
        return Verification.check(now.equals(outcome.data().get("format")),
                params.string("path") + " now shows format " + now + ", not " + outcome.data().get("format"));
    }

    private static String detect(String path, StepContext context) throws StepFailure {
        if (!Files.isRegularFile(Path.of(path))) {
            throw new StepFailure("image " + path + " does not exist or is not a regular file", "check the path");
        }
        String magic = Images.detect(path);
        String probed = new QemuImg(context::trace).info(Path.of(path), false).get(0).path("format").asText();
        if (!magic.equals(probed)) {
            throw new StepFailure("the header of " + path + " shows " + magic + " but qemu-img probes it as " + probed,
                    "inspect the file with: qemu-img info -U " + path);
        }
        return magic;
    }
}
