package dev.snapbook.steps.show;

import dev.snapbook.engine.cli.CommandExtension;
import dev.snapbook.engine.json.Json;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.steps.libvirt.ConnectionHost;
import dev.snapbook.steps.libvirt.Libvirt;
import dev.snapbook.steps.qemu.QemuImg;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

/** {@code snapbook show DOMAIN [--format text|dot|json]}: the snapshot tree and the disks' backing chains. */
@Command(name = "show", mixinStandardHelpOptions = true,
        description = "Draw a domain's snapshot tree and each disk's backing chain (read-only).")
public final class ShowCommand implements Callable<Integer>, CommandExtension {

    @Parameters(index = "0", paramLabel = "DOMAIN")
    String domain;

    @Option(names = "--format", defaultValue = "text", description = "text (default), dot (Graphviz) or json.")
    String format;

    @Option(names = {"-c", "--connect"}, paramLabel = "URI", description = "libvirt URI (default qemu:///system).")
    String uri;

    @Override
    public Object command() {
        return new ShowCommand();
    }

    @Override
    public Integer call() {
        if (!format.equals("text") && !format.equals("dot") && !format.equals("json")) {
            System.err.println("snapbook show: --format is text, dot or json, not '" + format + "'");
            return 2;
        }
        String connection = CommandExtension.connectionUri(uri);
        try {
            ConnectionHost.of(connection).requireLocalFiles(
                    "snapbook show reads the image files of the domain's chains and snapshots");
        } catch (StepFailure e) {
            System.err.println("snapbook show: " + e.getMessage() + "\n  " + e.hint());
            return 2;
        }
        try (Libvirt libvirt = Libvirt.open(connection, line -> { })) {
            StatePicture picture = StatePicture.observe(libvirt, new QemuImg(line -> { }), domain);
            System.out.print(switch (format) {
                case "dot" -> picture.dot();
                case "json" -> Json.pretty(picture.json()) + "\n";
                default -> picture.text();
            });
            return 0;
        } catch (StepFailure e) {
            System.err.println("snapbook show: " + e.getMessage() + (e.hint() != null ? "\n  " + e.hint() : ""));
            return 1;
        }
    }
}
