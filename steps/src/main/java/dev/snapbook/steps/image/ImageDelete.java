package dev.snapbook.steps.image;

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
import dev.snapbook.steps.libvirt.Libvirt;
import dev.snapbook.steps.qemu.QemuImg;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Step {@code image.delete}: deletes an image file. IRREVERSIBLE. Refused — in the plan, and again just before
 * deleting — while any domain on the connection uses the file as a disk, or any image of any domain has it
 * in its backing chain, or a snapshot's XML names it (see {@link FileUsage}).
 *
 * <p>Result: {@code {path, deleted: true}}. Verification checks the file is gone.
 */
public final class ImageDelete implements Step {

    @Override
    public String name() {
        return "image.delete";
    }

    @Override
    public String summary() {
        return "Deletes an image file no domain, backing chain or snapshot uses (irreversible).";
    }

    @Override
    public List<Param> params() {
        return List.of(Param.required("path", ParamType.PATH, "the image file to delete"));
    }

    @Override
    public String preconditions() {
        return "The image must exist at this point of the plan, and no domain may use it as a disk or in a disk's"
                + " backing chain, as the plan predicts them. Just before deleting, a full scan of the real system"
                + " (live and persistent disks with their chains, and every snapshot's files) checks again.";
    }

    @Override
    public String verifies() {
        return "Checks that nothing is left at the path, not even a symbolic link.";
    }

    @Override
    public String undoes() {
        return "The file is deleted outright and no copy is kept.";
    }

    @Override
    public Reversibility reversibility(Params params) {
        return Reversibility.IRREVERSIBLE;
    }

    @Override
    public Planned plan(Params params, World world) throws StepFailure {
        String path = params.string("path");
        Images.require(world, path, "image");
        refuseUsed(FileUsage.planned(world, path), path);
        world.put(ImageFacts.key(path), null);
        return Planned.change(List.of("check again that no domain, backing chain or snapshot uses " + path,
                "delete " + path + "   (IRREVERSIBLE)"), Map.of("path", path, "deleted", true));
    }

    @Override
    public Outcome apply(Params params, Map<String, Object> captured, StepContext context) throws StepFailure {
        String path = params.string("path");
        Path file = Path.of(path);
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            throw new StepFailure("image " + path + " does not exist", "check the path");
        }
        if (Files.isDirectory(file, LinkOption.NOFOLLOW_LINKS)) {
            throw new StepFailure(path + " is a directory, not an image file", "check the path");
        }
        refuseUsed(FileUsage.now(Libvirt.session(context), new QemuImg(context::trace), path), path);
        try {
            context.trace("delete " + path);
            Files.delete(file);
        } catch (IOException e) {
            throw new StepFailure("cannot delete " + path + ": " + e.getMessage(), "check its permissions", e);
        }
        return Outcome.changed("deleted " + path, Map.of("path", path, "deleted", true));
    }

    @Override
    public Verification verify(Params params, Outcome outcome, StepContext context) {
        String path = params.string("path");
        return Verification.check(!Files.exists(Path.of(path), LinkOption.NOFOLLOW_LINKS), path + " still exists");
    }

    private static void refuseUsed(List<FileUsage.Use> uses, String path) throws StepFailure {
        if (!uses.isEmpty()) {
            throw new StepFailure("refusing to delete " + path + ": it is used by " + FileUsage.describe(uses),
                    "delete it only after nothing needs it: merge or drop the overlays above it (block.commit,"
                            + " block.pull), point disks elsewhere (disk.swap), delete the snapshots naming it");
        }
    }
}
