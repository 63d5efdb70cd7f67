package dev.orch.protocol;

import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;

/**
 * Tells an event-bus request that reached nobody from one that was not answered in time.
 * Nobody listened ({@link ReplyFailure#NO_HANDLERS}), or the request was queued for a consumer
 * that was unregistered before it took it: a hosted object released, a worker or node agent
 * whose connection closed. Vert.x answers the second with {@link ReplyFailure#TIMEOUT} and
 * "Discarded the request…" at once, no time having passed; to a caller it means what the first
 * does, the recipient is gone, and must not read as 504.
 */
public final class NoRecipient {
    /** How Vert.x 4 begins the message of a request dropped by an unregistered consumer. */
    static final String DISCARDED = "Discarded the request";

    private NoRecipient() {
    }

    /** Whether {@code failure}, a request's failure, says that no one took the request. */
    public static boolean matches(Throwable failure) {
        if (!(failure instanceof ReplyException)) {
            return false;
        }
        ReplyException re = (ReplyException) failure;
        return re.failureType() == ReplyFailure.NO_HANDLERS
                || (re.failureType() == ReplyFailure.TIMEOUT && isDiscard(re.getMessage()));
    }

    private static boolean isDiscard(String message) {
        return message != null && message.startsWith(DISCARDED);
    }
}
