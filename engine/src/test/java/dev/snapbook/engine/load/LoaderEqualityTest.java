package dev.snapbook.engine.load;

import dev.snapbook.engine.model.Playbook;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** The YAML loader and the Groovy DSL build the same model for equivalent playbooks. */
class LoaderEqualityTest {

    static java.util.List<String> pairs() {
        return PlaybookPairs.NAMES;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pairs")
    void yamlAndGroovyTwinsBuildTheSameModel(String name) throws Exception {
        Playbook yaml = new YamlLoader(Set.of()).load(name + ".yml", PlaybookPairs.text(name, "yml"));
        Playbook groovy = new GroovyLoader().load(name + ".groovy", PlaybookPairs.text(name, "groovy"));
        assertEquals(PlaybookPairs.expected(name), yaml);
        assertEquals(yaml, groovy);
        assertEquals(yaml.hashCode(), groovy.hashCode());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pairs")
    void aOneCharacterChangeBreaksEquality(String name) throws Exception {
        Playbook yaml = new YamlLoader(Set.of()).load(name + ".yml", PlaybookPairs.text(name, "yml"));
        String changed = PlaybookPairs.text(name, "groovy").replaceFirst("domain", "domian");
        Playbook groovy = new GroovyLoader().load(name + ".groovy", changed);
        assertNotEquals(yaml, groovy);
    }
}
