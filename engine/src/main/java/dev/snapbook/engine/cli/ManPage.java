package dev.snapbook.engine.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Writes {@code snapbook(1)}, a troff man page, from the command tree itself (picocli's {@link CommandSpec}:
 * every command, option and parameter with its description), so it cannot drift from {@code --help}. Run at
 * build time: {@code java dev.snapbook.engine.cli.ManPage OUTPUT_FILE}; the commands of extensions on the
 * classpath ({@code lab}, {@code show}) are included.
 */
public final class ManPage {

    private ManPage() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: ManPage OUTPUT_FILE");
            System.exit(2);
        }
        Path out = Path.of(args[0]);
        if (out.getParent() != null) {
            Files.createDirectories(out.getParent());
        }
        Files.writeString(out, render(Main.commandLine()), StandardCharsets.UTF_8);
    }

    /** The man page of {@code cli} and all its subcommands. */
    static String render(CommandLine cli) {
        CommandSpec spec = cli.getCommandSpec();
        String version = String.join(" ", cli.getCommandSpec().version().length > 0
                ? List.of(spec.version()[0]) : List.of("snapbook"));
        StringBuilder m = new StringBuilder();
        m.append(".\\\" Generated from the command line's definition by dev.snapbook.engine.cli.ManPage; do not edit.\n");
        m.append(".TH SNAPBOOK 1 \"\" \"").append(esc(version)).append("\" \"User Commands\"\n");
        m.append(".SH NAME\nsnapbook \\- ").append(esc(first(spec.usageMessage().description()))).append('\n');
        m.append(".SH SYNOPSIS\n.B snapbook\n[\\fIOPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR]\n");
        m.append(".SH DESCRIPTION\n").append(esc(String.join(" ", spec.usageMessage().description()))).append('\n');
        m.append(".PP\nA playbook (YAML or Groovy) is planned against the observed state of the VMs, read-only; ")
                .append("then run step by step, each step verified against what libvirt and qemu-img report; ")
                .append("when a step fails, the steps done are undone in reverse order. Bundled recipes run as ")
                .append("\\fBrecipe:\\fR\\fINAME\\fR.\n");
        m.append(".SH OPTIONS\n");
        options(m, spec);
        m.append(".SH COMMANDS\n");
        for (Map.Entry<String, CommandLine> sub : spec.subcommands().entrySet()) {
            if (!sub.getKey().equals(sub.getValue().getCommandName()) || sub.getKey().equals("help")) {
                continue; // an alias, or help (the man page is the help)
            }
            command(m, sub.getValue(), "snapbook " + sub.getKey());
        }
        m.append(".SH EXIT STATUS\n");
        for (Map.Entry<String, String> e : spec.usageMessage().exitCodeList().entrySet()) {
            m.append(".TP\n.B ").append(esc(e.getKey().strip())).append('\n').append(esc(e.getValue().strip())).append('\n');
        }
        m.append(".SH ENVIRONMENT\n");
        env(m, "LIBVIRT_DEFAULT_URI", "The libvirt connection when \\fB\\-\\-connect\\fR is not given (default qemu:///system).");
        env(m, "SNAPBOOK_STATE", "The state directory: journals of runs and locks (default ~/.local/state/snapbook).");
        env(m, "SNAPBOOK_RECIPES", "Directories of your own recipes, searched before the bundled ones.");
        env(m, "NO_COLOR", "When set, output has no colours.");
        env(m, "TERM", "When \\fBdumb\\fR, or when output is not a terminal, progress is printed as plain periodic "
                + "lines instead of a bar redrawn in place.");
        env(m, "SNAPBOOK_JAVA_OPTS", "Extra options for the Java virtual machine (read by the launcher).");
        m.append(".SH FILES\n.TP\n.I ~/.local/state/snapbook/RUN_ID.jsonl\n")
                .append("The journal of a run: every step, the data its undo needs, written before it acts. ")
                .append("See \\fBsnapbook runs\\fR and \\fBsnapbook recover\\fR.\n");
        m.append(".SH SEE ALSO\n.BR virsh (1),\n.BR qemu-img (1),\n.BR libvirtd (8)\n");
        return m.toString();
    }

    private static void command(StringBuilder m, CommandLine cli, String qualified) {
        CommandSpec spec = cli.getCommandSpec();
        m.append(".SS \"").append(esc(qualified)).append("\"\n");
        String synopsis = new CommandLine.Help(spec, new CommandLine.Help.ColorScheme.Builder(CommandLine.Help.Ansi.OFF).build())
                .synopsis(0).strip();
        m.append(".PP\n").append(esc(synopsis.replaceAll("\\s+", " "))).append('\n');
        m.append(".PP\n").append(esc(String.join(" ", spec.usageMessage().description()))).append('\n');
        for (PositionalParamSpec p : spec.positionalParameters()) {
            if (p.hidden()) {
                continue;
            }
            m.append(".TP\n\\fI").append(esc(p.paramLabel())).append("\\fR\n")
                    .append(esc(String.join(" ", p.description()))).append('\n');
        }
        options(m, spec);
        for (Map.Entry<String, CommandLine> sub : spec.subcommands().entrySet()) {
            if (sub.getKey().equals(sub.getValue().getCommandName()) && !sub.getKey().equals("help")) {
                command(m, sub.getValue(), qualified + " " + sub.getKey());
            }
        }
    }

    private static void options(StringBuilder m, CommandSpec spec) {
        for (OptionSpec o : spec.options()) {
            if (o.hidden()) {
                continue;
            }
            m.append(".TP\n");
            StringBuilder names = new StringBuilder();
            for (String name : o.names()) {
                if (names.length() > 0) {
                    names.append(", ");
                }
                names.append("\\fB").append(esc(name)).append("\\fR");
            }
            m.append(names);
            if (o.arity().max() > 0) {
                m.append("=\\fI").append(esc(o.paramLabel())).append("\\fR");
            }
            m.append('\n').append(esc(String.join(" ", o.description()).replace("${DEFAULT-VALUE}",
                    String.valueOf(o.defaultValue())))).append('\n');
        }
    }

    private static void env(StringBuilder m, String name, String troffText) {
        m.append(".TP\n.B ").append(name).append('\n').append(troffText).append('\n');
    }

    private static String first(String[] lines) {
        return lines.length == 0 ? "" : lines[0];
    }

    /** Text made safe for troff: backslashes and hyphens escaped, no line starting with a control character. */
    static String esc(String text) {
        String t = text.replace("\\", "\\e").replace("-", "\\-").replace("%n", " ");
        StringBuilder out = new StringBuilder();
        for (String line : t.split("\n", -1)) {
            if (out.length() > 0) {
                out.append('\n');
            }
            if (line.startsWith(".") || line.startsWith("'")) {
                out.append("\\&");
            }
            out.append(line);
        }
        return out.toString();
    }
}
