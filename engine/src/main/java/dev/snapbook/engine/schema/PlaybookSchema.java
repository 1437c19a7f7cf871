package dev.snapbook.engine.schema;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.snapbook.engine.json.Json;
import dev.snapbook.engine.load.StepCatalog;
import dev.snapbook.engine.model.StepField;
import dev.snapbook.engine.spi.Param;
import dev.snapbook.engine.spi.Step;

/**
 * A JSON Schema (draft 2020-12) for YAML playbooks, generated from the step catalogue: every step type
 * and parameter with its description, so that a YAML language server can complete and check playbooks.
 * Template strings ({@code "{{ expr }}"}) are accepted wherever a value is, as the loader accepts them.
 */
public final class PlaybookSchema {

    private static final String TEMPLATE = ".*\\{\\{.*\\}\\}.*";

    private PlaybookSchema() {
    }

    public static ObjectNode generate(StepCatalog catalog) {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("$schema", "https://json-schema.org/draft/2020-12/schema");
        root.put("$id", "https://snapbook.dev/schema/playbook.json");
        root.put("title", "Snapbook playbook");
        root.put("description", "A playbook of snapshot operations on libvirt/QEMU VMs (snapbook run FILE).");
        root.put("type", "object");
        root.putArray("required").add("name").add("steps");
        root.put("additionalProperties", false);
        ObjectNode props = root.putObject("properties");
        props.putObject("name").put("type", "string").put("description", "What the playbook does.");
        props.putObject("vars").put("type", "object")
                .put("description", "Variables; overridden by -e KEY=VALUE. A null value must be given with -e.");
        for (String section : new String[] {"steps", "on_failure", "always"}) {
            ObjectNode list = props.putObject(section);
            list.put("type", "array");
            list.putObject("items").put("$ref", "#/$defs/step");
        }
        props.with("steps").put("minItems", 1).put("description", "The steps, in order.");
        props.with("on_failure").put("description", "Run after a failure, once completed steps were undone.");
        props.with("always").put("description", "Run at the end, whatever happened.");

        ObjectNode defs = root.putObject("$defs");
        defs.set("step", step(catalog, defs));
        return root;
    }

    private static ObjectNode step(StepCatalog catalog, ObjectNode defs) {
        ObjectNode step = Json.MAPPER.createObjectNode();
        step.put("type", "object");
        step.put("description", "One step: exactly one step type, and optional controls.");
        step.put("additionalProperties", false);
        ObjectNode props = step.putObject("properties");
        for (StepField f : StepField.values()) {
            control(props.putObject(f.key()), f).put("description", f.description());
        }
        ArrayNode oneOf = step.putArray("oneOf");
        for (Step s : catalog.all()) {
            String id = "step-" + s.name();
            ObjectNode params = Json.MAPPER.createObjectNode();
            params.put("description", s.summary());
            params.put("type", "object");
            params.put("additionalProperties", false);
            ObjectNode pp = params.putObject("properties");
            ArrayNode required = Json.MAPPER.createArrayNode();
            for (Param p : s.params()) {
                pp.set(p.name(), param(p));
                if (p.required()) {
                    required.add(p.name());
                }
            }
            if (!required.isEmpty()) {
                params.set("required", required);
            }
            defs.set(id, params);
            ObjectNode ref = props.putObject(s.name());
            ref.put("description", s.summary());
            ArrayNode any = ref.putArray("anyOf");
            any.addObject().put("$ref", "#/$defs/" + id);
            if (required.isEmpty()) {
                any.addObject().put("type", "null");
            }
            oneOf.addObject().putArray("required").add(s.name());
        }
        return step;
    }

    /** The schema of one step control, from its kind and bounds. */
    private static ObjectNode control(ObjectNode node, StepField field) {
        return switch (field.kind()) {
            case STRING, EXPRESSION -> node.put("type", "string");
            case VARIABLE -> node.put("type", "string").put("pattern", "^[A-Za-z_][A-Za-z0-9_]*$");
            case EXPRESSIONS, STRINGS -> stringOrList(node);
            case STEPS -> {
                node.put("type", "array").putObject("items").put("$ref", "#/$defs/step");
                yield node;
            }
            case COUNT -> node.put("type", "integer").put("minimum", 0).put("maximum", StepField.MAX_RETRIES);
            case DURATION -> duration(node);
        };
    }

    private static ObjectNode param(Param p) {
        ObjectNode node = Json.MAPPER.createObjectNode();
        node.put("description", p.description() + (p.defaultValue() != null ? " (default " + p.defaultValue() + ")" : ""));
        ArrayNode any = node.putArray("anyOf");
        ObjectNode typed = any.addObject();
        switch (p.type()) {
            case STRING, NAME -> typed.put("type", "string");
            case PATH -> typed.put("type", "string").put("pattern", "^/");
            case INTEGER -> typed.put("type", "integer");
            case BOOLEAN -> typed.put("type", "boolean");
            case DURATION -> duration(typed);
            case LIST -> typed.put("type", "array");
            case MAP -> typed.put("type", "object");
            case EXPRESSIONS -> stringOrList(typed);
            case ANY -> {
            }
        }
        if (!p.choices().isEmpty()) {
            ArrayNode e = typed.putArray("enum");
            p.choices().forEach(e::add);
        }
        any.addObject().put("type", "string").put("pattern", TEMPLATE);
        return node;
    }

    private static ObjectNode duration(ObjectNode node) {
        ArrayNode any = node.putArray("anyOf");
        any.addObject().put("type", "integer").put("minimum", 0);
        any.addObject().put("type", "string").put("pattern", "^\\d{1,9}\\s*(ms|s|m|h)?$");
        return node;
    }

    private static ObjectNode stringOrList(ObjectNode node) {
        ArrayNode any = node.putArray("anyOf");
        any.addObject().put("type", "string");
        any.addObject().put("type", "array").putObject("items").put("type", "string");
        return node;
    }
}
