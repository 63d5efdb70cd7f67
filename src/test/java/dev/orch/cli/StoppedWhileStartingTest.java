package dev.orch.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.RejectedExecutionException;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;

class StoppedWhileStartingTest {
    private static LogRecord record(String logger, Level level, Throwable thrown) {
        LogRecord r = new LogRecord(level, "Force-closing a channel whose registration task was not accepted by an event loop");
        r.setLoggerName(logger);
        r.setThrown(thrown);
        return r;
    }

    @Test
    void nettysRefusalsByAStoppedLoopAreRecognisedAndNothingElse() {
        RejectedExecutionException refused = new RejectedExecutionException("event executor terminated");
        assertTrue(StoppedWhileStarting.refusedByAStoppedLoop(record("io.netty.channel.AbstractChannel", Level.WARNING, refused)));
        assertTrue(StoppedWhileStarting.refusedByAStoppedLoop(record("io.netty.util.concurrent.DefaultPromise.rejectedExecution",
                Level.SEVERE, new IllegalStateException("wrapped", refused))));
        assertFalse(StoppedWhileStarting.refusedByAStoppedLoop(record("io.netty.channel.AbstractChannel", Level.WARNING,
                new IllegalStateException("something else"))));
        assertFalse(StoppedWhileStarting.refusedByAStoppedLoop(record("io.netty.channel.AbstractChannel", Level.WARNING, null)));
        assertFalse(StoppedWhileStarting.refusedByAStoppedLoop(record("dev.orch.server.OrchServer", Level.WARNING, refused)));
        // While the JVM runs on, such a record is shown as any other.
        assertTrue(new StoppedWhileStarting().isLoggable(record("io.netty.channel.AbstractChannel", Level.WARNING, refused)));
    }
}
