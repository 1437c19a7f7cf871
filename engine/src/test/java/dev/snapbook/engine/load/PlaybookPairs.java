package dev.snapbook.engine.load;

import dev.snapbook.engine.model.Playbook;
import dev.snapbook.engine.model.StepCall;
import dev.snapbook.engine.model.Template;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Pairs of equivalent playbooks, {@code pairs/NAME.yml} and {@code pairs/NAME.groovy}, with the model
 * both loaders must build from them, written out by hand. Shared by the loaders' tests (it is in the
 * engine's test jar).
 */
public final class PlaybookPairs {

    /** Every pair; together they set every field of {@link StepCall} and every list of {@link Playbook}. */
    public static final List<String> NAMES = List.of("revert-external", "merge-active-layer", "snapshot-with-rollback");

    private PlaybookPairs() {
    }

    /** The text of {@code pairs/NAME.EXTENSION}. */
    public static String text(String name, String extension) {
        String resource = "/pairs/" + name + "." + extension;
        try (InputStream in = PlaybookPairs.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalArgumentException("no test resource " + resource);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The model of the pair {@code name}. */
    public static Playbook expected(String name) {
        return switch (name) {
            case "revert-external" -> revertExternal();
            case "merge-active-layer" -> mergeActiveLayer();
            case "snapshot-with-rollback" -> snapshotWithRollback();
            default -> throw new IllegalArgumentException("no pair " + name);
        };
    }

    private static Playbook revertExternal() {
        return new Playbook("Revert a VM to an external snapshot",
                map("domain", "web01", "snapshot", "snap2"),
                List.of(
                        step("chain.verify", "domain", t("{{ domain }}"), "snapshot", t("{{ snapshot }}"))
                                .name("The snapshot's chain is healthy").build(),
                        step("domain.shutdown", "domain", t("{{ domain }}"), "timeout", "60s", "force", true).build(),
                        step("snapshot.revert", "domain", t("{{ domain }}"), "snapshot", t("{{ snapshot }}"))
                                .name("Point vda at a new overlay over the snapshot's state")
                                .register("reverted").build(),
                        step("domain.start", "domain", t("{{ domain }}"))
                                .verify("reverted.disks.vda.source != null").build()),
                List.of(step("domain.start", "domain", t("{{ domain }}")).build()),
                List.of(),
                null);
    }

    private static Playbook mergeActiveLayer() {
        return new Playbook("Merge the active overlay into its base",
                map("domain", "db01", "disk", "vda", "attempts", 3L, "bandwidth_mib", 64L, "ratio", 0.5),
                List.of(
                        step("agent.ping", "domain", t("{{ domain }}"))
                                .name("Wait for the guest agent").register("agent").retries(5).until("agent.ready")
                                .delay(Duration.ofMillis(250)).timeout(Duration.ofMinutes(2))
                                .tags("agent", "preflight").build(),
                        step("block.commit",
                                "domain", t("{{ domain }}"),
                                "disk", t("{{ disk }}"),
                                "active", true,
                                "pivot", true,
                                "bandwidth", t("{{ bandwidth_mib }}"),
                                "keep_overlay", false,
                                "label", t("{{ domain }}-merged"),
                                "base", t("{{ agent.disks.vda.backing }}"),
                                "wait", map("ready", 10L, "ratio", 0.5),
                                "flags", list("shallow", t("{{ disk }}"), 7L))
                                .register("commit").when("agent.ready").retries(2)
                                .delay(Duration.ofSeconds(10)).timeout(Duration.ofHours(1))
                                .verify("commit.pivoted", "commit.base == agent.disks.vda.backing")
                                .tags("merge").build(),
                        step("image.check", "path", t("{{ commit.base }}"), "repair", "none")
                                .when("commit.pivoted and attempts > 1").build()),
                List.of(),
                List.of(),
                null);
    }

    private static Playbook snapshotWithRollback() {
        return new Playbook("Take a disk-only snapshot, undoably",
                map("domain", "web01", "name", "pre-upgrade", "images", "/var/lib/libvirt/images"),
                List.of(
                        step("domain.freeze", "domain", t("{{ domain }}"))
                                .rollback(step("domain.thaw", "domain", t("{{ domain }}")).build()).build(),
                        step("snapshot.create",
                                "domain", t("{{ domain }}"),
                                "name", t("{{ name }}"),
                                "disk_only", true,
                                "atomic", true,
                                "diskspecs", list(map("disk", "vda",
                                        "file", t("{{ images }}/{{ domain }}-{{ name }}.qcow2"))))
                                .register("snap")
                                .rollback(
                                        step("snapshot.delete", "domain", t("{{ domain }}"),
                                                "snapshot", t("{{ snap.name }}"), "metadata", true)
                                                .name("Drop the snapshot's metadata")
                                                .rollback(step("image.remove", "path", t("{{ snap.disks['vda'].file }}"))
                                                        .tags("cleanup").build())
                                                .build(),
                                        step("domain.thaw", "domain", t("{{ domain }}")).when("domain_paused").build())
                                .build(),
                        step("image.check", "path", t("{{ snap.disks.vda.file }}")).build()),
                List.of(
                        step("domain.resume", "domain", t("{{ domain }}")).when("domain_paused").build(),
                        step("report.note", "text", t("rolled back {{ domain }}")).build()),
                List.of(
                        step("report.write", "path", "/tmp/snapbook-report.txt",
                                "lines", list(t("done {{ domain }}"), 2L, null)).build()),
                null);
    }

    /** A template value, as a string holding {@code {{ }}} loads. */
    public static Template t(String source) {
        return new Template(source);
    }

    /** An ordered map of {@code key, value, key, value...}; values may be null. */
    public static Map<String, Object> map(Object... keysAndValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            m.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return m;
    }

    /** A list whose elements may be null. */
    public static List<Object> list(Object... elements) {
        return Arrays.asList(elements);
    }

    /** A step of {@code type} with the parameters {@code key, value, ...}, to finish with the setters. */
    public static ExpectedStep step(String type, Object... params) {
        return new ExpectedStep(type, map(params));
    }

    /** Builds an expected {@link StepCall}; unset fields have the defaults a loader gives. */
    public static final class ExpectedStep {
        private final String type;
        private final Map<String, Object> params;
        private String name;
        private String when;
        private String register;
        private final List<String> verify = new ArrayList<>();
        private final List<StepCall> rollback = new ArrayList<>();
        private int retries;
        private String until;
        private Duration delay;
        private Duration timeout;
        private final List<String> tags = new ArrayList<>();

        private ExpectedStep(String type, Map<String, Object> params) {
            this.type = type;
            this.params = params;
        }

        public ExpectedStep name(String value) {
            name = value;
            return this;
        }

        public ExpectedStep when(String value) {
            when = value;
            return this;
        }

        public ExpectedStep register(String value) {
            register = value;
            return this;
        }

        public ExpectedStep verify(String... values) {
            verify.addAll(List.of(values));
            return this;
        }

        public ExpectedStep rollback(StepCall... steps) {
            rollback.addAll(List.of(steps));
            return this;
        }

        public ExpectedStep retries(int value) {
            retries = value;
            return this;
        }

        public ExpectedStep until(String value) {
            until = value;
            return this;
        }

        public ExpectedStep delay(Duration value) {
            delay = value;
            return this;
        }

        public ExpectedStep timeout(Duration value) {
            timeout = value;
            return this;
        }

        public ExpectedStep tags(String... values) {
            tags.addAll(List.of(values));
            return this;
        }

        public StepCall build() {
            return new StepCall(type, params, name, when, register, verify, rollback, retries, until, delay, timeout,
                    tags, null, null);
        }
    }
}
