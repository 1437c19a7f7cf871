package dev.snapbook.engine.cli;

import dev.snapbook.engine.spi.WarmUp;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What start-up leaves out or does in the background must not change what the command line does. */
class StartUpTest {

    private static final Set<String> EVERY_COMMAND = Set.of("run", "plan", "validate", "steps", "recipes", "runs",
            "recover", "schema", "completion", "help");

    @Test
    void aNamedSubcommandIsTheOnlyOneAddedAndAnythingElseGetsTheWholeTree() {
        assertEquals(Set.of("run"), Main.commandLine("run").getSubcommands().keySet());
        assertEquals(Set.of("validate"), Main.commandLine("validate").getSubcommands().keySet());
        for (String first : new String[] {null, "--help", "-V", "help", "completion", "runn"}) {
            Set<String> names = Main.commandLine(first).getSubcommands().keySet();
            assertTrue(names.containsAll(EVERY_COMMAND), first + " gave only " + names);
        }
    }

    @Test
    void everyBuiltInCommandIsListedUnderItsOwnName() {
        Main.BUILT_IN.forEach((name, command) -> assertEquals(name, Main.commandName(command.get().getClass())));
        assertEquals(EVERY_COMMAND, Main.BUILT_IN.keySet());
    }

    @Test
    void aSubcommandsHelpStillNamesItUnderSnapbook() {
        CommandLine cli = Main.commandLine("run");
        StringWriter text = new StringWriter();
        cli.setOut(new PrintWriter(text));
        assertEquals(0, cli.execute("run", "--help"));
        assertTrue(text.toString().startsWith("Usage: snapbook run "), text.toString());
    }

    @Test
    void theRootHelpListsEveryCommand() {
        CommandLine cli = Main.commandLine("--help");
        StringWriter text = new StringWriter();
        cli.setOut(new PrintWriter(text));
        assertEquals(0, cli.execute("--help"));
        for (String name : EVERY_COMMAND) {
            assertTrue(text.toString().contains("\n  " + name + " "), name + " missing from:\n" + text);
        }
    }

    @Test
    void awaitReturnsOnlyWhenEveryWarmUpHasFinishedAndAFailingOneIsIgnored() {
        ConcurrentLinkedQueue<String> done = new ConcurrentLinkedQueue<>();
        WarmUp slow = () -> {
            Thread.sleep(300);
            done.add("slow");
        };
        WarmUp failing = () -> {
            done.add("failing");
            throw new UnsatisfiedLinkError("no libvirt.so.0 here");
        };
        WarmUp quick = () -> done.add("quick");
        WarmUps warmUps = WarmUps.start(List.of(slow, failing, quick));
        warmUps.await();
        assertEquals(Set.of("slow", "failing", "quick"), Set.copyOf(done));
    }
}
