package dev.orch.objects;

import dev.orch.protocol.OrchException;
import java.util.function.Consumer;

/**
 * What the server offers an object: its identity, timers on the object's own thread, and
 * whether a session is still connected.
 */
public interface ObjectContext {
    /** The object's id. */
    String id();

    /** Runs {@code action} on the object's thread after {@code delayMillis}; returns a timer id. */
    long setTimer(long delayMillis, Runnable action);

    /** Cancels a timer; returns false if it already ran or was unknown. */
    boolean cancelTimer(long timerId);

    /** True while the session is connected. */
    boolean isSessionAlive(String session);

    /**
     * Registers what to do with the object's parked calls when the server stops: fail them with
     * the error given (503), on the object's thread, so that their callers learn why at once.
     */
    default void whenStopping(Consumer<OrchException> failParked) {
    }
}
