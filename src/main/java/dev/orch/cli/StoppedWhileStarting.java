package dev.orch.cli;

import io.quarkus.logging.LoggingFilter;
import java.util.logging.Filter;
import java.util.logging.Level;
import java.util.logging.LogRecord;

/**
 * Keeps quiet the start that a SIGTERM or SIGINT broke off. The JVM's shutdown then stops Quarkus
 * under the starting command: Vert.x cannot register its shutdown hook ("Shutdown in progress"),
 * or the CDI container is gone when picocli asks it for the commands. Quarkus logs either as
 * "Failed to start application" with its stack trace, where CLI.md promises a command ended by a
 * signal exits 130 or 143 without a word. The exit code is the signal's already: the JVM is
 * exiting with it. Linked to the console handler in application.properties.
 */
@LoggingFilter(name = "orch-stopped-while-starting")
public final class StoppedWhileStarting implements Filter {
    static final String APPLICATION_LOGGER = "io.quarkus.runtime.Application";

    @Override
    public boolean isLoggable(LogRecord record) {
        return record.getLevel().intValue() < Level.SEVERE.intValue()
                || !APPLICATION_LOGGER.equals(record.getLoggerName())
                || !OrchMain.exiting();
    }
}
