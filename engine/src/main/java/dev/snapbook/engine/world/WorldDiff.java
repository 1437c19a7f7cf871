package dev.snapbook.engine.world;

import com.fasterxml.jackson.databind.JsonNode;
import dev.snapbook.engine.json.Json;
import dev.snapbook.engine.spi.FactKey;
import dev.snapbook.engine.spi.StepContext;
import dev.snapbook.engine.spi.StepFailure;
import dev.snapbook.engine.spi.World;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Compares facts with the real world now: a saved plan's observations (drift before applying it), or
 * a plan's predicted world (after a real run, the two must be equal).
 */
public final class WorldDiff {

    private WorldDiff() {
    }

    /** One fact that differs: what was expected and what is observed now, as JSON. */
    public record Difference(String key, JsonNode expected, JsonNode actual) {
        @Override
        public String toString() {
            return key + ": expected " + expected + ", found " + actual;
        }
    }

    /** Differences between {@code expected} facts (null = absent) and a fresh observation of each. */
    public static List<Difference> against(Map<FactKey<?>, Object> expected, FactSources sources,
                                           StepContext context) throws StepFailure {
        List<Difference> out = new ArrayList<>();
        for (Map.Entry<FactKey<?>, Object> e : expected.entrySet()) {
            JsonNode want = Json.tree(e.getValue());
            JsonNode have = Json.tree(sources.observe(e.getKey(), context));
            if (!want.equals(have)) {
                out.add(new Difference(e.getKey().toString(), want, have));
            }
        }
        return out;
    }

    /** The facts a world predicts at its end: every observed fact, overlaid with its predictions. */
    public static Map<FactKey<?>, Object> predictedFacts(World world) {
        Map<FactKey<?>, Object> out = new java.util.LinkedHashMap<>(world.observations());
        out.putAll(world.predictions());
        return out;
    }
}
