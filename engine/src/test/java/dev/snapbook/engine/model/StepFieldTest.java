package dev.snapbook.engine.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.snapbook.engine.load.StepCatalog;
import dev.snapbook.engine.load.dsl.StepSpec;
import dev.snapbook.engine.schema.PlaybookSchema;
import dev.snapbook.engine.testing.TestSteps;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The step controls are defined once ({@link StepField}); the model, the Groovy DSL and the schema follow
 * that definition (the YAML loader and the DSL's grammar read it directly).
 */
class StepFieldTest {

    @Test
    void theModelHasOneComponentPerFieldInTheSameOrder() {
        List<String> components = Arrays.stream(StepCall.class.getRecordComponents()).map(RecordComponent::getName)
                .filter(n -> !Set.of("type", "params", "location", "fieldLocations").contains(n)).toList();
        assertEquals(StepField.keys(), components);
    }

    @Test
    void theGroovyStepBlockHasOneMethodPerFieldAndNoOtherPublicControl() {
        Set<String> methods = Arrays.stream(StepSpec.class.getDeclaredMethods())
                .filter(m -> Modifier.isPublic(m.getModifiers()) && !m.isSynthetic())
                .map(Method::getName).collect(Collectors.toSet());
        assertEquals(Set.copyOf(StepField.keys()), methods);
    }

    @Test
    void theSchemaDescribesEachFieldAndItsBound() {
        JsonNode step = PlaybookSchema.generate(new StepCatalog(TestSteps.all())).at("/$defs/step/properties");
        List<String> names = new ArrayList<>();
        step.fieldNames().forEachRemaining(names::add);
        assertEquals(StepField.keys(), names.subList(0, StepField.values().length));
        assertEquals(StepField.MAX_RETRIES, step.at("/retries/maximum").asInt());
        for (StepField f : StepField.values()) {
            assertEquals(f.description(), step.at("/" + f.key() + "/description").asText(), f.key());
        }
    }

    @Test
    void theModelRefusesRetriesOutsideTheBound() {
        assertThrows(IllegalArgumentException.class, () -> new StepCall("x", null, null, null, null, List.of(),
                List.of(), StepField.MAX_RETRIES + 1, null, null, null, List.of(), null, null));
    }
}
