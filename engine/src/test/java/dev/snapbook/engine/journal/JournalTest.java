package dev.snapbook.engine.journal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.snapbook.engine.json.Json;
import dev.snapbook.engine.run.Locks;
import dev.snapbook.engine.testing.Harness;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JournalTest {

    @TempDir
    Path dir;

    private static String mode(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    @Nested
    class PrivateToTheUser {
        @Test
        void theStateDirectoryIsCreated0700AndEachJournal0600() throws Exception {
            Path state = dir.resolve("home/.local/state/snapbook");
            try (Journal j = Journal.create(state)) {
                j.write(JournalEvent.RUN_STARTED, Map.of());
                assertEquals("rw-------", mode(j.file()));
            }
            assertEquals("rwx------", mode(state));
            assertEquals("rwx------", mode(state.getParent()), "every directory it had to create");
            assertEquals("rwx------", mode(dir.resolve("home")));
        }

        @Test
        void theLocksDirectoryAndLockFilesArePrivateToo() throws Exception {
            Path state = dir.resolve("state");
            try (Locks held = Locks.acquire(state, "qemu:///system", List.of("domain:web01"), "test", Duration.ZERO)) {
                Path locks = state.resolve("locks");
                assertEquals("rwx------", mode(state));
                assertEquals("rwx------", mode(locks));
                try (Stream<Path> files = Files.list(locks)) {
                    for (Path f : files.toList()) {
                        assertEquals("rw-------", mode(f), f.toString());
                    }
                }
            }
        }

        @Test
        void aDirectoryThatExistsKeepsItsModeButTheJournalInItIsStill0600() throws Exception {
            Path shared = Files.createDirectory(dir.resolve("shared"));
            Set<PosixFilePermission> chosen = PosixFilePermissions.fromString("rwxr-x---");
            Files.setPosixFilePermissions(shared, chosen);
            try (Journal j = Journal.create(shared)) {
                assertEquals("rw-------", mode(j.file()));
            }
            assertEquals(chosen, Files.getPosixFilePermissions(shared));
        }

        @Test
        void aRunThroughTheRunnerLeavesOnlyPrivateFiles() throws Exception {
            Path state = dir.resolve("state");
            new Harness().run("name: x\nsteps:\n  - test.set: { counter: a, value: 1 }\n", state);
            assertEquals("rwx------", mode(state));
            try (Stream<Path> files = Files.walk(state)) {
                for (Path f : files.filter(Files::isRegularFile).toList()) {
                    assertEquals("rw-------", mode(f), f.toString());
                }
            }
        }
    }

    @Nested
    class FormatVersion {
        private Path journalOfARun() throws Exception {
            Path state = dir.resolve("state");
            new Harness().run("name: x\nsteps:\n  - test.set: { counter: a, value: 1 }\n  - test.fail: {}\n", state);
            try (Stream<Path> files = Files.list(state)) {
                return files.filter(p -> p.toString().endsWith(".jsonl")).findFirst().orElseThrow();
            }
        }

        @Test
        void everyEntryCarriesTheFormatVersion() throws Exception {
            List<String> lines = Files.readAllLines(journalOfARun(), StandardCharsets.UTF_8);
            assertTrue(lines.size() > 3, lines.toString());
            for (String line : lines) {
                JsonNode entry = Json.MAPPER.readTree(line);
                assertEquals(Journal.FORMAT_VERSION, entry.path("v").asInt(-1), line);
                assertEquals("v", entry.fieldNames().next(), "first, so that a reader sees it before the rest");
            }
        }

        @Test
        void aJournalWrittenBeforeTheVersionFieldReadsTheSame() throws Exception {
            Path current = journalOfARun();
            Path old = dir.resolve("old.jsonl");
            String withoutVersion = Files.readAllLines(current, StandardCharsets.UTF_8).stream()
                    .map(line -> line.replaceFirst("^\\{\"v\":" + Journal.FORMAT_VERSION + ",", "{"))
                    .collect(Collectors.joining("\n", "", "\n"));
            assertTrue(!withoutVersion.contains("\"v\":"), withoutVersion);
            Files.writeString(old, withoutVersion);
            RunRecord a = RunRecord.read(current);
            RunRecord b = RunRecord.read(old);
            assertEquals("rolled back", a.status());
            assertEquals(a.status(), b.status());
            assertEquals(a.runId(), b.runId());
            assertEquals(a.steps(), b.steps());
        }

        @Test
        void aJournalOfANewerFormatIsRefusedNotMisread() throws Exception {
            Path newer = dir.resolve("newer.jsonl");
            Files.writeString(newer, "{\"v\":" + (Journal.FORMAT_VERSION + 1)
                    + ",\"ts\":\"2026-01-01T00:00:00Z\",\"run\":\"r\",\"event\":\"run_started\"}\n");
            IOException e = assertThrows(IOException.class, () -> RunRecord.read(newer));
            assertTrue(e.getMessage().contains("newer snapbook"), e.getMessage());
        }
    }
}
