package dev.snapbook.steps.snapshot;

import dev.snapbook.engine.spi.FactKey;

/**
 * Whether a domain has a QEMU guest agent channel configured (fact kind {@code guest-agent}, id = the
 * domain's name): {@code <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/>}, and
 * whether an agent in the guest has the channel open, as the live XML's {@code <target state=...>} says. A
 * quiesced snapshot needs both; whether the agent answers is only known when libvirt asks it.
 *
 * @param state the channel target's {@code state} in the live XML ({@code connected} or {@code disconnected}), or
 *              null when libvirt gives none (no channel, a domain not running)
 */
public record GuestAgentFacts(String domain, boolean channel, String state) {

    public static final String KIND = "guest-agent";

    public static FactKey<GuestAgentFacts> key(String domain) {
        return new FactKey<>(KIND, domain, GuestAgentFacts.class);
    }

    /**
     * Whether libvirt reports the channel closed on the guest's side (no agent is installed or running there): it
     * then refuses what needs the agent ("QEMU guest agent is not connected").
     */
    public boolean disconnected() {
        return channel && "disconnected".equals(state);
    }
}
