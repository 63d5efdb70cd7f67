package dev.orch.cli;

import io.quarkus.logging.LoggingFilter;
import java.util.concurrent.RejectedExecutionException;
import java.util.logging.Filter;
import java.util.logging.Level;
import java.util.logging.LogRecord;

/**
 * Keeps quiet the start that a SIGTERM or SIGINT broke off. The JVM's shutdown then stops Quarkus
 * under the starting command: Vert.x cannot register its shutdown hook ("Shutdown in progress"),
 * or the CDI container is gone when picocli asks it for the commands. Quarkus logs either as
 * "Failed to start application" with its stack trace, where CLI.md promises a command ended by a
 * signal exits 130 or 143 without a word. The exit code is the signal's already: the JVM is
 * exiting with it. A server signalled while it opens its listeners gets Netty's warnings of
 * event loops that refused work, for the same reason; they go too. Linked to the console handler in application.properties.
 */
@LoggingFilter(name = "orch-stopped-while-starting")
public final class StoppedWhileStarting implements Filter {
    static final String APPLICATION_LOGGER = "io.quarkus.runtime.Application";

    @Override
    public boolean isLoggable(LogRecord record) {
        if (refusedByAStoppedLoop(record)) {
            return !OrchMain.exiting();
        }
        return record.getLevel().intValue() < Level.SEVERE.intValue()
                || !APPLICATION_LOGGER.equals(record.getLoggerName())
                || !OrchMain.exiting();
    }

    /**
     * Netty's word that an event loop refused a task because it had stopped: a server signalled
     * while its listeners were being opened, as the JVM's shutdown closed Vert.x under it (a
     * channel "force-closed", a listener notification that "failed to submit"). Only while the
     * JVM exits is that expected.
     */
    static boolean refusedByAStoppedLoop(LogRecord record) {
        String logger = record.getLoggerName();
        if (logger == null || !logger.startsWith("io.netty.")) {
            return false;
        }
        for (Throwable t = record.getThrown(); t != null; t = t.getCause()) {
            if (t instanceof RejectedExecutionException) {
                return true;
            }
        }
        return false;
    }
}
