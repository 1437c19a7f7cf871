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
import dev.snapbook.steps.libvirt.Libvirt;
import dev.snapbook.steps.qemu.QemuImg;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Step {@code image.delete}: deletes an image file ({@code path}), or several ({@code paths}, in order).
 * IRREVERSIBLE. A file is refused — in the plan, and again just before deleting — while any domain on the
 * connection uses it as a disk, or any image of any domain has it in its backing chain, or a snapshot's XML
 * names it or a file whose chain contains it (see {@link dev.snapbook.steps.state.DiskStates}). With {@code skip_used: true} such a file
 * is kept instead and listed in the result with who uses it, so a recipe can "remove what nobody uses any
 * more" without knowing in advance what is still used.
 *
 * <p>With several paths every one is checked before the first is deleted: a refusal deletes nothing.
 *
 * <p>Result with {@code path}: {@code {path, deleted: true}} (with {@code skip_used} also {@code kept: [..]}
 * and {@code deleted} false when kept). With {@code paths}: {@code {deleted: [files], kept: [files],
 * used_by: {file: description}}}. Verification checks the deleted files are gone and the kept ones are there.
 */
public final class ImageDelete implements Step {

    @Override
    public String name() {
        return "image.delete";
    }

    @Override
    public String summary() {
        return "Deletes image files no domain, backing chain or snapshot uses (irreversible); skip_used keeps used ones.";
    }

    @Override
    public List<Param> params() {
        return List.of(Param.optional("path", ParamType.PATH, null, "the image file to delete"),
                Param.optional("paths", ParamType.LIST, null,
                        "several image files to delete, in order (instead of path); may be empty"),
                Param.optional("skip_used", ParamType.BOOLEAN, false,
                        "keep (and report) a file something still uses, instead of failing"));
    }

    @Override
    public String preconditions() {
        return "Each image (path, or every one of paths, each an absolute path) must exist at this point of the"
                + " plan, and no domain may use it as a disk or in a disk's backing chain, nor a snapshot as one of"
                + " its files, as the plan predicts them; with skip_used such files are kept and reported instead."
                + " Every file is checked before any is deleted, and just before deleting, a full scan of the real"
                + " system (live and persistent disks with their chains, and every snapshot's files) checks again.";
    }

    @Override
    public String verifies() {
        return "Checks that nothing is left at each deleted path, not even a symbolic link.";
    }

    @Override
    public String undoes() {
        return "The files are deleted outright and no copy is kept.";
    }

    @Override
    public Reversibility reversibility(Params params) {
        return Reversibility.IRREVERSIBLE;
    }

    /** What the step will do: the files to delete, and those kept with who uses them. */
    private record Decision(List<String> delete, Map<String, String> kept) {
    }

    @Override
    public Planned plan(Params params, World world) throws StepFailure {
        ConnectionHost.requireLocalFiles(world, name());
        List<String> paths = paths(params);
        List<String> delete = new ArrayList<>();
        Map<String, String> kept = new LinkedHashMap<>();
        for (String path : paths) {
            Images.require(world, path, "image");
            List<DiskState> uses = DiskStates.of(world).containing(path);
            if (!uses.isEmpty() && params.bool("skip_used")) {
                kept.put(path, DiskStates.inline(uses));
            } else {
                refuseUsed(uses, path);
                delete.add(path);
            }
        }
        List<String> actions = new ArrayList<>();
        for (String path : delete) {
            world.put(ImageFacts.key(path), null);
            actions.add("check again that no domain, backing chain or snapshot uses " + path + ", then delete it"
                    + "   (IRREVERSIBLE)");
        }
        kept.forEach((path, uses) -> actions.add("keep " + path + ": used by " + uses));
        if (actions.isEmpty()) {
            return Planned.alreadyDone("no file to delete", result(params, new Decision(delete, kept)));
        }
        return Planned.change(actions, result(params, new Decision(delete, kept)));
    }

