package dev.orch.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A child process of the benchmark (the hosting worker, or one client): prints lines on stdout,
 * reads "go" on stdin; killed when closed.
 */
final class WorkerProcess implements AutoCloseable {
    private final Process process;
    private final BufferedReader out;
    private final Writer in;

    WorkerProcess(List<String> command, Map<String, String> env) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT);
        pb.environment().putAll(env);
        process = pb.start();
        out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    }

    /** The next stdout line, or an error if the child exits or stays silent past the timeout. */
    String readLine(long timeoutMillis) throws Exception {
        CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
            try {
                return out.readLine();
            } catch (IOException e) {
                return null;
            }
        });
        String l;
        try {
            l = line.get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("bench child process " + process.pid() + " silent for " + timeoutMillis + " ms");
        }
        if (l == null) {
            throw new IllegalStateException("bench child process exited (code "
                    + (process.waitFor(5, TimeUnit.SECONDS) ? process.exitValue() : -1) + "); see its stderr above");
        }
        return l;
    }

    /** Skips lines until {@code expected}. */
    void expect(String expected, long timeoutMillis) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (true) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0) {
                throw new IllegalStateException("bench child process " + process.pid() + " did not say '" + expected + "'");
            }
            if (expected.equals(readLine(left).trim())) {
                return;
            }
        }
    }

    void send(String line) throws IOException {
        in.write(line + "\n");
        in.flush();
    }

    long pid() {
        return process.pid();
    }

    @Override
    public void close() {
        try {
            in.close();
        } catch (IOException e) {
            // Gone already.
        }
        try {
            if (!process.waitFor(2, TimeUnit.SECONDS)) {
                process.destroy();
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
