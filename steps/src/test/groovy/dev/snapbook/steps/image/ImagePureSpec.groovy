package dev.snapbook.steps.image

import dev.snapbook.engine.spi.StepFailure
import spock.lang.Specification

/** Pure logic of the image family, without images or VMs. */
class ImagePureSpec extends Specification {

    def "reads qemu-img sizes: #text is #bytes bytes"() {
        expect:
        Images.parseSize(text) == bytes

        where:
        text    | bytes
        '1G'    | 1L << 30
        '512M'  | 512L << 20
        '64k'   | 64L << 10
        '1048576' | 1048576L
        '2T'    | 2L << 40
        'big'   | -1L
        '-1G'   | -1L
        '1.5G'  | -1L
    }

    def "rounds sizes up to whole sectors as qemu-img does"() {
        expect:
        Images.roundToSector(1) == 512
        Images.roundToSector(512) == 512
        Images.roundToSector(513) == 1024
    }

    def "tells formats from their magic: #format"() {
        expect:
        ImageMagic.detect(head as byte[]) == format

        where:
        format      | head
        'qcow2'     | [0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3]
        'qcow'      | [0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 1]
        'qed'       | [0x51, 0x46, 0x49, 0]
        'vmdk'      | 'KDMV'.bytes as List
        'vhdx'      | 'vhdxfile'.bytes as List
        'luks'      | [0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe, 0, 1]
        'raw'       | [0, 0, 0, 0]
        'raw'       | []
        'raw'       | 'QFI'.bytes as List
    }

    def "compares paths by the file they name"() {
        expect:
        BackingChain.sameFile('/tmp/nonexistent-dir/../x', '/tmp/x')
        !BackingChain.sameFile('/tmp/x', '/tmp/y')
        !BackingChain.sameFile(null, '/tmp/x')
    }
}
