package dev.snapbook.steps.libvirt

import dev.snapbook.steps.xml.SafeXml
import spock.lang.Specification

/** The capabilities reading and version encoding of {@link LibvirtRelease}, without libvirt. */
class LibvirtReleaseTest extends Specification {

    static String capabilities(String features) {
        """<capabilities><host><uuid>00000000-0000-0000-0000-000000000000</uuid></host>
           <guest><os_type>hvm</os_type><arch name='i686'/><features><pae/>$features</features></guest>
           <guest><os_type>hvm</os_type><arch name='x86_64'/><features><acpi default='on' toggle='yes'/></features></guest>
           </capabilities>"""
    }

    def "a guest listing externalSnapshot among its features is what says libvirt reverts external snapshots"() {
        expect:
        LibvirtRelease.listsExternalSnapshot(capabilities(features)) == lists

        where:
        features                     | lists
        '<externalSnapshot/>'        | true
        ''                           | false
        '<disksnapshot default="on"/>' | false
    }

    def "externalSnapshot anywhere else (the host's features, a guest's arch) does not count"() {
        expect:
        !LibvirtRelease.listsExternalSnapshot('''<capabilities><host><features><externalSnapshot/></features></host>
            <guest><arch name='x86_64'><externalSnapshot/></arch></guest></capabilities>''')
    }

    def "capabilities with a doctype are refused, not read"() {
        when:
        LibvirtRelease.listsExternalSnapshot('<!DOCTYPE c [<!ENTITY e SYSTEM "file:///etc/passwd">]><capabilities>&e;</capabilities>')

        then:
        thrown(SafeXml.Refused)
    }

    def "versions are libvirt's encoding: major * 1,000,000 + minor * 1,000 + release"() {
        expect:
        LibvirtRelease.version(11_003_000) == '11.3.0'
        LibvirtRelease.version(9_000_000) == '9.0.0'
        LibvirtRelease.version(10_000_013) == '10.0.13'
        LibvirtRelease.version(7_002_022) == '7.2.22'
    }

    def "the plan's line for an external revert names the libvirt it found and why snapbook keeps its own procedure"() {
        expect:
        new LibvirtRelease(11_003_000, 10_000_013, true).externalRevertPath().startsWith(
                'libvirt 11.3.0 could revert this external snapshot itself, but it would delete the overlays')
        new LibvirtRelease(9_000_000, 7_002_000, false).externalRevertPath() ==
                'libvirt 9.0.0 does not revert external snapshots itself; snapbook reverts with its own procedure'
    }
}
