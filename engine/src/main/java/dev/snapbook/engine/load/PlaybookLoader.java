package dev.snapbook.engine.load;

import dev.snapbook.engine.model.Playbook;

/**
 * Turns the text of a playbook file into the {@link Playbook} model, checking its shape (fields, their
 * kinds) but not the step catalogue; {@link Validator} does that for every loader alike.
 */
public interface PlaybookLoader {

    /**
     * @param displayName the file as the user named it, used in every location
     * @param text        the file's content
     */
    Playbook load(String displayName, String text) throws PlaybookError;
}
