package dev.snapbook.steps.flow

import dev.snapbook.engine.spi.Reversibility
import dev.snapbook.engine.spi.StepFailure
import dev.snapbook.engine.spi.Unknown
import dev.snapbook.engine.spi.World
import dev.snapbook.steps.lab.TestStepContext
import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration
import spock.lang.Specification
import spock.lang.TempDir

import static dev.snapbook.steps.lab.TestStepContext.params

class FlowStepsSpec extends Specification {

    @TempDir
    Path tmp

    TestStepContext ctx = new TestStepContext()
    World world = new World({ key -> throw new AssertionError("observed $key") })

    def cleanup() {
        ctx.close()
    }

    /** A terminal that answers {@code answer} and remembers the questions. */
    static Pause.Terminal answering(String answer, List<String> asked = []) {
        new Pause.Terminal() {
            boolean available() { true }

            String ask(String question) { asked << question; answer }
        }
    }

    static final Pause.Terminal NO_TERMINAL = new Pause.Terminal() {
        boolean available() { false }

        String ask(String question) { throw new AssertionError('asked without a terminal') }
    }

    def "exec passes shell syntax to the program as literal arguments"() {
        given: 'a file that a shell would delete, and arguments a shell would interpret'
        def victim = Files.writeString(tmp.resolve('victim'), 'still here')
        def args = ['; rm -rf ' + victim, '$(rm ' + victim + ')', '`rm ' + victim + '`', '*', "a b", '$HOME', '|', '&&']
        def step = new Exec()

        when:
        def p = params(step, [argv: ['printf', '%s\\n'] + args])
        def planned = step.plan(p, world)
        def outcome = step.apply(p, [:], ctx)

        then: 'printf printed each argument unchanged, one per line, and the file survived'
        outcome.data().exit_code == 0L
        outcome.data().stdout == args.join('\n') + '\n'
        outcome.data().stderr == ''
        Files.readString(victim) == 'still here'
        planned.changes()
        planned.predictedResult().values().every { it instanceof Unknown }
        planned.actions()[0].startsWith("run printf '%s\\n' '; rm -rf ")
        step.verify(p, outcome, ctx).passed()
        step.reversibility(p) == Reversibility.NOTHING_TO_UNDO
    }

    def "exec fails on an unexpected exit code, quoting stderr, and accepts it when expected"() {
        given:
        def step = new Exec()
        def argv = ['sh', '-c', 'echo oops >&2; exit 3']

        when:
        step.apply(params(step, [argv: argv]), [:], ctx)

        then:
        def e = thrown(StepFailure)
        e.message.contains('exited with 3, not 0: oops')
        e.hint().contains('expect_exit')

        when:
        def outcome = step.apply(params(step, [argv: argv, expect_exit: 3]), [:], ctx)

        then:
        outcome.data() == [exit_code: 3L, stdout: '', stderr: 'oops\n']
    }

    def "exec kills a program that outlives its timeout"() {
        given:
        def step = new Exec()
        def started = System.nanoTime()

        when:
        step.apply(params(step, [argv: ['sleep', '30'], timeout: '500ms']), [:], ctx)

        then:
        def e = thrown(StepFailure)
        e.message.contains('did not finish within')
        Duration.ofNanos(System.nanoTime() - started) < Duration.ofSeconds(10)
    }

    def "exec refuses bad argument vectors in the plan: #why"() {
        given:
        def step = new Exec()

        when:
        step.plan(params(step, [argv: argv]), world)

        then:
        def e = thrown(StepFailure)
        e.message.contains(message)

        where:
        why                   | argv                   | message
        'empty'               | []                     | 'argv is empty'
        'a nested list'       | ['ls', ['-l']]         | 'argv[1] is a list'
        'a map'               | ['ls', [a: 1]]         | 'argv[1] is a map'
        'a blank program'     | [' ', 'x']             | 'the program, is blank'
    }

    def "exec says a missing program is not installed"() {
        given:
        def step = new Exec()

        when:
        step.apply(params(step, [argv: ['/nonexistent/snapbook-no-such-program']]), [:], ctx)

        then:
        def e = thrown(StepFailure)
        e.message.startsWith('cannot run /nonexistent/snapbook-no-such-program')
    }

    def "pause waits the seconds given"() {
        given:
        def step = new Pause(NO_TERMINAL)
        def p = params(step, [seconds: '300ms'])
        def started = System.nanoTime()

        when:
        def planned = step.plan(p, world)
        def outcome = step.apply(p, [:], ctx)

        then:
        Duration.ofNanos(System.nanoTime() - started) >= Duration.ofMillis(300)
        !planned.changes()
        planned.actions() == ['wait 0.3s']
        !outcome.changed()
    }

    def "pause asks the operator and goes on only on yes (answer #answer)"() {
        given:
        def asked = []
        def step = new Pause(answering(answer, asked))
        def p = params(step, [prompt: 'Merge the overlays?'])

        when:
        def planned = step.plan(p, world)
        def outcome = null
        def failure = null
        try {
            outcome = step.apply(p, [:], ctx)
        } catch (StepFailure e) {
            failure = e
        }

        then:
        planned.predictedResult().answered_by instanceof Unknown
        asked == ['Merge the overlays?']
        (outcome != null) == goesOn
        goesOn ? outcome.data() == [confirmed: true, answered_by: 'operator']
                : failure.message == 'not confirmed: "Merge the overlays?" (answered by the operator)'

        where:
        answer | goesOn
        'y'    | true
        'YES ' | true
        'n'    | false
        ''     | false
        null   | false
    }

    def "pause without a terminal fails in the plan unless a default is given, which then answers"() {
        given:
        def step = new Pause(NO_TERMINAL)

        when:
        step.plan(params(step, [prompt: 'Go?']), world)

        then:
        def e = thrown(StepFailure)
        e.message.contains('there is no terminal')
        e.hint().contains('default: true')

        when:
        def yes = step.apply(params(step, [prompt: 'Go?', default: true]), [:], ctx)

        then:
        yes.data() == [confirmed: true, answered_by: 'default']

        when:
        step.apply(params(step, [prompt: 'Go?', default: false]), [:], ctx)

        then:
        def no = thrown(StepFailure)
        no.message.contains('answered by the default')
    }

    def "pause refuses #why"() {
        given:
        def step = new Pause(answering('y'))

        when:
        step.plan(params(step, given), world)

        then:
        def e = thrown(StepFailure)
        e.message.contains(message)

        where:
        why                      | given                              | message
        'neither seconds nor prompt' | [:]                            | 'exactly one of seconds and prompt'
        'both'                   | [seconds: 1, prompt: 'x']          | 'not both'
        'a default for a wait'   | [seconds: 1, default: true]        | 'default applies to a prompt'
    }
}
