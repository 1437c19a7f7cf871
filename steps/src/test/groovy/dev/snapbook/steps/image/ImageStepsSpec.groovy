package dev.snapbook.steps.image

import dev.snapbook.engine.spi.Outcome
import dev.snapbook.engine.spi.Reversibility
import dev.snapbook.engine.spi.StepFailure
import dev.snapbook.engine.spi.Unknown
import dev.snapbook.engine.spi.World
import dev.snapbook.steps.disk.DiskSwap
import dev.snapbook.steps.exec.Command
import dev.snapbook.steps.lab.LabVm
import dev.snapbook.steps.lab.TestStepContext
import dev.snapbook.steps.libvirt.XmlView
import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration
import spock.lang.Requires
import spock.lang.Specification

import static dev.snapbook.steps.lab.TestStepContext.params

@Requires(value = { LabVm.available() },
        reason = 'needs libvirt: `virsh -c qemu:///system version` must succeed (start virtlogd and libvirtd)')
class ImageStepsSpec extends Specification {

    LabVm vm
    TestStepContext ctx

    def setup() {
        vm = LabVm.create()
        ctx = new TestStepContext(LabVm.URI)
    }

    def cleanup() {
        try {
            ctx?.close()
        } finally {
            vm?.close()
        }
    }

    Map run(step, Map given) {
        def p = params(step, given)
        def captured = step.capture(p, ctx)
        Outcome outcome = step.apply(p, captured, ctx)
        def verification = step.verify(p, outcome, ctx)
        assert verification.passed(): verification.problems()
        [params: p, captured: captured, outcome: outcome]
    }

    String file(String name) {
        vm.dir().resolve(name).toString()
    }

    /** Writes a byte pattern into an image that no domain runs on, with qemu-io. */
    static void writeOffline(String image, String format, int pattern, String offset, String length) {
        def r = Command.of('qemu-io', '-f', format, '-c', "write -P 0x${Integer.toHexString(pattern)} $offset $length".toString(),
                image).run(Duration.ofSeconds(60), { })
        assert r.succeeded(): r.stderr() + r.stdout()
    }

    /** What a plan must not change: every file in the lab directory with its hash, the domain's XML and state. */
    Map snapshotOfWorld() {
        def files = Files.list(vm.dir()).withCloseable { s -> s.sorted().toList() }
        [files: files.collectEntries { [it.fileName.toString(), Files.readAllBytes(it).sha256()] },
         xml  : vm.xml(XmlView.INACTIVE), state: vm.state()]
    }

    /** The observed image fact now, fresh. */
    ImageFacts observe(String path) {
        ImageFactSource.observe(Path.of(path), vm.qemuImg())
    }

    def "image.create plans a new overlay exactly, changes nothing while planning, and undo deletes it"() {
        given:
        def step = new ImageCreate()
        def top = file('top.qcow2')
        def given = [path: top, backing: vm.disk().toString(), backing_format: 'qcow2']
        def before = snapshotOfWorld()
        World world = ctx.world()

        when:
        def planned = step.plan(params(step, given), world)

        then: 'the plan describes the command and predicts the image'
        planned.changes()
        planned.actions() == ["qemu-img create -q -f qcow2 -b ${vm.disk()} -F qcow2 $top".toString()]
        def predicted = world.get(ImageFacts.key(top))
        predicted == new ImageFacts(top, 'qcow2', 64L << 20, [new ImageFacts.Layer(vm.disk().toString(), 'qcow2')])
        snapshotOfWorld() == before
        step.reversibility(params(step, given)) == Reversibility.REVERSIBLE

        when:
        def r = run(step, given)

        then: 'the real image is what the plan predicted'
        observe(top) == predicted
        r.outcome.data() == planned.predictedResult()

        when:
        step.undo(r.params, r.captured, r.outcome, ctx)

        then:
        !Files.exists(Path.of(top))
    }

    def "image.create makes a raw image of the size asked"() {
        given:
        def step = new ImageCreate()
        def path = file('new.raw')
        World world = ctx.world()

        when:
        def planned = step.plan(params(step, [path: path, format: 'raw', size: '3M']), world)
        run(step, [path: path, format: 'raw', size: '3M'])

        then:
        observe(path) == world.get(ImageFacts.key(path))
        Files.size(Path.of(path)) == 3L << 20
        planned.predictedResult().virtual_size == 3L << 20
    }

