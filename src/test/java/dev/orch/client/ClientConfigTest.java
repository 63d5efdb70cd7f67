package dev.orch.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    @Test
    void aKeyThatCannotWorkIsRefusedWhenSet() {
        assertEquals("authKey: the key is null",
                assertThrows(NullPointerException.class, () -> new ClientConfig().authKey(null)).getMessage());
        assertEquals("authKey: the key is empty",
                assertThrows(IllegalArgumentException.class, () -> new ClientConfig().authKey(new byte[0])).getMessage());
        assertEquals("config", assertThrows(NullPointerException.class, () -> OrchClient.connect(null)).getMessage());
    }

    @Test
    void durationsThatCannotWorkAreRefusedNamingTheSetter() {
        ClientConfig c = new ClientConfig();
        for (java.time.Duration d : new java.time.Duration[] {java.time.Duration.ZERO, java.time.Duration.ofSeconds(-1), null}) {
            String m = assertThrows(IllegalArgumentException.class, () -> c.connectTimeout(d)).getMessage();
            assertTrue(m.startsWith("connectTimeout "), m);
        }
        for (java.time.Duration d : new java.time.Duration[] {java.time.Duration.ofSeconds(-1), null}) {
            assertTrue(assertThrows(IllegalArgumentException.class, () -> c.callTimeout(d)).getMessage().startsWith("callTimeout "));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> c.pingInterval(d)).getMessage().startsWith("pingInterval "));
        }
        // Zero means something for these: no call timeout, no pings.
        assertEquals(java.time.Duration.ZERO, c.callTimeout(java.time.Duration.ZERO).callTimeout());
        assertEquals(java.time.Duration.ZERO, c.pingInterval(java.time.Duration.ZERO).pingInterval());
        assertEquals(java.time.Duration.ofSeconds(10), c.connectTimeout());
    }
}
