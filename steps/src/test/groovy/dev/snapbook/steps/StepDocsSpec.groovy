package dev.snapbook.steps

import dev.snapbook.engine.spi.Step
import spock.lang.Specification

/**
 * Every step of the catalogue explains itself for {@code snapbook steps NAME}: a summary, what its plan checks,
 * what it verifies, how it is undone, and a description for each parameter.
 */
class StepDocsSpec extends Specification {

    /** The steps ServiceLoader finds, without the engine's test doubles that its test-jar adds to the class path. */
    static List<Step> steps() {
        ServiceLoader.load(Step).findAll { it.class.name.startsWith('dev.snapbook.steps.') }
    }

    def "ServiceLoader finds the whole catalogue"() {
        expect:
        steps().size() >= 33
    }

    def "#name has a summary, preconditions, verifies and undoes text"() {
        expect:
        step.summary()?.trim()
        step.preconditions()?.trim()
        step.verifies()?.trim()
        step.undoes()?.trim()

        where:
        step << steps()
        name = step.name()
    }

    def "every parameter of #name has a description"() {
        expect:
        step.params().findAll { !it.description()?.trim() }*.name() == []

        where:
        step << steps()
        name = step.name()
    }
}
