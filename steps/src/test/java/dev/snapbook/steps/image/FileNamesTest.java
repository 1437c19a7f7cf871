package dev.snapbook.steps.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.snapbook.engine.spi.StepFailure;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** File names derived from user names fit the file system's limits, and stay distinct when shortened. */
class FileNamesTest {

    @Test
    void aNameThatFitsIsKeptAsItIs() {
        assertEquals("web-vda.revert-s1-1.qcow2", FileNames.fit("web-vda.revert-s1", "-1.qcow2", 255));
    }

    @Test
    void aLongNameIsCutAtACharacterBoundaryAndEndsWithAHashAndItsSuffix() {
        String stem = "d".repeat(50) + "-vda.revert-" + "é".repeat(120);
        String fitted = FileNames.fit(stem, "-1.qcow2", 255);
        assertTrue(FileNames.bytes(fitted) <= 255, fitted);
        assertTrue(fitted.endsWith("-1.qcow2"));
        assertTrue(fitted.matches(".*~[0-9a-f]{8}-1\\.qcow2"), fitted);
        assertTrue(fitted.startsWith("d".repeat(50) + "-vda.revert-é"));
        assertEquals(-1, fitted.indexOf('\uFFFD'), "no letter is cut in half");
    }

    @Test
    void twoLongNamesThatShareTheirStartStayDistinct() {
        String common = "x".repeat(300);
        assertNotEquals(FileNames.fit(common + "a", ".qcow2", 255), FileNames.fit(common + "b", ".qcow2", 255));
    }

    /** Generated stems of ASCII, 2-, 3- and 4-byte letters: every result fits, and the short ones are unchanged. */
    @Test
    void everyGeneratedNameFitsAndDistinctStemsGiveDistinctNames() {
        Random random = new Random(12);
        int[] letters = {'a', 'Z', '-', ' ', 'é', 'ß', '日', '本', 0x1F600, 0x10348};
        Set<String> stems = new HashSet<>();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < 2000; i++) {
            StringBuilder b = new StringBuilder();
            int n = random.nextInt(400);
            for (int j = 0; j < n; j++) {
                b.appendCodePoint(letters[random.nextInt(letters.length)]);
            }
            String stem = b.toString();
            String fitted = FileNames.fit(stem, "-1.qcow2", FileNames.NAME_MAX);
            assertTrue(FileNames.bytes(fitted) <= FileNames.NAME_MAX, fitted);
            if (FileNames.bytes(stem) + 8 <= FileNames.NAME_MAX) {
                assertEquals(stem + "-1.qcow2", fitted);
            }
            String name = FileNames.fitSnapshotName("snapbook-before-revert-" + stem, "-2");
            assertTrue(FileNames.bytes(name) <= FileNames.SNAPSHOT_NAME_MAX, name);
            assertTrue(name.length() <= FileNames.NAME_CHARS, name);
            assertTrue(name.endsWith("-2"));
            if (stems.add(stem)) {
                assertTrue(names.add(fitted), "two stems gave " + fitted);
            }
        }
    }

    @Test
    void aPathWithANameTooLongIsRefusedNamingTheNameAndItsBytes() {
        String name = "é".repeat(130);
        StepFailure e = assertThrows(StepFailure.class, () -> FileNames.requireFits("/var/lib/" + name + ".qcow2",
                "the overlay of disk vda", "give a shorter path"));
        assertEquals("the overlay of disk vda would be named " + name + ".qcow2, which is 266 bytes in UTF-8; file"
                + " names are at most 255 bytes", e.getMessage());
        assertEquals("give a shorter path", e.hint());
    }

    @Test
    void aPathOfNamesThatFitIsAccepted() throws StepFailure { // 126 × 2 + 2 = 254 bytes
        FileNames.requireFits("/var/lib/" + "é".repeat(126) + ".q", "x", "y");
    }
}
