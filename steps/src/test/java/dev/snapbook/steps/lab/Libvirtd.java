package dev.snapbook.steps.lab;

import dev.snapbook.steps.exec.Command;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The host's libvirtd, for tests of libvirt going away: {@link #restart()} stops it as a restart does (SIGTERM)
 * and starts it again ({@code libvirtd -d}); it is never left stopped, even when a step of the restart fails.
 * Running domains keep running meanwhile (their QEMU processes do not depend on libvirtd).
 */
public final class Libvirtd {

    private Libvirtd() {
    }

    /** The process id of the running libvirtd. */
    public static long pid() throws IOException {
        Path file = Path.of("/run/libvirtd.pid");
        if (Files.exists(file)) {
            return Long.parseLong(Files.readString(file).strip());
        }
        Command.Result r = Command.of("pgrep", "-x", "libvirtd").run(Duration.ofSeconds(10), l -> { });
        if (!r.succeeded()) {
            throw new IOException("libvirtd is not running");
        }
        return Long.parseLong(r.stdout().strip().lines().findFirst().orElseThrow());
    }

    /** Stops libvirtd and starts it again; returns once it answers. */
    public static void restart() throws Exception {
        long pid = pid();
        try {
            if (Command.of("kill", "-TERM", Long.toString(pid)).run(Duration.ofSeconds(10), l -> { }).exitCode() != 0) {
                throw new IOException("cannot stop libvirtd (pid " + pid + ")");
            }
            if (!exits(pid, 20_000)) {
                // libvirt 11.3's libvirtd has been seen to take over a minute to exit on SIGTERM on a new machine;
                // a killed libvirtd is libvirt going away just the same, and its domains keep running
                Command.of("kill", "-KILL", Long.toString(pid)).run(Duration.ofSeconds(10), l -> { });
                exits(pid, 10_000);
            }
        } finally {
            ensureRunning();
        }
    }

    /** Whether process {@code pid} is gone within {@code millis}. */
    private static boolean exits(long pid, long millis) throws InterruptedException {
        long end = System.currentTimeMillis() + millis;
        while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
            if (System.currentTimeMillis() > end) {
                return false;
            }
            Thread.sleep(100);
        }
        return true;
    }

    /**
     * Starts libvirtd when it does not answer, and waits (up to 90 s) until it does. While it does not answer,
     * a new one is started whenever none runs: an old one may still be shutting down when this is first asked
     * (libvirt 11.3 takes longer than 9.0 to exit), and it is only started once that one is gone. One that has
     * not answered for 30 s is killed, and another started.
     */
    public static void ensureRunning() throws Exception {
        long start = System.currentTimeMillis();
        boolean killed = false;
        while (!answers()) {
            Command.Result running = Command.of("pgrep", "-x", "libvirtd").run(Duration.ofSeconds(10), l -> { });
            if (running.exitCode() != 0) {
                Command.of("libvirtd", "-d").run(Duration.ofSeconds(30), l -> { });
            } else if (!killed && System.currentTimeMillis() - start > 30_000) {
                for (String pid : running.stdout().strip().split("\\s+")) {
                    Command.of("kill", "-KILL", pid).run(Duration.ofSeconds(10), l -> { });
                }
                killed = true;
            }
            if (System.currentTimeMillis() - start > 90_000) {
                throw new IOException("libvirtd did not come back within 90s: start it with libvirtd -d");
            }
            Thread.sleep(250);
        }
    }

    private static boolean answers() throws Exception {
        return Command.of("virsh", "-c", LabVm.URI, "version").run(Duration.ofSeconds(10), l -> { }).succeeded();
    }
}
