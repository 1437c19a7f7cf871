package dev.snapbook.steps.image;

import dev.snapbook.steps.libvirt.ConnectionHost;
import dev.snapbook.steps.state.DiskStates;
import dev.snapbook.steps.state.DiskState;
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
import dev.snapbook.steps.state.Damage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Step {@code image.convert}: copies an image's guest-visible contents into a NEW file of another format
 * ({@code qemu-img convert -p -U -f SRC -O FORMAT SOURCE TARGET}). The source's backing chain is flattened: the
 * target is a standalone image. The target must not exist; snapbook never converts onto an existing file.
 *
 * <p>Which sources are safe: a file a running domain writes — the active image (top of the chain) of one of
 * its disks — is refused, since the copy would mix data from different moments. A backing layer of a running
 * domain is accepted and read with {@code -U}: QEMU opens backing layers read-only, so they do not change
 * under the copy. The one exception is a block commit job writing into that layer; libvirt-java 0.5.2 cannot
 * ask for block jobs, so such a race is not refused up front but caught by the verification, which compares
 * source and target after the copy and fails (and the run then deletes the target).
 *
 * With {@code refuse_open: true} any image a running domain has open is refused, backing layers included.
 *
 * <p>Result: {@code {target, format, virtual_size}}. Verification: the target's header shows {@code format},
 * qemu-img reads it as {@code format}, and {@code qemu-img compare -U} finds source and target identical.
 * Undo deletes the target (unless something uses it by then).
 */
public final class ImageConvert implements Step {

    @Override
    public String name() {
        return "image.convert";
    }

    @Override
    public String summary() {
        return "Copies an image into a new file of another format (qemu-img convert), flattening its backing chain.";
    }

    @Override
    public List<Param> params() {
        return List.of(Param.required("source", ParamType.PATH, "the image to copy"),
                Param.required("target", ParamType.PATH, "the new file; must not exist"),
                Param.required("format", ParamType.STRING, "the target's format").oneOf("raw", "qcow2"),
                Param.optional("source_format", ParamType.STRING, null,
                        "the source's format, checked against what its contents show (default: detected)")
                        .oneOf("raw", "qcow2"),
                Param.optional("refuse_open", ParamType.BOOLEAN, false,
                        "true: refuse any image a running domain has open, its backing layers too (false: only the"
                                + " active image it writes)"));
    }

    @Override
    public String preconditions() {
        return "The source must exist at this point of the plan and, when source_format is given, be in that format."
                + " The target must be another file that does not exist yet, in an existing directory. A source that a"
                + " running domain writes (a disk's active image) is refused; existence, format and use are checked"
                + " again just before the copy.";
    }

    @Override
    public String verifies() {
        return "The target must exist, its header and qemu-img info must both show the requested format, and qemu-img"
                + " compare -U must find source and target identical.";
    }

    @Override
    public String undoes() {
        return "Deletes the target file this step created, unless a domain, a backing chain or a snapshot uses it by"
                + " then; then the undo fails and the file stays.";
    }

    @Override
    public Reversibility reversibility(Params params) {
        return Reversibility.REVERSIBLE;
    }

    @Override
    public Planned plan(Params params, World world) throws StepFailure {
        ConnectionHost.requireLocalFiles(world, name());
        String source = params.string("source");
        String target = params.string("target");
        String format = params.string("format");
        Damage.refuseImage(world, source, params.optString("source_format"));
        ImageFacts facts = Images.require(world, source, "source image");
        String sourceFormat = sourceFormat(params, source, facts.format());
        if (BackingChain.sameFile(source, target)) {
            throw new StepFailure("image.convert source and target are the same file " + source,
                    "choose a new target file");
        }
        Images.requireAbsent(world, target, "target");
        refuseWritten(DiskStates.of(world).openByRunning(source), source, params.bool("refuse_open"));
        world.put(ImageFacts.key(target), new ImageFacts(target, format, facts.virtualSize(), List.of()));
        List<String> actions = new ArrayList<>();
        actions.add(Command.of(new QemuImg(l -> { }).convertArgv(Path.of(source), sourceFormat, Path.of(target),
                format)).toString());
        if (!facts.backingChain().isEmpty()) {
            actions.add("(the " + facts.backingChain().size() + " backing image(s) of " + source
                    + " are flattened into " + target + ")");
        }
        return Planned.change(actions, result(target, format, facts.virtualSize()));
    }

