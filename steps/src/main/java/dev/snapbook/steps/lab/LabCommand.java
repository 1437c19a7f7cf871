package dev.snapbook.steps.lab;

import dev.snapbook.engine.cli.CommandExtension;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.steps.libvirt.ConnectionHost;
import dev.snapbook.steps.libvirt.Libvirt;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.util.concurrent.Callable;

/**
 * {@code snapbook lab}: throwaway VMs to practise on. Exit codes: 0 done (for {@code read}: the pattern
 * is there), 1 failed (for {@code read}: the pattern is not there), 2 bad usage.
 */
@Command(name = "lab", mixinStandardHelpOptions = true,
        description = "Throwaway lab VMs (no guest OS, small images) to practise snapbook on.",
        subcommands = {LabCommand.Up.class, LabCommand.Down.class, LabCommand.Write.class, LabCommand.Read.class,
                LabCommand.ListVms.class})
public final class LabCommand implements CommandExtension {

    @Override
    public Object command() {
        return new LabCommand();
    }

    /** Options every lab subcommand takes. */
    abstract static class Base implements Callable<Integer> {
        @Option(names = {"-c", "--connect"}, paramLabel = "URI", description = "libvirt URI (default qemu:///system).")
        String uri;

        String uri() {
            return CommandExtension.connectionUri(uri);
        }

        @Override
        public Integer call() {
            try {
                ConnectionHost.of(uri()).requireLocalFiles("snapbook lab writes and reads the lab VMs' image files");
            } catch (StepFailure e) {
                System.err.println("snapbook lab: " + e.getMessage() + "\n  " + e.hint());
                return 2;
            }
            try (Libvirt libvirt = Libvirt.open(uri(), line -> { })) {
                return run(new Lab(libvirt, Lab.defaultRoot()));
            } catch (IllegalArgumentException e) {
                System.err.println("snapbook lab: " + e.getMessage());
                return 2;
            } catch (StepFailure e) {
                System.err.println("snapbook lab: " + e.getMessage() + (e.hint() != null ? "\n  " + e.hint() : ""));
                return 1;
            } catch (IOException | RuntimeException e) {
                System.err.println("snapbook lab: " + e.getMessage());
                return 1;
            }
        }

        abstract int run(Lab lab) throws StepFailure, IOException;
    }

    @Command(name = "up", mixinStandardHelpOptions = true, description = "Define and start a lab VM.")
    static final class Up extends Base {
        @Parameters(index = "0", arity = "0..1", paramLabel = "NAME", defaultValue = "demo")
        String name;

        @Option(names = "--format", defaultValue = "qcow2", description = "Disk format: qcow2 (default) or raw.")
        String format;

        @Option(names = "--size", defaultValue = "256M", description = "Disk size (default 256M).")
        String size;

        @Override
        int run(Lab lab) throws StepFailure, IOException {
            Lab.Machine m = lab.up(name, format, size);
            System.out.println("lab VM " + m.domain() + " is running; disk vda: " + m.disk() + " (" + m.format() + ")");
            return 0;
        }
    }

    @Command(name = "down", mixinStandardHelpOptions = true,
            description = "Remove a lab VM (or all of them) with its snapshots and files; nothing else.")
    static final class Down extends Base {
        @Parameters(index = "0", arity = "0..1", paramLabel = "NAME")
        String name;

        @Option(names = "--all", description = "Remove every lab VM.")
        boolean all;

        @Override
        int run(Lab lab) throws StepFailure, IOException {
            if (all == (name != null)) {
                throw new IllegalArgumentException("give a lab VM NAME or --all");
            }
            if (all) {
                var removed = lab.downAll();
                System.out.println(removed.isEmpty() ? "no lab VMs" : "removed lab VMs: " + String.join(", ", removed));
            } else {
                lab.down(name);
                System.out.println("removed lab VM " + Lab.PREFIX + name);
            }
            return 0;
        }
    }

    /** Options naming a range of a lab VM's disk and a byte pattern. */
    abstract static class Range extends Base {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Option(names = "--pattern", required = true, description = "The byte, e.g. 0x22.")
        String pattern;

        @Option(names = "--offset", defaultValue = "0", description = "Where, e.g. 1M (default 0).")
        String offset;

        @Option(names = "--length", defaultValue = "1M", description = "How much, e.g. 64k (default 1M).")
        String length;

        @Option(names = "--disk", defaultValue = "vda", description = "The disk target (default vda).")
        String disk;

        int patternByte() {
            try {
                int v = Integer.decode(pattern);
                if (v >= 0 && v <= 255) {
                    return v;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new IllegalArgumentException("--pattern must be a byte such as 0x22, not '" + pattern + "'");
        }
    }

    @Command(name = "write", mixinStandardHelpOptions = true,
            description = "Write a byte pattern into a running lab VM's disk, as its guest would (QEMU monitor).")
    static final class Write extends Range {
        @Override
        int run(Lab lab) throws StepFailure {
            lab.write(name, disk, patternByte(), offset, length);
            System.out.println("wrote " + pattern + " at " + offset + " (" + length + ") into " + Lab.PREFIX + name + " " + disk);
            return 0;
        }
    }

    @Command(name = "read", mixinStandardHelpOptions = true,
            description = "Check, read-only, whether a pattern is visible in a lab VM's disk (exit 0 yes, 1 no).")
    static final class Read extends Range {
        @Override
        int run(Lab lab) throws StepFailure, IOException {
            boolean present = lab.read(name, disk, patternByte(), offset, length);
            System.out.println(pattern + " at " + offset + " (" + length + "): " + (present ? "present" : "absent"));
            return present ? 0 : 1;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List lab VMs.")
    static final class ListVms extends Base {
        @Override
        int run(Lab lab) throws StepFailure {
            lab.list().forEach(System.out::println);
            return 0;
        }
    }
}
