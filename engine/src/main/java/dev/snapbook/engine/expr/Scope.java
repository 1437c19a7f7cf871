package dev.snapbook.engine.expr;

/** Where an expression looks up its variables. */
@FunctionalInterface
public interface Scope {

    /** Marks a name that is not defined, distinct from a variable whose value is null. */
    Object UNDEFINED = new Object() {
        @Override
        public String toString() {
            return "<undefined>";
        }
    };

    /** The value of {@code name}, or {@link #UNDEFINED}. */
    Object lookup(String name);
}
