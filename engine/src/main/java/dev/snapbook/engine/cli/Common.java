package dev.snapbook.engine.cli;

import dev.snapbook.engine.load.PlaybookFiles;
import dev.snapbook.engine.load.StepCatalog;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Options shared by {@code run} and {@code plan}. */
final class Common {

    @Option(names = {"-e", "--extra-var"}, paramLabel = "KEY=VALUE",
            description = "Set a variable; the value is data and is never evaluated. Repeatable.")
    List<String> extraVars = new ArrayList<>();

    @Option(names = {"-c", "--connect"}, paramLabel = "URI",
            description = "libvirt connection URI (default: $LIBVIRT_DEFAULT_URI, else qemu:///system).")
    String connection;

    @Option(names = "--tags", paramLabel = "TAG", split = ",",
            description = "Run only steps with one of these tags (and steps tagged 'always').")
    Set<String> tags = new LinkedHashSet<>();

    @Option(names = "--output", paramLabel = "text|json", defaultValue = "text",
            description = "Output format: text (default) or json (one JSON document).")
    String output;

    @Option(names = "--recipes", paramLabel = "DIR",
            description = "A directory of your own recipes (also $SNAPBOOK_RECIPES); yours win over bundled ones.")
    List<Path> recipeDirs = new ArrayList<>();

    @Option(names = "--lock-timeout", paramLabel = "DURATION", defaultValue = "30s",
            description = "How long to wait for another run on the same domain (default 30s).")
    String lockTimeout;

    java.time.Duration lockWait() {
        java.time.Duration d = dev.snapbook.engine.spi.Durations.parse(lockTimeout);
        if (d == null) {
            throw new UsageError("--lock-timeout must be a duration like 0s, 30s or 5m, not '" + lockTimeout + "'");
        }
        return d;
    }

    @Option(names = "-v", description = "Print each libvirt call and qemu-img command line as it happens; "
            + "-vv also prints each journal entry as it is written.")
    boolean[] verbose = new boolean[0];

    @Option(names = "--log", paramLabel = "FILE",
            description = "Also write the whole report, every libvirt call and command line, and every journal "
                    + "entry (as -vv) to FILE, without colours or progress bars (FILE is replaced).")
    Path log;

    String connectionUri() {
        return CommandExtension.connectionUri(connection);
    }

    /** The -e values as a map; a malformed one is a usage error. */
    Map<String, Object> extraVarMap() {
        Map<String, Object> out = new LinkedHashMap<>();
        for (String kv : extraVars) {
            int eq = kv.indexOf('=');
            if (eq <= 0) {
                throw new UsageError("-e '" + kv + "': expected KEY=VALUE");
            }
            String key = kv.substring(0, eq);
            if (!key.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                throw new UsageError("-e '" + key + "': a variable name is letters, digits and '_', "
                        + "not starting with a digit");
            }
            out.put(key, kv.substring(eq + 1));
        }
        return out;
    }

    boolean json() {
        if (!output.equals("text") && !output.equals("json")) {
            throw new UsageError("--output must be text or json, not '" + output + "'");
        }
        return output.equals("json");
    }

    PlaybookFiles files(StepCatalog catalog) {
        return new PlaybookFiles(catalog, PlaybookFiles.recipeDirs(recipeDirs));
    }

    /** A usage mistake: exit 2, nothing executed. */
    static final class UsageError extends RuntimeException {
        UsageError(String message) {
            super(message);
        }
    }
}
