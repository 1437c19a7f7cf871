package dev.snapbook.engine.spi;

/**
 * Observes one kind of fact of the real world with read-only calls. Found with
 * {@link java.util.ServiceLoader} ({@code META-INF/services/dev.snapbook.engine.spi.FactSource}).
 */
public interface FactSource {

    /** The {@link FactKey#kind()} this source observes. */
    String kind();

    /** The record class facts of this kind are held as. */
    Class<?> type();

    /**
     * Observes the fact {@code id} now, read-only; null means it does not exist (a domain not defined,
     * a file absent).
     */
    Object observe(String id, StepContext context) throws StepFailure;
}
