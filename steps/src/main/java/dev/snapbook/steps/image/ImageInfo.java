package dev.snapbook.steps.image;

import com.fasterxml.jackson.databind.JsonNode;
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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Step {@code image.info}: reads an image's format, virtual size and backing chain with
 * {@code qemu-img info -U} (safe on images a running domain has open). Read-only.
 *
 * <p>Result: {@code {format: "qcow2", virtual_size: 67108864, backing_chain: [{file, format}, ...]}}, the
 * chain nearest backing file first. With {@code chain: false} only the direct backing file is listed and
 * the rest of the chain is not opened.
 */
public final class ImageInfo implements Step {

    @Override
    public String name() {
        return "image.info";
    }

    @Override
    public String summary() {
        return "Reads an image's format, virtual size and backing chain (qemu-img info -U).";
    }

    @Override
    public List<Param> params() {
        return List.of(Param.required("path", ParamType.PATH, "the image file"),
                Param.optional("chain", ParamType.BOOLEAN, true,
                        "follow the whole backing chain (false: only the direct backing file)"));
    }

    @Override
    public String preconditions() {
        return "The image must exist at this point of the plan (now, or created by an earlier step).";
    }

    @Override
    public String verifies() {
        return "Runs qemu-img info -U again: the format, virtual size and backing chain must be those reported.";
    }

    @Override
    public String undoes() {
        return "It only reads the image with qemu-img info -U.";
    }

    @Override
    public Planned plan(Params params, World world) throws StepFailure {
        ConnectionHost.requireLocalFiles(world, name());
        String path = params.string("path");
        if (java.nio.file.Files.exists(java.nio.file.Path.of(path))) {
            dev.snapbook.steps.state.Damage.refuseImage(world, path, null); // a damaged chain: what and where
        }
        ImageFacts facts = world.get(ImageFacts.key(path));
        if (facts == null) {
            throw new StepFailure("image " + path + " does not exist" + (world.observed(ImageFacts.key(path)) != null
                    ? " at this point of the plan" : ""), "check the path; it must name an existing image file");
        }
        List<ImageFacts.Layer> chain = chain(params) || facts.backingChain().isEmpty()
                ? facts.backingChain() : facts.backingChain().subList(0, 1);
        return Planned.readOnly(command(params, path), result(facts.format(), facts.virtualSize(), chain));
    }

    @Override
    public Outcome apply(Params params, Map<String, Object> captured, StepContext context) throws StepFailure {
        String path = params.string("path");
        Map<String, Object> result = read(params, path, context);
        return Outcome.unchanged(path + ": " + result.get("format") + ", " + result.get("virtual_size")
                + " bytes, " + ((List<?>) result.get("backing_chain")).size() + " backing image(s)", result);
    }

    /** Reads the image again and checks it still reports what the step returned. */
    @Override
    public Verification verify(Params params, Outcome outcome, StepContext context) throws StepFailure {
        String path = params.string("path");
        Map<String, Object> now = read(params, path, context);
        return Verification.check(now.equals(outcome.data()),
                "image " + path + " now reads as " + now + ", not " + outcome.data());
    }

    private Map<String, Object> read(Params params, String path, StepContext context) throws StepFailure {
        Path file = Path.of(path);
        if (!Files.exists(file)) {
            throw new StepFailure("image " + path + " does not exist", "check the path");
        }
        List<JsonNode> images = new QemuImg(context::trace).info(file, chain(params));
        if (chain(params)) {
            ImageFacts facts = ImageFactSource.from(path, images);
            return result(facts.format(), facts.virtualSize(), facts.backingChain());
        }
        // Without --backing-chain qemu-img names the backing file in the top image's own entry.
        JsonNode top = images.get(0);
        List<ImageFacts.Layer> chain = new ArrayList<>();
        if (top.hasNonNull("full-backing-filename")) {
            chain.add(new ImageFacts.Layer(top.get("full-backing-filename").asText(),
                    top.path("backing-filename-format").asText(null)));
        }
        return result(top.path("format").asText(), top.path("virtual-size").asLong(), chain);
    }

    private static boolean chain(Params params) {
        return !params.has("chain") || params.bool("chain");
    }

    private static String command(Params params, String path) {
        return "qemu-img info -U " + (chain(params) ? "--backing-chain " : "") + "--output=json " + path;
    }

    private static Map<String, Object> result(String format, long virtualSize, List<ImageFacts.Layer> chain) {
        List<Map<String, Object>> layers = new ArrayList<>();
        for (ImageFacts.Layer layer : chain) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("file", layer.file());
            m.put("format", layer.format());
            layers.add(m);
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("format", format);
        result.put("virtual_size", virtualSize);
        result.put("backing_chain", layers);
        return result;
    }
}
