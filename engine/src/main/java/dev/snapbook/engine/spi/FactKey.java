package dev.snapbook.engine.spi;

/**
 * The key of one fact of the world: a kind ({@code domain}, {@code image}, {@code file}, ...) naming the
 * {@link FactSource} that observes it, and an id within that kind (a domain name, a file path).
 *
 * @param type the record class the fact is held as; it must be serialisable to JSON by Jackson
 */
public record FactKey<T>(String kind, String id, Class<T> type) {

    @Override
    public String toString() {
        return kind + ":" + id;
    }
}
