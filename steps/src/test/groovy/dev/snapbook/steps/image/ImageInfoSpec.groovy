package dev.snapbook.steps.image

import dev.snapbook.engine.spi.StepFailure
import dev.snapbook.steps.lab.TestStepContext
import dev.snapbook.steps.qemu.QemuImg
import java.nio.file.Path
import spock.lang.Specification
import spock.lang.TempDir

import static dev.snapbook.steps.lab.TestStepContext.params

class ImageInfoSpec extends Specification {

    @TempDir
    Path dir

    TestStepContext ctx = new TestStepContext()
    ImageInfo step = new ImageInfo()

    def cleanup() {
        ctx.close()
    }

    def "shows the backing chain of an overlay, nearest first, in plan and in apply alike"() {
        given: 'base.raw <- mid.qcow2 <- top.qcow2'
        def qemuImg = new QemuImg(ctx.&trace)
        def base = dir.resolve('base.raw')
        def mid = dir.resolve('mid.qcow2')
        def top = dir.resolve('top.qcow2')
        qemuImg.create(base, 'raw', 32L << 20)
        qemuImg.createOverlay(mid, base, 'raw')
        qemuImg.createOverlay(top, mid, 'qcow2')
        def p = params(step, [path: top.toString()])
        def expected = [format: 'qcow2', virtual_size: 32L << 20, backing_chain: [
                [file: mid.toString(), format: 'qcow2'], [file: base.toString(), format: 'raw']]]

        when:
        def planned = step.plan(p, ctx.world())
        def outcome = step.apply(p, step.capture(p, ctx), ctx)

        then:
        !planned.changes()
        planned.actions() == ["qemu-img info -U --backing-chain --output=json $top".toString()]
        planned.predictedResult() == expected
        outcome.data() == expected
        !outcome.changed()
        step.verify(p, outcome, ctx).passed()
        ctx.traces().contains("qemu-img info -U --backing-chain --output=json $top".toString())
    }

    def "with chain: false lists only the direct backing file"() {
        given:
        def qemuImg = new QemuImg(ctx.&trace)
        def base = dir.resolve('base.qcow2')
        def top = dir.resolve('top.qcow2')
        qemuImg.create(base, 'qcow2', 16L << 20)
        qemuImg.createOverlay(top, base, 'qcow2')
        def p = params(step, [path: top.toString(), chain: false])

        when:
        def planned = step.plan(p, ctx.world())
        def outcome = step.apply(p, [:], ctx)

        then:
        planned.predictedResult().backing_chain == [[file: base.toString(), format: 'qcow2']]
        outcome.data() == planned.predictedResult()
    }

    def "plan fails with a clear message when the image does not exist"() {
        given:
        def missing = dir.resolve('nope.qcow2').toString()

        when:
        step.plan(params(step, [path: missing]), ctx.world())

        then:
        def e = thrown(StepFailure)
        e.message == "image $missing does not exist"
        e.hint() != null
    }

    def "qemu-img's error names the file and quotes its stderr"() {
        given: 'an overlay whose backing file was deleted'
        def qemuImg = new QemuImg(ctx.&trace)
        def base = dir.resolve('base.qcow2')
        def top = dir.resolve('top.qcow2')
        qemuImg.create(base, 'qcow2', 16L << 20)
        qemuImg.createOverlay(top, base, 'qcow2')
        java.nio.file.Files.delete(base)

        when:
        step.apply(params(step, [path: top.toString()]), [:], ctx)

        then:
        def e = thrown(StepFailure)
        e.message.startsWith("qemu-img failed on $top (exit 1): ")
        e.message.contains(base.toString())
        e.hint().startsWith('the command was: qemu-img info -U --backing-chain')
    }
}