    def "image.create refuses in the plan: #why"() {
        given:
        def step = new ImageCreate()
        def raw = file('base.raw')
        vm.qemuImg().create(Path.of(raw), 'raw', 1L << 20)
        def values = given.collectEntries { k, v -> [k, v.toString().replace('DIR', vm.dir().toString())] }

        when:
        step.plan(params(step, values), ctx.world())

        then:
        def e = thrown(StepFailure)
        e.message.contains(why.replace('DIR', vm.dir().toString()))
        e.hint() != null

        where:
        why                                           | given
        'DIR/vda.qcow2 already exists'                | [path: 'DIR/vda.qcow2', size: '1M']
        'backing file DIR/none.qcow2 does not exist'  | [path: 'DIR/x.qcow2', backing: 'DIR/none.qcow2', backing_format: 'qcow2']
        'is raw, not qcow2'                           | [path: 'DIR/x.qcow2', backing: 'DIR/base.raw', backing_format: 'qcow2']
        'backing_format is required'                  | [path: 'DIR/x.qcow2', backing: 'DIR/base.raw']
        'needs a size or a backing file'              | [path: 'DIR/x.qcow2']
        "size 'big' is not a size"                    | [path: 'DIR/x.qcow2', size: 'big']
        'only a qcow2 image can have a backing file'  | [path: 'DIR/x.raw', format: 'raw', backing: 'DIR/base.raw', backing_format: 'raw']
        'directory of image'                          | [path: 'DIR/no/such/dir/x.qcow2', size: '1M']
    }

    def "image.convert round-trips qcow2 to raw to qcow2 with identical contents, and undo deletes the new file"() {
        given: 'a qcow2 image with two patterns'
        def step = new ImageConvert()
        def src = file('src.qcow2')
        def raw = file('flat.raw')
        def back = file('back.qcow2')
        vm.qemuImg().create(Path.of(src), 'qcow2', 16L << 20)
        writeOffline(src, 'qcow2', 0x22, '1M', '1M')
        writeOffline(src, 'qcow2', 0x33, '5M', '64k')
        def before = snapshotOfWorld()
        World world = ctx.world()

        when:
        def planned = step.plan(params(step, [source: src, target: raw, format: 'raw']), world)

        then:
        planned.actions() == ["qemu-img convert -p -U -f qcow2 -O raw $src $raw".toString()]
        world.get(ImageFacts.key(raw)) == new ImageFacts(raw, 'raw', 16L << 20, [])
        snapshotOfWorld() == before

        when:
        def toRaw = run(step, [source: src, target: raw, format: 'raw'])
        def toQcow2 = run(step, [source: raw, target: back, format: 'qcow2', source_format: 'raw'])

        then: 'formats are right, contents equal, the patterns are where they were'
        observe(raw) == world.get(ImageFacts.key(raw))
        ImageMagic.detect(Path.of(raw)) == 'raw'
        ImageMagic.detect(Path.of(back)) == 'qcow2'
        vm.qemuImg().compare(Path.of(src), Path.of(back))
        LabVm.hasPattern(Path.of(back), 0x22, '1M', '1M')
        LabVm.hasPattern(Path.of(back), 0x33, '5M', '64k')
        !LabVm.hasPattern(Path.of(back), 0x22, '3M', '64k')
        toRaw.outcome.data() == planned.predictedResult()

        when:
        step.undo(toQcow2.params, toQcow2.captured, toQcow2.outcome, ctx)
        step.undo(toRaw.params, toRaw.captured, toRaw.outcome, ctx)

        then:
        !Files.exists(Path.of(back))
        !Files.exists(Path.of(raw))
        Files.exists(Path.of(src))
    }

