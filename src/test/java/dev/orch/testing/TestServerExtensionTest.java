package dev.orch.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.engine.discovery.DiscoverySelectors;
import org.junit.platform.launcher.core.LauncherConfig;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;

/** The extension's server does not outlive a class whose own {@code @BeforeAll} fails. */
class TestServerExtensionTest {
    private static volatile boolean launching;
    private static TestServer server;

    /** Run by the test below only: on its own it would just fail. */
    @EnabledIf("dev.orch.testing.TestServerExtensionTest#launching")
    static class FailingBeforeAll {
        @RegisterExtension
        static final TestServerExtension extension = TestServerExtension.perClass();

        @BeforeAll
        static void failOnceTheServerRuns() {
            server = extension.get();
            throw new IllegalStateException("a @BeforeAll that fails after the server started");
        }

        @Test
        void notReached() {
        }
    }

    static boolean launching() {
        return launching;
    }

    @Test
    void theServerIsClosedWhenTheClassesBeforeAllFails() throws Exception {
        // Only the Jupiter engine: listeners found on the class path belong to the outer run.
        LauncherConfig config = LauncherConfig.builder().enableLauncherSessionListenerAutoRegistration(false)
                .enableLauncherDiscoveryListenerAutoRegistration(false).enableTestExecutionListenerAutoRegistration(false)
                .enablePostDiscoveryFilterAutoRegistration(false).build();
        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        launching = true;
        try {
            LauncherFactory.create(config).execute(LauncherDiscoveryRequestBuilder.request()
                    .selectors(DiscoverySelectors.selectClass(FailingBeforeAll.class)).build(), summary);
        } finally {
            launching = false;
        }
        assertEquals(1, summary.getSummary().getContainersFailedCount(), "the class failed in its @BeforeAll");
        assertTrue(server.server.closeFuture().isComplete(), "the server was closed");
    }
}