    @Override
    public Outcome apply(Params params, Map<String, Object> captured, StepContext context) throws StepFailure {
        Libvirt libvirt = Libvirt.session(context);
        QemuImg qemuImg = new QemuImg(context::trace);
        List<String> delete = new ArrayList<>();
        Map<String, String> kept = new LinkedHashMap<>();
        List<String> paths = paths(params);
        for (String path : paths) {
            Path file = Path.of(path);
            if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
                throw new StepFailure("image " + path + " does not exist", "check the path");
            }
            if (Files.isDirectory(file, LinkOption.NOFOLLOW_LINKS)) {
                throw new StepFailure(path + " is a directory, not an image file", "check the path");
            }
        }
        // One scan of the connection answers for every path: the uses of each, just before deleting.
        DiskStates states = DiskStates.now(context);
        for (String path : paths) {
            List<DiskState> uses = states.containing(path);
            if (!uses.isEmpty() && params.bool("skip_used")) {
                kept.put(path, DiskStates.inline(uses));
            } else {
                refuseUsed(uses, path);
                delete.add(path);
            }
        }
        for (String path : delete) {
            try {
                context.trace("delete " + path);
                Files.delete(Path.of(path));
            } catch (IOException e) {
                throw new StepFailure("cannot delete " + path + ": " + e.getMessage(), "check its permissions", e);
            }
        }
        Decision d = new Decision(delete, kept);
        String message = (delete.isEmpty() ? "deleted nothing" : "deleted " + String.join(", ", delete))
                + (kept.isEmpty() ? "" : "; kept " + String.join(", ", kept.keySet()) + " (in use)");
        return delete.isEmpty() ? Outcome.unchanged(message, result(params, d)) : Outcome.changed(message, result(params, d));
    }

    @Override
    @SuppressWarnings("unchecked")
    public Verification verify(Params params, Outcome outcome, StepContext context) throws StepFailure {
        List<String> problems = new ArrayList<>();
        List<String> deleted;
        List<String> kept;
        if (params.has("paths")) {
            deleted = (List<String>) outcome.data().get("deleted");
            kept = (List<String>) outcome.data().get("kept");
        } else {
            boolean gone = Boolean.TRUE.equals(outcome.data().get("deleted"));
            deleted = gone ? List.of(params.string("path")) : List.of();
            kept = gone ? List.of() : List.of(params.string("path"));
        }
        for (String path : deleted) {
            if (Files.exists(Path.of(path), LinkOption.NOFOLLOW_LINKS)) {
                problems.add(path + " still exists");
            }
        }
        for (String path : kept) {
            if (!Files.exists(Path.of(path), LinkOption.NOFOLLOW_LINKS)) {
                problems.add(path + " was to be kept (in use) but is gone");
            }
        }
        return problems.isEmpty() ? Verification.ok() : new Verification(false, problems);
    }

    /** {@code path} or {@code paths}, exactly one of them. */
    private static List<String> paths(Params params) throws StepFailure {
        boolean one = params.has("path");
        boolean many = params.has("paths");
        if (one == many) {
            throw new StepFailure("image.delete needs either path or paths, not " + (one ? "both" : "neither"),
                    "give path: FILE, or paths: [FILE, ...]");
        }
        if (one) {
            return List.of(params.string("path"));
        }
        List<String> out = new ArrayList<>();
        for (Object o : params.list("paths")) {
            if (!(o instanceof String s) || s.isBlank()) {
                throw new StepFailure("paths must be a list of file names, got " + ParamType.describe(o), null);
            }
            try {
                ParamType.PATH.coerce(s); // the same rule as every path parameter: absolute, no '..'
            } catch (IllegalArgumentException e) {
                throw new StepFailure("image.delete paths: " + e.getMessage(), null);
            }
            if (!out.contains(s)) {
                out.add(s);
            }
        }
        return out;
    }

    private static Map<String, Object> result(Params params, Decision d) {
        Map<String, Object> result = new LinkedHashMap<>();
        if (params.has("paths")) {
            result.put("deleted", List.copyOf(d.delete()));
            result.put("kept", List.copyOf(d.kept().keySet()));
            result.put("used_by", new LinkedHashMap<>(d.kept()));
            return result;
        }
        result.put("path", params.string("path"));
        result.put("deleted", !d.delete().isEmpty());
        if (params.bool("skip_used")) {
            result.put("kept", List.copyOf(d.kept().keySet()));
        }
        return result;
    }

    private static void refuseUsed(List<DiskState> uses, String path) throws StepFailure {
        if (!uses.isEmpty()) {
            throw new StepFailure("refusing to delete " + path + ": these states need it:\n" + DiskStates.describe(uses),
                    "delete it only after nothing needs it: merge or drop the overlays above it (block.commit,"
                            + " block.pull), point disks elsewhere (disk.swap), delete the snapshots naming it;"
                            + " or pass skip_used: true to keep files in use");
        }
    }
}
