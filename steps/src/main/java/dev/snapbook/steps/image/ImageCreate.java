package dev.snapbook.steps.image;

import dev.snapbook.steps.libvirt.ConnectionHost;
import dev.snapbook.steps.state.DiskStates;
import dev.snapbook.engine.spi.Outcome;
import dev.snapbook.engine.spi.Param;
import dev.snapbook.engine.spi.ParamType;
import dev.snapbook.engine.spi.Params;
import dev.snapbook.engine.spi.Planned;
import dev.snapbook.engine.spi.Reversibility;
import dev.snapbook.engine.spi.Step;
import dev.snapbook.engine.spi.StepContext;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.engine.spi.Verification;
import dev.snapbook.engine.spi.World;
import dev.snapbook.steps.exec.Command;
import dev.snapbook.steps.qemu.QemuImg;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Step {@code image.create}: creates a NEW image file ({@code qemu-img create}): an empty image of
 * {@code size}, or a qcow2 overlay on {@code backing} (whose format must be given as {@code backing_format}
 * and match what its contents show, so qemu never probes it). The file must not exist; the backing file must.
 * The backing path must be absolute (qemu resolves a relative one against the new image's directory).
 *
 * <p>Result: {@code {path, format, virtual_size, backing_chain: [{file, format}, ...]}}, as {@code image.info}
 * would read it. Verification reads the new image with {@code qemu-img info} and compares. Undo deletes the
 * file (unless something uses it by then).
 */
public final class ImageCreate implements Step {

    @Override
    public String name() {
        return "image.create";
    }

    @Override
    public String summary() {
        return "Creates a new empty image or a qcow2 overlay on a backing file (qemu-img create).";
    }

    @Override
    public List<Param> params() {
        return List.of(Param.required("path", ParamType.PATH, "the new image file; must not exist"),
                Param.optional("format", ParamType.STRING, "qcow2", "the image's format").oneOf("qcow2", "raw"),
                Param.optional("size", ParamType.STRING, null,
                        "the virtual size, e.g. 1G, 512M or bytes; optional with a backing file (default: its size)"),
                Param.optional("backing", ParamType.PATH, null, "an existing image to put the new qcow2 overlay on"),
                Param.optional("backing_format", ParamType.STRING, null, "the backing file's format (required"
                        + " with backing)").oneOf("qcow2", "raw"));
    }

    @Override
    public String preconditions() {
        return "The file must not exist yet and its directory must. It needs a size (1G, 512M, bytes) or a backing"
                + " file; with a backing file the new image must be qcow2 and backing_format is required, and the"
                + " backing file must be an absolute path to an image that exists at this point of the plan, in that"
                + " format.";
    }

    @Override
    public String verifies() {
        return "Reads the new image with qemu-img info -U: it must exist in the requested format, with the virtual"
                + " size and backing chain the step reported.";
    }

    @Override
    public String undoes() {
        return "Deletes the image this step created, unless a domain, a backing chain or a snapshot uses it by then;"
                + " then the undo fails and the file stays.";
    }

    @Override
    public Reversibility reversibility(Params params) {
        return Reversibility.REVERSIBLE;
    }

    @Override
    public Planned plan(Params params, World world) throws StepFailure {
        ConnectionHost.requireLocalFiles(world, name());
        String path = params.string("path");
        String format = params.string("format");
        String backing = params.optString("backing");
        String size = params.optString("size");
        long bytes = checkShape(params);
        Images.requireAbsent(world, path, "image");
        long virtualSize = bytes;
        List<ImageFacts.Layer> chain = new ArrayList<>();
        if (backing != null) {
            ImageFacts base = Images.require(world, backing, "backing file");
            String backingFormat = params.string("backing_format");
            if (!base.format().equals(backingFormat)) {
                throw new StepFailure("backing file " + backing + " is " + base.format() + ", not " + backingFormat,
                        "set backing_format: " + base.format());
            }
            chain.add(new ImageFacts.Layer(backing, backingFormat));
            chain.addAll(base.backingChain());
            if (size == null) {
                virtualSize = base.virtualSize();
            }
        }
        world.put(ImageFacts.key(path), new ImageFacts(path, format, virtualSize, chain));
        String command = Command.of(new QemuImg(l -> { }).createArgv(Path.of(path), format, size,
                backing == null ? null : Path.of(backing), params.optString("backing_format"))).toString();
        return Planned.change(List.of(command), result(path, format, virtualSize, chain));
    }

    @Override
    public Outcome apply(Params params, Map<String, Object> captured, StepContext context) throws StepFailure {
        String path = params.string("path");
        String format = params.string("format");
        String backing = params.optString("backing");
        checkShape(params);
        QemuImg qemuImg = new QemuImg(context::trace);
        if (Files.exists(Path.of(path))) {
            throw new StepFailure("image " + path + " already exists; snapbook never overwrites a file",
                    "choose a new file name");
        }
        if (backing != null) {
            if (!Files.exists(Path.of(backing))) {
                throw new StepFailure("backing file " + backing + " does not exist", "check the path");
            }
            String detected = Images.detect(backing);
            if (!detected.equals(params.string("backing_format"))) {
                throw new StepFailure("backing file " + backing + " is " + detected + ", not "
                        + params.string("backing_format"), "set backing_format: " + detected);
            }
        }
        qemuImg.createImage(Path.of(path), format, params.optString("size"),
                backing == null ? null : Path.of(backing), params.optString("backing_format"));
        ImageFacts facts = ImageFactSource.observe(Path.of(path), qemuImg);
        return Outcome.changed("created " + format + " image " + path + (backing == null ? "" : " on " + backing),
                result(path, facts.format(), facts.virtualSize(), facts.backingChain()));
    }

    @Override
    public Verification verify(Params params, Outcome outcome, StepContext context) throws StepFailure {
        String path = params.string("path");
        if (!Files.exists(Path.of(path))) {
            return Verification.failed("image " + path + " does not exist");
        }
        ImageFacts facts = ImageFactSource.observe(Path.of(path), new QemuImg(context::trace));
        Map<String, Object> now = result(path, facts.format(), facts.virtualSize(), facts.backingChain());
        if (!facts.format().equals(params.string("format"))) {
            return Verification.failed("image " + path + " is " + facts.format() + ", not " + params.string("format"));
        }
        return Verification.check(now.equals(outcome.data()), "image " + path + " reads as " + now + ", not "
                + outcome.data());
    }

    @Override
    public void undo(Params params, Map<String, Object> captured, Outcome outcome, StepContext context)
            throws StepFailure {
        DiskStates.deleteCreated(params.string("path"), context);
    }

    /** Checks the combination of size, backing and format; returns the size in bytes, or -1 without one. */
    private static long checkShape(Params params) throws StepFailure {
        String size = params.optString("size");
        String backing = params.optString("backing");
        long bytes = -1;
        if (size != null) {
            bytes = Images.parseSize(size);
            if (bytes <= 0) {
                throw new StepFailure("size '" + size + "' is not a size", "write it like 1G, 512M, 64k or 1048576");
            }
            bytes = Images.roundToSector(bytes);
        }
        if (backing == null) {
            if (size == null) {
                throw new StepFailure("image.create needs a size or a backing file", "add size: 1G, say");
            }
            if (params.optString("backing_format") != null) {
                throw new StepFailure("backing_format is given without backing", "add backing, or remove backing_format");
            }
            return bytes;
        }
        Images.requireAbsolute(backing, "backing");
        if (!params.string("format").equals("qcow2")) {
            throw new StepFailure("only a qcow2 image can have a backing file, not " + params.string("format"),
                    "use format: qcow2");
        }
        if (params.optString("backing_format") == null) {
            throw new StepFailure("backing_format is required with backing, so qemu never probes the backing file",
                    "add backing_format: qcow2 (or raw)");
        }
        return bytes;
    }

    private static Map<String, Object> result(String path, String format, long virtualSize,
                                              List<ImageFacts.Layer> chain) {
        List<Map<String, Object>> layers = new ArrayList<>();
        for (ImageFacts.Layer layer : chain) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("file", layer.file());
            m.put("format", layer.format());
            layers.add(m);
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("path", path);
        result.put("format", format);
        result.put("virtual_size", virtualSize);
        result.put("backing_chain", layers);
        return result;
    }
}
