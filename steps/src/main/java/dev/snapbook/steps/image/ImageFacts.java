package dev.snapbook.steps.image;

import dev.snapbook.engine.spi.FactKey;
import java.util.List;

/**
 * What {@code qemu-img info -U --backing-chain} reports about one image file (fact kind {@code image}, id =
 * the path as given); {@link ImageFactSource} reads the same facts from the qcow2 headers in-process where it
 * can.
 *
 * @param format       the image format, e.g. {@code qcow2} or {@code raw}
 * @param virtualSize  the size the guest sees, in bytes
 * @param backingChain the images below this one, nearest first: its backing file, that file's backing file,
 *                     and so on to the base; empty when the image has no backing file
 */
public record ImageFacts(String path, String format, long virtualSize, List<Layer> backingChain) {

    public static final String KIND = "image";

    /** One backing image: its file name as qemu resolved it, and its format. */
    public record Layer(String file, String format) {
    }

    public ImageFacts {
        backingChain = List.copyOf(backingChain);
    }

    /** The key of the fact about the image at {@code path}. */
    public static FactKey<ImageFacts> key(String path) {
        return new FactKey<>(KIND, path, ImageFacts.class);
    }
}
