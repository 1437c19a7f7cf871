package dev.snapbook.engine.spi;

/**
 * Work a run will need anyway, done on a background thread while the command line is parsed: loading and
 * initialising classes and native libraries, and nothing else. A warm-up reads nothing of the machine,
 * connects to nothing and changes nothing; when it fails, the real use reports the failure. Found with
 * {@link java.util.ServiceLoader} ({@code META-INF/services/dev.snapbook.engine.spi.WarmUp}).
 */
public interface WarmUp {

    void warmUp() throws Exception;
}
