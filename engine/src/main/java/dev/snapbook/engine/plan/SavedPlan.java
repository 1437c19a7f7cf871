package dev.snapbook.engine.plan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.snapbook.engine.json.Json;
import dev.snapbook.engine.load.PlaybookFiles;
import dev.snapbook.engine.spi.FactKey;
import dev.snapbook.engine.spi.FactSource;
import dev.snapbook.engine.world.FactSources;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A plan saved with {@code plan --out FILE}: the playbook's exact text, the variables and tags, the
 * connection, and every fact the plan observed. {@code run FILE.plan} runs that text, after checking
 * that the world still matches those observations (including facts observed as absent, such as a file
 * the plan will create).
 */
public record SavedPlan(int formatVersion, PlaybookFiles.Source source, Map<String, Object> extraVars,
                        Set<String> tags, String connection, Map<FactKey<?>, Object> observations) {

    public static final int FORMAT_VERSION = 1;

    /** Writes {@code report}'s plan to {@code file}. */
    public static void write(Path file, PlaybookFiles.Source source, Map<String, Object> extraVars, Set<String> tags,
                             String connection, PlanReport report) throws IOException {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("format_version", FORMAT_VERSION);
        root.put("kind", "snapbook-plan");
        ObjectNode pb = root.putObject("playbook");
        pb.put("display_name", source.displayName());
        pb.put("groovy", source.groovy());
        pb.put("text", source.text());
        root.set("extra_vars", Json.tree(extraVars));
        root.set("tags", Json.tree(java.util.List.copyOf(tags)));
        root.put("connection", connection);
        ArrayNode obs = root.putArray("observations");
        report.world().observations().forEach((k, v) -> {
            ObjectNode o = obs.addObject();
            o.put("kind", k.kind());
            o.put("id", k.id());
            o.set("fact", Json.tree(v));
        });
        root.set("steps", Json.MAPPER.valueToTree(report.steps()));
        Files.writeString(file, Json.pretty(root) + "\n");
    }

    /**
     * Reads a saved plan.
     *
     * @throws IllegalArgumentException saying what is wrong with the file
     */
    public static SavedPlan read(Path file, FactSources sources) throws IOException {
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(file.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(file + ": not a saved plan (invalid JSON at line "
                    + e.getLocation().getLineNr() + ": " + e.getOriginalMessage() + ")");
        }
        if (root == null || !"snapbook-plan".equals(root.path("kind").asText())) {
            throw new IllegalArgumentException(file + ": not a saved plan (no \"kind\": \"snapbook-plan\")");
        }
        int version = root.path("format_version").asInt();
        if (version != FORMAT_VERSION) {
            throw new IllegalArgumentException(file + ": saved plan format " + version + " is not supported ("
                    + FORMAT_VERSION + " is); plan again with this version of snapbook");
        }
        JsonNode pb = root.path("playbook");
        PlaybookFiles.Source source = new PlaybookFiles.Source(pb.path("display_name").asText(),
                pb.path("text").asText(), pb.path("groovy").asBoolean());
        Map<String, Object> extraVars = new LinkedHashMap<>();
        root.path("extra_vars").fields().forEachRemaining(e -> extraVars.put(e.getKey(), e.getValue().asText()));
        Set<String> tags = new java.util.LinkedHashSet<>();
        root.path("tags").forEach(t -> tags.add(t.asText()));
        Map<FactKey<?>, Object> observations = new LinkedHashMap<>();
        for (JsonNode o : root.path("observations")) {
            String kind = o.path("kind").asText();
            FactSource fs = sources.get(kind);
            if (fs == null) {
                throw new IllegalArgumentException(file + ": the plan observed '" + kind
                        + "' facts, which no installed fact source provides");
            }
            JsonNode fact = o.path("fact");
            Object value = fact.isNull() ? null : Json.MAPPER.treeToValue(fact, fs.type());
            observations.put(new FactKey<>(kind, o.path("id").asText(), (Class<Object>) fs.type()), value);
        }
        return new SavedPlan(version, source, extraVars, tags, root.path("connection").asText(), observations);
    }
}
