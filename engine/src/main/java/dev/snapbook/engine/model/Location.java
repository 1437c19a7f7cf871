package dev.snapbook.engine.model;

/**
 * A place in a playbook file: the file as the user named it, and a 1-based line and column.
 * Column 0 means the column is not known (the Groovy DSL knows lines only).
 */
public record Location(String file, int line, int column) {

    public static final Location UNKNOWN = new Location("<unknown>", 0, 0);

    @Override
    public String toString() {
        if (line <= 0) {
            return file;
        }
        return column > 0 ? file + ":" + line + ":" + column : file + ":" + line;
    }
}
