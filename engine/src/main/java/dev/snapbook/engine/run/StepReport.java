package dev.snapbook.engine.run;

/**
 * One step of a finished run, as reports show it.
 *
 * @param section  {@code steps}, {@code rollback}, {@code on_failure} or {@code always}
 * @param index    the position within its section
 * @param verified whether its post-conditions were checked and held
 * @param message  what it did, or why it failed, in one line
 */
public record StepReport(String section, int index, String name, String type, StepStatus status,
                         boolean changed, boolean verified, String message) {

    StepReport withStatus(StepStatus newStatus, String newMessage) {
        return new StepReport(section, index, name, type, newStatus, changed, verified, newMessage);
    }
}
