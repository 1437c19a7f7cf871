package dev.snapbook.steps.libvirt;

import java.util.Locale;

/** The state of a libvirt domain ({@code virDomainState}), named as {@code virsh domstate} prints it. */
public enum PowerState {
    NOSTATE, RUNNING, BLOCKED, PAUSED, SHUTDOWN, SHUTOFF, CRASHED, PMSUSPENDED;

    /** The lower-case name used in facts and results, e.g. {@code running}, {@code shutoff}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The state a {@link #label()} names. */
    public static PowerState ofLabel(String label) {
        return valueOf(label.toUpperCase(Locale.ROOT));
    }

    /** Whether the guest is executing: running, or blocked waiting on a resource. */
    public boolean isRunning() {
        return this == RUNNING || this == BLOCKED;
    }

    /** Whether a QEMU process exists for the domain (libvirt calls such a domain active). */
    public boolean isActive() {
        return this != SHUTOFF && this != NOSTATE;
    }
}
