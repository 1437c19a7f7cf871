package dev.snapbook.engine.spi;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one place where names and paths are checked, whatever step takes them. */
class ParamTypeTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "NAME | a/b             | cannot contain '/'",
            "NAME | ''              | 1 to 200 characters",
            "PATH | relative.qcow2  | absolute path",
            "PATH | /var/../etc     | '..' segments",
            "PATH | /var/./x        | '.' segments"})
    void refusesBadNamesAndPaths(ParamType type, String value, String words) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> type.coerce(value));
        assertTrue(e.getMessage().contains(words), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {"NAME", "PATH", "STRING"})
    void refusesControlCharacters(ParamType type) {
        assertThrows(IllegalArgumentException.class, () -> type.coerce("/a\u0000b"));
        if (type != ParamType.STRING) {
            assertThrows(IllegalArgumentException.class, () -> type.coerce("/a\nb"));
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "NAME | web01; rm -rf x",
            "NAME | <a>&amp;\"'$(x)`y`",
            "PATH | /var/lib/images/a b$c'd.qcow2"})
    void keepsShellAndXmlCharactersAsData(ParamType type, String value) {
        assertEquals(value, type.coerce(value));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {"60 | PT1M", "60s | PT1M", "5m | PT5M", "250ms | PT0.25S"})
    void readsDurations(String text, String expected) {
        Object v = text.matches("\\d+") ? (Object) Long.parseLong(text) : text;
        assertEquals(Duration.parse(expected), ParamType.DURATION.coerce(v));
    }
}
