package dev.snapbook.engine.spi;

/**
 * A value that exists only after a real run, such as what a step will return, seen during planning.
 * Any expression that uses an unknown value is itself unknown; a {@code when} or {@code verify} that is
 * unknown is reported as such, never taken as true or false.
 *
 * @param origin what the value would come from, e.g. {@code result of step 3 (image.info)}
 */
public record Unknown(String origin) {

    @Override
    public String toString() {
        return "<unknown: " + origin + ">";
    }
}
