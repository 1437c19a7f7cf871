package dev.snapbook.engine.cli;

/**
 * A subcommand contributed by another module (the {@code lab} command of the steps module, say), found
 * with {@link java.util.ServiceLoader} ({@code META-INF/services/dev.snapbook.engine.cli.CommandExtension}),
 * so the engine's CLI stays free of libvirt.
 */
public interface CommandExtension {

    /** A new picocli {@code @Command} object; its {@link java.util.concurrent.Callable} result is the exit code. */
    Object command();
}
