package dev.orch.objects.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.Vertx;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;

/** One real Vert.x per test class, a fresh harness per test. */
abstract class SyncTestBase {
    static Vertx vertx;
    SyncHarness h;

    @BeforeAll
    static void startVertx() {
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void closeVertx() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @BeforeEach
    void newHarness() {
        h = new SyncHarness(vertx);
    }

    @AfterEach
    void noCallAnsweredTwice() {
        h.sync();
        assertEquals(0, h.doubleAnswers(), "a call was answered twice");
    }
}
