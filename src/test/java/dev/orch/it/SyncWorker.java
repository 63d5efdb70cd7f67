package dev.orch.it;

import dev.orch.auth.AuthKeys;
import dev.orch.client.ClientConfig;
import dev.orch.client.OrchClient;
import dev.orch.client.RemoteObject;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A separate OS process using orch's sync types, for {@link SyncAcrossProcessesIT}:
 * {@code SyncWorker ADDRESS KEYFILE MODE ARGS…}. Prints progress lines the test waits for.
 */
public final class SyncWorker {
    private SyncWorker() {
    }

    public static void main(String[] args) throws Exception {
        ClientConfig cfg = new ClientConfig().address(args[0]).authKey(AuthKeys.read(Path.of(args[1])))
                .name("sync-worker").callTimeout(Duration.ZERO);
        try (OrchClient c = OrchClient.connect(cfg)) {
            String mode = args[2];
            switch (mode) {
                case "produce": {
                    // produce QUEUE FROM TO
                    RemoteObject q = c.lookup(args[3]);
                    for (int i = Integer.parseInt(args[4]); i < Integer.parseInt(args[5]); i++) {
                        q.call("put", i);
                    }
                    break;
                }
                case "consume": {
                    // consume QUEUE RESULTS_LIST: until it gets -1
                    RemoteObject q = c.lookup(args[3]);
                    RemoteObject out = c.lookup(args[4]);
                    while (true) {
                        Object item = q.call("get");
                        if (((Number) item).intValue() < 0) {
                            break;
                        }
                        out.call("append", item);
                    }
                    break;
                }
                case "count": {
                    // count LOCK DICT N: N read-modify-write increments under the lock
                    RemoteObject lock = c.lookup(args[3]);
                    RemoteObject d = c.lookup(args[4]);
                    for (int i = 0; i < Integer.parseInt(args[5]); i++) {
                        lock.call("acquire");
                        long v = ((Number) d.call("get", "n", 0)).longValue();
                        d.call("__setitem__", "n", v + 1);
                        lock.call("release");
                    }
                    break;
                }
                case "hold": {
                    // hold LOCK: acquire and never release
                    c.lookup(args[3]).call("acquire");
                    System.out.println("held");
                    System.out.flush();
                    Thread.sleep(Long.MAX_VALUE);
                    break;
                }
                case "get": {
                    // get QUEUE: announce, then block in get
                    RemoteObject q = c.lookup(args[3]);
                    var got = q.callAsync("get");
                    // Same connection, same object thread: once qsize answers, the get is parked.
                    q.call("qsize");
                    System.out.println("waiting");
                    System.out.flush();
                    got.get();
                    System.out.println("got");
                    break;
                }
                case "barrier": {
                    // barrier BARRIER RESULTS_LIST
                    Object index = c.lookup(args[3]).call("wait", new JsonArray(), new JsonObject());
                    c.lookup(args[4]).call("append", index);
                    break;
                }
                default:
                    throw new IllegalArgumentException("unknown mode " + mode);
            }
            System.out.println("done");
        }
    }
}
