package dev.snapbook.playbooks.safety

import dev.snapbook.playbooks.RecipeHarness
import dev.snapbook.steps.exec.Command
import spock.lang.Specification
import spock.lang.TempDir
import spock.lang.Unroll

import java.nio.file.Files
import java.nio.file.Path
import java.security.MessageDigest
import java.time.Duration

/**
 * A connection to another machine never reads or writes a file here. For {@code -c qemu+ssh://some-other-host/system}
 * every step that reads or writes image files is refused in the plan, naming the host and where to run instead,
 * while a local file of the very path the playbook names is left exactly as it was (its SHA-256, size and mtime,
 * and its directory's listing): {@code plan} and {@code run --yes} alike, before any connection is made. A URI that
 * names this machine another way is local, and the same playbook reads the file.
 */
class RemoteConnectionSpec extends Specification {

    static final String REMOTE = 'qemu+ssh://some-other-host/system'

    @TempDir
    Path dir

    Path image
    Path other

    def setup() {
        image = dir.resolve('disk with space.qcow2')
        other = dir.resolve('other.qcow2')
        qemuImg('create', '-q', '-f', 'qcow2', image.toString(), '64M')
        qemuImg('create', '-q', '-f', 'qcow2', other.toString(), '64M')
        // data in the image, so that its hash says something
        run('qemu-io', '-f', 'qcow2', '-c', 'write -P 0x5a 1M 1M', image.toString())
    }

    @Unroll
    def "#command over qemu+ssh://some-other-host/system refuses #step in the plan, names the host, and leaves the local file of that path as it was"() {
        given:
        Path playbook = dir.resolve('p.yml')
        def lines = ['name: remote file step', 'steps:', '  - name: The file step', "    ${step}:"]
        params.each { k, v ->
            lines << "      ${k}: \"${v.replace('IMAGE', image.toString()).replace('OTHER', other.toString()).replace('DIR', dir.toString())}\""
        }
        Files.writeString(playbook, lines.join('\n') + '\n')
        def before = state()

        when:
        def (int exit, String out) = RecipeHarness.cli(*(command == 'plan'
                ? ['plan', playbook.toString(), '-c', REMOTE]
                : ['run', playbook.toString(), '--yes', '-c', REMOTE]))

        then: 'the plan refuses the step, naming the host and the way to run there'
        exit == 1
        out.contains("step ${step} reads or writes image files")
        out.contains("the connection ${REMOTE} is to host some-other-host")
        out.contains('run snapbook on some-other-host itself')
        out.contains('snapbook.kvm.playbook')

        and: 'nothing here was read into a change: the same bytes, size, mtime and directory'
        state() == before
        Files.exists(image)

        where:
        [command, step, params] << [['plan', 'run'], [
                ['image.info', [path: 'IMAGE']],
                ['image.check', [path: 'IMAGE', repair: 'all']],
                ['image.delete', [path: 'IMAGE']],
                ['image.convert', [source: 'IMAGE', target: 'DIR/converted.raw', format: 'raw']],
                ['image.create', [path: 'DIR/new.qcow2', backing: 'IMAGE', backing_format: 'qcow2']],
                ['image.compare', [a: 'IMAGE', b: 'OTHER']],
                ['image.format', [path: 'IMAGE']],
                ['chain.verify', [image: 'IMAGE']],
                ['disk.swap', [domain: 'web01', file: 'IMAGE', format: 'qcow2']],
                ['snapshot.create', [domain: 'web01', name: 's1', disk_only: 'true']],
                ['block.commit', [domain: 'web01']],
        ]].combinations().collect { c, s -> [c, s[0], s[1]] }
    }

    def "a step that only talks to libvirt is not refused by the rule: it goes on to connect to the other host"() {
        given:
        Path playbook = dir.resolve('state.yml')
        Files.writeString(playbook, '''\
            name: libvirt only
            steps:
              - name: Is it running
                domain.state:
                  domain: web01
            '''.stripIndent())

        when:
        def (int exit, String out) = RecipeHarness.cli('plan', playbook.toString(), '-c', REMOTE)

        then: 'no file refusal; what stops it is that some-other-host cannot be reached from this machine'
        !out.contains('reads or writes image files')
        out.contains('some-other-host')
        exit == 1
    }

    @Unroll
    def "#uri names this machine: the plan reads the local file"() {
        given:
        Path playbook = dir.resolve('info.yml')
        Files.writeString(playbook, """\
            name: local
            steps:
              - name: Look at it
                image.info:
                  path: "${image}"
            """.stripIndent())

        when:
        def (int exit, String out) = RecipeHarness.cli('plan', playbook.toString(), '-c', uri)

        then:
        exit == 0
        !out.contains('reads or writes image files')

        where:
        uri << ['qemu:///system', 'qemu+ssh://localhost/system', 'qemu+ssh://root@localhost:22/system?no_verify=1',
                'qemu+tcp://127.0.0.1/system', 'qemu+tls://[::1]/system', 'qemu+ssh://' + hostName() + '/system']
    }

    def "snapbook show and snapbook lab refuse another host's connection before connecting, naming it"() {
        when:
        def show = cli('show', 'web01', '-c', REMOTE)
        def lab = cli('lab', 'up', 'remote-refused', '-c', REMOTE)

        then:
        show[0] == 2
        show[1].contains('snapbook show reads the image files')
        show[1].contains('is to host some-other-host')
        lab[0] == 2
        lab[1].contains('is to host some-other-host')
    }

    /** Runs the CLI in-process, stderr captured with stdout. */
    static List cli(String... args) {
        def bytes = new ByteArrayOutputStream()
        PrintStream saved = System.err
        System.setErr(new PrintStream(bytes, true, 'UTF-8'))
        try {
            def (exit, out) = RecipeHarness.cli(args)
            return [exit, out + bytes.toString('UTF-8')]
        } finally {
            System.setErr(saved)
        }
    }

    /** Every file of the directory with its SHA-256, size and mtime. */
    Map<String, List> state() {
        dir.toFile().listFiles().findAll { it.name.endsWith('.qcow2') || it.name.endsWith('.raw') }
                .collectEntries { File f ->
                    Path p = f.toPath()
                    [(f.name): [sha256(p), Files.size(p), Files.getLastModifiedTime(p)]]
                }
    }

    static String sha256(Path f) {
        MessageDigest.getInstance('SHA-256').digest(Files.readAllBytes(f)).encodeHex().toString()
    }

    static String hostName() {
        Files.readString(Path.of('/proc/sys/kernel/hostname')).trim()
    }

    static void qemuImg(String... args) {
        run('qemu-img', *args)
    }

    static void run(String program, String... args) {
        def r = Command.of(program, args).run(Duration.ofSeconds(60), { })
        assert r.succeeded(): r.stderr()
    }
}
