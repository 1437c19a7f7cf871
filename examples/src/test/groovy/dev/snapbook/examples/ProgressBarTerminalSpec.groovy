package dev.snapbook.examples

import dev.snapbook.steps.exec.Command
import dev.snapbook.steps.lab.LabVm
import dev.snapbook.steps.lab.TestStepContext
import dev.snapbook.steps.snapshot.SnapshotCreate
import org.opentest4j.TestAbortedException
import spock.lang.Requires
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration

import static dev.snapbook.steps.lab.TestStepContext.params

/**
 * The progress bar as a user sees it: {@code snapbook run} in a real terminal (a tmux pane, which is a
 * pseudo-terminal) committing a 6 MiB middle layer into the base at 1 MiB/s, the pane captured while the job runs.
 * The same run without a terminal prints plain periodic lines instead.
 */
@Requires(value = { LabVm.available() }, reason = 'needs libvirt with qemu:///system (see LabVm.unavailableReason)')
class ProgressBarTerminalSpec extends Specification {

    static final String BAR = /\[[#.]{24}\]\s+(\d+)%\s+[\d.]+ [KMG]iB\/s\s+ETA \d+:\d\d/

    @TempDir
    Path tmp

    LabVm vm
    String session

    def setup() {
        vm = LabVm.create()
        vm.start()
        vm.writePattern(0x11, '1M', '64k')
        snapshot('s1')
        // 6 MiB in the middle layer vda.s1: at 1 MiB/s its commit into the base takes several seconds.
        vm.writePattern(0x22, '2M', '6M')
        snapshot('s2')
        vm.writePattern(0x33, '10M', '64k')
    }

    private void snapshot(String name) {
        new TestStepContext(LabVm.URI).withCloseable { ctx ->
            def step = new SnapshotCreate()
            def p = params(step, [domain: vm.name(), name: name, disk_only: true])
            assert step.verify(p, step.apply(p, step.capture(p, ctx), ctx), ctx).passed()
        }
    }

    def cleanup() {
        if (session != null) {
            Command.of('tmux', 'kill-session', '-t', session).run(Duration.ofSeconds(10), { })
        }
        vm?.close()
    }

    def "on a terminal a block commit draws one bar, redrawn in place, with percent, rate and time left"() {
        given: 'tmux (installed when missing)'
        String missing = tmuxMissing()
        if (missing != null) {
            throw new TestAbortedException(missing)
        }
        Path playbook = commitPlaybook()
        session = 'snapbook-bar-' + vm.name().substring('snapbook-test-'.length())

        when: 'snapbook runs in a 120-column tmux pane that stays after the process exits'
        tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '30')
        tmux('set-option', '-t', session, 'remain-on-exit', 'on')
        tmux(['respawn-pane', '-k', '-t', session, '-e', 'TERM=xterm-256color'] + snapbook(playbook))
        List<String> duringJob = []
        Set<String> seen = new LinkedHashSet<>()
        String screen = ''
        String status = ''
        boolean dead = false
        long until = System.currentTimeMillis() + 120_000
        while (System.currentTimeMillis() < until) {
            screen = tmux('capture-pane', '-p', '-t', session)
            seen.addAll(screen.readLines().findAll { it.contains('block commit of') })
            Integer percent = barPercent(screen)
            if (percent != null && percent < 100) {
                duringJob << screen
            }
            if (tmux('display-message', '-p', '-t', session, '#{pane_dead}').strip() == '1') {
                dead = true
                break
            }
            Thread.sleep(250)
        }
        // tmux 3.3 marks the pane dead at once but fills in the exit status only when it reaps the process,
        // and sometimes not at all: wait a little for it; the recap line says the same.
        for (int i = 0; i < 20 && dead && status.isEmpty(); i++) {
            Thread.sleep(100)
            status = tmux('display-message', '-p', '-t', session, '#{pane_dead_status}').strip()
        }
        screen = tmux('capture-pane', '-p', '-t', session)

        then: 'the bar was seen mid-job, more than once, with a percent under 100, a rate and an ETA'
        assert duringJob.size() >= 2, "no bar under 100% seen while the job ran; the pane at the end:\n$screen\nlines seen:\n${seen.join('\n')}"
        duringJob.collect { barPercent(it) }.toSet().size() >= 2

        and: 'it was redrawn in place: the pane never held more than one line about the commit at a time'
        duringJob.every { it.readLines().count { it.contains('block commit of') } == 1 }

        and: 'the run succeeded and the bar ended complete, on its own line, before the step line and the recap'
        assert dead && status in ['0', ''], "the run did not end with exit 0 (status '$status'); the pane:\n$screen"
        screen.contains('=> succeeded')
        screen =~ /block commit of .*\[#{24}\] 100%  [\d.]+ [KMG]iB\/s  done in \d+:\d\d/
        screen.readLines().findIndexOf { it.contains('done in') } < screen.readLines().findIndexOf { it.contains('recap:') }

        and: 'the data of the middle layer is in the base image now, and the active layer kept its own'
        LabVm.hasPattern(vm.disk(), 0x22, '2M', '6M')
        LabVm.hasPattern(vm.disk(), 0x11, '1M', '64k')
        !LabVm.hasPattern(vm.disk(), 0x33, '10M', '64k')
        LabVm.hasPattern(vm.dir().resolve('vda.s2'), 0x33, '10M', '64k')
    }

    def "without a terminal the commit prints plain periodic lines; -vv shows the calls and journal entries, --log keeps them"() {
        given:
        Path playbook = commitPlaybook()
        Path log = tmp.resolve('run.log')

        when:
        def result = Command.of(snapbook(playbook, '-vv', '--log', log.toString())).run(Duration.ofMinutes(3), { })
        List<String> out = result.stdout().readLines()

        then: 'plain progress lines, at most one every 2 s, ending at 100%'
        result.exitCode() == 0
        !result.stdout().contains('\r')
        def lines = out.findAll { it.startsWith('  ... block commit of') }
        lines.size() >= 2
        lines.last().endsWith(' 100%')

        and: '-v: each libvirt call, in the order made; the images are read in-process (no qemu-img info process)'
        def commit = out.findIndexOf { it.startsWith('  > virDomainBlockCommit[vda, base=' + vm.disk()) }
        def jobInfo = out.findLastIndexOf { it.startsWith('  > virDomainGetBlockJobInfo[vda]') }
        def info = out.findIndexOf { it.startsWith('  > qemu-img info') }
        assert commit > 0 && jobInfo > commit && info < 0, result.stdout()

        and: '-vv: each journal entry, the step announced before its libvirt call'
        def started = out.findIndexOf { it.startsWith('  journal: {') && it.contains('"event":"step_started"') }
        started > 0 && started < commit
        out.any { it.startsWith('  journal: {') && it.contains('"event":"step_verified"') }

        and: '--log: the same report and traces without colours, with the plan'
        String logged = Files.readString(log)
        logged.startsWith('snapbook run ' + playbook + ' (connection qemu:///system')
        logged.contains('RUN Merge the overlay back into the base, slowly')
        logged.contains('> virDomainBlockCommit[vda')
        logged.contains('"event":"run_finished"')
        logged.contains('recap: ok=0 changed=2')
        !logged.contains('\u001b[')

        and:
        LabVm.hasPattern(vm.disk(), 0x22, '2M', '6M')
    }

    /** The percent shown by the bar on {@code screen}, or null when no bar is drawn. */
    static Integer barPercent(String screen) {
        def m = screen =~ BAR
        m.find() ? m.group(1) as Integer : null
    }

    private Path commitPlaybook() {
        Path playbook = tmp.resolve('commit.yml')
        Files.writeString(playbook, """\
            name: Merge the overlay back into the base, slowly
            steps:
              - name: Drop the metadata of s1, whose overlay the commit merges into the base
                snapshot.delete: { domain: ${vm.name()}, snapshot: s1, metadata_only: true }
              - name: Commit the middle layer at 1 MiB/s
                block.commit:
                  domain: ${vm.name()}
                  disk: vda
                  top: ${vm.dir().resolve('vda.s1')}
                  base: ${vm.disk()}
                  bandwidth: 1
                  timeout: 2m
            """.stripIndent())
        playbook
    }

    /** The java command line of snapbook run, on this test's classpath (engine, steps, recipes). */
    private List<String> snapbook(Path playbook, String... options) {
        [Path.of(System.getProperty('java.home'), 'bin', 'java').toString(),
         '-Dsnapbook.state=' + tmp.resolve('state'),
         '-cp', System.getProperty('java.class.path'),
         'dev.snapbook.engine.cli.Main', 'run', '--yes'] + (options as List<String>) + [playbook.toString()]
    }

    private static String tmux(String... args) {
        tmux(args as List<String>)
    }

    private static String tmux(List<String> args) {
        def r = Command.of(['tmux'] + args).run(Duration.ofSeconds(30), { })
        assert r.succeeded(): "tmux ${args.join(' ')} failed: ${r.stderr()}"
        r.stdout()
    }

    /** Null when tmux runs here, after installing it with apt-get if needed; else why it cannot. */
    static String tmuxMissing() {
        if (runs('tmux', '-V')) {
            return null
        }
        def install = Command.of('apt-get', 'install', '-y', '-q', 'tmux').run(Duration.ofMinutes(5), { })
        if (runs('tmux', '-V')) {
            return null
        }
        "tmux is not installed and apt-get install -y tmux failed (exit ${install.exitCode()}): " +
                install.stderr().strip() + ' — install tmux (scripts/setup does) to run the terminal test'
    }

    private static boolean runs(String... argv) {
        try {
            Command.of(argv as List<String>).run(Duration.ofSeconds(10), { }).succeeded()
        } catch (IOException ignored) {
            false
        }
    }
}
