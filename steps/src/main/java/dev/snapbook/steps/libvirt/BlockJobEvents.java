package dev.snapbook.steps.libvirt;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.Library;
import org.libvirt.LibvirtException;

/**
 * libvirt's block-job events for one disk of one domain ({@code virConnectDomainEventRegisterAny} with
 * {@code VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2}), so that a wait for a block job wakes when libvirt reports the job
 * ready, completed, failed or cancelled, rather than at the next poll. An event only wakes the waiter: what the
 * job's state is, the waiter still asks libvirt ({@code virDomainGetBlockJobInfo}, the live XML's mirror), so a
 * lost or early event costs time, never a wrong answer.
 *
 * <p>Events need libvirt's default event loop: registered before a connection is opened ({@link #registerLoop},
 * when {@link Libvirt} opens a connection) and run by a thread of its own while someone waits for events. The
 * thread runs only during such a wait: a thread blocked in libvirt's {@code poll()} when the process exits makes
 * the JVM's exit wait 300 ms for it (HotSpot waits that long for threads in native code).
 */
public final class BlockJobEvents implements AutoCloseable {

    private static boolean loopRegistered;
    private static boolean loopTried;
    private static Thread loopThread;
    private static int waiting;

    private final Semaphore arrived = new Semaphore(0);
    // the events' statuses, traced by the waiting thread (the callback runs on the event loop's thread)
    private final Queue<Integer> statuses = new ConcurrentLinkedQueue<>();
    private final String disk;
    private final Consumer<String> trace;
    private volatile long lastNanos;
    private volatile boolean any;
    private final Connect connect;
    private final Domain domain;
    private final int id;
    // held for as long as the registration lasts: JNA frees the native stub of a collected callback object
    private final LibvirtNative.BlockJobCallback callback;

    private BlockJobEvents(Connect connect, Domain domain, String disk, Consumer<String> trace) throws
            LibvirtNative.NativeError {
        this.connect = connect;
        this.domain = domain;
        this.disk = disk;
        this.trace = trace;
        this.callback = (conn, dom, target, type, status, opaque) -> {
            if (disk.equals(target)) {
                statuses.add(status);
                lastNanos = System.nanoTime();
                any = true;
                arrived.release();
            }
        };
        this.id = LibvirtNative.registerBlockJobEvents(connect, domain, callback);
    }

    /**
     * Registers libvirt's default event loop ({@code virEventRegisterDefaultImpl}), once per process; libvirt
     * delivers events only to connections opened after it. When it cannot be registered, waits for block jobs
     * poll, as they did before events.
     */
    static synchronized void registerLoop() {
        if (!loopTried) {
            loopTried = true;
            try {
                Library.initEventLoop();
                loopRegistered = true;
            } catch (LibvirtException | RuntimeException | LinkageError e) {
                loopRegistered = false;
            }
        }
    }

    /** Starts the thread that runs the event loop, unless it runs already for another wait. */
    private static synchronized boolean startLoop() {
        if (!loopRegistered) {
            return false;
        }
        waiting++;
        if (loopThread == null) {
            loopThread = new Thread(BlockJobEvents::runLoop, "libvirt-event-loop");
            loopThread.setDaemon(true);
            loopThread.start();
        }
        return true;
    }

    /**
     * Stops the event loop's thread when the last wait ends ({@code stopEventLoop} fires a timer that wakes its
     * {@code poll()}). Asked again until the thread has gone: a stop that comes before the thread has entered the
     * loop is not seen by it.
     */
    private static synchronized void stopLoop() {
        if (--waiting > 0 || loopThread == null) {
            return;
        }
        Thread thread = loopThread;
        loopThread = null;
        try {
            for (int i = 0; i < 100 && thread.isAlive(); i++) {
                Library.stopEventLoop();
                thread.join(10);
            }
        } catch (LibvirtException | RuntimeException e) {
            // the loop is left to run; the process exits all the same, 300 ms later
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void runLoop() {
        try {
            Library.runEventLoop();
        } catch (LibvirtException | InterruptedException | RuntimeException e) {
            // the loop ended; waits fall back to their periodic looks
        }
    }

    /**
     * Block-job events of {@code disk} (a target name, "vda") of domain {@code name} on {@code connect}, or null
     * when there can be none (no event loop, or libvirt refused the registration: the caller polls instead).
     */
    static BlockJobEvents register(Connect connect, String name, String disk, Consumer<String> trace) {
        Domain domain;
        try {
            domain = connect.domainLookupByName(name);
        } catch (LibvirtException e) {
            return null;
        }
        if (!startLoop()) {
            free(domain);
            return null;
        }
        try {
            trace.accept("virConnectDomainEventRegisterAny[BLOCK_JOB_2](" + name + ")");
            return new BlockJobEvents(connect, domain, disk, trace);
        } catch (LibvirtNative.NativeError | RuntimeException e) {
            stopLoop();
            free(domain);
            return null;
        }
    }

    /**
     * Waits up to {@code millis} for an event of the disk's job, or returns at once when one came since the last
     * call; returns whether one came.
     */
    public boolean await(long millis) throws InterruptedException {
        boolean came = arrived.tryAcquire(Math.max(0, millis), TimeUnit.MILLISECONDS);
        arrived.drainPermits();
        for (Integer status; (status = statuses.poll()) != null; ) {
            trace.accept("block-job event on " + disk + ": " + status(status));
        }
        return came;
    }

    /** Milliseconds since the last event of the disk's job, or {@link Long#MAX_VALUE} before the first. */
    public long sinceLastMillis() {
        return any ? (System.nanoTime() - lastNanos) / 1_000_000 : Long.MAX_VALUE;
    }

    /** Ends the registration ({@code virConnectDomainEventDeregisterAny}). */
    @Override
    public void close() {
        try {
            LibvirtNative.deregister(connect, id);
        } catch (LibvirtNative.NativeError | RuntimeException ignored) {
            // the connection is gone (libvirtd restarted): its registrations went with it
        } finally {
            stopLoop();
            free(domain);
        }
    }

    private static void free(Domain domain) {
        try {
            domain.free();
        } catch (LibvirtException ignored) {
            // freeing a handle we hold cannot fail in a way the caller could act on
        }
    }

    private static String status(int status) {
        return switch (status) {
            case 0 -> "completed";
            case 1 -> "failed";
            case 2 -> "cancelled";
            case 3 -> "ready";
            default -> "status " + status;
        };
    }
}
