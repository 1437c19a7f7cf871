package dev.snapbook.engine.spi;

/** Whether a step's effect can be undone after a later step fails. */
public enum Reversibility {
    /** The step changes something and {@link Step#undo} puts it back. */
    REVERSIBLE,
    /** The step only reads, or its effect needs no undo. */
    NOTHING_TO_UNDO,
    /** The step destroys state that cannot be restored; it needs {@code --yes} or an interactive yes. */
    IRREVERSIBLE
}
