package dev.snapbook.steps.libvirt;

import java.util.Locale;

/**
 * A block job running on one disk of a domain, as {@code virDomainGetBlockJobInfo} reports it, plus whether
 * the domain XML shows it ready to pivot ({@code <mirror ready='yes'>}).
 *
 * @param type      the job's kind
 * @param cur       bytes done so far, in the unit of {@code end}
 * @param end       the total; {@code cur == end} with {@code end > 0} means the copy phase is over
 * @param bandwidth the rate limit in MiB/s, 0 for none
 * @param ready     whether libvirt says the job may be pivoted (active commit and copy jobs only)
 */
public record BlockJobInfo(Type type, long cur, long end, long bandwidth, boolean ready) {

    /** {@code virDomainBlockJobType}. */
    public enum Type {
        UNKNOWN, PULL, COPY, COMMIT, ACTIVE_COMMIT, BACKUP;

        /** The lower-case name used in results, e.g. {@code active_commit}. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        static Type of(int code) {
            return code >= 0 && code < values().length ? values()[code] : UNKNOWN;
        }
    }

    /** Percent done, 0..100; 0 while libvirt does not know the total yet. */
    public double percent() {
        return end <= 0 ? 0 : Math.min(100.0, 100.0 * cur / end);
    }
}