    def "image.convert flattens a backing chain and reads a running domain's backing layer, but refuses its active image"() {
        given: 'vda of the running VM is an overlay on base.qcow2, which holds pattern 0x44'
        def base = file('base.qcow2')
        def top = file('top.qcow2')
        vm.qemuImg().create(Path.of(base), 'qcow2', 64L << 20)
        writeOffline(base, 'qcow2', 0x44, '0', '1M')
        vm.qemuImg().createOverlay(Path.of(top), Path.of(base), 'qcow2')
        run(new DiskSwap(), [domain: vm.name(), file: top, format: 'qcow2'])
        vm.start()
        vm.writePattern(0x55, '2M', '1M')
        def step = new ImageConvert()

        when: 'converting the active image'
        step.plan(params(step, [source: top, target: file('copy.raw'), format: 'raw']), ctx.world())

        then:
        def e = thrown(StepFailure)
        e.message.contains("running domain ${vm.name()} writes it as disk vda")

        when: 'converting the backing layer with refuse_open'
        step.plan(params(step, [source: base, target: file('base-copy.raw'), format: 'raw', refuse_open: true]),
                ctx.world())

        then: 'refused too: the running domain has it open'
        def open = thrown(StepFailure)
        open.message.contains("running domain ${vm.name()} has it open")
        !Files.exists(Path.of(file('base-copy.raw')))

        when: 'converting the backing layer'
        run(step, [source: base, target: file('base-copy.raw'), format: 'raw'])

        then:
        LabVm.hasPattern(Path.of(file('base-copy.raw')), 0x44, '0', '1M')
        !LabVm.hasPattern(Path.of(file('base-copy.raw')), 0x55, '2M', '1M')
    }

    def "image.convert refuses an existing target and a wrong source format"() {
        given:
        def step = new ImageConvert()

        when:
        step.plan(params(step, [source: vm.disk().toString(), target: given, format: 'raw'] + extra), ctx.world())

        then:
        def e = thrown(StepFailure)
        e.message.contains(why)

        where:
        given                         | extra                   | why
        '/var/tmp'                    | [:]                     | 'already exists'
        '/nonexistent-dir/x.raw'      | [:]                     | 'directory of target'
        '/var/tmp/snapbook-x.raw'     | [source_format: 'raw']  | 'is qcow2, not raw'
    }

    def "image.compare tells identical from different images, read-only"() {
        given:
        def step = new ImageCompare()
        def a = file('a.qcow2')
        def b = file('b.raw')
        vm.qemuImg().create(Path.of(a), 'qcow2', 4L << 20)
        vm.qemuImg().create(Path.of(b), 'raw', 4L << 20)
        writeOffline(a, 'qcow2', 0x66, '0', '64k')

        when:
        def planned = step.plan(params(step, [a: a, b: b]), ctx.world())
        def differ = run(step, [a: a, b: b])
        writeOffline(b, 'raw', 0x66, '0', '64k')
        def same = run(step, [a: a, b: b])

        then:
        !planned.changes()
        planned.predictedResult().identical instanceof Unknown
        differ.outcome.data() == [identical: false]
        same.outcome.data() == [identical: true]
        !same.outcome.changed()
    }

    def "image.format reads the format from the contents, not the name"() {
        given:
        def step = new ImageFormat()
        def disguised = file('disguised.raw')
        def raw = file('plain.img')
        vm.qemuImg().create(Path.of(disguised), 'qcow2', 1L << 20)
        vm.qemuImg().create(Path.of(raw), 'raw', 1L << 20)

        expect:
        step.plan(params(step, [path: disguised]), ctx.world()).predictedResult() == [format: 'qcow2']
        run(step, [path: disguised]).outcome.data() == [format: 'qcow2']
        run(step, [path: raw]).outcome.data() == [format: 'raw']
        ImageMagic.detect('QFI\u00fb\u0000\u0000\u0000\u0001'.getBytes('ISO-8859-1')) == 'qcow'
        ImageMagic.detect('conectix'.bytes) == 'vpc'
    }

