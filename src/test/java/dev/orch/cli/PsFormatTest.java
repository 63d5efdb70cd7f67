package dev.orch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** The RSS column of {@code orch ps}: binary units, one decimal, never a four-digit figure. */
class PsFormatTest {
    @Test
    void rssGoesUpAUnitWhereTheRoundingWould() {
        assertEquals("1023B", PsCommand.rss(1023));
        assertEquals("1.0K", PsCommand.rss(1024));
        assertEquals("1023.9K", PsCommand.rss(1023.9 * 1024));
        assertEquals("1023.4K", PsCommand.rss(1_048_000));
        assertEquals("1.0M", PsCommand.rss(1_048_570), "1023.99K would print as 1024.0K");
        assertEquals("12.5M", PsCommand.rss(12.5 * 1024 * 1024));
        assertEquals("1.0G", PsCommand.rss(1024L * 1024 * 1024 - 1));
        assertNull(PsCommand.rss(null));
    }

    @Test
    void theTableCutsALongNameAndWideShowsItWhole() {
        String name = "n".repeat(40);
        io.vertx.core.json.JsonArray rows = new io.vertx.core.json.JsonArray().add(new io.vertx.core.json.JsonObject()
                .put("id", "p1").put("name", name).put("state", "exited").put("command", new io.vertx.core.json.JsonArray().add("true")));
        String table = PsCommand.render(rows, false);
        org.junit.jupiter.api.Assertions.assertTrue(table.contains("n".repeat(31) + "…"), table);
        org.junit.jupiter.api.Assertions.assertFalse(table.contains(name), table);
        org.junit.jupiter.api.Assertions.assertTrue(PsCommand.render(rows, true).contains(name));
    }
}
