package dev.snapbook.steps.state

import dev.snapbook.engine.spi.StepFailure
import dev.snapbook.engine.world.FactSources
import dev.snapbook.steps.domain.DiskFacts
import dev.snapbook.steps.exec.Command
import dev.snapbook.steps.image.ImageFacts
import dev.snapbook.steps.lab.TestStepContext
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.ByteBuffer
import java.nio.channels.FileChannel
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardOpenOption
import java.time.Duration

/**
 * The damage rule on real image files made with qemu-img (no VM): a raw base under qcow2 overlays, relative backing
 * names and names with spaces, then each kind of damage — a bad magic, a truncated qcow2 layer, a truncated raw base,
 * a missing middle layer, a backing name to a file that is gone. Healthy chains pass, damaged ones name the file and
 * what was recorded and found.
 */
class DamageSpec extends Specification {

    @TempDir
    Path dir

    Path base, mid, top

    def setup() {
        base = dir.resolve('base é.img')
        mid = dir.resolve('mid 1.qcow2')
        top = dir.resolve('top 2.qcow2')
        qemuImg('create', '-q', '-f', 'raw', base.toString(), '4M')
        qemuIo(base, 'raw', 'write -P 0xa1 0 1M')
        // relative backing names, as `qemu-img create -b` outside snapbook makes them
        qemuImg('create', '-q', '-f', 'qcow2', '-b', base.fileName.toString(), '-F', 'raw', mid.toString())
        qemuIo(mid, 'qcow2', 'write -P 0xb2 1M 1M')
        qemuImg('create', '-q', '-f', 'qcow2', '-b', mid.fileName.toString(), '-F', 'qcow2', top.toString())
        qemuIo(top, 'qcow2', 'write -P 0xc3 2M 1M')
    }

    static void qemuImg(String... args) {
        def r = Command.of('qemu-img', args).run(Duration.ofSeconds(30), { })
        assert r.succeeded(), r.stderr()
    }

    static void qemuIo(Path image, String format, String command) {
        def r = Command.of('qemu-io', '-f', format, '-c', command, image.toString()).run(Duration.ofSeconds(30), { })
        assert r.succeeded(), r.stderr()
    }

    Damage.Found check(String format = 'qcow2') {
        Damage.find(null, top.toString(), format, 'the definition of domain d')
    }

    def "a healthy chain of qcow2 overlays over a raw base, with relative names and spaces, has no damage"() {
        expect:
        check() == null
        Damage.find(null, base.toString(), 'raw', 'the definition of domain d') == null
        Damage.find(null, mid.toString(), 'qcow2', 'x') == null
    }

    def "a layer recorded as qcow2 whose magic is overwritten is damaged, named with its record"() {
        given:
        overwrite(mid, 0, 'XXXX')

        when:
        def found = check()

        then:
        found.file() == mid.toString()
        found.problem() == "${top} records it as qcow2, but its contents read as raw (its qcow2 header is gone)"
        !found.missing()
    }

    def "the top image recorded as qcow2 by the domain but read as raw is damaged"() {
        given:
        overwrite(top, 0, 'XXXX')

        expect:
        check().file() == top.toString()
        check().problem().startsWith('the definition of domain d records it as qcow2')
    }

    def "a qcow2 layer cut short, its data clusters past its end, is damaged"() {
        given:
        long size = Files.size(mid)
        FileChannel.open(mid, StandardOpenOption.WRITE).withCloseable { it.truncate((long) (size / 2)) }

        when:
        def found = check()

        then:
        found.file() == mid.toString()
        found.problem().startsWith('it is truncated: ')
        found.problem().contains('past the end of the file')
    }

    def "a raw base shorter than the overlay above it is damaged, and the message names both readings"() {
        given:
        FileChannel.open(base, StandardOpenOption.WRITE).withCloseable { it.truncate(1L << 20) }

        when:
        def found = check()

        then:
        found.file() == base.toString()
        found.problem() == "it is raw and 1048576 bytes long, but ${mid} above it is 4194304 bytes: it was truncated" +
                " (or ${mid} was grown without it)"
    }

    def "a missing middle layer is damaged: the layer above names it as its backing file"() {
        given:
        Files.delete(mid)

        expect:
        check().file() == mid.toString()
        check().problem() == "it does not exist, but ${top} names it as its backing file"
        check().missing()
        check().above() == [top.toString()]
    }

    def "a backing name that leads to a file that is gone (the chain moved, its relative name did not) is damaged"() {
        given: 'the top moved into another directory; its relative backing name now resolves there'
        Path moved = Files.createDirectory(dir.resolve('moved')).resolve(top.fileName)
        Files.move(top, moved)

        when:
        def found = Damage.find(null, moved.toString(), 'qcow2', 'x')

        then:
        found.file() == moved.parent.resolve(mid.fileName).toString()
        found.problem().startsWith('it does not exist, but ' + moved)
    }

    def "a raw file holds any bytes: raw content that looks like a header is not damage"() {
        given: 'the guest wrote qcow2-looking bytes at the start of its raw base'
        overwrite(base, 0, 'QFI\u00fb')

        expect:
        Damage.find(null, base.toString(), 'raw', 'x') == null
    }

    def "a file the plan creates is taken from the plan's prediction, and the chain below it is still checked"() {
        given: 'a world predicting an overlay over top that is not on disk yet'
        def world = FactSources.load(getClass().classLoader).newWorld(new TestStepContext())
        String planned = dir.resolve('planned.qcow2').toString()
        world.put(ImageFacts.key(planned), new ImageFacts(planned, 'qcow2', 4L << 20,
                [new ImageFacts.Layer(top.toString(), 'qcow2')]))

        expect:
        Damage.find(Damage.Planned.of(world), planned, 'qcow2', 'x') == null

        when:
        overwrite(mid, 0, 'XXXX')

        then:
        Damage.find(Damage.Planned.of(world), planned, 'qcow2', 'x').file() == mid.toString()
        Damage.find(null, planned, 'qcow2', 'x').problem() == 'it does not exist'
    }

    def "the step's refusal names the file, the record, whose state reads through it, and what to do"() {
        given:
        overwrite(mid, 0, 'XXXX')
        def disk = new DiskFacts('vda', 'disk', 'file', top.toString(), 'qcow2', 'virtio')

        when:
        Damage.refuseDisk(null, 'web 1', disk)

        then:
        StepFailure e = thrown()
        e.message == "${mid} is damaged: ${top} records it as qcow2, but its contents read as raw (its qcow2 header" +
                " is gone); disk vda of domain web 1 reads through it"
        e.hint().contains("qemu-img check -U ${mid}")
    }

    static void overwrite(Path file, long at, String bytes) {
        FileChannel.open(file, StandardOpenOption.WRITE).withCloseable {
            it.write(ByteBuffer.wrap(bytes.getBytes('ISO-8859-1')), at)
        }
    }
}
