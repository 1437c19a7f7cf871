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
import dev.snapbook.engine.spi.Unknown;
import dev.snapbook.engine.spi.Verification;
import dev.snapbook.engine.spi.World;
import dev.snapbook.steps.exec.Command;
import dev.snapbook.steps.qemu.QemuImg;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Step {@code image.check}: checks an image's metadata with {@code qemu-img check --output=json}, and with
 * {@code repair: leaks} or {@code repair: all} repairs it ({@code -r}). A plain check passes {@code -U}, so it
 * works on an image a running domain has open — but QEMU may hold metadata it has not written yet, so such
 * a check can report leaks that are not there; shut the domain down for a definitive answer.
 *
 * <p>A repair writes the image: it is refused, in the plan and again just before it runs, while any running
 * domain on the connection has the image open, as a disk or anywhere in a disk's backing chain
 * ({@link dev.snapbook.steps.state.DiskStates}); and it is irreversible. Only formats qemu-img can check (qcow2, qed, vdi, vhdx,
 * parallels) are accepted; a raw image has no metadata to check.
 *
 * <p>Result: {@code {corruptions, leaks, check_errors, corruptions_fixed, leaks_fixed, format}}, the counts
 * after any repair. Verification checks the image again ({@code -U}) and passes when it shows no corruption
 * and no check error; leaks (allocated but unused clusters) waste space but lose no data, so they do not
 * fail it.
 */
public final class ImageCheck implements Step {

    private static final List<String> CHECKABLE = List.of("qcow2", "qed", "vdi", "vhdx", "parallels");

    @Override
    public String name() {
        return "image.check";
    }

    @Override
    public String summary() {
        return "Checks an image's metadata with qemu-img check; optionally repairs leaks or all errors (irreversible).";
    }

    @Override
    public List<Param> params() {
        return List.of(Param.required("path", ParamType.PATH, "the image file"),
                Param.optional("repair", ParamType.STRING, "none",
                        "none: only check (-U); leaks: repair leaked clusters; all: repair every error (-r all)")
                        .oneOf("none", "leaks", "all"));
    }

    @Override
    public String preconditions() {
        return "The image must exist at this point of the plan, in a format qemu-img can check (qcow2, qed, vdi, vhdx,"
                + " parallels). A repair is refused while a running domain has the image open as a disk or in a disk's"
                + " backing chain, and that is checked again with a full scan just before the repair.";
    }

    @Override
    public String verifies() {
        return "Runs qemu-img check -U again: the image must show no corruption and no check error. Leaks waste space"
                + " but lose no data, so they do not fail it.";
    }

    @Override
    public String undoes() {
        return "A plain check only reads. A repair (leaks or all) rewrites the image's metadata in place and keeps no"
                + " copy, so it cannot be undone.";
    }

    @Override
    public Reversibility reversibility(Params params) {
        return repair(params) == QemuImg.Repair.NONE ? Reversibility.NOTHING_TO_UNDO : Reversibility.IRREVERSIBLE;
    }

    @Override
    public Planned plan(Params params, World world) throws StepFailure {
        ConnectionHost.requireLocalFiles(world, name());
        String path = params.string("path");
        ImageFacts facts = Images.require(world, path, "image");
        refuseUncheckable(path, facts.format());
        QemuImg.Repair repair = repair(params);
        String command = Command.of(new QemuImg(l -> { }).checkArgv(Path.of(path), facts.format(), repair)).toString();
        Map<String, Object> result = new LinkedHashMap<>();
        for (String key : List.of("corruptions", "leaks", "check_errors", "corruptions_fixed", "leaks_fixed")) {
            result.put(key, new Unknown(key.replace('_', ' ') + " found by qemu-img check on " + path));
        }
        result.put("format", facts.format());
        if (repair == QemuImg.Repair.NONE) {
            return Planned.readOnly(command, result);
        }
        refuseOpen(DiskStates.of(world).openByRunning(path), path);
        return Planned.change(List.of(command + "   (IRREVERSIBLE: rewrites the image's metadata)"), result);
    }

