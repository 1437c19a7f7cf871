package dev.snapbook.steps.block;

import dev.snapbook.engine.spi.FactKey;
import dev.snapbook.steps.libvirt.BlockJobInfo;

/**
 * The block job running on one disk of a domain (fact kind {@code block-job}, id {@code DOMAIN/DISK}), as
 * {@code virDomainGetBlockJobInfo} and the live domain XML's {@code <mirror ready>} report it; absent (null) when
 * the disk has no job. Only the job's kind and readiness are facts: its progress changes from one look to the next
 * and is no precondition of any step. libvirt runs at most one block job per disk, so a plan that would start one
 * on a disk that has one is refused with this fact ({@code Blocks.requireNoJob}).
 *
 * @param type  the job's kind, as {@link BlockJobInfo.Type#label()} ({@code pull}, {@code active_commit}, ...)
 * @param ready whether libvirt shows it ready to pivot
 */
public record BlockJobFacts(String domain, String disk, String type, boolean ready) {

    public static final String KIND = "block-job";

    public static FactKey<BlockJobFacts> key(String domain, String disk) {
        // libvirt refuses '/' in domain names, and target devices have none: the id splits at its first '/'
        return new FactKey<>(KIND, domain + "/" + disk, BlockJobFacts.class);
    }

    /** The fact for {@code job} on {@code domain}/{@code disk}, or null when there is no job. */
    static BlockJobFacts of(String domain, String disk, BlockJobInfo job) {
        return job == null ? null : new BlockJobFacts(domain, disk, job.type().label(), job.ready());
    }
}
