package dev.snapbook.steps.libvirt;

import com.sun.jna.Callback;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.jna.ConnectionPointer;
import org.libvirt.jna.DomainPointer;
import org.libvirt.jna.virError;

/**
 * The calls of {@code libvirt.so.0} that libvirt-java 0.5.2 lacks, bound with JNA: the one place snapbook calls
 * libvirt's C API directly. They are the block-job calls, each one C call on the {@code virDomainPtr} of a
 * libvirt-java {@link Domain}, the registration of block-job events (libvirt-java has listeners for lifecycle
 * and I/O-error events, not for {@code VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2}), and the listings of a connection's domains with a buffer that says when it was too
 * small (libvirt-java sizes its buffer by a count taken just before, and a domain defined in between pushes another
 * out of the answer unnoticed). A failed call (-1) is
 * turned into a {@link NativeError} carrying libvirt's thread-local last error ({@code virGetLastError}), which
 * {@link Libvirt} translates in its one failure place.
 *
 * <p>libvirt-java keeps the {@code virDomainPtr} in the package-private field {@code Domain.vdp}, and the
 * {@code virConnectPtr} in {@code Connect.vcp}, and offers no accessor, so they are read by reflection. A pointer
 * is only used while the object that owns it is alive (inside {@link Libvirt}'s lookup/free bracket, or while the
 * connection is open).
 */
final class LibvirtNative {

    /** {@code virDomainBlockCommitFlags}. */
    static final int COMMIT_ACTIVE = 4;
    /** {@code VIR_DOMAIN_BLOCK_JOB_ABORT_PIVOT}: switch the disk to the job's destination (synchronous). */
    static final int ABORT_PIVOT = 2;

    /** {@code VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2}: a disk's block job (the disk named by its target) changed state. */
    static final int EVENT_ID_BLOCK_JOB_2 = 16;

    /**
     * {@code virConnectDomainEventBlockJobCallback(conn, dom, disk, type, status, opaque)}; {@code status} is a
     * {@code virConnectDomainEventBlockJobStatus} (0 completed, 1 failed, 2 cancelled, 3 ready). Called on the
     * thread that runs libvirt's event loop.
     */
    interface BlockJobCallback extends Callback {
        void invoke(Pointer conn, Pointer dom, String disk, int type, int status, Pointer opaque);
    }

    /** A libvirt call returned -1; {@link #error} is libvirt's last error for this thread, or null. */
    static final class NativeError extends Exception {
        final org.libvirt.Error error;

        NativeError(String function, org.libvirt.Error error) {
            super(function + " failed: " + (error == null ? "no libvirt error recorded" : error.getMessage()));
            this.error = error;
        }
    }

    /** {@code virDomainBlockJobInfo}: the job type, bandwidth and the progress cursor. */
    @Structure.FieldOrder({"type", "bandwidth", "cur", "end"})
    public static final class JobInfo extends Structure {
        public int type;
        public NativeLong bandwidth;
        public long cur;
        public long end;
    }

    /** The C functions, declared as in libvirt-domain.h; {@code unsigned long} is a {@link NativeLong}. */
    private interface C extends Library {
        int virDomainBlockCommit(Pointer dom, String disk, String base, String top, NativeLong bandwidth,
                                 int flags);

        int virDomainBlockPull(Pointer dom, String disk, NativeLong bandwidth, int flags);

        int virDomainBlockRebase(Pointer dom, String disk, String base, NativeLong bandwidth, int flags);

        int virDomainGetBlockJobInfo(Pointer dom, String disk, JobInfo info, int flags);

        int virDomainBlockJobAbort(Pointer dom, String disk, int flags);

        int virConnectDomainEventRegisterAny(Pointer conn, Pointer dom, int eventID, BlockJobCallback cb,
                                             Pointer opaque, Pointer freecb);

        int virConnectDomainEventDeregisterAny(Pointer conn, int callbackID);

        int virConnectNumOfDefinedDomains(Pointer conn);

        int virConnectListDefinedDomains(Pointer conn, Pointer[] names, int maxnames);

        int virConnectNumOfDomains(Pointer conn);

        int virConnectListDomains(Pointer conn, int[] ids, int maxids);

        virError virGetLastError();
    }

    private static final C LIB = Native.load("virt", C.class);
    private static final Field VDP;
    private static final Field VCP;

    static {
        try {
            VDP = Domain.class.getDeclaredField("vdp");
            VDP.setAccessible(true);
            VCP = Connect.class.getDeclaredField("vcp");
            VCP.setAccessible(true);
        } catch (NoSuchFieldException e) {
            throw new ExceptionInInitializerError("libvirt-java's Domain or Connect lacks the pointer field this"
                    + " code reads; it expects libvirt-java 0.5.2: " + e);
        }
    }

    /** Room a listing's buffer has beyond the count taken before it; when it fills up, the listing is made again. */
    private static final int SPARE = 16;

