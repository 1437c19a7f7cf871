package dev.snapbook.steps.libvirt;

import dev.snapbook.engine.spi.StepContext;
import dev.snapbook.engine.spi.StepFailure;
import java.util.EnumSet;
import java.util.function.Consumer;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.DomainInfo;
import org.libvirt.Error.ErrorNumber;
import org.libvirt.LibvirtException;

/**
 * A session over one libvirt connection ({@code virConnectPtr}); one per run, shared by its steps through
 * {@link StepContext#resource}. Each method wraps one libvirt call, named after it with the {@code vir}
 * prefix stripped, takes the domain by name, traces the call, and turns every {@link LibvirtException}
 * into a {@link StepFailure} in {@link #failure} — the one place that decides what an error means.
 */
public final class Libvirt implements AutoCloseable {

    /** Options of {@code virDomainUndefineFlags}. */
    public enum UndefineOption {
        MANAGED_SAVE(1), SNAPSHOTS_METADATA(2), NVRAM(4), CHECKPOINTS_METADATA(16);

        final int flag;

        UndefineOption(int flag) {
            this.flag = flag;
        }
    }

    /** A {@link StepFailure} that had to cross a {@link java.util.function.Supplier}; see {@link #session}. */
    static final class OpenFailed extends RuntimeException {
        final StepFailure failure;

        OpenFailed(StepFailure failure) {
            super(failure.getMessage(), failure);
            this.failure = failure;
        }
    }

    @FunctionalInterface
    private interface Call<T> {
        T on(Domain domain) throws LibvirtException;
    }

    /**
     * Replaces libvirt's default error handler, which prints every error to stderr (even an expected
     * "Domain not found" from {@link #exists}); errors reach callers as exceptions instead. Held in a static
     * field because JNA callbacks must not be garbage collected while libvirt can call them.
     */
    private static final org.libvirt.jna.Libvirt.VirErrorCallback QUIET = (userData, error) -> { };

    // VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP: the command is human monitor syntax, not QMP JSON.
    private static final int MONITOR_HMP = 1;

    private final String uri;
    private final Connect connect;
    private final Consumer<String> trace;

    private Libvirt(String uri, Connect connect, Consumer<String> trace) {
        this.uri = uri;
        this.connect = connect;
        this.trace = trace;
    }

    /** Opens a read-write connection to {@code uri} ({@code virConnectOpen}); {@code trace} gets each call. */
    public static Libvirt open(String uri, Consumer<String> trace) throws StepFailure {
        trace.accept("virConnectOpen(" + uri + ")");
        try {
            Connect connect = new Connect(uri, false);
            connect.setConnectionErrorCallback(QUIET);
            return new Libvirt(uri, connect, trace);
        } catch (LibvirtException e) {
            throw new StepFailure("cannot connect to libvirt at " + uri + ": " + e.getError().getMessage(),
                    "check that libvirtd is running and reachable: virsh -c " + uri + " version", e);
        } catch (UnsatisfiedLinkError e) {
            throw new StepFailure("cannot load the libvirt C library (libvirt.so.0): " + e.getMessage(),
                    "install the libvirt client library (Debian: apt-get install libvirt0)", null);
        }
    }

    /** The run's shared session, opened on first use with the context's connection URI. */
    public static Libvirt session(StepContext context) throws StepFailure {
        try {
            return context.resource(Libvirt.class, () -> {
                try {
                    return open(context.connectionUri(), context::trace);
                } catch (StepFailure e) {
                    throw new OpenFailed(e);
                }
            });
        } catch (OpenFailed e) {
            throw e.failure;
        }
    }

    public String uri() {
        return uri;
    }

    /** Whether a domain named {@code name} is defined or running ({@code virDomainLookupByName}). */
    public boolean exists(String name) throws StepFailure {
        trace.accept("virDomainLookupByName(" + name + ")");
        try {
            connect.domainLookupByName(name).free();
            return true;
        } catch (LibvirtException e) {
            if (e.getError().getCode() == ErrorNumber.VIR_ERR_NO_DOMAIN) {
                return false;
            }
            throw failure("virDomainLookupByName", name, e);
        }
    }

