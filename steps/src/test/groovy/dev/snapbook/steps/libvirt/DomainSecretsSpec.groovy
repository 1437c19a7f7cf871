package dev.snapbook.steps.libvirt

import spock.lang.Specification

/** Passwords put back into a definition read without VIR_DOMAIN_XML_SECURE, matched by display type and position. */
class DomainSecretsSpec extends Specification {

    static String domain(String graphics) {
        "<domain type='kvm'><name>d</name><devices><disk type='file'/>${graphics}</devices></domain>"
    }

    def "the n-th display of a type gets the n-th password of that type; nothing else changes"() {
        given:
        def secure = domain("<graphics type='vnc' passwd='v1'/><graphics type='spice' passwd='s1'/>" +
                "<graphics type='spice' passwd='s2'/>")
        def restored = domain("<graphics type='spice' port='1'/><graphics type='vnc'/><graphics type='spice'/>")

        when:
        def out = DomainSecrets.reinsert(restored, secure, 'd')

        then:
        out.contains("passwd=\"v1\"") || out.contains("passwd='v1'")
        out.indexOf('s1') < out.indexOf('s2')
        out.contains('port="1"') || out.contains("port='1'")
        out.contains('<disk')
        DomainSecrets.hasSecret(out, 'd')
    }

    def "#what: the definition is returned as it was"() {
        expect:
        DomainSecrets.reinsert(restored, secure, 'd') == restored

        where:
        what                                    | secure                                           | restored
        'no password now'                       | domain("<graphics type='vnc'/>")                 | domain("<graphics type='vnc'/>")
        'no display to restore'                 | domain("<graphics type='vnc' passwd='x'/>")      | domain('')
        'a display of another type only'        | domain("<graphics type='vnc' passwd='x'/>")      | domain("<graphics type='spice'/>")
        'a password given already is kept'      | domain("<graphics type='vnc' passwd='x'/>")      | domain("<graphics type='vnc' passwd='y'/>")
    }
}
