package dev.orch.cli.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Command-line values as JSON: what is refused as a usage error (exit 2), and why. */
class JsonArgsTest {
    @Test
    void aKeywordGivenTwiceIsAUsageError() {
        CliException e = assertThrows(CliException.class, () -> JsonArgs.kwargs(List.of("maxsize=5", "maxsize=6")));
        assertEquals(2, e.exitCode());
        assertEquals("keyword argument maxsize given twice", e.getMessage());
        assertEquals(6, JsonArgs.kwargs(List.of("maxsize=6", "block=true")).getInteger("maxsize"));
    }

    @Test
    void valueNestedTooDeeplyIsNamedAsSuchNotAsInvalidJson() {
        String deep = "[".repeat(300) + "]".repeat(300);
        CliException e = assertThrows(CliException.class, () -> JsonArgs.parse(deep));
        assertEquals(2, e.exitCode());
        assertEquals(true, e.getMessage().startsWith("JSON value exceeds a limit: Document nesting depth"), e.getMessage());
        assertEquals("not valid JSON: [1", assertThrows(CliException.class, () -> JsonArgs.parse("[1")).getMessage());
    }
}
