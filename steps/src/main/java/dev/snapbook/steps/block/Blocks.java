package dev.snapbook.steps.block;

import dev.snapbook.engine.spi.Param;
import dev.snapbook.engine.spi.ParamType;
import dev.snapbook.engine.spi.Params;
import dev.snapbook.engine.spi.StepContext;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.engine.spi.World;
import dev.snapbook.steps.domain.DiskFacts;
import dev.snapbook.steps.domain.DomainFactSource;
import dev.snapbook.steps.domain.DomainFacts;
import dev.snapbook.steps.image.ImageFactSource;
import dev.snapbook.steps.image.ImageFacts;
import dev.snapbook.steps.libvirt.BlockJobEvents;
import dev.snapbook.steps.libvirt.BlockJobInfo;
import dev.snapbook.steps.libvirt.Libvirt;
import dev.snapbook.steps.libvirt.PowerState;
import dev.snapbook.steps.qemu.QemuImg;
import dev.snapbook.steps.state.Damage;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What the {@code block.*} steps share: their parameters, the disk's backing chain as planning and running
 * see it, and the wait on a block job with progress and a timeout.
 */
final class Blocks {

    static final Param DOMAIN = Param.required("domain", ParamType.NAME, "the libvirt domain's name");
    static final Param DISK = Param.optional("disk", ParamType.NAME, "vda", "the disk's target device");
    static final Param BANDWIDTH = Param.optional("bandwidth", ParamType.INTEGER, null,
            "rate limit of the job in MiB/s (default: unlimited)");
    static final Param TIMEOUT = Param.optional("timeout", ParamType.DURATION, Duration.ofMinutes(10),
            "how long the job may run before it is aborted and the step fails");

    /** The shortest and the longest wait between two looks at a block job. */
    private static final long POLL_MIN_MS = 20;
    private static final long POLL_MAX_MS = 200;
    /** With block-job events, how often a job is looked at anyway (its progress; an event lost). */
    private static final long EVENT_FALLBACK_MS = 500;

    private Blocks() {
    }

    /**
     * A file disk's chain: the active image first, then its backing files down to the base, with formats.
     *
     * @param domain the domain as seen when the chain was read
     */
    record Chain(DomainFacts domain, DiskFacts disk, List<String> files, List<String> formats) {

        String active() {
            return files.get(0);
        }

        /** The position of {@code file} in the chain (paths compared normalised), or -1. */
        int indexOf(String file) {
            Path wanted = Path.of(file).toAbsolutePath().normalize();
            for (int i = 0; i < files.size(); i++) {
                if (Path.of(files.get(i)).toAbsolutePath().normalize().equals(wanted)) {
                    return i;
                }
            }
            return -1;
        }

        /** The chain for humans: {@code top.qcow2 → mid.qcow2 → base.qcow2}. */
        String show() {
            return String.join(" → ", files);
        }

        /** The image facts of {@code files[i]} when its backing chain is {@code below} (files and formats). */
        ImageFacts imageWithBacking(ImageFacts current, List<String> belowFiles, List<String> belowFormats) {
            List<ImageFacts.Layer> layers = new ArrayList<>();
            for (int j = 0; j < belowFiles.size(); j++) {
                layers.add(new ImageFacts.Layer(belowFiles.get(j), belowFormats.get(j)));
            }
            return new ImageFacts(current.path(), current.format(), current.virtualSize(), layers);
        }
    }

    /** The chain of {@code disk} of {@code name} as the plan predicts it; checks the domain is active. */
    static Chain plannedChain(World world, String name, String disk, String operation) throws StepFailure {
        DomainFacts domain = world.get(DomainFacts.key(name));
        if (domain == null) {
            throw new StepFailure("domain '" + name + "' does not exist on this connection"
                    + (world.observed(DomainFacts.key(name)) != null ? " at this point of the plan" : ""),
                    "check the name with: virsh list --all");
        }
        requireActive(domain, operation);
        DiskFacts d = fileDisk(domain, disk);
        Damage.refuseDisk(world, name, d);
        ImageFacts image = world.get(ImageFacts.key(d.source()));
        if (image == null) {
            throw new StepFailure("the active image of " + name + "/" + disk + ", " + d.source() + ", does not exist",
                    "check the domain's disks with: virsh domblklist --details " + name);
        }
        return chain(domain, d, image);
    }

