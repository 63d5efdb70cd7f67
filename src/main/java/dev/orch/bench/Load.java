package dev.orch.bench;

import dev.orch.client.OrchClient;
import dev.orch.client.RemoteObject;
import dev.orch.protocol.Addresses;
import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.OrchException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * One client's operation for a scenario. {@link #once} runs it the way a program usually does,
 * blocking on each call; {@link #start} starts it asynchronously, for the pipelined and chained
 * modes.
 */
interface Load extends AutoCloseable {
    void once();

    CompletableFuture<?> start();

    @Override
    default void close() {
    }

    /** Thrown by {@link #of} when the server lacks what the scenario needs. */
    final class Skipped extends RuntimeException {
        Skipped(String reason) {
            super(reason, null, false, false);
        }
    }

    static Load of(Scenario s, OrchClient c) {
        switch (s) {
            case METHOD:
            case PIPELINED: {
                RemoteObject v = c.create("Value", "hello");
                return release(c, v, () -> v.call("get"), () -> v.callAsync("get"));
            }
            case HOSTED_METHOD: {
                RemoteObject u = c.create(Scenario.UTILITY);
                return release(c, u, () -> u.call("capitalize", "hello"), () -> u.callAsync("capitalize", "hello"));
            }
            case ECHO_1K: {
                RemoteObject d = c.create("dict");
                String blob = "x".repeat(1024);
                return release(c, d, () -> d.call("setdefault", "k", blob), () -> d.callAsync("setdefault", "k", blob));
            }
            case HOSTED_ECHO_1K: {
                RemoteObject u = c.create(Scenario.UTILITY);
                String blob = "x".repeat(1024);
                return release(c, u, () -> u.call("echo", blob), () -> u.callAsync("echo", blob));
            }
            case DICT_SET: {
                RemoteObject d = c.create("dict");
                return release(c, d, () -> d.call("__setitem__", "k", 1), () -> d.callAsync("__setitem__", "k", 1));
            }
            case QUEUE_PUT_GET: {
                RemoteObject q;
                try {
                    q = c.create("Queue");
                } catch (OrchException e) {
                    if (e.code() == ErrorCode.NOT_FOUND) {
                        throw new Skipped("type Queue unknown");
                    }
                    throw e;
                }
                return release(c, q, () -> {
                    q.call("put", 1);
                    q.call("get");
                }, () -> q.callAsync("put", 1).thenCompose(x -> q.callAsync("get")));
            }
            case LOCK: {
                RemoteObject l = c.create("Lock");
                return release(c, l, () -> {
                    l.call("acquire");
                    l.call("release");
                }, () -> l.callAsync("acquire").thenCompose(x -> l.callAsync("release")));
            }
            case CREATE_PROXY: {
                JsonArray args = new JsonArray().add(0);
                return new Load() {
                    @Override
                    public void once() {
                        c.release(c.create(null, "Value", args, null));
                    }

                    @Override
                    public CompletableFuture<?> start() {
                        return c.createAsync(null, "Value", args, null).thenCompose(d -> c.requestAsync(Addresses.MANAGER,
                                new JsonObject().put("op", "release").put("id", ((JsonObject) d).getString("id"))));
                    }
                };
            }
            default:
                throw new IllegalArgumentException(s.id() + " is not an orch client scenario");
        }
    }

    private static Load release(OrchClient c, RemoteObject o, Runnable sync, Supplier<CompletableFuture<?>> async) {
        return new Load() {
            @Override
            public void once() {
                sync.run();
            }

            @Override
            public CompletableFuture<?> start() {
                return async.get();
            }

            @Override
            public void close() {
                try {
                    c.release(o);
                } catch (RuntimeException e) {
                    // The connection is closing anyway.
                }
            }
        };
    }
}
