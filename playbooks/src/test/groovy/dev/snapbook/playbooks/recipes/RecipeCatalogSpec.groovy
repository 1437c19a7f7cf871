package dev.snapbook.playbooks.recipes

import dev.snapbook.engine.cli.Main
import dev.snapbook.engine.load.GroovyLoader
import dev.snapbook.engine.load.PlaybookFiles
import dev.snapbook.engine.load.StepCatalog
import dev.snapbook.engine.load.YamlLoader
import dev.snapbook.engine.model.Playbook
import spock.lang.Specification

/**
 * The bundled recipes without a VM: {@code snapbook recipes} lists them with their parameters, every
 * bundled recipe validates, and the Groovy twins load to the same model as their YAML.
 */
class RecipeCatalogSpec extends Specification {

    static final StepCatalog CATALOG = StepCatalog.load(RecipeCatalogSpec.classLoader)

    /** Each recipe of this family and its parameters as `snapbook recipes` shows them. */
    static final Map<String, List<String>> MINE = [
            'internal-snapshot-create': ['-e domain=VALUE', '-e name=VALUE', '[-e description=]'],
            'internal-snapshot-revert': ['-e domain=VALUE', '-e snapshot=VALUE'],
            'internal-snapshot-delete': ['-e domain=VALUE', '-e snapshot=VALUE', '[-e children=false]'],
            'external-snapshot-create': ['-e domain=VALUE', '-e name=VALUE', '[-e description=]', '[-e disk=all]',
                                         '[-e file=]', '[-e quiesce=false]', '[-e reuse=false]'],
            'convert-image'           : ['-e source=VALUE', '-e target=VALUE', '-e format=VALUE'],
            'check-image'             : ['-e image=VALUE', '[-e repair=none]'],
            'snapshot-discard'        : ['-e domain=VALUE', '-e snapshot=VALUE']]

    static String text(String resource) {
        RecipeCatalogSpec.getResourceAsStream("/snapbook/recipes/${resource}").text
    }

    def "snapbook recipes lists every recipe of the snapshot and image family with its parameters, and exits 0"() {
        given:
        def out = new ByteArrayOutputStream()
        def saved = System.out
        System.out = new PrintStream(out, true, 'UTF-8')

        when:
        int exit
        try {
            exit = Main.execute('recipes')
        } finally {
            System.out = saved
        }
        List<String> lines = out.toString('UTF-8').readLines()

        then:
        exit == 0
        !lines.any { it.contains('INVALID') }
        MINE.every { name, params ->
            int i = lines.findIndexOf { it.startsWith(name + ' ') }
            assert i >= 0: "recipes does not list $name:\n${lines.join('\n')}"
            assert lines[i].substring(name.length()).strip() ==
                    new YamlLoader(CATALOG.names()).load(name, text(name + '.yml')).name()
            assert lines[i + 1].strip() == params.join(' ')
            true
        }
    }

    def "every bundled recipe in the index loads and validates: #name"() {
        expect:
        new PlaybookFiles(CATALOG, []).load("recipe:$name").name()

        where:
        name << new PlaybookFiles(CATALOG, []).recipeNames()
    }

    def "the index lists every recipe of this family"() {
        expect:
        new PlaybookFiles(CATALOG, []).recipeNames().containsAll(MINE.keySet())
    }

    def "the Groovy twin of #name loads to the same model as its YAML"() {
        when:
        Playbook yaml = new YamlLoader(CATALOG.names()).load("${name}.yml", text("${name}.yml"))
        Playbook groovy = new GroovyLoader().load("${name}.groovy", text("${name}.groovy"))

        then:
        groovy == yaml
        groovy.hashCode() == yaml.hashCode()

        when: 'one character changes in the Groovy twin'
        Playbook changed = new GroovyLoader().load("${name}.groovy", text("${name}.groovy")
                .replaceFirst("register '", "register 'x"))

        then: 'the models differ, so the comparison can fail'
        changed != yaml

        where:
        name << ['internal-snapshot-create', 'check-image']
    }
}