    @Override
    public Outcome apply(Params params, Map<String, Object> captured, StepContext context) throws StepFailure {
        String source = params.string("source");
        String target = params.string("target");
        String format = params.string("format");
        QemuImg qemuImg = new QemuImg(context::trace);
        if (!Files.exists(Path.of(source))) {
            throw new StepFailure("source image " + source + " does not exist", "check the path");
        }
        Damage.refuseImage(null, source, params.optString("source_format"));
        String sourceFormat = sourceFormat(params, source, Images.detect(source));
        if (Files.exists(Path.of(target))) {
            throw new StepFailure("target " + target + " already exists; snapbook never converts onto an existing"
                    + " file", "choose a new file name");
        }
        refuseWritten(DiskStates.now(context).openByRunning(source), source, params.bool("refuse_open"));
        try {
            String what = "converting " + source + " to " + format;
            long total = sourceSize(qemuImg, source);
            qemuImg.convert(Path.of(source), sourceFormat, Path.of(target), format, percent -> {
                if (total > 0) {
                    context.progress(what, Math.round(total * percent / 100), total);
                } else {
                    context.progress(what, percent);
                }
            });
        } catch (StepFailure e) {
            // The target did not exist before: whatever qemu-img left of it is ours to remove.
            try {
                Files.deleteIfExists(Path.of(target));
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
        long size = ImageFactSource.observe(Path.of(target), qemuImg).virtualSize();
        return Outcome.changed("converted " + source + " (" + sourceFormat + ") to " + target + " (" + format + ")",
                result(target, format, size));
    }

    /** The source's virtual size, which qemu-img's percent is of, or 0 when it cannot be read. */
    private static long sourceSize(QemuImg qemuImg, String source) {
        try {
            return qemuImg.info(Path.of(source), false).get(0).path("virtual-size").asLong(0);
        } catch (StepFailure e) {
            return 0;
        }
    }

    @Override
    public Verification verify(Params params, Outcome outcome, StepContext context) throws StepFailure {
        String source = params.string("source");
        String target = params.string("target");
        String format = params.string("format");
        QemuImg qemuImg = new QemuImg(context::trace);
        if (!Files.exists(Path.of(target))) {
            return Verification.failed("target " + target + " does not exist");
        }
        String detected = Images.detect(target);
        String read = qemuImg.info(Path.of(target), false).get(0).path("format").asText();
        if (!detected.equals(format) || !read.equals(format)) {
            return Verification.failed("target " + target + " should be " + format + " but its header shows "
                    + detected + " and qemu-img reads it as " + read);
        }
        return Verification.check(qemuImg.compare(Path.of(source), Path.of(target)),
                "qemu-img compare finds " + source + " and " + target + " different");
    }

    /** Deletes the target this step created, unless something uses it now. */
    @Override
    public void undo(Params params, Map<String, Object> captured, Outcome outcome, StepContext context)
            throws StepFailure {
        QemuImg qemuImg = new QemuImg(context::trace);
        DiskStates.deleteCreated(params.string("target"), context);
    }

    private static String sourceFormat(Params params, String source, String detected) throws StepFailure {
        String declared = params.optString("source_format");
        if (declared != null && !declared.equals(detected)) {
            throw new StepFailure("source image " + source + " is " + detected + ", not " + declared,
                    "set source_format: " + detected + ", or leave it out to use the detected format");
        }
        return detected;
    }

    /**
     * Refuses a source that a running domain writes: the active image of one of its disks; with
     * {@code refuseOpen}, any image a running domain has open (a backing layer can still change under a
     * block commit, which libvirt-java 0.5.2 cannot ask about).
     */
    private static void refuseWritten(List<DiskState> open, String source, boolean refuseOpen)
            throws StepFailure {
        if (refuseOpen && !open.isEmpty()) {
            DiskState first = open.get(0);
            throw new StepFailure("refusing to convert " + source + ": running domain " + first.domain()
                    + " has it open (" + DiskStates.inline(open) + ")",
                    "shut " + first.domain() + " down first (domain.shutdown), then convert");
        }
        for (DiskState use : open) {
            if (BackingChain.sameFile(use.chain().get(0).file(), source)) {
                throw new StepFailure("refusing to convert " + source + ": running domain " + use.domain()
                        + " writes it as disk " + use.disk() + ", so a copy would mix data from different moments",
                        "shut " + use.domain() + " down first, or take an external snapshot (the file becomes a"
                                + " read-only backing layer) and convert it then");
            }
        }
    }

    private static Map<String, Object> result(String target, String format, long virtualSize) {
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("target", target);
        result.put("format", format);
        result.put("virtual_size", virtualSize);
        return result;
    }
}
