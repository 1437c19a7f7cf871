package dev.snapbook.steps.libvirt

import dev.snapbook.engine.spi.StepFailure
import spock.lang.Specification
import spock.lang.Unroll

import java.nio.file.Files
import java.nio.file.Path

/** Which URIs name this machine, without libvirt and without a name lookup. */
class ConnectionHostTest extends Specification {

    static String self = Files.readString(Path.of('/proc/sys/kernel/hostname')).trim()

    /** An address of one of this machine's interfaces that is not loopback, or null when it has none. */
    static String ownAddress = Collections.list(NetworkInterface.getNetworkInterfaces())
            .collectMany { Collections.list(it.inetAddresses) }
            .find { !it.loopbackAddress && it instanceof Inet4Address }?.hostAddress

    @Unroll
    def "#uri names this machine"() {
        expect:
        ConnectionHost.of(uri).local()
        ConnectionHost.of(uri).host() == null

        where:
        uri << ['qemu:///system', 'qemu:///session', 'qemu+unix:///system?socket=/run/libvirt/libvirt-sock',
                'test:///default', 'qemu+ssh://localhost/system', 'qemu+ssh://root@localhost:2222/system',
                'qemu+ssh://LOCALHOST./system', 'qemu+tcp://127.0.0.1/system', 'qemu+tcp://127.0.1.1:16509/system',
                'qemu+tls://[::1]/system', 'qemu+ssh://vm.localhost/system', 'qemu+ssh://0.0.0.0/system',
                "qemu+ssh://${self}/system", "qemu+ssh://root@${self.toUpperCase()}/system?keyfile=/k",
                '', null] + (ownAddress ? ["qemu+ssh://${ownAddress}/system"] : [])
    }

    @Unroll
    def "#uri names host #host"() {
        expect:
        !ConnectionHost.of(uri).local()
        ConnectionHost.of(uri).host() == host

        where:
        uri                                                 | host
        'qemu+ssh://some-other-host/system'                 | 'some-other-host'
        'qemu+ssh://root@kvm2.example.com:22/system?keyfile=/root/.ssh/id' | 'kvm2.example.com'
        'qemu+tcp://192.0.2.7/system'                       | '192.0.2.7'
        'qemu+ssh://[2001:db8::1]/system'                   | '2001:db8::1'
        "qemu+ssh://${self}.elsewhere.example/system"       | "${self}.elsewhere.example"
        "qemu+ssh://x${self}/system"                        | "x${self}"
        'qemu+ssh://under_score/system'                     | 'under_score'
        'qemu+ssh://user@under_score:22/system'             | 'under_score'
    }

    def "generated host names that are neither this machine's nor in /etc/hosts are other machines"() {
        given:
        def hosts = Files.readString(Path.of('/etc/hosts')).toLowerCase()
        def random = new Random(15)
        def letters = 'abcdefghijklmnopqrstuvwxyz0123456789-'
        int checked = 0

        expect:
        200.times {
            String name = 'h' + (1..(1 + random.nextInt(20))).collect { letters[random.nextInt(letters.size())] }.join('')
            if (name != self.toLowerCase() && !hosts.contains(name) && !name.endsWith('-')) {
                String user = random.nextBoolean() ? 'root@' : ''
                String port = random.nextBoolean() ? ':' + (1 + random.nextInt(65535)) : ''
                def c = ConnectionHost.of("qemu+ssh://${user}${name}${port}/system")
                assert !c.local() && c.host() == name
                checked++
            }
        }
        checked > 150
    }

    def "the refusal names the host, what would touch files, and where to run instead"() {
        when:
        ConnectionHost.of('qemu+ssh://kvm2/system').requireLocalFiles('step image.check reads or writes image files')

        then:
        StepFailure e = thrown()
        e.message.startsWith('step image.check reads or writes image files, and the connection qemu+ssh://kvm2/system is to host kvm2')
        e.hint().contains('run snapbook on kvm2 itself')
        e.hint().contains('snapbook.kvm.playbook')
    }

    def "a local connection is not refused"() {
        when:
        ConnectionHost.of('qemu+ssh://localhost/system').requireLocalFiles('step image.check reads or writes image files')

        then:
        noExceptionThrown()
    }
}
