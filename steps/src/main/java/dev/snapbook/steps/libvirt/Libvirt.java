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
 *
 * <p>libvirtd going away (restarted, socket closed) is survived once per session: the session opens a new
 * connection; a read-only call is then asked again, while a call that may change something is not repeated —
 * it fails with {@link StepFailure.OutcomeUnknown}, which stops the run with its journal for
 * {@code snapbook recover}.
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
        /** Libvirt-java calls throw {@link LibvirtException}; the JNA-bound block-job calls {@code NativeError}. */
        T on(Domain domain) throws LibvirtNative.NativeError, LibvirtException;
    }

    /**
     * Replaces libvirt's default error handler, which prints every error to stderr (even an expected
     * "Domain not found" from {@link #exists}); errors reach callers as exceptions instead. Held in a static
     * field because JNA callbacks must not be garbage collected while libvirt can call them.
     */
    private static final org.libvirt.jna.Libvirt.VirErrorCallback QUIET = (userData, error) -> { };

    // VIR_DOMAIN_XML_SECURE: include the secrets (display passwords); read only by redefineKeepingSecrets.
    private static final int XML_SECURE = 1;

    // VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP: the command is human monitor syntax, not QMP JSON.
    private static final int MONITOR_HMP = 1;

    private final String uri;
    private Connect connect;
    private final Consumer<String> trace;
    private boolean reconnected;

    private Libvirt(String uri, Connect connect, Consumer<String> trace) {
        this.uri = uri;
        this.connect = connect;
        this.trace = trace;
    }

    /** Opens a read-write connection to {@code uri} ({@code virConnectOpen}); {@code trace} gets each call. */
    public static Libvirt open(String uri, Consumer<String> trace) throws StepFailure {
        trace.accept("virConnectOpen(" + uri + ")");
        try {
            // the process-wide handler too: a connection that cannot be opened reports through it, before
            // the connection's own handler exists
            Connect.setErrorCallback(QUIET);
            // before the connection: libvirt delivers events only to connections opened after its event loop
            BlockJobEvents.registerLoop();
            Connect connect = new Connect(uri, false);
            connect.setConnectionErrorCallback(QUIET);
            return new Libvirt(uri, connect, trace);
        } catch (LibvirtException e) {
            throw new StepFailure("cannot connect to libvirt at " + uri + ": " + e.getError().getMessage(),
                    "check that libvirtd is running and reachable: virsh -c " + uri + " version", e);
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
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

    /**
     * What libvirtd says of itself: its version ({@code virConnectGetLibVersion}, the daemon's, which may differ
     * from this client library's), the hypervisor's ({@code virConnectGetVersion}, QEMU's) and the host
     * capabilities XML ({@code virConnectGetCapabilities}). Versions are {@code major * 1,000,000 + minor * 1,000
     * + release}.
     */
    public record Host(long libvirtVersion, long hypervisorVersion, String capabilities) { }

    /** Reads {@link Host}; read-only, so it is asked again once when the connection was lost. */
    public Host host() throws StepFailure {
        try {
            return hostOnce();
        } catch (StepFailure e) {
            if (!lost(e) || !reconnect("virConnectGetLibVersion", "(host)")) {
                throw e;
            }
            return hostOnce();
        }
    }

    private Host hostOnce() throws StepFailure {
        trace.accept("virConnectGetLibVersion(); virConnectGetVersion(); virConnectGetCapabilities()");
        try {
            return new Host(connect.getLibVersion(), connect.getVersion(), connect.getCapabilities());
        } catch (LibvirtException e) {
            throw failure("virConnectGetLibVersion", "(host)", e);
        }
    }

    /** Whether a domain named {@code name} is defined or running ({@code virDomainLookupByName}). */
    public boolean exists(String name) throws StepFailure {
        try {
            return existsOnce(name);
        } catch (StepFailure e) {
            if (!lost(e) || !reconnect("virDomainLookupByName", name)) {
                throw e;
            }
            return existsOnce(name);
        }
    }

    private boolean existsOnce(String name) throws StepFailure {
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
        return read("virDomainGetInfo", name, Libvirt::stateOf);
    }

    private static PowerState stateOf(Domain d) throws LibvirtException {
        try {
            DomainInfo.DomainState s = d.getInfo().state;
            return PowerState.valueOf(s.name().substring("VIR_DOMAIN_".length()));
        } catch (ArrayIndexOutOfBoundsException e) {
            // libvirt-java 0.5.2 knows states 0..6 only and indexes past its enum for
            // VIR_DOMAIN_PMSUSPENDED (7), the only later state.
            return PowerState.PMSUSPENDED;
        }
    }

    /** A domain's state, persistence and live XML, read through one handle. */
    public record DomainSummary(PowerState state, boolean persistent, String liveXml) {
    }

    /**
     * What {@link #state}, {@link #persistent} and {@link #xmlDesc}(LIVE) answer, with one lookup of the domain
     * ({@code virDomainGetInfo}, {@code virDomainIsPersistent}, {@code virDomainGetXMLDesc}); null when no domain
     * has that name. Observing every domain on a host with a thousand of them is mostly these calls.
     */
    public DomainSummary summary(String name) throws StepFailure {
        try {
            return read("virDomainGetInfo+IsPersistent+GetXMLDesc[LIVE]", name, d ->
                    new DomainSummary(stateOf(d), d.isPersistent() == 1, d.getXMLDesc(XmlView.LIVE.flag)));
        } catch (StepFailure e) {
            if (isNoDomain(e)) {
                return null;
            }
            throw e;
        }
    }

    /** Whether the domain has a persistent definition ({@code virDomainIsPersistent}). */
    public boolean persistent(String name) throws StepFailure {
        return read("virDomainIsPersistent", name, d -> d.isPersistent() == 1);
    }

    /** The domain's XML ({@code virDomainGetXMLDesc}), the live or the persistent definition. */
    public String xmlDesc(String name, XmlView view) throws StepFailure {
        return read("virDomainGetXMLDesc[" + view + "]", name, d -> d.getXMLDesc(view.flag));
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
        try {
            return defineXmlOnce(xml);
        } catch (StepFailure e) {
            if (!lost(e) || !reconnect("virDomainDefineXML", "(new definition)")) {
                throw e;
            }
            throw new StepFailure.OutcomeUnknown("the connection to libvirtd at " + uri + " was lost during"
                    + " virDomainDefineXML: snapbook reconnected but did not repeat it: whether the definition changed"
                    + " is unknown", "the run stops here; snapbook recover RUN_ID re-verifies this step, then"
                    + " --rollback or --resume", e);
        }
    }

    private String defineXmlOnce(String xml) throws StepFailure {
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

    /**
     * A read-only call: when the connection to libvirtd was lost (libvirtd restarted), the session reconnects
     * once and asks again — reading twice changes nothing.
     */
    private <T> T read(String function, String name, Call<T> body) throws StepFailure {
        try {
            return once(function, name, body);
        } catch (StepFailure e) {
            if (!lost(e) || !reconnect(function, name)) {
                throw e;
            }
            return once(function, name, body);
        }
    }

    /**
     * A call that may change something. When the connection is lost during it, it is NOT repeated: libvirtd
     * may or may not have done it. The session reconnects (so that recovery can look) and the step fails with
     * {@link StepFailure.OutcomeUnknown}: the run stops there, and {@code snapbook recover} re-verifies it.
     */
    private <T> T call(String function, String name, Call<T> body) throws StepFailure {
        try {
            return once(function, name, body);
        } catch (StepFailure e) {
            if (!lost(e) || !reconnect(function, name)) {
                throw e;
            }
            throw new StepFailure.OutcomeUnknown("the connection to libvirtd at " + uri + " was lost during " + function
                    + "(" + name + "); snapbook reconnected but did not repeat the call: whether it took effect is unknown",
                    "the run stops here; snapbook recover RUN_ID re-verifies this step, then --rollback or --resume", e);
        }
    }

    /**
     * Whether {@code e} says the connection to libvirtd is gone rather than that the call was refused. Only
     * the connection's own errors count ({@code VIR_ERR_NO_CONNECT}, {@code VIR_ERR_RPC}, any error raised by
     * the RPC layer, {@code VIR_FROM_RPC}) or a connection that {@code virConnectIsAlive} reports closed.
     * {@code VIR_ERR_SYSTEM_ERROR} alone is not enough: libvirtd raises it for any failed system call on the
     * host (a missing directory, a full disk), which says nothing about the connection.
     */
    private boolean lost(StepFailure e) {
        org.libvirt.Error error = libvirtError(e);
        if (error == null) {
            return false;
        }
        ErrorNumber code = error.getCode();
        if (code == ErrorNumber.VIR_ERR_NO_CONNECT || code == ErrorNumber.VIR_ERR_RPC
                || error.getDomain() == org.libvirt.Error.ErrorDomain.VIR_FROM_RPC) {
            return true;
        }
        return dead();
    }

    private static org.libvirt.Error libvirtError(StepFailure e) {
        return e.getCause() instanceof LibvirtException le ? le.getError()
                : e.getCause() instanceof LibvirtNative.NativeError ne ? ne.error : null;
    }

    /** Whether the connection is closed ({@code virConnectIsAlive}); "internal error: client socket is closed". */
    private boolean dead() {
        try {
            return !connect.isAlive();
        } catch (LibvirtException | RuntimeException e) {
            return true;
        }
    }

    /**
     * Opens a new connection in place of the lost one, once per session (a second loss stops the step).
     * Returns whether it did.
     */
    private synchronized boolean reconnect(String function, String name) {
        if (reconnected) {
            return false;
        }
        reconnected = true;
        trace.accept("connection to " + uri + " lost during " + function + "(" + name + "): virConnectOpen(" + uri
                + ") again");
        Connect old = connect;
        long end = System.currentTimeMillis() + 30_000;
        while (true) {
            try {
                Connect fresh = new Connect(uri, false);
                fresh.setConnectionErrorCallback(QUIET);
                connect = fresh;
                try {
                    old.close();
                } catch (LibvirtException | RuntimeException ignored) {
                    // the old connection is dead; closing it only frees its memory
                }
                return true;
            } catch (LibvirtException e) {
                if (System.currentTimeMillis() > end) {
                    return false;
                }
                try {
                    Thread.sleep(500);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
        }
    }

    private <T> T once(String function, String name, Call<T> body) throws StepFailure {
        trace.accept(function + "(" + name + ")");
        Domain d;
        try {
            d = connect.domainLookupByName(name);
        } catch (LibvirtException e) {
            throw failure(function, name, e);
        }
        try {
            return body.on(d);
        } catch (LibvirtNative.NativeError e) {
            throw failure(function, name, e.error, e);
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
        return failure(function, name, e.getError(), e);
    }

    /** The same for an error read with {@code virGetLastError} after a call made through JNA. */
    private StepFailure failure(String function, String name, org.libvirt.Error error, Throwable cause) {
        if (error == null) {
            return new StepFailure(function + "(" + name + ") failed on " + uri + " without a libvirt error",
                    "see libvirtd's log", cause);
        }
        ErrorNumber code = error.getCode();
        String what = function + "(" + name + ") failed on " + uri + ": " + error.getMessage();
        String hint = switch (code) {
            case VIR_ERR_NO_DOMAIN -> "domain '" + name + "' is not defined on " + uri
                    + "; list the domains with: virsh -c " + uri + " list --all";
            case VIR_ERR_OPERATION_INVALID -> "the domain is not in a state that allows this; check it with: virsh -c "
                    + uri + " domstate --reason " + name;
            case VIR_ERR_NO_CONNECT, VIR_ERR_RPC -> "the connection to libvirtd was lost or"
                    + " refused; check: virsh -c " + uri + " version";
            case VIR_ERR_SYSTEM_ERROR -> error.getDomain() == org.libvirt.Error.ErrorDomain.VIR_FROM_RPC || dead()
                    ? "the connection to libvirtd was lost; check: virsh -c " + uri + " version"
                    : SystemError.hint(error.getInt1(), error.getMessage());
            case VIR_ERR_INTERNAL_ERROR -> dead() ? "the connection to libvirtd was lost; check: virsh -c " + uri
                    + " version" : "see the domain's log (/var/log/libvirt/qemu/" + name + ".log) and libvirtd's log";
            case VIR_ERR_AUTH_FAILED, VIR_ERR_AUTH_CANCELLED -> "snapbook has no permission on " + uri
                    + "; run as a user allowed to manage domains (root or group libvirt)";
            case VIR_ERR_OPERATION_TIMEOUT -> "libvirt timed out, usually because another job holds the domain;"
                    + " check: virsh -c " + uri + " domjobinfo " + name;
            default -> "see the domain's log (/var/log/libvirt/qemu/" + name + ".log) and libvirtd's log";
        };
        return new StepFailure(what, hint, cause);
    }

    // ---------------------------------------------------------------------------------------------------
    // Snapshot family (dev.snapbook.steps.snapshot): virDomainSnapshot* calls and the domain listing that
    // the file-usage safety check needs.
    // ---------------------------------------------------------------------------------------------------

    /** Flags of {@code virDomainSnapshotCreateXML}. */
    public enum SnapshotCreateOption implements Flag {
        REDEFINE(1), CURRENT(2), NO_METADATA(4), HALT(8), DISK_ONLY(16), REUSE_EXT(32), QUIESCE(64),
        ATOMIC(128), LIVE(256), VALIDATE(512);

        final int flag;

        SnapshotCreateOption(int flag) {
            this.flag = flag;
        }

        @Override
        public int flag() {
            return flag;
        }
    }

    /** Flags of {@code virDomainSnapshotDelete}. */
    public enum SnapshotDeleteOption implements Flag {
        CHILDREN(1), METADATA_ONLY(2), CHILDREN_ONLY(4);

        final int flag;

        SnapshotDeleteOption(int flag) {
            this.flag = flag;
        }

        @Override
        public int flag() {
            return flag;
        }
    }

    /** Flags of {@code virDomainRevertToSnapshot}. */
    public enum SnapshotRevertOption implements Flag {
        RUNNING(1), PAUSED(2), FORCE(4);

        final int flag;

        SnapshotRevertOption(int flag) {
            this.flag = flag;
        }

        @Override
        public int flag() {
            return flag;
        }
    }

    @FunctionalInterface
    private interface SnapshotCall<T> {
        T on(org.libvirt.DomainSnapshot snapshot) throws LibvirtException;
    }

    /** An option that is one bit of a libvirt flags argument. */
    interface Flag {
        int flag();
    }

    private static int flags(java.util.Collection<? extends Flag> options) {
        return options.stream().mapToInt(Flag::flag).reduce(0, (a, b) -> a | b);
    }

    /** The names of the domain's snapshots, in libvirt's order ({@code virDomainSnapshotListNames}). */
    public java.util.List<String> snapshotNames(String name) throws StepFailure {
        return read("virDomainSnapshotListNames", name, d -> java.util.List.of(d.snapshotListNames(0)));
    }

    /** The snapshot's XML ({@code virDomainSnapshotGetXMLDesc}). */
    public String snapshotXmlDesc(String name, String snapshot) throws StepFailure {
        return read("virDomainSnapshotGetXMLDesc[" + snapshot + "]", name, d -> {
            org.libvirt.DomainSnapshot s = d.snapshotLookupByName(snapshot);
            try {
                return s.getXMLDesc();
            } finally {
                s.free();
            }
        });
    }

    /**
     * The current snapshot's name, or null when the domain has none ({@code virDomainHasCurrentSnapshot},
     * {@code virDomainSnapshotCurrent}).
     */
    public String snapshotCurrent(String name) throws StepFailure {
        return read("virDomainSnapshotCurrent", name, d -> {
            if (d.hasCurrentSnapshot() != 1) {
                return null;
            }
            org.libvirt.DomainSnapshot s = d.snapshotCurrent();
            try {
                return snapshotName(s.getXMLDesc());
            } finally {
                s.free();
            }
        });
    }

    /** Creates (or redefines) a snapshot from {@code xml} ({@code virDomainSnapshotCreateXML}); its name. */
    public String snapshotCreateXml(String name, String xml, EnumSet<SnapshotCreateOption> options)
            throws StepFailure {
        return call("virDomainSnapshotCreateXML" + options, name, d -> {
            org.libvirt.DomainSnapshot s = d.snapshotCreateXML(xml, flags(options));
            try {
                return snapshotName(s.getXMLDesc());
            } finally {
                s.free();
            }
        });
    }

    /** Deletes a snapshot ({@code virDomainSnapshotDelete}). */
    public void snapshotDelete(String name, String snapshot, EnumSet<SnapshotDeleteOption> options)
            throws StepFailure {
        onSnapshot("virDomainSnapshotDelete" + options, name, snapshot, s -> s.delete(flags(options)));
    }

    /**
     * Reverts the domain to a snapshot ({@code virDomainRevertToSnapshot}). libvirt-java 0.5.2 passes no flags,
     * so the call goes through its JNA binding directly with the snapshot's pointer.
     */
    public void snapshotRevert(String name, String snapshot, EnumSet<SnapshotRevertOption> options)
            throws StepFailure {
        onSnapshot("virDomainRevertToSnapshot" + options, name, snapshot, s -> {
            int rc = org.libvirt.jna.Libvirt.INSTANCE.virDomainRevertToSnapshot(pointerOf(s), flags(options));
            if (rc < 0) {
                throwLastError();
            }
            return null;
        });
    }

    /**
     * The names of every domain on the connection, running and defined: a domain that is defined, started or stopped
     * meanwhile is never left out.
     */
    public java.util.List<String> domainNames() throws StepFailure {
        try {
            return domainNamesOnce();
        } catch (StepFailure e) {
            if (!lost(e) || !reconnect("virConnectListDomains", "(all)")) {
                throw e;
            }
            return domainNamesOnce();
        }
    }

    /**
     * Running domains, then the others, then the running ones again: a domain that starts or stops between two of
     * the calls is in one of them.
     */
    private java.util.List<String> domainNamesOnce() throws StepFailure {
        trace.accept("virConnectListDomains(); virConnectListDefinedDomains(); virConnectListDomains()");
        try {
            java.util.Set<String> names = new java.util.TreeSet<>();
            addRunning(names);
            names.addAll(LibvirtNative.definedDomainNames(connect));
            addRunning(names);
            return java.util.List.copyOf(names);
        } catch (LibvirtNative.NativeError e) {
            throw failure("virConnectListDomains", "(all)", e.error, e);
        } catch (LibvirtException e) {
            throw failure("virConnectListDomains", "(all)", e);
        }
    }

    private void addRunning(java.util.Set<String> names) throws LibvirtNative.NativeError, LibvirtException {
        for (int id : LibvirtNative.runningDomainIds(connect)) {
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
                // it stopped meanwhile: then it is among the defined domains, listed after this
            }
        }
    }

    private <T> T onSnapshot(String function, String name, String snapshot, SnapshotCall<T> body)
            throws StepFailure {
        return call(function + "[" + snapshot + "]", name, d -> {
            org.libvirt.DomainSnapshot s = d.snapshotLookupByName(snapshot);
            try {
                return body.on(s);
            } finally {
                s.free();
            }
        });
    }

    private static String snapshotName(String xml) {
        try {
            return dev.snapbook.steps.xml.SafeXml.child(
                    dev.snapbook.steps.xml.SafeXml.parse(xml, "snapshot XML").getDocumentElement(), "name")
                    .getTextContent().strip();
        } catch (dev.snapbook.steps.xml.SafeXml.Refused e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    private static org.libvirt.jna.DomainSnapshotPointer pointerOf(org.libvirt.DomainSnapshot s) {
        try {
            java.lang.reflect.Field f = org.libvirt.DomainSnapshot.class.getDeclaredField("vdsp");
            f.setAccessible(true);
            return (org.libvirt.jna.DomainSnapshotPointer) f.get(s);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("libvirt-java's DomainSnapshot has no snapshot pointer field", e);
        }
    }

    /** Raises libvirt's last error as libvirt-java would, so it reaches {@link #failure} like every other. */
    private static void throwLastError() throws LibvirtException {
        try {
            java.lang.reflect.Method m = org.libvirt.ErrorHandler.class.getDeclaredMethod("processError", int.class);
            m.setAccessible(true);
            m.invoke(null, -1);
        } catch (java.lang.reflect.InvocationTargetException e) {
            if (e.getCause() instanceof LibvirtException le) {
                throw le;
            }
            throw new IllegalStateException(e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot read libvirt's last error", e);
        }
        throw new IllegalStateException("libvirt reported a failure without an error");
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

    // ---------------------------------------------------------------------------------------------------
    // Family block (block.commit, block.pull, block.job) and domain.agent. The block-job calls go through
    // LibvirtNative (JNA), since libvirt-java 0.5.2 lacks them.
    // ---------------------------------------------------------------------------------------------------

    /** Options of {@code virDomainBlockCommit} that snapbook uses. */
    public enum CommitOption {
        /** {@code VIR_DOMAIN_BLOCK_COMMIT_ACTIVE}: top is the active layer; the job then waits for a pivot. */
        ACTIVE(LibvirtNative.COMMIT_ACTIVE);

        final int flag;

        CommitOption(int flag) {
            this.flag = flag;
        }
    }

    /**
     * Starts a block commit job merging {@code top} (and the layers between) into {@code base}
     * ({@code virDomainBlockCommit}); {@code bandwidthMiB} 0 means unlimited. Returns at once.
     */
    public void blockCommit(String name, String disk, String base, String top, long bandwidthMiB,
                            EnumSet<CommitOption> options) throws StepFailure {
        int flags = options.stream().mapToInt(o -> o.flag).reduce(0, (a, b) -> a | b);
        call("virDomainBlockCommit[" + disk + ", base=" + base + ", top=" + top + ", bandwidth="
                + bandwidthMiB + ", flags=" + options + "]", name, d -> {
                    LibvirtNative.blockCommit(d, disk, base, top, bandwidthMiB, flags);
                    return null;
                });
    }

    /**
     * Starts a block pull job copying the backing data into the active layer of {@code disk}: the whole chain
     * when {@code base} is null ({@code virDomainBlockPull}), else the layers above {@code base}
     * ({@code virDomainBlockRebase}). Returns at once.
     */
    public void blockPull(String name, String disk, String base, long bandwidthMiB) throws StepFailure {
        if (base == null) {
            call("virDomainBlockPull[" + disk + ", bandwidth=" + bandwidthMiB + "]", name, d -> {
                LibvirtNative.blockPull(d, disk, bandwidthMiB);
                return null;
            });
        } else {
            call("virDomainBlockRebase[" + disk + ", base=" + base + ", bandwidth=" + bandwidthMiB + "]",
                    name, d -> {
                        LibvirtNative.blockRebase(d, disk, base, bandwidthMiB);
                        return null;
                    });
        }
    }

    /**
     * The block job on {@code disk}, or null when there is none ({@code virDomainGetBlockJobInfo}); its
     * {@link BlockJobInfo#ready()} comes from the live domain XML's {@code <mirror ready='yes'>}, which libvirt
     * sets only once QEMU reported the job ready, the condition for a safe pivot.
     */
    public BlockJobInfo blockJob(String name, String disk) throws StepFailure {
        LibvirtNative.JobInfo info = read("virDomainGetBlockJobInfo[" + disk + "]", name,
                d -> LibvirtNative.blockJobInfo(d, disk));
        if (info == null) {
            return null;
        }
        return new BlockJobInfo(BlockJobInfo.Type.of(info.type), info.cur, info.end, info.bandwidth.longValue(),
                mirrorReady(xmlDesc(name, XmlView.LIVE), name, disk));
    }

    /**
     * libvirt's block-job events for {@code disk} of {@code name}, on the current connection, so that a wait
     * wakes when the job changes state; null when there can be none (the caller then polls). Close it when the
     * wait ends.
     */
    public BlockJobEvents blockJobEvents(String name, String disk) {
        return BlockJobEvents.register(connect, name, disk, trace);
    }

    /**
     * Ends the block job on {@code disk} ({@code virDomainBlockJobAbort}): with {@code pivot} the disk switches
     * to the job's destination (the base of an active commit) and the call waits for that; without, the job is
     * cancelled and the disk keeps its current image.
     */
    public void blockJobAbort(String name, String disk, boolean pivot) throws StepFailure {
        call("virDomainBlockJobAbort[" + disk + (pivot ? ", PIVOT" : "") + "]", name, d -> {
            LibvirtNative.blockJobAbort(d, disk, pivot ? LibvirtNative.ABORT_PIVOT : 0);
            return null;
        });
    }

    /**
     * Sends a command to the guest agent ({@code virDomainQemuAgentCommand}, libvirt-qemu) and returns its
     * JSON answer; fails when no agent answers within {@code timeoutSeconds}.
     */
    public String qemuAgentCommand(String name, String json, int timeoutSeconds) throws StepFailure {
        return call("virDomainQemuAgentCommand[" + json + ", timeout=" + timeoutSeconds + "s]", name,
                d -> d.qemuAgentCommand(json, timeoutSeconds, 0));
    }

    /** Whether the live XML's disk {@code target} has a {@code <mirror ready='yes'>}. */
    private boolean mirrorReady(String xml, String name, String target) throws StepFailure {
        try {
            org.w3c.dom.Element devices = dev.snapbook.steps.xml.SafeXml.child(
                    dev.snapbook.steps.xml.SafeXml.parse(xml, "the live XML of " + name).getDocumentElement(),
                    "devices");
            if (devices == null) {
                return false;
            }
            for (org.w3c.dom.Element disk : dev.snapbook.steps.xml.SafeXml.children(devices, "disk")) {
                org.w3c.dom.Element t = dev.snapbook.steps.xml.SafeXml.child(disk, "target");
                if (target.equals(dev.snapbook.steps.xml.SafeXml.attr(t, "dev"))) {
                    org.w3c.dom.Element mirror = dev.snapbook.steps.xml.SafeXml.child(disk, "mirror");
                    return mirror != null && "yes".equals(dev.snapbook.steps.xml.SafeXml.attr(mirror, "ready"));
                }
            }
            return false;
        } catch (dev.snapbook.steps.xml.SafeXml.Refused e) {
            throw new StepFailure(e.getMessage(), "inspect it with: virsh -c " + uri + " dumpxml " + name, e);
        }
    }

    // ---- image family (image.delete / DiskStates: who uses a file) ----

    /**
     * Redefines a domain from a definition read without its secrets ({@code virDomainDefineXML}), as steps
     * capture and edit it: the passwords of the domain's current persistent definition are read from libvirt
     * at this moment ({@code virDomainGetXMLDesc} with {@code VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE})
     * and re-inserted ({@link DomainSecrets}), so that the redefinition does not drop them. The secrets stay in
     * this method: they are never returned, traced, or journalled. A domain not defined yet is simply defined.
     * Returns the domain's name.
     */
    public String redefineKeepingSecrets(String xml) throws StepFailure {
        String name = domainName(xml);
        String toDefine = xml;
        if (name != null && exists(name)) {
            String secure = read("virDomainGetXMLDesc[INACTIVE|SECURE]", name,
                    d -> d.getXMLDesc(XmlView.INACTIVE.flag | XML_SECURE));
            try {
                toDefine = DomainSecrets.reinsert(xml, secure, "the definition of " + name);
            } catch (dev.snapbook.steps.xml.SafeXml.Refused e) {
                throw new StepFailure(e.getMessage(), "inspect it with: virsh -c " + uri + " dumpxml --inactive "
                        + name, e);
            }
            if (!toDefine.equals(xml)) {
                trace.accept("the definition of " + name + " keeps its current display passwords");
            }
        }
        return defineXml(toDefine);
    }

    private static String domainName(String xml) throws StepFailure {
        try {
            org.w3c.dom.Element name = dev.snapbook.steps.xml.SafeXml.child(
                    dev.snapbook.steps.xml.SafeXml.parse(xml, "a domain definition").getDocumentElement(), "name");
            return name == null ? null : name.getTextContent().strip();
        } catch (dev.snapbook.steps.xml.SafeXml.Refused e) {
            throw new StepFailure(e.getMessage(), "the domain definition to write is not valid XML", e);
        }
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

    // ---- recipes (flush after a merge) ----

    /** Pauses the domain's vCPUs ({@code virDomainSuspend}); QEMU flushes every image when it stops the VM. */
    public void suspend(String name) throws StepFailure {
        call("virDomainSuspend", name, d -> {
            d.suspend();
            return null;
        });
    }

    /** Resumes a paused domain ({@code virDomainResume}). */
    public void resume(String name) throws StepFailure {
        call("virDomainResume", name, d -> {
            d.resume();
            return null;
        });
    }

    // ---- end of recipes ----
}
