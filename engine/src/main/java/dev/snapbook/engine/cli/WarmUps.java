package dev.snapbook.engine.cli;

import dev.snapbook.engine.spi.WarmUp;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/**
 * Runs each {@link WarmUp} on a background thread of its own while picocli parses the command line (about
 * 0.15 s of a short run's start-up), so that they overlap on a multi-core host. The command waits for every
 * warm-up before it starts: no class is ever being initialised by the command and a warm-up at once.
 */
final class WarmUps {

    private final List<Thread> threads;

    private WarmUps(List<Thread> threads) {
        this.threads = threads;
    }

    /**
     * Starts the warm-ups for a command that will plan or run playbooks. Even finding them (a
     * {@link ServiceLoader} scan of every jar) happens off the calling thread.
     */
    static WarmUps start() {
        Thread finder = new Thread(() -> start(ServiceLoader.load(WarmUp.class, WarmUps.class.getClassLoader()))
                .await(), "snapbook-warm-up");
        finder.setDaemon(true);
        finder.start();
        return new WarmUps(List.of(finder));
    }

    /** Starts each of {@code warmUps} on a thread of its own. */
    static WarmUps start(Iterable<? extends WarmUp> warmUps) {
        List<Thread> threads = new ArrayList<>();
        for (WarmUp w : warmUps) {
            Thread t = new Thread(() -> run(w), "snapbook-warm-up-" + w.getClass().getSimpleName());
            t.setDaemon(true);
            t.start();
            threads.add(t);
        }
        return new WarmUps(threads);
    }

    /** Nothing to wait for (commands that need no warm-up). */
    static WarmUps none() {
        return new WarmUps(List.of());
    }

    /** Waits until every warm-up has finished. */
    void await() {
        boolean interrupted = false;
        for (Thread t : threads) {
            while (true) {
                try {
                    t.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private static void run(WarmUp w) {
        try {
            w.warmUp();
        } catch (Exception | LinkageError e) {
            // The real use fails the same way and says so properly.
        }
    }
}
