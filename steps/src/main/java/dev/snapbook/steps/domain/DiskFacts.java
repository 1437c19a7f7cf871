package dev.snapbook.steps.domain;

/**
 * One {@code <disk>} of a domain as its XML describes it.
 *
 * @param target the guest device name, {@code <target dev>} (e.g. {@code vda}); unique within a domain
 * @param device {@code disk}, {@code cdrom}, {@code floppy} or {@code lun}
 * @param type   where the data lives: {@code file}, {@code block}, {@code network}, {@code volume}, ...
 * @param source the file path for {@code file}, the device for {@code block}, the directory for {@code dir},
 *               {@code protocol://host:port/name} for {@code network}, {@code pool/volume} for {@code volume};
 *               null for an empty drive (a cdrom without media)
 * @param format the image format from {@code <driver type>} ({@code qcow2}, {@code raw}), or null when unset
 * @param bus    {@code <target bus>} ({@code virtio}, {@code sata}, ...), or null when libvirt chooses it
 */
public record DiskFacts(String target, String device, String type, String source, String format, String bus) {
}
