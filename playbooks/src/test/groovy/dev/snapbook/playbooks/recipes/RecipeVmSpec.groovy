package dev.snapbook.playbooks.recipes

import dev.snapbook.playbooks.RecipeHarness
import dev.snapbook.steps.domain.DomainFactSource
import dev.snapbook.steps.lab.LabVm
import dev.snapbook.steps.libvirt.XmlView
import spock.lang.Requires
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * What every recipe spec on a lab VM shares: the VM, the harness, distinct data patterns at distinct
 * offsets, everything a plan must leave alone, and recipe copies with an injected failing step.
 */
@Requires(value = { LabVm.available() || System.getenv('CI') },
        reason = 'needs libvirt: `virsh -c qemu:///system version` must succeed (run scripts/setup)')
abstract class RecipeVmSpec extends Specification {

    /** Patterns, each written at its own offset (64 KiB each). */
    static final int A = 0xa1, B = 0xb2, C = 0xc3, D = 0xd4
    static final Map<Integer, String> AT = [(A): '1M', (B): '2M', (C): '3M', (D): '4M']

    @TempDir
    Path tmp

    LabVm vm
    RecipeHarness harness

    def setup() {
        vm = LabVm.create(labFormat())
        harness = new RecipeHarness(tmp.resolve('state'))
    }

    def cleanup() {
        vm?.close()
    }

    /** The format of the lab VM's disk. */
    String labFormat() {
        'qcow2'
    }

    void write(int pattern) {
        vm.writePattern(pattern, AT[pattern], '64k')
    }

    /** Which of the patterns {@code image} shows (through its backing chain). */
    static Set<Integer> visible(Path image) {
        AT.keySet().findAll { LabVm.hasPattern(image, it, AT[it], '64k') } as Set
    }

    /** The file behind vda now, as libvirt describes the domain (live when it runs). */
    Path activeFile() {
        Path.of(DomainFactSource.observe(vm.name(), vm.libvirt()).disks().find { it.target() == 'vda' }.source())
    }

    static String sha(Path p) {
        Files.newInputStream(p).withCloseable { it.bytes.sha256() }
    }

    /** The sha256 of every file in the lab directory. */
    Map<String, String> hashes() {
        Files.list(vm.dir()).withCloseable { s -> s.sorted().toList() }
                .collectEntries { [it.fileName.toString(), sha(it)] }
    }

    /** The snapshot's own description (not the embedded domain's), or null: libvirt's XML, up to {@code <domain }. */
    String snapshotDescription(String snapshot) {
        String xml = vm.libvirt().snapshotXmlDesc(vm.name(), snapshot)
        String own = xml.substring(0, xml.indexOf('<domain '))
        def m = own =~ /<description>([^<]*)<\/description>/
        m.find() ? m.group(1) : null
    }

    /**
     * The outcome's drift, without differences that only concern what this test did not create: other
     * runs on the shared host create, change and remove their own lab VMs meanwhile, and a plan that scans
     * every domain (the file-usage guard) observes them too; no plan can predict them. Every difference
     * about this test's domain, its files, or anything else stays.
     */
    List drift(outcome) {
        outcome.drift.findAll { d ->
            String key = d.key()
            if (key == 'domains:all') {
                return ours(d.expected()) != ours(d.actual())
            }
            if (key.startsWith('image:')) {
                String path = key.substring('image:'.length())
                return path.startsWith(vm.dir().toString()) || path.startsWith(tmp.toString())
            }
            if (key ==~ /(domain|definition|snapshots|guest-agent):snapbook-(test|lab)-.*/) {
                return key.endsWith(':' + vm.name())
            }
            true
        }
    }

    private List<String> ours(node) {
        node?.path('names')?.collect { it.asText() }?.findAll { it == vm.name() } ?: []
    }

    List<String> snapshots() {
        vm.libvirt().snapshotNames(vm.name()).sort(false)
    }

    /** Everything a plan must leave alone: state, live and inactive XML, snapshots, current one, bytes. */
    Map world() {
        [state   : vm.state(), live: vm.state().isActive() ? vm.xml(XmlView.LIVE) : null,
         inactive: vm.xml(XmlView.INACTIVE), snapshots: snapshots(),
         current : vm.libvirt().snapshotCurrent(vm.name()), files: hashes()]
    }

    /**
     * A copy of the bundled recipe {@code name} in a user recipe directory (which wins over the bundled
     * one), with a {@code test.fail} step inserted before the step named {@code before}; returns a
     * harness that runs it.
     */
    RecipeHarness failingBefore(String name, String before) {
        String text = RecipeVmSpec.getResourceAsStream("/snapbook/recipes/${name}.yml").text
        String marker = "  - name: ${before}\n"
        assert text.contains(marker)
        Path dir = Files.createDirectories(tmp.resolve('recipes'))
        Files.writeString(dir.resolve("${name}.yml"), text.replace(marker,
                "  - test.fail: { message: injected failure }\n" + marker))
        new RecipeHarness(tmp.resolve('state-failing'), [dir])
    }
}
