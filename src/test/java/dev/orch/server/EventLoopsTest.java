package dev.orch.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.orch.client.OrchClient;
import dev.orch.client.RemoteObject;
import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.OrchException;
import dev.orch.testing.Poll;
import dev.orch.testing.TestServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The server's event loops: how many, where connections land, and calls across loops. */
class EventLoopsTest {
    @Test
    void connectionsSpreadOverTheConfiguredLoopsEachWithItsOwnShard() throws Exception {
        // TestServer's Vert.x has two loops per CPU: three fit from two CPUs up.
        try (TestServer ts = TestServer.start(c -> c.eventLoops(3))) {
            int loops = ts.server.eventLoopCount();
            assertEquals(Math.min(3, 2 * Runtime.getRuntime().availableProcessors()), loops);
            List<OrchClient> clients = new ArrayList<>();
            try {
                for (int i = 0; i < 2 * loops; i++) {
                    clients.add(ts.client());
                }
                Poll.until(Duration.ofSeconds(10), "every client logged in",
                        () -> ts.server.connections().size() == 2 * loops);
                Set<ObjectShard> used = new HashSet<>();
                for (BridgeConnection c : ts.server.connections()) {
                    ObjectShard s = c.localShard();
                    assertNotNull(s, "a connection landed on a loop without a shard");
                    used.add(s);
                }
                assertEquals(loops, used.size(), "connections spread over every loop");

                // Each client's dict lives on its own loop; every client calls every dict, so
                // most calls cross from one loop to another.
                List<RemoteObject> dicts = new ArrayList<>();
                for (int i = 0; i < clients.size(); i++) {
                    RemoteObject d = clients.get(i).create("dict");
                    d.call("__setitem__", "owner", i);
                    dicts.add(d);
                }
                for (OrchClient c : clients) {
                    for (int i = 0; i < dicts.size(); i++) {
                        RemoteObject other = c.lookupId(dicts.get(i).id());
                        assertEquals(i, ((Number) other.call("__getitem__", "owner")).intValue());
                        other.call("__setitem__", "seen", i);
                    }
                }
                for (int i = 0; i < dicts.size(); i++) {
                    assertEquals(2, ((Number) dicts.get(i).call("__len__")).intValue());
                    assertEquals(i, ((Number) dicts.get(i).call("__getitem__", "seen")).intValue());
                }
            } finally {
                clients.forEach(OrchClient::close);
            }
        }
    }

    @Test
    void theDefaultIsHalfTheCpusAtLeastOne() {
        try (TestServer ts = TestServer.start(c -> c.eventLoops(0))) {
            assertEquals(Math.max(1, Runtime.getRuntime().availableProcessors() / 2), OrchServer.defaultEventLoops());
            assertEquals(OrchServer.defaultEventLoops(), ts.server.eventLoopCount());
        }
    }

    @Test
    void aCallOnAnotherLoopIsWithdrawnWhenItsCallerTimesOut() throws Exception {
        try (TestServer ts = TestServer.start(c -> c.eventLoops(2))) {
            List<OrchClient> clients = new ArrayList<>();
            try {
                for (int i = 0; i < 4; i++) {
                    clients.add(OrchClient.connect(ts.clientConfig().callTimeout(Duration.ofMillis(300))));
                }
                RemoteObject q = clients.get(0).create("Queue");
                Set<ObjectShard> shards = new HashSet<>();
                ts.server.connections().forEach(c -> shards.add(c.localShard()));
                assertEquals(2, shards.size(), "the clients did not spread over both loops");
                for (OrchClient c : clients) {
                    // The server would wait for ever; each client gives up and withdraws its get,
                    // through the event bus from the loops where the queue does not live.
                    OrchException e = assertThrows(OrchException.class, () -> c.lookupId(q.id()).call("get"));
                    assertEquals(ErrorCode.TIMEOUT, e.code());
                }
                q.call("put", "item");
                assertEquals(1, ((Number) q.call("qsize")).intValue(), "the item went to a withdrawn get");
            } finally {
                clients.forEach(OrchClient::close);
            }
        }
    }
}
