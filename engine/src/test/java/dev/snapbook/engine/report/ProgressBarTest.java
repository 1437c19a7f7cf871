package dev.snapbook.engine.report;

import dev.snapbook.engine.run.RunListener.StepProgress;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProgressBarTest {

    private static final long MIB = 1024 * 1024;
    private static final long SECOND = 1_000_000_000L;

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    private final AtomicLong now = new AtomicLong(0);
    private final ProgressBar bar = new ProgressBar(out, 100, now::get);

    private String printed() {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void redrawsOneLineInPlaceWithPercentRateAndTimeLeft() {
        bar.update(new StepProgress("block commit of top into base", 0, 0, 100 * MIB));
        now.addAndGet(2 * SECOND);
        bar.update(new StepProgress("block commit of top into base", 20, 20 * MIB, 100 * MIB));
        String[] frames = printed().split("\r", -1);
        String last = frames[frames.length - 1];
        assertEquals(3, frames.length, "two frames, each starting with \\r: " + printed());
        assertFalse(printed().contains("\n"), "no newline while the work goes on");
        assertTrue(last.contains("[#####...................]"), last);
        assertTrue(last.contains(" 20%"), last);
        assertTrue(last.contains("10.0 MiB/s"), last);
        assertTrue(last.contains("ETA 0:08"), last);
        assertTrue(last.endsWith("\u001b[K"), "erases what a longer frame left: " + last);
    }

    @Test
    void endsItsLineAtOneHundredPercentWithTheAverageRateAndIgnoresRepeats() {
        bar.update(new StepProgress("pull", 0, 0, 60 * MIB));
        now.addAndGet(3 * SECOND);
        bar.update(new StepProgress("pull", 50, 30 * MIB, 60 * MIB));
        bar.update(new StepProgress("pull", 100, -1, -1));
        bar.update(new StepProgress("pull", 100, 60 * MIB, 60 * MIB));
        String text = printed();
        assertTrue(text.endsWith("\n"), text);
        assertTrue(text.contains("100%  20.0 MiB/s  done in 0:03"), text);
        assertEquals(1, text.chars().filter(c -> c == '\n').count(), text);
    }

    @Test
    void showsPercentPerSecondWhenTheWorkIsNotInBytes() {
        bar.update(new StepProgress("pausing", 10, -1, -1));
        now.addAndGet(SECOND);
        bar.update(new StepProgress("pausing", 30, -1, -1));
        assertTrue(printed().contains("20.0%/s  ETA 0:04"), printed());
    }

    @Test
    void aNewActivityOrAnotherLineStartsOnAFreshLine() {
        bar.update(new StepProgress("first", 50, -1, -1));
        bar.update(new StepProgress("second", 10, -1, -1));
        assertTrue(printed().contains("first") && printed().indexOf('\n') < printed().lastIndexOf("second"));
        bar.end();
        bar.end();
        assertEquals(2, printed().chars().filter(c -> c == '\n').count());
    }

    @Test
    void showsFilesByTheirNames() {
        assertEquals("block commit of vda.s1 into vda.qcow2",
                ProgressBar.shortPaths("block commit of /var/tmp/x y/vda.s1 into /var/tmp/lab/vda.qcow2".replace("x y", "xy")));
        assertEquals("converting a/b.qcow2 to raw", ProgressBar.shortPaths("converting a/b.qcow2 to raw"));
    }

    @Test
    void shortensLongDescriptionsInTheMiddle() {
        assertEquals("ab…vwxyz", ProgressBar.fit("abcdefghijklmnopqrstuvwxyz", 8));
        assertEquals("short", ProgressBar.fit("short", 8));
    }
}
