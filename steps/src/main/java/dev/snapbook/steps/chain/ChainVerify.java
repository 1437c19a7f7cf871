package dev.snapbook.steps.chain;

import dev.snapbook.engine.spi.Outcome;
import dev.snapbook.engine.spi.Param;
import dev.snapbook.engine.spi.ParamType;
import dev.snapbook.engine.spi.Params;
import dev.snapbook.engine.spi.Planned;
import dev.snapbook.engine.spi.Step;
import dev.snapbook.engine.spi.StepContext;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.engine.spi.Verification;
import dev.snapbook.engine.spi.World;
import dev.snapbook.steps.domain.DiskFacts;
import dev.snapbook.steps.domain.DiskReader;
import dev.snapbook.steps.domain.DomainFacts;
import dev.snapbook.steps.image.BackingChain;
import dev.snapbook.steps.image.ImageFacts;
import dev.snapbook.steps.libvirt.ConnectionHost;
import dev.snapbook.steps.libvirt.Libvirt;
import dev.snapbook.steps.libvirt.XmlView;
import dev.snapbook.steps.qemu.QemuImg;
import dev.snapbook.steps.xml.SafeXml;
import dev.snapbook.steps.state.Damage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Step {@code chain.verify}: checks that a backing chain is healthy — of disk {@code disk} of {@code domain}
 * (its live XML: the files in use now), or of {@code image}. Read-only. It checks that every link exists and is
 * readable, that every declared format (the disk's {@code <driver type>}, each layer's recorded backing format)
 * is the format the file's contents show, that no layer leaves its backing format for qemu to probe, that the
 * chain has no loop, that every qcow2 layer passes {@code qemu-img check -U} (no corruption, no check error;
 * leaks are harmless), and optionally that the chain ends at {@code expect_base} and has {@code expect_depth}
 * images.
 *
 * <p>The plan checks what the facts show (the chain as {@code qemu-img info --backing-chain} reads it, the
 * formats, base and depth); apply does the full check above and fails listing every problem found.
 *
 * <p>Result: {@code {chain: [{file, format}, ...], depth, base}}: the chain top first, {@code depth} the number
 * of images in it including the top (a standalone image has depth 1), {@code base} its last image.
 * Verification walks the chain again and expects the same files and formats.
 */
public final class ChainVerify implements Step {

    @Override
    public String name() {
        return "chain.verify";
    }

    @Override
    public String summary() {
        return "Checks a disk's or an image's backing chain: links, formats, loops, qemu-img check, base and depth.";
    }

    @Override
    public List<Param> params() {
        return List.of(Param.optional("domain", ParamType.NAME, null, "the domain whose disk to check"),
                Param.optional("disk", ParamType.NAME, "vda", "the disk's target device (with domain)"),
                Param.optional("image", ParamType.PATH, null, "an image to check instead of a domain's disk"),
                Param.optional("expect_base", ParamType.PATH, null, "the file the chain must end at"),
                Param.optional("expect_depth", ParamType.INTEGER, null,
                        "how many images the chain must have, the top included"));
    }

    @Override
    public String preconditions() {
        return "Exactly one of domain (with disk) and image must be given; a domain's disk must exist and be a file"
                + " disk. From the plan's facts the chain must be readable, the disk's declared format must match its"
                + " top image, and expect_base and expect_depth must hold; the full check (each link, formats, loops,"
                + " qemu-img check -U of qcow2 layers) runs when the step runs.";
    }

    @Override
    public String verifies() {
        return "Walks the chain again link by link with qemu-img info -U: it must still be sound, with the same files"
                + " and formats. qemu-img check is not run again.";
    }

    @Override
    public String undoes() {
        return "It only reads the chain and checks its layers with -U.";
    }

    /** Where the chain starts: its top file and the format declared for it (null when none is). */
    private record Top(String file, String declaredFormat, String what) {
    }

    @Override
    public Planned plan(Params params, World world) throws StepFailure {
        ConnectionHost.requireLocalFiles(world, name());
        Top top = topFromFacts(params, world);
        Damage.refuseImage(world, top.file(), top.declaredFormat(), top.what());
        ImageFacts facts;
        try {
            facts = world.get(ImageFacts.key(top.file()));
        } catch (StepFailure e) {
            throw new StepFailure("the backing chain of " + top.what() + " is broken: " + e.getMessage(),
                    "inspect it with: qemu-img info -U --backing-chain " + top.file(), e);
        }
        if (facts == null) {
            throw new StepFailure(top.what() + ": " + top.file() + " does not exist", "check the path");
        }
        List<BackingChain.Link> links = new ArrayList<>();
        links.add(new BackingChain.Link(top.file(), top.declaredFormat(), facts.format()));
        facts.backingChain().forEach(l -> links.add(new BackingChain.Link(l.file(), l.format(), l.format())));
        List<String> problems = new ArrayList<>();
        if (top.declaredFormat() != null && !top.declaredFormat().equals(facts.format())) {
            problems.add(top.what() + " is declared " + top.declaredFormat() + " but " + top.file() + " is "
                    + facts.format());
        }
        problems.addAll(expectations(params, links));
        fail(problems, top);
        return Planned.readOnly("walk the chain of " + top.file() + " (each qcow2 header read in-process,"
                + " other formats with qemu-img info -U), then qemu-img check -U each qcow2 layer", result(links));
    }