    /** The chain of {@code disk} of {@code name} now, read from libvirt and qemu-img. */
    static Chain currentChain(StepContext context, String name, String disk, String operation) throws StepFailure {
        DomainFacts domain = DomainFactSource.observe(name, Libvirt.session(context));
        if (domain == null) {
            throw new StepFailure("domain '" + name + "' does not exist on this connection",
                    "check the name with: virsh list --all");
        }
        requireActive(domain, operation);
        DiskFacts d = fileDisk(domain, disk);
        Damage.refuseDisk((World) null, name, d);
        ImageFacts image = ImageFactSource.observe(Path.of(d.source()), new QemuImg(context::trace));
        if (image == null) {
            throw new StepFailure("the active image of " + name + "/" + disk + ", " + d.source() + ", does not exist",
                    "check the domain's disks with: virsh domblklist --details " + name);
        }
        return chain(domain, d, image);
    }

    private static Chain chain(DomainFacts domain, DiskFacts disk, ImageFacts image) {
        List<String> files = new ArrayList<>(List.of(disk.source()));
        List<String> formats = new ArrayList<>(List.of(image.format()));
        for (ImageFacts.Layer layer : image.backingChain()) {
            files.add(layer.file());
            formats.add(layer.format());
        }
        return new Chain(domain, disk, List.copyOf(files), List.copyOf(formats));
    }

    /** libvirt's block jobs run in QEMU: the domain must have a QEMU process (running or paused). */
    private static void requireActive(DomainFacts domain, String operation) throws StepFailure {
        PowerState state = PowerState.ofLabel(domain.state());
        if (!state.isActive() || state == PowerState.SHUTDOWN) {
            throw new StepFailure("domain " + domain.name() + " is " + domain.state() + ": libvirt's " + operation
                    + " runs as a QEMU block job and needs a running domain",
                    "start it first (domain.start), or, while it stays shut off, merge offline with qemu-img "
                            + "(qemu-img commit / qemu-img rebase)");
        }
    }

    private static DiskFacts fileDisk(DomainFacts domain, String target) throws StepFailure {
        for (DiskFacts d : domain.disks()) {
            if (d.target().equals(target)) {
                if (!"file".equals(d.type()) || d.source() == null) {
                    throw new StepFailure("disk " + target + " of " + domain.name() + " is a " + d.type()
                            + " disk" + (d.source() == null ? " without media" : "")
                            + "; snapbook merges only file-backed disks", null);
                }
                return d;
            }
        }
        throw new StepFailure("domain " + domain.name() + " has no disk " + target + " (it has: "
                + String.join(", ", domain.disks().stream().map(DiskFacts::target).toList()) + ")",
                "name the disk by its target device, as virsh domblklist " + domain.name() + " shows it");
    }

    /**
     * Refuses, in the plan, to start a job on a disk that has one at this point of the plan (observed, or left
     * by an earlier step): libvirt runs one block job per disk and would refuse the call ("block job already
     * active"), after the plan had promised the merge.
     */
    static void requireNoJob(World world, String name, String disk, String operation) throws StepFailure {
        refuseJob(world.get(BlockJobFacts.key(name, disk)), operation);
    }

    /** Refuses to start a job on a disk that has one now, just before the job starts (as the plan did). */
    static void requireNoJob(Libvirt libvirt, String name, String disk, String operation) throws StepFailure {
        refuseJob(BlockJobFacts.of(name, disk, libvirt.blockJob(name, disk)), operation);
    }

    /** The one refusal of a job on a disk that has one ({@code job}; null: none), for plan and apply alike. */
    private static void refuseJob(BlockJobFacts job, String operation) throws StepFailure {
        if (job == null) {
            return;
        }
        String where = job.domain() + " " + job.disk();
        boolean waitsForPivot = job.ready() && ("active_commit".equals(job.type()) || "copy".equals(job.type()));
        throw new StepFailure("disk " + job.disk() + " of " + job.domain() + " already has "
                + ("aeiou".indexOf(job.type().charAt(0)) >= 0 ? "an " : "a ") + job.type() + " block job" + (job.ready() ? " (ready to pivot)" : " (still running)") + ": libvirt runs one"
                + " block job per disk, so the " + operation + " cannot start",
                (waitsForPivot
                        ? "a ready job ends only when it is pivoted (virsh blockjob " + where + " --pivot, the disk"
                        + " then runs on its destination) or aborted (block.job action: abort, or virsh blockjob "
                        + where + " --abort, the disk keeps its image)"
                        : "wait for that job to end, or end it first: block.job action: abort (virsh blockjob "
                        + where + " --abort)") + "; then plan again");
    }

