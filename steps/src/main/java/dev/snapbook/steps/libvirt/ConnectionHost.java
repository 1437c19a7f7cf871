package dev.snapbook.steps.libvirt;

import dev.snapbook.engine.spi.FactKey;
import dev.snapbook.engine.spi.StepContext;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.engine.spi.World;
import java.io.IOException;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Which machine the run's libvirt connection reaches (fact kind {@code connection-host}, id {@code uri}), and
 * the one rule that follows from it: <b>image files are only read or written for a connection to this
 * machine</b>. Every {@code qemu-img} call, every qcow2 header snapbook reads and every file it creates or
 * deletes is on the machine snapbook runs on; for {@code qemu+ssh://other/system} the domain's files are on
 * {@code other}, and a file of the same path here is another file. Steps that read or write image files ask
 * {@link #requireLocalFiles(World, String)} in their plan, and so does every observation of an image, so the
 * plan refuses before anything is read or changed; steps that only talk to libvirt run over any connection.
 *
 * <p>A URI names this machine when it has no host ({@code qemu:///system}, {@code qemu+unix:///system}), or its
 * host is {@code localhost} (or a name under {@code .localhost}), a loopback address, an address of one of this
 * machine's network interfaces, this machine's host name exactly as the kernel has it, or a name that
 * {@code /etc/hosts} maps to one of those addresses (which is how Debian names the machine's full name). No
 * other name is looked up: a name that only DNS could resolve is taken as another machine, so that the answer
 * never waits on a name server and never depends on one. Taking this machine for another only refuses a plan;
 * the other way round would read the wrong files, so every doubt goes to "another machine".
 *
 * @param uri  the connection URI, as given
 * @param host the host the URI names, or null when it names this machine
 */
public record ConnectionHost(String uri, String host) {

    public static final String KIND = "connection-host";

    public static FactKey<ConnectionHost> key() {
        return new FactKey<>(KIND, "uri", ConnectionHost.class);
    }

    /** Whether the connection reaches this machine, so that its domains' files are the files here. */
    public boolean local() {
        return host == null;
    }

    /**
     * Refuses, in a plan, step {@code step} that reads or writes image files, when the run's connection is to
     * another machine.
     */
    public static void requireLocalFiles(World world, String step) throws StepFailure {
        requireLocal(world, "step " + step + " reads or writes image files");
    }

    /**
     * Refuses, in a plan, {@code doing} (what reads files, said as "the check for damage reads ..."), when the
     * run's connection is to another machine.
     */
    public static void requireLocal(World world, String doing) throws StepFailure {
        ConnectionHost connection = world.get(key());
        if (connection != null) {
            connection.requireLocalFiles(doing);
        }
    }

    /** Refuses reading or writing {@code what} (an image, named) when the run's connection is to another machine. */
    public static void requireLocalFiles(StepContext context, String what) throws StepFailure {
        of(context.connectionUri()).requireLocalFiles(what);
    }

    /** Refuses {@code doing} (what would touch files, said as "step X reads ...") unless this connection is local. */
    public void requireLocalFiles(String doing) throws StepFailure {
        if (local()) {
            return;
        }
        throw new StepFailure(doing + ", and the connection " + uri + " is to host " + host
                + ": the domains' files are on " + host + ", not on this machine, and a file of the same path here is"
                + " another file; snapbook reads and writes files only on the machine it runs on",
                "run snapbook on " + host + " itself (ssh " + host + " snapbook ...), or on many hosts with the"
                        + " Ansible module snapbook.kvm.playbook, which runs it on each; steps that only talk to"
                        + " libvirt (domain.state, domain.shutdown, snapshot.list, ...) may run over " + uri);
    }

    /** The machine {@code uri} reaches; an unparsable URI is left to libvirt to refuse, and named as it is. */
    public static ConnectionHost of(String uri) {
        String host = hostOf(uri);
        return new ConnectionHost(uri, host == null || namesThisMachine(host) ? null : host);
    }

    /** The host part of a libvirt URI ({@code driver[+transport]://[user@][host][:port]/path[?query]}), or null. */
    static String hostOf(String uri) {
        if (uri == null || uri.isBlank()) {
            return null;
        }
        try {
            URI parsed = new URI(uri.trim());
            String host = parsed.getHost();
            if (host == null) {
                // java.net.URI leaves the host unset when it is not a valid server name (an underscore, say):
                // take the authority's host part as written
                String authority = parsed.getRawAuthority();
                if (authority == null || authority.isEmpty()) {
                    return null;
                }
                host = authority.substring(authority.lastIndexOf('@') + 1);
                if (!host.startsWith("[") && host.indexOf(':') >= 0) {
                    host = host.substring(0, host.indexOf(':'));
                }
            }
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            return host.isEmpty() ? null : host;
        } catch (URISyntaxException e) {
            return null;
        }
    }

    /** Whether {@code host} names this machine; see the class comment for what counts. */
    static boolean namesThisMachine(String host) {
        String name = host.toLowerCase(Locale.ROOT);
        if (name.endsWith(".")) {
            name = name.substring(0, name.length() - 1);
        }
        if (name.equals("localhost") || name.endsWith(".localhost")) {
            return true;
        }
        if (isAddressLiteral(name)) {
            return isOwnAddress(name);
        }
        String self = thisHostName();
        if (name.equals(self)) {
            return true;
        }
        for (String address : hostsFileAddresses(name)) {
            if (isOwnAddress(address)) {
                return true;
            }
        }
        return false;
    }

    private static boolean isAddressLiteral(String name) {
        return name.indexOf(':') >= 0 || name.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
    }

    /** Whether the address literal {@code address} is a loopback address or one of this machine's interfaces'. */
    static boolean isOwnAddress(String address) {
        try {
            // a literal is parsed, never looked up
            InetAddress parsed = InetAddress.getByName(address);
            return parsed.isLoopbackAddress() || parsed.isAnyLocalAddress()
                    || NetworkInterface.getByInetAddress(parsed) != null;
        } catch (UnknownHostException | SocketException | SecurityException e) {
            return false;
        }
    }

    /** The kernel's host name of this machine, lower case, or null when it cannot be read. */
    private static String thisHostName() {
        for (Path file : List.of(Path.of("/proc/sys/kernel/hostname"), Path.of("/etc/hostname"))) {
            try {
                String name = Files.readString(file).trim().toLowerCase(Locale.ROOT);
                if (!name.isEmpty()) {
                    return name;
                }
            } catch (IOException | SecurityException e) {
                // try the next
            }
        }
        return null;
    }

    /** The addresses {@code /etc/hosts} gives {@code name}, which are address literals. */
    private static List<String> hostsFileAddresses(String name) {
        try {
            return Files.readAllLines(Path.of("/etc/hosts")).stream()
                    .map(line -> line.replaceFirst("#.*", "").trim())
                    .filter(line -> !line.isEmpty())
                    .map(line -> line.split("\\s+"))
                    .filter(fields -> fields.length > 1 && List.of(fields).subList(1, fields.length).stream()
                            .anyMatch(alias -> alias.equalsIgnoreCase(name)))
                    .map(fields -> fields[0])
                    .filter(ConnectionHost::isAddressLiteral)
                    .toList();
        } catch (IOException | SecurityException e) {
            return List.of();
        }
    }
}