    /**
     * {@code virConnectListDefinedDomains}: the names of the domains that are not running, all of them: a buffer
     * the answer fills is too small (a domain was defined meanwhile), and the listing is made again with a larger
     * one. (Not {@code virConnectListAllDomains}: libvirtd 9.0 was seen to crash in an RPC thread, twice, while
     * that call ran as other clients defined and undefined domains.)
     */
    static List<String> definedDomainNames(Connect connect) throws NativeError {
        Pointer conn = pointer(connect);
        for (int room = Math.max(0, LIB.virConnectNumOfDefinedDomains(conn)) + SPARE; ; room *= 2) {
            Pointer[] names = new Pointer[room];
            int n = LIB.virConnectListDefinedDomains(conn, names, room);
            check("virConnectListDefinedDomains", n);
            List<String> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                out.add(names[i].getString(0, "UTF-8"));
                Native.free(Pointer.nativeValue(names[i])); // each name is libvirt's malloc, freed with free()
            }
            if (n < room) {
                return out;
            }
        }
    }

    /** {@code virConnectListDomains}: the ids of the running domains, all of them, as {@link #definedDomainNames}. */
    static int[] runningDomainIds(Connect connect) throws NativeError {
        Pointer conn = pointer(connect);
        for (int room = Math.max(0, LIB.virConnectNumOfDomains(conn)) + SPARE; ; room *= 2) {
            int[] ids = new int[room];
            int n = LIB.virConnectListDomains(conn, ids, room);
            check("virConnectListDomains", n);
            if (n < room) {
                return java.util.Arrays.copyOf(ids, n);
            }
        }
    }

    private static Pointer pointer(Connect connect) {
        try {
            return ((ConnectionPointer) VCP.get(connect)).getPointer();
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot read libvirt-java's Connect.vcp", e);
        }
    }

    /** {@code virDomainBlockCommit(dom, disk, base, top, bandwidth MiB/s, flags)}: starts a commit job. */
    static void blockCommit(Domain d, String disk, String base, String top, long bandwidthMiB, int flags)
            throws NativeError {
        check("virDomainBlockCommit",
                LIB.virDomainBlockCommit(pointer(d), disk, base, top, new NativeLong(bandwidthMiB), flags));
    }

    /** {@code virDomainBlockPull(dom, disk, bandwidth MiB/s, 0)}: starts pulling the whole chain into the top. */
    static void blockPull(Domain d, String disk, long bandwidthMiB) throws NativeError {
        check("virDomainBlockPull", LIB.virDomainBlockPull(pointer(d), disk, new NativeLong(bandwidthMiB), 0));
    }

    /** {@code virDomainBlockRebase(dom, disk, base, bandwidth MiB/s, 0)}: pulls the layers above base. */
    static void blockRebase(Domain d, String disk, String base, long bandwidthMiB) throws NativeError {
        check("virDomainBlockRebase",
                LIB.virDomainBlockRebase(pointer(d), disk, base, new NativeLong(bandwidthMiB), 0));
    }

    /** {@code virDomainGetBlockJobInfo}: the disk's job, or null when it has none. */
    static JobInfo blockJobInfo(Domain d, String disk) throws NativeError {
        JobInfo info = new JobInfo();
        int r = LIB.virDomainGetBlockJobInfo(pointer(d), disk, info, 0);
        check("virDomainGetBlockJobInfo", r);
        return r == 0 ? null : info;
    }

    /** {@code virDomainBlockJobAbort(dom, disk, flags)}; with {@link #ABORT_PIVOT} it pivots and waits. */
    static void blockJobAbort(Domain d, String disk, int flags) throws NativeError {
        check("virDomainBlockJobAbort", LIB.virDomainBlockJobAbort(pointer(d), disk, flags));
    }

    /**
     * {@code virConnectDomainEventRegisterAny(conn, dom, BLOCK_JOB_2, callback)}: {@code callback} is called for
     * each block-job event of domain {@code d}, from libvirt's event loop, until {@link #deregister}; returns
     * the registration's id. The caller keeps {@code callback} reachable until then (JNA frees the native stub
     * of a callback object that is collected).
     */
    static int registerBlockJobEvents(Connect connect, Domain d, BlockJobCallback callback) throws NativeError {
        int id = LIB.virConnectDomainEventRegisterAny(pointer(connect), pointer(d), EVENT_ID_BLOCK_JOB_2, callback,
                null, null);
        check("virConnectDomainEventRegisterAny", id);
        return id;
    }

    /** {@code virConnectDomainEventDeregisterAny(conn, id)}. */
    static void deregister(Connect connect, int id) throws NativeError {
        check("virConnectDomainEventDeregisterAny", LIB.virConnectDomainEventDeregisterAny(pointer(connect), id));
    }

    private static void check(String function, int result) throws NativeError {
        if (result < 0) {
            // Read at once: libvirt resets the thread's last error at the start of its next public call.
            virError e = LIB.virGetLastError();
            throw new NativeError(function, e == null ? null : new org.libvirt.Error(e));
        }
    }

    private static Pointer pointer(Domain d) {
        try {
            DomainPointer p = (DomainPointer) VDP.get(d);
            return p.getPointer();
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot read libvirt-java's Domain.vdp", e);
        }
    }
}