    /**
     * Watches the job on {@code disk}, reporting its progress, until it has ended or, when {@code untilReady},
     * until libvirt shows it ready to pivot; returns the last job seen (null when ended). The job is looked at
     * again as soon as libvirt sends a block-job event for the disk (ready, completed, failed, cancelled:
     * {@link BlockJobEvents}), and otherwise every {@value #EVENT_FALLBACK_MS} ms, for the progress and in case
     * an event is lost. Where libvirt gives no events, the wait between two looks is a twentieth of the time
     * the job has run so far, from 20 to 200 ms ({@link #pollInterval}).
     *
     * @throws StepFailure when the timeout or the step's deadline passes first, or a job that should
     *                     become ready ends instead
     */
    static BlockJobInfo await(Libvirt libvirt, StepContext context, String name, String disk, String what,
                              boolean untilReady, Duration timeout, List<String> written) throws StepFailure {
        Instant start = Instant.now();
        Instant end = start.plus(timeout);
        Instant until = context.deadline() != null && context.deadline().isBefore(end) ? context.deadline() : end;
        try (BlockJobEvents events = libvirt.blockJobEvents(name, disk)) {
            return awaitWith(events, libvirt, context, name, disk, what, untilReady, timeout, written, start, until);
        }
    }

    private static BlockJobInfo awaitWith(BlockJobEvents events, Libvirt libvirt, StepContext context, String name,
                                          String disk, String what, boolean untilReady, Duration timeout,
                                          List<String> written, Instant start, Instant until) throws StepFailure {
        while (true) {
            BlockJobInfo job = libvirt.blockJob(name, disk);
            if (job == null) {
                if (untilReady) {
                    String why = writeFailure(written);
                    throw new StepFailure("the " + what + " job on " + name + "/" + disk
                            + " ended before it was ready to pivot" + (why == null ? "" : ": " + why),
                            (why == null ? "see /var/log/libvirt/qemu/" + name + ".log and libvirtd's log for the"
                                    + " reason; " : "make room there, then run the merge again; ")
                                    + "the disk still uses its former image");
                }
                context.progress(what, 100);
                return null;
            }
            if (job.end() > 0) {
                context.progress(what, job.cur(), job.end());
            } else {
                context.progress(what, job.percent());
            }
            if (context.cancelled()) {
                throw new StepFailure("stopped by the user while the " + what + " job on " + name + "/" + disk
                        + " was at " + Math.round(job.percent()) + "%", "the job is cancelled; the disk keeps its image");
            }
            if (untilReady && job.ready()) {
                return job;
            }
            Instant now = Instant.now();
            if (!now.isBefore(until)) {
                throw new StepFailure("the " + what + " job on " + name + "/" + disk + " did not "
                        + (untilReady ? "become ready" : "finish") + " within " + timeout.toSeconds() + "s ("
                        + Math.round(job.percent()) + "% done)", "raise timeout, or remove the bandwidth limit");
            }
            try {
                pause(events, Duration.between(start, now), Duration.between(now, until).toMillis() + 1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StepFailure("interrupted while waiting for the " + what + " job on " + name, null, e);
            }
        }
    }

    /**
     * Waits until the next look at a job that has run for {@code elapsed}, at most {@code limitMillis}. Without
     * events that is {@link #pollInterval}. With events it is the next block-job event, or
     * {@value #EVENT_FALLBACK_MS} ms; after an event the next look comes at once, and should libvirt's answer not
     * show the change yet, the looks after it come every {@value #POLL_MIN_MS} ms for a second.
     */
    private static void pause(BlockJobEvents events, Duration elapsed, long limitMillis) throws InterruptedException {
        if (events == null) {
            Thread.sleep(Math.min(pollInterval(elapsed), limitMillis));
            return;
        }
        long millis = events.sinceLastMillis() < 1000 ? POLL_MIN_MS : EVENT_FALLBACK_MS;
        events.await(Math.min(millis, limitMillis));
    }

    /**
     * Cancels the job on {@code disk} without pivoting, if one is still there, after {@code cause}; its own
     * failure is attached to {@code cause} rather than hiding it.
     */
    static void abortAfter(Exception cause, Libvirt libvirt, String name, String disk) {
        try {
            if (libvirt.blockJob(name, disk) != null) {
                libvirt.blockJobAbort(name, disk, false);
            }
        } catch (StepFailure | RuntimeException e) {
            cause.addSuppressed(e);
        }
    }

    /**
     * Has QEMU write the merged data and its image metadata to the files now: pauses a running domain for a
     * moment and resumes it ({@code virDomainSuspend} makes QEMU stop the VM, which flushes every image). Without
     * it a finished job's new L2 tables may stay in QEMU's cache for a while, so {@code qemu-img} (verify, check,
     * a recipe's next step) and a host crash would see the image without the merged clusters, while its header
     * already names the new backing file — fatal once the old layers are deleted. A domain that was not running
     * (paused) is left as it is: it was flushed when it was paused.
     */
    static void flush(Libvirt libvirt, StepContext context, String name) throws StepFailure {
        if (libvirt.state(name) != PowerState.RUNNING) {
            return;
        }
        context.trace("flush " + name + "'s images: virDomainSuspend + virDomainResume");
        libvirt.suspend(name);
        libvirt.resume(name);
    }

    /**
     * How a merge whose run was killed ends ({@link dev.snapbook.engine.spi.Step#settle}): a job of one of
     * {@code kinds} still on the disk (QEMU goes on without snapbook) is cancelled without a pivot when rolling
     * back — the disk keeps its image — or, when resuming, awaited (and pivoted when {@code pivot}) as apply
     * would have done. Returns whether the merge is now complete: the disk's chain is {@code after} (it was
     * {@code before}). A job of another kind is not snapbook's: refused, left alone.
     */
    static boolean settle(Libvirt libvirt, StepContext context, String name, String disk, List<String> before,
                          List<String> after, java.util.Set<BlockJobInfo.Type> kinds, boolean active, boolean pivot,
                          boolean resuming, Duration timeout, String operation) throws StepFailure {
        BlockJobInfo job = libvirt.blockJob(name, disk);
        String what = operation + " left running by the interrupted run";
        if (job != null) {
            if (!kinds.contains(job.type())) {
                throw new StepFailure("disk " + disk + " of " + name + " has a " + job.type().label()
                        + " block job, not the " + operation + " the interrupted run started",
                        "end it yourself (virsh blockjob " + name + " " + disk + " --info / --abort), then recover");
            }
            if (!resuming) {
                context.trace("cancel the " + what + " on " + name + "/" + disk + " (no pivot)");
                libvirt.blockJobAbort(name, disk, false);
                awaitGone(libvirt, name, disk, what);
                flush(libvirt, context, name);
                return false;
            }
            try {
                await(libvirt, context, name, disk, what, active, timeout, after);
                if (active) {
                    libvirt.blockJobAbort(name, disk, pivot);
                }
            } catch (StepFailure | RuntimeException e) {
                abortAfter(e, libvirt, name, disk);
                throw e;
            }
        }
        Chain now = currentChain(context, name, disk, operation);
        if (now.files().equals(after) && !after.equals(before)) {
            flush(libvirt, context, name);
            return true;
        }
        return false;
    }

    /** Milliseconds to wait before looking at a job again that has run for {@code elapsed}. */
    static long pollInterval(Duration elapsed) {
        return Math.max(POLL_MIN_MS, Math.min(POLL_MAX_MS, elapsed.toMillis() / 20));
    }

    /** Waits (up to a minute) until a cancelled job has left the disk. */
    private static void awaitGone(Libvirt libvirt, String name, String disk, String what) throws StepFailure {
        Instant start = Instant.now();
        Instant end = start.plusSeconds(60);
        try (BlockJobEvents events = libvirt.blockJobEvents(name, disk)) {
            while (libvirt.blockJob(name, disk) != null) {
                if (Instant.now().isAfter(end)) {
                    throw new StepFailure("the " + what + " on " + name + "/" + disk + " was cancelled but is still"
                            + " there after 60s", "check it with: virsh blockjob " + name + " " + disk + " --info");
                }
                try {
                    pause(events, Duration.between(start, Instant.now()), Long.MAX_VALUE);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new StepFailure("interrupted while cancelling the " + what + " on " + name, null, e);
                }
            }
        }
    }


    /**
     * Refuses a merge into {@code target} when its file system has less free space than the data the merge may
     * write: the files merged into it, at their size on disk (their allocated data and metadata, an upper bound
     * of what a commit copies). Files that do not exist yet (a prediction of the plan) count nothing.
     */
    static void requireSpace(String target, List<String> sources, String operation) throws StepFailure {
        long needed = 0;
        for (String file : sources) {
            try {
                needed += java.nio.file.Files.readAttributes(Path.of(file),
                        java.nio.file.attribute.BasicFileAttributes.class).size();
            } catch (java.io.IOException e) {
                // not there yet: created by an earlier step of the plan, it holds nothing to merge today
            }
        }
        long free;
        Path where = Path.of(target).toAbsolutePath();
        while (where.getParent() != null && !java.nio.file.Files.exists(where)) {
            where = where.getParent(); // a file the plan creates: the file system it will be created on
        }
        try {
            free = java.nio.file.Files.getFileStore(where).getUsableSpace();
        } catch (java.io.IOException e) {
            throw new StepFailure("cannot read the free space of the file system holding " + target + ": "
                    + e.getMessage(), "check that it exists and is readable", e);
        }
        if (free < needed) {
            throw new StepFailure(operation + " into " + target + " may write up to " + mib(needed) + " MiB (the size"
                    + " of " + String.join(", ", sources) + "), but its file system has only " + mib(free)
                    + " MiB free; a merge that runs out of space stops part-way and leaves " + target + " changed",
                    "free at least " + mib(needed - free) + " MiB there first");
        }
    }

    /**
     * Why a merge that wrote {@code written} most likely failed, said with the file: QEMU reports a block job's
     * write error (ENOSPC, EACCES) to libvirt, which passes on only that the job ended. So the files are looked at:
     * one that is gone, or whose file system has less than a cluster (64 KiB) free, explains it. Null when none
     * does.
     */
    static String writeFailure(List<String> written) {
        for (String file : written) {
            Path path = Path.of(file);
            if (!java.nio.file.Files.exists(path)) {
                return file + " does not exist any more (No such file or directory)";
            }
            try {
                java.nio.file.FileStore store = java.nio.file.Files.getFileStore(path);
                long free = store.getUsableSpace();
                if (free < 64 * 1024) {
                    return "the file system holding " + file + " (" + store + ") is full, " + free + " bytes free"
                            + " (No space left on device)";
                }
            } catch (java.io.IOException e) {
                return file + " cannot be read: " + e.getMessage();
            }
        }
        return null;
    }

    private static long mib(long bytes) {
        return (bytes + (1 << 20) - 1) >> 20;
    }

    /**
     * What a merge step journals before it acts: the chain it resolved against, and the base it resolved (the model's choice
     * when the playbook gave none), so that recovery settles the very merge that was started.
     */
    static Map<String, Object> captureMerge(Chain chain, String base) {
        Map<String, Object> captured = new java.util.LinkedHashMap<>();
        captured.put("chain_before", chain.files());
        captured.put("base", base);
        return captured;
    }

    /** The parameters with the journalled base (see {@link #captureMerge}) in place of a missing one. */
    static Params withJournalledBase(Params params, Map<String, Object> captured) {
        if (params.has("base") || !(captured.get("base") instanceof String base)) {
            return params;
        }
        Map<String, Object> values = new java.util.LinkedHashMap<>(params.asMap());
        values.put("base", base);
        return new Params(params.stepType(), values);
    }

    /** The chain a merge step journalled before it acted ({@code capture}), or null. */
    static List<String> chainBefore(Map<String, Object> captured) {
        if (captured.get("chain_before") instanceof List<?> l && !l.isEmpty()) {
            return l.stream().map(String::valueOf).toList();
        }
        return null;
    }

    /** A chain known only by its files (from the journal); formats unknown. */
    static Chain journalled(List<String> files) {
        return new Chain(null, null, files, java.util.Collections.nCopies(files.size(), null));
    }

    static long bandwidth(dev.snapbook.engine.spi.Params params) {
        return params.has("bandwidth") ? params.integer("bandwidth") : 0;
    }

    static String bandwidthText(long mib) {
        return mib == 0 ? "unlimited" : mib + " MiB/s";
    }

    /**
     * The shared verification of a merge: no job remains on the disk, and libvirt's active image and
     * qemu-img's backing chain are the {@code active_file} and {@code chain} the step intended.
     */
    static dev.snapbook.engine.spi.Verification verifyChain(dev.snapbook.engine.spi.Params params,
            dev.snapbook.engine.spi.Outcome outcome, StepContext context, String operation) throws StepFailure {
        String name = params.string("domain");
        String disk = params.string("disk");
        List<String> problems = new ArrayList<>();
        BlockJobInfo job = Libvirt.session(context).blockJob(name, disk);
        if (job != null) {
            problems.add("a " + job.type().label() + " block job is still on " + name + "/" + disk);
        }
        Chain now = currentChain(context, name, disk, operation);
        Object active = outcome.data().get("active_file");
        if (!now.active().equals(active)) {
            problems.add(name + "/" + disk + " runs on " + now.active() + ", not on " + active);
        }
        Object chain = outcome.data().get("chain");
        if (!now.files().equals(chain)) {
            problems.add("the chain of " + name + "/" + disk + " is " + now.show() + ", not "
                    + String.join(" → ", ((List<?>) chain).stream().map(String::valueOf).toList()));
        }
        if (!problems.isEmpty()) {
            String why = writeFailure(now.files());
            if (why != null) {
                problems.add("the merge most likely failed because " + why);
            }
        }
        return new dev.snapbook.engine.spi.Verification(problems.isEmpty(), problems);
    }
}