    def "image.delete refuses a backing file and a disk of a lab VM, in the plan and again just before deleting"() {
        given: 'vda is top.qcow2 over the original vda.qcow2; spare.qcow2 is used by nothing'
        def top = file('top.qcow2')
        def spare = file('spare.qcow2')
        vm.qemuImg().createOverlay(Path.of(top), vm.disk(), 'qcow2')
        vm.qemuImg().create(Path.of(spare), 'qcow2', 1L << 20)
        run(new DiskSwap(), [domain: vm.name(), file: top, format: 'qcow2'])
        def step = new ImageDelete()

        when: 'deleting the backing file'
        step.plan(params(step, [path: vm.disk().toString()]), ctx.world())

        then:
        def e1 = thrown(StepFailure)
        e1.message.contains("refusing to delete ${vm.disk()}: these states need it:\n  - disk vda of domain ${vm.name()} ($top → ${vm.disk()})")

        when: 'deleting the disk'
        step.plan(params(step, [path: top]), ctx.world())

        then:
        def e2 = thrown(StepFailure)
        e2.message.contains("these states need it:\n  - disk vda of domain ${vm.name()} ($top → ${vm.disk()})")

        when: 'the plan was made while spare.qcow2 was unused, and then the VM started using it'
        def p = params(step, [path: spare])
        step.plan(p, ctx.world())
        run(new DiskSwap(), [domain: vm.name(), file: spare, format: 'qcow2'])
        step.apply(p, step.capture(p, ctx), ctx)

        then: 'apply checks again and refuses'
        def e3 = thrown(StepFailure)
        e3.message.contains("these states need it:\n  - disk vda of domain ${vm.name()} ($spare)")
        Files.exists(Path.of(spare))
        Files.exists(vm.disk())
        Files.exists(Path.of(top))
    }

    def "image.delete also refuses while the domain runs, with a symbolic link to the file"() {
        given:
        vm.start()
        def link = vm.dir().resolve('link.qcow2')
        Files.createSymbolicLink(link, vm.disk())
        def step = new ImageDelete()

        when:
        step.apply(params(step, [path: link.toString()]), [:], ctx)

        then:
        def e = thrown(StepFailure)
        e.message.contains("disk vda of domain ${vm.name()} (running)")
        Files.exists(link)
    }

    def "image.delete deletes an unused image irreversibly, as planned"() {
        given:
        def step = new ImageDelete()
        def spare = file('spare.qcow2')
        vm.qemuImg().create(Path.of(spare), 'qcow2', 1L << 20)
        def p = params(step, [path: spare])
        World world = ctx.world()
        def before = snapshotOfWorld()

        when:
        def planned = step.plan(p, world)

        then:
        step.reversibility(p) == Reversibility.IRREVERSIBLE
        world.get(ImageFacts.key(spare)) == null
        world.observed(ImageFacts.key(spare)) != null
        snapshotOfWorld() == before
        planned.actions().last().contains('IRREVERSIBLE')

        when:
        run(step, [path: spare])

        then:
        !Files.exists(Path.of(spare))
        observe(spare) == null
    }

    def "image.delete paths: every file is checked first, so one used file refuses the whole list and deletes nothing"() {
        given:
        def step = new ImageDelete()
        def spare = file('spare.qcow2')
        vm.qemuImg().create(Path.of(spare), 'qcow2', 1L << 20)

        when: 'planned'
        step.plan(params(step, [paths: [spare, vm.disk().toString()]]), ctx.world())

        then:
        def e1 = thrown(StepFailure)
        e1.message.contains("refusing to delete ${vm.disk()}: these states need it:\n  - disk vda of domain ${vm.name()} (${vm.disk()})")

        when: 'applied'
        step.apply(params(step, [paths: [spare, vm.disk().toString()]]), [:], ctx)

        then:
        def e2 = thrown(StepFailure)
        e2.message.contains("refusing to delete ${vm.disk()}")
        Files.exists(Path.of(spare))
        Files.exists(vm.disk())
    }

    def "image.delete paths with skip_used deletes the unused files and keeps the used ones, as planned"() {
        given: 'vda.qcow2 is the disk of the VM; a file named by a snapshot is used too; spare is used by nothing'
        vm.start()
        def step = new ImageDelete()
        def spare = file('spare.qcow2')
        vm.qemuImg().create(Path.of(spare), 'qcow2', 1L << 20)
        def given = [paths: [spare, vm.disk().toString()], skip_used: true]
        World world = ctx.world()

        when:
        def planned = step.plan(params(step, given), world)
        def r = run(step, given)

        then:
        planned.predictedResult().deleted == [spare]
        planned.predictedResult().kept == [vm.disk().toString()]
        planned.actions().any { it.startsWith("keep ${vm.disk()}: used by disk vda of domain ${vm.name()}") }
        r.outcome.data().deleted == [spare]
        r.outcome.data().kept == [vm.disk().toString()]
        r.outcome.data().used_by[vm.disk().toString()].contains("disk vda of domain ${vm.name()}")
        !Files.exists(Path.of(spare))
        Files.exists(vm.disk())
        world.get(ImageFacts.key(spare)) == null
        world.get(ImageFacts.key(vm.disk().toString())) != null
    }