    /** The domain's state ({@code virDomainGetInfo}). */
    public PowerState state(String name) throws StepFailure {
        return call("virDomainGetInfo", name, d -> {
            try {
                DomainInfo.DomainState s = d.getInfo().state;
                return PowerState.valueOf(s.name().substring("VIR_DOMAIN_".length()));
            } catch (ArrayIndexOutOfBoundsException e) {
                // libvirt-java 0.5.2 knows states 0..6 only and indexes past its enum for
                // VIR_DOMAIN_PMSUSPENDED (7), the only later state.
                return PowerState.PMSUSPENDED;
            }
        });
    }

    /** Whether the domain has a persistent definition ({@code virDomainIsPersistent}). */
    public boolean persistent(String name) throws StepFailure {
        return call("virDomainIsPersistent", name, d -> d.isPersistent() == 1);
    }

    /** The domain's XML ({@code virDomainGetXMLDesc}), the live or the persistent definition. */
    public String xmlDesc(String name, XmlView view) throws StepFailure {
        return call("virDomainGetXMLDesc[" + view + "]", name, d -> d.getXMLDesc(view.flag));
    }

    /** Starts a defined, shut-off domain ({@code virDomainCreate}). */
    public void create(String name) throws StepFailure {
        call("virDomainCreate", name, Domain::create);
    }

    /** Asks the guest to shut down, through ACPI by default ({@code virDomainShutdown}); returns at once. */
    public void shutdown(String name) throws StepFailure {
        call("virDomainShutdown", name, d -> {
            d.shutdown();
            return null;
        });
    }

    /** Stops the domain at once, like pulling the plug ({@code virDomainDestroy}). */
    public void destroy(String name) throws StepFailure {
        call("virDomainDestroy", name, d -> {
            d.destroy();
            return null;
        });
    }

    /** Defines (or redefines) a persistent domain ({@code virDomainDefineXML}); returns its name. */
    public String defineXml(String xml) throws StepFailure {
        trace.accept("virDomainDefineXML(...)");
        try {
            Domain d = connect.domainDefineXML(xml);
            try {
                return d.getName();
            } finally {
                d.free();
            }
        } catch (LibvirtException e) {
            throw failure("virDomainDefineXML", "(new definition)", e);
        }
    }

    /** Removes the domain's persistent definition ({@code virDomainUndefineFlags}). */
    public void undefine(String name, EnumSet<UndefineOption> options) throws StepFailure {
        int flags = options.stream().mapToInt(o -> o.flag).reduce(0, (a, b) -> a | b);
        call("virDomainUndefineFlags" + options, name, d -> {
            d.undefine(flags);
            return null;
        });
    }

    /** Runs a human-monitor (HMP) command in the domain's QEMU ({@code virDomainQemuMonitorCommand}). */
    public String qemuMonitorCommandHmp(String name, String command) throws StepFailure {
        return call("virDomainQemuMonitorCommand[hmp: " + command + "]", name,
                d -> d.qemuMonitorCommand(command, MONITOR_HMP));
    }

    private <T> T call(String function, String name, Call<T> body) throws StepFailure {
        trace.accept(function + "(" + name + ")");
        Domain d;
        try {
            d = connect.domainLookupByName(name);
        } catch (LibvirtException e) {
            throw failure(function, name, e);
        }
        try {
            return body.on(d);
        } catch (LibvirtException e) {
            throw failure(function, name, e);
        } finally {
            try {
                d.free();
            } catch (LibvirtException ignored) {
                // freeing a handle we hold cannot fail in a way the caller could act on; the call's own
                // result or failure is what matters
            }
        }
    }

    /** The one translation of libvirt errors: what failed, on which domain, and what to do next. */
    private StepFailure failure(String function, String name, LibvirtException e) {
        org.libvirt.Error error = e.getError();
        ErrorNumber code = error.getCode();
        String what = function + "(" + name + ") failed on " + uri + ": " + error.getMessage();
        String hint = switch (code) {
            case VIR_ERR_NO_DOMAIN -> "domain '" + name + "' is not defined on " + uri
                    + "; list the domains with: virsh -c " + uri + " list --all";
            case VIR_ERR_OPERATION_INVALID -> "the domain is not in a state that allows this; check it with: virsh -c "
                    + uri + " domstate --reason " + name;
            case VIR_ERR_NO_CONNECT, VIR_ERR_SYSTEM_ERROR -> "the connection to libvirtd was lost or refused;"
                    + " check: virsh -c " + uri + " version";
            case VIR_ERR_AUTH_FAILED, VIR_ERR_AUTH_CANCELLED -> "snapbook has no permission on " + uri
                    + "; run as a user allowed to manage domains (root or group libvirt)";
            case VIR_ERR_OPERATION_TIMEOUT -> "libvirt timed out, usually because another job holds the domain;"
                    + " check: virsh -c " + uri + " domjobinfo " + name;
            default -> "see the domain's log (/var/log/libvirt/qemu/" + name + ".log) and libvirtd's log";
        };
        return new StepFailure(what, hint, e);
    }

