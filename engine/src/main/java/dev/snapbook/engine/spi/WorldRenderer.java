package dev.snapbook.engine.spi;

import java.util.List;

/**
 * Draws, for a plan, the part of the world the plan changes: how it is today and how it will be after the
 * run, as text lines for the terminal (the steps module draws snapshot trees and backing chains). Found with
 * {@link java.util.ServiceLoader} ({@code META-INF/services/dev.snapbook.engine.spi.WorldRenderer}); called
 * once after a feasible plan is printed, with the plan's world: {@link World#observed} is today,
 * {@link World#get} the prediction. Read-only; a failure only leaves the picture out.
 */
public interface WorldRenderer {

    /** The lines to print, without indentation; empty when nothing this renderer knows of changes. */
    List<String> render(World world) throws StepFailure;
}
