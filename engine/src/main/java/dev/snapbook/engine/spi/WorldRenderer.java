package dev.snapbook.engine.spi;

import java.util.List;

/**
 * Draws, for a plan, the part of the world the plan changes: how it is today and how it will be after the
 * run (the steps module draws each changed domain's snapshot tree and backing chains). Found with
 * {@link java.util.ServiceLoader} ({@code META-INF/services/dev.snapbook.engine.spi.WorldRenderer}); called
 * once after a feasible plan, with the plan's world: {@link World#observed} is today, {@link World#get} the
 * prediction. The text plan prints the drawings under "today -> after the run:", and {@code --output json}
 * gives them as its {@code picture}. Read-only; a failure only leaves the picture out.
 */
public interface WorldRenderer {

    /**
     * One thing drawn twice: {@code today} and {@code after} the run, as text (lines ending in a newline).
     *
     * @param subject what is drawn, e.g. {@code domain web01}
     */
    record Drawing(String subject, String today, String after) {
    }

    /** The drawings of what this renderer knows of and the plan changes; empty when nothing of it changes. */
    List<Drawing> render(World world) throws StepFailure;
}
