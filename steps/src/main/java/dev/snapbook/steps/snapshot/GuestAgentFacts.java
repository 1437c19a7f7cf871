package dev.snapbook.steps.snapshot;

import dev.snapbook.engine.spi.FactKey;

/**
 * Whether a domain has a QEMU guest agent channel configured (fact kind {@code guest-agent}, id = the
 * domain's name): {@code <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/>}. A
 * quiesced snapshot needs it; whether the agent answers is only known when libvirt asks it.
 */
public record GuestAgentFacts(String domain, boolean channel) {

    public static final String KIND = "guest-agent";

    public static FactKey<GuestAgentFacts> key(String domain) {
        return new FactKey<>(KIND, domain, GuestAgentFacts.class);
    }
}
