package dev.snapbook.steps.libvirt

import dev.snapbook.steps.lab.LabVm
import dev.snapbook.steps.qemu.QemuImg
import spock.lang.Requires
import spock.lang.Specification

/**
 * {@link LibvirtRelease} reads the libvirt and QEMU it talks to as virsh reports them, on whichever environment
 * the suite runs (Debian 12's libvirt 9.0 or Debian 13's 11.3), and {@code --version} prints them.
 */
@Requires(value = { LabVm.available() || System.getenv('CI') },
        reason = 'needs libvirt: `virsh -c qemu:///system version` must succeed (run scripts/setup)')
class LibvirtReleaseSpec extends Specification {

    static String virsh(String... args) {
        def p = (['virsh', '-c', LabVm.URI] + args.toList()).execute()
        def out = p.text
        assert p.waitFor() == 0
        out
    }

    def "the release names the versions virsh version reports, and the externalSnapshot capability virsh capabilities lists"() {
        given:
        def libvirt = Libvirt.open(LabVm.URI, { })
        def version = virsh('version')
        // "Running against daemon: 9.0.0" (libvirt 11.3's virsh leaves that line out and says "Using API: QEMU
        // 11.3.0"), and "Running hypervisor: QEMU 10.0.13"
        def daemon = version.contains('Running against daemon: ') ? (version =~ /Running against daemon: (\S+)/)[0][1]
                : (version =~ /Using API: QEMU (\S+)/)[0][1]
        def hypervisor = (version =~ /Running hypervisor: QEMU (\S+)/)[0][1]
        def capabilities = virsh('capabilities')

        when:
        def release = LibvirtRelease.of(libvirt.host())

        then:
        LibvirtRelease.version(release.libvirt()) == daemon
        LibvirtRelease.version(release.qemu()) == hypervisor
        release.externalSnapshot() == capabilities.contains('<externalSnapshot/>')
        // the two environments the suite runs on: Debian 12's libvirt 9.0 lists no such capability, Debian 13's 11.3 does
        release.libvirt() / 1_000 != 9_000 || !release.revertsExternal()
        release.libvirt() / 1_000_000 != 11 || release.revertsExternal()
        release.deletesExternal() == (release.libvirt() >= 9_000_000)
        release.metadataDeleteMovesDomainToChildren() == !release.revertsExternal()

        cleanup:
        libvirt?.close()
    }

    def "--version prints snapbook's, Java's, libvirt's and QEMU's versions and says how external snapshots are treated"() {
        given:
        def libvirt = Libvirt.open(LabVm.URI, { })
        def release = LibvirtRelease.of(libvirt.host())
        libvirt.close()

        when:
        def lines = new LibvirtVersionReport().lines(LabVm.URI)

        then:
        lines[0] == "libvirt ${LibvirtRelease.version(release.libvirt())} (libvirtd at ${LabVm.URI})".toString()
        lines[1] == "QEMU ${LibvirtRelease.version(release.qemu())} (as libvirtd reports it)".toString()
        lines[2].startsWith('external snapshots: ')
        lines[2].contains(release.revertsExternal() ? 'libvirt reverts and deletes them itself' : 'does not revert them')
        lines[3] ==~ /libvirt client library \d+\.\d+\.\d+/
        lines[4] == new QemuImg({ }).version()
        lines[4] ==~ /qemu-img version \d+\.\d+\.\d+.*/
    }

    def "a connection that cannot be opened is named in the report, which goes on with the rest"() {
        when:
        def lines = new LibvirtVersionReport().lines('qemu+unix:///system?socket=/nonexistent/libvirt-sock')

        then:
        lines[0].startsWith('libvirt: not reachable at qemu+unix:///system?socket=/nonexistent/libvirt-sock: ')
        lines.any { it.startsWith('qemu-img version ') }
    }
}
