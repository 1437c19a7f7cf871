package dev.snapbook.playbooks.recipes

import dev.snapbook.playbooks.RecipeHarness
import dev.snapbook.steps.domain.DomainFactSource
import dev.snapbook.steps.lab.LabVm
import dev.snapbook.steps.lab.TestStepContext
import dev.snapbook.steps.libvirt.XmlView
import dev.snapbook.steps.snapshot.SnapshotCreate
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

import static dev.snapbook.steps.lab.TestStepContext.params

/**
 * What the specs of the external-snapshot recipes share: a lab VM, distinct data patterns at distinct
 * offsets (A before s1, B before s2, C before s3, D after), a picture of everything a plan must leave alone,
 * and a copy of a recipe with an injected failing step.
 */
abstract class ExternalRecipeSupport extends Specification {

    static final int A = 0xa1, B = 0xb2, C = 0xc3, D = 0xd4, E = 0xe5
    static final Map<Integer, String> AT = [(A): '1M', (B): '2M', (C): '3M', (D): '4M', (E): '5M']

    @TempDir
    Path tmp

    LabVm vm
    RecipeHarness harness

    def setup() {
        vm = LabVm.create()
        harness = new RecipeHarness(tmp.resolve('state'), [tmp.resolve('recipes')])
        Files.createDirectories(tmp.resolve('recipes'))
    }

    def cleanup() {
        vm?.close()
    }

    void write(int pattern) {
        vm.writePattern(pattern, AT[pattern], '64k')
    }

    /** The patterns visible through {@code image}'s chain. */
    static Set<Integer> visible(Path image) {
        AT.keySet().findAll { LabVm.hasPattern(image, it, AT[it], '64k') } as Set
    }

    Set<Integer> visible(String image) {
        visible(Path.of(image))
    }

    Path file(String name) {
        vm.dir().resolve(name)
    }

    /** Takes a disk-only external snapshot of the running VM (overlay DIR/vda.NAME). */
    void snapshot(String name) {
        def step = new SnapshotCreate()
        new TestStepContext(LabVm.URI).withCloseable { ctx ->
            def p = params(step, [domain: vm.name(), name: name, disk_only: true])
            def out = step.apply(p, step.capture(p, ctx), ctx)
            assert step.verify(p, out, ctx).passed()
        }
    }

    static String sha(Path p) {
        Files.newInputStream(p).withCloseable { it.bytes.sha256() }
    }

    Map<String, String> hashes() {
        Files.list(vm.dir()).withCloseable { s -> s.sorted().toList() }.collectEntries { [it.fileName.toString(), sha(it)] }
    }

    /** The active image of vda now, from the live XML. */
    String activeFile() {
        DomainFactSource.observe(vm.name(), vm.libvirt()).disks().find { it.target() == 'vda' }.source()
    }

    /** Everything a plan must leave alone. */
    List world() {
        [vm.state(), vm.xml(XmlView.LIVE), vm.xml(XmlView.INACTIVE), vm.libvirt().snapshotNames(vm.name()).sort(false),
         vm.libvirt().snapshotCurrent(vm.name()), hashes()]
    }

    List<String> snapshots() {
        vm.libvirt().snapshotNames(vm.name()).sort(false)
    }

    /** A copy of bundled recipe {@code name} with a failing step inserted before the step named {@code before}. */
    void injectFailure(String name, String before) {
        String text = RecipeHarness.getResourceAsStream("/snapbook/recipes/${name}.yml").text
        String marker = "  - name: ${before}\n"
        assert text.contains(marker)
        text = text.replace(marker, "  - test.fail: { message: injected failure }\n" + marker)
        Files.writeString(tmp.resolve('recipes').resolve(name + '.yml'), text)
    }

    /**
     * The differences between the world after a run and the plan's prediction that concern this VM: its
     * domain, snapshots and images, and whether it is in the domain list. image.delete's plan looks at every
     * domain on the connection (a file could be used by any of them); other test runs on the same host create
     * and remove their own lab VMs meanwhile, which no recipe can predict and which are none of its business.
     */
    List ownDrift(def out) {
        RecipeHarness.ownDrift(out, vm.name(), [vm.dir()])
    }

    Map vars(Map extra) {
        [domain: vm.name(), timeout: '1s'] + extra
    }
}
