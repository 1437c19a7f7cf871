package dev.snapbook.engine.cli;

import dev.snapbook.engine.json.Json;
import dev.snapbook.engine.spi.WarmUp;

import java.util.List;
import java.util.Map;

/** Initialises the JSON mapper (journal) and the YAML parser (playbooks) with throwaway documents. */
public final class EngineWarmUp implements WarmUp {

    @Override
    public void warmUp() throws Exception {
        Json.MAPPER.readTree(Json.MAPPER.writeValueAsString(Map.of("warm", List.of(1, "up", true))));
        new org.yaml.snakeyaml.Yaml(new org.yaml.snakeyaml.constructor.SafeConstructor(
                new org.yaml.snakeyaml.LoaderOptions())).load("warm: [up]");
    }
}
