package dev.snapbook.engine.cli;

/**
 * A subcommand contributed by another module (the {@code lab} command of the steps module, say), found
 * with {@link java.util.ServiceLoader} ({@code META-INF/services/dev.snapbook.engine.cli.CommandExtension}),
 * so the engine's CLI stays free of libvirt.
 */
public interface CommandExtension {

    /** A new picocli {@code @Command} object; its {@link java.util.concurrent.Callable} result is the exit code. */
    Object command();

    /**
     * The libvirt connection every command uses: {@code given} ({@code -c URI}) when there is one, else
     * {@code $LIBVIRT_DEFAULT_URI}, else {@code qemu:///system}.
     */
    static String connectionUri(String given) {
        if (given != null) {
            return given;
        }
        String env = System.getenv("LIBVIRT_DEFAULT_URI");
        return env != null && !env.isBlank() ? env : "qemu:///system";
    }
}