    /** Closes the connection ({@code virConnectClose}). */
    @Override
    public void close() throws StepFailure {
        trace.accept("virConnectClose(" + uri + ")");
        try {
            connect.close();
        } catch (LibvirtException e) {
            throw new StepFailure("closing the libvirt connection to " + uri + " failed: "
                    + e.getError().getMessage(), null, e);
        }
    }

    // ---- image family (image.delete / FileUsage: who uses a file) ----

    /**
     * The names of every domain on the connection, running ({@code virConnectListDomains}, then
     * {@code virDomainLookupByID}) and defined but inactive ({@code virConnectListDefinedDomains}), sorted.
     * A running domain that stops between the two calls is left out, as it would be a moment later.
     */
    public java.util.List<String> domainNames() throws StepFailure {
        trace.accept("virConnectListDomains(); virConnectListDefinedDomains()");
        java.util.TreeSet<String> names = new java.util.TreeSet<>();
        try {
            for (int id : connect.listDomains()) {
                try {
                    Domain d = connect.domainLookupByID(id);
                    try {
                        names.add(d.getName());
                    } finally {
                        d.free();
                    }
                } catch (LibvirtException e) {
                    if (e.getError().getCode() != ErrorNumber.VIR_ERR_NO_DOMAIN) {
                        throw e;
                    }
                }
            }
            names.addAll(java.util.Arrays.asList(connect.listDefinedDomains()));
        } catch (LibvirtException e) {
            throw failure("virConnectListAllDomains", "(all)", e);
        }
        return java.util.List.copyOf(names);
    }

    /** The names of the domain's snapshots ({@code virDomainSnapshotListNames}). */
    public java.util.List<String> snapshotNames(String name) throws StepFailure {
        return call("virDomainSnapshotListNames", name, d -> java.util.List.of(d.snapshotListNames()));
    }

    /** A snapshot's XML ({@code virDomainSnapshotLookupByName} + {@code virDomainSnapshotGetXMLDesc}). */
    public String snapshotXmlDesc(String name, String snapshot) throws StepFailure {
        return call("virDomainSnapshotGetXMLDesc[" + snapshot + "]", name, d -> {
            org.libvirt.DomainSnapshot s = d.snapshotLookupByName(snapshot);
            try {
                return s.getXMLDesc();
            } finally {
                s.free();
            }
        });
    }

    /**
     * The persistent definition with its secrets ({@code virDomainGetXMLDesc} with
     * {@code VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE}): what must be saved to redefine the domain
     * exactly as it was, graphics passwords included (disk.swap's undo).
     */
    public String persistentXmlWithSecrets(String name) throws StepFailure {
        return call("virDomainGetXMLDesc[INACTIVE|SECURE]", name, d -> d.getXMLDesc(XmlView.INACTIVE.flag | 1));
    }

    /**
     * Whether {@code failure} says the domain does not exist (any more): for scans over every domain, where one
     * undefined meanwhile is simply gone.
     */
    public static boolean isNoDomain(StepFailure failure) {
        return failure.getCause() instanceof LibvirtException e
                && e.getError().getCode() == ErrorNumber.VIR_ERR_NO_DOMAIN;
    }

    /** Whether {@code failure} says the snapshot does not exist (any more), e.g. deleted during a scan. */
    public static boolean isNoSnapshot(StepFailure failure) {
        return failure.getCause() instanceof LibvirtException e
                && e.getError().getCode() == ErrorNumber.VIR_ERR_NO_DOMAIN_SNAPSHOT;
    }

    // ---- end of image family ----
}
