package dev.snapbook.steps.image;

import com.fasterxml.jackson.databind.JsonNode;
import dev.snapbook.engine.spi.FactSource;
import dev.snapbook.engine.spi.StepContext;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.steps.qemu.QemuImg;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Observes {@link ImageFacts} with {@code qemu-img info -U --backing-chain --output=json}. */
public final class ImageFactSource implements FactSource {

    @Override
    public String kind() {
        return ImageFacts.KIND;
    }

    @Override
    public Class<?> type() {
        return ImageFacts.class;
    }

    @Override
    public ImageFacts observe(String path, StepContext context) throws StepFailure {
        return observe(Path.of(path), new QemuImg(context::trace));
    }

    /** The facts of the image at {@code path}, or null when no such file exists. */
    public static ImageFacts observe(Path path, QemuImg qemuImg) throws StepFailure {
        if (!Files.exists(path)) {
            return null;
        }
        return from(path.toString(), qemuImg.info(path, true));
    }

    /** Builds the facts from qemu-img's JSON for the chain, the image itself first. */
    static ImageFacts from(String path, List<JsonNode> chain) {
        JsonNode top = chain.get(0);
        List<ImageFacts.Layer> layers = new ArrayList<>();
        for (JsonNode image : chain.subList(1, chain.size())) {
            layers.add(new ImageFacts.Layer(image.path("filename").asText(), image.path("format").asText()));
        }
        return new ImageFacts(path, top.path("format").asText(), top.path("virtual-size").asLong(), layers);
    }
}