    @Override
    public Outcome apply(Params params, Map<String, Object> captured, StepContext context) throws StepFailure {
        Top top = topNow(params, context);
        QemuImg qemuImg = new QemuImg(context::trace);
        BackingChain.Walk walk = BackingChain.walk(qemuImg, Path.of(top.file()), top.declaredFormat());
        List<String> problems = new ArrayList<>(walk.problems());
        if (walk.sound()) {
            for (BackingChain.Link link : walk.links()) {
                if (link.detectedFormat().equals("qcow2")) {
                    QemuImg.CheckReport report = qemuImg.check(Path.of(link.file()), "qcow2", QemuImg.Repair.NONE);
                    if (report.corruptions() > 0 || report.checkErrors() > 0) {
                        problems.add("qemu-img check -U " + link.file() + " finds " + report.corruptions()
                                + " corruption(s) and " + report.checkErrors() + " check error(s)");
                    }
                }
            }
            problems.addAll(expectations(params, walk.links()));
        }
        fail(problems, top);
        Map<String, Object> result = result(walk.links());
        return Outcome.unchanged(top.what() + ": chain of " + walk.links().size() + " image(s) is healthy, base "
                + result.get("base"), result);
    }

    @Override
    public Verification verify(Params params, Outcome outcome, StepContext context) throws StepFailure {
        Top top = topNow(params, context);
        BackingChain.Walk walk = BackingChain.walk(new QemuImg(context::trace), Path.of(top.file()),
                top.declaredFormat());
        if (!walk.sound()) {
            return new Verification(false, walk.problems());
        }
        Map<String, Object> now = result(walk.links());
        return Verification.check(now.equals(outcome.data()), "the chain of " + top.what() + " is now " + now
                + ", not " + outcome.data());
    }

    private static Top topFromFacts(Params params, World world) throws StepFailure {
        String image = image(params);
        if (image != null) {
            return new Top(image, null, "image " + image);
        }
        String name = params.string("domain");
        String target = params.string("disk");
        DomainFacts domain = world.get(DomainFacts.key(name));
        if (domain == null) {
            throw new StepFailure("domain '" + name + "' does not exist on this connection",
                    "check the name with: virsh list --all");
        }
        return top(name, target, domain.disks());
    }

    private static Top topNow(Params params, StepContext context) throws StepFailure {
        String image = image(params);
        if (image != null) {
            return new Top(image, null, "image " + image);
        }
        String name = params.string("domain");
        Libvirt libvirt = Libvirt.session(context);
        try {
            return top(name, params.string("disk"), DiskReader.read(libvirt.xmlDesc(name, XmlView.LIVE),
                    "the domain XML of " + name));
        } catch (SafeXml.Refused e) {
            throw new StepFailure(e.getMessage(), "inspect it with: virsh dumpxml " + name, e);
        }
    }

    private static Top top(String domain, String target, List<DiskFacts> disks) throws StepFailure {
        DiskFacts disk = disks.stream().filter(d -> d.target().equals(target)).findFirst().orElseThrow(() ->
                new StepFailure("domain " + domain + " has no disk " + target, "its disks are: "
                        + disks.stream().map(DiskFacts::target).toList()));
        String what = "disk " + target + " of domain " + domain;
        if (!"file".equals(disk.type()) || disk.source() == null) {
            throw new StepFailure(what + " is not backed by a file (type " + disk.type() + ", source "
                    + disk.source() + "); chain.verify checks file chains only", null);
        }
        return new Top(disk.source(), disk.format(), what);
    }

    private static String image(Params params) throws StepFailure {
        String image = params.optString("image");
        String domain = params.optString("domain");
        if ((image == null) == (domain == null)) {
            throw new StepFailure("chain.verify needs either domain (and disk) or image, not "
                    + (image == null ? "neither" : "both"), "give domain: NAME, disk: vda — or image: PATH");
        }
        return image;
    }

    private static List<String> expectations(Params params, List<BackingChain.Link> links) {
        List<String> problems = new ArrayList<>();
        String base = links.get(links.size() - 1).file();
        String expectBase = params.optString("expect_base");
        if (expectBase != null && !BackingChain.sameFile(expectBase, base)) {
            problems.add("the chain ends at " + base + ", not at the expected base " + expectBase);
        }
        if (params.get("expect_depth") != null && params.integer("expect_depth") != links.size()) {
            problems.add("the chain has " + links.size() + " image(s), not the expected " + params.integer("expect_depth"));
        }
        return problems;
    }

    private static void fail(List<String> problems, Top top) throws StepFailure {
        if (!problems.isEmpty()) {
            throw new StepFailure("the backing chain of " + top.what() + " is not healthy: "
                    + String.join("; ", problems), "inspect it with: qemu-img info -U --backing-chain " + top.file());
        }
    }

    private static Map<String, Object> result(List<BackingChain.Link> links) {
        List<Map<String, Object>> chain = new ArrayList<>();
        for (BackingChain.Link link : links) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("file", link.file());
            m.put("format", link.detectedFormat());
            chain.add(m);
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("chain", chain);
        result.put("depth", (long) links.size());
        result.put("base", BackingChain.plain(links.get(links.size() - 1).file()));
        return result;
    }
}
