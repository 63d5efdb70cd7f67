package dev.orch.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Addresses as a user writes them and as error messages show them. */
class ClientConfigTest {

    @Test
    void anAddressReadsBackAsItWasWritten() {
        for (String a : new String[] {"127.0.0.1:55555", "orch.example:1", "[::1]:7000", "[fe80::1%eth0]:9"}) {
            assertEquals(a, new ClientConfig().address(a).address());
        }
        assertEquals("127.0.0.1:4000", new ClientConfig().address(":4000").address());
        assertEquals("[::1]:55555", new ClientConfig().address("[::1]").address());
    }

    @Test
    void aMalformedAddressIsRefusedWithItsText() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ClientConfig().address("h:99999"));
        assertEquals("port out of range in address 'h:99999'", e.getMessage());
    }
}
