package dev.snapbook.engine.report;

import dev.snapbook.engine.run.RunListener.StepProgress;

import java.io.PrintStream;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * A progress bar redrawn in place on a terminal ({@code \r}, then erase to the end of the line): what is
 * going on, a bar, the percent, the rate and the time left, e.g.
 * {@code block commit of top.qcow2 into base.qcow2 [######......]  48%  12.0 MiB/s  ETA 0:07}.
 *
 * <p>The rate is measured over the last few seconds: bytes per second when the work reports bytes, else
 * percent per second. The time left is what remains at that rate; both show {@code --} until two samples
 * exist. When the work reaches 100%, or another line must be printed, the bar's line is ended so what follows
 * starts on a fresh line; the last state stays visible.
 */
public final class ProgressBar {

    private static final long WINDOW_NANOS = 5_000_000_000L;
    private static final long REDRAW_NANOS = 100_000_000L;
    private static final int BAR_WIDTH = 24;

    private record Sample(long at, double amount) {
    }

    private final PrintStream out;
    private final int columns;
    private final LongSupplier clock;
    private final Deque<Sample> samples = new ArrayDeque<>();
    private String what;
    private String finished;
    private long startedAt;
    private long total = -1;
    private long drawnAt;
    private boolean drawn;

    public ProgressBar(PrintStream out, int columns) {
        this(out, columns, System::nanoTime);
    }

    /** A bar with its own clock (nanoseconds), for tests. */
    ProgressBar(PrintStream out, int columns, LongSupplier clock) {
        this.out = out;
        this.columns = Math.max(40, columns);
        this.clock = clock;
    }

    /**
     * The terminal's width: {@code $COLUMNS} when exported, else what {@code stty size} reads from
     * {@code /dev/tty} (run directly, no shell), else 80.
     */
    public static int terminalColumns() {
        try {
            String c = System.getenv("COLUMNS");
            if (c != null && !c.isBlank()) {
                return Integer.parseInt(c.strip());
            }
            Process stty = new ProcessBuilder("stty", "size")
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/tty")))
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            String out = new String(stty.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            if (stty.waitFor(2, java.util.concurrent.TimeUnit.SECONDS) && stty.exitValue() == 0) {
                String[] rowsCols = out.strip().split("\\s+");
                if (rowsCols.length == 2) {
                    return Integer.parseInt(rowsCols[1]);
                }
            }
        } catch (java.io.IOException | NumberFormatException e) {
            // no terminal size to read: the default below
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 80;
    }

    /** Draws {@code p}: a new bar when its activity changed, else the same bar redrawn. */
    public synchronized void update(StepProgress p) {
        long now = clock.getAsLong();
        if (p.what().equals(finished)) {
            return; // a repeated 100% of work already shown complete
        }
        if (!p.what().equals(what)) {
            end();
            what = p.what();
            finished = null;
            samples.clear();
            total = -1;
            startedAt = now;
            drawnAt = 0;
        }
        if (p.inBytes()) {
            total = p.total();
        } else if (total > 0) {
            // the same work reported in percent only (its end, say): keep measuring it in bytes
            p = new StepProgress(p.what(), p.percent(), Math.round(total * p.percent() / 100), total);
        }
        double amount = p.inBytes() ? p.done() : p.percent();
        samples.addLast(new Sample(now, amount));
        while (samples.size() > 2 && now - samples.peekFirst().at() > WINDOW_NANOS) {
            samples.removeFirst();
        }
        boolean complete = p.percent() >= 100;
        if (!complete && drawn && now - drawnAt < REDRAW_NANOS) {
            return;
        }
        drawnAt = now;
        out.print("\r" + render(p, now) + "\u001b[K");
        out.flush();
        drawn = true;
        if (complete) {
            end();
            finished = p.what();
            what = null;
        }
    }

    /** Ends the bar's line, if one is drawn, so the next output starts on a fresh line. */
    public synchronized void end() {
        if (drawn) {
            out.println();
            out.flush();
            drawn = false;
        }
    }

    String render(StepProgress p, long now) {
        double percent = Math.max(0, Math.min(100, p.percent()));
        int filled = (int) Math.round(BAR_WIDTH * percent / 100);
        String bar = "[" + "#".repeat(filled) + ".".repeat(BAR_WIDTH - filled) + "]";
        String tail;
        if (percent >= 100) {
            long seconds = (now - startedAt) / 1_000_000_000L;
            double average = seconds > 0 && p.inBytes() ? p.total() / (double) seconds : -1;
            tail = String.format(Locale.ROOT, " 100%%  %s  done in %s",
                    average >= 0 ? bytesRate(average) : "-- MiB/s", clock(seconds));
        } else {
            double rate = rate();
            String rateText = rate < 0 ? (p.inBytes() ? "-- MiB/s" : "--.-%/s")
                    : p.inBytes() ? bytesRate(rate) : String.format(Locale.ROOT, "%.1f%%/s", rate);
            String eta = "--:--";
            if (rate > 0) {
                double left = p.inBytes() ? (p.total() - p.done()) / rate : (100 - percent) / rate;
                eta = clock((long) Math.ceil(left));
            }
            tail = String.format(Locale.ROOT, " %3.0f%%  %s  ETA %s", Math.floor(percent), rateText, eta);
        }
        int room = columns - 1 - bar.length() - tail.length() - 3;
        return "  " + fit(shortPaths(p.what()), Math.max(10, room)) + " " + bar + tail;
    }

    /** Units per second over the window, or -1 before there are two samples apart in time. */
    private double rate() {
        if (samples.size() < 2) {
            return -1;
        }
        Sample first = samples.peekFirst();
        Sample last = samples.peekLast();
        long nanos = last.at() - first.at();
        if (nanos <= 0) {
            return -1;
        }
        return Math.max(0, (last.amount() - first.amount()) * 1e9 / nanos);
    }

    private static String bytesRate(double bytesPerSecond) {
        double mib = bytesPerSecond / (1024 * 1024);
        if (mib >= 1024) {
            return String.format(Locale.ROOT, "%.1f GiB/s", mib / 1024);
        }
        if (mib >= 1) {
            return String.format(Locale.ROOT, "%.1f MiB/s", mib);
        }
        return String.format(Locale.ROOT, "%.0f KiB/s", bytesPerSecond / 1024);
    }

    private static String clock(long seconds) {
        long h = seconds / 3600;
        long m = seconds % 3600 / 60;
        long s = seconds % 60;
        return h > 0 ? String.format(Locale.ROOT, "%d:%02d:%02d", h, m, s)
                : String.format(Locale.ROOT, "%d:%02d", m, s);
    }

    private static final java.util.regex.Pattern PATH = java.util.regex.Pattern.compile("(?<![\\w.])/(?:[^/\\s]+/)+([^/\\s]+)");

    /** Absolute paths shown by their file name only: the bar has one line; the step line names them whole. */
    static String shortPaths(String text) {
        return PATH.matcher(text).replaceAll("$1");
    }

    /** {@code text} shortened in the middle with an ellipsis to at most {@code width} characters. */
    static String fit(String text, int width) {
        if (text.length() <= width) {
            return text;
        }
        int keep = width - 1;
        int head = keep / 3;
        return text.substring(0, head) + "…" + text.substring(text.length() - (keep - head));
    }
}
