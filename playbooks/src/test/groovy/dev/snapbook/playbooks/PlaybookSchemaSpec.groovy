package dev.snapbook.playbooks

import com.fasterxml.jackson.databind.JsonNode
import com.networknt.schema.SchemaRegistry
import com.networknt.schema.SpecificationVersion
import dev.snapbook.engine.json.Json
import dev.snapbook.engine.load.PlaybookFiles
import dev.snapbook.engine.load.StepCatalog
import dev.snapbook.engine.schema.PlaybookSchema
import org.yaml.snakeyaml.LoaderOptions
import org.yaml.snakeyaml.Yaml
import org.yaml.snakeyaml.constructor.SafeConstructor
import spock.lang.Shared
import spock.lang.Specification

/** The JSON Schema from {@code snapbook schema} accepts every bundled recipe and rejects what the loader rejects. */
class PlaybookSchemaSpec extends Specification {

    @Shared
    StepCatalog catalog = StepCatalog.load(PlaybookSchemaSpec.classLoader)

    @Shared
    def schema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
            .getSchema(PlaybookSchema.generate(catalog))

    static JsonNode yaml(String text) {
        Json.MAPPER.valueToTree(new Yaml(new SafeConstructor(new LoaderOptions())).load(text))
    }

    def "accepts the bundled recipe #recipe"() {
        given:
        def source = new PlaybookFiles(catalog, []).read("recipe:$recipe")

        expect:
        schema.validate(yaml(source.text())).isEmpty()

        where:
        recipe << new PlaybookFiles(StepCatalog.load(PlaybookSchemaSpec.classLoader), []).recipeNames()
    }

    def "accepts the quickstart and a playbook using every control field"() {
        expect:
        schema.validate(yaml(new File(System.getProperty('snapbook.root'), 'examples/quickstart.yml').text)).isEmpty()
        schema.validate(yaml('''\
            name: x
            vars: { d: web01 }
            steps:
              - name: stop
                domain.shutdown: { domain: "{{ d }}", timeout: 30s, force: true }
                when: "d != ''"
                register: s
                verify: ["s.changed"]
                rollback:
                  - domain.start: { domain: "{{ d }}" }
                retries: 2
                until: s.changed
                delay: 1s
                timeout: 5m
                tags: [stop]
            on_failure:
              - domain.start: { domain: web01 }
            always:
              - domain.state: { domain: web01 }
            '''.stripIndent())).isEmpty()
    }

    def "rejects #what"() {
        expect:
        !schema.validate(yaml(text)).isEmpty()

        where:
        what                        | text
        'an unknown parameter'      | 'name: x\nsteps:\n  - domain.state: { domian: web01 }\n'
        'a missing parameter'       | 'name: x\nsteps:\n  - domain.state: {}\n'
        'an unknown step type'      | 'name: x\nsteps:\n  - domain.stat: { domain: web01 }\n'
        'two step types in one item'| 'name: x\nsteps:\n  - domain.state: { domain: a }\n    domain.start: { domain: a }\n'
        'a misspelled field'        | 'name: x\nsteps:\n  - domain.state: { domain: a }\n    regsiter: r\n'
        'a relative path'           | 'name: x\nsteps:\n  - image.info: { path: vda.qcow2 }\n'
        'a word for a boolean'      | 'name: x\nsteps:\n  - domain.shutdown: { domain: a, force: maybe }\n'
        'no steps'                  | 'name: x\n'
    }
}
