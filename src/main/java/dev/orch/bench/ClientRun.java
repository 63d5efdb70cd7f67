package dev.orch.bench;

import dev.orch.client.OrchClient;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * One client of one scenario, in this process: set up, warm up, wait for the start signal, then
 * time {@code calls} operations, one at a time (or W in flight for {@code pipelined}).
 */
public final class ClientRun {
    /** Waits until every client is ready (a barrier, or the parent's "go" line). */
    public interface StartGate {
        void await() throws Exception;
    }

    /** Untimed calls between two looks at the JIT after the fixed warm-up. */
    private static final int SETTLE_STEP = 256;

    private final BenchSettings settings;
    private final AtomicLong progress;

    public ClientRun(BenchSettings settings, AtomicLong progress) {
        this.settings = settings;
        this.progress = progress == null ? new AtomicLong() : progress;
    }

    /** Runs an orch scenario on a connected client (which the caller closes). */
    public ClientResult run(Scenario s, OrchClient client, StartGate gate) throws Exception {
        long calls = s.callsFor(settings.calls);
        Load load;
        try {
            load = Load.of(s, client);
        } catch (Load.Skipped e) {
            gate.await();
            return ClientResult.skipped(e.getMessage());
        }
        try (load) {
            if (s == Scenario.PIPELINED) {
                pipelined(load, settings.warmupFor(calls), null, null);
                settle(() -> pipelined(load, SETTLE_STEP * 8, null, null));
                gate.await();
                Histogram h = ClientResult.newHistogram();
                long t0 = System.nanoTime();
                pipelined(load, calls, h, progress);
                return new ClientResult(calls, System.nanoTime() - t0, h, null);
            }
            for (long i = settings.warmupFor(calls); i > 0; i--) {
                load.once();
            }
            settle(() -> {
                for (int i = 0; i < SETTLE_STEP; i++) {
                    load.once();
                }
            });
            gate.await();
            Histogram h = ClientResult.newHistogram();
            if (settings.chained) {
                long t0 = System.nanoTime();
                chained(load, calls, h);
                return new ClientResult(calls, System.nanoTime() - t0, h, null);
            }
            long t0 = System.nanoTime();
            for (long i = 0; i < calls; i++) {
                long s0 = System.nanoTime();
                load.once();
                h.recordValue(Math.min(ClientResult.MAX_NANOS, System.nanoTime() - s0));
                progress.incrementAndGet();
            }
            return new ClientResult(calls, System.nanoTime() - t0, h, null);
        }
    }

    /** Untimed work, repeated until this JVM's JIT is quiet (see {@link JitSettle}). */
    private interface WarmUpStep {
        void run() throws Exception;
    }

    private void settle(WarmUpStep step) throws Exception {
        for (JitSettle jit = new JitSettle(settings.settle); !jit.settled(); ) {
            step.run();
        }
    }

    /** {@code n} operations one after the other, each started from the previous one's completion. */
    private void chained(Load load, long n, Histogram h) throws Exception {
        CompletableFuture<Void> all = new CompletableFuture<>();
        AtomicLong finished = new AtomicLong();
        new Object() {
            long left = n;

            void next() {
                long s0 = System.nanoTime();
                load.start().whenComplete((v, e) -> {
                    if (e != null) {
                        all.completeExceptionally(e);
                        return;
                    }
                    h.recordValue(Math.min(ClientResult.MAX_NANOS, System.nanoTime() - s0));
                    progress.incrementAndGet();
                    finished.incrementAndGet();
                    if (--left > 0) {
                        next();
                    } else {
                        all.complete(null);
                    }
                });
            }
        }.next();
        awaitCompletions(all, finished::get, "chained");
    }

    /**
     * {@code n} operations with W in flight: W chains, each starting its next operation from the
     * previous one's completion (on the thread that read the reply, as an asynchronous program
     * would), so no thread waits for a free slot. Completions record into {@code h} when given.
     */
    private void pipelined(Load load, long n, Histogram h, AtomicLong done) throws Exception {
        if (n <= 0) {
            return; // nothing would complete the wait below (--warmup 0)
        }
        int w = (int) Math.min(settings.pipeline, n);
        AtomicLong unstarted = new AtomicLong(n);
        AtomicLong unfinished = new AtomicLong(n);
        CompletableFuture<Void> all = new CompletableFuture<>();
        Runnable[] chain = new Runnable[1];
        chain[0] = () -> {
            if (unstarted.getAndDecrement() <= 0 || all.isDone()) {
                return;
            }
            long s0 = System.nanoTime();
            load.start().whenComplete((v, e) -> {
                if (e != null) {
                    all.completeExceptionally(e);
                    return;
                }
                if (h != null) {
                    long d = Math.min(ClientResult.MAX_NANOS, System.nanoTime() - s0);
                    synchronized (h) {
                        h.recordValue(d);
                    }
                    done.incrementAndGet();
                }
                if (unfinished.decrementAndGet() == 0) {
                    all.complete(null);
                } else {
                    chain[0].run();
                }
            });
        };
        for (int i = 0; i < w; i++) {
            chain[0].run();
        }
        awaitCompletions(all, () -> n - unfinished.get(), "pipelined");
    }

    /** Waits for {@code all}; fails only when a whole timeout passes without a single completion. */
    private void awaitCompletions(CompletableFuture<Void> all, java.util.function.LongSupplier completed, String what)
            throws Exception {
        long seen = -1;
        while (true) {
            try {
                all.get(settings.timeout.toMillis(), TimeUnit.MILLISECONDS);
                return;
            } catch (TimeoutException e) {
                long now = completed.getAsLong();
                if (now == seen) {
                    throw new TimeoutException("no " + what + " reply within " + settings.timeout.toMillis() + " ms");
                }
                seen = now;
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                throw c instanceof Exception ? (Exception) c : e;
            }
        }
    }

    /** The floor: ping-pong of 64-byte length-prefixed messages with a {@link TcpEcho} server. */
    public ClientResult pingPong(String host, int port, StartGate gate) throws Exception {
        long calls = Scenario.TCP_PINGPONG.callsFor(settings.calls);
        try (Socket sock = new Socket()) {
            sock.setTcpNoDelay(true);
            sock.connect(new InetSocketAddress(host, port), (int) settings.timeout.toMillis());
            sock.setSoTimeout((int) settings.timeout.toMillis());
            OutputStream out = sock.getOutputStream();
            DataInputStream in = new DataInputStream(sock.getInputStream());
            byte[] msg = new byte[4 + TcpEcho.PAYLOAD];
            msg[3] = (byte) TcpEcho.PAYLOAD;
            byte[] reply = new byte[msg.length];
            for (long i = settings.warmupFor(calls); i > 0; i--) {
                exchange(out, in, msg, reply);
            }
            settle(() -> {
                for (int i = 0; i < SETTLE_STEP; i++) {
                    exchange(out, in, msg, reply);
                }
            });
            gate.await();
            Histogram h = ClientResult.newHistogram();
            long t0 = System.nanoTime();
            for (long i = 0; i < calls; i++) {
                long s0 = System.nanoTime();
                exchange(out, in, msg, reply);
                h.recordValue(Math.min(ClientResult.MAX_NANOS, System.nanoTime() - s0));
                progress.incrementAndGet();
            }
            return new ClientResult(calls, System.nanoTime() - t0, h, null);
        }
    }

    private static void exchange(OutputStream out, DataInputStream in, byte[] msg, byte[] reply) throws IOException {
        out.write(msg);
        in.readFully(reply);
    }
}