    def "image.delete refuses both path and paths, and neither"() {
        given:
        def step = new ImageDelete()

        when:
        step.plan(params(step, given), ctx.world())

        then:
        def e = thrown(StepFailure)
        e.message.contains(why)

        where:
        given                                  | why
        [:]                                    | 'not neither'
        [path: '/var/tmp/x', paths: ['/y']]    | 'not both'
    }

    def "image.check reports a clean image and is read-only without repair"() {
        given:
        def step = new ImageCheck()
        def p = params(step, [path: vm.disk().toString()])

        when:
        def planned = step.plan(p, ctx.world())
        def r = run(step, [path: vm.disk().toString()])

        then:
        !planned.changes()
        planned.actions() == ["qemu-img check -U -f qcow2 --output=json ${vm.disk()}".toString()]
        step.reversibility(p) == Reversibility.NOTHING_TO_UNDO
        r.outcome.data() == [corruptions: 0L, leaks: 0L, check_errors: 0L, corruptions_fixed: 0L, leaks_fixed: 0L,
                             format: 'qcow2']
    }

    def "image.check refuses to repair an image a running VM has open: #what"() {
        given:
        def top = file('top.qcow2')
        vm.qemuImg().createOverlay(Path.of(top), vm.disk(), 'qcow2')
        run(new DiskSwap(), [domain: vm.name(), file: top, format: 'qcow2'])
        vm.start()
        def step = new ImageCheck()
        def path = what == 'its disk' ? top : vm.disk().toString()
        def p = params(step, [path: path, repair: 'all'])

        when:
        step.plan(p, ctx.world())

        then:
        def e = thrown(StepFailure)
        e.message.startsWith("refusing to repair $path: running domain ${vm.name()} has it open")
        e.hint().contains("shut domain ${vm.name()} down first")

        when: 'apply checks again by itself'
        step.apply(p, [:], ctx)

        then:
        thrown(StepFailure)

        where:
        what << ['its disk', 'its backing file']
    }

    def "image.check finds corruption in an image left dirty, fails verification, and repair: all fixes it keeping the data"() {
        given: 'a lazy-refcounts image whose writer was killed: refcounts never written'
        def dirty = file('dirty.qcow2')
        Command.of('qemu-img', 'create', '-q', '-f', 'qcow2', '-o', 'lazy_refcounts=on', dirty, '16M')
                .run(Duration.ofSeconds(30), { })
        Command.of('qemu-io', '-f', 'qcow2', '-c', 'write -P 0x77 0 1M', '-c', 'sigraise 9', dirty)
                .run(Duration.ofSeconds(30), { })
        def step = new ImageCheck()

        when:
        def p = params(step, [path: dirty])
        def checked = step.apply(p, [:], ctx)

        then:
        checked.data().corruptions > 0
        !step.verify(p, checked, ctx).passed()

        when:
        def repairParams = params(step, [path: dirty, repair: 'all'])
        def planned = step.plan(repairParams, ctx.world())
        def repaired = run(step, [path: dirty, repair: 'all'])

        then:
        planned.changes()
        step.reversibility(repairParams) == Reversibility.IRREVERSIBLE
        repaired.outcome.changed()
        repaired.outcome.data().corruptions == 0L
        repaired.outcome.data().corruptions_fixed > 0
        LabVm.hasPattern(Path.of(dirty), 0x77, '0', '1M')
    }

    def "image.check refuses a raw image in the plan"() {
        given:
        def raw = file('r.raw')
        vm.qemuImg().create(Path.of(raw), 'raw', 1L << 20)
        def step = new ImageCheck()

        when:
        step.plan(params(step, [path: raw]), ctx.world())

        then:
        def e = thrown(StepFailure)
        e.message.contains('is raw, which qemu-img check cannot check')
    }
}
