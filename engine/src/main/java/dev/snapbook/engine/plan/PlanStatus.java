package dev.snapbook.engine.plan;

/** What the plan expects of one step. */
public enum PlanStatus {
    /** It will run as described. */
    WILL_RUN("will run"),
    /** Its {@code when} is false in the predicted world: it will be skipped. */
    WILL_SKIP("will skip"),
    /** Not selected by {@code --tags}. */
    NOT_SELECTED("not selected"),
    /** Its {@code when} depends on a value known only at run time; planned as if it runs. */
    CONDITION_UNKNOWN("condition unknown"),
    /** Its parameters depend on values known only at run time: it cannot be planned. */
    UNPLANNABLE("unplannable"),
    /** A precondition does not hold (or a verification would fail): the run would stop here. */
    WILL_FAIL("WILL FAIL"),
    /** After a step that will fail: never reached. */
    NOT_REACHED("not reached"),
    /** An {@code on_failure} step: runs only if a step fails. */
    ON_FAILURE_ONLY("on failure only");

    private final String label;

    PlanStatus(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}
