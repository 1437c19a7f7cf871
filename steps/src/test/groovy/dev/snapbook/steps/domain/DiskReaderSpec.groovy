package dev.snapbook.steps.domain

import dev.snapbook.steps.xml.SafeXml
import java.nio.file.Files
import java.nio.file.Path
import spock.lang.Requires
import spock.lang.Specification

class DiskReaderSpec extends Specification {

    static Path corpus() {
        Path.of(System.getProperty('snapbook.shared', '/work/shared'), 'corpus', 'libvirt')
    }

    def "reads target, device, type, source, format and bus of each disk in order"() {
        given:
        def xml = '''<domain type='kvm'><name>web01</name><devices>
            <disk type='file' device='disk'>
              <driver name='qemu' type='qcow2'/>
              <source file='/var/lib/libvirt/images/web01.qcow2'/>
              <backingStore/>
              <target dev='vda' bus='virtio'/>
            </disk>
            <disk type='block' device='cdrom'>
              <source dev='/dev/sr0'/>
              <target dev='hdc' bus='ide'/>
            </disk>
            <disk type='network' device='disk'>
              <driver name='qemu' type='raw'/>
              <source protocol='nbd' name='export'><host name='example.org' port='6000'/></source>
              <target dev='vdb'/>
            </disk>
            <disk device='cdrom'><target dev='sda' bus='sata'/></disk>
          </devices></domain>'''

        expect:
        DiskReader.read(xml, 'test XML') == [
                new DiskFacts('vda', 'disk', 'file', '/var/lib/libvirt/images/web01.qcow2', 'qcow2', 'virtio'),
                new DiskFacts('hdc', 'cdrom', 'block', '/dev/sr0', null, 'ide'),
                new DiskFacts('vdb', 'disk', 'network', 'nbd://example.org:6000/export', 'raw', null),
                new DiskFacts('sda', 'cdrom', 'file', null, null, 'sata'),
        ]
    }

    def "a domain without devices has no disks"() {
        expect:
        DiskReader.read("<domain type='kvm'><name>x</name></domain>", 'test XML') == []
    }

    def "refuses #problem"() {
        when:
        DiskReader.read(xml, 'test XML')

        then:
        def e = thrown(SafeXml.Refused)
        e.message.startsWith('test XML')
        e.message.contains(expected)

        where:
        problem                    | xml                                                                                                                     || expected
        'a disk without a target'  | "<domain><devices><disk type='file'><source file='/a'/></disk></devices></domain>"                                    || 'has no <target'
        'two disks with one target'| "<domain><devices><disk><target dev='vda'/></disk><disk><target dev='vda'/></disk></devices></domain>"                || "two disks have target dev 'vda'"
        'an unknown disk type'     | "<domain><devices><disk type='magic'><target dev='vda'/></disk></devices></domain>"                                   || "type 'magic'"
        'a document not a domain'  | "<domainsnapshot><name>s1</name></domainsnapshot>"                                                                    || 'not a <domain>'
        'malformed XML'            | "<domain><devices>"                                                                                                   || 'not acceptable XML'
    }

    def "refuses a doctype, so an external entity is never read"() {
        given: 'a file the entity would disclose'
        def secret = Files.createTempFile('snapbook-secret', '.txt')
        Files.writeString(secret, 'TOP-SECRET')
        def xml = """<?xml version='1.0'?>
            <!DOCTYPE domain [ <!ENTITY leak SYSTEM '${secret.toUri()}'> ]>
            <domain><devices><disk type='file'><source file='&leak;'/><target dev='vda'/></disk></devices></domain>"""

        when:
        DiskReader.read(xml, 'hostile XML')

        then:
        def e = thrown(SafeXml.Refused)
        e.message.contains('DOCTYPE')
        !e.message.contains('TOP-SECRET')

        cleanup:
        Files.deleteIfExists(secret)
    }

    def "refuses entity expansion (billion laughs) by refusing the doctype"() {
        given:
        def xml = '''<!DOCTYPE domain [ <!ENTITY a "aaaaaaaaaa"> <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"> ]>
            <domain><name>&b;</name></domain>'''

        when:
        SafeXml.parse(xml, 'hostile XML')

        then:
        def e = thrown(SafeXml.Refused)
        e.message.contains('DOCTYPE')
    }

    @Requires(value = { Files.isDirectory(DiskReaderSpec.corpus()) || System.getenv('CI') },
            reason = 'the libvirt XML corpus (shared/corpus/libvirt) is not present (in CI, with CI set, the spec runs and fails)')
    def "reads or clearly refuses every document of the libvirt corpus, never crashing"() {
        given:
        def files = Files.walk(corpus()).withCloseable { s ->
            s.filter { it.toString().endsWith('.xml') }.sorted().toList()
        }
        def read = [:]
        def refused = [:]

        when:
        files.each { f ->
            try {
                read[f] = DiskReader.read(Files.readString(f), f.fileName.toString())
            } catch (SafeXml.Refused e) {
                refused[f] = e.message
            }
        }
        println "libvirt corpus: ${read.size()} domain documents read, ${refused.size()} refused"
        refused.findAll { f, m -> !m.contains('not a <domain>') }.each { f, m -> println "  refused $m" }

        then: 'every refusal names the document and says why'
        refused.every { f, m -> m.startsWith(f.fileName.toString()) && m.length() > f.fileName.toString().length() + 10 }

        and: 'all <domain> documents with valid disks are read; snapshot documents are refused as not a domain'
        read.size() >= 80
        refused.keySet().findAll { corpus().relativize(it).startsWith('snapshot') }.every { refused[it].contains('not a <domain>') }

        and: 'the known-bad inputs that snapbook can detect are refused'
        refused.keySet()*.fileName*.toString().containsAll(['disk-same-targets.xml', 'disk-missing-target-invalid.xml'])

        and: 'a backing-chain document yields its disks with their sources'
        def chains = read[corpus().resolve('domain/disk-backing-chains.xml')]
        chains.find { it.target == 'vda' }.source != null
    }
}