    @Override
    public Outcome apply(Params params, Map<String, Object> captured, StepContext context) throws StepFailure {
        String path = params.string("path");
        QemuImg qemuImg = new QemuImg(context::trace);
        requireFile(path);
        String format = Images.detect(path);
        refuseUncheckable(path, format);
        QemuImg.Repair repair = repair(params);
        if (repair != QemuImg.Repair.NONE) {
            // Again, just before writing: a domain may have started since the plan.
            refuseOpen(DiskStates.now(context).openByRunning(path), path);
        }
        QemuImg.CheckReport report = qemuImg.check(Path.of(path), format, repair);
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("corruptions", report.corruptions());
        result.put("leaks", report.leaks());
        result.put("check_errors", report.checkErrors());
        long corruptionsFixed = report.json().path("corruptions-fixed").asLong(0);
        long leaksFixed = report.json().path("leaks-fixed").asLong(0);
        result.put("corruptions_fixed", corruptionsFixed);
        result.put("leaks_fixed", leaksFixed);
        result.put("format", format);
        String summary = path + ": " + report.corruptions() + " corruption(s), " + report.leaks() + " leak(s), "
                + report.checkErrors() + " check error(s)";
        if (corruptionsFixed + leaksFixed > 0) {
            return Outcome.changed(summary + " after repairing " + corruptionsFixed + " corruption(s) and "
                    + leaksFixed + " leak(s)", result);
        }
        return Outcome.unchanged(summary, result);
    }

    /**
     * No corruption and no check error. After a repair the image is checked again, read-only, since the repair
     * changed it; a check that repaired nothing is its own answer (qemu-img's report of this very step), and no
     * second {@code qemu-img check} is run for the same question.
     */
    @Override
    public Verification verify(Params params, Outcome outcome, StepContext context) throws StepFailure {
        String path = params.string("path");
        requireFile(path);
        Map<String, Object> data = outcome.data();
        long corruptions = count(data, "corruptions");
        long checkErrors = count(data, "check_errors");
        boolean repaired = count(data, "corruptions_fixed") + count(data, "leaks_fixed") != 0;
        if (repaired || corruptions < 0 || checkErrors < 0) {
            QemuImg.CheckReport again = new QemuImg(context::trace).check(Path.of(path),
                    (String) data.get("format"), QemuImg.Repair.NONE);
            corruptions = again.corruptions();
            checkErrors = again.checkErrors();
        }
        if (corruptions > 0 || checkErrors > 0) {
            return Verification.failed("qemu-img check -U " + path + " still finds " + corruptions
                    + " corruption(s) and " + checkErrors + " check error(s)"
                    + (params.string("repair").equals("all") ? "" : "; repair them with repair: all (irreversible)"));
        }
        return Verification.ok();
    }

    /** A count of this step's report, or -1 when the report lacks it (then the image is checked again). */
    private static long count(Map<String, Object> data, String key) {
        return data.get(key) instanceof Number n ? n.longValue() : -1;
    }

    private static QemuImg.Repair repair(Params params) {
        return QemuImg.Repair.valueOf(params.string("repair").toUpperCase(Locale.ROOT));
    }

    private static void refuseUncheckable(String path, String format) throws StepFailure {
        if (!CHECKABLE.contains(format)) {
            throw new StepFailure("image " + path + " is " + format + ", which qemu-img check cannot check (it has"
                    + " no metadata)", "check qcow2 images only; to inspect a raw image, use image.info");
        }
    }

    private static void refuseOpen(List<DiskState> open, String path) throws StepFailure {
        if (!open.isEmpty()) {
            DiskState first = open.get(0);
            throw new StepFailure("refusing to repair " + path + ": running domain " + first.domain()
                    + " has it open (" + DiskStates.inline(open) + "); qemu-img check -r would write under QEMU",
                    "shut domain " + first.domain() + " down first (domain.shutdown), or check without repair");
        }
    }

    private static void requireFile(String path) throws StepFailure {
        if (!Files.exists(Path.of(path))) {
            throw new StepFailure("image " + path + " does not exist", "check the path");
        }
    }
}
