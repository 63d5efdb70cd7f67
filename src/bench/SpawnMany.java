import dev.orch.client.ClientConfig;
import dev.orch.client.OrchClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Bench helper: N concurrent spawns of `sleep 3600` with reply latencies, or (N=0) ps server time. */
public class SpawnMany {
    public static void main(String[] a) throws Exception {
        byte[] key = Files.readAllBytes(Path.of(a[1]));
        int n = Integer.parseInt(a[2]);
        try (OrchClient c = OrchClient.connect(new ClientConfig().address(a[0]).authKey(key))) {
            if (n == 0) {
                for (int i = 0; i < 3; i++) {
                    long t0 = System.nanoTime();
                    JsonObject r = (JsonObject) c.request("orch.process", new JsonObject().put("op", "ps"));
                    System.out.printf("ps: server took %d ms, round trip %d ms, %d rows%n", r.getLong("took"),
                            (System.nanoTime() - t0) / 1_000_000, r.getJsonArray("processes").size());
                }
                return;
            }
            List<CompletableFuture<Long>> all = new ArrayList<>();
            long start = System.nanoTime();
            for (int i = 0; i < n; i++) {
                long t0 = System.nanoTime();
                all.add(c.requestAsync("orch.process", new JsonObject().put("op", "spawn")
                        .put("command", new JsonArray().add("sleep").add("3600")))
                        .thenApply(r -> (System.nanoTime() - t0) / 1_000_000));
            }
            List<Long> ms = new ArrayList<>();
            for (CompletableFuture<Long> f : all) {
                ms.add(f.get());
            }
            Collections.sort(ms);
            System.out.printf("spawned %d in %d ms; spawn-to-running p50 %d ms, p99 %d ms%n", n,
                    (System.nanoTime() - start) / 1_000_000, ms.get(ms.size() / 2), ms.get((int) (ms.size() * 0.99)));
        }
    }
}
