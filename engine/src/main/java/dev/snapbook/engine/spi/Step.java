package dev.snapbook.engine.spi;

import java.util.List;
import java.util.Map;

/**
 * A step type: one operation a playbook can call, such as {@code domain.shutdown} or {@code image.info}.
 *
 * <p>The lifecycle, driven by the engine:
 * <ol>
 *   <li>{@link #plan} — read-only. Checks preconditions against the (predicted) {@link World}, says exactly
 *       what it would do, and updates the world it was given to the state expected after it.</li>
 *   <li>{@link #capture} — read-only, just before {@link #apply}. Returns what {@link #undo} needs; the
 *       engine writes it to the journal before the step acts.</li>
 *   <li>{@link #apply} — does it.</li>
 *   <li>{@link #verify} — checks the post-conditions against the real system as it is now, never
 *       against what apply returned alone.</li>
 *   <li>{@link #undo} — the compensation, called when a later step fails. Steps whose
 *       {@link #reversibility} is {@link Reversibility#IRREVERSIBLE} are never undone and the engine
 *       asks for confirmation before running them.</li>
 * </ol>
 *
 * <p>Implementations are found with {@link java.util.ServiceLoader}; add yours by listing it in
 * {@code META-INF/services/dev.snapbook.engine.spi.Step} in a jar on the class path. They must be
 * stateless: one instance serves every call of its type.
 */
public interface Step {

    /** The dotted name playbooks call this step by, e.g. {@code block.commit}. */
    String name();

    /** One sentence saying what the step does, shown by {@code snapbook steps}. */
    String summary();

    /** The parameters the step accepts; validated when a playbook is loaded. */
    List<Param> params();

    /** What the plan checks before the step may run, for {@code snapbook steps NAME}; empty when nothing. */
    default String preconditions() {
        return "";
    }

    /** What {@link #verify} checks against the real system after the step ran, for {@code snapbook steps NAME}. */
    default String verifies() {
        return "";
    }

    /** How {@link #undo} puts things back, or why the step cannot be undone, for {@code snapbook steps NAME}. */
    default String undoes() {
        return "";
    }

    /**
     * The names of what the step works on, locked for the whole run so that two runs never interleave on
     * them. By convention a step with a {@code domain} parameter works on that domain
     * ({@code domain:NAME}); override to lock more or less.
     */
    default java.util.Set<String> locks(Params params) {
        return params.get("domain") instanceof String domain ? java.util.Set.of("domain:" + domain)
                : java.util.Set.of();
    }

    /** Whether the step, called with these parameters, can be undone. Read-only steps have nothing to undo. */
    default Reversibility reversibility(Params params) {
        return Reversibility.NOTHING_TO_UNDO;
    }

    /**
     * Plans the step against {@code world}, which is the world predicted by the steps before it. Only
     * read-only calls are allowed. The step updates {@code world} to the state it predicts after it ran.
     *
     * @throws StepFailure when a precondition does not hold: the plan fails at this step
     */
    Planned plan(Params params, World world) throws StepFailure;

    /** Records, read-only, what {@link #undo} will need. Called just before {@link #apply}. */
    default Map<String, Object> capture(Params params, StepContext context) throws StepFailure {
        return Map.of();
    }

    /** Performs the step. */
    Outcome apply(Params params, Map<String, Object> captured, StepContext context) throws StepFailure;

    /** Checks, against the real system now, that the step did what it said. */
    Verification verify(Params params, Outcome outcome, StepContext context) throws StepFailure;

    /**
     * Ends what this step left half-done when its run was killed while it applied; called by
     * {@code snapbook recover} before the step is re-verified, with what {@link #capture} recorded. A step
     * whose work goes on without the process (a QEMU block job) decides here how it ends: when
     * {@code resuming}, by finishing it if that is safe; when rolling back, by stopping it without finishing.
     *
     * @return the step's outcome when the step is now complete (then it is verified with it and counts as
     *         done), or null when it is not (then a resume runs it again and a rollback does not undo it).
     *         The default: nothing goes on without the process, null.
     */
    default Outcome settle(Params params, Map<String, Object> captured, boolean resuming, StepContext context)
            throws StepFailure {
        return null;
    }

    /**
     * Undoes the step after a later failure, using what {@link #capture} recorded. Only called when
     * {@link #reversibility} is {@link Reversibility#REVERSIBLE}.
     */
    default void undo(Params params, Map<String, Object> captured, Outcome outcome, StepContext context)
            throws StepFailure {
        throw new StepFailure("step " + name() + " has no undo");
    }
}
