package dev.snapbook.steps.image;

import dev.snapbook.engine.spi.Outcome;
import dev.snapbook.engine.spi.Param;
import dev.snapbook.engine.spi.ParamType;
import dev.snapbook.engine.spi.Params;
import dev.snapbook.engine.spi.Planned;
import dev.snapbook.engine.spi.Step;
import dev.snapbook.engine.spi.StepContext;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.engine.spi.Unknown;
import dev.snapbook.engine.spi.Verification;
import dev.snapbook.engine.spi.World;
import dev.snapbook.steps.exec.Command;
import dev.snapbook.steps.libvirt.ConnectionHost;
import dev.snapbook.steps.qemu.QemuImg;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Step {@code image.compare}: whether two images show the guest the same contents ({@code qemu-img compare
 * -U}, through their backing chains, whatever their formats). As qemu-img defines it, when sizes differ the
 * extra part of the larger image must read as zeros. Read-only; safe on images running domains have open
 * (the answer is then a snapshot of a moving target).
 *
 * <p>Result: {@code {identical: true|false}}. Verification compares again and expects the same answer.
 */
public final class ImageCompare implements Step {

    @Override
    public String name() {
        return "image.compare";
    }

    @Override
    public String summary() {
        return "Tells whether two images have the same guest-visible contents (qemu-img compare -U).";
    }

    @Override
    public List<Param> params() {
        return List.of(Param.required("a", ParamType.PATH, "the first image"),
                Param.required("b", ParamType.PATH, "the second image"));
    }

    @Override
    public String preconditions() {
        return "Both images must exist at this point of the plan.";
    }

    @Override
    public String verifies() {
        return "Runs qemu-img compare -U again and expects the same answer.";
    }

    @Override
    public String undoes() {
        return "It only reads both images with qemu-img compare -U.";
    }

    @Override
    public Planned plan(Params params, World world) throws StepFailure {
        ConnectionHost.requireLocalFiles(world, name());
        String a = params.string("a");
        String b = params.string("b");
        Images.require(world, a, "image");
        Images.require(world, b, "image");
        return Planned.readOnly(Command.of(new QemuImg(l -> { }).compareArgv(Path.of(a), Path.of(b))).toString(),
                Map.of("identical", new Unknown("whether qemu-img compare finds " + a + " and " + b + " identical")));
    }

    @Override
    public Outcome apply(Params params, Map<String, Object> captured, StepContext context) throws StepFailure {
        boolean identical = compare(params, context);
        return Outcome.unchanged(params.string("a") + " and " + params.string("b") + (identical ? " are identical"
                : " differ"), Map.of("identical", identical));
    }

    @Override
    public Verification verify(Params params, Outcome outcome, StepContext context) throws StepFailure {
        boolean now = compare(params, context);
        return Verification.check(outcome.data().get("identical").equals(now), params.string("a") + " and "
                + params.string("b") + " now compare " + (now ? "identical" : "different") + ", not as reported");
    }

    private static boolean compare(Params params, StepContext context) throws StepFailure {
        String a = params.string("a");
        String b = params.string("b");
        for (String path : List.of(a, b)) {
            if (!Files.exists(Path.of(path))) {
                throw new StepFailure("image " + path + " does not exist", "check the path");
            }
        }
        return new QemuImg(context::trace).compare(Path.of(a), Path.of(b));
    }
}
